//! The life of the connection around its requests: getting ready for the next request once
//! one is answered, the header, body-pace and keep-alive timeouts, refusing what the parser
//! refused, reading again once Python catches up with a streamed body, the server's drain
//! (responses say `Connection: close`, idle connections get a short grace), giving way at
//! the connection cap, and closing: at once, or lingering after a last response (our side
//! shut, the client's input read and dropped until it closes) so no reset eats the response.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use covet_engine::http::error::HttpError;
use covet_engine::http::response;
use covet_engine::limits::BodyPace;
use pyo3::intern;
use pyo3::prelude::*;

use super::HttpProtocol;
use crate::server::Server;

/// How long a closing connection keeps reading (and dropping) what the client still sends
/// after our last response, waiting for it to close first.
const LINGER: Duration = Duration::from_secs(2);
/// While the server drains, how long an idle keep-alive connection stays open for a request
/// that may already be on its way (capped by the keep-alive timeout).
const DRAIN_IDLE_GRACE: Duration = Duration::from_secs(1);
/// A head still arriving after this long may be cut off to make room for a new connection.
const SLOW_HEAD: Duration = Duration::from_secs(1);

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
        self.last_active.set(Instant::now());
        transport.call_method0(intern!(py, "write_eof"))?;
        if self.read_paused.replace(false) {
            transport.call_method0(intern!(py, "resume_reading"))?;
        }
        Ok(())
    }

    /// Whether this connection may be closed to make room for a new one, and in which order
    /// (lowest first, then oldest): 0 closing (already answered), 1 idle keep-alive, 2 a
    /// request arriving slowly: a head for over a second, a body behind the minimum rate.
    pub fn evictable(&self, now: Instant, pace: &BodyPace) -> Option<(u8, Instant)> {
        if self.lingering.get() {
            return Some((0, self.last_active.get()));
        }
        if self.closed.get() || self.busy.get() || self.ws.borrow().is_some() {
            return None;
        }
        if let Some(start) = self.body_since.get() {
            let behind = pace.behind(now.duration_since(start), self.body_bytes.get());
            return behind.then_some((2, start));
        }
        match self.partial_since.get() {
            Some(start) if now.duration_since(start) > SLOW_HEAD => Some((2, start)),
            Some(_) => None,
            None => Some((1, self.last_active.get())),
        }
    }

    /// Closes this connection to make room for a new one (see `evictable`): a slow request
    /// gets its 408 first.
    pub fn evict(&self, py: Python<'_>) -> PyResult<()> {
        if self.lingering.get() {
            return self.close(py);
        }
        let detail = match (self.body_since.get(), self.partial_since.get()) {
            (Some(_), _) => "Request body too slow",
            (None, Some(_)) => "Request timed out",
            (None, None) => return self.close(py),
        };
        self.refuse(
            py,
            &HttpError {
                status: 408,
                detail,
            },
        )
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

    pub fn check_timeouts(&self, py: Python<'_>, now: Instant, server: &Server) -> PyResult<()> {
        if self.lingering.get() {
            if now.duration_since(self.last_active.get()) > LINGER {
                self.close(py)?;
            }
            return Ok(());
        }
        if let Some(ws) = self.ws(py) {
            return ws.bind(py).borrow().check_timeouts(py, now);
        }
        let streaming = self.body_stream.borrow().is_some();
        if self.closed.get() || (self.busy.get() && !streaming) || self.read_paused.get() {
            return Ok(());
        }
        let limits = &server.limits;
        if let Some(start) = self.body_since.get() {
            let silence = now.duration_since(self.last_active.get());
            let elapsed = now.duration_since(start);
            if server
                .pace
                .too_slow(elapsed, silence, self.body_bytes.get())
            {
                let err = HttpError {
                    status: 408,
                    detail: "Request body too slow",
                };
                self.refuse(py, &err)?;
            }
        } else if let Some(since) = self.partial_since.get() {
            if now.duration_since(since) > limits.header_timeout {
                let err = HttpError {
                    status: 408,
                    detail: "Request timed out",
                };
                self.refuse(py, &err)?;
            }
        } else {
            let mut since = self.last_active.get();
            let mut limit = limits.keepalive_timeout;
            if let Some(at) = server.shutdown_at.get() {
                since = since.max(at);
                limit = limit.min(DRAIN_IDLE_GRACE);
            }
            if now.duration_since(since) > limit {
                self.close(py)?;
            }
        }
        Ok(())
    }

    /// Over the connection cap with nothing idle to close: answers 503 at once and closes.
    pub(super) fn refuse_over_capacity(&self, py: Python<'_>) -> PyResult<()> {
        let err = HttpError {
            status: 503,
            detail: "Server at its connection limit",
        };
        self.refuse(py, &err)
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
            let now = Instant::now();
            self.last_active.set(now);
            if self.body_since.get().is_some() {
                self.body_since.set(Some(now));
                self.body_bytes.set(0);
            }
            self.transport_call(py, intern!(py, "resume_reading"))?;
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
        self.metrics_end();
        self.busy.set(false);
        self.streaming.set(false);
        *self.disconnect_waiter.borrow_mut() = None;
        self.last_active.set(Instant::now());
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
