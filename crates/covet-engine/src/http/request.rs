//! Request head parsing: request line and header fields, via `httparse`.

use std::mem::MaybeUninit;

use super::body::BodyKind;
use super::error::HttpError;
use crate::limits::Limits;
use crate::policy::hosts::parse_host;

/// A parsed HTTP/1.x request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method as sent, e.g. `GET`.
    pub method: String,
    /// The percent-decoded path without the query; starts with `/` (or is `*` for
    /// `OPTIONS *`). For absolute-form targets (`http://host/p?q`) this is the path part.
    pub path: String,
    /// The path bytes exactly as sent, without the query.
    pub raw_path: Vec<u8>,
    /// The raw bytes after `?`, empty if there is no query.
    pub query: Vec<u8>,
    /// The HTTP minor version: 0 or 1.
    pub http_minor: u8,
    /// Header fields in order, duplicates kept; names lower-cased, values as sent (trimmed).
    pub headers: Vec<(String, Vec<u8>)>,
    /// Whether the connection may stay open after this request: on HTTP/1.1 unless
    /// `Connection: close`, on HTTP/1.0 only with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// Whether an HTTP/1.1 client sent `Expect: 100-continue`.
    pub expect_continue: bool,
    /// The complete decoded body; empty after [`parse_head`], filled by the connection.
    pub body: Vec<u8>,
    /// The client asked to switch to WebSocket (`Upgrade: websocket`); the handshake itself is
    /// checked by [`crate::ws::handshake`].
    pub websocket: bool,
}

impl Request {
    /// The first value of the header `name_lower` (which must be given in lower case).
    pub fn header(&self, name_lower: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(name, _)| name == name_lower)
            .map(|(_, value)| value.as_slice())
    }
}

/// Header slots kept on the stack; larger `max_headers` settings fall back to the heap.
const STACK_HEADERS: usize = 128;

/// Parses a request head from the start of `buf`.
///
/// Returns `Ok(None)` when the head is incomplete and more bytes are needed (but 431 once `buf`
/// holds more than `limits.max_head_bytes` without a complete head). On success returns the
/// request (with an empty body), the number of bytes the head took and the body framing.
pub fn parse_head(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(Request, usize, BodyKind)>, HttpError> {
    if limits.max_headers <= STACK_HEADERS {
        let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
        parse_with_slots(buf, limits, &mut slots[..limits.max_headers])
    } else {
        let mut slots = Vec::with_capacity(limits.max_headers);
        slots.resize_with(limits.max_headers, MaybeUninit::uninit);
        parse_with_slots(buf, limits, &mut slots)
    }
}

fn parse_with_slots<'b>(
    buf: &'b [u8],
    limits: &Limits,
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
) -> Result<Option<(Request, usize, BodyKind)>, HttpError> {
    let mut parsed = httparse::Request::new(&mut []);
    match parsed.parse_with_uninit_headers(buf, slots) {
        Ok(httparse::Status::Complete(len)) => {
            if len > limits.max_head_bytes {
                return Err(HttpError::head_too_large("Request head too large"));
            }
            if has_bare_lf(&buf[..len]) {
                return Err(HttpError::bad_request("Bare LF in request head"));
            }
            let (request, kind) = build_request(&parsed, limits)?;
            Ok(Some((request, len, kind)))
        }
        Ok(httparse::Status::Partial) if buf.len() > limits.max_head_bytes => {
            Err(HttpError::head_too_large("Request head too large"))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            Err(HttpError::head_too_large("Too many request headers"))
        }
        Err(httparse::Error::Version) => Err(version_error(buf)),
        Err(_) => Err(HttpError::bad_request("Malformed request head")),
    }
}

/// True when some line of the head ends in LF without CR. httparse accepts that; a front-end
/// that does not would read the head's lines differently (RFC 9112 2.2 lets a server refuse).
fn has_bare_lf(head: &[u8]) -> bool {
    // Branch-free over byte pairs, so the compiler scans 32 bytes a step: a head is read once
    // per request, and an early-exit loop over it cost more than the rest of the parse.
    let bare = head
        .iter()
        .zip(&head[1..])
        .fold(false, |bare, (&prev, &b)| {
            bare | ((b == b'\n') & (prev != b'\r'))
        });
    bare || head.first() == Some(&b'\n')
}

/// 505 when the request line names some other HTTP version, 400 when it is just garbage.
fn version_error(buf: &[u8]) -> HttpError {
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n');
    let line = &buf[start.unwrap_or(buf.len())..];
    let line = line.split(|&b| b == b'\n').next().unwrap_or(b"");
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // httparse reports a version error only after a method and a target, each followed by
    // one space: the version is what comes after the second space (not the last field, which
    // would turn "GET /a b HTTP/1.1" into a 505).
    let version = line.splitn(3, |&b| b == b' ').nth(2).unwrap_or(b"");
    match version.strip_prefix(b"HTTP/") {
        Some([d, ..]) if d.is_ascii_digit() => HttpError::new(505, "HTTP version not supported"),
        _ => HttpError::bad_request("Malformed request line"),
    }
}

/// What the framing-related headers said.
#[derive(Default)]
struct HeadFacts {
    content_length: Option<u64>,
    transfer_encoding: bool,
    chunked: bool,
    unsupported_coding: bool,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
    websocket: bool,
    hosts: usize,
}

fn build_request(
    parsed: &httparse::Request<'_, '_>,
    limits: &Limits,
) -> Result<(Request, BodyKind), HttpError> {
    let method = parsed.method.unwrap_or("");
    let target = parsed.path.unwrap_or("").as_bytes();
    let http_minor = parsed.version.unwrap_or(1);
    let (authority, raw_path, query) = split_target(method, target)?;
    let path = decode_path(raw_path)?;

    let mut facts = HeadFacts::default();
    let mut headers = Vec::with_capacity(parsed.headers.len() + 1);
    for h in parsed.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        inspect_header(&name, h.value, &mut facts)?;
        headers.push((name, h.value.to_vec()));
    }
    if facts.hosts > 1 {
        return Err(HttpError::bad_request("More than one Host header"));
    }
    if let Some(authority) = authority {
        // RFC 9112 3.2.2: the target's authority is the host; the Host header is ignored.
        headers.retain(|(name, _)| name != "host");
        headers.push(("host".to_owned(), authority.to_vec()));
    }
    let kind = body_kind(&facts, http_minor, limits)?;
    let keep_alive = if http_minor == 0 {
        facts.keep_alive && !facts.close
    } else {
        !facts.close
    };
    let request = Request {
        method: method.to_owned(),
        path,
        raw_path: raw_path.to_vec(),
        query: query.to_vec(),
        http_minor,
        headers,
        keep_alive,
        expect_continue: http_minor == 1 && facts.expect_continue,
        body: Vec::new(),
        websocket: facts.websocket,
    };
    Ok((request, kind))
}

/// Records what a header means for framing and connection handling.
fn inspect_header(name: &str, value: &[u8], facts: &mut HeadFacts) -> Result<(), HttpError> {
    match name {
        "content-length" => {
            // One number per field (hyper refuses a list such as "5, 5" too); repeated fields
            // must agree.
            let n = parse_length(value)?;
            if facts.content_length.is_some_and(|seen| seen != n) {
                return Err(HttpError::bad_request("Conflicting Content-Length values"));
            }
            facts.content_length = Some(n);
        }
        "host" => facts.hosts += 1,
        "transfer-encoding" => {
            facts.transfer_encoding = true;
            for coding in value.split(|&b| b == b',').map(trim) {
                if coding.is_empty() {
                    // hyper reads "chunked," as not chunked; refusing it leaves no doubt.
                    return Err(HttpError::bad_request("Empty Transfer-Encoding coding"));
                }
                if coding.eq_ignore_ascii_case(b"chunked") {
                    if facts.chunked {
                        return Err(HttpError::bad_request("Body chunked more than once"));
                    }
                    facts.chunked = true;
                } else {
                    facts.unsupported_coding = true;
                }
            }
        }
        "connection" => {
            for token in value.split(|&b| b == b',').map(trim) {
                if token.eq_ignore_ascii_case(b"close") {
                    facts.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    facts.keep_alive = true;
                }
            }
        }
        "expect" => facts.expect_continue |= trim(value).eq_ignore_ascii_case(b"100-continue"),
        "upgrade" => {
            facts.websocket |= value
                .split(|&b| b == b',')
                .any(|token| trim(token).eq_ignore_ascii_case(b"websocket"))
        }
        _ => {}
    }
    Ok(())
}

fn body_kind(facts: &HeadFacts, http_minor: u8, limits: &Limits) -> Result<BodyKind, HttpError> {
    if facts.transfer_encoding {
        if facts.content_length.is_some() {
            return Err(HttpError::bad_request(
                "Both Content-Length and Transfer-Encoding",
            ));
        }
        if http_minor == 0 {
            return Err(HttpError::bad_request(
                "Transfer-Encoding in an HTTP/1.0 request",
            ));
        }
        if facts.unsupported_coding {
            return Err(HttpError::new(501, "Unsupported Transfer-Encoding"));
        }
        if !facts.chunked {
            return Err(HttpError::bad_request("Invalid Transfer-Encoding"));
        }
        return Ok(BodyKind::Chunked);
    }
    match facts.content_length {
        None | Some(0) => Ok(BodyKind::Empty),
        Some(n) if n > limits.max_body_bytes as u64 => Err(HttpError::body_too_large()),
        Some(n) => Ok(BodyKind::Length(n as usize)),
    }
}

/// Parses a Content-Length value: ASCII digits only, no sign, no overflow.
fn parse_length(digits: &[u8]) -> Result<u64, HttpError> {
    const BAD: HttpError = HttpError::bad_request("Invalid Content-Length");
    if digits.is_empty() || digits.len() > 19 {
        return Err(BAD);
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + u64::from(b - b'0'))
        } else {
            Err(BAD)
        }
    })
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Target parts: the authority of an absolute-form target, the raw path and the raw query.
type TargetParts<'a> = (Option<&'a [u8]>, &'a [u8], &'a [u8]);

/// Splits a request target into its parts, accepting origin-form, absolute-form
/// (`http://host/p`, whose authority must be a name of letters, digits and `-._~` or an IP
/// literal, with an optional port: no user info, no escapes) and `*` for OPTIONS.
fn split_target<'a>(method: &str, target: &'a [u8]) -> Result<TargetParts<'a>, HttpError> {
    const BAD: HttpError = HttpError::bad_request("Invalid request target");
    if target == b"*" {
        return if method == "OPTIONS" {
            Ok((None, target, b""))
        } else {
            Err(BAD)
        };
    }
    let mut authority = None;
    let origin = if target.first() == Some(&b'/') {
        target
    } else {
        let rest = strip_scheme(target).ok_or(BAD)?;
        let end = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let authority_bytes = |b: &u8| b.is_ascii_alphanumeric() || b"-._~:[]".contains(b);
        if parse_host(&rest[..end]).is_none() || !rest[..end].iter().all(authority_bytes) {
            return Err(BAD);
        }
        authority = Some(&rest[..end]);
        &rest[end..]
    };
    let (path, query) = match origin.iter().position(|&b| b == b'?') {
        Some(q) => (&origin[..q], &origin[q + 1..]),
        None => (origin, &b""[..]),
    };
    if !path.iter().all(|&b| is_path_byte(b)) || !query.iter().all(|&b| is_query_byte(b)) {
        return Err(HttpError::bad_request(
            "Invalid character in request target",
        ));
    }
    Ok((authority, if path.is_empty() { b"/" } else { path }, query))
}

/// Bytes taken as they are in a path: RFC 3986 `pchar` and `/`, plus `"`, `{`, `|`, `}`, `[`,
/// `]`, `\\` and `^` that clients send unencoded (the set hyper accepts). Not `#` (a
/// fragment has no place in a request), `<`, `>`, `` ` ``, nor any byte outside visible ASCII.
fn is_path_byte(b: u8) -> bool {
    matches!(b, 0x21 | 0x22 | 0x24..=0x3B | 0x3D | 0x40..=0x5F | 0x61..=0x7E)
}

/// Bytes taken as they are in a query: visible ASCII but `"`, `#`, `<` and `>` (hyper's set).
fn is_query_byte(b: u8) -> bool {
    matches!(b, 0x21 | 0x24..=0x3B | 0x3D | 0x3F..=0x7E)
}

fn strip_scheme(target: &[u8]) -> Option<&[u8]> {
    for scheme in [&b"http://"[..], b"https://"] {
        if target.len() >= scheme.len() && target[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Some(&target[scheme.len()..]);
        }
    }
    None
}

/// Percent-decodes a path; bad escapes and invalid UTF-8 after decoding are 400.
fn decode_path(raw: &[u8]) -> Result<String, HttpError> {
    if !raw.contains(&b'%') {
        return String::from_utf8(raw.to_vec())
            .map_err(|_| HttpError::bad_request("Invalid UTF-8 in path"));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hi = raw.get(i + 1).and_then(|&b| (b as char).to_digit(16));
            let lo = raw.get(i + 2).and_then(|&b| (b as char).to_digit(16));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err(HttpError::bad_request("Invalid percent-encoding in path")),
            }
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| HttpError::bad_request("Invalid UTF-8 in path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<(Request, usize, BodyKind)>, HttpError> {
        parse_head(raw, &Limits::default())
    }

    fn ok(raw: &[u8]) -> (Request, usize, BodyKind) {
        parse(raw).unwrap().expect("complete head")
    }

    fn status(raw: &[u8]) -> u16 {
        parse(raw).unwrap_err().status
    }

    #[test]
    fn simple_get() {
        let raw = b"GET /hello?x=1&y HTTP/1.1\r\nHost: example.com\r\n\r\nrest";
        let (req, len, kind) = ok(raw);
        assert_eq!(&raw[len..], b"rest");
        assert_eq!(kind, BodyKind::Empty);
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/hello");
        assert_eq!(req.raw_path, b"/hello");
        assert_eq!(req.query, b"x=1&y");
        assert_eq!(req.http_minor, 1);
        assert!(req.keep_alive);
        assert!(!req.expect_continue);
        assert_eq!(req.header("host"), Some(&b"example.com"[..]));
        assert!(req.body.is_empty());
    }

    #[test]
    fn incomplete_head() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        assert!(parse(b"GE").unwrap().is_none());
        assert!(parse(b"").unwrap().is_none());
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let (req, len, _) = ok(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        assert_eq!(req.path, "/");
        assert_eq!(len, 22);
    }

    #[test]
    fn header_names_lowercased_and_duplicates_kept() {
        let (req, _, _) =
            ok(b"GET / HTTP/1.1\r\nX-Thing:  a \r\nx-THING: b\r\nAccept: */*\r\n\r\n");
        assert_eq!(
            req.headers,
            vec![
                ("x-thing".to_string(), b"a".to_vec()),
                ("x-thing".to_string(), b"b".to_vec()),
                ("accept".to_string(), b"*/*".to_vec()),
            ]
        );
        assert_eq!(req.header("x-thing"), Some(&b"a"[..]));
        assert_eq!(req.header("missing"), None);
    }

    #[test]
    fn keep_alive_rules() {
        assert!(ok(b"GET / HTTP/1.1\r\n\r\n").0.keep_alive);
        assert!(
            !ok(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")
                .0
                .keep_alive
        );
        assert!(
            !ok(b"GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n")
                .0
                .keep_alive
        );
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").0.keep_alive);
        let (req, _, _) = ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(req.keep_alive);
        assert_eq!(req.http_minor, 0);
    }

    #[test]
    fn expect_continue_only_on_1_1() {
        let raw = b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
        let (req, _, kind) = ok(raw);
        assert!(req.expect_continue);
        assert_eq!(kind, BodyKind::Length(3));
        let raw = b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
        assert!(!ok(raw).0.expect_continue);
    }

    #[test]
    fn absolute_form_and_asterisk() {
        let (req, _, _) = ok(b"GET http://example.com:8080/a/b?q=1 HTTP/1.1\r\n\r\n");
        assert_eq!(
            (req.path.as_str(), req.query.as_slice()),
            ("/a/b", &b"q=1"[..])
        );
        assert_eq!(req.raw_path, b"/a/b");
        let (req, _, _) = ok(b"GET HTTPS://example.com HTTP/1.1\r\n\r\n");
        assert_eq!(req.path, "/");
        let (req, _, _) = ok(b"GET http://example.com?x HTTP/1.1\r\n\r\n");
        assert_eq!((req.path.as_str(), req.query.as_slice()), ("/", &b"x"[..]));
        assert_eq!(ok(b"OPTIONS * HTTP/1.1\r\n\r\n").0.path, "*");
        assert_eq!(status(b"GET * HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET example.com:80 HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET ftp://x/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET http:///x HTTP/1.1\r\n\r\n"), 400);
    }

    #[test]
    fn percent_decoding() {
        let (req, _, _) = ok(b"GET /a%20b/caf%C3%A9/x%2Fy?q=%20 HTTP/1.1\r\n\r\n");
        assert_eq!(req.path, "/a b/caf\u{e9}/x/y");
        assert_eq!(req.raw_path, b"/a%20b/caf%C3%A9/x%2Fy");
        assert_eq!(req.query, b"q=%20");
        assert_eq!(status(b"GET /%ff HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET /%zz HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET /a% HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET /a%4 HTTP/1.1\r\n\r\n"), 400);
    }

    #[test]
    fn bad_request_lines() {
        assert_eq!(status(b"GET\r\n\r\n"), 400);
        assert_eq!(status(b"GET /\r\n\r\n"), 400);
        assert_eq!(status(b"G(T / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / FOO/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET  / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n"), 400);
    }

    #[test]
    fn other_versions_are_505() {
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/1.2\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/3"), 505);
    }

    #[test]
    fn a_later_version_like_token_does_not_make_505() {
        // The version is the field right after the target: a raw space in the target, or any
        // junk before a trailing "HTTP/1.1", is a malformed request line (400), not 505, and
        // the status must not depend on how much of the line has arrived.
        assert_eq!(status(b"GET /a b HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTX/1.1 HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTX/1.1 HTT"), 400);
        assert_eq!(status(b"GET / HTTP/2.0 HTTP/1.1\r\n\r\n"), 505);
    }

    #[test]
    fn head_too_large_is_431() {
        let limits = Limits {
            max_head_bytes: 64,
            ..Limits::default()
        };
        let mut raw = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
        raw.resize(65, b'a');
        assert_eq!(parse_head(&raw, &limits).unwrap_err().status, 431);
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse_head(&raw, &limits).unwrap_err().status, 431);
        assert!(parse_head(&raw[..60], &limits).unwrap().is_none());
    }

    #[test]
    fn too_many_headers_is_431() {
        let limits = Limits {
            max_headers: 3,
            ..Limits::default()
        };
        let raw = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
        assert!(parse_head(raw, &limits).unwrap().is_some());
        let raw = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n";
        assert_eq!(parse_head(raw, &limits).unwrap_err().status, 431);
        let big = Limits {
            max_headers: 300,
            ..Limits::default()
        };
        let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..200 {
            raw.extend_from_slice(format!("h{i}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_head(&raw, &big).unwrap().unwrap().0.headers.len(),
            200
        );
    }

    #[test]
    fn body_framing() {
        let (_, _, kind) = ok(b"POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(kind, BodyKind::Length(12));
        let (_, _, kind) = ok(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(kind, BodyKind::Empty);
        let (_, _, kind) = ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assert_eq!(kind, BodyKind::Chunked);
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n";
        assert_eq!(ok(raw).2, BodyKind::Length(5));
        let list = b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n";
        assert_eq!(status(list), 400);
    }

    #[test]
    fn bad_framing() {
        let cl_te = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status(cl_te), 400);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501
        );
        let gz = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert_eq!(status(gz), 501);
        let twice = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n";
        assert_eq!(status(twice), 400);
        let old = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status(old), 400);
        for cl in ["-1", "abc", "", "1 2", "+5", "99999999999999999999", "0x10"] {
            let raw = format!("POST / HTTP/1.1\r\nContent-Length: {cl}\r\n\r\n");
            assert_eq!(status(raw.as_bytes()), 400, "{cl}");
        }
        let differing = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(status(differing), 400);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n"),
            400
        );
    }

    /// Issue 14: a bare LF ends a line for httparse (and hyper) but not for every front-end.
    #[test]
    fn bare_lf_in_the_head_is_400() {
        assert_eq!(status(b"GET / HTTP/1.1\nHost: a\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\n\n"), 400);
        assert_eq!(status(b"\nGET / HTTP/1.1\r\n\r\n"), 400);
    }

    /// Issue 14: RFC 9112 3.2, more than one Host is 400 (whatever their values).
    #[test]
    fn two_host_headers_are_400() {
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), 400);
        let abs = b"GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
        assert_eq!(status(abs), 400);
    }

    /// Issue 14: RFC 9112 3.2.2, with an absolute-form target the target's authority is the
    /// host, and the Host header is replaced by it.
    #[test]
    fn absolute_form_authority_replaces_host() {
        let raw = b"GET http://evil.example:81/p?q HTTP/1.1\r\nHost: good.example\r\nX: 1\r\n\r\n";
        let (req, _, _) = ok(raw);
        assert_eq!(req.header("host"), Some(&b"evil.example:81"[..]));
        assert_eq!(req.headers.iter().filter(|(n, _)| n == "host").count(), 1);
        assert_eq!(
            (req.raw_path.as_slice(), req.query.as_slice()),
            (&b"/p"[..], &b"q"[..])
        );
        let (req, _, _) = ok(b"GET http://only.example HTTP/1.1\r\n\r\n");
        assert_eq!(req.header("host"), Some(&b"only.example"[..]));
        assert_eq!(status(b"GET http://u@a.example/ HTTP/1.1\r\n\r\n"), 400);
        // Found by the http_diff fuzz target: hyper refuses a bad escape in the authority.
        assert_eq!(status(b"GET http://a.exam%l/ HTTP/1.1\r\n\r\n"), 400);
    }

    /// Found by the differential test: hyper refuses these, covet served them; `#` and bytes
    /// outside ASCII are refused too (hyper drops a fragment and takes raw UTF-8).
    #[test]
    fn target_characters() {
        for bad in [
            &b"/a<b"[..],
            b"/a>b",
            b"/a`b",
            b"/?a\"b",
            b"/?a<b",
            b"/?a>b",
            b"/a#f",
            b"/caf\xc3\xa9",
        ] {
            let mut raw = b"GET ".to_vec();
            raw.extend_from_slice(bad);
            raw.extend_from_slice(b" HTTP/1.1\r\n\r\n");
            assert_eq!(status(&raw), 400, "{:?}", String::from_utf8_lossy(bad));
        }
        let (req, _, _) = ok(b"GET /{\"a\"}|[x]^\\~ HTTP/1.1\r\n\r\n");
        assert_eq!(req.path, "/{\"a\"}|[x]^\\~");
        assert_eq!(
            ok(b"GET /?q={}|`^/? HTTP/1.1\r\n\r\n").0.query,
            b"q={}|`^/?"
        );
    }

    #[test]
    fn empty_transfer_codings_are_400() {
        for te in ["chunked,", ", chunked", "chunked, ,", ""] {
            let raw = format!("POST / HTTP/1.1\r\nTransfer-Encoding: {te}\r\n\r\n");
            assert_eq!(status(raw.as_bytes()), 400, "{te:?}");
        }
        let split = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n";
        assert_eq!(status(split), 400);
    }

    #[test]
    fn content_length_over_limit_is_413() {
        let limits = Limits {
            max_body_bytes: 10,
            ..Limits::default()
        };
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
        assert_eq!(parse_head(raw, &limits).unwrap_err().status, 413);
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
        assert!(parse_head(raw, &limits).unwrap().is_some());
    }
}
