//! What an inline call needs besides the connection: the request kept in Rust form until
//! Python needs it, and driving a coroutine that cannot suspend.

use covet_engine::http::request::Request;
use covet_engine::router::ParamValue;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::{ffi, intern, IntoPyObjectExt};

use super::HttpProtocol;
use crate::convert::request::RawRequest;

/// A request served on the fast path, kept in Rust form until Python needs to see it.
pub struct Pending {
    pub req: Request,
    pub params: Vec<(String, ParamValue)>,
    pub endpoint: usize,
}

/// The request of an inline call, for when Python has to take over.
pub enum Later {
    /// Not yet a Python object (engine-built arguments).
    Engine(Pending),
    /// Already a `RawRequest`.
    Python(PyObject),
}

impl Later {
    pub fn into_raw(self, py: Python<'_>, conn: &HttpProtocol) -> PyResult<PyObject> {
        match self {
            Later::Python(raw) => Ok(raw),
            Later::Engine(p) => RawRequest::from_engine(
                p.req,
                p.params,
                Some(p.endpoint),
                conn.client_obj(py),
                conn.sockname_obj(py),
                conn.scheme(),
                None,
            )
            .under(conn.root_path.as_deref())
            .into_py_any(py),
        }
    }
}

/// Runs a coroutine that cannot suspend to its end; a plain value passes through.
pub fn drive<'py>(py: Python<'py>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    unsafe {
        if ffi::PyCoro_CheckExact(value.as_ptr()) == 0 {
            return Ok(value);
        }
        let mut result: *mut ffi::PyObject = std::ptr::null_mut();
        match ffi::PyIter_Send(value.as_ptr(), ffi::Py_None(), &mut result) {
            ffi::PySendResult::PYGEN_RETURN => Ok(Bound::from_owned_ptr(py, result)),
            ffi::PySendResult::PYGEN_ERROR => Err(PyErr::fetch(py)),
            ffi::PySendResult::PYGEN_NEXT => {
                let _yielded = Bound::from_owned_ptr(py, result);
                value.call_method0(intern!(py, "close"))?;
                Err(PyRuntimeError::new_err(
                    "covet ran this handler inline because its code has no await, but it suspended; report this as a covet bug",
                ))
            }
        }
    }
}
