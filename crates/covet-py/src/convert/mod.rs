//! Pure conversions between Python objects and engine types: no connection, no transport, no
//! loop. Nothing here imports `protocol` or `ws` (`scripts/check_rust_layers.py` checks it), so a
//! conversion can be used by the connection, the ASGI adapter and the tests alike.
//!
//! - `request`: the parsed request as Python sees it (`RawRequest`), built lazily.
//! - `endpoint`, `fastargs`, `shape`: the endpoint table and what the engine may do for an
//!   endpoint by itself (arguments it builds, response models it checks), from named specs.
//! - `policy`, `policy_ratelimit`, `options`, `guard`, `jwt`: engine middleware and route
//!   guards built from Python's declarations.
//! - `json`, `forms`, `html`, `router`, `ratelimit`: encoders, parsers and engine objects
//!   exposed to Python.
//! - `cache`, `response_cache`: the memory cache level, and a route's response cache in it.

pub mod cache;
pub mod endpoint;
pub mod fastargs;
pub mod forms;
pub mod guard;
pub mod html;
pub mod json;
pub mod jwt;
pub mod options;
pub mod policy;
pub mod policy_ratelimit;
pub mod ratelimit;
pub mod request;
pub mod response_cache;
pub mod router;
pub mod shape;
