//! Writing responses: a handler's return value (JSON, or a Python `Response` written
//! directly), the engine's own answers (built by `covet_engine::http::answer`), and the head
//! of a streamed response, each into the per-connection output buffer; then the head and the
//! body go to the socket in one system call, and whatever it does not take to the transport.

use covet_engine::http::response::{self, Framing};
use covet_engine::static_files::{zero_copy, Body};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use covet_engine::socket;

use super::HttpProtocol;
use crate::convert::json;

/// Capacity the per-connection output buffer may keep between responses.
const MAX_KEPT_BUFFER: usize = 64 * 1024;
/// Bodies up to this size are copied behind the head (one write); larger ones are written as
/// they are, in a second write.
const COPY_BODY_LIMIT: usize = 16 * 1024;

impl HttpProtocol {
    /// Sends the bytes in `out` (see `send`).
    pub(super) fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.send(py, b"", None)
    }

    /// Sends the bytes in `out`, then `body` (`owner`: the same bytes as a Python object, when
    /// there is one): straight to the socket in one system call while the transport holds
    /// nothing of ours, so the loop's transport stays off the hot path; what the kernel does
    /// not take (a full socket, an error) goes to the transport after them, which buffers it,
    /// applies its flow control and meets the error itself.
    fn send(
        &self,
        py: Python<'_>,
        body: &[u8],
        owner: Option<&Bound<'_, PyBytes>>,
    ) -> PyResult<()> {
        let mut out = self.out.borrow_mut();
        if self.closed.get() {
            out.clear();
            return Ok(());
        }
        self.metrics_bytes(out.len() + body.len());
        let sent = match self.direct_fd(py)? {
            // An error: nothing sent, the transport meets it.
            Some(fd) => socket::send_parts(fd, &[&out, body]).unwrap_or(0),
            None => 0,
        };
        let head = out.len();
        if sent < head + body.len() {
            let rest = socket::rest_of(&[&out, body], sent);
            let (first, second) = match rest.as_slice() {
                [head, body] if body.len() > COPY_BODY_LIMIT => {
                    (PyBytes::new(py, head), Some(*body))
                }
                parts => (PyBytes::new(py, &parts.concat()), None),
            };
            self.through_transport(py, &first)?;
            if let Some(body) = second {
                match owner {
                    // A large body not sent at all goes as the same bytes object (no copy).
                    Some(obj) if sent <= head => self.through_transport(py, obj)?,
                    _ => self.through_transport(py, &PyBytes::new(py, body))?,
                }
            }
        }
        out.clear();
        if out.capacity() > MAX_KEPT_BUFFER {
            // One large response must not pin its size on an idle keep-alive connection.
            out.shrink_to(MAX_KEPT_BUFFER);
        }
        Ok(())
    }

    /// The socket's descriptor when bytes may go to it directly: a plain socket whose
    /// transport is not closing (its descriptor may already be closed, and reused) and holds
    /// no bytes of ours (they would be overtaken).
    fn direct_fd(&self, py: Python<'_>) -> PyResult<Option<i32>> {
        let Some(fd) = self.sock_fd.get() else {
            return Ok(None);
        };
        let transport = self.transport.borrow();
        let Some(transport) = transport.as_ref().map(|t| t.bind(py)) else {
            return Ok(None);
        };
        if transport
            .call_method0(intern!(py, "is_closing"))?
            .is_truthy()?
        {
            return Ok(None);
        }
        if self.queued.get() {
            let size = transport.call_method0(intern!(py, "get_write_buffer_size"))?;
            if size.extract::<usize>()? != 0 {
                return Ok(None);
            }
            self.queued.set(false);
        }
        Ok(Some(fd))
    }

    /// Hands a bytes object to the transport as it is (no copy); the transport may hold it.
    fn through_transport(&self, py: Python<'_>, bytes: &Bound<'_, PyBytes>) -> PyResult<()> {
        let write = self.write.borrow().as_ref().map(|w| w.clone_ref(py));
        if let Some(write) = write {
            self.queued.set(true);
            write.bind(py).call1((bytes,))?;
        }
        Ok(())
    }

    /// Writes a handler's return value. Ok(false): Python must send it (a streaming response,
    /// or one with background work).
    pub(super) fn write_result(
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
        if !status_has_body(status) {
            // A 204 route returning None (FastAPI's usual DELETE): no body and no content type.
            self.write_full(py, status, &[], b"")?;
            return Ok(true);
        }
        json::with_scratch(|body| {
            json::encode(value, Some(default.bind(py)), body)?;
            let headers: &[(&[u8], &[u8])] = &[(b"content-type", b"application/json")];
            self.write_full(py, status, headers, body)
        })?;
        Ok(true)
    }

    pub(crate) fn write_full(
        &self,
        py: Python<'_>,
        status: u16,
        headers: &[(&[u8], &[u8])],
        body: &[u8],
    ) -> PyResult<()> {
        self.write_head(&mut self.out.borrow_mut(), status, headers, body.len());
        self.log_access(py, status)?;
        // Bytes after a bodiless answer would be read as the next response (a desync).
        if self.head_only.get() || !status_has_body(status) {
            return self.flush(py);
        }
        self.send(py, body, None)
    }

    /// Writes a response whose `length`-byte body `fill` produces into the buffer it is given:
    /// behind the head when small, else as its own bytes object after it (no copy through the
    /// output buffer). HEAD and bodiless statuses never call `fill`. Used by static files.
    pub(crate) fn write_filled(
        &self,
        py: Python<'_>,
        status: u16,
        headers: &[(&[u8], &[u8])],
        length: usize,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
    ) -> PyResult<()> {
        let with_body = !self.head_only.get() && status_has_body(status);
        let mut large = None;
        {
            let out = &mut *self.out.borrow_mut();
            let start = self.write_head(out, status, headers, length);
            let filled = if !with_body {
                Ok(())
            } else if length > COPY_BODY_LIMIT {
                PyBytes::new_with(py, length, |buf| fill(buf).map_err(PyErr::from))
                    .map(|body| large = Some(body))
            } else {
                let at = out.len();
                out.resize(at + length, 0);
                fill(&mut out[at..]).map_err(PyErr::from)
            };
            if let Err(e) = filled {
                out.truncate(start);
                return Err(e);
            }
        }
        self.log_access(py, status)?;
        match large {
            Some(body) => self.send(py, body.as_bytes(), Some(&body)),
            None => self.flush(py),
        }
    }

    /// Writes a response whose body is one span of a file: the head, then the file by
    /// `sendfile` straight from the page cache to the socket, when the transport has nothing
    /// queued (so nothing is reordered); what the socket does not take at once goes through
    /// the transport as bytes. Ok(false): not for this response (TLS, HEAD, small, bytes
    /// already in memory, the transport busy), write it with `write_filled`.
    pub(crate) fn write_file(
        &self,
        py: Python<'_>,
        status: u16,
        headers: &[(&[u8], &[u8])],
        body: &mut Body,
    ) -> PyResult<bool> {
        let Some((_, offset, len)) = body.file_span() else {
            return Ok(false);
        };
        let with_body = !self.head_only.get() && status_has_body(status);
        if !with_body || len as usize <= COPY_BODY_LIMIT || self.closed.get() {
            return Ok(false);
        }
        let Some(fd) = self.direct_fd(py)? else {
            return Ok(false);
        };
        let head_sent = {
            let out = &mut *self.out.borrow_mut();
            self.write_head(out, status, headers, len as usize);
            zero_copy::send_now(fd, out, true).map(|n| (n, out.len()))
        };
        self.log_access(py, status)?;
        let Ok((sent, head_len)) = head_sent else {
            return self.drop_connection(py);
        };
        self.metrics_bytes(sent);
        if sent < head_len {
            // The socket is full already: the rest of the head, then the body, as bytes.
            self.out.borrow_mut().drain(..sent);
            self.flush(py)?;
            self.write_rest(py, body, len)?;
            return Ok(true);
        }
        self.out.borrow_mut().clear();
        let sent = match body.file_span() {
            Some((file, _, _)) => zero_copy::sendfile_now(fd, file, offset, len),
            None => Ok(0),
        };
        let sent = match sent {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(e.into()),
            Err(_) => return self.drop_connection(py),
        };
        self.metrics_bytes(sent as usize);
        if sent < len {
            body.advance(sent);
            self.write_rest(py, body, len - sent)?;
        }
        Ok(true)
    }

    /// The next `n` bytes of `body` to the transport, as one bytes object.
    fn write_rest(&self, py: Python<'_>, body: &mut Body, n: u64) -> PyResult<()> {
        let rest = PyBytes::new_with(py, n as usize, |buf| {
            if body.read(buf)? == buf.len() {
                Ok(())
            } else {
                Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into())
            }
        })?;
        self.metrics_bytes(n as usize);
        self.through_transport(py, &rest)
    }

    /// The client went away mid-write (reset, broken pipe): close, as the transport would.
    fn drop_connection(&self, py: Python<'_>) -> PyResult<bool> {
        self.keep_alive.set(false);
        self.close(py)?;
        Ok(true)
    }

    /// Appends a response head with these headers and a known body length (the owed headers,
    /// framing and date added); returns where the head starts in `out`.
    fn write_head(
        &self,
        out: &mut Vec<u8>,
        status: u16,
        headers: &[(&[u8], &[u8])],
        length: usize,
    ) -> usize {
        let start = out.len();
        response::write_status_line(out, status);
        for (n, v) in headers {
            let _ = response::write_header(out, n, v);
        }
        self.owed.write(out, start);
        self.write_request_id(out, false);
        self.finish_head(out, status, Some(length), true);
        start
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
    pub(super) fn write_head_from(
        &self,
        py: Python<'_>,
        resp: &Bound<'_, PyAny>,
        length: Option<usize>,
    ) -> PyResult<u16> {
        let status: u16 = resp.getattr(intern!(py, "status_code"))?.extract()?;
        let headers = resp.getattr(intern!(py, "raw_headers"))?;
        let headers = headers.downcast::<PyList>()?;
        let mut has_date = false;
        let mut has_id = false;
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
            has_id |= self.is_id_header(name);
            if response::write_header(out, name, value).is_err() {
                out.truncate(start);
                return Err(invalid_header(py, name));
            }
        }
        self.owed.write(out, start);
        self.write_request_id(out, has_id);
        self.finish_head(out, status, length, !has_date);
        self.response_started.set(true);
        Ok(status)
    }

    pub(super) fn write_response_obj(
        &self,
        py: Python<'_>,
        resp: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let body = resp.getattr(intern!(py, "body"))?;
        let body = body.downcast::<PyBytes>()?;
        let len = body.as_bytes().len();
        let status = self.write_head_from(py, resp, Some(len))?;
        self.log_access(py, status)?;
        if self.head_only.get() || !status_has_body(status) {
            return self.flush(py);
        }
        self.send(py, body.as_bytes(), Some(body))
    }

    pub(super) fn log_access(&self, py: Python<'_>, status: u16) -> PyResult<()> {
        self.metrics_status(status);
        self.access_line(py, status)?;
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
}

/// `covet.exceptions.InvalidResponseHeader` for a header the head cannot carry. Nothing of the
/// response is written yet, so Python answers 500 in its place.
fn invalid_header(py: Python<'_>, name: &[u8]) -> PyErr {
    let message = format!(
        "invalid response header {:?}: header names must be tokens and values must not contain CR, LF or NUL",
        String::from_utf8_lossy(name)
    );
    let class = py
        .import("covet.exceptions")
        .and_then(|m| m.getattr("InvalidResponseHeader"));
    match class.and_then(|c| c.call1((message,))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// 1xx, 204 and 304 responses never carry a body.
pub(super) fn status_has_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}
