//! `WsClientCodec`: the client end of the engine's codec, for the in-memory TestClient (it
//! masks what it sends and requires unmasked frames back, as a real client does).

use std::cell::RefCell;

use covet_engine::ws::codec::{Codec, Message, Role};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use pyo3::IntoPyObjectExt;

use crate::gil::G;

#[pyclass(module = "covet._engine")]
pub struct WsClientCodec {
    codec: G<RefCell<Codec>>,
    /// Replies the codec wrote (pongs, the close echo), for the caller to send.
    replies: G<RefCell<Vec<u8>>>,
}

#[pymethods]
impl WsClientCodec {
    #[new]
    #[pyo3(signature = (deflate=false, max_message=16 * 1024 * 1024))]
    fn new(deflate: bool, max_message: usize) -> Self {
        WsClientCodec {
            codec: G(RefCell::new(Codec::new(Role::Client, max_message, deflate))),
            replies: G(RefCell::new(Vec::new())),
        }
    }

    /// Appends bytes received from the server.
    fn feed(&self, data: &[u8]) {
        self.codec.borrow_mut().feed(data);
    }

    /// The next message: str, bytes, `(code, reason)` for a close, or None. Pings are
    /// answered (see `take_replies`) and skipped. A protocol error raises ValueError.
    fn next(&self, py: Python<'_>) -> PyResult<Option<PyObject>> {
        loop {
            let next = self.codec.borrow_mut().next(&mut self.replies.borrow_mut());
            return match next {
                Ok(None) => Ok(None),
                Ok(Some(Message::Text(t))) => Ok(Some(PyString::new(py, &t).into_any().unbind())),
                Ok(Some(Message::Binary(b))) => Ok(Some(PyBytes::new(py, &b).into_any().unbind())),
                Ok(Some(Message::Ping(_) | Message::Pong(_))) => continue,
                Ok(Some(Message::Close(code, reason))) => Ok(Some((code, reason).into_py_any(py)?)),
                Err(e) => Err(PyValueError::new_err(format!(
                    "WebSocket protocol error {}: {}",
                    e.code, e.reason
                ))),
            };
        }
    }

    /// Bytes the codec wrote in reply (pongs, the close echo); empties the buffer.
    fn take_replies<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let data = std::mem::take(&mut *self.replies.borrow_mut());
        PyBytes::new(py, &data)
    }

    /// A masked frame for a message: text for str, binary for bytes.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::new();
        if let Ok(text) = message.downcast::<PyString>() {
            self.codec
                .borrow_mut()
                .write_message(&mut out, true, text.to_str()?.as_bytes());
        } else {
            let data: &[u8] = message.extract()?;
            self.codec.borrow_mut().write_message(&mut out, false, data);
        }
        Ok(PyBytes::new(py, &out))
    }

    /// A masked close frame (empty once a close was sent).
    #[pyo3(signature = (code=1000, reason=""))]
    fn encode_close<'py>(&self, py: Python<'py>, code: u16, reason: &str) -> Bound<'py, PyBytes> {
        let mut out = Vec::new();
        self.codec.borrow_mut().write_close(&mut out, code, reason);
        PyBytes::new(py, &out)
    }
}
