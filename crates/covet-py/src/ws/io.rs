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
use std::rc::Rc;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::gil::G;

/// A buffer this large is flushed at once instead of at the end of the loop's turn.
const FLUSH_NOW: usize = 64 * 1024;

thread_local! {
    /// Sockets with bytes waiting for this turn's flush (the loop's thread only).
    static DIRTY: RefCell<Vec<Rc<Inner>>> = const { RefCell::new(Vec::new()) };
    /// The running loop and its bound `call_soon`, shared by every socket of the thread: one
    /// bound method per connection would cost an idle connection 64 bytes for nothing.
    static CALL_SOON: RefCell<Option<(PyObject, PyObject)>> = const { RefCell::new(None) };
}

/// The running loop's `call_soon`, one object per loop and thread.
fn loop_call_soon(py: Python<'_>) -> Option<PyObject> {
    let asyncio = py.import("asyncio").ok()?;
    let lp = asyncio.call_method0("get_running_loop").ok()?;
    CALL_SOON.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((known, call_soon)) = cached.as_ref() {
            if known.bind(py).is(&lp) {
                return Some(call_soon.clone_ref(py));
            }
        }
        let call_soon = lp.getattr("call_soon").ok()?.unbind();
        *cached = Some((lp.unbind(), call_soon.clone_ref(py)));
        Some(call_soon)
    })
}

struct Inner {
    transport: RefCell<Option<PyObject>>,
    write: RefCell<Option<PyObject>>,
    /// The loop's `call_soon`, for a socket written directly.
    call_soon: Option<PyObject>,
    /// A plain socket's descriptor, while the transport owns it.
    fd: Option<RawFd>,
    out: RefCell<Vec<u8>>,
    /// The transport may hold bytes of its own: send through it until it has none.
    pending: Cell<bool>,
    /// In `DIRTY`, waiting for the flush.
    scheduled: Cell<bool>,
    /// Closed by us, or gone: nothing more is written.
    closed: Cell<bool>,
}

/// One connection's way out (see the module documentation).
pub struct Socket(G<Rc<Inner>>);

impl Socket {
    /// The transport of an upgraded connection. `direct`: the transport is a plain socket
    /// whose descriptor may be written (not TLS).
    pub fn new(
        py: Python<'_>,
        transport: Option<PyObject>,
        write: Option<PyObject>,
        direct: bool,
    ) -> Self {
        let fd = if direct {
            transport.as_ref().and_then(|t| descriptor(t.bind(py)))
        } else {
            None
        };
        let call_soon = fd.and_then(|_| loop_call_soon(py));
        Socket(G(Rc::new(Inner {
            transport: RefCell::new(transport),
            write: RefCell::new(write),
            fd: call_soon.as_ref().and(fd),
            call_soon,
            out: RefCell::new(Vec::new()),
            // An HTTP response pipelined before the upgrade may still be in the transport.
            pending: Cell::new(true),
            scheduled: Cell::new(false),
            closed: Cell::new(false),
        })))
    }

    /// Writes `data` (`obj`: the same bytes as a Python object, when the caller has one).
    pub fn write(
        &self,
        py: Python<'_>,
        data: &[u8],
        obj: Option<&Bound<'_, PyBytes>>,
    ) -> PyResult<()> {
        let inner = &self.0;
        if inner.closed.get() || data.is_empty() {
            return Ok(());
        }
        if inner.fd.is_none() {
            return match obj {
                Some(obj) => inner.through_transport(py, obj),
                None => inner.through_transport(py, &PyBytes::new(py, data)),
            };
        }
        let full = {
            let mut out = inner.out.borrow_mut();
            out.extend_from_slice(data);
            out.len() >= FLUSH_NOW
        };
        if full {
            return inner.flush(py);
        }
        if !inner.scheduled.replace(true) {
            let first = DIRTY.with(|d| {
                let mut d = d.borrow_mut();
                d.push(Rc::clone(inner));
                d.len() == 1
            });
            if first {
                if let Some(call_soon) = &inner.call_soon {
                    call_soon.bind(py).call1((Py::new(py, FlushWrites)?,))?;
                }
            }
        }
        Ok(())
    }

    /// Calls a method of the transport (`pause_reading`, `resume_reading`).
    pub fn call(&self, py: Python<'_>, method: &Bound<'_, PyString>) -> PyResult<()> {
        let transport = self.0.transport.borrow().as_ref().map(|t| t.clone_ref(py));
        if let Some(t) = transport {
            t.bind(py).call_method0(method)?;
        }
        Ok(())
    }

    /// Closes the transport: `close` after what was written, or (`abort`) at once, dropping
    /// what it buffered.
    pub fn close(&self, py: Python<'_>, abort: bool) -> PyResult<()> {
        let inner = &self.0;
        if abort {
            *inner.out.borrow_mut() = Vec::new();
        } else {
            inner.flush(py)?;
        }
        inner.closed.set(true);
        if abort {
            self.call(py, intern!(py, "abort"))
        } else {
            self.call(py, intern!(py, "close"))
        }
    }

    /// The transport is gone (`connection_lost`).
    pub fn lost(&self) {
        let inner = &self.0;
        inner.closed.set(true);
        *inner.out.borrow_mut() = Vec::new();
        *inner.transport.borrow_mut() = None;
        *inner.write.borrow_mut() = None;
    }
}

impl Inner {
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

/// The descriptor of a transport's socket, if it has one.
fn descriptor(transport: &Bound<'_, PyAny>) -> Option<RawFd> {
    let sock = transport.call_method1("get_extra_info", ("socket",)).ok()?;
    if sock.is_none() {
        return None;
    }
    sock.call_method0("fileno")
        .ok()?
        .extract::<RawFd>()
        .ok()
        .filter(|fd| *fd >= 0)
}

/// The end-of-turn flush: every socket written to since the last one.
#[pyclass(module = "covet._engine")]
pub struct FlushWrites;

#[pymethods]
impl FlushWrites {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let dirty = DIRTY.with(|d| std::mem::take(&mut *d.borrow_mut()));
        let mut first_error = None;
        for socket in dirty {
            if let Err(e) = socket.flush(py) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
