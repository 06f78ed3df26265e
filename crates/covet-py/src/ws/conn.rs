//! `WsConnection`: one upgraded connection, as the handler and the loop see it.
//!
//! Everything the WebSocket protocol decides (states, the handshake's answer, the receive
//! queue and its budgets, pings, close deadlines, the slow-consumer policy) is the engine's
//! `Session`. This object only moves things between it and Python: socket callbacks (forwarded
//! by the `HttpProtocol` the upgrade came through) and handler calls go in; the session's
//! actions come out and are done here: bytes written (see `io`), reading paused or resumed,
//! the socket closed, the handler's waiters woken, the handshake logged.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use covet_engine::http::response::InvalidHeader;
use covet_engine::ws::handshake::Offer;
use covet_engine::ws::session::{AcceptError, Action, Received, Sent, Session};
use covet_engine::ws::WsLimits;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use pyo3::{intern, IntoPyObjectExt};

use super::io::Socket;
use crate::gil::G;

/// What `send` tells Python.
const SENT: u8 = 0;
const MUST_DRAIN: u8 = 1;
const NOT_SENT: u8 = 2;

/// Frozen (every field is a cell already): no borrow flag, and `Bound::get` for the flush.
#[pyclass(module = "covet._engine", frozen)]
pub struct WsConnection {
    session: G<RefCell<Session>>,
    socket: Socket,
    waiter: G<RefCell<Option<PyObject>>>,
    drain_waiter: G<RefCell<Option<PyObject>>>,
    /// The access log, the client and the request target, to log how the handshake ended
    /// (boxed: gone after the handshake, so an open connection keeps one pointer).
    access: G<RefCell<Option<Box<AccessLog>>>>,
}

/// `access_log(client, method, target, version, status)`, with its client and target.
pub type AccessLog = (PyObject, Option<PyObject>, String);

impl WsConnection {
    pub fn new(
        socket: Socket,
        offer: Offer,
        limits: Arc<WsLimits>,
        early: Vec<u8>,
        access: Option<AccessLog>,
    ) -> Self {
        WsConnection {
            session: G(RefCell::new(Session::new(
                offer,
                limits,
                early,
                Instant::now(),
            ))),
            socket,
            waiter: G(RefCell::new(None)),
            drain_waiter: G(RefCell::new(None)),
            access: G(RefCell::new(access.map(Box::new))),
        }
    }

    /// The socket, for the end-of-turn flush.
    pub(super) fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Does what the session asks, in order. The session is not borrowed while an action
    /// runs: a write may call back into this object (`pause_writing`). `me`: this object,
    /// when the caller has it, so its writes wait for the end-of-turn flush (see `io`).
    fn apply(&self, py: Python<'_>, me: Option<&Bound<'_, Self>>) -> PyResult<()> {
        loop {
            let action = self.session.borrow_mut().poll_action();
            let Some(action) = action else {
                return Ok(());
            };
            match action {
                Action::Write(bytes) => self.socket.write(py, &bytes, None, me)?,
                Action::PauseReading => self.socket.call(py, intern!(py, "pause_reading"))?,
                Action::ResumeReading => self.socket.call(py, intern!(py, "resume_reading"))?,
                Action::Close => self.socket.close(py, false)?,
                Action::Abort => self.socket.close(py, true)?,
                Action::WakeReceiver => resolve(py, &self.waiter)?,
                Action::WakeSender => resolve(py, &self.drain_waiter)?,
                Action::Handshake(status) => self.log_handshake(py, status)?,
            }
        }
    }

    /// Runs `f` on the session, then does what it asked.
    fn drive<T>(
        &self,
        py: Python<'_>,
        me: Option<&Bound<'_, Self>>,
        f: impl FnOnce(&mut Session) -> T,
    ) -> PyResult<T> {
        let out = f(&mut self.session.borrow_mut());
        self.apply(py, me)?;
        Ok(out)
    }

    /// Logs how the handshake ended (101 or the refusal), once.
    fn log_handshake(&self, py: Python<'_>, status: u16) -> PyResult<()> {
        let entry = self.access.borrow_mut().take();
        if let Some(entry) = entry {
            let (log, client, target) = *entry;
            log.bind(py).call1((client, "GET", target, "1.1", status))?;
        }
        Ok(())
    }

    /// True when nothing more may be sent (close sent, failed, or gone).
    pub fn is_done(&self) -> bool {
        self.session.borrow().is_done()
    }

    /// Writes one frame shared by many connections (a group's broadcast), under this
    /// connection's slow-consumer policy; false when it was not written (not open, or
    /// dropped as a slow consumer).
    pub fn write_shared(
        me: &Bound<'_, Self>,
        frame: &[u8],
        obj: &Bound<'_, PyBytes>,
    ) -> PyResult<bool> {
        let (py, this) = (me.py(), me.get());
        let admitted = {
            let mut session = this.session.borrow_mut();
            session.is_open() && session.admit(frame.len())
        };
        if admitted {
            this.socket.write(py, frame, Some(obj), Some(me))?;
        }
        if this.session.borrow().has_actions() {
            this.apply(py, Some(me))?;
        }
        Ok(admitted)
    }

    // --- callbacks forwarded by the HTTP protocol -------------------------------------------

    pub fn data_received(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        self.drive(py, None, |s| s.data_received(data, Instant::now()))
    }

    /// The socket is gone. Messages already received still reach the handler, then the
    /// disconnect (1006) when the connection had not closed cleanly.
    pub fn connection_lost(&self, py: Python<'_>) -> PyResult<()> {
        self.socket.lost();
        self.drive(py, None, Session::connection_lost)
    }

    pub fn pause_writing(&self) {
        // Called from inside a write: the session is not borrowed then (see `apply`).
        self.session.borrow_mut().pause_writing();
    }

    pub fn resume_writing(&self, py: Python<'_>) -> PyResult<()> {
        self.drive(py, None, Session::resume_writing)
    }

    /// The server's periodic sweep: pings, ping and close deadlines, the worker's budget.
    pub fn check_timeouts(&self, py: Python<'_>, now: Instant) -> PyResult<()> {
        self.drive(py, None, |s| s.tick(now))
    }

    /// Server shutdown: close with 1001 (a connection still in its handshake is refused).
    pub fn go_away(&self, py: Python<'_>) -> PyResult<()> {
        self.drive(py, None, |s| s.go_away(Instant::now()))
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

fn to_python(py: Python<'_>, received: Received) -> PyResult<PyObject> {
    Ok(match received {
        Received::Text(text) => PyString::new(py, &text).into_any().unbind(),
        Received::Binary(data) => PyBytes::new(py, &data).into_any().unbind(),
        Received::Closed(code, reason) => (code, reason).into_py_any(py)?,
    })
}

#[pymethods]
impl WsConnection {
    /// The subprotocols the client offered, in its order.
    #[getter]
    fn subprotocols(&self) -> Vec<String> {
        self.session.borrow().subprotocols().to_vec()
    }

    /// Answers the handshake with 101 (negotiating compression) and starts reading frames.
    #[pyo3(signature = (subprotocol=None, headers=Vec::new()))]
    fn accept(
        slf: &Bound<'_, Self>,
        subprotocol: Option<&str>,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> PyResult<()> {
        let extra: Vec<(&[u8], &[u8])> = headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        let accept = |s: &mut Session| s.accept(subprotocol, &extra, Instant::now());
        let done = slf.get().drive(slf.py(), Some(slf), accept)?;
        done.map_err(|e| match e {
            AcceptError::AlreadyAccepted => {
                PyRuntimeError::new_err("The WebSocket was already accepted")
            }
            AcceptError::InvalidHeader => PyValueError::new_err(format!(
                "invalid WebSocket handshake header: {}",
                InvalidHeader
            )),
        })
    }

    /// Refuses the handshake with an HTTP status (403 for a close before accept, 500 when
    /// the handler failed or returned without answering).
    #[pyo3(signature = (status, code=1000, reason=""))]
    fn reject(slf: &Bound<'_, Self>, status: u16, code: u16, reason: &str) -> PyResult<()> {
        slf.get()
            .drive(slf.py(), Some(slf), |s| s.reject(status, code, reason))
    }

    /// The next received message: str, bytes, `(code, reason)` once disconnected, or None
    /// when nothing has arrived yet (then wait with `set_waiter`).
    fn receive_nowait(slf: &Bound<'_, Self>) -> PyResult<Option<PyObject>> {
        let py = slf.py();
        let received = slf.get().drive(py, Some(slf), Session::receive)?;
        received.map(|r| to_python(py, r)).transpose()
    }

    /// A future resolved when a message (or the disconnect) is there to receive.
    fn set_waiter(slf: &Bound<'_, Self>, fut: PyObject) -> PyResult<()> {
        let this = slf.get();
        *this.waiter.borrow_mut() = Some(fut);
        this.drive(slf.py(), Some(slf), Session::wait)
    }

    /// Sends a text (str) or binary (bytes-like) message. Returns 0 when written, 1 when
    /// written but the transport is over its high-water mark (await `set_drain_waiter`), 2
    /// when nothing can be sent any more (closed).
    fn send(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<u8> {
        let (py, this) = (slf.py(), slf.get());
        let sent = if let Ok(text) = data.downcast::<PyString>() {
            let text = text.to_str()?;
            this.drive(py, Some(slf), |s| s.send(true, text.as_bytes()))?
        } else {
            let bytes: &[u8] = data.extract()?;
            this.drive(py, Some(slf), |s| s.send(false, bytes))?
        };
        Ok(match sent {
            Sent::Written => SENT,
            Sent::MustDrain => MUST_DRAIN,
            Sent::NotSent => NOT_SENT,
        })
    }

    /// A future resolved when writing may go on (or the connection is gone).
    fn set_drain_waiter(&self, py: Python<'_>, fut: PyObject) -> PyResult<()> {
        *self.drain_waiter.borrow_mut() = Some(fut);
        if !self.session.borrow().must_drain() {
            resolve(py, &self.drain_waiter)?;
        }
        Ok(())
    }

    /// Starts the closing handshake (before accept: refuses with 403).
    #[pyo3(signature = (code=1000, reason=""))]
    fn close(slf: &Bound<'_, Self>, code: u16, reason: &str) -> PyResult<()> {
        let close = |s: &mut Session| s.close(code, reason, Instant::now());
        slf.get().drive(slf.py(), Some(slf), close)
    }

    /// The handler returned (`error`: by raising): refuse an unanswered handshake with 500,
    /// close an open connection with 1000 (1011 after an error).
    fn finish(slf: &Bound<'_, Self>, error: bool) -> PyResult<()> {
        let finish = |s: &mut Session| s.finish(error, Instant::now());
        slf.get().drive(slf.py(), Some(slf), finish)
    }

    /// True once no message can be sent any more.
    #[getter]
    fn closed(&self) -> bool {
        self.is_done()
    }

    /// Whether `permessage-deflate` was negotiated.
    #[getter]
    fn compressed(&self) -> bool {
        self.session.borrow().compressed()
    }
}
