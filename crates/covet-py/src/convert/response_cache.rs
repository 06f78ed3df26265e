//! A route's response cache (`covet.cache.CachePolicy` builds one): the memory level it lives
//! in, the key's namespace and vary headers, and what may be stored. Covet's server asks it at
//! admission (`protocol::admission`); the Python path (ASGI servers, misses) asks the same
//! object, so both compute the same keys, store the same bytes and answer the same way.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use covet_engine::cache::response::{self, Stored};
use covet_engine::cache::MemoryCache as EngineCache;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::cache::{now, MemoryCache};

/// Wall-clock seconds, as covet.cache's envelopes hold them.
fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A stored response as Python sees it: status, (name, value) header pairs, body.
type Answer<'py> = (u16, Vec<(Vec<u8>, Vec<u8>)>, Bound<'py, PyBytes>);

#[pyclass(frozen, module = "covet._engine")]
pub struct ResponseCache {
    /// The memory level the engine answers from (None: the cache has none; Python only).
    pub store: Option<Arc<EngineCache>>,
    /// The cache's namespace and `:`, before every key.
    pub prefix: String,
    /// Lower-case names of the request headers the response varies on.
    pub vary: Vec<String>,
    /// Error statuses (< 500) may be stored too.
    pub errors: bool,
}

impl ResponseCache {
    /// The key (without the namespace) of a request, given a header lookup.
    pub fn key_of(
        &self,
        method: &str,
        path: &str,
        query: &[u8],
        header: impl Fn(&str) -> Option<Vec<u8>>,
    ) -> String {
        response::key(method, path, query, &self.vary, header)
    }

    /// The entry under the full key `full` while fresh, and where its stored response starts
    /// in it (`View::parse` reads it from there).
    pub fn fresh(&self, full: &[u8]) -> Option<(Arc<[u8]>, usize)> {
        let entry = self.store.as_ref()?.get(full, now())?;
        let payload = response::fresh_payload(&entry.value, wall())?.len();
        Some((entry.value.clone(), entry.value.len() - payload))
    }
}

/// Whole seconds since the epoch.
pub fn wall_secs() -> u64 {
    wall() as u64
}

#[pymethods]
impl ResponseCache {
    #[new]
    #[pyo3(signature = (memory, prefix, vary = Vec::new(), errors = false))]
    fn new(memory: Option<&MemoryCache>, prefix: String, vary: Vec<String>, errors: bool) -> Self {
        ResponseCache {
            store: memory.map(|m| m.inner.clone()),
            prefix,
            vary: vary.iter().map(|v| v.to_ascii_lowercase()).collect(),
            errors,
        }
    }

    /// The key of a request (without the namespace): `headers` are lower-case byte pairs.
    fn key(
        &self,
        method: &str,
        path: &str,
        query: &[u8],
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> String {
        self.key_of(method, path, query, |name| {
            headers
                .iter()
                .find(|(n, _)| n == name.as_bytes())
                .map(|(_, v)| v.clone())
        })
    }

    /// Whether a request's `Cache-Control` asks to skip the stored response.
    #[staticmethod]
    fn bypasses(cache_control: Option<&[u8]>) -> bool {
        response::request_bypasses(cache_control)
    }

    /// The bytes to store for a response (`ETag`, `Cache-Control: max-age`, `Vary` added), or
    /// None when it may not be stored (status, `Set-Cookie`, `no-store`/`private`).
    fn entry<'py>(
        &self,
        py: Python<'py>,
        status: u16,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        body: &[u8],
        max_age: u64,
    ) -> Option<Bound<'py, PyBytes>> {
        let mut pairs: Vec<(&[u8], &[u8])> = headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        if !response::storable(status, &pairs, self.errors) {
            return None;
        }
        let vary = self.vary.join(", ");
        if !self.vary.is_empty() && !pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"vary")) {
            pairs.push((b"vary", vary.as_bytes()));
        }
        let stored = Stored::new(status, &pairs, body, max_age, wall_secs());
        Some(PyBytes::new(py, &stored.encode()))
    }

    /// The answer from a stored entry's bytes (what `entry` made): the response, or a 304 when
    /// `if_none_match` names its tag; None for bytes that are not an entry.
    fn answer<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
        if_none_match: Option<&[u8]>,
    ) -> Option<Answer<'py>> {
        let stored = Stored::decode(data)?;
        let reply = stored.reply(if_none_match, wall_secs());
        let headers = reply
            .headers
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        Some((reply.status, headers, PyBytes::new(py, reply.body)))
    }
}
