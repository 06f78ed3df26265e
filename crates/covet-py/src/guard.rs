//! Route guards: checks the engine makes on a routed request before its endpoint runs. Today
//! one kind: the bearer JWT of each `JWTAuth` among the route's dependencies, verified in Rust
//! (signature, algorithm, time claims, audience, issuer, token type). A refused request gets
//! `JWTAuth`'s own 401 from here; an accepted one reaches Python with the verified claims on its
//! `RawRequest`, so the dependency only checks revocation and scopes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use covet_engine::http::request::Request;
use covet_engine::policy::bearer;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::jwt::JwtKeys;
use crate::protocol::HttpProtocol;
use crate::server::Server;

/// The claims verified for a request: (id of the key set that verified them, JSON payload).
pub type Claims = Vec<(usize, Vec<u8>)>;

/// One `JWTAuth` of a route.
pub struct JwtCheck {
    keys: Py<JwtKeys>,
    token_type: Option<String>,
    /// False: a request without a token goes on (the dependency gives it `None`).
    auto_error: bool,
    /// The dependencies from the route down to the `JWTAuth`: overriding any of them (in
    /// tests) leaves the check to Python.
    chain: Vec<PyObject>,
    /// `log(method, path, reason)`, for refused tokens.
    log: PyObject,
}

/// The guard of one route.
pub struct RouteGuard {
    /// The application, whose `dependency_overrides` are read on each request.
    app: PyObject,
    checks: Vec<JwtCheck>,
}

/// How Python describes one check: (key set, token type, auto_error, chain, log).
pub type JwtCheckSpec = (Py<JwtKeys>, Option<String>, bool, Vec<PyObject>, PyObject);

impl RouteGuard {
    pub fn new(app: PyObject, specs: Vec<JwtCheckSpec>) -> Self {
        let checks = specs
            .into_iter()
            .map(|(keys, token_type, auto_error, chain, log)| JwtCheck {
                keys,
                token_type,
                auto_error,
                chain,
                log,
            })
            .collect();
        RouteGuard { app, checks }
    }

    /// The checks not overridden by the application's `dependency_overrides`.
    fn active<'a>(&'a self, py: Python<'_>) -> PyResult<Vec<&'a JwtCheck>> {
        let overrides = self
            .app
            .bind(py)
            .getattr(intern!(py, "dependency_overrides"))?;
        let overrides = overrides
            .downcast::<PyDict>()
            .ok()
            .filter(|d| !d.is_empty());
        let Some(overrides) = overrides else {
            return Ok(self.checks.iter().collect());
        };
        let mut active = Vec::with_capacity(self.checks.len());
        for check in &self.checks {
            let mut overridden = false;
            for dep in &check.chain {
                overridden |= overrides.contains(dep.bind(py))?;
            }
            if !overridden {
                active.push(check);
            }
        }
        Ok(active)
    }
}

/// What the guard decided.
pub enum Guarded {
    /// Go on, with these verified claims (empty for most routes).
    Pass(Claims),
    /// The request was answered here.
    Answered,
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
        run(py, &guard, req).and_then(|outcome| match outcome {
            Ok(claims) => Ok(Guarded::Pass(claims)),
            Err(early) => {
                self.metrics_refused(covet_engine::metrics::Refusal::Jwt);
                self.answer_early(py, server, &early)?;
                Ok(Guarded::Answered)
            }
        })
    }
}

fn run(
    py: Python<'_>,
    guard: &Arc<RouteGuard>,
    req: &Request,
) -> PyResult<Result<Claims, covet_engine::policy::Early>> {
    let mut claims = Vec::new();
    let checks = guard.active(py)?;
    if checks.is_empty() {
        return Ok(Ok(claims));
    }
    let token = bearer::bearer_token(req.header("authorization"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    for check in checks {
        let Some(token) = token else {
            if check.auto_error {
                return Ok(Err(bearer::not_authenticated()));
            }
            continue;
        };
        let keys = check.keys.bind(py).borrow();
        match keys.verify_bearer(check.token_type.as_deref(), token, now) {
            Ok(verified) => claims.push((check.keys.as_ptr() as usize, verified.payload)),
            Err(reason) => {
                check
                    .log
                    .bind(py)
                    .call1((&req.method, &req.path, &reason))?;
                return Ok(Err(bearer::invalid_token(&reason)));
            }
        }
    }
    Ok(Ok(claims))
}
