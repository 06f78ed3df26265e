//! Form bodies for `covet.formparsers`: `multipart/form-data` parsed by the engine, handed to
//! Python as plain tuples.

use covet_engine::multipart::{self, MultipartError, MultipartLimits};
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

/// Parses a whole `multipart/form-data` body into a list of
/// `(name, filename | None, content_type | None, headers, data)` tuples, in body order.
///
/// `headers` are `(lower-cased name, value)` pairs, values decoded as latin-1 like every other
/// header covet hands to Python. Raises `ValueError` for a malformed body or a Content-Type
/// without a usable boundary, and `OverflowError` when a limit is passed (the caller answers
/// 413): more than `max_parts` parts, a part's headers over `max_header_size` bytes, or a
/// non-file part's content over `max_field_size` bytes.
#[pyfunction]
#[pyo3(signature = (body, content_type, max_parts=1000, max_field_size=1024 * 1024, max_header_size=16 * 1024))]
pub fn parse_multipart<'py>(
    py: Python<'py>,
    body: &[u8],
    content_type: &str,
    max_parts: usize,
    max_field_size: usize,
    max_header_size: usize,
) -> PyResult<Bound<'py, PyList>> {
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
    // The parse touches no Python object: let the thread pool run meanwhile.
    let parts = py
        .allow_threads(|| multipart::parse(&boundary, body, limits))
        .map_err(to_py_err)?;
    let items = parts.into_iter().map(|part| {
        let head = part.head;
        let headers = head
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), latin1(value)));
        let headers = PyList::new(py, headers)?;
        PyTuple::new(
            py,
            [
                head.name.into_pyobject(py)?.into_any(),
                head.filename.into_pyobject(py)?,
                head.content_type.into_pyobject(py)?,
                headers.into_any(),
                PyBytes::new(py, &part.data).into_any(),
            ],
        )
    });
    let items = items.collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
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
