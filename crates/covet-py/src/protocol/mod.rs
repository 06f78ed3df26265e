//! One HTTP/1.1 connection as an asyncio protocol written in Rust.
//!
//! The worker's event loop calls `data_received`; the engine's sans-IO `Connection` turns the
//! bytes into requests; each request is routed in Rust and its endpoint is called on this same
//! thread. A coroutine that cannot suspend is driven to completion here and its result written
//! at once; one that can, with nothing to solve in Python, runs as a Task the engine starts and
//! whose result it writes; anything else is handed to Python (`Server.spawn`) as a Task, which
//! later answers through `send_response` / the stream methods and then calls `request_done`.
//! One request is in flight per connection: pipelined requests wait in the buffer, so responses
//! leave in request order.
//!
//! `HttpProtocol` is one object; its methods are grouped by concern:
//! - `callbacks`: everything Python calls (asyncio's protocol callbacks, the response methods,
//!   the waiters), the crate's one `#[pymethods]` block for this class.
//! - `serve`: from parser events to a called endpoint, inline or handed to Python.
//! - `write`: responses into the output buffer and out to the socket (or the transport).
//! - `task`: handlers that await, run as Tasks the engine starts and finishes itself.
//! - `lifecycle`: finishing a request, acting on the timeouts the engine's connection decides
//!   (header, body pace, keep-alive, drain, linger), flow control of streamed bodies, the
//!   connection cap, closing (lingering after a last response).
//! - `admission`: the engine middleware and route guards run on a request, and their early
//!   answers.
//!
//! - `access`: the request id and the engine-written access line.
//!
//! Beside the class: `stream` (a large body passed to Python in chunks), `dispatch` (the
//! request kept in Rust form, driving a coroutine), and `server` (the per-worker state every
//! connection shares, with the registry of live connections, their sweep and the shutdown).

mod access;
mod admission;
mod callbacks;
pub mod dispatch;
mod lifecycle;
pub mod metrics;
mod serve;
pub mod server;
pub mod static_files;
pub mod stream;
mod task;
mod write;

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use covet_engine::connection::Connection;
use covet_engine::limits::Limits;
use pyo3::prelude::*;

use admission::Owed;
use server::Server;
use stream::BodyStream;

use crate::gil::G;
use crate::ws::conn::WsConnection;

#[pyclass(module = "covet._engine")]
pub struct HttpProtocol {
    pub(crate) server: Py<Server>,
    pub(crate) conn: G<RefCell<Connection>>,
    pub(crate) transport: G<RefCell<Option<PyObject>>>,
    pub(crate) write: G<RefCell<Option<PyObject>>>,
    client: G<RefCell<Option<PyObject>>>,
    sockname: G<RefCell<Option<PyObject>>>,
    /// The transport is TLS (it has an `sslcontext`): requests show the scheme `https`.
    tls: G<Cell<bool>>,
    /// The socket's descriptor, for writing responses to it directly (plain TCP only).
    pub(crate) sock_fd: G<Cell<Option<i32>>>,
    /// Bytes were handed to the transport, which may still hold some: later bytes go the same
    /// way until it says it holds none.
    queued: G<Cell<bool>>,
    slot: G<Cell<Option<usize>>>,
    pub(crate) out: G<RefCell<Vec<u8>>>,
    pub(crate) busy: G<Cell<bool>>,
    closed: G<Cell<bool>>,
    /// Closing after a last response: our side is shut (FIN sent), what the client still
    /// sends is read and dropped until it closes too, so no reset eats that response.
    lingering: G<Cell<bool>>,
    eof: G<Cell<bool>>,
    read_paused: G<Cell<bool>>,
    write_paused: G<Cell<bool>>,
    drain_waiter: G<RefCell<Option<PyObject>>>,
    /// A future resolved when the client stops sending or goes away, or the server shuts
    /// down (server-sent events stop their producer on it).
    disconnect_waiter: G<RefCell<Option<PyObject>>>,
    keep_alive: G<Cell<bool>>,
    head_only: G<Cell<bool>>,
    http_minor: G<Cell<u8>>,
    streaming: G<Cell<bool>>,
    log_line: G<RefCell<Option<(String, String)>>>,
    /// The body of the request in flight, while it is still arriving in chunks.
    body_stream: G<RefCell<Option<Py<BodyStream>>>>,
    /// The head of the current response has been written.
    response_started: G<Cell<bool>>,
    /// Headers the engine middleware adds to the current response.
    pub(crate) owed: Owed,
    /// After a WebSocket upgrade: the connection every socket callback is forwarded to.
    pub(crate) ws: G<RefCell<Option<Py<WsConnection>>>>,
    /// The server's root path, copied per connection so requests need not borrow the server.
    pub(crate) root_path: Option<Arc<str>>,
    /// The loop's `create_task`, once a handler has needed a Task (see `task`).
    create_task: G<RefCell<Option<PyObject>>>,
    /// The worker's request metrics, when installed, and the mark of the request in flight.
    pub(crate) metrics: crate::protocol::metrics::ConnMetrics,
    /// The request id and access line of the request in flight (see `access`).
    pub(crate) access: access::ConnAccess,
}

impl HttpProtocol {
    pub fn new(server: Py<Server>, limits: &Limits, root_path: Option<Arc<str>>) -> Self {
        HttpProtocol {
            root_path,
            server,
            conn: G(RefCell::new(Connection::new(limits.clone()))),
            transport: G(RefCell::new(None)),
            write: G(RefCell::new(None)),
            client: G(RefCell::new(None)),
            sockname: G(RefCell::new(None)),
            tls: G(Cell::new(false)),
            sock_fd: G(Cell::new(None)),
            queued: G(Cell::new(false)),
            slot: G(Cell::new(None)),
            out: G(RefCell::new(Vec::with_capacity(512))),
            busy: G(Cell::new(false)),
            closed: G(Cell::new(false)),
            lingering: G(Cell::new(false)),
            eof: G(Cell::new(false)),
            read_paused: G(Cell::new(false)),
            write_paused: G(Cell::new(false)),
            drain_waiter: G(RefCell::new(None)),
            disconnect_waiter: G(RefCell::new(None)),
            keep_alive: G(Cell::new(true)),
            head_only: G(Cell::new(false)),
            http_minor: G(Cell::new(1)),
            streaming: G(Cell::new(false)),
            log_line: G(RefCell::new(None)),
            body_stream: G(RefCell::new(None)),
            response_started: G(Cell::new(false)),
            owed: Owed::new(),
            ws: G(RefCell::new(None)),
            create_task: G(RefCell::new(None)),
            metrics: Default::default(),
            access: Default::default(),
        }
    }

    fn transport_call(
        &self,
        py: Python<'_>,
        method: &Bound<'_, pyo3::types::PyString>,
    ) -> PyResult<()> {
        let transport = self.transport.borrow().as_ref().map(|t| t.clone_ref(py));
        if let Some(t) = transport {
            t.bind(py).call_method0(method)?;
        }
        Ok(())
    }

    /// The WebSocket this connection was upgraded to, if it was.
    fn ws(&self, py: Python<'_>) -> Option<Py<WsConnection>> {
        self.ws.borrow().as_ref().map(|w| w.clone_ref(py))
    }

    pub fn client_obj(&self, py: Python<'_>) -> Option<PyObject> {
        self.client.borrow().as_ref().map(|c| c.clone_ref(py))
    }

    pub fn sockname_obj(&self, py: Python<'_>) -> Option<PyObject> {
        self.sockname.borrow().as_ref().map(|c| c.clone_ref(py))
    }

    /// The URL scheme of this connection's requests.
    pub fn scheme(&self) -> &'static str {
        if self.tls.get() {
            "https"
        } else {
            "http"
        }
    }
}
