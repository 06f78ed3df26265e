//! A quick structural check of a handler's return value against a response model made only of
//! `list[...]`, `dict[str, ...]` and `Any` (e.g. `-> list[dict[str, Any]]`).
//!
//! For such models pydantic's validation changes nothing when the value already has the
//! declared shape and holds only plain JSON values, so the engine checks that while it encodes
//! the value (`json::encode_shaped`); any other value goes through pydantic, which converts it
//! or reports the error. Python builds the shape through `ResponseShape`, so the scalar types
//! and their bits are defined here only.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyTuple, PyType};

/// Deepest nesting of plain JSON values the engine writes itself under `Any`.
pub const MAX_PLAIN_DEPTH: u32 = 64;

/// Scalar types, as bits of `Shape::Scalars`.
const SCALAR_STR: u8 = 1;
const SCALAR_INT: u8 = 2;
const SCALAR_FLOAT: u8 = 4;
const SCALAR_BOOL: u8 = 8;
const SCALAR_NONE: u8 = 16;

/// The declared shape of a response.
#[derive(Clone)]
pub enum Shape {
    Any,
    /// One of the scalar types in the mask (`SCALAR_*`), each as its exact type.
    Scalars(u8),
    List(Box<Shape>),
    Dict(Box<Shape>),
}

/// A response shape as Python builds it: `ResponseShape.any()`, `ResponseShape.scalars(types)`
/// (each one of `ResponseShape.SCALARS`), `ResponseShape.list(inner)`, `ResponseShape.dict(inner)`.
#[pyclass(frozen, module = "covet._engine")]
pub struct ResponseShape {
    pub inner: Arc<Shape>,
}

impl ResponseShape {
    fn of(shape: Shape) -> Self {
        ResponseShape {
            inner: Arc::new(shape),
        }
    }
}

#[pymethods]
impl ResponseShape {
    /// Any plain JSON value.
    #[staticmethod]
    fn any() -> Self {
        Self::of(Shape::Any)
    }

    /// A value of exactly one of these types (`str`, `int`, `float`, `bool`, `NoneType`).
    #[staticmethod]
    fn scalars(types: Vec<Bound<'_, PyType>>) -> PyResult<Self> {
        let mut mask = 0;
        for t in &types {
            mask |= scalar_bit(t).ok_or_else(|| {
                PyValueError::new_err(format!("{t} is not a scalar the engine checks"))
            })?;
        }
        Ok(Self::of(Shape::Scalars(mask)))
    }

    /// A list of `inner`.
    #[staticmethod]
    fn list(inner: &ResponseShape) -> Self {
        Self::of(Shape::List(Box::new(inner.inner.as_ref().clone())))
    }

    /// A dict with str keys and `inner` values.
    #[staticmethod]
    fn dict(inner: &ResponseShape) -> Self {
        Self::of(Shape::Dict(Box::new(inner.inner.as_ref().clone())))
    }

    /// The scalar types `scalars` takes.
    #[classattr]
    #[allow(non_snake_case)]
    fn SCALARS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let none = py.None().bind(py).get_type();
        let types = [
            py.get_type::<PyString>(),
            py.get_type::<PyInt>(),
            py.get_type::<PyFloat>(),
            py.get_type::<PyBool>(),
            none,
        ];
        Ok(PyTuple::new(py, types)?.unbind())
    }
}

/// The bit of `Shape::Scalars` for a scalar type.
fn scalar_bit(t: &Bound<'_, PyType>) -> Option<u8> {
    let py = t.py();
    if t.is(&py.get_type::<PyString>()) {
        Some(SCALAR_STR)
    } else if t.is(&py.get_type::<PyInt>()) {
        Some(SCALAR_INT)
    } else if t.is(&py.get_type::<PyFloat>()) {
        Some(SCALAR_FLOAT)
    } else if t.is(&py.get_type::<PyBool>()) {
        Some(SCALAR_BOOL)
    } else if t.is(&py.None().bind(py).get_type()) {
        Some(SCALAR_NONE)
    } else {
        None
    }
}

/// The scalar kind of a value of exactly one of the scalar types (a bool is not an int here,
/// nor an int a float: pydantic would convert those, so they go to pydantic).
///
/// # Safety
/// `ptr` must point to a live object.
pub unsafe fn scalar_kind(ptr: *mut ffi::PyObject) -> Option<u8> {
    if ptr == ffi::Py_None() {
        Some(SCALAR_NONE)
    } else if ptr == ffi::Py_True() || ptr == ffi::Py_False() {
        Some(SCALAR_BOOL)
    } else if ffi::PyUnicode_CheckExact(ptr) != 0 {
        Some(SCALAR_STR)
    } else if ffi::PyLong_CheckExact(ptr) != 0 {
        Some(SCALAR_INT)
    } else if ffi::PyFloat_CheckExact(ptr) != 0 && ffi::PyFloat_AS_DOUBLE(ptr).is_finite() {
        Some(SCALAR_FLOAT)
    } else {
        None
    }
}
