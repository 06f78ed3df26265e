//! `Socket`: where a WebSocket's bytes go, batched per turn of the event loop.
//!
//! On a plain (non-TLS) socket, frames are appended to a per-connection buffer in Rust, and
//! once per turn of the loop one callback (`FlushWrites`, scheduled with `call_soon` by the
//! first write of the turn) hands every such buffer to the kernel with one non-blocking
//! `send()` each. So a broadcast to 10,000 members costs a memory copy per member inside the
//! broadcast and one system call per member after it, with no Python call per member; several
//! messages to one member in the same turn go out in one `send()`.
//!
//! The transport stays the owner of the socket. Bytes go to the kernel directly only while
//! the transport holds none of its own (`get_write_buffer_size() == 0`, checked once it may
//! have some) and is not closing, so the order of bytes on the wire is kept and a descriptor
//! the transport has closed (and the kernel may have reused) is never written. Whatever the
//! kernel does not take (a full socket buffer, an error) goes to `transport.write`, which
//! buffers it, applies its high-water mark (`pause_writing`, where the slow-consumer policy
//! counts) and meets the error itself. A buffer over `FLUSH_NOW` is flushed at once, so a
//! handler sending in a loop still sees the transport's backpressure.
//!
//! TLS and in-memory transports (the TestClient's) have no descriptor to write to: their
//! bytes go to `transport.write` at once, as before.

use std::cell::{Cell, RefCell};
use std::io::{ErrorKind, Write};
use std::mem::ManuallyDrop;
use std::net::TcpStream;
use std::os::fd::{FromRawFd, RawFd};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use super::conn::WsConnection;
use crate::gil::G;

/// A buffer this large is flushed at once instead of at the end of the loop's turn.
const FLUSH_NOW: usize = 64 * 1024;

thread_local! {
    /// Connections with bytes waiting for this turn's flush (the loop's thread only). The
    /// connection object itself is queued, so a socket needs no heap allocation of its own.
    static DIRTY: RefCell<Vec<Py<WsConnection>>> = const { RefCell::new(Vec::new()) };
    /// The running loop and its bound `call_soon`, shared by every socket of the thread: one
    /// bound method per connection would cost an idle connection 64 bytes for nothing.
    static CALL_SOON: RefCell<Option<(PyObject, PyObject)>> = const { RefCell::new(None) };
}

/// The running loop's `call_soon`, one object per loop and thread.
fn loop_call_soon(py: Python<'_>) -> Option<PyObject> {
    let asyncio = py.import(intern!(py, "asyncio")).ok()?;
    let lp = asyncio.call_method0(intern!(py, "get_running_loop")).ok()?;
    CALL_SOON.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((known, call_soon)) = cached.as_ref() {
            if known.bind(py).is(&lp) {
                return Some(call_soon.clone_ref(py));
            }
        }
        let call_soon = lp.getattr(intern!(py, "call_soon")).ok()?.unbind();
        *cached = Some((lp.unbind(), call_soon.clone_ref(py)));
        Some(call_soon)
    })
}

/// One connection's way out (see the module documentation). It lives inside its
/// `WsConnection`: an idle connection pays for these fields and nothing on the heap.
pub struct Socket {
    transport: G<RefCell<Option<PyObject>>>,
    write: G<RefCell<Option<PyObject>>>,
    /// A plain socket's descriptor, while the transport owns it.
    fd: Option<RawFd>,
    out: G<RefCell<Vec<u8>>>,
    /// The transport may hold bytes of its own: send through it until it has none.
    pending: G<Cell<bool>>,
    /// In `DIRTY`, waiting for the flush.
    scheduled: G<Cell<bool>>,
    /// Closed by us, or gone: nothing more is written.
    closed: G<Cell<bool>>,
}

impl Socket {
    /// The transport of an upgraded connection. `fd`: the descriptor of a plain socket (not
    /// TLS), which may be written directly.
    pub fn new(
        py: Python<'_>,
        transport: Option<PyObject>,
        write: Option<PyObject>,
        fd: Option<RawFd>,
    ) -> Self {
        let fd = fd.filter(|_| transport.is_some() && loop_call_soon(py).is_some());
        Socket {
            transport: G(RefCell::new(transport)),
            write: G(RefCell::new(write)),
            fd,
            out: G(RefCell::new(Vec::new())),
            // An HTTP response pipelined before the upgrade may still be in the transport.
            pending: G(Cell::new(true)),
            scheduled: G(Cell::new(false)),
            closed: G(Cell::new(false)),
        }
    }

    /// Writes `data` (`obj`: the same bytes as a Python object, when the caller has one).
    /// `owner`: the connection this socket belongs to, queued for the end-of-turn flush; a
    /// caller without it (a socket callback forwarded by the HTTP protocol: pongs, pings,
    /// close frames) has its bytes handed to the kernel at once instead.
    pub fn write(
        &self,
        py: Python<'_>,
        data: &[u8],
        obj: Option<&Bound<'_, PyBytes>>,
        owner: Option<&Bound<'_, WsConnection>>,
    ) -> PyResult<()> {
        if self.closed.get() || data.is_empty() {
            return Ok(());
        }
        if self.fd.is_none() {
            return match obj {
                Some(obj) => self.through_transport(py, obj),
                None => self.through_transport(py, &PyBytes::new(py, data)),
            };
        }
        let full = {
            let mut out = self.out.borrow_mut();
            out.extend_from_slice(data);
            out.len() >= FLUSH_NOW
        };
        let Some(owner) = owner.filter(|_| !full) else {
            return self.flush(py);
        };
        if !self.scheduled.replace(true) {
            let first = DIRTY.with(|d| {
                let mut d = d.borrow_mut();
                d.push(owner.clone().unbind());
                d.len() == 1
            });
            if first {
                match loop_call_soon(py) {
                    Some(call_soon) => {
                        call_soon.bind(py).call1((Py::new(py, FlushWrites)?,))?;
                    }
                    None => FlushWrites.__call__(py)?,
                }
            }
        }
        Ok(())
    }

    /// Calls a method of the transport (`pause_reading`, `resume_reading`).
    pub fn call(&self, py: Python<'_>, method: &Bound<'_, PyString>) -> PyResult<()> {
        let transport = self.transport.borrow().as_ref().map(|t| t.clone_ref(py));
        if let Some(t) = transport {
            t.bind(py).call_method0(method)?;
        }
        Ok(())
    }

    /// Closes the transport: `close` after what was written, or (`abort`) at once, dropping
    /// what it buffered.
    pub fn close(&self, py: Python<'_>, abort: bool) -> PyResult<()> {
        if abort {
            *self.out.borrow_mut() = Vec::new();
        } else {
            self.flush(py)?;
        }
        self.closed.set(true);
        if abort {
            self.call(py, intern!(py, "abort"))
        } else {
            self.call(py, intern!(py, "close"))
        }
    }

    /// The transport is gone (`connection_lost`).
    pub fn lost(&self) {
        self.closed.set(true);
        *self.out.borrow_mut() = Vec::new();
        *self.transport.borrow_mut() = None;
        *self.write.borrow_mut() = None;
    }

    fn through_transport(&self, py: Python<'_>, bytes: &Bound<'_, PyBytes>) -> PyResult<()> {
        let write = self.write.borrow().as_ref().map(|w| w.clone_ref(py));
        if let Some(write) = write {
            self.pending.set(true);
            write.bind(py).call1((bytes,))?;
        }
        Ok(())
    }

    /// Hands what is buffered to the kernel, and what it does not take to the transport.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.scheduled.set(false);
        let data = std::mem::take(&mut *self.out.borrow_mut());
        if data.is_empty() || self.closed.get() {
            return Ok(());
        }
        let transport = self.transport.borrow().as_ref().map(|t| t.clone_ref(py));
        let Some(transport) = transport else {
            return Ok(());
        };
        let transport = transport.bind(py);
        if transport
            .call_method0(intern!(py, "is_closing"))?
            .is_truthy()?
        {
            return Ok(()); // going away: its connection_lost follows
        }
        let mut sent = 0;
        if let Some(fd) = self.fd {
            if self.pending.get()
                && transport
                    .call_method0(intern!(py, "get_write_buffer_size"))?
                    .extract::<usize>()?
                    == 0
            {
                self.pending.set(false);
            }
            if !self.pending.get() {
                sent = send(fd, &data);
            }
        }
        if sent < data.len() {
            self.through_transport(py, &PyBytes::new(py, &data[sent..]))?;
        }
        Ok(())
    }
}

/// One non-blocking `send()`: how many bytes the kernel took (0 on any error: the transport
/// then writes them and meets the error itself).
fn send(fd: RawFd, data: &[u8]) -> usize {
    // SAFETY: the descriptor is open (the transport owns it and is not closing, checked just
    // before, on the loop's one thread) and is not closed here: ManuallyDrop.
    let mut stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
    loop {
        match stream.write(data) {
            Ok(n) => return n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return 0,
        }
    }
}

/// The end-of-turn flush: every socket written to since the last one.
#[pyclass(module = "covet._engine")]
pub struct FlushWrites;

#[pymethods]
impl FlushWrites {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let dirty = DIRTY.with(|d| std::mem::take(&mut *d.borrow_mut()));
        let mut first_error = None;
        for conn in dirty {
            if let Err(e) = conn.get().socket().flush(py) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
