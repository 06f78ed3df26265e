//! covet-engine: the pure-Rust half of covet.
//!
//! Everything here is sans-IO: the crate parses bytes, frames responses and routes paths, while
//! the caller (the Python binding) owns sockets, timers and the event loop.
//!
//! * [`limits`]: size and time limits for one connection.
//! * [`http`]: request head parsing, body decoding, response framing, dates and errors, and
//!   every response the engine builds itself (`http::answer`).
//! * [`connection`]: the HTTP/1.1 connection state machine that turns bytes into requests.
//! * [`timers`]: what the connection's header, body-pace, keep-alive, drain and linger
//!   timeouts decide.
//! * [`router`]: Starlette-style path routing.
//! * [`urlencoded`]: query string and form decoding.
//! * [`multipart`]: `multipart/form-data` decoding.
//! * [`json_escape`]: JSON string literals, for the binding's encoder.
//! * [`json_number`]: JSON numbers (floats as ryu writes them, decimals on a short path).
//! * [`html_escape`]: HTML text escaping, for the binding's template escaper.
//! * [`access`]: request ids and access lines, formatted and buffered without Python.
//! * [`cache`]: the bounded memory cache (S3-FIFO or LRU) of `covet.cache` and response caching.
//! * [`ratelimit`]: GCRA rate limiting over a bounded in-memory key store.
//! * [`jwt`]: JSON Web Token signing and verification, key sets and JWKS.
//! * [`policy`]: engine middleware (CORS, security headers, trusted hosts, https redirect).
//! * [`metrics`]: per-worker request counters and latency histograms, for Prometheus.
//! * [`static_files`]: static directories answered by the engine (paths, ranges, validators).
//! * [`ws`]: the WebSocket protocol (RFC 6455 handshake and frames, RFC 7692 compression).

#![warn(missing_docs)]

pub mod access;
pub mod cache;
pub mod connection;
pub mod html_escape;
pub mod http;
pub mod json_escape;
pub mod json_number;
pub mod jwt;
pub mod limits;
pub mod metrics;
pub mod multipart;
pub mod policy;
pub mod ratelimit;
pub mod router;
pub mod scalars;
pub mod socket;
pub mod static_files;
pub mod timers;
pub mod urlencoded;
pub mod ws;
