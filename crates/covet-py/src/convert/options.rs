//! Reading the options of an engine middleware declaration (a dict from Python).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The option `key`, when given.
pub fn opt<'py, T: FromPyObject<'py>>(o: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>> {
    match o.get_item(key)? {
        Some(value) => value
            .extract()
            .map(Some)
            .map_err(|e| PyValueError::new_err(format!("engine middleware option {key}: {e}"))),
        None => Ok(None),
    }
}
