//! JSON serialization of Python values, written straight into a byte buffer.
//!
//! The common types (dict, list, tuple, str, int, float, bool, None) are walked here with exact
//! type checks; anything else goes once through the Python `default` hook, which returns either a
//! plain value to encode or `bytes` holding finished JSON (pydantic models, serialized by
//! pydantic-core).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

const MAX_DEPTH: u32 = 255;

/// Serializes `obj` as JSON, appending to `out`.
pub fn encode(
    obj: &Bound<'_, PyAny>,
    default: Option<&Bound<'_, PyAny>>,
    out: &mut Vec<u8>,
) -> PyResult<()> {
    Encoder { default, out }.value(obj, 0)
}

struct Encoder<'a, 'py> {
    default: Option<&'a Bound<'py, PyAny>>,
    out: &'a mut Vec<u8>,
}

impl<'py> Encoder<'_, 'py> {
    fn value(&mut self, obj: &Bound<'py, PyAny>, depth: u32) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(PyValueError::new_err(
                "value nested too deeply to serialize (circular reference?)",
            ));
        }
        let ptr = obj.as_ptr();
        unsafe {
            if ptr == ffi::Py_None() {
                self.out.extend_from_slice(b"null");
            } else if ptr == ffi::Py_True() {
                self.out.extend_from_slice(b"true");
            } else if ptr == ffi::Py_False() {
                self.out.extend_from_slice(b"false");
            } else if ffi::PyUnicode_CheckExact(ptr) != 0 {
                self.string(obj.downcast_unchecked::<PyString>())?;
            } else if ffi::PyDict_CheckExact(ptr) != 0 {
                self.dict(obj.downcast_unchecked::<PyDict>(), depth)?;
            } else if ffi::PyList_CheckExact(ptr) != 0 {
                let list = obj.downcast_unchecked::<PyList>();
                self.sequence(list.iter(), depth)?;
            } else if ffi::PyLong_CheckExact(ptr) != 0 {
                self.int(obj)?;
            } else if ffi::PyFloat_CheckExact(ptr) != 0 {
                self.float(ffi::PyFloat_AS_DOUBLE(ptr))?;
            } else if ffi::PyTuple_CheckExact(ptr) != 0 {
                let tuple = obj.downcast_unchecked::<PyTuple>();
                self.sequence(tuple.iter(), depth)?;
            } else {
                self.fallback(obj, depth)?;
            }
        }
        Ok(())
    }

    fn fallback(&mut self, obj: &Bound<'py, PyAny>, depth: u32) -> PyResult<()> {
        let Some(default) = self.default else {
            return Err(PyTypeError::new_err(format!(
                "Object of type {} is not JSON serializable",
                obj.get_type().name()?
            )));
        };
        let converted = default.call1((obj,))?;
        if let Ok(raw) = converted.downcast::<PyBytes>() {
            self.out.extend_from_slice(raw.as_bytes());
            return Ok(());
        }
        if converted.is(obj) {
            return Err(PyTypeError::new_err(format!(
                "Object of type {} is not JSON serializable",
                obj.get_type().name()?
            )));
        }
        self.value(&converted, depth + 1)
    }

    fn dict(&mut self, dict: &Bound<'py, PyDict>, depth: u32) -> PyResult<()> {
        self.out.push(b'{');
        let mut first = true;
        for (key, val) in dict.iter() {
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.key(&key)?;
            self.out.push(b':');
            self.value(&val, depth + 1)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    fn key(&mut self, key: &Bound<'py, PyAny>) -> PyResult<()> {
        if let Ok(s) = key.downcast::<PyString>() {
            return self.string(s);
        }
        let ptr = key.as_ptr();
        let text = unsafe {
            if ptr == ffi::Py_None() {
                "null".to_owned()
            } else if ptr == ffi::Py_True() {
                "true".to_owned()
            } else if ptr == ffi::Py_False() {
                "false".to_owned()
            } else if ffi::PyLong_Check(ptr) != 0 || ffi::PyFloat_Check(ptr) != 0 {
                key.str()?.to_str()?.to_owned()
            } else if let Some(default) = self.default {
                let converted = default.call1((key,))?;
                match converted.downcast::<PyString>() {
                    Ok(s) => s.to_str()?.to_owned(),
                    Err(_) => converted.str()?.to_str()?.to_owned(),
                }
            } else {
                return Err(PyTypeError::new_err(format!(
                    "keys must be str, int, float, bool or None, not {}",
                    key.get_type().name()?
                )));
            }
        };
        write_str(self.out, &text);
        Ok(())
    }

    fn sequence<I>(&mut self, items: I, depth: u32) -> PyResult<()>
    where
        I: Iterator<Item = Bound<'py, PyAny>>,
    {
        self.out.push(b'[');
        let mut first = true;
        for item in items {
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.value(&item, depth + 1)?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn string(&mut self, s: &Bound<'py, PyString>) -> PyResult<()> {
        write_str(self.out, s.to_str()?);
        Ok(())
    }

    fn int(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<()> {
        match obj.extract::<i64>() {
            Ok(v) => self
                .out
                .extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
            Err(_) => self.out.extend_from_slice(obj.str()?.to_str()?.as_bytes()),
        }
        Ok(())
    }

    fn float(&mut self, v: f64) -> PyResult<()> {
        if !v.is_finite() {
            return Err(PyValueError::new_err(
                "Out of range float values are not JSON compliant",
            ));
        }
        self.out
            .extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
        Ok(())
    }
}

/// Writes `s` as a JSON string literal; non-ASCII text is kept as UTF-8.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Encodes a value to JSON bytes with the Rust encoder (`covet._engine.dumps`).
#[pyfunction]
#[pyo3(signature = (obj, default=None))]
pub fn dumps<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut out = Vec::with_capacity(128);
    encode(obj, default, &mut out)?;
    Ok(PyBytes::new(py, &out))
}
