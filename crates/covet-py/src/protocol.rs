//! One HTTP/1.1 connection as an asyncio protocol written in Rust.
//!
//! The worker's event loop calls `data_received`; the engine's sans-IO `Connection` turns the
//! bytes into requests; each request is routed in Rust and its endpoint is called on this same
//! thread. A coroutine that cannot suspend is driven to completion here and its result written
//! at once; anything else is handed to Python (`Server.spawn`) as a Task, which later answers
//! through `send_response` / the stream methods and then calls `request_done`.
//! One request is in flight per connection: pipelined requests wait in the buffer, so responses
//! leave in request order.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use covet_engine::connection::{Connection, Event};
use covet_engine::http::error::HttpError;
use covet_engine::http::request::Request;
use covet_engine::http::response::{self, Framing};
use covet_engine::limits::Limits;
use covet_engine::router::Lookup;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::gil::G;
use pyo3::types::{PyBytes, PyList};
use pyo3::{intern, IntoPyObjectExt};

use crate::dispatch::{drive, Later, Pending};
use crate::guard::Guarded;
use crate::json;
use crate::policy::Owed;
use crate::request::RawRequest;
use crate::server::{Endpoint, Server};
use crate::stream::BodyStream;
use crate::ws::conn::WsConnection;

/// Bytes buffered from a client while a request is in flight before reading is paused.
const MAX_PIPELINE_BUFFER: usize = 256 * 1024;
/// Capacity the per-connection output buffer may keep between responses.
const MAX_KEPT_BUFFER: usize = 64 * 1024;
/// Bodies up to this size are copied behind the head (one write); larger ones are written as
/// they are, in a second write.
const COPY_BODY_LIMIT: usize = 16 * 1024;

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
    slot: G<Cell<Option<usize>>>,
    out: G<RefCell<Vec<u8>>>,
    pub(crate) busy: G<Cell<bool>>,
    closed: G<Cell<bool>>,
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
    last_active: G<Cell<Instant>>,
    partial_since: G<Cell<Option<Instant>>>,
    log_line: G<RefCell<Option<(String, String)>>>,
    /// The body of the request in flight, while it is still arriving in chunks.
    body_stream: G<RefCell<Option<Py<BodyStream>>>>,
    /// The head of the current response has been written.
    response_started: G<Cell<bool>>,
    /// Headers the engine middleware adds to the current response.
    pub(crate) owed: Owed,
    /// After a WebSocket upgrade: the connection every socket callback is forwarded to.
    pub(crate) ws: G<RefCell<Option<Py<WsConnection>>>>,
}

impl HttpProtocol {
    pub fn new(server: Py<Server>, limits: &Limits) -> Self {
        HttpProtocol {
            server,
            conn: G(RefCell::new(Connection::new(limits.clone()))),
            transport: G(RefCell::new(None)),
            write: G(RefCell::new(None)),
            client: G(RefCell::new(None)),
            sockname: G(RefCell::new(None)),
            tls: G(Cell::new(false)),
            slot: G(Cell::new(None)),
            out: G(RefCell::new(Vec::with_capacity(512))),
            busy: G(Cell::new(false)),
            closed: G(Cell::new(false)),
            eof: G(Cell::new(false)),
            read_paused: G(Cell::new(false)),
            write_paused: G(Cell::new(false)),
            drain_waiter: G(RefCell::new(None)),
            disconnect_waiter: G(RefCell::new(None)),
            keep_alive: G(Cell::new(true)),
            head_only: G(Cell::new(false)),
            http_minor: G(Cell::new(1)),
            streaming: G(Cell::new(false)),
            last_active: G(Cell::new(Instant::now())),
            partial_since: G(Cell::new(None)),
            log_line: G(RefCell::new(None)),
            body_stream: G(RefCell::new(None)),
            response_started: G(Cell::new(false)),
            owed: Owed::new(),
            ws: G(RefCell::new(None)),
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

    /// Sends the bytes in `out` to the transport.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let bytes = {
            let mut out = self.out.borrow_mut();
            let bytes = PyBytes::new(py, &out);
            out.clear();
            if out.capacity() > MAX_KEPT_BUFFER {
                // One large response must not pin its size on an idle keep-alive connection.
                out.shrink_to(MAX_KEPT_BUFFER);
            }
            bytes
        };
        self.write_bytes(py, &bytes)
    }

    /// Hands a bytes object to the transport as it is (no copy).
    fn write_bytes(&self, py: Python<'_>, bytes: &Bound<'_, PyBytes>) -> PyResult<()> {
        if self.closed.get() {
            return Ok(());
        }
        let write = self.write.borrow().as_ref().map(|w| w.clone_ref(py));
        if let Some(write) = write {
            write.bind(py).call1((bytes,))?;
        }
        Ok(())
    }

    pub fn close(&self, py: Python<'_>) -> PyResult<()> {
        if !self.closed.get() {
            self.closed.set(true);
            self.transport_call(py, intern!(py, "close"))?;
        }
        Ok(())
    }

    /// The WebSocket this connection was upgraded to, if it was.
    fn ws(&self, py: Python<'_>) -> Option<Py<WsConnection>> {
        self.ws.borrow().as_ref().map(|w| w.clone_ref(py))
    }

    pub fn close_if_idle(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(ws) = self.ws(py) {
            return ws.bind(py).borrow().go_away(py);
        }
        if !self.busy.get() && !self.conn.borrow().has_partial() {
            self.close(py)?;
        }
        Ok(())
    }

    /// The server is shutting down: an endless stream waiting on the client (server-sent
    /// events) ends now, so its client reconnects elsewhere; an idle connection closes.
    pub fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        resolve(py, &self.disconnect_waiter)?;
        self.close_if_idle(py)
    }

    pub fn check_timeouts(&self, py: Python<'_>, now: Instant, limits: &Limits) -> PyResult<()> {
        if let Some(ws) = self.ws(py) {
            return ws.bind(py).borrow().check_timeouts(py, now);
        }
        let streaming = self.body_stream.borrow().is_some();
        if self.closed.get() || (self.busy.get() && !streaming) {
            return Ok(());
        }
        if let Some(since) = self.partial_since.get() {
            if now.duration_since(since) > limits.header_timeout {
                let err = HttpError {
                    status: 408,
                    detail: "Request timed out",
                };
                self.refuse(py, &err)?;
            }
        } else if now.duration_since(self.last_active.get()) > limits.keepalive_timeout {
            self.close(py)?;
        }
        Ok(())
    }

    /// Answers a request the parser refused, logs it, and closes.
    fn refuse(&self, py: Python<'_>, err: &HttpError) -> PyResult<()> {
        let stream = self.body_stream.borrow_mut().take();
        if let Some(stream) = stream {
            stream.bind(py).borrow().fail(py, err.status, err.detail)?;
        }
        if !(self.busy.get() && self.response_started.get()) {
            response::write_error(&mut self.out.borrow_mut(), err);
            self.flush(py)?;
        }
        let server = self.server.bind(py).borrow();
        let client = self.client.borrow().as_ref().map(|c| c.clone_ref(py));
        server
            .error_log
            .bind(py)
            .call1((err.status, err.detail, client))?;
        self.close(py)
    }

    /// Parses and serves buffered requests until one goes to Python or the buffer runs dry.
    fn process(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let this = slf.borrow();
        // While a request is in flight only the rest of its streamed body is read.
        while !this.closed.get() && (!this.busy.get() || this.body_stream.borrow().is_some()) {
            let event = this.conn.borrow_mut().next_event();
            match event {
                None => break,
                Some(Event::Continue) => {
                    this.out
                        .borrow_mut()
                        .extend_from_slice(response::CONTINUE_100);
                    this.flush(py)?;
                }
                Some(Event::Error(err)) => this.refuse(py, &err)?,
                Some(Event::Request(req)) => this.handle(slf, req, None)?,
                Some(Event::Stream(req)) => {
                    let stream = Py::new(py, BodyStream::new(slf.clone().unbind()))?;
                    *this.body_stream.borrow_mut() = Some(stream.clone_ref(py));
                    this.handle(slf, req, Some(stream))?;
                }
                Some(Event::BodyChunk(chunk)) => this.body_chunk(py, &chunk)?,
                Some(Event::BodyEnd) => {
                    let stream = this.body_stream.borrow_mut().take();
                    if let Some(stream) = stream {
                        stream.bind(py).borrow().end(py)?;
                    }
                }
            }
        }
        let partial = this.conn.borrow().has_partial();
        match (partial, this.partial_since.get()) {
            (true, None) => this.partial_since.set(Some(Instant::now())),
            (false, Some(_)) => this.partial_since.set(None),
            _ => {}
        }
        if this.eof.get() && !this.busy.get() {
            this.close(py)?;
        }
        Ok(())
    }

    /// Queues a piece of the streamed body, pausing the socket while Python is behind.
    fn body_chunk(&self, py: Python<'_>, chunk: &[u8]) -> PyResult<()> {
        let stream = self.body_stream.borrow().as_ref().map(|s| s.clone_ref(py));
        let Some(stream) = stream else {
            return Ok(());
        };
        if stream.bind(py).borrow().push(py, chunk)? && !self.read_paused.get() {
            self.read_paused.set(true);
            self.transport_call(py, intern!(py, "pause_reading"))?;
        }
        Ok(())
    }

    /// Python has taken enough of a streamed body: read from the socket again.
    pub fn resume_body(&self, py: Python<'_>) -> PyResult<()> {
        if self.read_paused.get() && !self.closed.get() {
            self.read_paused.set(false);
            self.transport_call(py, intern!(py, "resume_reading"))?;
        }
        Ok(())
    }

    fn handle(
        &self,
        slf: &Bound<'_, Self>,
        req: Request,
        stream: Option<Py<BodyStream>>,
    ) -> PyResult<()> {
        let py = slf.py();
        self.response_started.set(false);
        let server_ref = self.server.bind(py).borrow();
        self.keep_alive
            .set(req.keep_alive && !server_ref.shutting_down.get() && !self.eof.get());
        self.head_only.set(req.method == "HEAD");
        self.http_minor.set(req.http_minor);
        self.busy.set(true);
        if server_ref.access_log.is_some() {
            let mut target = req.path.clone();
            if !req.query.is_empty() {
                target.push('?');
                target.push_str(&String::from_utf8_lossy(&req.query));
            }
            *self.log_line.borrow_mut() = Some((req.method.clone(), target));
        }
        if self.check_policy(py, &server_ref, &req)? {
            return Ok(());
        }
        if req.websocket {
            // Past the engine middleware (trusted hosts...), whose response headers don't apply.
            drop(server_ref);
            *self.log_line.borrow_mut() = None;
            return crate::ws::upgrade::start(self, py, req);
        }
        let found = server_ref
            .router
            .get()
            .inner
            .read()
            .unwrap()
            .lookup(&req.method, &req.path);
        let native = server_ref.native_errors.get();
        match found {
            Lookup::Found {
                endpoint, params, ..
            } => {
                let ep = server_ref.endpoints.borrow()[endpoint].clone();
                let claims = match self.check_guard(py, &server_ref, endpoint, &req)? {
                    Guarded::Pass(claims) => claims,
                    Guarded::Answered => return Ok(()),
                };
                drop(server_ref);
                let streamed = stream.is_some();
                if let (true, false, Some(fast)) = (ep.inline, streamed, &ep.fast) {
                    let content_type = req.header("content-type");
                    if let Some(kwargs) =
                        fast.kwargs(py, &params, &req.query, &req.body, content_type)?
                    {
                        let pending = Pending {
                            req,
                            params,
                            endpoint,
                        };
                        let called = fast.handler.bind(py).call((), Some(&kwargs));
                        return self.complete(slf, &ep, called, Later::Engine(pending));
                    }
                }
                let raw = RawRequest::from_engine(
                    req,
                    params,
                    Some(endpoint),
                    self.client_obj(py),
                    self.sockname_obj(py),
                    self.scheme(),
                    stream,
                )
                .with_claims(claims);
                if !ep.inline || streamed {
                    return self.spawn(slf, raw.into_py_any(py)?, None, None);
                }
                let raw = Bound::new(py, raw)?;
                let called = if ep.noarg {
                    ep.call.bind(py).call0()
                } else {
                    ep.call.bind(py).call1((&raw,))
                };
                self.complete(slf, &ep, called, Later::Python(raw.into_any().unbind()))
            }
            Lookup::NotFound if native => {
                self.write_simple(py, 404, b"{\"detail\":\"Not Found\"}", None)?;
                self.finish(py)
            }
            Lookup::MethodNotAllowed { allow } if native => {
                let allow = allow.into_bytes();
                let extra: &[(&[u8], &[u8])] = &[(b"allow", &allow)];
                self.write_simple(py, 405, b"{\"detail\":\"Method Not Allowed\"}", Some(extra))?;
                self.finish(py)
            }
            Lookup::Redirect { location_path } if native => {
                drop(server_ref);
                let mut location = location_path.into_bytes();
                if !req.query.is_empty() {
                    location.push(b'?');
                    location.extend_from_slice(&req.query);
                }
                let headers: &[(&[u8], &[u8])] = &[(b"location", &location)];
                self.write_full(py, 307, headers, b"")?;
                self.finish(py)
            }
            _ => {
                drop(server_ref);
                let raw = RawRequest::from_engine(
                    req,
                    Vec::new(),
                    None,
                    self.client_obj(py),
                    self.sockname_obj(py),
                    self.scheme(),
                    stream,
                );
                self.spawn(slf, raw.into_py_any(py)?, None, None)
            }
        }
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

    /// Finishes an inline call: drives the coroutine, applies the response model (checked
    /// here when its shape allows), writes the result. On any error, or a response Python must
    /// send (streaming, background work), the request goes to Python with what happened.
    fn complete(
        &self,
        slf: &Bound<'_, Self>,
        ep: &Endpoint,
        called: PyResult<Bound<'_, PyAny>>,
        later: Later,
    ) -> PyResult<()> {
        let py = slf.py();
        let value = called.and_then(|c| drive(py, c));
        if let (Some(content_type), Ok(v)) = (&ep.text, &value) {
            if let Some(text) = exact_str(v) {
                let headers: &[(&[u8], &[u8])] = &[(b"content-type", content_type)];
                self.write_full(py, ep.status, headers, text)?;
                return self.finish(py);
            }
        }
        let value = value.and_then(|v| match &ep.convert {
            Some(_) if ep.shape.as_ref().is_some_and(|s| s.matches(&v)) => Ok(v),
            Some(convert) => convert.bind(py).call1((v,)),
            None => Ok(v),
        });
        let outcome = value.and_then(|v| Ok((self.write_result(py, &v, ep.status)?, v)));
        match outcome {
            Ok((true, _)) => self.finish(py),
            Ok((false, value)) => {
                let raw = later.into_raw(py, self)?;
                self.spawn(slf, raw, None, Some(value.unbind()))
            }
            Err(e) => {
                let raw = later.into_raw(py, self)?;
                self.spawn(slf, raw, Some(e.into_value(py).into_any()), None)
            }
        }
    }

    fn spawn(
        &self,
        slf: &Bound<'_, Self>,
        raw: PyObject,
        exc: Option<Py<PyAny>>,
        resp: Option<PyObject>,
    ) -> PyResult<()> {
        let py = slf.py();
        self.busy.set(true);
        let spawn = self.server.bind(py).borrow().spawn.clone_ref(py);
        spawn.bind(py).call1((slf, raw, exc, resp))?;
        Ok(())
    }

    /// Writes a handler's return value. Ok(false): Python must send it (a streaming response,
    /// or one with background work).
    fn write_result(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        status: u16,
    ) -> PyResult<bool> {
        let server = self.server.bind(py).borrow();
        if value.is_instance(server.response_type.bind(py))? {
            drop(server);
            if !value.getattr(intern!(py, "_direct"))?.is_truthy()? {
                return Ok(false);
            }
            self.write_response_obj(py, value)?;
            return Ok(true);
        }
        let default = server.json_default.clone_ref(py);
        drop(server);
        json::with_scratch(|body| {
            json::encode(value, Some(default.bind(py)), body)?;
            let headers: &[(&[u8], &[u8])] = &[(b"content-type", b"application/json")];
            self.write_full(py, status, headers, body)
        })?;
        Ok(true)
    }

    fn write_simple(
        &self,
        py: Python<'_>,
        status: u16,
        body: &[u8],
        extra: Option<&[(&[u8], &[u8])]>,
    ) -> PyResult<()> {
        let mut headers: Vec<(&[u8], &[u8])> = vec![(b"content-type", b"application/json")];
        if let Some(extra) = extra {
            headers.extend_from_slice(extra);
        }
        self.write_full(py, status, &headers, body)
    }

    pub(crate) fn write_full(
        &self,
        py: Python<'_>,
        status: u16,
        headers: &[(&[u8], &[u8])],
        body: &[u8],
    ) -> PyResult<()> {
        {
            let out = &mut *self.out.borrow_mut();
            let start = out.len();
            response::write_status_line(out, status);
            for (n, v) in headers {
                let _ = response::write_header(out, n, v);
            }
            self.owed.write(out, start);
            self.finish_head(out, status, Some(body.len()), true);
            if !self.head_only.get() {
                out.extend_from_slice(body);
            }
        }
        self.log_access(py, status)?;
        self.flush(py)
    }

    fn finish_head(&self, out: &mut Vec<u8>, status: u16, length: Option<usize>, date: bool) {
        if self.body_stream.borrow().is_some() {
            // Answered while the body is still arriving: say the connection will close.
            self.keep_alive.set(false);
        }
        let framing = if !status_has_body(status) {
            Framing::NoBody
        } else {
            match length {
                Some(n) => Framing::Length(n),
                None => Framing::Chunked,
            }
        };
        response::finish_head(
            out,
            framing,
            self.keep_alive.get(),
            self.http_minor.get(),
            date,
        );
    }

    /// Writes the head of a Python `Response`: its status and `raw_headers`. Returns whether
    /// the user set a date header. A header with CR/LF is refused with an error.
    fn write_head_from(
        &self,
        py: Python<'_>,
        resp: &Bound<'_, PyAny>,
        length: Option<usize>,
    ) -> PyResult<u16> {
        let status: u16 = resp.getattr(intern!(py, "status_code"))?.extract()?;
        let headers = resp.getattr(intern!(py, "raw_headers"))?;
        let headers = headers.downcast::<PyList>()?;
        let mut has_date = false;
        let out = &mut *self.out.borrow_mut();
        let start = out.len();
        response::write_status_line(out, status);
        for item in headers.iter() {
            let (name, value): (Bound<'_, PyBytes>, Bound<'_, PyBytes>) = item.extract()?;
            let (name, value) = (name.as_bytes(), value.as_bytes());
            if name.eq_ignore_ascii_case(b"content-length")
                || name.eq_ignore_ascii_case(b"transfer-encoding")
            {
                continue;
            }
            if name.eq_ignore_ascii_case(b"connection") {
                if value.eq_ignore_ascii_case(b"close") {
                    self.keep_alive.set(false);
                }
                continue;
            }
            has_date |= name.eq_ignore_ascii_case(b"date");
            if response::write_header(out, name, value).is_err() {
                out.truncate(start);
                return Err(PyRuntimeError::new_err(format!(
                    "invalid response header {:?}: header names must be tokens and values must not contain CR, LF or NUL",
                    String::from_utf8_lossy(name)
                )));
            }
        }
        self.owed.write(out, start);
        self.finish_head(out, status, length, !has_date);
        self.response_started.set(true);
        Ok(status)
    }

    fn write_response_obj(&self, py: Python<'_>, resp: &Bound<'_, PyAny>) -> PyResult<()> {
        let body = resp.getattr(intern!(py, "body"))?;
        let body = body.downcast::<PyBytes>()?;
        let len = body.as_bytes().len();
        let status = self.write_head_from(py, resp, Some(len))?;
        self.log_access(py, status)?;
        if self.head_only.get() || !status_has_body(status) {
            return self.flush(py);
        }
        if len <= COPY_BODY_LIMIT {
            self.out.borrow_mut().extend_from_slice(body.as_bytes());
            return self.flush(py);
        }
        // A large body goes to the transport as the same bytes object, after the head.
        self.flush(py)?;
        self.write_bytes(py, body)
    }

    fn log_access(&self, py: Python<'_>, status: u16) -> PyResult<()> {
        let line = self.log_line.borrow_mut().take();
        if let Some((method, target)) = line {
            let server = self.server.bind(py).borrow();
            if let Some(log) = &server.access_log {
                let version = if self.http_minor.get() == 0 {
                    "1.0"
                } else {
                    "1.1"
                };
                log.bind(py)
                    .call1((self.client_obj(py), method, target, version, status))?;
            }
        }
        Ok(())
    }

    /// The current request is answered: close or get ready for the next one.
    pub(crate) fn finish(&self, py: Python<'_>) -> PyResult<()> {
        let unread = self.body_stream.borrow_mut().take();
        if let Some(stream) = unread {
            // Answered before its body arrived: the rest is not worth reading.
            stream.bind(py).borrow().fail(
                py,
                400,
                "The response was sent before the body was read",
            )?;
            self.keep_alive.set(false);
        }
        self.busy.set(false);
        self.streaming.set(false);
        *self.disconnect_waiter.borrow_mut() = None;
        self.last_active.set(Instant::now());
        let shutting_down = self.server.bind(py).borrow().shutting_down.get();
        if !self.keep_alive.get() || shutting_down {
            self.close(py)?;
        } else if self.read_paused.get() {
            self.read_paused.set(false);
            self.transport_call(py, intern!(py, "resume_reading"))?;
        }
        Ok(())
    }
}

/// Resolves the future held in `slot`, if any and not already done (or cancelled).
fn resolve(py: Python<'_>, slot: &RefCell<Option<PyObject>>) -> PyResult<()> {
    let waiter = slot.borrow_mut().take();
    if let Some(fut) = waiter {
        let fut = fut.bind(py);
        if !fut.call_method0(intern!(py, "done"))?.is_truthy()? {
            fut.call_method1(intern!(py, "set_result"), (py.None(),))?;
        }
    }
    Ok(())
}

/// 1xx, 204 and 304 responses never carry a body.
fn status_has_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

#[pymethods]
impl HttpProtocol {
    fn connection_made(slf: &Bound<'_, Self>, transport: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let this = slf.borrow();
        *this.write.borrow_mut() = Some(transport.getattr(intern!(py, "write"))?.unbind());
        let info = |key: &str| -> PyResult<Option<PyObject>> {
            let v = transport.call_method1(intern!(py, "get_extra_info"), (key,))?;
            if v.is_none() {
                return Ok(None);
            }
            // IPv6 addresses come as 4-tuples; requests show (host, port).
            let host = v.get_item(0)?;
            let port = v.get_item(1)?;
            Ok(Some((host, port).into_py_any(py)?))
        };
        *this.client.borrow_mut() = info("peername").unwrap_or(None);
        *this.sockname.borrow_mut() = info("sockname").unwrap_or(None);
        let ssl = transport.call_method1(intern!(py, "get_extra_info"), ("sslcontext",));
        this.tls.set(ssl.is_ok_and(|v| !v.is_none()));
        *this.transport.borrow_mut() = Some(transport.clone().unbind());
        this.last_active.set(Instant::now());
        let slot = this.server.bind(py).borrow().register(slf.clone().unbind());
        this.slot.set(Some(slot));
        Ok(())
    }

    fn data_received(slf: &Bound<'_, Self>, data: &[u8]) -> PyResult<()> {
        let py = slf.py();
        {
            let this = slf.borrow();
            if this.closed.get() {
                return Ok(());
            }
            if let Some(ws) = this.ws(py) {
                return ws.bind(py).borrow().data_received(py, data);
            }
            this.conn.borrow_mut().feed(data);
            let now = Instant::now();
            this.last_active.set(now);
            if this.conn.borrow().in_body() {
                // A body that keeps arriving is progress: the timeout then bounds silence,
                // not the length of an upload.
                this.partial_since.set(Some(now));
            }
            if this.busy.get() && this.body_stream.borrow().is_none() {
                if this.conn.borrow().buffered() > MAX_PIPELINE_BUFFER && !this.read_paused.get() {
                    this.read_paused.set(true);
                    this.transport_call(py, intern!(py, "pause_reading"))?;
                }
                return Ok(());
            }
        }
        Self::process(slf)
    }

    fn eof_received(&self, py: Python<'_>) -> PyResult<bool> {
        if self.ws.borrow().is_some() {
            return Ok(false); // the peer is gone: close, and the handler hears 1006
        }
        self.eof.set(true);
        self.keep_alive.set(false);
        resolve(py, &self.disconnect_waiter)?;
        // Keep the transport open while a response is still owed.
        Ok(self.busy.get())
    }

    fn connection_lost(&self, py: Python<'_>, _exc: Option<PyObject>) -> PyResult<()> {
        self.closed.set(true);
        if let Some(slot) = self.slot.take() {
            self.server.bind(py).borrow().unregister(slot);
        }
        *self.write.borrow_mut() = None;
        *self.transport.borrow_mut() = None;
        if let Some(ws) = self.ws(py) {
            ws.bind(py).borrow().connection_lost(py)?;
        }
        let stream = self.body_stream.borrow_mut().take();
        if let Some(stream) = stream {
            stream
                .bind(py)
                .borrow()
                .fail(py, 400, "The client disconnected")?;
        }
        resolve(py, &self.disconnect_waiter)?;
        self.wake_drain(py)
    }

    fn pause_writing(&self, py: Python<'_>) {
        self.write_paused.set(true);
        if let Some(ws) = self.ws(py) {
            ws.bind(py).borrow().pause_writing();
        }
    }

    fn resume_writing(&self, py: Python<'_>) -> PyResult<()> {
        self.write_paused.set(false);
        if let Some(ws) = self.ws(py) {
            ws.bind(py).borrow().resume_writing(py)?;
        }
        self.wake_drain(py)
    }

    /// True once the client is gone (streams stop producing).
    #[getter]
    fn closed(&self) -> bool {
        self.closed.get()
    }

    /// True while the transport's write buffer is over its high-water mark.
    #[getter]
    fn write_paused(&self) -> bool {
        self.write_paused.get()
    }

    #[getter]
    fn head_only(&self) -> bool {
        self.head_only.get()
    }

    /// A future resolved when writing may go on (or the connection is lost).
    fn set_drain_waiter(&self, py: Python<'_>, fut: PyObject) -> PyResult<()> {
        *self.drain_waiter.borrow_mut() = Some(fut);
        if !self.write_paused.get() || self.closed.get() {
            self.wake_drain(py)?;
        }
        Ok(())
    }

    fn wake_drain(&self, py: Python<'_>) -> PyResult<()> {
        resolve(py, &self.drain_waiter)
    }

    /// A future resolved once the client has stopped sending (end of input) or is gone, or the
    /// server shuts down: a long-lived response such as server-sent events awaits it to stop.
    fn set_disconnect_waiter(&self, py: Python<'_>, fut: PyObject) -> PyResult<()> {
        *self.disconnect_waiter.borrow_mut() = Some(fut);
        let shutting_down = self.server.bind(py).borrow().shutting_down.get();
        if self.closed.get() || self.eof.get() || shutting_down {
            resolve(py, &self.disconnect_waiter)?;
        }
        Ok(())
    }

    /// Writes a complete (non-streaming) `Response`.
    fn send_response(&self, py: Python<'_>, response: &Bound<'_, PyAny>) -> PyResult<()> {
        if self.closed.get() {
            return Ok(());
        }
        self.write_response_obj(py, response)
    }

    /// Starts a streamed response: chunked, or raw when `content_length` is known.
    #[pyo3(signature = (response, content_length=None))]
    fn start_stream(
        &self,
        py: Python<'_>,
        response: &Bound<'_, PyAny>,
        content_length: Option<usize>,
    ) -> PyResult<()> {
        if self.closed.get() {
            return Ok(());
        }
        let status = self.write_head_from(py, response, content_length)?;
        self.streaming
            .set(content_length.is_none() && status_has_body(status));
        self.log_access(py, status)?;
        self.flush(py)
    }

    fn write_chunk(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        if self.closed.get() || self.head_only.get() || data.is_empty() {
            return Ok(());
        }
        {
            let out = &mut *self.out.borrow_mut();
            if self.streaming.get() {
                response::write_chunk(out, data);
            } else {
                out.extend_from_slice(data);
            }
        }
        self.flush(py)
    }

    fn end_stream(&self, py: Python<'_>) -> PyResult<()> {
        if self.closed.get() || self.head_only.get() || !self.streaming.get() {
            return Ok(());
        }
        response::write_last_chunk(&mut self.out.borrow_mut());
        self.flush(py)
    }

    /// Python has answered the request: serve the next pipelined one, if any.
    fn request_done(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        {
            let this = slf.borrow();
            if !this.busy.get() {
                return Ok(());
            }
            this.finish(py)?;
        }
        Self::process(slf)
    }

    /// Ends the connection after the current response, e.g. after a failed stream.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        self.keep_alive.set(false);
        self.close(py)
    }
}

/// The UTF-8 bytes of an exact `str` (None for anything else, or text with lone surrogates,
/// which the response class turns into its own error).
fn exact_str<'a>(value: &'a Bound<'_, PyAny>) -> Option<&'a [u8]> {
    let s = value.downcast_exact::<pyo3::types::PyString>().ok()?;
    s.to_str().ok().map(str::as_bytes)
}
