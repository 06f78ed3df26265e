//! Request/response policy ("engine middleware"): checks that run on a parsed request head
//! before routing, and headers they add to the response.
//!
//! A [`Policy`] is compiled once from its stages, outermost first (the order Starlette runs
//! middleware in). Per request, [`Policy::check`] walks the stages: each either answers the
//! request itself ([`Early`]: a CORS preflight, a refused host, a redirect to https) or notes
//! the headers it adds to whatever response follows ([`Added`]). Headers whose values are known
//! at configuration time are kept in one table and selected per request with a bit mask, so a
//! request that only gets fixed headers costs no allocation.
//!
//! An early answer still gets the headers of the stages *outside* the one that answered, as a
//! response from an inner middleware would.
//!
//! Adding a check is adding a file with a type implementing [`Stage`].
//!
//! ```
//! use covet_engine::policy::{headers::SecurityHeaders, Builder, Decision, Head};
//!
//! let mut builder = Builder::new();
//! let stage = SecurityHeaders::new(&Default::default(), &mut builder).unwrap();
//! builder.push(stage);
//! let policy = builder.build();
//! let headers = vec![("host".to_owned(), b"example.com".to_vec())];
//! let head = Head::new("GET", "/", b"/", b"", &headers, false);
//! match policy.check(&head) {
//!     Decision::Pass(added) => assert!(added.iter(&policy).any(|(n, _)| n == "x-frame-options")),
//!     Decision::Answer(_) => unreachable!(),
//! }
//! ```

pub mod bearer;
pub mod cors;
pub mod headers;
pub mod hosts;
pub mod ratelimit;
pub mod redirect;

use std::fmt;

pub use crate::http::answer::{Early, Header};

/// What the policy sees of a request.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// The method as sent.
    pub method: &'a str,
    /// The percent-decoded path, for checks that depend on it (a limit on `/login`).
    pub path: &'a str,
    /// The path bytes as sent (percent-encoding kept), for redirect targets.
    pub raw_path: &'a [u8],
    /// The raw query string, without `?`.
    pub query: &'a [u8],
    /// Header fields, names lower-cased.
    pub headers: &'a [(String, Vec<u8>)],
    /// True when the connection itself is TLS (the ASGI scope's scheme is https/wss).
    pub https: bool,
    /// The peer's address, when the caller has it (a rate limit keyed by client needs it).
    pub client: Option<&'a str>,
}

impl<'a> Head<'a> {
    /// A head without a client address.
    pub fn new(
        method: &'a str,
        path: &'a str,
        raw_path: &'a [u8],
        query: &'a [u8],
        headers: &'a [(String, Vec<u8>)],
        https: bool,
    ) -> Self {
        Head {
            method,
            path,
            raw_path,
            query,
            headers,
            https,
            client: None,
        }
    }

    /// The first value of the header `name_lower`.
    pub fn header(&self, name_lower: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(name, _)| name == name_lower)
            .map(|(_, value)| value.as_slice())
    }

    /// Whether the request came over https: from the connection, or, when `trust_forwarded`
    /// (the app runs behind a proxy that sets it), from the first `X-Forwarded-Proto` value.
    pub fn is_secure(&self, trust_forwarded: bool) -> bool {
        if self.https {
            return true;
        }
        if !trust_forwarded {
            return false;
        }
        let Some(value) = self.header("x-forwarded-proto") else {
            return false;
        };
        let first = value.split(|&b| b == b',').next().unwrap_or(b"");
        first.trim_ascii().eq_ignore_ascii_case(b"https")
    }

    /// `path?query` as sent, for a redirect target.
    pub fn target(&self) -> Vec<u8> {
        let mut target = self.raw_path.to_vec();
        if !self.query.is_empty() {
            target.push(b'?');
            target.extend_from_slice(self.query);
        }
        target
    }
}

/// The headers one request gets from the policy: fixed ones by bit, the rest by value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Added {
    /// Bits of [`Policy`]'s fixed-header table.
    pub fixed: u64,
    /// Headers whose values depend on the request (an echoed origin, a remaining quota).
    pub dynamic: Vec<Header>,
}

impl Added {
    /// True when there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.fixed == 0 && self.dynamic.is_empty()
    }

    /// The headers, fixed ones first.
    pub fn iter<'p>(
        &'p self,
        policy: &'p Policy,
    ) -> impl Iterator<Item = (&'static str, &'p [u8])> {
        let fixed = policy
            .fixed
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.fixed & (1 << i) != 0)
            .map(|(_, (name, value))| (*name, &value[..]));
        let dynamic = self.dynamic.iter().map(|(n, v)| (*n, v.as_slice()));
        fixed.chain(dynamic)
    }

    /// Appends the headers to a response head being written in `out` (which holds the head from
    /// `head_start`), skipping a name the response already has, so the application's own value
    /// wins; `vary` is the exception, added as one more field.
    pub fn write_into(&self, policy: &Policy, out: &mut Vec<u8>, head_start: usize) {
        let head_end = out.len();
        for (name, value) in self.iter(policy) {
            if name == "vary" || !head_has(&out[head_start..head_end], name) {
                push_header(out, name, value);
            }
        }
    }

    /// Adds the headers to a list of (name, value) pairs under the same rule as `write_into`.
    pub fn merge_into(&self, policy: &Policy, headers: &mut Vec<(Vec<u8>, Vec<u8>)>) {
        let present = headers.len();
        for (name, value) in self.iter(policy) {
            let has = |n: &[u8]| n.eq_ignore_ascii_case(name.as_bytes());
            if name == "vary" || !headers[..present].iter().any(|(n, _)| has(n)) {
                headers.push((name.as_bytes().to_vec(), value.to_vec()));
            }
        }
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Whether a response head (status line and header lines) has a field `name_lower`.
fn head_has(head: &[u8], name_lower: &str) -> bool {
    let name = name_lower.as_bytes();
    head.split(|&b| b == b'\n').skip(1).any(|line| {
        line.len() > name.len()
            && line[name.len()] == b':'
            && line[..name.len()].eq_ignore_ascii_case(name)
    })
}

/// The policy's answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Serve the request; add these headers to its response.
    Pass(Added),
    /// Answer with this response (it already carries the outer stages' headers).
    Answer(Early),
}

/// One check of the pipeline.
pub trait Stage: Send + Sync + fmt::Debug {
    /// Looks at the request: returns an answer, or notes in `added` the headers this stage
    /// adds to the response (fixed ones by the bits [`Builder::fixed`] gave it).
    fn check(&self, head: &Head<'_>, added: &mut Added) -> Option<Early>;

    /// True when the stage needs [`Head::client`] (the binding fills it only then).
    fn wants_client(&self) -> bool {
        false
    }
}

/// A configuration the policy cannot run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

/// Checks a configured header value: no CR, LF or NUL (no response splitting).
pub fn check_value(what: &str, value: &[u8]) -> Result<(), PolicyError> {
    if value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(PolicyError(format!(
            "{what} must not contain CR, LF or NUL characters"
        )));
    }
    Ok(())
}

/// Collects stages and their fixed headers.
#[derive(Debug, Default)]
pub struct Builder {
    stages: Vec<Box<dyn Stage>>,
    fixed: Vec<(&'static str, Box<[u8]>)>,
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a header with a value known now; returns its bit for [`Added::fixed`].
    pub fn fixed(&mut self, name: &'static str, value: &[u8]) -> Result<u64, PolicyError> {
        check_value(name, value)?;
        if self.fixed.len() == 64 {
            return Err(PolicyError("too many engine middleware headers".into()));
        }
        self.fixed.push((name, value.into()));
        Ok(1 << (self.fixed.len() - 1))
    }

    /// Adds the next stage, inside the ones already added.
    pub fn push(&mut self, stage: impl Stage + 'static) {
        self.stages.push(Box::new(stage));
    }

    /// The compiled policy.
    pub fn build(self) -> Policy {
        let wants_client = self.stages.iter().any(|s| s.wants_client());
        Policy {
            stages: self.stages,
            fixed: self.fixed,
            wants_client,
        }
    }
}

/// A compiled pipeline of stages, outermost first.
#[derive(Debug)]
pub struct Policy {
    stages: Vec<Box<dyn Stage>>,
    fixed: Vec<(&'static str, Box<[u8]>)>,
    wants_client: bool,
}

impl Policy {
    /// Runs the stages on a request.
    pub fn check(&self, head: &Head<'_>) -> Decision {
        let mut added = Added::default();
        for stage in &self.stages {
            if let Some(mut early) = stage.check(head, &mut added) {
                let present = early.headers.len();
                for (name, value) in added.iter(self) {
                    if name == "vary" || !early.headers[..present].iter().any(|(n, _)| *n == name) {
                        early.headers.push((name, value.to_vec()));
                    }
                }
                return Decision::Answer(early);
            }
        }
        Decision::Pass(added)
    }

    /// True when a stage needs the client address in [`Head::client`].
    pub fn wants_client(&self) -> bool {
        self.wants_client
    }

    /// True when the policy has no stages.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct AddsOne(u64);

    impl Stage for AddsOne {
        fn check(&self, _head: &Head<'_>, added: &mut Added) -> Option<Early> {
            added.fixed |= self.0;
            None
        }
    }

    #[derive(Debug)]
    struct Refuses;

    impl Stage for Refuses {
        fn check(&self, _head: &Head<'_>, _added: &mut Added) -> Option<Early> {
            Some(Early::refuse(400, "No"))
        }
    }

    /// The shape a rate limit takes: per-request headers while allowed, its own answer after.
    #[derive(Debug)]
    struct Quota(std::sync::atomic::AtomicU32);

    impl Stage for Quota {
        fn check(&self, _head: &Head<'_>, added: &mut Added) -> Option<Early> {
            let left = self.0.load(std::sync::atomic::Ordering::Relaxed);
            if left == 0 {
                let mut early = Early::refuse(429, "Too Many Requests");
                early.headers.push(("retry-after", b"1".to_vec()));
                return Some(early);
            }
            self.0.store(left - 1, std::sync::atomic::Ordering::Relaxed);
            let remaining = (left - 1).to_string().into_bytes();
            added.dynamic.push(("ratelimit-remaining", remaining));
            None
        }

        fn wants_client(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_stage_with_per_request_headers_and_its_own_answer() {
        let mut b = Builder::new();
        let bit = b.fixed("x-frame-options", b"DENY").unwrap();
        b.push(AddsOne(bit));
        b.push(Quota(std::sync::atomic::AtomicU32::new(1)));
        let policy = b.build();
        assert!(policy.wants_client());
        let Decision::Pass(added) = policy.check(&head(&[])) else {
            panic!()
        };
        let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
        added.write_into(&policy, &mut out, 0);
        assert!(out.ends_with(b"x-frame-options: DENY\r\nratelimit-remaining: 0\r\n"));
        match policy.check(&head(&[])) {
            Decision::Answer(e) => {
                assert_eq!(e.status, 429);
                assert!(e.headers.contains(&("retry-after", b"1".to_vec())));
                assert!(e.headers.contains(&("x-frame-options", b"DENY".to_vec())));
            }
            other => panic!("{other:?}"),
        }
    }

    fn head(headers: &[(String, Vec<u8>)]) -> Head<'_> {
        Head::new("GET", "/p", b"/p", b"a=1", headers, false)
    }

    #[test]
    fn outer_headers_reach_an_inner_answer_and_inner_stages_do_not_run() {
        let mut b = Builder::new();
        let bit = b.fixed("x-outer", b"1").unwrap();
        b.push(AddsOne(bit));
        b.push(Refuses);
        let inner = b.fixed("x-inner", b"2").unwrap();
        b.push(AddsOne(inner));
        let policy = b.build();
        match policy.check(&head(&[])) {
            Decision::Answer(early) => {
                assert_eq!(early.status, 400);
                assert_eq!(early.body, b"{\"detail\":\"No\"}");
                assert!(early.headers.contains(&("x-outer", b"1".to_vec())));
                assert!(!early.headers.iter().any(|(n, _)| *n == "x-inner"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn app_headers_win_except_vary() {
        let mut b = Builder::new();
        let one = b.fixed("x-frame-options", b"DENY").unwrap();
        let two = b.fixed("vary", b"Origin").unwrap();
        let three = b.fixed("referrer-policy", b"no-referrer").unwrap();
        b.push(AddsOne(one | two | three));
        let policy = b.build();
        let Decision::Pass(added) = policy.check(&head(&[])) else {
            panic!()
        };
        let mut out = b"junk".to_vec();
        let start = out.len();
        out.extend_from_slice(
            b"HTTP/1.1 200 OK\r\nX-Frame-Options: SAMEORIGIN\r\nvary: Cookie\r\n",
        );
        added.write_into(&policy, &mut out, start);
        let text = String::from_utf8(out[start..].to_vec()).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nX-Frame-Options: SAMEORIGIN\r\nvary: Cookie\r\nvary: Origin\r\nreferrer-policy: no-referrer\r\n"
        );
        let mut list = vec![(b"x-frame-options".to_vec(), b"SAMEORIGIN".to_vec())];
        added.merge_into(&policy, &mut list);
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn configured_values_with_line_breaks_are_refused() {
        let mut b = Builder::new();
        assert!(b.fixed("x-a", b"ok\r\nset-cookie: a=b").is_err());
        assert!(b.fixed("x-a", b"fine").is_ok());
    }

    #[test]
    fn forwarded_proto_counts_only_when_trusted() {
        let headers = vec![("x-forwarded-proto".to_owned(), b"https, http".to_vec())];
        let h = head(&headers);
        assert!(!h.is_secure(false));
        assert!(h.is_secure(true));
        assert_eq!(h.target(), b"/p?a=1");
    }
}
