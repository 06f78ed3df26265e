//! Protocol errors that end a connection with an error response.

use std::fmt;

/// A request the server refuses: the status to answer with and a short human message.
///
/// After an `HttpError` the connection cannot be trusted any more; the caller writes
/// [`write_error`](crate::http::response::write_error) and closes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The response status, e.g. 400.
    pub status: u16,
    /// A short human message, e.g. "Request body too large".
    pub detail: &'static str,
}

impl HttpError {
    /// Builds an error from a status and a message.
    pub const fn new(status: u16, detail: &'static str) -> Self {
        HttpError { status, detail }
    }

    /// 400 Bad Request.
    pub const fn bad_request(detail: &'static str) -> Self {
        HttpError::new(400, detail)
    }

    /// 413 Content Too Large.
    pub const fn body_too_large() -> Self {
        HttpError::new(413, "Request body too large")
    }

    /// 431 Request Header Fields Too Large.
    pub const fn head_too_large(detail: &'static str) -> Self {
        HttpError::new(431, detail)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for HttpError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_display() {
        assert_eq!(HttpError::body_too_large().status, 413);
        assert_eq!(HttpError::bad_request("x"), HttpError::new(400, "x"));
        assert_eq!(HttpError::head_too_large("big").status, 431);
        assert_eq!(HttpError::new(505, "nope").to_string(), "505 nope");
    }
}
