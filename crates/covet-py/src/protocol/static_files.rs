//! `StaticFiles` in the binding: a directory object Python builds once per `StaticFiles` app,
//! answered two ways from the same engine code (`covet_engine::static_files`):
//! - on covet's server, `serve` writes the answer for a request under a static mount straight
//!   from the connection, without calling Python;
//! - under any ASGI server (and the test client), `StaticDir.answer` returns a `StaticAnswer`
//!   whose head Python sends and whose body it reads in chunks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use covet_engine::http::request::Request;
use covet_engine::static_files::{self as engine, Answer, Asked, Body, Options, StaticDir as Dir};
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::protocol::HttpProtocol;

/// One `StaticFiles` app's directories and options (see `covet.staticfiles`).
#[pyclass(module = "covet._engine", frozen)]
pub struct StaticDir {
    pub inner: Arc<Dir>,
}

#[pymethods]
impl StaticDir {
    #[new]
    #[pyo3(signature = (directories, *, html=false, follow_symlink=false, allow_hidden=false, precompressed=true, cache_control=Vec::new(), cache_max_file=65536, cache_max_bytes=16777216))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        directories: Vec<PathBuf>,
        html: bool,
        follow_symlink: bool,
        allow_hidden: bool,
        precompressed: bool,
        cache_control: Vec<(String, String)>,
        cache_max_file: u64,
        cache_max_bytes: u64,
    ) -> PyResult<Self> {
        let options = Options {
            html,
            follow_symlink,
            allow_hidden,
            precompressed,
            cache_control,
            cache_max_file,
            cache_max_bytes,
        };
        let inner =
            Dir::new(&directories, options).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(StaticDir {
            inner: Arc::new(inner),
        })
    }

    /// The answer to one request: `path` inside the mount (decoded), `full_path` as asked,
    /// `headers` as lower-case (name, value) byte pairs.
    fn answer(
        &self,
        method: &str,
        path: &str,
        full_path: &str,
        query: &[u8],
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> StaticAnswer {
        let asked = Asked {
            method,
            path,
            full_path,
            query,
            ..Default::default()
        }
        .with_headers(headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
        StaticAnswer::from(self.inner.answer(&asked))
    }
}

/// A static answer for Python to send: status, headers (without `content-length`, given as
/// `length`) and a body read with `read`.
#[pyclass(module = "covet._engine", frozen)]
pub struct StaticAnswer {
    #[pyo3(get)]
    status: u16,
    #[pyo3(get)]
    length: u64,
    headers: Vec<(&'static str, Vec<u8>)>,
    /// The application's own headers (a `FileResponse`'s), sent after the engine's.
    extra: Vec<(Vec<u8>, Vec<u8>)>,
    body: Mutex<Body>,
}

impl From<Answer> for StaticAnswer {
    fn from(answer: Answer) -> Self {
        StaticAnswer {
            status: answer.status,
            length: answer.body.len(),
            headers: answer.headers,
            extra: Vec::new(),
            body: Mutex::new(answer.body),
        }
    }
}

#[pymethods]
impl StaticAnswer {
    /// The headers as (name, value) byte pairs, ASGI's shape.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> Vec<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        self.head()
            .into_iter()
            .map(|(n, v)| (PyBytes::new(py, n), PyBytes::new(py, v)))
            .collect()
    }

    /// The next up to `size` bytes of the body (empty at its end); file reads release the GIL,
    /// so this may run in a worker thread.
    fn read<'py>(&self, py: Python<'py>, size: usize) -> PyResult<Bound<'py, PyBytes>> {
        let mut buf = vec![0u8; size.min(self.length as usize)];
        let n = py.allow_threads(|| {
            self.body
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .read(&mut buf)
        })?;
        Ok(PyBytes::new(py, &buf[..n]))
    }
}

impl StaticAnswer {
    /// Every header, the engine's then the application's.
    fn head(&self) -> Vec<(&[u8], &[u8])> {
        let engine = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_slice()));
        let extra = self.extra.iter().map(|(n, v)| (n.as_slice(), v.as_slice()));
        engine.chain(extra).collect()
    }

    /// Writes this answer on a covet connection (a `FileResponse` sent by Python).
    pub(crate) fn send(&self, conn: &HttpProtocol, py: Python<'_>) -> PyResult<()> {
        let mut body = self
            .body
            .lock()
            .map_err(|_| PyRuntimeError::new_err("poisoned"))?;
        write_answer(conn, py, self.status, &self.head(), &mut body)
    }
}

/// Headers of the application's that a 304 repeats (RFC 9110 §15.4.5), besides the validators.
const KEPT_ON_304: [&[u8]; 5] = [
    b"cache-control",
    b"expires",
    b"vary",
    b"content-location",
    b"set-cookie",
];

/// A `FileResponse`'s answer: the file at `path` with the static path's validators, `Range`,
/// `If-*` handling; `extra` are its own headers (lower-case names, no content-type).
#[pyfunction]
#[pyo3(signature = (path, content_type, method, headers, status=200, extra=Vec::new()))]
pub fn file_answer(
    path: PathBuf,
    content_type: Vec<u8>,
    method: &str,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    status: u16,
    extra: Vec<(Vec<u8>, Vec<u8>)>,
) -> PyResult<StaticAnswer> {
    let asked = Asked {
        method,
        ..Default::default()
    }
    .with_headers(headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
    let answer = engine::answer_file(&path, content_type, &asked, status)
        .map_err(|e| PyOSError::new_err(format!("File at path {}: {e}", path.display())))?;
    let mut answer = StaticAnswer::from(answer);
    answer.extra = extra
        .into_iter()
        .filter(|(n, _)| answer.status != 304 || KEPT_ON_304.contains(&n.as_slice()))
        .collect();
    Ok(answer)
}

/// Writes a static answer's head and body (left out for HEAD and bodiless statuses).
fn write_answer(
    conn: &HttpProtocol,
    py: Python<'_>,
    status: u16,
    headers: &[(&[u8], &[u8])],
    body: &mut Body,
) -> PyResult<()> {
    if conn.write_file(py, status, headers, body)? {
        return Ok(());
    }
    let length = body.len() as usize;
    conn.write_filled(py, status, headers, length, |buf| {
        let n = body.read(buf)?;
        if n == buf.len() {
            Ok(())
        } else {
            Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof))
        }
    })
}

/// Answers a request under a static mount on covet's server: the answer is written from here
/// and the request finished, with no Python called. A file that fails mid-read closes the
/// connection (its head, with the length, may already be out).
pub(crate) fn serve(
    conn: &HttpProtocol,
    py: Python<'_>,
    dir: &Dir,
    req: &Request,
    rest: &str,
) -> PyResult<()> {
    let asked = Asked {
        method: &req.method,
        path: rest,
        full_path: &req.path,
        query: &req.query,
        ..Default::default()
    }
    .with_headers(
        req.headers
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_slice())),
    );
    let mut answer = dir.answer(&asked);
    let headers: Vec<(&[u8], &[u8])> = answer
        .headers
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_slice()))
        .collect();
    match write_answer(conn, py, answer.status, &headers, &mut answer.body) {
        Ok(()) => conn.finish(py),
        Err(e) => {
            log::warn(py, &format!("static file read failed: {e}"));
            conn.close(py)
        }
    }
}

mod log {
    use pyo3::prelude::*;

    /// One warning on the `covet.error` logger.
    pub fn warn(py: Python<'_>, message: &str) {
        let logger = py
            .import("logging")
            .and_then(|m| m.call_method1("getLogger", ("covet.error",)));
        if let Ok(logger) = logger {
            let _ = logger.call_method1("warning", (message,));
        }
    }
}
