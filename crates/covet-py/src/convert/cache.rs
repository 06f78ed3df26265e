//! The engine's memory cache as a Python object (`covet.cache.MemoryLevel` holds one).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use covet_engine::cache::{Bounds, MemoryCache as EngineCache, Policy};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// The clock every memory cache of the process reads.
pub fn now() -> Duration {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed()
}

#[pyclass(frozen, module = "covet._engine")]
pub struct MemoryCache {
    pub inner: Arc<EngineCache>,
}

fn ttl(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    seconds
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                PyValueError::new_err(format!("ttl must be a number of seconds >= 0, not {s}"))
            })
        })
        .transpose()
}

#[pymethods]
impl MemoryCache {
    /// At most about `max_items` entries and `max_bytes` bytes, evicting by `policy`
    /// (`"s3fifo"` or `"lru"`).
    #[new]
    #[pyo3(signature = (max_items = 10_000, max_bytes = 64 * 1024 * 1024, policy = "s3fifo"))]
    fn new(max_items: usize, max_bytes: usize, policy: &str) -> PyResult<Self> {
        let policy = Policy::parse(policy).ok_or_else(|| {
            PyValueError::new_err(format!("policy must be 's3fifo' or 'lru', not {policy:?}"))
        })?;
        let bounds = Bounds {
            items: max_items,
            bytes: max_bytes,
        };
        Ok(MemoryCache {
            inner: Arc::new(EngineCache::new(bounds, policy)),
        })
    }

    fn get<'py>(&self, py: Python<'py>, key: &[u8]) -> Option<Bound<'py, PyBytes>> {
        let entry = self.inner.get(key, now())?;
        Some(PyBytes::new(py, &entry.value))
    }

    fn get_many<'py>(
        &self,
        py: Python<'py>,
        keys: Vec<Vec<u8>>,
    ) -> Vec<Option<Bound<'py, PyBytes>>> {
        let at = now();
        keys.iter()
            .map(|k| self.inner.get(k, at).map(|e| PyBytes::new(py, &e.value)))
            .collect()
    }

    /// Stores `value` for `ttl` seconds (`None`: until evicted), invalidated by any of `tags`.
    #[pyo3(signature = (key, value, ttl = None, tags = Vec::new()))]
    fn set(&self, key: &[u8], value: &[u8], ttl: Option<f64>, tags: Vec<String>) -> PyResult<()> {
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        self.inner.set(key, value, self::ttl(ttl)?, &tags, now());
        Ok(())
    }

    fn delete(&self, key: &[u8]) -> bool {
        self.inner.remove(key)
    }

    fn delete_prefix(&self, prefix: &[u8]) -> usize {
        self.inner.remove_prefix(prefix)
    }

    fn delete_tags(&self, tags: Vec<String>) -> usize {
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        self.inner.remove_tags(&tags)
    }

    fn clear(&self) -> usize {
        self.inner.clear()
    }

    /// Weighed bytes held.
    #[getter]
    fn bytes(&self) -> usize {
        self.inner.bytes()
    }

    /// hits, misses, sets, evictions, invalidations, entries, bytes.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("sets", s.sets)?;
        d.set_item("evictions", s.evictions)?;
        d.set_item("invalidations", s.invalidations)?;
        d.set_item("entries", self.inner.len())?;
        d.set_item("bytes", self.inner.bytes())?;
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}
