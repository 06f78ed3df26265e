//! covet-engine: the pure-Rust half of covet.
//!
//! Everything here is sans-IO: the crate parses bytes, frames responses and routes paths, while
//! the caller (the Python binding) owns sockets, timers and the event loop.
//!
//! * [`limits`]: size and time limits for one connection.
//! * [`http`]: request head parsing, body decoding, response framing, dates and errors.
//! * [`connection`]: the HTTP/1.1 connection state machine that turns bytes into requests.
//! * [`router`]: Starlette-style path routing.
//! * [`urlencoded`]: query string and form decoding.
//! * [`multipart`]: `multipart/form-data` decoding.
//! * [`ws`]: the WebSocket protocol (RFC 6455 handshake and frames, RFC 7692 compression).

#![warn(missing_docs)]

pub mod connection;
pub mod http;
pub mod limits;
pub mod multipart;
pub mod router;
pub mod scalars;
pub mod urlencoded;
pub mod ws;
