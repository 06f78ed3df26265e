//! `covet._engine`: the PyO3 binding of covet-engine. Conversions between engine types and
//! Python objects, and the asyncio protocol that drives the engine from the worker's loop.

use pyo3::prelude::*;

mod dispatch;
mod fastargs;
mod forms;
mod gil;
mod guard;
mod html;
mod json;
mod jwt;
mod metrics;
mod policy;
mod policy_ratelimit;
mod protocol;
mod ratelimit;
mod request;
mod router;
mod server;
mod shape;
mod stream;
mod ws;

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<router::Router>()?;
    m.add_class::<request::RawRequest>()?;
    m.add_class::<server::Server>()?;
    m.add_class::<protocol::HttpProtocol>()?;
    m.add_class::<stream::BodyStream>()?;
    m.add_class::<policy::PyPolicy>()?;
    m.add_class::<policy::PolicyHeaders>()?;
    m.add_class::<ws::conn::WsConnection>()?;
    m.add_class::<ws::group::WebSocketGroup>()?;
    m.add_class::<ws::client::WsClientCodec>()?;
    m.add_function(wrap_pyfunction!(json::dumps, m)?)?;
    m.add_function(wrap_pyfunction!(html::escape_html, m)?)?;
    m.add_function(wrap_pyfunction!(parse_qsl, m)?)?;
    m.add_class::<forms::MultipartParser>()?;
    m.add_class::<ratelimit::RateLimiter>()?;
    m.add_class::<jwt::JwtKeys>()?;
    m.add_class::<metrics::EngineMetrics>()?;
    m.add("JwtError", m.py().get_type::<jwt::JwtError>())?;
    m.add("FOUND", router::FOUND)?;
    m.add("NOT_FOUND", router::NOT_FOUND)?;
    m.add("METHOD_NOT_ALLOWED", router::METHOD_NOT_ALLOWED)?;
    m.add("REDIRECT", router::REDIRECT)?;
    m.add("MOUNT", router::MOUNT)?;
    Ok(())
}

/// Decodes a query string or urlencoded form into (name, value) pairs, blank values kept.
#[pyfunction]
fn parse_qsl(data: &[u8]) -> Vec<(String, String)> {
    covet_engine::urlencoded::parse_pairs(data)
}
