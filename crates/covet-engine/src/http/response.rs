//! Response framing: status line, header fields, the end of the head and chunked data.
//!
//! Callers write user-supplied headers with [`write_header`], skipping the names for which
//! [`is_framing_header`] is true (those are written by [`finish_head`]). A user-supplied `date`
//! header is kept; pass `write_date: false` to [`finish_head`] in that case.

use std::fmt;

use super::error::HttpError;
use super::{date, is_tchar};

/// The interim response sent when a client asked for `Expect: 100-continue`.
pub const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// A response header with a name that is not a token or a value containing CR, LF or NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHeader;

impl fmt::Display for InvalidHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid character in response header")
    }
}

impl std::error::Error for InvalidHeader {}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `content-length: N` and exactly N bytes of body.
    Length(usize),
    /// `transfer-encoding: chunked`; the body goes through [`write_chunk`] and
    /// [`write_last_chunk`]. Only for HTTP/1.1 peers.
    Chunked,
    /// Neither header: for 1xx, 204 and 304 responses and HEAD. With `keep_alive: false` it also
    /// gives a close-delimited body, which is how to stream to an HTTP/1.0 peer.
    NoBody,
}

/// Appends `HTTP/1.1 {status} {reason}\r\n`; unknown statuses get an empty reason.
pub fn write_status_line(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends `name: value\r\n`, or refuses (writing nothing) a name that is not a token or a
/// value containing CR, LF or NUL.
pub fn write_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) -> Result<(), InvalidHeader> {
    // Whole-slice folds without early exits: no branch a byte, and the value's scan vectorizes.
    let name_ok = name
        .iter()
        .fold(!name.is_empty(), |ok, &b| ok & is_tchar(b));
    let value_bad = value.iter().fold(false, |bad, &b| {
        bad | (b == b'\r') | (b == b'\n') | (b == 0)
    });
    if !name_ok || value_bad {
        return Err(InvalidHeader);
    }
    out.reserve(name.len() + value.len() + 4);
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// True for the headers [`finish_head`] writes itself (`content-length`, `transfer-encoding`
/// and `connection`), which callers must not copy from user headers. `name_lower` must be lower
/// case.
pub fn is_framing_header(name_lower: &[u8]) -> bool {
    matches!(
        name_lower,
        b"content-length" | b"transfer-encoding" | b"connection"
    )
}

/// Ends the response head: the framing header, `date` (when `write_date`), `connection: close`
/// when `!keep_alive` (or `connection: keep-alive` for a kept-alive HTTP/1.0 peer), then the
/// blank line.
pub fn finish_head(
    out: &mut Vec<u8>,
    framing: Framing,
    keep_alive: bool,
    http_minor: u8,
    write_date: bool,
) {
    match framing {
        Framing::Length(n) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::NoBody => {}
    }
    if write_date {
        out.extend_from_slice(b"date: ");
        date::write_now(out);
        out.extend_from_slice(b"\r\n");
    }
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    } else if http_minor == 0 {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends one chunk: `{hex len}\r\n{data}\r\n`. Empty data writes nothing (an empty chunk
/// would end the body).
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut hex = [0u8; 16];
    let mut n = data.len();
    let mut i = hex.len();
    while n > 0 {
        i -= 1;
        hex[i] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
    }
    out.reserve(hex.len() - i + data.len() + 4);
    out.extend_from_slice(&hex[i..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk and the end of the (empty) trailer section: `0\r\n\r\n`.
pub fn write_last_chunk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n\r\n");
}

/// Appends a complete error response for `err`: a JSON body `{"detail":"..."}`,
/// `content-type: application/json` and `connection: close`.
pub fn write_error(out: &mut Vec<u8>, err: &HttpError) {
    let mut body = Vec::with_capacity(err.detail.len() + 14);
    body.extend_from_slice(b"{\"detail\":\"");
    for &b in err.detail.as_bytes() {
        match b {
            b'"' | b'\\' => body.extend_from_slice(&[b'\\', b]),
            0..=0x1f => body.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => body.push(b),
        }
    }
    body.extend_from_slice(b"\"}");
    write_status_line(out, err.status);
    out.extend_from_slice(b"content-type: application/json\r\n");
    finish_head(out, Framing::Length(body.len()), false, 1, true);
    out.extend_from_slice(&body);
}

/// The reason phrase for a status code, or "" when unknown.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400..=499 => reason_4xx(status),
        500..=599 => reason_5xx(status),
        _ => "",
    }
}

fn reason_4xx(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        _ => "",
    }
}

fn reason_5xx(status: u16) -> &'static str {
    match status {
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(out: &[u8]) -> &str {
        std::str::from_utf8(out).unwrap()
    }

    /// Replaces the 29-byte date value so heads can be compared exactly.
    fn without_date(out: &[u8]) -> String {
        let s = text(out);
        match s.find("date: ") {
            Some(i) => format!("{}date: DATE{}", &s[..i], &s[i + 6 + 29..]),
            None => s.to_string(),
        }
    }

    #[test]
    fn status_lines() {
        let mut out = Vec::new();
        write_status_line(&mut out, 200);
        write_status_line(&mut out, 404);
        write_status_line(&mut out, 299);
        assert_eq!(
            text(&out),
            "HTTP/1.1 200 OK\r\nHTTP/1.1 404 Not Found\r\nHTTP/1.1 299 \r\n"
        );
        assert_eq!(reason(413), "Content Too Large");
        assert_eq!(reason(503), "Service Unavailable");
        assert_eq!(reason(999), "");
    }

    #[test]
    fn headers_written_or_refused() {
        let mut out = Vec::new();
        write_header(&mut out, b"x-a", b"1 2\t3\xff").unwrap();
        assert_eq!(out, b"x-a: 1 2\t3\xff\r\n");
        out.clear();
        for (name, value) in [
            (&b"x-a"[..], &b"a\r\nb"[..]),
            (b"x-a", b"a\nb"),
            (b"x-a", b"a\0"),
            (b"", b"v"),
            (b"bad name", b"v"),
            (b"x:y", b"v"),
            (b"x\r\n", b"v"),
        ] {
            assert_eq!(write_header(&mut out, name, value), Err(InvalidHeader));
        }
        assert!(out.is_empty());
        assert_eq!(
            InvalidHeader.to_string(),
            "invalid character in response header"
        );
    }

    #[test]
    fn framing_headers() {
        assert!(is_framing_header(b"content-length"));
        assert!(is_framing_header(b"transfer-encoding"));
        assert!(is_framing_header(b"connection"));
        assert!(!is_framing_header(b"date"));
        assert!(!is_framing_header(b"content-type"));
    }

    #[test]
    fn finish_head_variants() {
        let mut out = Vec::new();
        finish_head(&mut out, Framing::Length(5), true, 1, true);
        assert_eq!(
            without_date(&out),
            "content-length: 5\r\ndate: DATE\r\n\r\n"
        );
        out.clear();
        finish_head(&mut out, Framing::Chunked, false, 1, false);
        assert_eq!(
            text(&out),
            "transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        out.clear();
        finish_head(&mut out, Framing::NoBody, true, 0, false);
        assert_eq!(text(&out), "connection: keep-alive\r\n\r\n");
        out.clear();
        finish_head(&mut out, Framing::NoBody, true, 1, false);
        assert_eq!(text(&out), "\r\n");
    }

    #[test]
    fn chunks() {
        let mut out = Vec::new();
        write_chunk(&mut out, b"hello");
        write_chunk(&mut out, b"");
        write_chunk(&mut out, &[b'x'; 300]);
        write_last_chunk(&mut out);
        let expected = format!("5\r\nhello\r\n12c\r\n{}\r\n0\r\n\r\n", "x".repeat(300));
        assert_eq!(text(&out), expected);
    }

    #[test]
    fn error_response() {
        let mut out = Vec::new();
        write_error(&mut out, &HttpError::body_too_large());
        let body = "{\"detail\":\"Request body too large\"}";
        let expected = format!(
            "HTTP/1.1 413 Content Too Large\r\ncontent-type: application/json\r\n\
             content-length: {}\r\ndate: DATE\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(without_date(&out), expected);
        out.clear();
        write_error(&mut out, &HttpError::bad_request("a \"b\"\\"));
        assert!(text(&out).ends_with("{\"detail\":\"a \\\"b\\\"\\\\\"}"));
    }

    #[test]
    fn continue_constant() {
        let mut out = Vec::new();
        write_status_line(&mut out, 100);
        out.extend_from_slice(b"\r\n");
        assert_eq!(out, CONTINUE_100);
    }
}
