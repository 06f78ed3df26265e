//! The engine's router as a Python object: built once at startup, then shared by covet's own
//! server (which routes in Rust) and the ASGI adapter (which asks it from Python).

use covet_engine::router::{Lookup, ParamValue, Router as EngineRouter};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyTuple};

/// Lookup outcomes as small integers, for the Python side.
pub const FOUND: u8 = 0;
pub const NOT_FOUND: u8 = 1;
pub const METHOD_NOT_ALLOWED: u8 = 2;
pub const REDIRECT: u8 = 3;
pub const MOUNT: u8 = 4;

#[pyclass(frozen, module = "covet._engine")]
pub struct Router {
    pub inner: std::sync::RwLock<EngineRouter>,
}

#[pymethods]
impl Router {
    #[new]
    #[pyo3(signature = (redirect_slashes = true))]
    fn new(redirect_slashes: bool) -> Self {
        Router {
            inner: std::sync::RwLock::new(EngineRouter::new(redirect_slashes)),
        }
    }

    /// Adds a route; raises ValueError naming the conflict or the bad pattern.
    #[pyo3(signature = (path, methods, endpoint, name = None))]
    fn add(
        &self,
        path: &str,
        methods: Option<Vec<String>>,
        endpoint: usize,
        name: Option<&str>,
    ) -> PyResult<()> {
        let methods: Option<Vec<&str>> = methods
            .as_ref()
            .map(|m| m.iter().map(String::as_str).collect());
        self.inner
            .write()
            .unwrap()
            .add(path, methods.as_deref(), endpoint, name)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    #[pyo3(signature = (prefix, endpoint, name = None))]
    fn mount(&self, prefix: &str, endpoint: usize, name: Option<&str>) -> PyResult<()> {
        self.inner
            .write()
            .unwrap()
            .mount(prefix, endpoint, name)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Returns (outcome, endpoint or None, params dict or extra string, head_from_get).
    fn lookup<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let found = self.inner.read().unwrap().lookup(method, path);
        lookup_tuple(py, found)
    }

    fn url_path_for(&self, name: &str, params: &Bound<'_, PyDict>) -> PyResult<String> {
        let mut owned: Vec<(String, String)> = Vec::with_capacity(params.len());
        for (k, v) in params.iter() {
            owned.push((k.extract()?, v.str()?.to_str()?.to_owned()));
        }
        let pairs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.inner
            .read()
            .unwrap()
            .url_path_for(name, &pairs)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn __len__(&self) -> usize {
        self.inner.read().unwrap().len()
    }
}

/// Path parameters as a Python dict, values already converted (int, float or str).
pub fn params_dict<'py>(
    py: Python<'py>,
    params: &[(String, ParamValue)],
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in params {
        match value {
            ParamValue::Str(s) => dict.set_item(name, s)?,
            ParamValue::Int(i) => dict.set_item(name, i)?,
            ParamValue::Float(f) => dict.set_item(name, f)?,
            ParamValue::Uuid(s) => dict.set_item(name, uuid_class(py)?.call1((s,))?)?,
        }
    }
    Ok(dict)
}

/// `uuid.UUID`, imported once.
fn uuid_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static UUID: GILOnceCell<PyObject> = GILOnceCell::new();
    UUID.get_or_try_init(py, || Ok(py.import("uuid")?.getattr("UUID")?.unbind()))
        .map(|c| c.bind(py))
}

fn lookup_tuple(py: Python<'_>, found: Lookup) -> PyResult<Bound<'_, PyTuple>> {
    let none = py.None();
    let tuple = match found {
        Lookup::Found {
            endpoint,
            params,
            head_from_get,
        } => (
            FOUND,
            endpoint.into_pyobject(py)?.into_any().unbind(),
            params_dict(py, &params)?.into_any().unbind(),
            head_from_get,
        )
            .into_pyobject(py)?,
        Lookup::Mount {
            endpoint,
            root_path,
            rest,
        } => (
            MOUNT,
            endpoint.into_pyobject(py)?.into_any().unbind(),
            (root_path, rest).into_pyobject(py)?.into_any().unbind(),
            false,
        )
            .into_pyobject(py)?,
        Lookup::MethodNotAllowed { allow } => (
            METHOD_NOT_ALLOWED,
            none.clone_ref(py),
            allow.into_pyobject(py)?.into_any().unbind(),
            false,
        )
            .into_pyobject(py)?,
        Lookup::Redirect { location_path } => (
            REDIRECT,
            none.clone_ref(py),
            location_path.into_pyobject(py)?.into_any().unbind(),
            false,
        )
            .into_pyobject(py)?,
        Lookup::NotFound => (NOT_FOUND, none.clone_ref(py), none, false).into_pyobject(py)?,
    };
    Ok(tuple)
}
