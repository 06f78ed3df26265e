//! `JwtKeys`: covet-engine's JWT key set and validation rules, seen from Python. Conversion
//! only: claims travel as JSON bytes, refusals as `JwtError(kind, message)`.

use covet_engine::jwt::{self, parse_algorithm, Algorithm, Key, KeySet, Validation};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

create_exception!(
    _engine,
    JwtError,
    PyValueError,
    "A refused token or key: args are (kind, message)."
);

fn to_py(err: jwt::JwtError) -> PyErr {
    JwtError::new_err((err.kind(), err.to_string()))
}

fn algorithm(name: &str) -> PyResult<Algorithm> {
    parse_algorithm(name).map_err(to_py)
}

/// The keys of one issuer or verifier and the claims it requires.
#[pyclass(module = "covet._engine")]
pub struct JwtKeys {
    keys: KeySet,
    validation: Validation,
}

impl JwtKeys {
    /// Verifies a bearer token as the engine's route guard does (see `guard.rs`).
    pub(crate) fn verify_bearer(
        &self,
        token_type: Option<&str>,
        token: &str,
        now: f64,
    ) -> Result<jwt::Verified, String> {
        covet_engine::policy::bearer::verify(&self.keys, &self.validation, token_type, token, now)
    }
}

#[pymethods]
impl JwtKeys {
    #[new]
    #[pyo3(signature = (*, algorithms = Vec::new(), leeway = 0, issuer = None, audience = Vec::new(), required = Vec::new()))]
    fn new(
        algorithms: Vec<String>,
        leeway: u64,
        issuer: Option<String>,
        audience: Vec<String>,
        required: Vec<String>,
    ) -> PyResult<Self> {
        let algorithms = algorithms
            .iter()
            .map(|name| algorithm(name))
            .collect::<PyResult<_>>()?;
        let validation = Validation {
            algorithms,
            leeway,
            issuer,
            audience,
            required,
        };
        Ok(Self {
            keys: KeySet::new(),
            validation,
        })
    }

    fn add_secret(
        &mut self,
        kid: &str,
        algorithm_name: &str,
        secret: &[u8],
        signing: bool,
    ) -> PyResult<()> {
        let key = Key::from_secret(kid, algorithm(algorithm_name)?, secret).map_err(to_py)?;
        self.keys.add(key, signing).map_err(to_py)
    }

    fn add_pem(
        &mut self,
        kid: &str,
        algorithm_name: &str,
        pem: &[u8],
        signing: bool,
    ) -> PyResult<()> {
        let key = Key::from_pem(kid, algorithm(algorithm_name)?, pem).map_err(to_py)?;
        self.keys.add(key, signing).map_err(to_py)
    }

    #[pyo3(signature = (jwks, default_algorithm = None))]
    fn add_jwks(&mut self, jwks: &[u8], default_algorithm: Option<&str>) -> PyResult<Vec<String>> {
        let default = default_algorithm.map(algorithm).transpose()?;
        self.keys.add_jwks(jwks, default).map_err(to_py)
    }

    fn remove(&mut self, kid: &str) -> bool {
        self.keys.remove(kid)
    }

    /// (kid, algorithm, can_sign) for every key, in the order added.
    fn keys(&self) -> Vec<(String, String, bool)> {
        let describe = |k: &Key| {
            (
                k.kid().to_owned(),
                jwt::algorithm_name(k.algorithm()),
                k.can_sign(),
            )
        };
        self.keys.keys().iter().map(describe).collect()
    }

    #[getter]
    fn signing_kid(&self) -> Option<String> {
        self.keys.signing_key().map(|k| k.kid().to_owned())
    }

    fn jwks(&self) -> String {
        self.keys.to_jwks()
    }

    #[pyo3(signature = (claims, kid = None))]
    fn encode(&self, py: Python<'_>, claims: &[u8], kid: Option<&str>) -> PyResult<String> {
        py.allow_threads(|| jwt::encode(&self.keys, claims, kid))
            .map_err(to_py)
    }

    /// Verifies `token` at `now` (Unix seconds); returns (kid, payload JSON bytes).
    fn decode<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        now: f64,
    ) -> PyResult<(String, Bound<'py, PyBytes>)> {
        let verified = py
            .allow_threads(|| jwt::decode(&self.keys, &self.validation, token, now))
            .map_err(to_py)?;
        Ok((verified.kid, PyBytes::new(py, &verified.payload)))
    }
}
