//! Whole responses in the memory cache, answered by the engine without running Python.
//!
//! A cached response is keyed by route, method, path, query and the values of the headers it
//! varies on. What may be stored follows RFC 9111 for a shared cache: a 200 (other statuses
//! only when told to), no `Set-Cookie`, no `Cache-Control: no-store` or `private`. A request
//! with `Cache-Control: no-cache` or `no-store` skips the lookup (and refreshes the entry).
//! Each stored response gets a strong `ETag` (a hash of its body), and a request whose
//! `If-None-Match` names it is answered `304 Not Modified`.

use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A response as stored: status, headers (without framing ones) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, `etag` and `cache-control` included.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
    /// When it was stored (wall-clock seconds), for `Age`.
    pub stored_at: u64,
}

/// What the engine writes for a hit: the stored response, or `304 Not Modified` when the
/// request's `If-None-Match` names its tag; with `Age`.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    /// 200 (or the stored status), or 304.
    pub status: u16,
    /// The headers to write (framing ones are the writer's).
    pub headers: Vec<(&'a [u8], Cow<'a, [u8]>)>,
    /// The body (empty for a 304).
    pub body: &'a [u8],
}

/// The cache key of a request to a cached route (without the cache's namespace): method
/// (HEAD shares GET's entry), path, query, then the value of each `vary` header (absent and
/// empty are the same), joined by `|`. Readable, so that a path prefix can be invalidated
/// (`GET|/products/`); bytes outside printable ASCII, `%` and `|` are escaped as `%XX`, so
/// two requests never share a key by accident.
pub fn key(
    method: &str,
    path: &str,
    query: &[u8],
    vary: &[String],
    header: impl Fn(&str) -> Option<Vec<u8>>,
) -> String {
    let method = if method == "HEAD" { "GET" } else { method };
    let mut key = String::with_capacity(method.len() + path.len() + query.len() + 8);
    key.push_str(method);
    key.push('|');
    escape_into(&mut key, path.as_bytes());
    key.push('|');
    escape_into(&mut key, query);
    for name in vary {
        key.push('|');
        if let Some(value) = header(name) {
            escape_into(&mut key, &value);
        }
    }
    key
}

fn escape_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'%' && b != b'|' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The payload of a memory-level entry (covet.cache's envelope: version 1, then little-endian
/// `fresh_until`, `expires`, compute time as f64 seconds, a u16 tag length, the tags) while it
/// is fresh at `now` (wall-clock seconds); None when stale or not an envelope.
pub fn fresh_payload(envelope: &[u8], now: f64) -> Option<&[u8]> {
    const HEADER: usize = 1 + 8 + 8 + 8 + 2;
    if envelope.len() < HEADER || envelope[0] != 1 {
        return None;
    }
    let fresh_until = f64::from_le_bytes(envelope[1..9].try_into().ok()?);
    let tags = u16::from_le_bytes(envelope[25..27].try_into().ok()?) as usize;
    if fresh_until != 0.0 && now >= fresh_until {
        return None;
    }
    envelope.get(HEADER + tags..)
}

fn directives(value: &[u8]) -> impl Iterator<Item = String> + '_ {
    value.split(|&b| b == b',').map(|d| {
        let d = String::from_utf8_lossy(d).trim().to_ascii_lowercase();
        d.split('=').next().unwrap_or_default().trim().to_string()
    })
}

/// Whether a request's `Cache-Control` asks to skip the stored response.
pub fn request_bypasses(cache_control: Option<&[u8]>) -> bool {
    cache_control.is_some_and(|v| directives(v).any(|d| d == "no-cache" || d == "no-store"))
}

/// Whether a response may be stored: 200 (or any status below 500 with `errors`), no
/// `Set-Cookie`, and no `no-store` or `private` in its `Cache-Control`.
pub fn storable(status: u16, headers: &[(&[u8], &[u8])], errors: bool) -> bool {
    if status != 200 && !(errors && status < 500) {
        return false;
    }
    for (name, value) in headers {
        if name.eq_ignore_ascii_case(b"set-cookie") {
            return false;
        }
        if name.eq_ignore_ascii_case(b"cache-control")
            && directives(value).any(|d| d == "no-store" || d == "private")
        {
            return false;
        }
    }
    true
}

/// A strong entity tag for `body`.
pub fn etag(body: &[u8]) -> Vec<u8> {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish()).into_bytes()
}

/// Whether `If-None-Match` names `tag` (or is `*`).
pub fn not_modified(if_none_match: Option<&[u8]>, tag: &[u8]) -> bool {
    let Some(value) = if_none_match else {
        return false;
    };
    value.split(|&b| b == b',').any(|candidate| {
        let c = candidate.trim_ascii();
        let c = c.strip_prefix(b"W/").unwrap_or(c);
        c == tag || c == b"*"
    })
}

impl Stored {
    /// The response to store, from what the handler answered: framing headers dropped, an
    /// `ETag` added, and `Cache-Control: max-age=<ttl>` unless the handler set its own.
    pub fn new(
        status: u16,
        headers: &[(&[u8], &[u8])],
        body: &[u8],
        max_age: u64,
        stored_at: u64,
    ) -> Stored {
        let mut kept: Vec<(Vec<u8>, Vec<u8>)> = headers
            .iter()
            .filter(|(n, _)| {
                !n.eq_ignore_ascii_case(b"content-length")
                    && !n.eq_ignore_ascii_case(b"transfer-encoding")
                    && !n.eq_ignore_ascii_case(b"connection")
                    && !n.eq_ignore_ascii_case(b"date")
                    && !n.eq_ignore_ascii_case(b"etag")
                    && !n.eq_ignore_ascii_case(b"age")
            })
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_vec()))
            .collect();
        if !kept.iter().any(|(n, _)| n == b"cache-control") {
            kept.push((
                b"cache-control".to_vec(),
                format!("max-age={max_age}").into_bytes(),
            ));
        }
        kept.push((b"etag".to_vec(), etag(body)));
        Stored {
            status,
            headers: kept,
            body: body.to_vec(),
            stored_at,
        }
    }

    /// The reply to a request at `now` (wall-clock seconds) whose `If-None-Match` is given.
    pub fn reply(&self, if_none_match: Option<&[u8]>, now: u64) -> Reply<'_> {
        View {
            status: self.status,
            stored_at: self.stored_at,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect(),
            body: &self.body,
        }
        .reply(if_none_match, now)
    }

    /// The stored `ETag`.
    pub fn etag(&self) -> &[u8] {
        self.header(b"etag").unwrap_or_default()
    }

    /// A stored header's value.
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The bytes kept in the memory cache.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 64);
        out.extend_from_slice(&self.status.to_le_bytes());
        out.extend_from_slice(&self.stored_at.to_le_bytes());
        out.extend_from_slice(&(self.headers.len() as u32).to_le_bytes());
        for (n, v) in &self.headers {
            out.extend_from_slice(&(n.len() as u32).to_le_bytes());
            out.extend_from_slice(n);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v);
        }
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads what `encode` wrote; None for anything else.
    pub fn decode(data: &[u8]) -> Option<Stored> {
        let view = View::parse(data)?;
        Some(Stored {
            status: view.status,
            headers: view
                .headers
                .iter()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect(),
            body: view.body.to_vec(),
            stored_at: view.stored_at,
        })
    }
}

/// A stored response read in place from what `Stored::encode` wrote: what the engine answers
/// a hit from, with no copy of the body.
#[derive(Debug)]
pub struct View<'a> {
    /// The status code.
    pub status: u16,
    /// When it was stored (wall-clock seconds).
    pub stored_at: u64,
    /// Header names (lower case) and values.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> View<'a> {
    /// Reads what `Stored::encode` wrote; None for anything else.
    pub fn parse(data: &'a [u8]) -> Option<View<'a>> {
        let mut at: usize = 0;
        let mut take = |n: usize| -> Option<&'a [u8]> {
            let part = data.get(at..at.checked_add(n)?)?;
            at += n;
            Some(part)
        };
        let status = u16::from_le_bytes(take(2)?.try_into().ok()?);
        let stored_at = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let count = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let mut headers = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            let name = take(n)?;
            let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            headers.push((name, take(n)?));
        }
        let body = data.get(at..)?;
        Some(View {
            status,
            stored_at,
            headers,
            body,
        })
    }

    /// The reply to a request at `now` (wall-clock seconds) whose `If-None-Match` is given.
    /// A 304 carries the headers a cache must send with it (RFC 9110 15.4.5).
    pub fn reply(&self, if_none_match: Option<&[u8]>, now: u64) -> Reply<'a> {
        let age = Cow::Owned(now.saturating_sub(self.stored_at).to_string().into_bytes());
        let etag = self
            .headers
            .iter()
            .find(|(n, _)| *n == b"etag")
            .map_or(&b""[..], |(_, v)| v);
        let modified = !not_modified(if_none_match, etag);
        let mut headers: Vec<(&'a [u8], Cow<'a, [u8]>)> =
            Vec::with_capacity(self.headers.len() + 1);
        for &(n, v) in &self.headers {
            if modified || matches!(n, b"etag" | b"cache-control" | b"vary" | b"expires") {
                headers.push((n, Cow::Borrowed(v)));
            }
        }
        headers.push((b"age", age));
        Reply {
            status: if modified { self.status } else { 304 },
            headers,
            body: if modified { self.body } else { b"" },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_etag_and_max_age() {
        let headers: &[(&[u8], &[u8])] = &[
            (b"content-type", b"application/json"),
            (b"Content-Length", b"2"),
        ];
        let stored = Stored::new(200, headers, b"{}", 60, 1_000);
        let back = Stored::decode(&stored.encode()).unwrap();
        assert_eq!(back, stored);
        assert_eq!(back.header(b"cache-control"), Some(&b"max-age=60"[..]));
        assert_eq!(back.header(b"content-length"), None);
        assert_eq!(back.etag(), etag(b"{}"));
        assert!(Stored::decode(b"\x01").is_none());
    }

    #[test]
    fn what_may_be_stored() {
        assert!(storable(200, &[(b"content-type", b"text/plain")], false));
        assert!(!storable(404, &[], false));
        assert!(storable(404, &[], true));
        assert!(!storable(500, &[], true));
        assert!(!storable(200, &[(b"Set-Cookie", b"a=b")], false));
        assert!(!storable(
            200,
            &[(b"cache-control", b"private, max-age=5")],
            false
        ));
        assert!(!storable(200, &[(b"cache-control", b"no-store")], false));
        assert!(storable(
            200,
            &[(b"cache-control", b"public, max-age=5")],
            false
        ));
    }

    #[test]
    fn conditions_and_bypass() {
        let tag = etag(b"x");
        let mut list = b"\"other\", ".to_vec();
        list.extend_from_slice(&tag);
        assert!(not_modified(Some(&list), &tag));
        assert!(not_modified(Some(b"*"), &tag));
        assert!(!not_modified(Some(b"\"other\""), &tag));
        assert!(!not_modified(None, &tag));
        assert!(request_bypasses(Some(b"No-Cache")));
        assert!(request_bypasses(Some(b"max-age=0, no-store")));
        assert!(!request_bypasses(Some(b"max-age=0")));
    }

    #[test]
    fn keys_vary_on_named_headers() {
        let vary = vec!["accept-language".to_string()];
        let en = key("GET", "/p", b"q=1", &vary, |_| Some(b"en".to_vec()));
        let fr = key("GET", "/p", b"q=1", &vary, |_| Some(b"fr".to_vec()));
        let none = key("GET", "/p", b"q=1", &vary, |_| None);
        assert_eq!(en, "GET|/p|q=1|en");
        assert_ne!(en, fr);
        assert_ne!(en, none);
        assert_ne!(
            key("GET", "/p", b"q=1", &[], |_| None),
            key("GET", "/p", b"q=2", &[], |_| None)
        );
        assert_eq!(
            key("HEAD", "/p", b"", &[], |_| None),
            key("GET", "/p", b"", &[], |_| None)
        );
        // A separator or a non-ASCII byte in a part cannot fake another key.
        let a = key("GET", "/a|b", b"", &[], |_| None);
        let b = key("GET", "/a", b"b|", &[], |_| None);
        assert_ne!(a, b);
        assert_eq!(a, "GET|/a%7Cb|");
        assert_eq!(key("GET", "/é", b"x y", &[], |_| None), "GET|/%C3%A9|x%20y");
    }

    fn envelope(fresh_until: f64, tags: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut out = vec![1u8];
        out.extend_from_slice(&fresh_until.to_le_bytes());
        out.extend_from_slice(&(fresh_until + 5.0).to_le_bytes());
        out.extend_from_slice(&0.25f64.to_le_bytes());
        out.extend_from_slice(&(tags.len() as u16).to_le_bytes());
        out.extend_from_slice(tags);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn envelopes_fresh_until_their_time() {
        let data = envelope(100.0, b"a\x1fb", b"payload");
        assert_eq!(fresh_payload(&data, 99.5), Some(&b"payload"[..]));
        assert_eq!(fresh_payload(&data, 100.0), None);
        let forever = envelope(0.0, b"", b"p");
        assert_eq!(fresh_payload(&forever, 1e12), Some(&b"p"[..]));
        assert_eq!(fresh_payload(b"\x02rest", 0.0), None);
        assert_eq!(fresh_payload(&data[..10], 0.0), None);
    }

    #[test]
    fn replies_full_or_not_modified_with_age() {
        let headers: &[(&[u8], &[u8])] = &[
            (b"content-type", b"text/plain"),
            (b"vary", b"accept-language"),
        ];
        let stored = Stored::new(200, headers, b"hello", 60, 1_000);
        let full = stored.reply(None, 1_007);
        assert_eq!(full.status, 200);
        assert_eq!(full.body, b"hello");
        let names: Vec<&[u8]> = full.headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                &b"content-type"[..],
                b"vary",
                b"cache-control",
                b"etag",
                b"age"
            ]
        );
        assert_eq!(&*full.headers[4].1, b"7");
        let tag = stored.etag().to_vec();
        let not_modified = stored.reply(Some(&tag), 1_000);
        assert_eq!(not_modified.status, 304);
        assert!(not_modified.body.is_empty());
        let names: Vec<&[u8]> = not_modified.headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, [&b"vary"[..], b"cache-control", b"etag", b"age"]);
        assert_eq!(stored.reply(Some(b"\"nope\""), 1_000).status, 200);
    }
}
