//! The life of the connection around its requests: getting ready for the next request once
//! one is answered, the header and keep-alive timeouts, refusing what the parser refused,
//! reading again once Python catches up with a streamed body, and closing (idle at shutdown,
//! or for good).

use std::cell::RefCell;
use std::time::Instant;

use covet_engine::http::error::HttpError;
use covet_engine::http::response;
use covet_engine::limits::Limits;
use pyo3::intern;
use pyo3::prelude::*;

use super::HttpProtocol;

impl HttpProtocol {
    pub fn close(&self, py: Python<'_>) -> PyResult<()> {
        if !self.closed.get() {
            self.closed.set(true);
            self.transport_call(py, intern!(py, "close"))?;
        }
        Ok(())
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
    pub(super) fn refuse(&self, py: Python<'_>, err: &HttpError) -> PyResult<()> {
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

    /// Python has taken enough of a streamed body: read from the socket again.
    pub fn resume_body(&self, py: Python<'_>) -> PyResult<()> {
        if self.read_paused.get() && !self.closed.get() {
            self.read_paused.set(false);
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
