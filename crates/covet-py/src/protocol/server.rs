//! Per-worker server state shared by every connection: the router, the endpoint table, the
//! Python hooks, the limits, and the set of live connections (for timeouts and shutdown).

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

use covet_engine::limits::{BodyPace, Limits};
use covet_engine::policy::Policy;
use covet_engine::ws::budget::ProcessQueue;
use covet_engine::ws::WsLimits;
use pyo3::prelude::*;

use pyo3::types::PyType;

use super::HttpProtocol;
use crate::convert::endpoint::{Endpoint, EndpointSpec};
use crate::convert::guard::{GuardSpec, RouteGuard};
use crate::convert::policy::PyPolicy;
use crate::convert::response_cache::ResponseCache;
use crate::convert::router::Router;
use crate::gil::G;

#[pyclass(module = "covet._engine")]
pub struct Server {
    pub router: Py<Router>,
    /// Shared with each call in flight (an `Arc` clone per request, nothing copied).
    pub endpoints: G<RefCell<Vec<Arc<Endpoint>>>>,
    /// `spawn(conn, raw, exc, response)`: Python takes the request over as a Task.
    pub spawn: PyObject,
    pub response_type: Py<PyType>,
    /// JSON `default` hook for values the Rust encoder does not know.
    pub json_default: PyObject,
    /// `error_log(status, detail, client)`, called for requests refused by the parser.
    pub error_log: PyObject,
    /// `access_log(client, method, path, http_version, status)`, when enabled.
    pub access_log: Option<PyObject>,
    /// True: 404/405/redirects are answered in Rust (no middleware or custom handlers for them).
    pub native_errors: G<Cell<bool>>,
    pub limits: Limits,
    /// Engine middleware, run on each request before routing (see `convert::policy`).
    pub policy: G<RefCell<Option<Arc<Policy>>>>,
    /// Limits and timers of upgraded (WebSocket) connections.
    pub ws_limits: G<RefCell<WsLimits>>,
    /// Per endpoint, the checks run before it (see `convert::guard`).
    pub guards: G<RefCell<Vec<Option<Arc<RouteGuard>>>>>,
    conns: G<RefCell<Vec<Option<Py<HttpProtocol>>>>>,
    free: G<RefCell<Vec<usize>>>,
    pub shutting_down: G<Cell<bool>>,
    /// When `shutdown` was called: idle connections get a short grace from then on.
    pub shutdown_at: G<Cell<Option<Instant>>>,
    /// How fast request bodies must arrive (see `BodyPace`).
    pub pace: BodyPace,
    /// Most connections this worker holds open; past it idle ones are closed to make room,
    /// else the newcomer is answered 503.
    pub max_connections: usize,
    /// The path prefix a proxy in front strips (ASGI's `root_path`); None when there is none.
    pub root_path: Option<Arc<str>>,
    /// Registered connections (open, or closing and not yet lost).
    open: G<Cell<usize>>,
    /// The app's set of request Tasks (shutdown and the test client wait for them): the Tasks
    /// the engine starts itself are added to it while they run.
    pub tasks: G<RefCell<Option<PyObject>>>,
    /// Per endpoint, the static directory the engine answers that mount from, if any.
    pub statics: G<RefCell<Vec<Option<Arc<covet_engine::static_files::StaticDir>>>>>,
    /// Per endpoint, the response cache whose fresh entries the engine answers itself.
    pub response_caches: G<RefCell<Vec<Option<Py<ResponseCache>>>>>,
    /// Request metrics, when `covet.metrics` installed them (see `metrics.rs`).
    pub metrics: G<RefCell<Option<std::sync::Arc<covet_engine::metrics::HttpMetrics>>>>,
    /// Request ids and structured access lines, when `covet.logs` turned them on.
    pub telemetry: super::access::Telemetry,
}

impl Server {
    pub fn register(&self, conn: Py<HttpProtocol>) -> usize {
        let mut conns = self.conns.borrow_mut();
        let slot = match self.free.borrow_mut().pop() {
            Some(slot) => {
                conns[slot] = Some(conn);
                slot
            }
            None => {
                conns.push(Some(conn));
                conns.len() - 1
            }
        };
        self.open.set(self.open.get() + 1);
        slot
    }

    pub fn unregister(&self, slot: usize) {
        let mut conns = self.conns.borrow_mut();
        if let Some(entry) = conns.get_mut(slot) {
            if entry.take().is_some() {
                self.free.borrow_mut().push(slot);
                self.open.set(self.open.get() - 1);
            }
        }
    }

    /// Past the connection cap: makes room by closing, oldest first, a connection that is
    /// already closing (answered, waiting for its client's FIN), else an idle keep-alive one,
    /// else one whose request arrives too slowly (408), never `slot`, the newcomer. False
    /// when there is none: the newcomer is refused.
    pub fn make_room(&self, py: Python<'_>, slot: usize) -> PyResult<bool> {
        if self.open.get() <= self.max_connections {
            return Ok(true);
        }
        let now = Instant::now();
        let others: Vec<Py<HttpProtocol>> = self
            .conns
            .borrow()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != slot)
            .filter_map(|(_, c)| c.as_ref().map(|c| c.clone_ref(py)))
            .collect();
        let oldest = others
            .iter()
            .filter_map(|c| {
                c.bind(py)
                    .borrow()
                    .evictable(now, &self.pace)
                    .map(|k| (k, c))
            })
            .min_by_key(|(key, _)| *key);
        match oldest {
            Some((_, conn)) => {
                conn.bind(py).borrow().evict(py)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    pub(crate) fn live(&self, py: Python<'_>) -> Vec<Py<HttpProtocol>> {
        self.conns
            .borrow()
            .iter()
            .flatten()
            .map(|c| c.clone_ref(py))
            .collect()
    }
}

#[pymethods]
impl Server {
    #[new]
    #[pyo3(signature = (router, spawn, response_type, json_default, error_log, access_log=None, max_head_bytes=16384, max_headers=100, max_body_bytes=10485760, header_timeout=10.0, keepalive_timeout=5.0, stream_threshold=1048576, body_timeout=10.0, min_body_rate=500, max_connections=10000, root_path=String::new()))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        router: Py<Router>,
        spawn: PyObject,
        response_type: Py<PyType>,
        json_default: PyObject,
        error_log: PyObject,
        access_log: Option<PyObject>,
        max_head_bytes: usize,
        max_headers: usize,
        max_body_bytes: usize,
        header_timeout: f64,
        keepalive_timeout: f64,
        stream_threshold: usize,
        body_timeout: f64,
        min_body_rate: usize,
        max_connections: usize,
        root_path: String,
    ) -> Self {
        Server {
            router,
            endpoints: G(RefCell::new(Vec::new())),
            spawn,
            response_type,
            json_default,
            error_log,
            access_log,
            native_errors: G(Cell::new(true)),
            limits: Limits {
                max_head_bytes,
                max_headers,
                max_body_bytes,
                header_timeout: Duration::from_secs_f64(header_timeout),
                keepalive_timeout: Duration::from_secs_f64(keepalive_timeout),
                stream_threshold,
            },
            policy: G(RefCell::new(None)),
            ws_limits: G(RefCell::new(WsLimits::default())),
            guards: G(RefCell::new(Vec::new())),
            conns: G(RefCell::new(Vec::new())),
            free: G(RefCell::new(Vec::new())),
            shutting_down: G(Cell::new(false)),
            shutdown_at: G(Cell::new(None)),
            pace: BodyPace {
                timeout: Duration::from_secs_f64(body_timeout),
                min_rate: min_body_rate,
            },
            max_connections: max_connections.max(1),
            root_path: (!root_path.is_empty()).then(|| Arc::from(root_path.trim_end_matches('/'))),
            open: G(Cell::new(0)),
            tasks: G(RefCell::new(None)),
            statics: G(RefCell::new(Vec::new())),
            response_caches: G(RefCell::new(Vec::new())),
            metrics: G(RefCell::new(None)),
            telemetry: Default::default(),
        }
    }

    /// Replaces the endpoint table, one `EndpointSpec` per endpoint index.
    fn set_endpoints(&self, py: Python<'_>, endpoints: Vec<Py<EndpointSpec>>) {
        *self.endpoints.borrow_mut() = endpoints
            .iter()
            .map(|spec| Arc::new(Endpoint::from_spec(py, spec.get())))
            .collect();
    }

    /// Installs (or, with None, removes) the engine middleware.
    fn set_policy(&self, policy: Option<&PyPolicy>) {
        *self.policy.borrow_mut() = policy.map(|p| p.inner.clone());
    }

    /// WebSocket limits: sizes in bytes, times in seconds (0 turns pings off).
    /// `max_queue_bytes` bounds one connection's unread messages (decompressed),
    /// `max_process_queue_bytes` all of this worker's.
    #[pyo3(signature = (max_message=1048576, ping_interval=20.0, ping_timeout=20.0, max_queue=32, max_send_buffer=1048576, deflate=true, max_queue_bytes=1048576, max_process_queue_bytes=16777216))]
    #[allow(clippy::too_many_arguments)]
    fn set_websocket_options(
        &self,
        max_message: usize,
        ping_interval: f64,
        ping_timeout: f64,
        max_queue: usize,
        max_send_buffer: usize,
        deflate: bool,
        max_queue_bytes: usize,
        max_process_queue_bytes: usize,
    ) {
        *self.ws_limits.borrow_mut() = WsLimits {
            max_message,
            ping_interval: Duration::from_secs_f64(ping_interval),
            ping_timeout: Duration::from_secs_f64(ping_timeout),
            max_queue: max_queue.max(1),
            max_send_buffer,
            deflate,
            max_queue_bytes,
            process_queue: ProcessQueue::new(max_process_queue_bytes),
        };
    }

    /// Replaces the route guards: per endpoint, None or its `GuardSpec`.
    fn set_guards(&self, py: Python<'_>, guards: Vec<Option<Py<GuardSpec>>>) {
        *self.guards.borrow_mut() = guards
            .iter()
            .map(|g| g.as_ref().map(|g| Arc::new(RouteGuard::new(py, g.get()))))
            .collect();
    }

    /// The set the engine adds the Tasks it starts to (and removes them from when done).
    fn set_tasks(&self, tasks: PyObject) {
        *self.tasks.borrow_mut() = Some(tasks);
    }

    /// The mounts the engine serves itself: (endpoint index, static directory) pairs.
    fn set_static(
        &self,
        mounts: Vec<(usize, PyRef<'_, crate::protocol::static_files::StaticDir>)>,
    ) {
        let mut table = vec![None; mounts.iter().map(|(i, _)| i + 1).max().unwrap_or(0)];
        for (index, dir) in mounts {
            table[index] = Some(dir.inner.clone());
        }
        *self.statics.borrow_mut() = table;
    }

    /// The routes whose cached responses the engine answers: (endpoint index, cache) pairs.
    fn set_response_caches(&self, caches: Vec<(usize, Py<ResponseCache>)>) {
        let mut table: Vec<Option<Py<ResponseCache>>> = Vec::new();
        for (index, cache) in caches {
            if table.len() <= index {
                table.resize_with(index + 1, || None);
            }
            table[index] = Some(cache);
        }
        *self.response_caches.borrow_mut() = table;
    }

    /// Request ids: taken from `header` when `trust` and sane, else made; written on every
    /// response; set in the context variable `var` when a request reaches Python.
    fn set_request_ids(&self, header: &str, trust: bool, var: PyObject) -> PyResult<()> {
        self.telemetry.set_ids(header, trust, var)
    }

    /// Structured access lines (`routes`: templates by endpoint index): formatted here and
    /// written to `fd`, which the server then owns and closes (JSON, or text at
    /// `text_offset` seconds east of UTC), `schedule(flush)`
    /// called to arm a later `flush_access_log`; or, with no `fd`, passed to `callback`.
    #[pyo3(signature = (routes, fd=None, text_offset=None, schedule=None, callback=None))]
    fn set_access_lines(
        &self,
        routes: Vec<String>,
        fd: Option<i32>,
        text_offset: Option<i32>,
        schedule: Option<PyObject>,
        callback: Option<PyObject>,
    ) {
        self.telemetry
            .set_sink(routes, fd, text_offset, schedule, callback);
    }

    /// Writes out the access lines buffered so far.
    fn flush_access_log(&self) {
        self.telemetry.flush();
    }

    fn set_native_errors(&self, on: bool) {
        self.native_errors.set(on);
    }

    /// The asyncio protocol factory: one `HttpProtocol` per accepted connection.
    fn __call__(slf: &Bound<'_, Self>) -> HttpProtocol {
        let server = slf.borrow();
        let mut conn = HttpProtocol::new(
            slf.clone().unbind(),
            &server.limits,
            server.root_path.clone(),
        );
        conn.metrics = crate::protocol::metrics::ConnMetrics::new(&server);
        conn.access = super::access::ConnAccess::new(&server);
        conn
    }

    /// Closes connections past the header-read, body, keep-alive or drain timeout; called
    /// periodically.
    fn sweep(&self, py: Python<'_>) -> PyResult<()> {
        let now = Instant::now();
        for conn in self.live(py) {
            conn.bind(py).borrow().check_timeouts(py, now, self)?;
        }
        Ok(())
    }

    /// Stops keep-alive: every response not yet started says `Connection: close`; idle
    /// connections stay open for a short grace (a request already on its way is answered,
    /// with `Connection: close`), then the sweep closes them; an endless event stream ends now.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        self.shutting_down.set(true);
        self.shutdown_at.set(Some(Instant::now()));
        for conn in self.live(py) {
            conn.bind(py).borrow().shutdown(py)?;
        }
        Ok(())
    }

    /// Closes every connection, busy or not (the grace period is over).
    fn close_all(&self, py: Python<'_>) -> PyResult<()> {
        for conn in self.live(py) {
            conn.bind(py).borrow().close(py)?;
        }
        Ok(())
    }

    fn connection_count(&self) -> usize {
        self.conns.borrow().iter().flatten().count()
    }
}
