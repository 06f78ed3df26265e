//! A quick structural check of a handler's return value against a response model made only of
//! `list[...]`, `dict[str, ...]` and `Any` (e.g. `-> list[dict[str, Any]]`).
//!
//! For such models pydantic's validation changes nothing when the value already has the
//! declared shape and holds only plain JSON values, so the engine checks that and encodes the
//! value itself; any other value goes through pydantic, which converts it or reports the error.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

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

    /// True when `value` (exact lists and dicts with str keys) has this shape.
    pub fn matches(&self, value: &Bound<'_, PyAny>) -> bool {
        match self {
            // Only plain JSON values: for anything else (Decimal, datetime...) pydantic's
            // serialization may differ from the engine's, so pydantic handles it.
            Shape::Any => plain_json(value, 0),
            Shape::Scalars(mask) => scalar_kind(value).is_some_and(|kind| mask & kind != 0),
            Shape::List(inner) => {
                let is_list = unsafe { ffi::PyList_CheckExact(value.as_ptr()) != 0 };
                is_list && list_items(value).all(|item| inner.matches(&item))
            }
            Shape::Dict(inner) => {
                let is_dict = unsafe { ffi::PyDict_CheckExact(value.as_ptr()) != 0 };
                is_dict
                    && dict_items(value).all(|(k, v)| {
                        let str_key = unsafe { ffi::PyUnicode_CheckExact(k.as_ptr()) != 0 };
                        str_key && inner.matches(&v)
                    })
            }
        }
    }
}

fn plain_json(value: &Bound<'_, PyAny>, depth: u32) -> bool {
    if depth > 64 {
        return false;
    }
    let ptr = value.as_ptr();
    unsafe {
        if ptr == ffi::Py_None()
            || ptr == ffi::Py_True()
            || ptr == ffi::Py_False()
            || ffi::PyUnicode_CheckExact(ptr) != 0
            || ffi::PyLong_CheckExact(ptr) != 0
        {
            return true;
        }
        if ffi::PyFloat_CheckExact(ptr) != 0 {
            return ffi::PyFloat_AS_DOUBLE(ptr).is_finite();
        }
        if ffi::PyList_CheckExact(ptr) != 0 {
            return list_items(value).all(|item| plain_json(&item, depth + 1));
        }
        if ffi::PyDict_CheckExact(ptr) != 0 {
            return dict_items(value).all(|(k, v)| {
                ffi::PyUnicode_CheckExact(k.as_ptr()) != 0 && plain_json(&v, depth + 1)
            });
        }
    }
    false
}

/// The scalar kind of a value of exactly one of the scalar types (a bool is not an int here,
/// nor an int a float: pydantic would convert those, so they go to pydantic).
fn scalar_kind(value: &Bound<'_, PyAny>) -> Option<u8> {
    let ptr = value.as_ptr();
    unsafe {
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
}

/// The items of an exact list, by index (no Python code runs during a check).
fn list_items<'a, 'py>(
    list: &'a Bound<'py, PyAny>,
) -> impl Iterator<Item = Bound<'py, PyAny>> + 'a {
    let py = list.py();
    let len = unsafe { ffi::PyList_GET_SIZE(list.as_ptr()) };
    (0..len).map(move |i| unsafe {
        Bound::from_borrowed_ptr(py, ffi::PyList_GET_ITEM(list.as_ptr(), i))
    })
}

/// The (key, value) pairs of an exact dict, through PyDict_Next.
fn dict_items<'a, 'py>(
    dict: &'a Bound<'py, PyAny>,
) -> impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)> + 'a {
    let py = dict.py();
    let mut pos: ffi::Py_ssize_t = 0;
    std::iter::from_fn(move || {
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut value: *mut ffi::PyObject = std::ptr::null_mut();
        if unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key, &mut value) } == 0 {
            return None;
        }
        unsafe {
            Some((
                Bound::from_borrowed_ptr(py, key),
                Bound::from_borrowed_ptr(py, value),
            ))
        }
    })
}
