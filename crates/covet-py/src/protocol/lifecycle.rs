//! The life of the connection around its requests: getting ready for the next request once
//! one is answered, acting on the timeouts the engine's connection decides (header, body pace,
//! keep-alive, drain, linger: `covet_engine::timers`), refusing what the parser refused, reading again once Python catches up with a streamed body, the server's drain
//! (responses say `Connection: close`, idle connections get a short grace), giving way at
//! the connection cap, and closing: at once, or lingering after a last response (our side
//! shut, the client's input read and dropped until it closes) so no reset eats the response.

use std::cell::RefCell;
use std::time::Instant;

use covet_engine::http::answer;
use covet_engine::http::error::HttpError;
use covet_engine::http::response;
use covet_engine::limits::BodyPace;
use covet_engine::timers::{Expiry, Phase};
use pyo3::intern;
use pyo3::prelude::*;

use super::server::Server;
use super::HttpProtocol;

impl HttpProtocol {
    pub fn close(&self, py: Python<'_>) -> PyResult<()> {
        if !self.closed.get() || self.lingering.get() {
            self.closed.set(true);
            self.lingering.set(false);
            self.transport_call(py, intern!(py, "close"))?;
        }
        Ok(())
    }

    /// Closes after a last response without letting a reset destroy it: shuts our side
    /// (the response, then FIN), then reads and drops whatever the client still sends until
    /// it closes, or for `LINGER` at most (the sweep ends it then).
    pub(crate) fn close_lingering(&self, py: Python<'_>) -> PyResult<()> {
        if self.closed.get() {
            return Ok(());
        }
        let transport = self.transport.borrow().as_ref().map(|t| t.clone_ref(py));
        let Some(transport) = transport else {
            return self.close(py);
        };
        let transport = transport.bind(py);
        // A transport that cannot half-close (the test client's, say) just closes.
        let can_linger = !self.eof.get()
            && transport
                .call_method0(intern!(py, "can_write_eof"))
                .and_then(|v| v.is_truthy())
                .unwrap_or(false);
        if !can_linger {
            return self.close(py);
        }
        self.closed.set(true);
        self.lingering.set(true);
        self.conn.borrow_mut().timers_mut().rested(Instant::now());
        transport.call_method0(intern!(py, "write_eof"))?;
        if self.read_paused.replace(false) {
            transport.call_method0(intern!(py, "resume_reading"))?;
        }
        Ok(())
    }

    /// Whether this connection may be closed to make room for a new one, and in which order
    /// (the engine's `Timers::evictable`); never while a request is in flight or after an
    /// upgrade.
    pub fn evictable(&self, now: Instant, pace: &BodyPace) -> Option<(u8, Instant)> {
        if !self.lingering.get()
            && (self.closed.get() || self.busy.get() || self.ws.borrow().is_some())
        {
            return None;
        }
        self.conn.borrow().evictable(now, self.phase(), pace)
    }

    /// Closes this connection to make room for a new one (see `evictable`): a slow request
    /// gets its 408 first.
    pub fn evict(&self, py: Python<'_>) -> PyResult<()> {
        if self.lingering.get() {
            return self.close(py);
        }
        let refusal = self.conn.borrow().eviction_refusal();
        match refusal {
            Some(err) => self.refuse(py, &err),
            None => self.close(py),
        }
    }

    fn phase(&self) -> Phase {
        if self.lingering.get() {
            Phase::Lingering
        } else {
            Phase::Reading
        }
    }

    /// The server is shutting down: a response not yet started will say `Connection: close`;
    /// an endless stream waiting on the client (server-sent events) ends now, so its client
    /// reconnects elsewhere. Idle connections are left to the sweep's drain grace.
    pub fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        resolve(py, &self.disconnect_waiter)?;
        if let Some(ws) = self.ws(py) {
            return ws.bind(py).borrow().go_away(py);
        }
        if self.busy.get() && !self.response_started.get() {
            self.keep_alive.set(false);
        }
        Ok(())
    }

    /// Acts on what the connection's timers decide at `now` (called by the server's sweep).
    pub fn check_timeouts(&self, py: Python<'_>, now: Instant, server: &Server) -> PyResult<()> {
        if !self.lingering.get() {
            if let Some(ws) = self.ws(py) {
                return ws.bind(py).borrow().check_timeouts(py, now);
            }
            let streaming = self.body_stream.borrow().is_some();
            if self.closed.get() || (self.busy.get() && !streaming) || self.read_paused.get() {
                return Ok(());
            }
        }
        let expiry =
            self.conn
                .borrow()
                .expired(now, self.phase(), &server.pace, server.shutdown_at.get());
        match expiry {
            Some(Expiry::Refuse(err)) => self.refuse(py, &err),
            Some(Expiry::Close) => self.close(py),
            None => Ok(()),
        }
    }

    /// Over the connection cap with nothing idle to close: answers 503 at once and closes.
    pub(super) fn refuse_over_capacity(&self, py: Python<'_>) -> PyResult<()> {
        self.refuse(py, &answer::AT_CAPACITY)
    }

    /// Answers a request the parser refused, logs it, and closes.
    pub(super) fn refuse(&self, py: Python<'_>, err: &HttpError) -> PyResult<()> {
        self.metrics_refused(covet_engine::metrics::Refusal::Http(err.status));
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
        self.close_lingering(py)
    }

    /// Python has taken enough of a streamed body: read from the socket again.
    pub fn resume_body(&self, py: Python<'_>) -> PyResult<()> {
        if self.read_paused.get() && !self.closed.get() {
            self.read_paused.set(false);
            // The body's pace is measured from here: the wait was ours, not the client's.
            self.conn.borrow_mut().timers_mut().resumed(Instant::now());
            self.transport_call(py, intern!(py, "resume_reading"))?;
        }
        Ok(())
    }

    /// The current request is answered: close or get ready for the next one.
    pub(crate) fn finish(&self, py: Python<'_>) -> PyResult<()> {
        let unread = self.body_stream.borrow_mut().take();
        if let Some(stream) = unread {
            // Answered before its body arrived: the rest is not worth reading.
            let err = answer::ANSWERED_BEFORE_BODY;
            stream.bind(py).borrow().fail(py, err.status, err.detail)?;
            self.keep_alive.set(false);
        }
        self.metrics_end();
        self.busy.set(false);
        self.streaming.set(false);
        *self.disconnect_waiter.borrow_mut() = None;
        self.conn.borrow_mut().timers_mut().rested(Instant::now());
        // While the server drains, a connection whose response promised keep-alive stays
        // open for the drain grace (the sweep), so a request already sent is still answered.
        if !self.keep_alive.get() {
            self.close_lingering(py)?;
        } else if self.read_paused.get() {
            self.read_paused.set(false);
            self.transport_call(py, intern!(py, "resume_reading"))?;
        }
        Ok(())
    }
}

/// Resolves the future held in `slot`, if any and not already done (or cancelled).
pub(super) fn resolve(py: Python<'_>, slot: &RefCell<Option<PyObject>>) -> PyResult<()> {
    let waiter = slot.borrow_mut().take();
    if let Some(fut) = waiter {
        let fut = fut.bind(py);
        if !fut.call_method0(intern!(py, "done"))?.is_truthy()? {
            fut.call_method1(intern!(py, "set_result"), (py.None(),))?;
        }
    }
    Ok(())
}
