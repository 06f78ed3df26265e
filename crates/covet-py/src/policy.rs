//! Engine middleware in the binding: `Policy`, built from Python's middleware declarations, run
//! by the connection before routing (an early answer is written from here) and by the ASGI
//! adapter (`Policy.check`), so both paths share one implementation.

use std::cell::RefCell;
use std::sync::Arc;

use covet_engine::http::request::Request;
use covet_engine::policy::cors::{Cors, CorsConfig};
use covet_engine::policy::headers::{SecurityConfig, SecurityHeaders};
use covet_engine::policy::hosts::TrustedHosts;
use covet_engine::policy::redirect::HttpsRedirect;
use covet_engine::policy::{Added, Builder, Decision, Early, Head, Policy, PolicyError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3::IntoPyObjectExt;

use crate::gil::G;
use crate::protocol::HttpProtocol;
use crate::request::RawRequest;
use crate::server::Server;

/// A compiled engine policy: `Policy([(kind, options), ...])`, outermost stage first.
#[pyclass(frozen, module = "covet._engine", name = "Policy")]
pub struct PyPolicy {
    pub inner: Arc<Policy>,
}

/// The headers a request's response gets from the policy (ASGI path).
#[pyclass(frozen, module = "covet._engine")]
pub struct PolicyHeaders {
    policy: Arc<Policy>,
    added: Added,
}

#[pymethods]
impl PyPolicy {
    #[new]
    fn new(stages: Vec<(String, Bound<'_, PyDict>)>) -> PyResult<Self> {
        let mut builder = Builder::new();
        for (kind, options) in &stages {
            add_stage(&mut builder, kind, options)?;
        }
        Ok(PyPolicy {
            inner: Arc::new(builder.build()),
        })
    }

    /// Runs the checks on a request: `(status, headers, body, refused)` to answer with at once,
    /// or the `PolicyHeaders` its response gets.
    fn check(&self, py: Python<'_>, raw: &RawRequest) -> PyResult<PyObject> {
        let client = self
            .inner
            .wants_client()
            .then(|| raw.client_host(py))
            .flatten();
        let req = raw.engine_request();
        let https = matches!(raw.scheme_str(), "https" | "wss");
        let mut head = head_of(req, https);
        head.client = client.as_deref();
        match self.inner.check(&head) {
            Decision::Pass(added) => PolicyHeaders {
                policy: self.inner.clone(),
                added,
            }
            .into_py_any(py),
            Decision::Answer(early) => {
                let headers: Vec<(Bound<'_, PyBytes>, Bound<'_, PyBytes>)> = early
                    .headers
                    .iter()
                    .map(|(n, v)| (PyBytes::new(py, n.as_bytes()), PyBytes::new(py, v)))
                    .collect();
                let body = PyBytes::new(py, &early.body);
                (early.status, headers, body, early.refused.as_deref()).into_py_any(py)
            }
        }
    }
}

#[pymethods]
impl PolicyHeaders {
    /// Adds the headers to a response's `raw_headers` list; a name the response already has is
    /// kept as the application set it (`vary` is added to).
    fn apply(&self, py: Python<'_>, headers: &Bound<'_, PyList>) -> PyResult<()> {
        let mut present: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(headers.len());
        for item in headers.iter() {
            let name = item.get_item(0)?;
            let name = name.downcast::<PyBytes>()?.as_bytes().to_vec();
            present.push((name, Vec::new()));
        }
        let before = present.len();
        self.added.merge_into(&self.policy, &mut present);
        for (name, value) in &present[before..] {
            headers.append((PyBytes::new(py, name), PyBytes::new(py, value)))?;
        }
        Ok(())
    }
}

/// The options each kind of stage takes.
const OPTIONS: &[(&str, &[&str])] = &[
    (
        "cors",
        &[
            "allow_origins",
            "allow_methods",
            "allow_headers",
            "allow_credentials",
            "allow_origin_regex",
            "allow_private_network",
            "expose_headers",
            "max_age",
        ],
    ),
    (
        "security_headers",
        &[
            "hsts_max_age",
            "hsts_include_subdomains",
            "hsts_preload",
            "content_security_policy",
            "x_content_type_options",
            "x_frame_options",
            "referrer_policy",
            "permissions_policy",
            "cross_origin_opener_policy",
            "trust_forwarded_proto",
        ],
    ),
    ("trusted_host", &["allowed_hosts", "www_redirect"]),
    ("https_redirect", &["status_code", "trust_forwarded_proto"]),
    ("rate_limit", crate::policy_ratelimit::OPTIONS),
];

fn add_stage(builder: &mut Builder, kind: &str, o: &Bound<'_, PyDict>) -> PyResult<()> {
    let err = |e: PolicyError| PyValueError::new_err(e.0);
    let Some((_, known)) = OPTIONS.iter().find(|(k, _)| *k == kind) else {
        return Err(PyValueError::new_err(format!(
            "unknown engine middleware {kind:?}"
        )));
    };
    for key in o.keys() {
        let key: String = key.extract()?;
        if !known.contains(&key.as_str()) {
            return Err(PyValueError::new_err(format!(
                "engine middleware {kind:?} has no option {key:?}"
            )));
        }
    }
    match kind {
        "cors" => {
            let d = CorsConfig::default();
            let config = CorsConfig {
                allow_origins: opt(o, "allow_origins")?.unwrap_or(d.allow_origins),
                allow_methods: opt(o, "allow_methods")?.unwrap_or(d.allow_methods),
                allow_headers: opt(o, "allow_headers")?.unwrap_or(d.allow_headers),
                allow_credentials: opt(o, "allow_credentials")?.unwrap_or(d.allow_credentials),
                allow_origin_regex: opt(o, "allow_origin_regex")?.flatten(),
                allow_private_network: opt(o, "allow_private_network")?.unwrap_or(false),
                expose_headers: opt(o, "expose_headers")?.unwrap_or(d.expose_headers),
                max_age: opt(o, "max_age")?.unwrap_or(d.max_age),
            };
            let stage = Cors::new(&config, builder).map_err(err)?;
            builder.push(stage);
        }
        "security_headers" => {
            let d = SecurityConfig::default();
            let text = |key: &str, default: Option<String>| -> PyResult<Option<String>> {
                Ok(opt::<Option<String>>(o, key)?.unwrap_or(default))
            };
            let config = SecurityConfig {
                hsts_max_age: opt::<Option<u64>>(o, "hsts_max_age")?.unwrap_or(d.hsts_max_age),
                hsts_include_subdomains: opt(o, "hsts_include_subdomains")?
                    .unwrap_or(d.hsts_include_subdomains),
                hsts_preload: opt(o, "hsts_preload")?.unwrap_or(d.hsts_preload),
                content_security_policy: text("content_security_policy", None)?,
                content_type_nosniff: opt(o, "x_content_type_options")?
                    .unwrap_or(d.content_type_nosniff),
                frame_options: text("x_frame_options", d.frame_options)?,
                referrer_policy: text("referrer_policy", d.referrer_policy)?,
                permissions_policy: text("permissions_policy", None)?,
                cross_origin_opener_policy: text(
                    "cross_origin_opener_policy",
                    d.cross_origin_opener_policy,
                )?,
                trust_forwarded_proto: opt(o, "trust_forwarded_proto")?.unwrap_or(false),
            };
            let stage = SecurityHeaders::new(&config, builder).map_err(err)?;
            builder.push(stage);
        }
        "trusted_host" => {
            let hosts: Vec<String> = opt(o, "allowed_hosts")?.unwrap_or_else(|| vec!["*".into()]);
            let www = opt(o, "www_redirect")?.unwrap_or(true);
            let stage = TrustedHosts::new(&hosts, www, builder).map_err(err)?;
            if !stage.allows_any() {
                builder.push(stage);
            }
        }
        "https_redirect" => {
            let status = opt(o, "status_code")?.unwrap_or(307);
            let trust = opt(o, "trust_forwarded_proto")?.unwrap_or(false);
            let stage = HttpsRedirect::new(status, trust, builder).map_err(err)?;
            builder.push(stage);
        }
        "rate_limit" => crate::policy_ratelimit::add(builder, o)?,
        _ => unreachable!("every kind in OPTIONS is handled"),
    }
    Ok(())
}

/// The option `key`, when given.
pub(crate) fn opt<'py, T: FromPyObject<'py>>(
    o: &Bound<'py, PyDict>,
    key: &str,
) -> PyResult<Option<T>> {
    match o.get_item(key)? {
        Some(value) => value
            .extract()
            .map(Some)
            .map_err(|e| PyValueError::new_err(format!("engine middleware option {key}: {e}"))),
        None => Ok(None),
    }
}

fn head_of(req: &Request, https: bool) -> Head<'_> {
    Head::new(
        &req.method,
        &req.path,
        &req.raw_path,
        &req.query,
        &req.headers,
        https,
    )
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

/// The host of a (host, port) peer address.
pub fn host_of(client: &Bound<'_, PyAny>) -> Option<String> {
    client.get_item(0).ok()?.extract().ok()
}
