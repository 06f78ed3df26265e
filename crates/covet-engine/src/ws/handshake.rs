//! The opening handshake (RFC 6455 section 4.2): checking the client's upgrade request and
//! writing the server's `101 Switching Protocols`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha1::{Digest, Sha1};

use crate::http::request::Request;
use crate::http::response;

/// The GUID every `Sec-WebSocket-Accept` is derived with.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What a valid upgrade request offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The `Sec-WebSocket-Key`, as sent.
    pub key: Vec<u8>,
    /// The subprotocols offered (`Sec-WebSocket-Protocol`), in the client's order.
    pub subprotocols: Vec<String>,
    /// Every `Sec-WebSocket-Extensions` value, joined with ", ".
    pub extensions: String,
}

/// Why an upgrade request is refused: the HTTP status, a detail, and for 426 the
/// `Sec-WebSocket-Version` header to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// 400 or 426.
    pub status: u16,
    /// What was wrong, for the response body and the log.
    pub detail: &'static str,
}

impl Refusal {
    const fn bad(detail: &'static str) -> Self {
        Refusal {
            status: 400,
            detail,
        }
    }
}

fn has_token(value: Option<&[u8]>, token: &[u8]) -> bool {
    value.is_some_and(|v| {
        v.split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
    })
}

/// Checks an upgrade request: GET over HTTP/1.1, `Upgrade: websocket`, `Connection: Upgrade`,
/// version 13 (otherwise 426) and a key of 16 base64-encoded bytes.
pub fn check(req: &Request) -> Result<Offer, Refusal> {
    if req.method != "GET" {
        return Err(Refusal::bad("A WebSocket handshake must be a GET request"));
    }
    if req.http_minor < 1 {
        return Err(Refusal::bad("A WebSocket handshake needs HTTP/1.1"));
    }
    if !has_token(req.header("upgrade"), b"websocket") {
        return Err(Refusal::bad("Missing Upgrade: websocket"));
    }
    if !req
        .headers
        .iter()
        .any(|(n, v)| n == "connection" && has_token(Some(v), b"upgrade"))
    {
        return Err(Refusal::bad("Missing Connection: Upgrade"));
    }
    if req.header("sec-websocket-version").map(<[u8]>::trim_ascii) != Some(b"13") {
        return Err(Refusal {
            status: 426,
            detail: "Unsupported WebSocket version: only 13 is supported",
        });
    }
    let key = req
        .header("sec-websocket-key")
        .map(<[u8]>::trim_ascii)
        .unwrap_or(b"");
    if STANDARD.decode(key).map(|k| k.len()) != Ok(16) {
        return Err(Refusal::bad("Invalid Sec-WebSocket-Key"));
    }
    let mut subprotocols = Vec::new();
    let mut extensions = String::new();
    for (name, value) in &req.headers {
        let text = String::from_utf8_lossy(value);
        if name == "sec-websocket-protocol" {
            subprotocols.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            );
        } else if name == "sec-websocket-extensions" {
            if !extensions.is_empty() {
                extensions.push_str(", ");
            }
            extensions.push_str(text.trim());
        }
    }
    Ok(Offer {
        key: key.to_vec(),
        subprotocols,
        extensions,
    })
}

/// `Sec-WebSocket-Accept` for a client's key.
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    STANDARD.encode(sha.finalize())
}

/// Appends the `101 Switching Protocols` response. `extra` headers come from the handler;
/// an invalid one (CR/LF, not a token) is an error and nothing is written.
pub fn write_accept(
    out: &mut Vec<u8>,
    key: &[u8],
    subprotocol: Option<&str>,
    extension: Option<&str>,
    extra: &[(&[u8], &[u8])],
) -> Result<(), response::InvalidHeader> {
    let start = out.len();
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n",
    );
    let accept = accept_key(key);
    let mut headers: Vec<(&[u8], &[u8])> = vec![(b"sec-websocket-accept", accept.as_bytes())];
    if let Some(p) = subprotocol {
        headers.push((b"sec-websocket-protocol", p.as_bytes()));
    }
    if let Some(e) = extension {
        headers.push((b"sec-websocket-extensions", e.as_bytes()));
    }
    headers.extend_from_slice(extra);
    for (name, value) in headers {
        if let Err(e) = response::write_header(out, name, value) {
            out.truncate(start);
            return Err(e);
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends the HTTP answer that refuses a handshake: `status` with a plain-text `body` and
/// `connection: close` (and for 426 the `Sec-WebSocket-Version` the server speaks). The one
/// builder of every WebSocket refusal: a bad handshake, no route, or a handler that closed
/// (or failed) before accepting.
pub fn write_refusal(out: &mut Vec<u8>, status: u16, body: &str) {
    response::write_status_line(out, status);
    if status == 426 {
        out.extend_from_slice(b"sec-websocket-version: 13\r\n");
    }
    out.extend_from_slice(b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n");
    out.extend_from_slice(b"content-length: ");
    out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::parse_head;
    use crate::limits::Limits;

    fn req(raw: &str) -> Request {
        parse_head(raw.as_bytes(), &Limits::default())
            .unwrap()
            .unwrap()
            .0
    }

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Protocol: v3\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";

    #[test]
    fn rfc_accept_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn good_offer() {
        let r = req(GOOD);
        assert!(r.websocket);
        let offer = check(&r).unwrap();
        assert_eq!(offer.subprotocols, ["chat", "superchat", "v3"]);
        assert_eq!(offer.extensions, "permessage-deflate");
        let mut out = Vec::new();
        write_accept(&mut out, &offer.key, Some("chat"), None, &[(b"x-a", b"1")]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(text.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(text.contains("sec-websocket-protocol: chat\r\nx-a: 1\r\n\r\n"));
        let mut out = Vec::new();
        assert!(write_accept(&mut out, &offer.key, None, None, &[(b"x", b"a\r\nb")]).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn refusals() {
        let status = |raw: String| check(&req(&raw)).unwrap_err().status;
        assert_eq!(status(GOOD.replace("GET", "POST")), 400);
        assert_eq!(status(GOOD.replace("HTTP/1.1", "HTTP/1.0")), 400);
        assert_eq!(
            status(GOOD.replace("keep-alive, Upgrade", "keep-alive")),
            400
        );
        assert_eq!(status(GOOD.replace("Version: 13", "Version: 8")), 426);
        assert_eq!(status(GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "abc")), 400);
        assert!(!req("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n").websocket);
    }

    #[test]
    fn refusal_response() {
        let mut out = Vec::new();
        write_refusal(&mut out, 426, "old");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\nsec-websocket-version: 13\r\n"));
        assert!(text.ends_with("connection: close\r\ncontent-length: 3\r\n\r\nold"));
        let mut out = Vec::new();
        write_refusal(&mut out, 403, "no");
        assert!(!String::from_utf8(out)
            .unwrap()
            .contains("sec-websocket-version"));
    }
}
