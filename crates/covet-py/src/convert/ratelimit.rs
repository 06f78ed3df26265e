//! The engine's GCRA rate limiter as a Python object (`covet.ratelimit.MemoryBackend` uses it).

use std::time::Duration;

use covet_engine::ratelimit::{Quota, RateLimiter as EngineLimiter};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// (allowed, limit, remaining, reset_after seconds, retry_after seconds)
type DecisionTuple = (bool, u64, u64, f64, f64);

#[pyclass(frozen, module = "covet._engine")]
pub struct RateLimiter {
    inner: EngineLimiter,
}

#[pymethods]
impl RateLimiter {
    /// `limit` requests per `period` seconds, `burst` at once, at most about `max_keys` keys.
    #[new]
    #[pyo3(signature = (limit, period, burst, max_keys = 100_000))]
    fn new(limit: u64, period: f64, burst: u64, max_keys: usize) -> PyResult<Self> {
        let period = duration(period, "period")?;
        let quota =
            Quota::new(limit, period, burst).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(RateLimiter {
            inner: EngineLimiter::new(quota, max_keys),
        })
    }

    /// Takes `cost` from `key`'s allowance at `now` (seconds on the caller's monotonic clock).
    fn check(&self, key: &[u8], cost: u64, now: f64) -> PyResult<DecisionTuple> {
        let d = self.inner.check(key, cost, duration(now, "now")?);
        Ok((
            d.allowed,
            d.limit,
            d.remaining,
            d.reset_after.as_secs_f64(),
            d.retry_after.as_secs_f64(),
        ))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

fn duration(seconds: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        PyValueError::new_err(format!(
            "{what} must be a finite number of seconds >= 0, not {seconds}"
        ))
    })
}
