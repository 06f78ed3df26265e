//! Everything Python calls on the protocol: asyncio's protocol callbacks (connection, data,
//! end of input, loss, write flow control), forwarded to the WebSocket after an upgrade; and,
//! for a request handed to Python, the response methods (`send_response`, the stream
//! methods), the drain and disconnect waiters, and `request_done`. This is the class's one
//! `#[pymethods]` block.

use std::time::Instant;

use covet_engine::http::response;
use pyo3::prelude::*;
use pyo3::{intern, IntoPyObjectExt};

use super::lifecycle::resolve;
use super::write::status_has_body;
use super::HttpProtocol;

/// Bytes buffered from a client while a request is in flight before reading is paused.
const MAX_PIPELINE_BUFFER: usize = 256 * 1024;

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
        if !this.tls.get() {
            let fd = transport
                .call_method1(intern!(py, "get_extra_info"), ("socket",))
                .and_then(|s| s.call_method0(intern!(py, "fileno")))
                .and_then(|fd| fd.extract::<i32>());
            this.sock_fd.set(fd.ok().filter(|fd| *fd >= 0));
        }
        *this.transport.borrow_mut() = Some(transport.clone().unbind());
        this.conn.borrow_mut().timers_mut().read(Instant::now(), 0);
        let server = this.server.bind(py).borrow();
        let slot = server.register(slf.clone().unbind());
        this.slot.set(Some(slot));
        if !server.make_room(py, slot)? {
            drop(server);
            this.refuse_over_capacity(py)?;
        }
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
            {
                let mut conn = this.conn.borrow_mut();
                conn.feed(data);
                conn.timers_mut().read(Instant::now(), data.len());
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
        if self.lingering.get() {
            return Ok(false); // the client closed after our last response: close now
        }
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

    /// Writes a `FileResponse`'s engine answer (`covet._engine.file_answer`).
    fn send_static(
        &self,
        py: Python<'_>,
        answer: &Bound<'_, super::static_files::StaticAnswer>,
    ) -> PyResult<()> {
        if self.closed.get() {
            return Ok(());
        }
        answer.get().send(self, py)
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
