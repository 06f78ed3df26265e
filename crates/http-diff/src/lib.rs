//! Differential testing of covet's HTTP/1.1 request parser against hyper's server.
//!
//! The same bytes (one or several pipelined requests) go to covet's sans-IO
//! [`Connection`](covet_engine::connection::Connection) ([`covet_side`]) and to hyper's
//! `server::conn::http1` over an in-memory stream ([`hyper_side`]). Each side reports the
//! sequence of requests it would serve (method, target, host, other headers, body) and whether
//! it refused the input. [`compare`] checks that both agree, or that covet refused with one of
//! its [`DELIBERATE`] rules (each listed in docs/security.md) where hyper is laxer; any other
//! difference, above all a different sequence of requests (request smuggling), is a
//! [`Disagreement`]. [`generate`] makes valid and subtly invalid inputs from a seed.

pub mod covet_side;
pub mod generate;
pub mod hyper_side;

/// One request as a server would hand it to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The method as sent.
    pub method: String,
    /// The path and, when not empty, `?` and the query (the origin-form of the target).
    pub target: Vec<u8>,
    /// The effective host: an absolute-form target's authority, else the Host header.
    pub host: Option<Vec<u8>>,
    /// The other header fields, names lower-cased, sorted.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The decoded body.
    pub body: Vec<u8>,
}

/// What one server made of an input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The requests it would serve, in order.
    pub requests: Vec<Seen>,
    /// Why it refused the rest of the input (an error, or an incomplete request at the end).
    pub error: Option<String>,
    /// The input ended with nothing but CR and LF bytes after the last request: whether that
    /// is an error is taste (hyper calls `\r` alone fine and `\r\r` an error); nothing is
    /// served either way. Only covet's side sets it.
    pub idle_noise: bool,
}

/// Where covet refuses on purpose what hyper accepts: covet's error detail, and why.
pub const DELIBERATE: &[(&str, &str)] = &[
    ("Bare LF in request head", "a line of the head ends in LF without CR"),
    ("More than one Host header", "RFC 9112 3.2: two Host fields are 400"),
    (
        "Both Content-Length and Transfer-Encoding",
        "hyper drops Content-Length; RFC 9112 6.3 allows refusing",
    ),
    (
        "Unsupported Transfer-Encoding",
        "a coding other than chunked is 501 (hyper passes it through)",
    ),
    ("Body chunked more than once", "`chunked, chunked`"),
    (
        "Invalid Content-Length",
        "checked even next to Transfer-Encoding (hyper then ignores it)",
    ),
    ("Empty Transfer-Encoding coding", "`, chunked`: an empty list element"),
    (
        "Invalid request target",
        "only origin-form, http(s) absolute-form with a valid host and no user info, and `*` for OPTIONS",
    ),
    ("Invalid percent-encoding in path", "the path must decode"),
    ("Invalid UTF-8 in path", "the decoded path must be UTF-8"),
    (
        "Invalid character in request target",
        "`#` and bytes outside visible ASCII",
    ),
    ("Chunk size line too long", "1 KiB per size line"),
    ("Chunk size has too many digits", "at most 16 hex digits, leading zeros included"),
];

/// The two outcomes for an input where covet and hyper differ in a way no rule explains.
#[derive(Debug, Clone)]
pub struct Disagreement {
    /// The input bytes.
    pub input: Vec<u8>,
    /// covet's outcome.
    pub covet: Outcome,
    /// hyper's outcome.
    pub hyper: Outcome,
}

/// How the two servers agreed on an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// Both served the same requests and neither refused anything.
    Accepted,
    /// Both served the same requests, then both refused.
    Rejected,
    /// covet refused by this deliberate rule where hyper went on; what covet served before is
    /// what hyper served first.
    Stricter(&'static str),
}

/// Header fields as compared: sorted, and only the first Content-Length field (hyper drops
/// repeated ones once it has checked that they agree).
pub fn normalize_headers(headers: &mut Vec<(String, Vec<u8>)>) {
    let mut lengths = 0;
    headers.retain(|(name, _)| {
        lengths += usize::from(name == "content-length");
        name != "content-length" || lengths == 1
    });
    headers.sort();
}

/// Compares two outcomes for the same input.
pub fn judge(input: &[u8], covet: Outcome, hyper: Outcome) -> Result<Agreement, Box<Disagreement>> {
    let same_end = covet.error.is_some() == hyper.error.is_some() || covet.idle_noise;
    if covet.requests == hyper.requests && same_end {
        return Ok(if covet.error.is_some() {
            Agreement::Rejected
        } else {
            Agreement::Accepted
        });
    }
    let rule = covet
        .error
        .as_deref()
        .and_then(|detail| DELIBERATE.iter().find(|(d, _)| *d == detail));
    if let Some((detail, _)) = rule {
        if hyper.requests.starts_with(&covet.requests) {
            return Ok(Agreement::Stricter(detail));
        }
    }
    Err(Box::new(Disagreement {
        input: input.to_vec(),
        covet,
        hyper,
    }))
}

/// Feeds `input` to both servers (to covet in two reads, split at `split`) and compares what
/// they made of it.
pub fn compare(
    hyper: &hyper_side::HyperServer,
    input: &[u8],
    split: usize,
) -> Result<Agreement, Box<Disagreement>> {
    judge(input, covet_side::run(input, split), hyper.run(input))
}
