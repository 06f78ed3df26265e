//! Every response the engine builds itself, in one place: the router's 404, 405 and
//! trailing-slash redirect, the early answers of the engine middleware and route guards
//! ([`Early`], built by the stages through [`Early::refuse`] and [`Early::redirect`]), and the
//! refusals that close a connection ([`HttpError`]s written by
//! [`write_error`](crate::http::response::write_error)): a timeout, the connection cap.
//!
//! The binding writes these as they are; it builds no status, header or body of its own.

use std::borrow::Cow;

use crate::http::error::HttpError;

/// A response header the engine adds: a lower-case name and its value.
pub type Header = (&'static str, Vec<u8>);

/// A request head still arriving after the header timeout.
pub const REQUEST_TIMEOUT: HttpError = HttpError::new(408, "Request timed out");
/// A body arriving slower than its pace allows.
pub const BODY_TOO_SLOW: HttpError = HttpError::new(408, "Request body too slow");
/// A new connection past the cap, with no idle one to close in its place.
pub const AT_CAPACITY: HttpError = HttpError::new(503, "Server at its connection limit");
/// What a body still arriving reports when its request was answered before it was read.
pub const ANSWERED_BEFORE_BODY: HttpError =
    HttpError::new(400, "The response was sent before the body was read");

/// A response the engine gives instead of the application's: a policy stage's early answer,
/// a route guard's refusal, or the router's own 404, 405 and redirects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Early {
    /// The status code.
    pub status: u16,
    /// Header fields (content-type included); framing headers are the writer's.
    pub headers: Vec<Header>,
    /// The body.
    pub body: Vec<u8>,
    /// For a refused request (4xx), what to log.
    pub refused: Option<Cow<'static, str>>,
}

impl Early {
    /// `{"detail": "..."}` with `status`: how covet refuses bad input.
    pub fn refuse(status: u16, detail: impl Into<Cow<'static, str>>) -> Self {
        let detail = detail.into();
        debug_assert!(!detail.contains(['"', '\\']), "details are plain words");
        let mut body = Vec::with_capacity(detail.len() + 13);
        body.extend_from_slice(b"{\"detail\":\"");
        body.extend_from_slice(detail.as_bytes());
        body.extend_from_slice(b"\"}");
        Early {
            status,
            headers: vec![("content-type", b"application/json".to_vec())],
            body,
            refused: Some(detail),
        }
    }

    /// An empty-bodied redirect to `location`.
    pub fn redirect(status: u16, location: Vec<u8>) -> Self {
        Early {
            status,
            headers: vec![("location", location)],
            body: Vec::new(),
            refused: None,
        }
    }

    /// `{"detail": "..."}` with `status`, for an answer that refuses nothing (not logged).
    fn detail(status: u16, detail: &'static str) -> Self {
        Early {
            refused: None,
            ..Early::refuse(status, detail)
        }
    }

    /// 404: no route matches the path.
    pub fn not_found() -> Self {
        Early::detail(404, "Not Found")
    }

    /// 405: routes match the path, none the method; `allow` lists the methods that would.
    pub fn method_not_allowed(allow: String) -> Self {
        let mut early = Early::detail(405, "Method Not Allowed");
        early.headers.push(("allow", allow.into_bytes()));
        early
    }

    /// 307 to the path with its trailing slash added or removed, the query kept.
    pub fn slash_redirect(location_path: String, query: &[u8]) -> Self {
        let mut location = location_path.into_bytes();
        if !query.is_empty() {
            location.push(b'?');
            location.extend_from_slice(query);
        }
        Early::redirect(307, location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_answers() {
        let nf = Early::not_found();
        assert_eq!(
            (nf.status, nf.body.as_slice()),
            (404, &b"{\"detail\":\"Not Found\"}"[..])
        );
        assert_eq!(
            nf.headers,
            vec![("content-type", b"application/json".to_vec())]
        );
        assert_eq!(nf.refused, None);
        let mna = Early::method_not_allowed("GET, HEAD".into());
        assert_eq!(mna.status, 405);
        assert_eq!(mna.body, b"{\"detail\":\"Method Not Allowed\"}");
        assert_eq!(mna.headers[1], ("allow", b"GET, HEAD".to_vec()));
        let r = Early::slash_redirect("/items/".into(), b"q=1");
        assert_eq!((r.status, r.body.len(), r.refused), (307, 0, None));
        assert_eq!(r.headers, vec![("location", b"/items/?q=1".to_vec())]);
        assert_eq!(Early::slash_redirect("/a".into(), b"").headers[0].1, b"/a");
    }
}
