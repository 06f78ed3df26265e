//! Admission: the engine middleware (`Policy`) and the route guards run on a request before
//! its endpoint, and the early answers they give (a refusal, a preflight, a redirect, a fresh
//! response from the route's response cache, or its 304), written here. Building both from Python's declarations is `convert::policy` and `convert::guard`.

use std::cell::RefCell;
use std::sync::Arc;

use covet_engine::cache::response::View;
use covet_engine::http::request::Request;
use covet_engine::policy::{Added, Decision, Early, Policy};
use pyo3::prelude::*;

use super::server::Server;
use super::HttpProtocol;
use crate::convert::guard::{verify, Claims};
use crate::convert::policy::head_of;
use crate::convert::request::host_of;
use crate::convert::response_cache::wall_secs;
use crate::gil::G;

/// What the guard decided.
pub enum Guarded {
    /// Go on, with these verified claims (empty for most routes).
    Pass(Claims),
    /// The request was answered here.
    Answered,
}

/// The policy headers owed to the response in flight on one connection.
pub struct Owed(G<RefCell<Option<Pending>>>);

/// The policy and what it adds to one response.
type Pending = (Arc<Policy>, Added);

impl Owed {
    pub fn new() -> Self {
        Owed(G(RefCell::new(None)))
    }

    /// Appends the owed headers to the head being written in `out` (from `head_start`).
    pub fn write(&self, out: &mut Vec<u8>, head_start: usize) {
        if let Some((policy, added)) = self.0.borrow_mut().take() {
            added.write_into(&policy, out, head_start);
        }
    }
}

impl HttpProtocol {
    /// Runs the guard of `endpoint`, if it has one.
    pub(crate) fn check_guard(
        &self,
        py: Python<'_>,
        server: &Server,
        endpoint: usize,
        req: &Request,
    ) -> PyResult<Guarded> {
        let guard = server.guards.borrow().get(endpoint).cloned().flatten();
        let Some(guard) = guard else {
            return Ok(Guarded::Pass(Vec::new()));
        };
        verify(py, &guard, req).and_then(|outcome| match outcome {
            Ok(claims) => Ok(Guarded::Pass(claims)),
            Err(early) => {
                self.metrics_refused(covet_engine::metrics::Refusal::Jwt);
                self.answer_early(py, server, &early)?;
                Ok(Guarded::Answered)
            }
        })
    }

    /// Runs the server's policy on a request (covet's own server has no TLS: the connection
    /// scheme is http). Returns true when the request was answered here.
    pub(crate) fn check_policy(
        &self,
        py: Python<'_>,
        server: &Server,
        req: &Request,
    ) -> PyResult<bool> {
        let policy = server.policy.borrow().clone();
        let Some(policy) = policy else {
            return Ok(false);
        };
        let client = if policy.wants_client() {
            self.client_obj(py).and_then(|c| host_of(c.bind(py)))
        } else {
            None
        };
        let mut head = head_of(req, false);
        head.client = client.as_deref();
        match policy.check(&head) {
            Decision::Pass(added) => {
                // Always replaced: a response that was never written leaves nothing behind.
                *self.owed.0.borrow_mut() = (!added.is_empty()).then_some((policy, added));
                Ok(false)
            }
            Decision::Answer(early) => {
                *self.owed.0.borrow_mut() = None;
                if early.status == 429 {
                    self.metrics_refused(covet_engine::metrics::Refusal::RateLimited);
                }
                self.answer_early(py, server, &early)?;
                Ok(true)
            }
        }
    }

    /// Answers a GET or HEAD from the route's response cache when its memory level holds a
    /// fresh entry (or a 304 when `If-None-Match` names it), with no Python called. Misses,
    /// stale entries and requests whose `Cache-Control` says no-cache or no-store go on to
    /// Python, which fills the entry. Returns true when the request was answered here.
    pub(crate) fn answer_cached(
        &self,
        py: Python<'_>,
        server: &Server,
        endpoint: usize,
        req: &Request,
    ) -> PyResult<bool> {
        let spec = match server.response_caches.borrow().get(endpoint) {
            Some(Some(spec)) => spec.clone_ref(py),
            _ => return Ok(false),
        };
        let spec = spec.get();
        if !matches!(req.method.as_str(), "GET" | "HEAD")
            || covet_engine::cache::response::request_bypasses(req.header("cache-control"))
        {
            return Ok(false);
        }
        let key = spec.key_of(&req.method, &req.path, &req.query, |name| {
            req.header(name).map(<[u8]>::to_vec)
        });
        let mut full = Vec::with_capacity(spec.prefix.len() + key.len());
        full.extend_from_slice(spec.prefix.as_bytes());
        full.extend_from_slice(key.as_bytes());
        let Some((entry, start)) = spec.fresh(&full) else {
            return Ok(false);
        };
        let Some(view) = View::parse(&entry[start..]) else {
            return Ok(false);
        };
        let reply = view.reply(req.header("if-none-match"), wall_secs());
        let headers: Vec<(&[u8], &[u8])> = reply.headers.iter().map(|(n, v)| (*n, &**v)).collect();
        self.write_full(py, reply.status, &headers, reply.body)?;
        self.finish(py)?;
        Ok(true)
    }

    pub(crate) fn answer_early(
        &self,
        py: Python<'_>,
        server: &Server,
        early: &Early,
    ) -> PyResult<()> {
        let headers: Vec<(&[u8], &[u8])> = early
            .headers
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_slice()))
            .collect();
        if let Some(detail) = &early.refused {
            let log = server.error_log.clone_ref(py);
            log.bind(py)
                .call1((early.status, detail.as_ref(), self.client_obj(py)))?;
        }
        self.write_full(py, early.status, &headers, &early.body)?;
        self.finish(py)
    }
}
