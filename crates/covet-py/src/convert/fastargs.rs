//! Handler arguments built in Rust for the simplest typed endpoints.
//!
//! An endpoint whose parameters are all path or query scalars (`int`, `float`, `str`, `bool`,
//! optionally `| None`, with plain defaults and no constraints) gets its keyword arguments
//! straight from the router's parameters and the query string, with no `Request` object and
//! no pydantic call. Only input whose meaning is unambiguous is converted here (canonical
//! integers and decimals, the usual boolean words); anything else, and any missing required
//! value, returns `None` so that pydantic validates the request and writes the 422 exactly
//! as it always does.

use std::sync::Arc;

use covet_engine::router::ParamValue;
use covet_engine::scalars::{bool_word, canonical_float, canonical_int};
use covet_engine::urlencoded;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString, PyTuple, PyType};

/// How to convert one argument.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Str,
    Bool,
}

/// One argument the engine may build itself, as Python declares it:
/// `ArgSpec(name, key, kind, *, from_path, required, default=None)`, where `kind` is one of
/// `ArgSpec.KINDS` (`int`, `float`, `str`, `bool`: the annotation itself, `| None` stripped).
#[pyclass(frozen, module = "covet._engine")]
pub struct ArgSpec {
    name: Py<PyString>,
    from_path: bool,
    key: String,
    kind: Kind,
    default: Option<PyObject>,
}

#[pymethods]
impl ArgSpec {
    #[new]
    #[pyo3(signature = (name, key, kind, *, from_path, required, default=None))]
    fn new(
        py: Python<'_>,
        name: &str,
        key: String,
        kind: &Bound<'_, PyType>,
        from_path: bool,
        required: bool,
        default: Option<PyObject>,
    ) -> PyResult<Self> {
        let kind = if kind.is(&py.get_type::<PyBool>()) {
            Kind::Bool
        } else if kind.is(&py.get_type::<PyInt>()) {
            Kind::Int
        } else if kind.is(&py.get_type::<PyFloat>()) {
            Kind::Float
        } else if kind.is(&py.get_type::<PyString>()) {
            Kind::Str
        } else {
            return Err(PyValueError::new_err(format!(
                "the engine builds no argument of type {kind}"
            )));
        };
        Ok(ArgSpec {
            name: PyString::intern(py, name).unbind(),
            from_path,
            key,
            kind,
            default: (!required).then(|| default.unwrap_or_else(|| py.None())),
        })
    }

    /// The annotations the engine converts itself.
    #[classattr]
    #[allow(non_snake_case)]
    fn KINDS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let kinds = [
            py.get_type::<PyInt>(),
            py.get_type::<PyFloat>(),
            py.get_type::<PyString>(),
            py.get_type::<PyBool>(),
        ];
        Ok(PyTuple::new(py, kinds)?.unbind())
    }
}

/// An endpoint whose arguments the engine builds:
/// `FastSpec(handler, args, *, body=None, validate_body=None)`, where `body` names a JSON body
/// parameter and `validate_body` is pydantic-core's `validate_json` for it.
#[pyclass(frozen, module = "covet._engine")]
pub struct FastSpec {
    handler: PyObject,
    args: Vec<Py<ArgSpec>>,
    body: Option<(Py<PyString>, PyObject)>,
}

#[pymethods]
impl FastSpec {
    #[new]
    #[pyo3(signature = (handler, args, *, body=None, validate_body=None))]
    fn new(
        py: Python<'_>,
        handler: PyObject,
        args: Vec<Py<ArgSpec>>,
        body: Option<&str>,
        validate_body: Option<PyObject>,
    ) -> PyResult<Self> {
        let body = match (body, validate_body) {
            (Some(name), Some(validate)) => Some((PyString::intern(py, name).unbind(), validate)),
            (None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "body and validate_body come together",
                ))
            }
        };
        Ok(FastSpec {
            handler,
            args,
            body,
        })
    }
}

struct FastArg {
    name: Py<PyString>,
    from_path: bool,
    key: String,
    kind: Kind,
    default: Option<PyObject>,
}

/// Everything the engine needs to call an endpoint with arguments built here.
pub struct FastCall {
    /// The handler itself.
    pub handler: PyObject,
    args: Vec<FastArg>,
    /// A JSON body parameter: its name and pydantic-core's `validate_json` for it.
    body: Option<(Py<PyString>, PyObject)>,
}

impl FastCall {
    pub fn new(py: Python<'_>, spec: &FastSpec) -> Arc<Self> {
        let args = spec
            .args
            .iter()
            .map(|a| {
                let a = a.get();
                FastArg {
                    name: a.name.clone_ref(py),
                    from_path: a.from_path,
                    key: a.key.clone(),
                    kind: a.kind,
                    default: a.default.as_ref().map(|d| d.clone_ref(py)),
                }
            })
            .collect();
        let body = spec
            .body
            .as_ref()
            .map(|(name, validate)| (name.clone_ref(py), validate.clone_ref(py)));
        Arc::new(FastCall {
            handler: spec.handler.clone_ref(py),
            args,
            body,
        })
    }

    /// The keyword arguments, or `None` when pydantic must look at this request.
    pub fn kwargs<'py>(
        &self,
        py: Python<'py>,
        params: &[(String, ParamValue)],
        query: &[u8],
        body: &[u8],
        content_type: Option<&[u8]>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let pairs = if self.args.iter().any(|a| !a.from_path) && !query.is_empty() {
            urlencoded::parse_pairs(query)
        } else {
            Vec::new()
        };
        let kwargs = PyDict::new(py);
        for arg in &self.args {
            let value = if arg.from_path {
                match params.iter().find(|(name, _)| *name == arg.key) {
                    Some((_, value)) => from_path(py, arg.kind, value)?,
                    None => return Ok(None),
                }
            } else {
                // The last occurrence wins, as Starlette's QueryParams.get does.
                match pairs.iter().rev().find(|(name, _)| *name == arg.key) {
                    Some((_, text)) => from_text(py, arg.kind, text)?,
                    None => match &arg.default {
                        Some(default) => Some(default.clone_ref(py)),
                        None => return Ok(None),
                    },
                }
            };
            match value {
                Some(value) => kwargs.set_item(arg.name.bind(py), value)?,
                None => return Ok(None),
            }
        }
        if let Some((name, validate)) = &self.body {
            // Empty, or not declared as JSON: pydantic's path reports it as FastAPI does. No
            // Content-Type at all: Python applies the route's `strict_content_type`.
            if body.is_empty() || !content_type.is_some_and(is_json) {
                return Ok(None);
            }
            match validate.bind(py).call1((PyBytes::new(py, body),)) {
                Ok(value) => kwargs.set_item(name.bind(py), value)?,
                Err(_) => return Ok(None),
            }
        }
        Ok(Some(kwargs))
    }
}

/// `application/json` or `application/*+json`, parameters ignored.
fn is_json(content_type: &[u8]) -> bool {
    let media = content_type.split(|&b| b == b';').next().unwrap_or(b"");
    let media = media.trim_ascii().to_ascii_lowercase();
    media == b"application/json"
        || (media.starts_with(b"application/") && media.ends_with(b"+json"))
}

fn from_path(py: Python<'_>, kind: Kind, value: &ParamValue) -> PyResult<Option<PyObject>> {
    Ok(match (kind, value) {
        (Kind::Int, ParamValue::Int(i)) => Some(i.into_pyobject(py)?.into_any().unbind()),
        (Kind::Float, ParamValue::Float(f)) => Some(f.into_pyobject(py)?.into_any().unbind()),
        (Kind::Float, ParamValue::Int(i)) => {
            Some((*i as f64).into_pyobject(py)?.into_any().unbind())
        }
        (_, ParamValue::Str(text)) => return from_text(py, kind, text),
        _ => None,
    })
}

fn from_text(py: Python<'_>, kind: Kind, text: &str) -> PyResult<Option<PyObject>> {
    Ok(match kind {
        Kind::Str => Some(PyString::new(py, text).into_any().unbind()),
        Kind::Int => canonical_int(text)
            .map(|i| i.into_pyobject(py).map(|o| o.into_any().unbind()))
            .transpose()?,
        Kind::Float => canonical_float(text)
            .map(|f| f.into_pyobject(py).map(|o| o.into_any().unbind()))
            .transpose()?,
        Kind::Bool => bool_word(text).map(|b| {
            pyo3::types::PyBool::new(py, b)
                .to_owned()
                .into_any()
                .unbind()
        }),
    })
}
