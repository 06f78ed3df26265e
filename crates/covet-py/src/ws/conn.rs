//! `WsConnection`: one upgraded connection, driven by the HTTP protocol object it came from.
//!
//! The `HttpProtocol` that parsed the upgrade request keeps receiving the socket's callbacks
//! and forwards them here: bytes go through the engine's frame codec, complete messages are
//! queued for the handler, pings are answered, and the handler's sends are framed and written.
//! Nothing is buffered per idle connection: the codec frees its buffers between messages and
//! the queue is empty.
//!
//! The queue is bounded in decompressed bytes, per connection and per worker (see
//! `covet_engine::ws::budget`): a message is only decoded (inflated) while there is room, and
//! reading from the socket pauses while there is none, so unread compressed frames wait as the
//! few bytes they are on the wire. A handler waiting on an empty queue always gets its next
//! message. A connection paused by the worker's budget resumes when its handler receives, or
//! at the server's next sweep once the budget has room.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use covet_engine::http::response;
use covet_engine::ws::budget::{QueueAccount, Room};
use covet_engine::ws::codec::{Codec, Message, Role};
use covet_engine::ws::handshake::{self, Offer};
use covet_engine::ws::{close, deflate, WsLimits};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use pyo3::{intern, IntoPyObjectExt};

use crate::gil::G;

/// Handshake not answered yet.
const CONNECTING: u8 = 0;
/// Accepted; messages flow both ways.
const OPEN: u8 = 1;
/// This end sent its close frame and waits for the peer's.
const CLOSING: u8 = 2;
/// Done: the close handshake completed, or the connection failed or dropped.
const CLOSED: u8 = 3;

/// How long the client may take to answer a close when ping timeouts are off.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// What `send` tells Python.
const SENT: u8 = 0;
const MUST_DRAIN: u8 = 1;
const NOT_SENT: u8 = 2;

enum Incoming {
    /// A message and its size in bytes (decompressed), as charged to the queue account.
    Message(PyObject, usize),
    Closed(u16, String),
}

#[pyclass(module = "covet._engine")]
pub struct WsConnection {
    transport: G<RefCell<Option<PyObject>>>,
    write: G<RefCell<Option<PyObject>>>,
    codec: G<RefCell<Codec>>,
    /// The handshake, until it is answered.
    offer: G<RefCell<Option<Box<Offer>>>>,
    /// Bytes that came with the upgrade request, fed to the codec on accept.
    early: G<RefCell<Vec<u8>>>,
    state: G<Cell<u8>>,
    queue: G<RefCell<VecDeque<Incoming>>>,
    /// The queue's bytes, against this connection's and the worker's budgets.
    account: G<RefCell<QueueAccount>>,
    /// The disconnect is in the queue: nothing after it is decoded.
    close_queued: G<Cell<bool>>,
    /// The handler has returned: messages are no longer queued.
    finished: G<Cell<bool>>,
    /// Set once the handler has been given the disconnect.
    final_close: G<RefCell<Option<(u16, String)>>>,
    waiter: G<RefCell<Option<PyObject>>>,
    drain_waiter: G<RefCell<Option<PyObject>>>,
    read_paused: G<Cell<bool>>,
    write_paused: G<Cell<bool>>,
    /// Bytes written while the transport was over its high-water mark.
    paused_bytes: G<Cell<usize>>,
    last_seen: G<Cell<Instant>>,
    ping_sent: G<Cell<Option<Instant>>>,
    close_started: G<Cell<Option<Instant>>>,
    lost: G<Cell<bool>>,
    limits: WsLimits,
    /// The access log, the client and the request target, to log how the handshake ended.
    access: G<RefCell<Option<AccessLog>>>,
}

/// `access_log(client, method, target, version, status)`, with its client and target.
pub type AccessLog = (PyObject, Option<PyObject>, String);

impl WsConnection {
    pub fn new(
        transport: Option<PyObject>,
        write: Option<PyObject>,
        offer: Offer,
        limits: WsLimits,
        early: Vec<u8>,
        access: Option<AccessLog>,
    ) -> Self {
        WsConnection {
            transport: G(RefCell::new(transport)),
            write: G(RefCell::new(write)),
            codec: G(RefCell::new(Codec::new(
                Role::Server,
                limits.max_message,
                false,
            ))),
            offer: G(RefCell::new(Some(Box::new(offer)))),
            early: G(RefCell::new(early)),
            state: G(Cell::new(CONNECTING)),
            queue: G(RefCell::new(VecDeque::new())),
            account: G(RefCell::new(QueueAccount::new(
                limits.max_queue,
                limits.max_queue_bytes,
                limits.process_queue.clone(),
            ))),
            close_queued: G(Cell::new(false)),
            finished: G(Cell::new(false)),
            final_close: G(RefCell::new(None)),
            waiter: G(RefCell::new(None)),
            drain_waiter: G(RefCell::new(None)),
            read_paused: G(Cell::new(false)),
            write_paused: G(Cell::new(false)),
            paused_bytes: G(Cell::new(0)),
            last_seen: G(Cell::new(Instant::now())),
            ping_sent: G(Cell::new(None)),
            close_started: G(Cell::new(None)),
            lost: G(Cell::new(false)),
            limits,
            access: G(RefCell::new(access)),
        }
    }

    /// Logs how the handshake ended (101 or the refusal), once.
    fn log_handshake(&self, py: Python<'_>, status: u16) -> PyResult<()> {
        let entry = self.access.borrow_mut().take();
        if let Some((log, client, target)) = entry {
            log.bind(py).call1((client, "GET", target, "1.1", status))?;
        }
        Ok(())
    }

    fn transport_call(&self, py: Python<'_>, method: &Bound<'_, PyString>) -> PyResult<()> {
        let transport = self.transport.borrow().as_ref().map(|t| t.clone_ref(py));
        if let Some(t) = transport {
            t.bind(py).call_method0(method)?;
        }
        Ok(())
    }

    /// Writes bytes; a client that does not read past `max_send_buffer` is dropped.
    pub fn write_bytes(&self, py: Python<'_>, bytes: &Bound<'_, PyBytes>) -> PyResult<()> {
        if self.lost.get() {
            return Ok(());
        }
        if self.write_paused.get() {
            let total = self.paused_bytes.get() + bytes.as_bytes().len();
            self.paused_bytes.set(total);
            if total > self.limits.max_send_buffer {
                return self.drop_slow_consumer(py);
            }
        }
        let write = self.write.borrow().as_ref().map(|w| w.clone_ref(py));
        if let Some(write) = write {
            write.bind(py).call1((bytes,))?;
        }
        Ok(())
    }

    fn write_vec(&self, py: Python<'_>, out: &[u8]) -> PyResult<()> {
        if out.is_empty() {
            return Ok(());
        }
        self.write_bytes(py, &PyBytes::new(py, out))
    }

    /// The slow-consumer policy: stop writing, drop the connection at once (freeing what the
    /// transport buffered), and tell the handler 1008.
    fn drop_slow_consumer(&self, py: Python<'_>) -> PyResult<()> {
        self.state.set(CLOSED);
        self.push_closed(
            py,
            close::POLICY_VIOLATION,
            "Slow consumer: send buffer limit exceeded",
        )?;
        self.lose(py, "abort")
    }

    fn lose(&self, py: Python<'_>, how: &str) -> PyResult<()> {
        if !self.lost.get() {
            self.lost.set(true);
            self.transport_call(py, &PyString::new(py, how))?;
        }
        Ok(())
    }

    /// True when nothing more may be sent (close sent, failed, or gone).
    pub fn is_done(&self) -> bool {
        self.state.get() >= CLOSING || self.lost.get()
    }

    /// True when messages may be sent: accepted, not closing, not gone.
    pub fn is_open(&self) -> bool {
        self.state.get() == OPEN && !self.lost.get()
    }

    fn push_closed(&self, py: Python<'_>, code: u16, reason: &str) -> PyResult<()> {
        if !self.close_queued.replace(true) {
            self.queue
                .borrow_mut()
                .push_back(Incoming::Closed(code, reason.to_owned()));
        }
        self.wake(py)
    }

    fn wake(&self, py: Python<'_>) -> PyResult<()> {
        let waiter = self.waiter.borrow_mut().take();
        if let Some(fut) = waiter {
            resolve(py, &fut)?;
        }
        Ok(())
    }

    fn wake_drain(&self, py: Python<'_>) -> PyResult<()> {
        let waiter = self.drain_waiter.borrow_mut().take();
        if let Some(fut) = waiter {
            resolve(py, &fut)?;
        }
        Ok(())
    }

    /// Runs the codec over what was received, while the queue has room: queue messages, write
    /// replies, then pause or resume reading. `asking`: the handler is asking for a message
    /// now (as when it waits for one). Once the connection is lost and the codec has no
    /// whole message left, the disconnect is queued.
    fn process(&self, py: Python<'_>, asking: bool) -> PyResult<()> {
        let mut out = Vec::new();
        loop {
            let waiting = asking || self.waiter.borrow().is_some();
            if self.close_queued.get() || self.account.borrow().room(waiting) != Room::Open {
                break;
            }
            let next = self.codec.borrow_mut().next(&mut out);
            match next {
                Ok(None) => {
                    if self.lost.get() {
                        self.push_closed(py, close::ABNORMAL, "")?;
                    }
                    break;
                }
                Ok(Some(Message::Text(text))) => {
                    self.push(PyString::new(py, &text).into_any(), text.len())
                }
                Ok(Some(Message::Binary(data))) => {
                    self.push(PyBytes::new(py, &data).into_any(), data.len())
                }
                Ok(Some(Message::Ping(_))) => {}
                Ok(Some(Message::Pong(_))) => self.ping_sent.set(None),
                Ok(Some(Message::Close(code, reason))) => {
                    // Echoed by the codec unless this end closed first; then the server
                    // closes the TCP connection (RFC 6455 section 7.1.1).
                    self.write_vec(py, &out)?;
                    out.clear();
                    self.state.set(CLOSED);
                    self.push_closed(py, code, &reason)?;
                    return self.lose(py, "close");
                }
                Err(err) => {
                    self.write_vec(py, &out)?;
                    self.state.set(CLOSED);
                    self.push_closed(py, err.code, err.reason)?;
                    return self.lose(py, "close");
                }
            }
        }
        self.write_vec(py, &out)?;
        if !self.queue.borrow().is_empty() {
            self.wake(py)?;
        }
        self.flow(py, asking)
    }

    /// Pauses reading from the socket while the queue has no room, resumes it once it has
    /// (`asking`: the handler is asking for a message now).
    fn flow(&self, py: Python<'_>, asking: bool) -> PyResult<()> {
        if self.lost.get() || self.state.get() == CONNECTING {
            return Ok(());
        }
        let waiting = asking || self.waiter.borrow().is_some();
        let open = self.account.borrow().room(waiting) == Room::Open;
        if open == self.read_paused.get() {
            self.read_paused.set(!open);
            let method = if open {
                intern!(py, "resume_reading")
            } else {
                intern!(py, "pause_reading")
            };
            self.transport_call(py, method)?;
        }
        Ok(())
    }

    /// The handler has returned: frees what it left unread; later messages are dropped.
    fn discard_unread(&self) {
        self.finished.set(true);
        let mut account = self.account.borrow_mut();
        self.queue.borrow_mut().retain(|item| match item {
            Incoming::Message(_, size) => {
                account.pop(*size);
                false
            }
            Incoming::Closed(..) => true,
        });
    }

    fn push(&self, value: Bound<'_, PyAny>, size: usize) {
        if self.finished.get() {
            return;
        }
        self.account.borrow_mut().push(size);
        self.queue
            .borrow_mut()
            .push_back(Incoming::Message(value.unbind(), size));
    }

    // --- callbacks forwarded by the HTTP protocol -------------------------------------------

    pub fn data_received(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        // Any bytes from the client are a sign of life, as good as a pong.
        self.last_seen.set(Instant::now());
        self.ping_sent.set(None);
        if self.state.get() == CONNECTING {
            // A client must wait for the 101; keep what came early (bounded) until then.
            let mut early = self.early.borrow_mut();
            if early.len() + data.len() > self.limits.max_message {
                drop(early);
                return self.lose(py, "abort");
            }
            early.extend_from_slice(data);
            return Ok(());
        }
        if self.state.get() == CLOSED {
            return Ok(());
        }
        self.codec.borrow_mut().feed(data);
        self.process(py, false)
    }

    /// The socket is gone. Messages already received still reach the handler, then the
    /// disconnect (1006) when the connection had not closed cleanly.
    pub fn connection_lost(&self, py: Python<'_>) -> PyResult<()> {
        self.lost.set(true);
        *self.write.borrow_mut() = None;
        *self.transport.borrow_mut() = None;
        let open = self.state.replace(CLOSED) != CONNECTING;
        if open {
            self.process(py, false)?;
        } else {
            self.push_closed(py, close::ABNORMAL, "")?;
        }
        self.wake_drain(py)
    }

    pub fn pause_writing(&self) {
        self.write_paused.set(true);
        self.paused_bytes.set(0);
    }

    pub fn resume_writing(&self, py: Python<'_>) -> PyResult<()> {
        self.write_paused.set(false);
        self.paused_bytes.set(0);
        self.wake_drain(py)
    }

    /// Pings an idle client, drops one that does not answer, ends a close handshake the
    /// client never completes. Called by the server's periodic sweep.
    pub fn check_timeouts(&self, py: Python<'_>, now: Instant) -> PyResult<()> {
        if self.read_paused.get() {
            // Paused by the worker's budget, which other connections may have freed since.
            self.process(py, false)?;
        }
        let limits = &self.limits;
        match self.state.get() {
            OPEN => {
                if let Some(sent) = self.ping_sent.get() {
                    if !limits.ping_timeout.is_zero()
                        && now.duration_since(sent) > limits.ping_timeout
                    {
                        let mut out = Vec::new();
                        self.codec.borrow_mut().write_close(
                            &mut out,
                            close::INTERNAL_ERROR,
                            "Keepalive ping timeout",
                        );
                        self.write_vec(py, &out)?;
                        self.state.set(CLOSED);
                        self.push_closed(py, close::ABNORMAL, "Keepalive ping timeout")?;
                        return self.lose(py, "close");
                    }
                } else if !limits.ping_interval.is_zero()
                    && now.duration_since(self.last_seen.get()) > limits.ping_interval
                {
                    let mut out = Vec::new();
                    if self.codec.borrow_mut().write_ping(&mut out, b"covet") {
                        self.ping_sent.set(Some(now));
                        self.write_vec(py, &out)?;
                    }
                }
            }
            CLOSING => {
                let started = self.close_started.get().unwrap_or(now);
                let wait = if limits.ping_timeout.is_zero() {
                    CLOSE_TIMEOUT
                } else {
                    limits.ping_timeout
                };
                if now.duration_since(started) > wait {
                    self.state.set(CLOSED);
                    return self.lose(py, "abort");
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Server shutdown: close with 1001 (a connection still in its handshake is refused).
    pub fn go_away(&self, py: Python<'_>) -> PyResult<()> {
        match self.state.get() {
            CONNECTING => self.reject_with(py, 503, close::GOING_AWAY, "Server shutting down"),
            OPEN => self.start_close(py, close::GOING_AWAY, "Server shutting down"),
            _ => Ok(()),
        }
    }

    fn start_close(&self, py: Python<'_>, code: u16, reason: &str) -> PyResult<()> {
        let mut out = Vec::new();
        if self.codec.borrow_mut().write_close(&mut out, code, reason) {
            self.state.set(CLOSING);
            self.close_started.set(Some(Instant::now()));
            self.write_vec(py, &out)?;
        }
        Ok(())
    }

    /// Answers the handshake with an HTTP error instead of 101. The body names the close
    /// code the handler asked for, for people (and the TestClient) looking at the refusal.
    fn reject_with(&self, py: Python<'_>, status: u16, code: u16, reason: &str) -> PyResult<()> {
        if self.state.get() != CONNECTING {
            return Ok(());
        }
        self.state.set(CLOSED);
        *self.offer.borrow_mut() = None;
        let body = format!("WebSocket closed before the handshake (code {code}): {reason}");
        let mut out = Vec::new();
        response::write_status_line(&mut out, status);
        out.extend_from_slice(b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n");
        out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body.as_bytes());
        self.log_handshake(py, status)?;
        self.write_vec(py, &out)?;
        self.push_closed(py, close::ABNORMAL, "")?;
        self.lose(py, "close")
    }
}

fn resolve(py: Python<'_>, fut: &PyObject) -> PyResult<()> {
    let fut = fut.bind(py);
    if !fut.call_method0(intern!(py, "done"))?.is_truthy()? {
        fut.call_method1(intern!(py, "set_result"), (py.None(),))?;
    }
    Ok(())
}

#[pymethods]
impl WsConnection {
    /// The subprotocols the client offered, in its order.
    #[getter]
    fn subprotocols(&self) -> Vec<String> {
        self.offer
            .borrow()
            .as_ref()
            .map(|o| o.subprotocols.clone())
            .unwrap_or_default()
    }

    /// Answers the handshake with 101 (negotiating compression) and starts reading frames.
    #[pyo3(signature = (subprotocol=None, headers=Vec::new()))]
    fn accept(
        &self,
        py: Python<'_>,
        subprotocol: Option<&str>,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> PyResult<()> {
        match self.state.get() {
            CONNECTING => {}
            // The client left before the answer: the handler's next receive says so.
            CLOSED => return Ok(()),
            _ => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "The WebSocket was already accepted",
                ))
            }
        }
        let Some(offer) = self.offer.borrow_mut().take() else {
            return Ok(());
        };
        let extension = if self.limits.deflate {
            deflate::negotiate(&offer.extensions)
        } else {
            None
        };
        let extra: Vec<(&[u8], &[u8])> = headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        let mut out = Vec::new();
        handshake::write_accept(&mut out, &offer.key, subprotocol, extension, &extra).map_err(
            |e| PyValueError::new_err(format!("invalid WebSocket handshake header: {e}")),
        )?;
        *self.codec.borrow_mut() =
            Codec::new(Role::Server, self.limits.max_message, extension.is_some());
        self.state.set(OPEN);
        self.last_seen.set(Instant::now());
        self.log_handshake(py, 101)?;
        self.write_vec(py, &out)?;
        let early = std::mem::take(&mut *self.early.borrow_mut());
        if !early.is_empty() {
            self.codec.borrow_mut().feed(&early);
            self.process(py, false)?;
        }
        Ok(())
    }

    /// Refuses the handshake with an HTTP status (403 for a close before accept, 500 when
    /// the handler failed or returned without answering).
    #[pyo3(signature = (status, code=1000, reason=""))]
    fn reject(&self, py: Python<'_>, status: u16, code: u16, reason: &str) -> PyResult<()> {
        self.reject_with(py, status, code, reason)
    }

    /// The next received message: str, bytes, `(code, reason)` once disconnected, or None
    /// when nothing has arrived yet (then wait with `set_waiter`).
    fn receive_nowait(&self, py: Python<'_>) -> PyResult<Option<PyObject>> {
        if let Some((code, reason)) = self.final_close.borrow().as_ref() {
            return Ok(Some((*code, reason.clone()).into_py_any(py)?));
        }
        if self.queue.borrow().is_empty() {
            // The handler asks: it gets a message even when the worker's budget is used up.
            self.process(py, true)?;
        }
        let item = self.queue.borrow_mut().pop_front();
        if let Some(Incoming::Message(_, size)) = &item {
            self.account.borrow_mut().pop(*size);
            // Room again: decode what waits in the codec, resume reading.
            self.process(py, false)?;
        }
        match item {
            None => Ok(None),
            Some(Incoming::Message(obj, _)) => Ok(Some(obj)),
            Some(Incoming::Closed(code, reason)) => {
                let value = (code, reason.clone()).into_py_any(py)?;
                *self.final_close.borrow_mut() = Some((code, reason));
                Ok(Some(value))
            }
        }
    }

    /// A future resolved when a message (or the disconnect) is there to receive.
    fn set_waiter(&self, py: Python<'_>, fut: PyObject) -> PyResult<()> {
        let ready = !self.queue.borrow().is_empty() || self.final_close.borrow().is_some();
        *self.waiter.borrow_mut() = Some(fut);
        if ready {
            self.wake(py)?;
        }
        // A waiting handler gets its next message even over the worker's budget: read it.
        self.flow(py, false)
    }

    /// Sends a text (str) or binary (bytes-like) message. Returns 0 when written, 1 when
    /// written but the transport is over its high-water mark (await `set_drain_waiter`), 2
    /// when nothing can be sent any more (closed).
    fn send(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<u8> {
        if self.is_done() || self.state.get() == CONNECTING {
            return Ok(NOT_SENT);
        }
        let mut out = Vec::new();
        if let Ok(text) = data.downcast::<PyString>() {
            let text = text.to_str()?;
            self.codec
                .borrow_mut()
                .write_message(&mut out, true, text.as_bytes());
        } else {
            let bytes: &[u8] = data.extract()?;
            self.codec
                .borrow_mut()
                .write_message(&mut out, false, bytes);
        }
        self.write_vec(py, &out)?;
        if self.lost.get() {
            return Ok(NOT_SENT);
        }
        Ok(if self.write_paused.get() {
            MUST_DRAIN
        } else {
            SENT
        })
    }

    /// A future resolved when writing may go on (or the connection is gone).
    fn set_drain_waiter(&self, py: Python<'_>, fut: PyObject) -> PyResult<()> {
        *self.drain_waiter.borrow_mut() = Some(fut);
        if !self.write_paused.get() || self.lost.get() {
            self.wake_drain(py)?;
        }
        Ok(())
    }

    /// Starts the closing handshake (before accept: refuses with 403).
    #[pyo3(signature = (code=1000, reason=""))]
    fn close(&self, py: Python<'_>, code: u16, reason: &str) -> PyResult<()> {
        match self.state.get() {
            CONNECTING => self.reject_with(py, 403, code, reason),
            OPEN => self.start_close(py, code, reason),
            _ => Ok(()),
        }
    }

    /// The handler returned (`error`: by raising): refuse an unanswered handshake with 500,
    /// close an open connection with 1000 (1011 after an error).
    /// What the handler left unread is freed and reading goes on (dropping what arrives), so
    /// the client's side of the close handshake is not stuck behind a paused socket.
    fn finish(&self, py: Python<'_>, error: bool) -> PyResult<()> {
        self.discard_unread();
        match self.state.get() {
            CONNECTING => {
                self.reject_with(py, 500, close::INTERNAL_ERROR, "Internal Server Error")?
            }
            OPEN => {
                let code = if error {
                    close::INTERNAL_ERROR
                } else {
                    close::NORMAL
                };
                self.start_close(py, code, "")?;
            }
            _ => {}
        }
        self.process(py, false)
    }

    /// True once no message can be sent any more.
    #[getter]
    fn closed(&self) -> bool {
        self.is_done()
    }

    /// Whether `permessage-deflate` was negotiated.
    #[getter]
    fn compressed(&self) -> bool {
        self.codec.borrow().deflate()
    }
}
