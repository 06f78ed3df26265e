//! HTTP/1.x wire format: request heads, bodies, responses, dates and protocol errors, and the
//! responses the engine answers with itself (`answer`).

pub mod answer;
pub mod body;
pub mod date;
pub mod error;
pub mod request;
pub mod response;

/// RFC 9110 5.6.2 token characters (field names, methods), as a table: checked for every
/// header of every response, so one load a byte instead of a chain of comparisons.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// A byte allowed in a token.
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

pub use body::{BodyKind, ChunkedDecoder};
pub use error::HttpError;
pub use request::{parse_head, Request};
pub use response::{
    finish_head, is_framing_header, reason, write_chunk, write_error, write_header,
    write_last_chunk, write_status_line, Framing, InvalidHeader, CONTINUE_100,
};
