//! The template escaper: what covet's Jinja2 environment calls for every autoescaped value.
//!
//! markupsafe's `escape` wraps each value in a `Markup` through two Python calls; the rendered
//! parts are only joined into one string, so the wrapper is not needed. This returns the text
//! markupsafe would hold, as a plain `str`: a clean string is returned as it is (no copy), an
//! int or float as `str()` of it, an object with `__html__` as what that gives (already safe).

use pyo3::prelude::*;
use pyo3::types::PyString;
use pyo3::{ffi, intern};

/// `value` as HTML-safe text, byte for byte markupsafe's `escape(value)`.
#[pyfunction]
pub fn escape_html<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = value.py();
    let ptr = value.as_ptr();
    // SAFETY: type checks on a live object.
    let (exact_str, number) = unsafe {
        (
            ffi::PyUnicode_CheckExact(ptr) != 0,
            ffi::PyLong_CheckExact(ptr) != 0 || ffi::PyFloat_CheckExact(ptr) != 0,
        )
    };
    if exact_str {
        return escape_str(value.downcast::<PyString>()?);
    }
    if number {
        return Ok(value.str()?.into_any()); // digits, signs, dots, 'e', 'inf', 'nan': nothing to escape
    }
    let html = intern!(py, "__html__");
    if value.hasattr(html)? {
        return value.call_method0(html);
    }
    escape_str(&value.str()?)
}

fn escape_str<'py>(text: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    let Ok(s) = text.to_str() else {
        // Lone surrogates have no UTF-8 form: let Python replace, `&` first.
        let mut out = text.clone().into_any();
        for (from, to) in [
            ("&", "&amp;"),
            ("<", "&lt;"),
            (">", "&gt;"),
            ("\"", "&#34;"),
            ("'", "&#39;"),
        ] {
            out = out.call_method1(intern!(text.py(), "replace"), (from, to))?;
        }
        return Ok(out);
    };
    Ok(match covet_engine::html_escape::escape(s) {
        None => text.clone().into_any(),
        Some(escaped) => PyString::new(text.py(), &escaped).into_any(),
    })
}
