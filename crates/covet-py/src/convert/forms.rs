//! Form bodies for `covet.formparsers`: an incremental `multipart/form-data` parser, fed the
//! body chunk by chunk as it comes off the network and handing its events to Python as small
//! tuples, so an upload can be written to disk without ever being whole in memory.

use covet_engine::multipart::{self, Event, MultipartError, MultipartLimits};
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use pyo3::{intern, IntoPyObjectExt};

/// Input at least this large is parsed with the GIL released: the scan for the boundary is
/// then long enough for the thread pool (writing earlier chunks to disk) to use the time.
const RELEASE_GIL_AT: usize = 64 * 1024;

/// An incremental `multipart/form-data` parser (`covet._engine.MultipartParser`).
///
/// `feed(data)` and `finish()` return the events the input completed, in body order:
/// `("start", name, filename | None, content_type | None, headers)` when a part begins,
/// `("data", bytes)` for a piece of its content (a part may come in many pieces, split
/// anywhere), `("end",)` when it is complete and `("done",)` after the closing boundary.
/// `headers` are `(lower-cased name, value)` pairs, values decoded as latin-1 like every other
/// header covet hands to Python.
///
/// Raises `ValueError` for a malformed body and `OverflowError` when a limit is passed (the
/// caller answers 413): more than `max_parts` parts, a part's headers over `max_header_size`
/// bytes, or a non-file part's content over `max_field_size` bytes. After an error the parser
/// is spent: every later call raises the same error.
#[pyclass(module = "covet._engine")]
pub struct MultipartParser {
    inner: multipart::MultipartParser,
}

#[pymethods]
impl MultipartParser {
    /// Makes a parser for the boundary of `content_type`; `ValueError` when it has none.
    #[new]
    #[pyo3(signature = (content_type, max_parts=1000, max_field_size=1024 * 1024, max_header_size=16 * 1024))]
    fn new(
        content_type: &str,
        max_parts: usize,
        max_field_size: usize,
        max_header_size: usize,
    ) -> PyResult<Self> {
        let Some(boundary) = multipart::boundary_from_content_type(content_type.as_bytes()) else {
            return Err(PyValueError::new_err(
                "the Content-Type has no usable boundary parameter",
            ));
        };
        let limits = MultipartLimits {
            max_parts,
            max_part_header_bytes: max_header_size,
            max_field_bytes: max_field_size,
        };
        Ok(MultipartParser {
            inner: multipart::MultipartParser::new(&boundary, limits),
        })
    }

    /// Parses the next piece of the body; returns the events it completed.
    fn feed<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
        let inner = &mut self.inner;
        let result = if data.len() >= RELEASE_GIL_AT {
            py.allow_threads(|| inner.feed(data))
        } else {
            inner.feed(data)
        };
        result.map_err(to_py_err)?;
        self.events(py)
    }

    /// Declares the end of the body: the last events, or `ValueError` when the closing
    /// boundary has not been read.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.inner.finish().map_err(to_py_err)?;
        self.events(py)
    }
}

impl MultipartParser {
    /// Drains the queued events into a list of tuples.
    fn events<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        while let Some(event) = self.inner.next_event() {
            list.append(event_tuple(py, event)?)?;
        }
        Ok(list)
    }
}

fn event_tuple(py: Python<'_>, event: Event) -> PyResult<Bound<'_, PyTuple>> {
    match event {
        Event::PartStart(head) => {
            let headers = head
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), latin1(value)));
            PyTuple::new(
                py,
                [
                    intern!(py, "start").clone().into_any(),
                    head.name.into_bound_py_any(py)?,
                    head.filename.into_bound_py_any(py)?,
                    head.content_type.into_bound_py_any(py)?,
                    PyList::new(py, headers)?.into_any(),
                ],
            )
        }
        Event::Data(data) => PyTuple::new(
            py,
            [
                intern!(py, "data").clone().into_any(),
                PyBytes::new(py, &data).into_any(),
            ],
        ),
        Event::PartEnd => PyTuple::new(py, [intern!(py, "end")]),
        Event::End => PyTuple::new(py, [intern!(py, "done")]),
    }
}

fn to_py_err(err: MultipartError) -> PyErr {
    if err.is_limit() {
        PyOverflowError::new_err(err.message().to_owned())
    } else {
        PyValueError::new_err(err.message().to_owned())
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}
