//! The parsed request as Python sees it: raw pieces kept in Rust, each turned into a Python
//! object only when the handler asks for it (`covet.requests.Request` wraps this and caches).

use covet_engine::http::request::Request as EngineRequest;
use covet_engine::router::ParamValue;
use covet_engine::urlencoded;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use pyo3::{intern, IntoPyObjectExt};

use super::guard::Claims;
use super::router::params_dict;

enum Params {
    Rust(Vec<(String, ParamValue)>),
    Py(Py<PyDict>),
}

#[pyclass(frozen, module = "covet._engine")]
pub struct RawRequest {
    req: EngineRequest,
    params: Params,
    endpoint: Option<usize>,
    client: Option<PyObject>,
    server: Option<PyObject>,
    scheme: String,
    root_path: String,
    /// The `BodyStream` of a body still arriving (covet's own server).
    stream: Option<PyObject>,
    /// Claims the engine's route guard verified (see `guard.rs`).
    claims: Claims,
}

impl RawRequest {
    /// The request with the claims its route guard verified.
    pub fn with_claims(mut self, claims: Claims) -> Self {
        self.claims = claims;
        self
    }

    /// The request as served under `root`, the server's root path (a proxy strips that prefix
    /// before forwarding), when it has one.
    pub fn under(mut self, root: Option<&str>) -> Self {
        if let Some(root) = root {
            root.clone_into(&mut self.root_path);
        }
        self
    }

    /// A request parsed by covet's own server and routed by the engine.
    pub fn from_engine(
        req: EngineRequest,
        params: Vec<(String, ParamValue)>,
        endpoint: Option<usize>,
        client: Option<PyObject>,
        server: Option<PyObject>,
        scheme: &str,
        stream: Option<PyObject>,
    ) -> Self {
        RawRequest {
            req,
            params: Params::Rust(params),
            endpoint,
            client,
            server,
            scheme: scheme.to_owned(),
            root_path: String::new(),
            stream,
            claims: Vec::new(),
        }
    }

    pub fn method_str(&self) -> &str {
        &self.req.method
    }

    pub fn engine_request(&self) -> &EngineRequest {
        &self.req
    }

    pub fn scheme_str(&self) -> &str {
        &self.scheme
    }

    /// The client's host, when known.
    pub fn client_host(&self, py: Python<'_>) -> Option<String> {
        self.client.as_ref().and_then(|c| host_of(c.bind(py)))
    }
}

#[pymethods]
impl RawRequest {
    /// Built by the ASGI adapter and the tests from an ASGI scope's pieces.
    #[new]
    #[pyo3(signature = (method, path, raw_path, query_string, headers, body, http_version="1.1", client=None, server=None, scheme="http", root_path="", endpoint=None, path_params=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        method: String,
        path: String,
        raw_path: Vec<u8>,
        query_string: Vec<u8>,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        body: Vec<u8>,
        http_version: &str,
        client: Option<PyObject>,
        server: Option<PyObject>,
        scheme: &str,
        root_path: &str,
        endpoint: Option<usize>,
        path_params: Option<Py<PyDict>>,
    ) -> Self {
        let headers = headers
            .into_iter()
            .map(|(n, v)| (String::from_utf8_lossy(&n).to_ascii_lowercase(), v))
            .collect();
        let http_minor = if http_version == "1.0" { 0 } else { 1 };
        let req = EngineRequest {
            method,
            path,
            raw_path,
            query: query_string,
            http_minor,
            headers,
            keep_alive: true,
            expect_continue: false,
            body,
            websocket: false,
        };
        RawRequest {
            req,
            params: match path_params {
                Some(d) => Params::Py(d),
                None => Params::Rust(Vec::new()),
            },
            endpoint,
            client,
            server,
            scheme: scheme.to_owned(),
            root_path: root_path.to_owned(),
            stream: None,
            claims: Vec::new(),
        }
    }

    /// The JSON claims of the bearer token the engine verified with the key set `keys`
    /// (`JWTAuth`'s), or None when the engine did not verify one.
    fn verified_claims<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
    ) -> Option<Bound<'py, PyBytes>> {
        let id = keys.as_ptr() as usize;
        self.claims
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, payload)| PyBytes::new(py, payload))
    }

    #[getter]
    fn method<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        match self.req.method.as_str() {
            "GET" => intern!(py, "GET").clone(),
            "POST" => intern!(py, "POST").clone(),
            "PUT" => intern!(py, "PUT").clone(),
            "DELETE" => intern!(py, "DELETE").clone(),
            "PATCH" => intern!(py, "PATCH").clone(),
            "HEAD" => intern!(py, "HEAD").clone(),
            "OPTIONS" => intern!(py, "OPTIONS").clone(),
            other => PyString::new(py, other),
        }
    }

    #[getter]
    fn path(&self) -> &str {
        &self.req.path
    }

    #[getter]
    fn raw_path<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.req.raw_path)
    }

    #[getter]
    fn query_string<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.req.query)
    }

    #[getter]
    fn http_version(&self) -> &'static str {
        if self.req.http_minor == 0 {
            "1.0"
        } else {
            "1.1"
        }
    }

    #[getter]
    fn scheme(&self) -> &str {
        &self.scheme
    }

    #[getter]
    fn root_path(&self) -> &str {
        &self.root_path
    }

    #[getter]
    fn endpoint(&self) -> Option<usize> {
        self.endpoint
    }

    #[getter]
    fn client(&self, py: Python<'_>) -> Option<PyObject> {
        self.client.as_ref().map(|c| c.clone_ref(py))
    }

    #[getter]
    fn server(&self, py: Python<'_>) -> Option<PyObject> {
        self.server.as_ref().map(|c| c.clone_ref(py))
    }

    /// Header (name, value) pairs: names lower-case, values decoded as latin-1 (as HTTP says).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (name, value) in &self.req.headers {
            let value: String = value.iter().map(|&b| b as char).collect();
            list.append((name.as_str(), value))?;
        }
        Ok(list)
    }

    /// Headers as ASGI gives them: a list of (bytes, bytes).
    #[getter]
    fn raw_headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (name, value) in &self.req.headers {
            list.append((PyBytes::new(py, name.as_bytes()), PyBytes::new(py, value)))?;
        }
        Ok(list)
    }

    #[getter]
    fn body_stream(&self, py: Python<'_>) -> Option<PyObject> {
        self.stream.as_ref().map(|s| s.clone_ref(py))
    }

    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.req.body)
    }

    #[getter]
    fn path_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        match &self.params {
            Params::Rust(p) => params_dict(py, p),
            Params::Py(d) => d.bind(py).copy(),
        }
    }

    /// Query string pairs, decoded in Rust (blank values kept).
    fn query_items(&self, py: Python<'_>) -> PyResult<PyObject> {
        urlencoded::parse_pairs(&self.req.query).into_py_any(py)
    }
}

/// The host of a (host, port) peer address.
pub fn host_of(client: &Bound<'_, PyAny>) -> Option<String> {
    client.get_item(0).ok()?.extract().ok()
}
