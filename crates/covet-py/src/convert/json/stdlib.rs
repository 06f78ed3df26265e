//! Standard-library values a response commonly holds (datetimes, dates, times, UUIDs), written
//! by the encoder itself with the exact text `json_default` gives them (`isoformat()`, `str()`).
//!
//! Only the exact types are read here, and only when the answer needs no Python code: a
//! datetime's time zone must be absent or a `datetime.timezone` (whose `utcoffset` is C code).
//! Subclasses, other time zones (`zoneinfo`, pytz) and anything else go to the `default` hook.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyString, PyType};

use covet_engine::json_escape::push_bytes;

static UUID_TYPE: GILOnceCell<Py<PyType>> = GILOnceCell::new();
static TIMEZONE_TYPE: GILOnceCell<Py<PyType>> = GILOnceCell::new();
static UTCOFFSET: GILOnceCell<Py<PyString>> = GILOnceCell::new();
static INT: GILOnceCell<Py<PyString>> = GILOnceCell::new();

/// Looks up the types and names read here, once per process. Called before an encoding walk
/// starts: importing a module runs Python code, which the walk must not do in its midst.
pub fn prepare(py: Python<'_>) -> PyResult<()> {
    if UTCOFFSET.get(py).is_some() {
        return Ok(());
    }
    // SAFETY: the GIL is held.
    unsafe { load_datetime_api() };
    UUID_TYPE.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        Ok(py
            .import("uuid")?
            .getattr("UUID")?
            .downcast_into::<PyType>()?
            .unbind())
    })?;
    TIMEZONE_TYPE.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        Ok(py
            .import("datetime")?
            .getattr("timezone")?
            .downcast_into::<PyType>()?
            .unbind())
    })?;
    INT.get_or_init(py, || PyString::intern(py, "int").unbind());
    UTCOFFSET.get_or_init(py, || PyString::intern(py, "utcoffset").unbind());
    Ok(())
}

/// Writes `ptr` as a JSON string when it is an exact datetime, date, time or UUID that can be
/// read without running Python code; returns false (writing nothing) otherwise, or when
/// `prepare` has not succeeded.
///
/// # Safety
/// `ptr` must point to a live object for the duration of the call.
pub unsafe fn write(py: Python<'_>, ptr: *mut ffi::PyObject, out: &mut Vec<u8>) -> PyResult<bool> {
    let (Some(int), Some(utcoffset), Some(uuid_type), Some(timezone_type)) = (
        INT.get(py),
        UTCOFFSET.get(py),
        UUID_TYPE.get(py),
        TIMEZONE_TYPE.get(py),
    ) else {
        return Ok(false);
    };
    let names = Names {
        int: int.as_ptr(),
        utcoffset: utcoffset.as_ptr(),
        timezone: timezone_type.as_ptr().cast(),
    };
    let tp = ffi::Py_TYPE(ptr);
    let api = ffi::PyDateTimeAPI();
    if !api.is_null() {
        let api = &*api;
        if tp == api.DateTimeType {
            return datetime(py, ptr, &names, out);
        }
        if tp == api.DateType {
            let mut text = Text::new();
            text.date(ptr);
            text.finish(out);
            return Ok(true);
        }
        if tp == api.TimeType {
            return time(py, ptr, &names, out);
        }
    }
    if tp == uuid_type.as_ptr().cast() {
        return uuid(py, ptr, &names, out);
    }
    Ok(false)
}

/// What `prepare` looked up, as raw pointers (held by the statics for the process's life).
struct Names {
    int: *mut ffi::PyObject,
    utcoffset: *mut ffi::PyObject,
    timezone: *mut ffi::PyTypeObject,
}

/// Loads the datetime C API (`PyDateTimeAPI`), which `write` reads when it is there.
unsafe fn load_datetime_api() {
    if ffi::PyDateTimeAPI().is_null() {
        ffi::PyDateTime_IMPORT();
        if ffi::PyDateTimeAPI().is_null() {
            ffi::PyErr_Clear();
        }
    }
}

unsafe fn datetime(
    py: Python<'_>,
    ptr: *mut ffi::PyObject,
    names: &Names,
    out: &mut Vec<u8>,
) -> PyResult<bool> {
    let tz = ffi::PyDateTime_DATE_GET_TZINFO(ptr);
    let mut text = Text::new();
    text.date(ptr);
    text.push(b'T');
    text.clock(
        ffi::PyDateTime_DATE_GET_HOUR(ptr),
        ffi::PyDateTime_DATE_GET_MINUTE(ptr),
        ffi::PyDateTime_DATE_GET_SECOND(ptr),
        ffi::PyDateTime_DATE_GET_MICROSECOND(ptr),
    );
    if !text.offset(py, names, tz, ptr)? {
        return Ok(false);
    }
    text.finish(out);
    Ok(true)
}

unsafe fn time(
    py: Python<'_>,
    ptr: *mut ffi::PyObject,
    names: &Names,
    out: &mut Vec<u8>,
) -> PyResult<bool> {
    let tz = ffi::PyDateTime_TIME_GET_TZINFO(ptr);
    let mut text = Text::new();
    text.clock(
        ffi::PyDateTime_TIME_GET_HOUR(ptr),
        ffi::PyDateTime_TIME_GET_MINUTE(ptr),
        ffi::PyDateTime_TIME_GET_SECOND(ptr),
        ffi::PyDateTime_TIME_GET_MICROSECOND(ptr),
    );
    // A time's offset is asked with None, as `time.isoformat` does.
    if !text.offset(py, names, tz, ffi::Py_None())? {
        return Ok(false);
    }
    text.finish(out);
    Ok(true)
}

/// `str(uuid)`: the 128-bit `int` attribute as 8-4-4-4-12 lowercase hex digits.
unsafe fn uuid(
    py: Python<'_>,
    ptr: *mut ffi::PyObject,
    names: &Names,
    out: &mut Vec<u8>,
) -> PyResult<bool> {
    let value = ffi::PyObject_GetAttr(ptr, names.int);
    if value.is_null() {
        return Err(PyErr::fetch(py));
    }
    let value = Bound::from_owned_ptr(py, value);
    if ffi::PyLong_CheckExact(value.as_ptr()) == 0 {
        return Ok(false);
    }
    let mut raw = [0u8; 16];
    if ffi::_PyLong_AsByteArray(value.as_ptr().cast(), raw.as_mut_ptr(), 16, 0, 0) != 0 {
        // Negative or wider than 128 bits: not a UUID `str()` would print this way.
        ffi::PyErr_Clear();
        return Ok(false);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 32];
    for (i, byte) in raw.iter().enumerate() {
        hex[2 * i] = HEX[(byte >> 4) as usize];
        hex[2 * i + 1] = HEX[(byte & 0xf) as usize];
    }
    let mut text = [b'-'; 38];
    text[0] = b'"';
    text[1..9].copy_from_slice(&hex[0..8]);
    text[10..14].copy_from_slice(&hex[8..12]);
    text[15..19].copy_from_slice(&hex[12..16]);
    text[20..24].copy_from_slice(&hex[16..20]);
    text[25..37].copy_from_slice(&hex[20..32]);
    text[37] = b'"';
    out.extend_from_slice(&text);
    Ok(true)
}

/// "00" to "99".
static PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        pairs[2 * i] = b'0' + (i / 10) as u8;
        pairs[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    pairs
};

/// A quoted ISO 8601 text built on the stack (the longest, a datetime with an offset holding
/// microseconds, is 48 bytes).
struct Text {
    buf: [u8; 64],
    len: usize,
}

impl Text {
    fn new() -> Text {
        Text {
            buf: [b'"'; 64],
            len: 1,
        }
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `value` (0..100) as two decimal digits.
    fn two(&mut self, value: i32) {
        let at = (value as usize % 100) * 2;
        self.buf[self.len..self.len + 2].copy_from_slice(&PAIRS[at..at + 2]);
        self.len += 2;
    }

    /// `value` as exactly `width` (even) decimal digits; the fields are in range, never wider.
    fn digits(&mut self, value: i32, width: usize) {
        let mut v = value.unsigned_abs();
        for i in (0..width / 2).rev() {
            let at = (v % 100) as usize * 2;
            self.buf[self.len + 2 * i..self.len + 2 * i + 2].copy_from_slice(&PAIRS[at..at + 2]);
            v /= 100;
        }
        self.len += width;
    }

    /// `YYYY-MM-DD` of a date or datetime.
    unsafe fn date(&mut self, ptr: *mut ffi::PyObject) {
        self.digits(ffi::PyDateTime_GET_YEAR(ptr), 4);
        self.push(b'-');
        self.two(ffi::PyDateTime_GET_MONTH(ptr));
        self.push(b'-');
        self.two(ffi::PyDateTime_GET_DAY(ptr));
    }

    /// `HH:MM:SS`, with `.ffffff` when there are microseconds.
    fn clock(&mut self, hour: i32, minute: i32, second: i32, micro: i32) {
        self.two(hour);
        self.push(b':');
        self.two(minute);
        self.push(b':');
        self.two(second);
        if micro != 0 {
            self.push(b'.');
            self.digits(micro, 6);
        }
    }

    /// The UTC offset as `isoformat` writes it (`+HH:MM`, with `:SS` and `.ffffff` when not
    /// zero), nothing for a naive value; false when `tz` is not a `datetime.timezone`.
    unsafe fn offset(
        &mut self,
        py: Python<'_>,
        names: &Names,
        tz: *mut ffi::PyObject,
        arg: *mut ffi::PyObject,
    ) -> PyResult<bool> {
        if tz == ffi::Py_None() {
            return Ok(true);
        }
        if tz == ffi::PyDateTime_TimeZone_UTC() {
            self.extend(b"+00:00");
            return Ok(true);
        }
        if ffi::Py_TYPE(tz) != names.timezone {
            return Ok(false);
        }
        let delta = ffi::PyObject_CallMethodOneArg(tz, names.utcoffset, arg);
        if delta.is_null() {
            return Err(PyErr::fetch(py));
        }
        let delta = Bound::from_owned_ptr(py, delta);
        let delta = delta.as_ptr();
        if delta == ffi::Py_None() {
            return Ok(true);
        }
        if ffi::PyDelta_CheckExact(delta) == 0 {
            return Ok(false);
        }
        let days = ffi::PyDateTime_DELTA_GET_DAYS(delta);
        let mut seconds = ffi::PyDateTime_DELTA_GET_SECONDS(delta);
        let mut micro = ffi::PyDateTime_DELTA_GET_MICROSECONDS(delta);
        // A timezone's offset is strictly within a day: days is 0 or -1.
        if days < 0 {
            self.push(b'-');
            // -(days*86400 + seconds + micro/1e6), with days == -1.
            let total = 86_400 * 1_000_000i64 - (seconds as i64 * 1_000_000 + micro as i64);
            seconds = (total / 1_000_000) as i32;
            micro = (total % 1_000_000) as i32;
        } else {
            self.push(b'+');
        }
        self.two(seconds / 3600);
        self.push(b':');
        self.two(seconds / 60 % 60);
        if seconds % 60 != 0 || micro != 0 {
            self.push(b':');
            self.two(seconds % 60);
            if micro != 0 {
                self.push(b'.');
                self.digits(micro, 6);
            }
        }
        Ok(true)
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn finish(mut self, out: &mut Vec<u8>) {
        self.push(b'"');
        push_bytes(out, &self.buf[..self.len]);
    }
}
