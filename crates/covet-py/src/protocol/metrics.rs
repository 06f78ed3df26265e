//! Engine metrics in the binding: the `EngineMetrics` handle Python installs on a server and
//! reads snapshots from, and the few marks the connection makes on a request's way (begin,
//! route, status, bytes, finish). With no metrics installed every mark is one branch on a
//! field that is `None`.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use covet_engine::http::request::Request;
use covet_engine::metrics::{Finished, HttpMetrics, Method, Refusal};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::gil::G;
use crate::protocol::server::Server;
use crate::protocol::HttpProtocol;

/// One worker's request metrics (see `covet_engine::metrics`), created by `covet.metrics`
/// with the app's route templates in endpoint order.
#[pyclass(module = "covet._engine", frozen)]
pub struct EngineMetrics {
    inner: Arc<HttpMetrics>,
}

#[pymethods]
impl EngineMetrics {
    #[new]
    fn new(routes: Vec<String>) -> Self {
        EngineMetrics {
            inner: Arc::new(HttpMetrics::new(routes)),
        }
    }

    /// Counts requests on `server`'s connections from now on (connections already open keep
    /// what they had).
    fn install(&self, server: &Server) {
        *server.metrics.borrow_mut() = Some(self.inner.clone());
    }

    /// `{"requests": [(route, method, {class: n}, cumulative buckets, sum seconds, request
    /// bytes, response bytes)], "refusals": {reason: n}}`, for series that saw a request.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let snap = self.inner.snapshot();
        let requests = PyList::empty(py);
        for s in snap.requests {
            let by_class = PyDict::new(py);
            for (class, n) in s.by_class {
                by_class.set_item(class, n)?;
            }
            requests.append((
                s.route,
                s.method,
                by_class,
                s.buckets,
                s.sum_seconds,
                s.request_bytes,
                s.response_bytes,
            ))?;
        }
        let refusals = PyDict::new(py);
        for (reason, n) in snap.refusals {
            refusals.set_item(reason, n)?;
        }
        let out = PyDict::new(py);
        out.set_item("requests", requests)?;
        out.set_item("refusals", refusals)?;
        Ok(out)
    }

    /// (open connections, requests in flight, open WebSockets) on `server` now.
    fn gauges(&self, py: Python<'_>, server: &Server) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for conn in server.live(py) {
            let conn = conn.bind(py).borrow();
            counts.0 += 1;
            if conn.ws.borrow().is_some() {
                counts.2 += 1;
            } else if conn.busy.get() {
                counts.1 += 1;
            }
        }
        counts
    }

    /// The histogram bucket bounds, in seconds.
    #[staticmethod]
    fn buckets() -> Vec<f64> {
        covet_engine::metrics::BUCKETS_SECONDS.to_vec()
    }
}

/// What the connection notes about the request in flight, for its metrics.
#[derive(Clone, Copy)]
pub struct Mark {
    start: Instant,
    route: Option<usize>,
    method: Method,
    status: u16,
    request_bytes: u64,
    response_bytes: u64,
}

/// The per-connection side: the worker's metrics (copied when the connection is made) and
/// the mark of the request in flight.
pub struct ConnMetrics {
    metrics: Option<Arc<HttpMetrics>>,
    mark: G<Cell<Option<Mark>>>,
}

impl Default for ConnMetrics {
    fn default() -> Self {
        ConnMetrics {
            metrics: None,
            mark: G(Cell::new(None)),
        }
    }
}

impl ConnMetrics {
    pub fn new(server: &Server) -> Self {
        ConnMetrics {
            metrics: server.metrics.borrow().clone(),
            mark: G(Cell::new(None)),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Mark)) {
        if let Some(mut mark) = self.mark.get() {
            f(&mut mark);
            self.mark.set(Some(mark));
        }
    }
}

impl HttpProtocol {
    /// A request starts (a WebSocket upgrade is counted by the gauges, not as a request).
    #[inline]
    pub(crate) fn metrics_begin(&self, req: &Request) {
        if self.metrics.metrics.is_some() && !req.websocket {
            self.metrics.mark.set(Some(Mark {
                start: Instant::now(),
                route: None,
                method: Method::from_name(&req.method),
                status: 0,
                request_bytes: req.body.len() as u64,
                response_bytes: 0,
            }));
        }
    }

    /// The request matched the route of this endpoint index.
    #[inline]
    pub(crate) fn metrics_route(&self, endpoint: usize) {
        self.metrics.update(|m| m.route = Some(endpoint));
    }

    /// The response's head says this status.
    #[inline]
    pub(crate) fn metrics_status(&self, status: u16) {
        self.metrics.update(|m| m.status = status);
    }

    /// Bytes of the response handed to the transport.
    #[inline]
    pub(crate) fn metrics_bytes(&self, n: usize) {
        self.metrics.update(|m| m.response_bytes += n as u64);
    }

    /// The request is answered: it is counted now.
    #[inline]
    pub(crate) fn metrics_end(&self) {
        let (Some(metrics), Some(mark)) = (&self.metrics.metrics, self.metrics.mark.take()) else {
            return;
        };
        if mark.status == 0 {
            return; // ended without a response (a cancelled handler): nothing to count
        }
        metrics.record(&Finished {
            route: mark.route,
            method: mark.method,
            status: mark.status,
            elapsed: mark.start.elapsed(),
            request_bytes: mark.request_bytes,
            response_bytes: mark.response_bytes,
        });
    }

    /// The engine refused a request.
    pub(crate) fn metrics_refused(&self, why: Refusal) {
        if let Some(metrics) = &self.metrics.metrics {
            metrics.refused(why);
        }
    }
}
