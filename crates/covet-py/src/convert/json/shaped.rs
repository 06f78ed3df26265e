//! Encoding checked against a response model's shape (`shape.rs`) in the same walk.
//!
//! For a model such as `list[dict[str, Any]]` the engine writes the value itself when it has
//! the declared shape and holds only plain JSON values. Checking and encoding in one walk
//! reads each value once; when the check fails midway, the caller drops what was written and
//! hands the value to pydantic. No Python code runs during the walk (there is no `default`
//! hook here), so borrowed pointers stay valid throughout.

use covet_engine::json_escape::push_bytes;
use pyo3::ffi;
use pyo3::prelude::*;

use super::{Encoder, KeyCache};
use crate::convert::shape::{scalar_kind, Shape, MAX_PLAIN_DEPTH};

/// Appends `obj` as JSON to `out` and returns true when it has `shape`; returns false, with
/// `out` holding a partial document to discard, when it does not.
pub fn encode_shaped(obj: &Bound<'_, PyAny>, shape: &Shape, out: &mut Vec<u8>) -> PyResult<bool> {
    let mut encoder = Encoder {
        py: obj.py(),
        default: None,
        out,
        keys: KeyCache::take(),
    };
    // SAFETY: `obj` is held by the caller, and no Python code runs while it is walked.
    let result = unsafe { encoder.shaped(obj.as_ptr(), shape) };
    KeyCache::give_back(encoder.keys);
    result
}

impl Encoder<'_, '_> {
    unsafe fn shaped(&mut self, ptr: *mut ffi::PyObject, shape: &Shape) -> PyResult<bool> {
        match shape {
            Shape::Any => self.plain(ptr, 0),
            Shape::Scalars(mask) => {
                if scalar_kind(ptr).is_some_and(|kind| mask & kind != 0) {
                    self.plain(ptr, 0)
                } else {
                    Ok(false)
                }
            }
            Shape::List(inner) => {
                if ffi::PyList_CheckExact(ptr) == 0 {
                    return Ok(false);
                }
                self.out.push(b'[');
                for i in 0..ffi::PyList_GET_SIZE(ptr) {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    if !self.shaped(ffi::PyList_GET_ITEM(ptr, i), inner)? {
                        return Ok(false);
                    }
                }
                self.out.push(b']');
                Ok(true)
            }
            // `dict[str, Any]`, the common case, checks its values inline (no call per value).
            Shape::Dict(inner) if matches!(**inner, Shape::Any) => {
                self.str_keyed(ptr, |enc, val| enc.plain_item(val, 0))
            }
            Shape::Dict(inner) => self.str_keyed(ptr, |enc, val| enc.shaped(val, inner)),
        }
    }

    /// One plain value inside a container: strings, ints and the three constants, the bulk of
    /// most documents, are written here without a call; anything else goes through `plain`.
    #[inline(always)]
    unsafe fn plain_item(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<bool> {
        let tp = ffi::Py_TYPE(ptr);
        if tp == std::ptr::addr_of_mut!(ffi::PyUnicode_Type)
            || tp == std::ptr::addr_of_mut!(ffi::PyLong_Type)
        {
            self.item(ptr, depth)?;
        } else if ptr == ffi::Py_True() {
            push_bytes(self.out, b"true");
        } else if ptr == ffi::Py_False() {
            push_bytes(self.out, b"false");
        } else if ptr == ffi::Py_None() {
            push_bytes(self.out, b"null");
        } else {
            return self.plain(ptr, depth);
        }
        Ok(true)
    }

    /// A plain JSON value: exact str, int, finite float, bool, None, and lists and str-keyed
    /// dicts of those. Anything else (a tuple, a datetime, a subclass) is for pydantic.
    #[inline(never)]
    unsafe fn plain(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<bool> {
        let tp = ffi::Py_TYPE(ptr);
        if tp == std::ptr::addr_of_mut!(ffi::PyUnicode_Type)
            || tp == std::ptr::addr_of_mut!(ffi::PyLong_Type)
        {
            self.item(ptr, depth)?;
            Ok(true)
        } else if tp == std::ptr::addr_of_mut!(ffi::PyDict_Type) {
            if depth > MAX_PLAIN_DEPTH {
                return Ok(false);
            }
            self.str_keyed(ptr, |enc, val| enc.plain_item(val, depth + 1))
        } else if tp == std::ptr::addr_of_mut!(ffi::PyList_Type) {
            if depth > MAX_PLAIN_DEPTH {
                return Ok(false);
            }
            self.out.push(b'[');
            for i in 0..ffi::PyList_GET_SIZE(ptr) {
                if i > 0 {
                    self.out.push(b',');
                }
                if !self.plain_item(ffi::PyList_GET_ITEM(ptr, i), depth + 1)? {
                    return Ok(false);
                }
            }
            self.out.push(b']');
            Ok(true)
        } else if tp == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
            let v = ffi::PyFloat_AS_DOUBLE(ptr);
            if !v.is_finite() {
                return Ok(false);
            }
            self.float(v)?;
            Ok(true)
        } else if ptr == ffi::Py_None() || ptr == ffi::Py_True() || ptr == ffi::Py_False() {
            self.value(ptr, depth)?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// An exact dict whose keys are all exact strings, each value written by `value`.
    unsafe fn str_keyed(
        &mut self,
        ptr: *mut ffi::PyObject,
        mut value: impl FnMut(&mut Self, *mut ffi::PyObject) -> PyResult<bool>,
    ) -> PyResult<bool> {
        if ffi::PyDict_CheckExact(ptr) == 0 {
            return Ok(false);
        }
        self.out.push(b'{');
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut val: *mut ffi::PyObject = std::ptr::null_mut();
        let mut first = true;
        while ffi::PyDict_Next(ptr, &mut pos, &mut key, &mut val) != 0 {
            if ffi::PyUnicode_CheckExact(key) == 0 {
                return Ok(false);
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.str_key(key)?;
            if !value(self, val)? {
                return Ok(false);
            }
        }
        self.out.push(b'}');
        Ok(true)
    }
}
