//! The `rate_limit` kind of engine middleware: builds the engine's rate-limit stage from the
//! options `covet.ratelimit.RateLimitMiddleware` compiles, with a monotonic clock.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use covet_engine::policy::ratelimit::{ClientKey, IpKey, Network, RateLimit, RateLimitConfig};
use covet_engine::policy::Builder;
use covet_engine::ratelimit::Quota;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::options::opt;

/// The options of the `rate_limit` kind.
pub const OPTIONS: &[&str] = &[
    "limit", "period", "burst", "max_keys", "key", "exempt", "headers", "detail", "policy",
];

/// Adds the stage to `builder`.
pub fn add(builder: &mut Builder, o: &Bound<'_, PyDict>) -> PyResult<()> {
    let limit: u64 = required(o, "limit")?;
    let period: f64 = required(o, "period")?;
    let burst: u64 = opt(o, "burst")?.unwrap_or(limit);
    let period = Duration::try_from_secs_f64(period).map_err(|_| {
        PyValueError::new_err("rate_limit period must be a positive number of seconds")
    })?;
    let quota =
        Quota::new(limit, period, burst).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let key = match o.get_item("key")? {
        Some(spec) => client_key(spec.downcast::<PyDict>()?)?,
        None => ClientKey::Global,
    };
    let config = RateLimitConfig {
        quota,
        max_keys: opt(o, "max_keys")?.unwrap_or(100_000),
        key,
        exempt: opt(o, "exempt")?.unwrap_or_default(),
        headers: opt(o, "headers")?.unwrap_or(true),
        detail: opt(o, "detail")?.unwrap_or_else(|| "Too Many Requests".to_owned()),
        policy: opt(o, "policy")?.unwrap_or_else(|| format!("{limit};w={}", period.as_secs())),
    };
    let stage =
        RateLimit::new(config, Box::new(monotonic)).map_err(|e| PyValueError::new_err(e.0))?;
    builder.push(stage);
    Ok(())
}

fn required<'py, T: FromPyObject<'py>>(o: &Bound<'py, PyDict>, key: &str) -> PyResult<T> {
    opt(o, key)?.ok_or_else(|| {
        PyValueError::new_err(format!("engine middleware \"rate_limit\" needs {key:?}"))
    })
}

/// `{"kind": "global" | "ip" | "api_key", ...}` as built by `covet.ratelimit.keys`.
fn client_key(spec: &Bound<'_, PyDict>) -> PyResult<ClientKey> {
    let kind: String = required(spec, "kind")?;
    match kind.as_str() {
        "global" => Ok(ClientKey::Global),
        "ip" => {
            let trusted: Option<Vec<String>> = opt(spec, "trusted_proxies")?.flatten();
            let trusted = match trusted {
                None => None,
                Some(specs) => Some(
                    specs
                        .iter()
                        .map(|s| Network::parse(s))
                        .collect::<Result<_, _>>()
                        .map_err(|e| PyValueError::new_err(e.0))?,
                ),
            };
            let header: String = opt(spec, "header")?.unwrap_or_else(|| "x-forwarded-for".into());
            Ok(ClientKey::Ip(IpKey {
                trusted,
                header: header.to_ascii_lowercase(),
                ipv6_prefix: opt(spec, "ipv6_prefix")?.unwrap_or(64),
            }))
        }
        "api_key" => {
            let header: String = required(spec, "header")?;
            let fallback = match spec.get_item("fallback")? {
                Some(f) if !f.is_none() => Some(Box::new(client_key(f.downcast::<PyDict>()?)?)),
                _ => None,
            };
            Ok(ClientKey::ApiKey {
                header: header.to_ascii_lowercase(),
                fallback,
            })
        }
        other => Err(PyValueError::new_err(format!(
            "unknown rate-limit key kind {other:?}"
        ))),
    }
}

/// Time since the first rate-limit check in this process, on the monotonic clock.
fn monotonic() -> Duration {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed()
}
