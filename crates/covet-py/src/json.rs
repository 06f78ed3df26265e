//! JSON serialization of Python values, written straight into a byte buffer.
//!
//! The common types (dict, list, tuple, str, int, float, bool, None) are walked here with exact
//! type checks; anything else goes once through the Python `default` hook, which returns either a
//! plain value to encode or `bytes` holding finished JSON (pydantic models, serialized by
//! pydantic-core).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

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
                self.list(obj, depth)?;
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
        let py = dict.py();
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key_ptr: *mut ffi::PyObject = std::ptr::null_mut();
        let mut val_ptr: *mut ffi::PyObject = std::ptr::null_mut();
        let mut first = true;
        // PyDict_Next hands out borrowed references; they are made owned before any Python
        // code (a `default` hook) can run and change the dict.
        while unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key_ptr, &mut val_ptr) } != 0
        {
            let key = unsafe { Bound::from_borrowed_ptr(py, key_ptr) };
            let val = unsafe { Bound::from_borrowed_ptr(py, val_ptr) };
            if !first {
                self.out.push(b',');
            }
            first = false;
            if unsafe { ffi::PyUnicode_CheckExact(key_ptr) } != 0 {
                self.string(unsafe { key.downcast_unchecked::<PyString>() })?;
            } else {
                self.key(&key)?;
            }
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

    /// A list by index: its length is read again at each step, as Python code (a `default`
    /// hook) could change it.
    fn list(&mut self, list: &Bound<'py, PyAny>, depth: u32) -> PyResult<()> {
        let py = list.py();
        self.out.push(b'[');
        let mut i = 0;
        while i < unsafe { ffi::PyList_GET_SIZE(list.as_ptr()) } {
            if i > 0 {
                self.out.push(b',');
            }
            let item =
                unsafe { Bound::from_borrowed_ptr(py, ffi::PyList_GET_ITEM(list.as_ptr(), i)) };
            self.value(&item, depth + 1)?;
            i += 1;
        }
        self.out.push(b']');
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

/// Bytes a JSON string cannot hold as they are: controls, the quote and the backslash.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The index of the first byte that needs escaping, eight bytes at a time: a word with no
/// control byte, quote or backslash is skipped whole.
fn find_escape(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
        let control = word.wrapping_sub(LO * 0x20) & !word & HI;
        let quote = has_zero(word ^ (LO * u64::from(b'"')));
        let backslash = has_zero(word ^ (LO * u64::from(b'\\')));
        if control | quote | backslash != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[b as usize])
        .map(|p| i + p)
}

/// Writes `s` as a JSON string literal; non-ASCII text is kept as UTF-8.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = s.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    // Copy the runs between escapes whole; most strings have none.
    while let Some(pos) = find_escape(rest) {
        out.extend_from_slice(&rest[..pos]);
        let b = rest[pos];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]),
        }
        rest = &rest[pos + 1..];
    }
    out.extend_from_slice(rest);
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
    with_scratch(|out| {
        encode(obj, default, out)?;
        Ok(PyBytes::new(py, out))
    })
}
