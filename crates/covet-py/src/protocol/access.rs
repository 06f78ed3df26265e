//! Request ids and structured access lines in the binding (`covet.logs.request_logging` on
//! covet's own server and the test client): the id taken or made when a request begins,
//! written into every response head the connection writes, handed to Python (its context
//! variable) only when the request reaches Python; the access line formatted here into the
//! worker's buffer and written to the log's descriptor in pipe-sized pieces, at the latest a
//! moment after (a timer Python arms once per batch), when the buffer fills, and at shutdown.
//! When the log is not one the engine can write (handlers of the user's own), each line goes
//! to a Python callback with its fields instead.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use covet_engine::access::{self, AccessLog, Format, Line, RequestIds};
use covet_engine::http::request::Request;
use covet_engine::http::response;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use super::server::Server;
use super::HttpProtocol;
use crate::gil::G;

/// Where a server's request ids come from and go.
pub struct IdConfig {
    /// The header, lowercase, read from requests and written on responses.
    header: Arc<str>,
    /// `name: ` as the head writes it (the name checked once; ids are sane by construction).
    head_prefix: Vec<u8>,
    trust: bool,
    ids: G<RefCell<RequestIds>>,
    /// `covet.middleware.telemetry.request_id_var`.
    var: PyObject,
}

/// Where a server's access lines go.
pub struct LogSink {
    /// Route templates by endpoint index.
    routes: Vec<String>,
    target: Target,
}

enum Target {
    /// Formatted here, written to this descriptor (the sink's own: closed with it);
    /// `schedule(flush)` arms the flush timer.
    Engine {
        log: RefCell<AccessLog>,
        fd: i32,
        schedule: PyObject,
        armed: Cell<bool>,
    },
    /// `callback(client, method, path, route, status, duration_ms, request_id)` per line.
    Python(PyObject),
}

impl Drop for LogSink {
    fn drop(&mut self) {
        if let Target::Engine { log, fd, .. } = &self.target {
            log.borrow_mut().chunks(|c| access::write_fd(*fd, c));
            access::close_fd(*fd);
        }
    }
}

/// A server's request ids and access lines (both off until Python configures them).
pub struct Telemetry {
    pub ids: G<RefCell<Option<Arc<IdConfig>>>>,
    pub sink: G<RefCell<Option<LogSink>>>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            ids: G(RefCell::new(None)),
            sink: G(RefCell::new(None)),
        }
    }
}

impl Telemetry {
    /// Writes out the buffered lines and disarms the timer.
    pub fn flush(&self) {
        if let Some(LogSink {
            target: Target::Engine { log, fd, armed, .. },
            ..
        }) = &*self.sink.borrow()
        {
            armed.set(false);
            log.borrow_mut().chunks(|c| access::write_fd(*fd, c));
        }
    }

    /// Takes ids from `header` (when `trust`) or makes them; `var` is the context variable
    /// Python reads them from.
    pub fn set_ids(&self, header: &str, trust: bool, var: PyObject) -> PyResult<()> {
        let header = header.to_ascii_lowercase();
        let mut head_prefix = Vec::new();
        if response::write_header(&mut head_prefix, header.as_bytes(), b"").is_err() {
            let message = format!("{header:?} is not a header name");
            return Err(pyo3::exceptions::PyValueError::new_err(message));
        }
        head_prefix.truncate(head_prefix.len() - 2); // the empty value's CRLF
        *self.ids.borrow_mut() = Some(Arc::new(IdConfig {
            head_prefix,
            header: Arc::from(header),
            trust,
            ids: G(RefCell::new(RequestIds::from_os())),
            var,
        }));
        Ok(())
    }

    /// Access lines written by the engine to `fd`, which the sink then owns (`text_offset`:
    /// text at this UTC offset, else JSON), or, with no `fd`, handed to `callback`.
    pub fn set_sink(
        &self,
        routes: Vec<String>,
        fd: Option<i32>,
        text_offset: Option<i32>,
        schedule: Option<PyObject>,
        callback: Option<PyObject>,
    ) {
        let target = match (fd, schedule, callback) {
            (Some(fd), Some(schedule), _) => Target::Engine {
                log: RefCell::new(AccessLog::new(match text_offset {
                    Some(utc_offset) => Format::Text { utc_offset },
                    None => Format::Json,
                })),
                fd,
                schedule,
                armed: Cell::new(false),
            },
            (_, _, Some(callback)) => Target::Python(callback),
            _ => {
                self.flush();
                *self.sink.borrow_mut() = None;
                return;
            }
        };
        self.flush();
        *self.sink.borrow_mut() = Some(LogSink { routes, target });
    }
}

/// One connection's part: the id and what the line needs of the request in flight.
pub struct ConnAccess {
    ids: Option<Arc<IdConfig>>,
    logging: bool,
    id: G<RefCell<String>>,
    method: G<RefCell<String>>,
    path: G<RefCell<String>>,
    start: G<Cell<Option<Instant>>>,
    route: G<Cell<Option<usize>>>,
    /// `host:port` of the client, made at the first line.
    client: G<RefCell<Option<String>>>,
}

impl Default for ConnAccess {
    fn default() -> Self {
        ConnAccess {
            ids: None,
            logging: false,
            id: G(RefCell::new(String::new())),
            method: G(RefCell::new(String::new())),
            path: G(RefCell::new(String::new())),
            start: G(Cell::new(None)),
            route: G(Cell::new(None)),
            client: G(RefCell::new(None)),
        }
    }
}

impl ConnAccess {
    pub fn new(server: &Server) -> Self {
        ConnAccess {
            ids: server.telemetry.ids.borrow().clone(),
            logging: server.telemetry.sink.borrow().is_some(),
            ..Default::default()
        }
    }
}

impl HttpProtocol {
    /// A request begins: its id, taken or made, and the start of its line.
    pub(super) fn access_begin(&self, req: &Request) {
        let a = &self.access;
        if let Some(cfg) = &a.ids {
            let given = req
                .header(&cfg.header)
                .filter(|v| cfg.trust && access::sane_id(v));
            let mut id = a.id.borrow_mut();
            match given {
                Some(v) => {
                    id.clear();
                    // Printable ASCII: valid UTF-8.
                    id.push_str(std::str::from_utf8(v).unwrap_or_default());
                }
                None => cfg.ids.borrow_mut().next_into(&mut id),
            }
        }
        if a.logging {
            a.start.set(Some(Instant::now()));
            a.route.set(None);
            let (mut method, mut path) = (a.method.borrow_mut(), a.path.borrow_mut());
            method.clear();
            method.push_str(&req.method);
            path.clear();
            path.push_str(&req.path);
        }
    }

    /// The request matched the route of this endpoint index.
    #[inline]
    pub(super) fn access_route(&self, endpoint: usize) {
        if self.access.logging {
            self.access.route.set(Some(endpoint));
        }
    }

    /// The request goes to Python: its id in the context the handler (or its Task) runs in.
    pub(super) fn expose_request_id(&self, py: Python<'_>) -> PyResult<()> {
        let Some(cfg) = &self.access.ids else {
            return Ok(());
        };
        let id = PyString::new(py, &self.access.id.borrow());
        // SAFETY: both pointers are live objects; the token returned is a new reference.
        unsafe {
            let token = pyo3::ffi::PyContextVar_Set(cfg.var.as_ptr(), id.as_ptr());
            if token.is_null() {
                return Err(PyErr::fetch(py));
            }
            pyo3::ffi::Py_DECREF(token);
        }
        Ok(())
    }

    /// The id header the response head being written owes (None: ids are off, or the
    /// response sets the header itself, `has_own`).
    pub(super) fn write_request_id(&self, out: &mut Vec<u8>, has_own: bool) {
        if let (Some(cfg), false) = (&self.access.ids, has_own) {
            let id = self.access.id.borrow();
            out.reserve(cfg.head_prefix.len() + id.len() + 2);
            out.extend_from_slice(&cfg.head_prefix);
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Whether `name` is the id header (a response that sets it keeps its own).
    pub(super) fn is_id_header(&self, name: &[u8]) -> bool {
        self.access
            .ids
            .as_ref()
            .is_some_and(|cfg| name.eq_ignore_ascii_case(cfg.header.as_bytes()))
    }

    /// The response's head says `status`: the request's access line.
    pub(super) fn access_line(&self, py: Python<'_>, status: u16) -> PyResult<()> {
        let a = &self.access;
        let Some(start) = a.start.take() else {
            return Ok(()); // off, or this request's line is written already
        };
        let server = self.server.bind(py).borrow();
        // What to call once the server is no longer borrowed: Python may flush from it.
        let call = {
            let sink = server.telemetry.sink.borrow();
            let Some(sink) = &*sink else {
                return Ok(());
            };
            let route = a
                .route
                .get()
                .and_then(|i| sink.routes.get(i))
                .map(String::as_str);
            let (method, path, id) = (a.method.borrow(), a.path.borrow(), a.id.borrow());
            let duration = start.elapsed();
            match &sink.target {
                Target::Python(callback) => {
                    let args = (
                        self.client_obj(py),
                        &*method,
                        &*path,
                        route,
                        status,
                        duration.as_secs_f64() * 1000.0,
                        &*id,
                    )
                        .into_pyobject(py)?;
                    Some((callback.clone_ref(py), args))
                }
                Target::Engine {
                    log,
                    fd,
                    schedule,
                    armed,
                } => {
                    if a.client.borrow().is_none() {
                        *a.client.borrow_mut() = Some(self.client_text(py));
                    }
                    let client = a.client.borrow();
                    let mut log = log.borrow_mut();
                    log.push(&Line {
                        time: SystemTime::now(),
                        method: &method,
                        route,
                        path: &path,
                        status,
                        duration,
                        client: client.as_deref().unwrap_or("-"),
                        request_id: &id,
                    });
                    if log.pending() >= access::ATOMIC_WRITE {
                        log.chunks(|c| access::write_fd(*fd, c));
                        None
                    } else if !armed.replace(true) {
                        let flush = self
                            .server
                            .bind(py)
                            .getattr(intern!(py, "flush_access_log"))?;
                        Some((schedule.clone_ref(py), PyTuple::new(py, [flush])?))
                    } else {
                        None
                    }
                }
            }
        };
        drop(server);
        if let Some((callable, args)) = call {
            callable.bind(py).call1(args)?;
        }
        Ok(())
    }

    /// `host:port` of the client, or "-".
    fn client_text(&self, py: Python<'_>) -> String {
        self.client_obj(py)
            .and_then(|c| c.extract::<(String, u16)>(py).ok())
            .map_or_else(|| "-".to_owned(), |(h, p)| format!("{h}:{p}"))
    }
}
