//! JSON serialization of Python values, written straight into a byte buffer.
//!
//! The common types (dict, list, tuple, str, int, float, bool, None) are walked here with exact
//! type checks; so are exact datetimes, dates, times and UUIDs when a `default` hook is given
//! (written as `json_default` answers them, `stdlib.rs`); anything else goes once through the
//! hook, which returns either a plain value to encode or `bytes` holding finished JSON
//! (pydantic models, serialized by pydantic-core).
//!
//! The walk reads borrowed pointers: scalars are read without touching their reference counts,
//! and only containers (which a `default` hook could change under us) are held by a strong
//! reference while they are walked.

mod keys;
mod shaped;
mod stdlib;

use covet_engine::json_escape::{push_bytes, write_str};
use covet_engine::json_number::write_f64;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use keys::KeyCache;
pub use shaped::encode_shaped;

const MAX_DEPTH: u32 = 255;
/// Capacity the scratch buffer keeps between uses.
const MAX_KEPT_SCRATCH: usize = 1024 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with an empty buffer that keeps its capacity from one response to the next, so a
/// large body is not grown from scratch each time. Re-entrant: a nested call gets a new one.
pub fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let result = f(&mut buf);
    buf.clear();
    if buf.capacity() > MAX_KEPT_SCRATCH {
        buf.shrink_to(MAX_KEPT_SCRATCH);
    }
    SCRATCH.with(|s| *s.borrow_mut() = buf);
    result
}

/// Serializes `obj` as JSON, appending to `out`.
pub fn encode(
    obj: &Bound<'_, PyAny>,
    default: Option<&Bound<'_, PyAny>>,
    out: &mut Vec<u8>,
) -> PyResult<()> {
    if default.is_some() {
        stdlib::prepare(obj.py())?;
    }
    let mut encoder = Encoder {
        py: obj.py(),
        default,
        out,
        keys: KeyCache::take(),
    };
    // SAFETY: `obj` is a live object held by the caller for the whole call.
    let result = unsafe { encoder.value(obj.as_ptr(), 0) };
    KeyCache::give_back(encoder.keys);
    result
}

struct Encoder<'a, 'py> {
    py: Python<'py>,
    default: Option<&'a Bound<'py, PyAny>>,
    out: &'a mut Vec<u8>,
    keys: Box<KeyCache>,
}

impl<'py> Encoder<'_, 'py> {
    /// One item of a container: strings and ints, the bulk of most documents, are written here
    /// without a call; everything else goes through `value`.
    ///
    /// # Safety
    /// `ptr` must point to a live object for the duration of the call.
    #[inline(always)]
    unsafe fn item(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<()> {
        let tp = ffi::Py_TYPE(ptr);
        if tp == std::ptr::addr_of_mut!(ffi::PyUnicode_Type) {
            let bytes = self.str_bytes(ptr)?;
            write_str(self.out, bytes);
            Ok(())
        } else if tp == std::ptr::addr_of_mut!(ffi::PyLong_Type) {
            self.int(ptr)
        } else {
            self.value(ptr, depth)
        }
    }

    /// # Safety
    /// `ptr` must point to a live object for the duration of the call.
    #[inline(never)]
    unsafe fn value(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<()> {
        let tp = ffi::Py_TYPE(ptr);
        if tp == std::ptr::addr_of_mut!(ffi::PyUnicode_Type) {
            let bytes = self.str_bytes(ptr)?;
            write_str(self.out, bytes);
        } else if tp == std::ptr::addr_of_mut!(ffi::PyDict_Type) {
            self.dict(ptr, depth)?;
        } else if tp == std::ptr::addr_of_mut!(ffi::PyList_Type) {
            self.list(ptr, depth)?;
        } else if tp == std::ptr::addr_of_mut!(ffi::PyLong_Type) {
            self.int(ptr)?;
        } else if ptr == ffi::Py_None() {
            push_bytes(self.out, b"null");
        } else if ptr == ffi::Py_True() {
            push_bytes(self.out, b"true");
        } else if ptr == ffi::Py_False() {
            push_bytes(self.out, b"false");
        } else if tp == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
            self.float(ffi::PyFloat_AS_DOUBLE(ptr))?;
        } else if tp == std::ptr::addr_of_mut!(ffi::PyTuple_Type) {
            self.tuple(ptr, depth)?;
        } else {
            self.fallback(ptr, depth)?;
        }
        Ok(())
    }

    /// The UTF-8 bytes of a `str`: read in place for compact ASCII strings (the common case),
    /// through CPython's cached UTF-8 form otherwise.
    #[inline(always)]
    unsafe fn str_bytes(&self, ptr: *mut ffi::PyObject) -> PyResult<&'py [u8]> {
        if ffi::PyUnicode_IS_COMPACT_ASCII(ptr) != 0 {
            let len = ffi::PyUnicode_GET_LENGTH(ptr) as usize;
            let data = ffi::_PyUnicode_COMPACT_DATA(ptr) as *const u8;
            return Ok(std::slice::from_raw_parts(data, len));
        }
        self.utf8_bytes(ptr)
    }

    #[cold]
    unsafe fn utf8_bytes(&self, ptr: *mut ffi::PyObject) -> PyResult<&'py [u8]> {
        let mut len: ffi::Py_ssize_t = 0;
        let data = ffi::PyUnicode_AsUTF8AndSize(ptr, &mut len);
        if data.is_null() {
            return Err(PyErr::fetch(self.py));
        }
        Ok(std::slice::from_raw_parts(data as *const u8, len as usize))
    }

    fn check_depth(depth: u32) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(PyValueError::new_err(
                "value nested too deeply to serialize (circular reference?)",
            ));
        }
        Ok(())
    }

    unsafe fn fallback(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<()> {
        let obj = Bound::from_borrowed_ptr(self.py, ptr);
        let not_serializable = || -> PyResult<PyErr> {
            Ok(PyTypeError::new_err(format!(
                "Object of type {} is not JSON serializable",
                obj.get_type().name()?
            )))
        };
        let Some(default) = self.default else {
            return Err(not_serializable()?);
        };
        // Datetimes and UUIDs, written as `json_default` would answer, without calling it.
        if stdlib::write(self.py, ptr, self.out)? {
            return Ok(());
        }
        let converted = default.call1((&obj,))?;
        // Python code ran: any object, key strings included, may have been freed and its
        // address reused, so remembered keys are forgotten.
        self.keys.clear();
        if let Ok(raw) = converted.downcast::<PyBytes>() {
            self.out.extend_from_slice(raw.as_bytes());
            return Ok(());
        }
        if converted.is(&obj) {
            return Err(not_serializable()?);
        }
        Self::check_depth(depth + 1)?;
        self.value(converted.as_ptr(), depth + 1)
    }

    unsafe fn dict(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<()> {
        Self::check_depth(depth)?;
        // Held while walked: a `default` hook deeper down could drop the last other reference.
        let _hold = Bound::from_borrowed_ptr(self.py, ptr);
        self.out.push(b'{');
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut val: *mut ffi::PyObject = std::ptr::null_mut();
        let mut first = true;
        while ffi::PyDict_Next(ptr, &mut pos, &mut key, &mut val) != 0 {
            if !first {
                self.out.push(b',');
            }
            first = false;
            if ffi::PyUnicode_CheckExact(key) != 0 {
                self.str_key(key)?;
                self.item(val, depth + 1)?;
            } else {
                // Held: a `default` hook for this key could remove the entry.
                let val = Bound::from_borrowed_ptr(self.py, val);
                self.key(key)?;
                self.out.push(b':');
                self.value(val.as_ptr(), depth + 1)?;
            }
        }
        self.out.push(b'}');
        Ok(())
    }

    /// A string key and its colon, written from the per-call cache when this exact object was
    /// seen before: the dicts of a list usually share their key objects.
    #[inline(always)]
    unsafe fn str_key(&mut self, key: *mut ffi::PyObject) -> PyResult<()> {
        if self.keys.write_cached(key, self.out) {
            return Ok(());
        }
        self.new_str_key(key)
    }

    #[inline(never)]
    unsafe fn new_str_key(&mut self, key: *mut ffi::PyObject) -> PyResult<()> {
        let start = self.out.len();
        let bytes = self.str_bytes(key)?;
        write_str(self.out, bytes);
        self.out.push(b':');
        self.keys.remember(key, &self.out[start..]);
        Ok(())
    }

    unsafe fn key(&mut self, ptr: *mut ffi::PyObject) -> PyResult<()> {
        let key = Bound::from_borrowed_ptr(self.py, ptr);
        if let Ok(s) = key.downcast::<PyString>() {
            write_str(self.out, s.to_str()?.as_bytes());
            return Ok(());
        }
        let text = if ptr == ffi::Py_None() {
            "null".to_owned()
        } else if ptr == ffi::Py_True() {
            "true".to_owned()
        } else if ptr == ffi::Py_False() {
            "false".to_owned()
        } else if ffi::PyLong_Check(ptr) != 0 || ffi::PyFloat_Check(ptr) != 0 {
            key.str()?.to_str()?.to_owned()
        } else if let Some(default) = self.default {
            let converted = default.call1((&key,))?;
            self.keys.clear();
            match converted.downcast::<PyString>() {
                Ok(s) => s.to_str()?.to_owned(),
                Err(_) => converted.str()?.to_str()?.to_owned(),
            }
        } else {
            return Err(PyTypeError::new_err(format!(
                "keys must be str, int, float, bool or None, not {}",
                key.get_type().name()?
            )));
        };
        write_str(self.out, text.as_bytes());
        Ok(())
    }

    /// A list by index: its length is read again at each step, as Python code (a `default`
    /// hook) could change it.
    unsafe fn list(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<()> {
        Self::check_depth(depth)?;
        let _hold = Bound::from_borrowed_ptr(self.py, ptr);
        self.out.push(b'[');
        let mut i = 0;
        while i < ffi::PyList_GET_SIZE(ptr) {
            if i > 0 {
                self.out.push(b',');
            }
            self.item(ffi::PyList_GET_ITEM(ptr, i), depth + 1)?;
            i += 1;
        }
        self.out.push(b']');
        Ok(())
    }

    /// A tuple cannot change, and holding it holds its items.
    unsafe fn tuple(&mut self, ptr: *mut ffi::PyObject, depth: u32) -> PyResult<()> {
        Self::check_depth(depth)?;
        let _hold = Bound::from_borrowed_ptr(self.py, ptr);
        self.out.push(b'[');
        for i in 0..ffi::PyTuple_GET_SIZE(ptr) {
            if i > 0 {
                self.out.push(b',');
            }
            self.item(ffi::PyTuple_GET_ITEM(ptr, i), depth + 1)?;
        }
        self.out.push(b']');
        Ok(())
    }

    #[inline(always)]
    unsafe fn int(&mut self, ptr: *mut ffi::PyObject) -> PyResult<()> {
        let mut overflow: std::os::raw::c_int = 0;
        let v = ffi::PyLong_AsLongAndOverflow(ptr, &mut overflow);
        if overflow != 0 {
            let obj = Bound::from_borrowed_ptr(self.py, ptr);
            self.out.extend_from_slice(obj.str()?.to_str()?.as_bytes());
        } else if v == -1 && !ffi::PyErr_Occurred().is_null() {
            return Err(PyErr::fetch(self.py));
        } else {
            push_bytes(self.out, itoa::Buffer::new().format(v).as_bytes());
        }
        Ok(())
    }

    fn float(&mut self, v: f64) -> PyResult<()> {
        if !v.is_finite() {
            return Err(PyValueError::new_err(
                "Out of range float values are not JSON compliant",
            ));
        }
        write_f64(self.out, v);
        Ok(())
    }
}

/// Encodes a value to JSON bytes with the Rust encoder (`covet._engine.dumps`).
#[pyfunction]
#[pyo3(signature = (obj, default=None))]
pub fn dumps<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    with_scratch(|out| {
        encode(obj, default, out)?;
        Ok(PyBytes::new(py, out))
    })
}
