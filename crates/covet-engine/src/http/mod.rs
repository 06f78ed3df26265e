//! HTTP/1.x wire format: request heads, bodies, responses, dates and protocol errors, and the
//! responses the engine answers with itself (`answer`).

pub mod answer;
pub mod body;
pub mod date;
pub mod error;
pub mod request;
pub mod response;

pub use body::{BodyKind, ChunkedDecoder};
pub use error::HttpError;
pub use request::{parse_head, Request};
pub use response::{
    finish_head, is_framing_header, reason, write_chunk, write_error, write_header,
    write_last_chunk, write_status_line, Framing, InvalidHeader, CONTINUE_100,
};
