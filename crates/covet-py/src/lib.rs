//! `covet._engine`: the PyO3 binding of covet-engine, in two layers.
//!
//! - `convert`: pure conversions between Python objects and engine types (the request, the
//!   endpoint, argument and policy specs, JSON, forms, HTML). It never imports `protocol`.
//! - `protocol`: everything about one connection driven by the worker's loop (admission by
//!   policy and guard, the body stream, the per-worker server with its connection registry).
//!   `ws` is the upgraded form of a connection and belongs to the same layer.
//!
//! `scripts/check_rust_layers.py` (run by `make lint`) checks both rules and that no modules import
//! each other in a circle.

use pyo3::prelude::*;

mod convert;
mod gil;
mod protocol;
mod ws;

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<convert::router::Router>()?;
    m.add_class::<convert::request::RawRequest>()?;
    m.add_class::<protocol::server::Server>()?;
    m.add_class::<convert::endpoint::EndpointSpec>()?;
    m.add_class::<convert::fastargs::FastSpec>()?;
    m.add_class::<convert::fastargs::ArgSpec>()?;
    m.add_class::<convert::shape::ResponseShape>()?;
    m.add_class::<convert::guard::GuardSpec>()?;
    m.add_class::<convert::guard::JwtCheckSpec>()?;
    m.add_class::<protocol::HttpProtocol>()?;
    m.add_class::<protocol::stream::BodyStream>()?;
    m.add_class::<protocol::static_files::StaticDir>()?;
    m.add_class::<protocol::static_files::StaticAnswer>()?;
    m.add_class::<convert::policy::PyPolicy>()?;
    m.add_class::<convert::policy::PolicyHeaders>()?;
    m.add_class::<ws::conn::WsConnection>()?;
    m.add_class::<ws::group::WebSocketGroup>()?;
    m.add_class::<ws::client::WsClientCodec>()?;
    m.add_function(wrap_pyfunction!(convert::json::dumps, m)?)?;
    m.add_function(wrap_pyfunction!(convert::html::escape_html, m)?)?;
    m.add_function(wrap_pyfunction!(parse_qsl, m)?)?;
    m.add_function(wrap_pyfunction!(protocol::static_files::file_answer, m)?)?;
    m.add_class::<convert::forms::MultipartParser>()?;
    m.add_class::<convert::ratelimit::RateLimiter>()?;
    m.add_class::<convert::jwt::JwtKeys>()?;
    m.add("JwtError", m.py().get_type::<convert::jwt::JwtError>())?;
    m.add("FOUND", convert::router::FOUND)?;
    m.add("NOT_FOUND", convert::router::NOT_FOUND)?;
    m.add("METHOD_NOT_ALLOWED", convert::router::METHOD_NOT_ALLOWED)?;
    m.add("REDIRECT", convert::router::REDIRECT)?;
    m.add("MOUNT", convert::router::MOUNT)?;
    m.add_class::<convert::cache::MemoryCache>()?;
    m.add_class::<convert::response_cache::ResponseCache>()?;
    m.add_class::<protocol::metrics::EngineMetrics>()?;
    Ok(())
}

/// Decodes a query string or urlencoded form into (name, value) pairs, blank values kept.
#[pyfunction]
fn parse_qsl(data: &[u8]) -> Vec<(String, String)> {
    covet_engine::urlencoded::parse_pairs(data)
}
