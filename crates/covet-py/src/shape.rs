//! A quick structural check of a handler's return value against a response model made only of
//! `list[...]`, `dict[str, ...]` and `Any` (e.g. `-> list[dict[str, Any]]`).
//!
//! For such models pydantic's validation changes nothing when the value already has the
//! declared shape and holds only plain JSON values, so the engine checks that while it encodes
//! the value (`json::encode_shaped`); any other value goes through pydantic, which converts it
//! or reports the error.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Deepest nesting of plain JSON values the engine writes itself under `Any`.
pub const MAX_PLAIN_DEPTH: u32 = 64;

/// Scalar types, as bits of `Shape::Scalars`.
const SCALAR_STR: u8 = 1;
const SCALAR_INT: u8 = 2;
const SCALAR_FLOAT: u8 = 4;
const SCALAR_BOOL: u8 = 8;
const SCALAR_NONE: u8 = 16;

/// The declared shape of a response.
pub enum Shape {
    Any,
    /// One of the scalar types in the mask (`SCALAR_*`), each as its exact type.
    Scalars(u8),
    List(Box<Shape>),
    Dict(Box<Shape>),
}

impl Shape {
    /// From Python's description: "any", ("scalar", mask), ("list", inner) or ("dict", inner).
    pub fn from_spec(spec: &Bound<'_, PyAny>) -> PyResult<Shape> {
        if let Ok(tuple) = spec.downcast::<PyTuple>() {
            let kind: String = tuple.get_item(0)?.extract()?;
            if kind == "scalar" {
                return Ok(Shape::Scalars(tuple.get_item(1)?.extract()?));
            }
            let inner = Box::new(Shape::from_spec(&tuple.get_item(1)?)?);
            return match kind.as_str() {
                "list" => Ok(Shape::List(inner)),
                "dict" => Ok(Shape::Dict(inner)),
                _ => Err(pyo3::exceptions::PyValueError::new_err(
                    "unknown response shape",
                )),
            };
        }
        Ok(Shape::Any)
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
