//! `BodyStream`: the body of a large request, passed from the connection to Python in chunks.
//!
//! The connection pushes chunks as they arrive and pauses reading from the socket while too
//! much is queued; Python takes them (`Request.stream()`), waking up through a future when the
//! queue is empty. Memory per upload stays bounded by the queue limit, not the body size.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::HttpProtocol;
use crate::gil::G;

/// Queued bytes above which the connection stops reading from the socket.
pub const HIGH_WATER: usize = 1024 * 1024;
/// Queued bytes below which a paused connection reads again.
const LOW_WATER: usize = 256 * 1024;

#[pyclass(module = "covet._engine")]
pub struct BodyStream {
    chunks: G<RefCell<VecDeque<Py<PyBytes>>>>,
    queued: G<Cell<usize>>,
    ended: G<Cell<bool>>,
    error: G<RefCell<Option<(u16, String)>>>,
    waiter: G<RefCell<Option<PyObject>>>,
    /// The connection, while it may need to be told to read again.
    protocol: G<RefCell<Option<Py<HttpProtocol>>>>,
}

impl BodyStream {
    pub fn new(protocol: Py<HttpProtocol>) -> Self {
        BodyStream {
            chunks: G(RefCell::new(VecDeque::new())),
            queued: G(Cell::new(0)),
            ended: G(Cell::new(false)),
            error: G(RefCell::new(None)),
            waiter: G(RefCell::new(None)),
            protocol: G(RefCell::new(Some(protocol))),
        }
    }

    /// Queues a chunk; returns true when the connection should stop reading for now.
    pub fn push(&self, py: Python<'_>, data: &[u8]) -> PyResult<bool> {
        self.chunks
            .borrow_mut()
            .push_back(PyBytes::new(py, data).unbind());
        self.queued.set(self.queued.get() + data.len());
        self.wake(py)?;
        Ok(self.queued.get() > HIGH_WATER)
    }

    pub fn end(&self, py: Python<'_>) -> PyResult<()> {
        self.ended.set(true);
        *self.protocol.borrow_mut() = None;
        self.wake(py)
    }

    /// The body will not complete: too large (413), malformed (400) or the client left.
    pub fn fail(&self, py: Python<'_>, status: u16, detail: &str) -> PyResult<()> {
        if !self.ended.get() {
            *self.error.borrow_mut() = Some((status, detail.to_owned()));
        }
        self.ended.set(true);
        *self.protocol.borrow_mut() = None;
        self.wake(py)
    }

    fn wake(&self, py: Python<'_>) -> PyResult<()> {
        let waiter = self.waiter.borrow_mut().take();
        if let Some(fut) = waiter {
            let fut = fut.bind(py);
            if !fut.call_method0(intern!(py, "done"))?.is_truthy()? {
                fut.call_method1(intern!(py, "set_result"), (py.None(),))?;
            }
        }
        Ok(())
    }
}

#[pymethods]
impl BodyStream {
    /// The next chunk, or None when none is queued right now (see `done` and `error`).
    fn get_nowait(&self, py: Python<'_>) -> PyResult<Option<Py<PyBytes>>> {
        let chunk = self.chunks.borrow_mut().pop_front();
        if let Some(chunk) = &chunk {
            let before = self.queued.get();
            let after = before - chunk.bind(py).as_bytes().len();
            self.queued.set(after);
            if before >= LOW_WATER && after < LOW_WATER {
                let protocol = self.protocol.borrow().as_ref().map(|p| p.clone_ref(py));
                if let Some(protocol) = protocol {
                    protocol.bind(py).borrow().resume_body(py)?;
                }
            }
        }
        Ok(chunk)
    }

    /// True once every chunk has been taken and the body is complete (or failed).
    #[getter]
    fn done(&self) -> bool {
        self.ended.get() && self.chunks.borrow().is_empty()
    }

    /// (status, detail) when the body failed.
    #[getter]
    fn error(&self) -> Option<(u16, String)> {
        self.error.borrow().clone()
    }

    /// A future resolved when a chunk arrives or the body ends.
    fn set_waiter(&self, py: Python<'_>, fut: PyObject) -> PyResult<()> {
        *self.waiter.borrow_mut() = Some(fut);
        if !self.chunks.borrow().is_empty() || self.ended.get() {
            self.wake(py)?;
        }
        Ok(())
    }
}
