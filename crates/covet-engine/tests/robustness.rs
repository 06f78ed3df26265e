//! Deterministic randomized robustness tests for the sans-IO engine.
//!
//! No extra dependencies: a tiny xorshift PRNG drives every case from a fixed seed, so a
//! failure names its case and reproduces exactly. Properties checked:
//!
//! * arbitrary and mutated input fed to a `Connection` in random splits never panics, every
//!   drain of `next_event` ends, nothing follows an `Error`, and buffered memory stays bounded;
//! * a batch of valid pipelined requests gives the same events whatever the feed splits are;
//! * oversized heads end in 431 and oversized bodies in 413, never in a `Request`;
//! * router lookups of arbitrary paths never panic, and `url_path_for` round-trips.

use covet_engine::connection::{Connection, Event};
use covet_engine::http::request::parse_head;
use covet_engine::limits::Limits;
use covet_engine::router::{Lookup, ParamValue, Router};
use covet_engine::urlencoded::parse_pairs;

// ---------------------------------------------------------------------------------------------
// PRNG

/// Number of cases for a test: `base`, times `COVET_ROBUSTNESS_SCALE` when set (for longer
/// local runs, e.g. `COVET_ROBUSTNESS_SCALE=50 cargo test --release --test robustness`).
fn cases(base: u64) -> u64 {
    let scale = std::env::var("COVET_ROBUSTNESS_SCALE")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    base * scale.max(1)
}

mod common;
use common::Rng;

// ---------------------------------------------------------------------------------------------
// Driving a connection

/// Largest number of events one drain may give before we call it an endless loop. Every event
/// consumes input (a `Continue` at most once per request), so real drains stay far below.
const DRAIN_BOUND: usize = 100_000;

/// Everything observed while feeding one input.
struct Run {
    events: Vec<Event>,
}

impl Run {
    fn requests(&self) -> impl Iterator<Item = &covet_engine::http::request::Request> {
        self.events.iter().filter_map(|e| match e {
            Event::Request(r) => Some(r),
            _ => None,
        })
    }

    fn error_status(&self) -> Option<u16> {
        self.events.iter().find_map(|e| match e {
            Event::Error(err) => Some(err.status),
            _ => None,
        })
    }

    /// The events without `Continue`, whose presence legitimately depends on the splits.
    fn without_continue(&self) -> Vec<Event> {
        self.events
            .iter()
            .filter(|e| **e != Event::Continue)
            .cloned()
            .collect()
    }
}

/// A random split size: mostly small pieces, sometimes one byte, sometimes huge.
fn split_size(rng: &mut Rng) -> usize {
    match rng.below(6) {
        0 => 1,
        1 => rng.range(1, 4),
        2 => rng.range(1, 16),
        3 => rng.range(1, 128),
        4 => rng.range(1, 2048),
        _ => usize::MAX,
    }
}

/// Calls `next_event` until it returns `None`, checking the invariants of each event and of the
/// connection afterwards.
fn drain(c: &mut Connection, out: &mut Vec<Event>, ctx: &str) {
    let limits = c.limits().clone();
    for _ in 0..DRAIN_BOUND {
        let Some(event) = c.next_event() else {
            // Memory stays bounded: an idle head buffer never exceeds the head limit, and a
            // pending body has consumed everything buffered.
            assert!(
                c.buffered() <= limits.max_head_bytes,
                "{ctx}: {} bytes buffered, head limit {}",
                c.buffered(),
                limits.max_head_bytes
            );
            if c.in_body() {
                assert_eq!(c.buffered(), 0, "{ctx}: unconsumed bytes while in a body");
            }
            return;
        };
        if let Some(Event::Error(_)) = out.last() {
            panic!("{ctx}: event {event:?} after an error");
        }
        match &event {
            Event::Request(r) => {
                assert!(
                    r.body.len() <= limits.max_body_bytes,
                    "{ctx}: body of {} bytes over the limit {}",
                    r.body.len(),
                    limits.max_body_bytes
                );
                assert!(
                    r.headers.len() <= limits.max_headers,
                    "{ctx}: {} headers over the limit {}",
                    r.headers.len(),
                    limits.max_headers
                );
                assert!(
                    r.path.starts_with('/') || r.path == "*",
                    "{ctx}: bad path {:?}",
                    r.path
                );
                assert!(r.http_minor <= 1, "{ctx}: minor {}", r.http_minor);
            }
            // A streamed request is recorded as one Request with its whole body, so runs that
            // streamed and runs that did not compare equal.
            Event::Stream(r) => {
                assert!(
                    r.body.len() <= limits.max_body_bytes,
                    "{ctx}: streamed head over the limit"
                );
                out.push(Event::Request(r.clone()));
                continue;
            }
            Event::BodyChunk(data) => {
                let Some(Event::Request(r)) = out.last_mut() else {
                    panic!("{ctx}: body chunk without a streamed request");
                };
                r.body.extend_from_slice(data);
                assert!(
                    r.body.len() <= limits.max_body_bytes,
                    "{ctx}: streamed body of {} bytes over the limit {}",
                    r.body.len(),
                    limits.max_body_bytes
                );
                continue;
            }
            Event::BodyEnd => continue,
            Event::Continue => {}
            Event::Error(err) => {
                assert!(
                    matches!(err.status, 400 | 413 | 431 | 501 | 505),
                    "{ctx}: unexpected status {err:?}"
                );
                out.push(event);
                // After an error the connection is dead for good.
                for _ in 0..3 {
                    assert_eq!(c.next_event(), None, "{ctx}: event after an error");
                }
                assert!(!c.has_partial(), "{ctx}: partial after an error");
                return;
            }
        }
        out.push(event);
    }
    panic!("{ctx}: next_event kept returning events ({DRAIN_BOUND} in one drain)");
}

/// Feeds `data` in random pieces, draining after each one, then checks the end state.
fn run(limits: &Limits, data: &[u8], rng: &mut Rng, ctx: &str) -> Run {
    let mut c = Connection::new(limits.clone());
    let mut events = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = split_size(rng).min(rest.len());
        c.feed(&rest[..n]);
        rest = &rest[n..];
        drain(&mut c, &mut events, ctx);
    }
    drain(&mut c, &mut events, ctx);
    if let Some(Event::Error(_)) = events.last() {
        // Feeding more after an error changes nothing.
        c.feed(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(c.next_event(), None, "{ctx}: event after error and feed");
        assert_eq!(c.buffered(), 0, "{ctx}: bytes kept after an error");
    }
    Run { events }
}

/// Feeds `data` in one piece.
fn run_whole(limits: &Limits, data: &[u8], ctx: &str) -> Run {
    let mut c = Connection::new(limits.clone());
    let mut events = Vec::new();
    c.feed(data);
    drain(&mut c, &mut events, ctx);
    Run { events }
}

// ---------------------------------------------------------------------------------------------
// Generating valid requests

/// What the connection should report for one generated request.
#[derive(Debug)]
struct Expected {
    method: String,
    path: String,
    query: Vec<u8>,
    http_minor: u8,
    body: Vec<u8>,
    expect_continue: bool,
}

const UNRESERVED: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";

/// Characters for decoded path text: plain, reserved, spaces, percent signs and non-ASCII.
const PATH_CHARS: &[&str] = &[
    "a", "b", "z", "0", "9", "-", "_", ".", "~", " ", "%", "?", "#", "+", "&", "=", ":", "@", "é",
    "ü", "€", "日", "本", "😀", "\u{0}", "\t", "'", "\"", "<", ">", "[", "]",
];

fn random_text(rng: &mut Rng, pool: &[&str], min: usize, max: usize) -> String {
    let len = rng.range(min, max);
    (0..len).map(|_| *rng.pick(pool)).collect()
}

/// Percent-encodes every byte outside the unreserved set.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        if UNRESERVED.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn random_token(rng: &mut Rng, min: usize, max: usize) -> String {
    const TCHARS: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
    let len = rng.range(min, max);
    (0..len).map(|_| *rng.pick(TCHARS) as char).collect()
}

fn random_case(rng: &mut Rng, name: &str) -> String {
    name.chars()
        .map(|ch| {
            if rng.one_in(2) {
                ch.to_ascii_uppercase()
            } else {
                ch
            }
        })
        .collect()
}

/// Appends one valid request to `out` and returns what it should parse to.
fn gen_request(rng: &mut Rng, out: &mut Vec<u8>, max_body: usize) -> Expected {
    let method = rng
        .pick(&[
            "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "X-CUSTOM",
        ])
        .to_string();
    let segments = rng.range(0, 4);
    let mut path = String::new();
    let mut raw_path = String::new();
    for _ in 0..segments {
        let seg = random_text(rng, PATH_CHARS, 0, 6);
        path.push('/');
        path.push_str(&seg);
        raw_path.push('/');
        raw_path.push_str(&percent_encode(&seg));
    }
    if path.is_empty() || rng.one_in(5) {
        path.push('/');
        raw_path.push('/');
    }
    let query = if rng.one_in(3) {
        let q = random_token(rng, 0, 12).replace('#', "");
        raw_path.push('?');
        raw_path.push_str(&q);
        q.into_bytes()
    } else {
        Vec::new()
    };
    let http_minor = if rng.one_in(6) { 0 } else { 1 };
    let body_kind = if method == "GET" || method == "HEAD" {
        rng.below(4).min(1) // mostly none, sometimes a length
    } else {
        rng.below(3) // 0: none, 1: length, 2: chunked
    };
    let body_kind = if http_minor == 0 {
        body_kind.min(1)
    } else {
        body_kind
    };
    let body_len = rng.range(0, max_body.min(300));
    let body: Vec<u8> = if body_kind == 0 {
        Vec::new()
    } else {
        (0..body_len).map(|_| rng.byte()).collect()
    };
    let expect_continue = http_minor == 1 && body_kind != 0 && rng.one_in(3);

    if rng.one_in(10) {
        out.extend_from_slice(b"\r\n"); // tolerated leading empty line
    }
    out.extend_from_slice(format!("{method} {raw_path} HTTP/1.{http_minor}\r\n").as_bytes());
    let mut header_lines = Vec::new();
    for _ in 0..rng.range(0, 5) {
        let name = format!("x-{}", random_token(rng, 1, 10));
        let value = random_token(rng, 0, 20);
        let sep = rng.pick(&[":", ": ", ":\t", ":  "]);
        header_lines.push(format!("{name}{sep}{value}\r\n"));
    }
    match body_kind {
        1 => {
            let name = random_case(rng, "content-length");
            header_lines.push(format!("{name}: {}\r\n", body.len()));
        }
        2 => {
            let name = random_case(rng, "transfer-encoding");
            let value = random_case(rng, "chunked");
            header_lines.push(format!("{name}: {value}\r\n"));
        }
        _ => {}
    }
    if expect_continue {
        header_lines.push("Expect: 100-continue\r\n".to_string());
    }
    // Shuffle the header lines.
    for i in (1..header_lines.len()).rev() {
        let j = rng.below(i + 1);
        header_lines.swap(i, j);
    }
    for line in &header_lines {
        out.extend_from_slice(line.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    match body_kind {
        1 => out.extend_from_slice(&body),
        2 => write_chunked(rng, out, &body),
        _ => {}
    }
    Expected {
        method,
        path,
        query,
        http_minor,
        body,
        expect_continue,
    }
}

/// Writes `body` chunked: random chunk sizes, hex case, extensions and trailers.
fn write_chunked(rng: &mut Rng, out: &mut Vec<u8>, body: &[u8]) {
    write_chunks(rng, out, body, true);
}

/// Chunked framing of `body`, with extensions on some chunks when `extensions` (their bytes
/// count against the body limit).
fn write_chunks(rng: &mut Rng, out: &mut Vec<u8>, body: &[u8], extensions: bool) {
    let mut rest = body;
    while !rest.is_empty() {
        let n = rng.range(1, rest.len().min(64));
        let size = if rng.one_in(2) {
            format!("{n:x}")
        } else {
            format!("{n:X}")
        };
        let zeros = "0".repeat(rng.below(3));
        out.extend_from_slice(zeros.as_bytes());
        out.extend_from_slice(size.as_bytes());
        if extensions && rng.one_in(4) {
            out.extend_from_slice(b";ext=1;q=\"x\"");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    out.extend_from_slice(b"0\r\n");
    for _ in 0..rng.below(3) {
        out.extend_from_slice(format!("x-t-{}: v\r\n", random_token(rng, 1, 5)).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

fn gen_batch(rng: &mut Rng, count: usize, max_body: usize) -> (Vec<u8>, Vec<Expected>) {
    let mut data = Vec::new();
    let expected = (0..count)
        .map(|_| gen_request(rng, &mut data, max_body))
        .collect();
    (data, expected)
}

// ---------------------------------------------------------------------------------------------
// (a) arbitrary and mutated input

fn random_limits(rng: &mut Rng) -> Limits {
    Limits {
        max_head_bytes: *rng.pick(&[16, 64, 300, 1024, 16 * 1024]),
        max_headers: *rng.pick(&[0, 1, 3, 100, 128, 129, 300]),
        max_body_bytes: *rng.pick(&[0, 1, 10, 200, 4096, 10 * 1024 * 1024]),
        stream_threshold: *rng.pick(&[0, 3, 100, 1024 * 1024]),
        ..Limits::default()
    }
}

/// Random bytes biased towards what HTTP parsers care about.
fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    const INTERESTING: &[&[u8]] = &[
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b":",
        b"\0",
        b"GET ",
        b"POST ",
        b" HTTP/1.1",
        b" HTTP/1.0",
        b" HTTP/9.9",
        b"/",
        b"%",
        b"%zz",
        b"%ff",
        b"?",
        b"Content-Length: ",
        b"Transfer-Encoding: chunked",
        b"Expect: 100-continue",
        b"99999999999999999999",
        b"ffffffffffffffff",
        b"0",
        b"\xc3\xa9",
        b"\xff\xfe",
        b"\r\n\r\n",
    ];
    let len = rng.range(0, 400);
    let mut out = Vec::with_capacity(len * 4);
    for _ in 0..len {
        match rng.below(3) {
            0 => out.push(rng.byte()),
            1 => out.push(*rng.pick(b"GETPOST /abc:\r\n 0123456789")),
            _ => out.extend_from_slice(rng.pick_bytes(INTERESTING)),
        }
    }
    out
}

/// Replaces the first run of ASCII digits at or after `at` with `with`.
fn replace_number(data: &mut Vec<u8>, at: usize, with: &[u8]) {
    let Some(start) = data[at..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| p + at)
    else {
        return;
    };
    let end = data[start..]
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .map_or(data.len(), |p| p + start);
    data.splice(start..end, with.iter().copied());
}

/// Applies one random mutation.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    if data.is_empty() {
        data.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
    }
    let at = rng.below(data.len());
    match rng.below(12) {
        0 => data[at] ^= 1 << rng.below(8),
        1 => data.truncate(at),
        2 => {
            // Duplicate a CRLF.
            if let Some(p) = data[at..].windows(2).position(|w| w == b"\r\n") {
                data.splice(at + p..at + p, *b"\r\n");
            }
        }
        3 => {
            // Remove a CRLF, or just its CR.
            if let Some(p) = data[at..].windows(2).position(|w| w == b"\r\n") {
                let len = if rng.one_in(2) { 2 } else { 1 };
                data.drain(at + p..at + p + len);
            }
        }
        4 => {
            let huge = rng.pick_bytes(&[
                &b"99999999999999999999"[..],
                b"18446744073709551615",
                b"18446744073709551616",
                b"9999999999999999999",
                b"ffffffffffffffff",
                b"fffffffffffffffff",
                b"7fffffffffffffff",
                b"-1",
                b"1e9",
            ]);
            replace_number(data, at, huge);
        }
        5 => {
            let name = if rng.one_in(2) {
                random_token(rng, 0, 12).into_bytes()
            } else {
                (0..rng.range(0, 12)).map(|_| rng.byte()).collect()
            };
            let value: Vec<u8> = (0..rng.range(0, 30)).map(|_| rng.byte()).collect();
            let mut line = name;
            line.extend_from_slice(b": ");
            line.extend_from_slice(&value);
            line.extend_from_slice(b"\r\n");
            // Insert after some LF, i.e. at a line start.
            let pos = data[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |p| at + p + 1);
            data.splice(pos..pos, line);
        }
        6 => data.insert(at, 0),
        7 => {
            let non_ascii = rng.pick_bytes(&[&b"\xc3\xa9"[..], b"\xff", b"\x80", b"\xe2\x82"]);
            data.splice(at..at, non_ascii.iter().copied());
        }
        8 => {
            let end = (at + rng.range(1, 32)).min(data.len());
            data.drain(at..end);
        }
        9 => {
            let end = (at + rng.range(1, 64)).min(data.len());
            let copy = data[at..end].to_vec();
            data.splice(at..at, copy);
        }
        10 => {
            let framing = rng.pick_bytes(&[
                &b"Transfer-Encoding: chunked\r\n"[..],
                b"Content-Length: 5\r\n",
                b"Content-Length: 3, 4\r\n",
                b"Transfer-Encoding: gzip\r\n",
                b"Expect: 100-continue\r\n",
                b"Connection: close\r\n",
            ]);
            let pos = data[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |p| at + p + 1);
            data.splice(pos..pos, framing.iter().copied());
        }
        _ => data[at] = rng.byte(),
    }
}

#[test]
fn random_bytes_never_break_the_connection() {
    for case in 0..cases(5000) {
        let mut rng = Rng::new(0xA000 + case);
        let limits = random_limits(&mut rng);
        let data = random_bytes(&mut rng);
        run(&limits, &data, &mut rng, &format!("random case {case}"));
    }
}

#[test]
fn mutated_requests_never_break_the_connection() {
    for case in 0..cases(8000) {
        let mut rng = Rng::new(0xB000 + case);
        let limits = random_limits(&mut rng);
        let count = rng.range(1, 4);
        let (mut data, _) = gen_batch(&mut rng, count, 1000);
        for _ in 0..rng.range(1, 6) {
            mutate(&mut rng, &mut data);
        }
        let ctx = format!("mutated case {case}");
        let split = run(&limits, &data, &mut rng, &ctx);
        // Parsing never depends on how the bytes were split, valid input or not, with three
        // allowances: Continue needs the body to be absent, so it comes and goes with the
        // splits; a head the split run saw growing past the limit may be a 431 there and
        // something else in one piece; and the connection only re-parses an incomplete head
        // once a newline arrives, so a split run may still be waiting where the whole run
        // already saw a malformed head (the error comes with the next newline, or as 431).
        let whole = run_whole(&limits, &data, &ctx);
        if split.error_status() == Some(431) || whole.error_status() == Some(431) {
            continue;
        }
        let (s, w) = (split.without_continue(), whole.without_continue());
        // A fourth: a request streamed (body over the stream threshold) is handed over before
        // its body is known to be well-formed, so a split run may show it before the error
        // that the one-piece run reports in its place.
        let streamed_then_failed = s.len() >= 2
            && matches!(s.last(), Some(Event::Error(_)))
            && s.last() == w.last()
            && s[..s.len() - 2] == w[..w.len() - 1];
        if s != w && !streamed_then_failed {
            assert!(
                matches!(w.last(), Some(Event::Error(_))) && s == w[..w.len() - 1],
                "{ctx}: split and whole runs differ\n split {s:?}\n whole {w:?}"
            );
        }
    }
}

#[test]
fn huge_numbers_in_framing() {
    let limits = Limits::default();
    let mut rng = Rng::new(7);
    for cl in [
        "99999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "9999999999999999999",
        "10485761",
        "00000000000000000000000001",
    ] {
        let raw = format!("POST / HTTP/1.1\r\nContent-Length: {cl}\r\n\r\nabc");
        let got = run(&limits, raw.as_bytes(), &mut rng, cl);
        let status = got.error_status();
        assert!(matches!(status, Some(400 | 413)), "{cl}: {status:?}");
        assert_eq!(got.requests().count(), 0, "{cl}");
    }
    for size in [
        "ffffffffffffffff",
        "fffffffffffffffff",
        "10000000000000000",
        "a00001",
        "7FFFFFFFFFFFFFFF",
    ] {
        let raw = format!("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nabc");
        let got = run(&limits, raw.as_bytes(), &mut rng, size);
        let status = got.error_status();
        assert!(matches!(status, Some(400 | 413)), "{size}: {status:?}");
        assert_eq!(got.requests().count(), 0, "{size}");
    }
}

// ---------------------------------------------------------------------------------------------
// (b) split equivalence

fn check_expected(run: &Run, expected: &[Expected], ctx: &str) {
    let requests: Vec<_> = run.requests().collect();
    assert_eq!(
        run.error_status(),
        None,
        "{ctx}: unexpected error, events {:?}",
        run.events
    );
    assert_eq!(requests.len(), expected.len(), "{ctx}: request count");
    for (i, (got, want)) in requests.iter().zip(expected).enumerate() {
        assert_eq!(got.method, want.method, "{ctx} #{i}");
        assert_eq!(got.path, want.path, "{ctx} #{i}");
        assert_eq!(got.query, want.query, "{ctx} #{i}");
        assert_eq!(got.http_minor, want.http_minor, "{ctx} #{i}");
        assert_eq!(got.body, want.body, "{ctx} #{i}");
        assert_eq!(got.expect_continue, want.expect_continue, "{ctx} #{i}");
    }
    // Continue comes at most once per request, only for requests that asked for it, and
    // always before that request.
    let mut index = 0;
    let mut continued = false;
    for event in &run.events {
        match event {
            Event::Continue => {
                assert!(!continued, "{ctx}: two Continues for request {index}");
                assert!(
                    expected[index].expect_continue,
                    "{ctx}: Continue for request {index} that did not ask"
                );
                continued = true;
            }
            Event::Request(_) => {
                index += 1;
                continued = false;
            }
            Event::Error(_) | Event::Stream(_) | Event::BodyChunk(_) | Event::BodyEnd => {
                unreachable!()
            }
        }
    }
}

#[test]
fn pipelined_batches_are_split_independent() {
    for case in 0..cases(1500) {
        let mut rng = Rng::new(0xC000 + case);
        let limits = Limits::default();
        let count = rng.range(1, 8);
        let (data, expected) = gen_batch(&mut rng, count, 1000);
        let ctx = format!("batch case {case}");
        let whole = run_whole(&limits, &data, &ctx);
        check_expected(&whole, &expected, &ctx);
        for round in 0..3 {
            let ctx = format!("{ctx} round {round}");
            let split = run(&limits, &data, &mut rng, &ctx);
            check_expected(&split, &expected, &ctx);
            assert_eq!(
                split.without_continue(),
                whole.without_continue(),
                "{ctx}: split and whole runs differ"
            );
        }
        // Byte by byte, the hardest split.
        if case % 10 == 0 {
            let mut c = Connection::new(limits.clone());
            let mut events = Vec::new();
            for b in &data {
                c.feed(std::slice::from_ref(b));
                drain(&mut c, &mut events, &ctx);
            }
            let bytewise = Run { events };
            check_expected(&bytewise, &expected, &ctx);
            assert_eq!(bytewise.without_continue(), whole.without_continue());
        }
    }
}

#[test]
fn expect_continue_comes_when_the_body_is_absent() {
    let mut rng = Rng::new(99);
    for case in 0..100 {
        let mut data = Vec::new();
        let want = gen_request(&mut rng, &mut data, 1000);
        let head_len = data.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut c = Connection::new(Limits::default());
        c.feed(&data[..head_len]);
        let first = c.next_event();
        if want.expect_continue {
            assert_eq!(first, Some(Event::Continue), "case {case}");
        } else {
            assert_ne!(first, Some(Event::Continue), "case {case}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (c) limits

#[test]
fn unterminated_heads_end_in_431() {
    for case in 0..cases(120) {
        let mut rng = Rng::new(0xD000 + case);
        let max_head_bytes = *rng.pick(&[1, 16, 100, 1000, 16 * 1024]);
        let limits = Limits {
            max_head_bytes,
            max_headers: *rng.pick(&[5, 100, 1000]),
            ..Limits::default()
        };
        let ctx = format!("431 case {case} (max {max_head_bytes})");
        let mut c = Connection::new(limits.clone());
        // (start, filler, whether a 400 for malformed input is acceptable too)
        let combos: &[(&[u8], &[u8], bool)] = &[
            (b"GET /", b"a", false),
            (b"GET / HTTP/1.1\r\nX-Long: ", b"a", false),
            (b"GET / HTTP/1.1\r\nX-Long: ", b" ", false),
            (b"GET / HTTP/1.1\r\n", b"x-header: value\r\n", false),
            (b"\r\n", b"\r\n", false),
            (b"", b"\n", false),
            (b"GET /", b"\xff", true),
            (b"GET / HTTP/1.1\r\nX-Long: ", b"\xff", true),
        ];
        let &(start, filler, may_be_400) = rng.pick(combos);
        let mut fed = 0;
        let mut events = Vec::new();
        c.feed(start);
        fed += start.len();
        drain(&mut c, &mut events, &ctx);
        while events.is_empty() {
            assert!(fed <= max_head_bytes, "{ctx}: {fed} bytes fed and no error");
            let mut piece = Vec::new();
            for _ in 0..rng.range(1, 200) {
                piece.extend_from_slice(filler);
            }
            c.feed(&piece);
            fed += piece.len();
            drain(&mut c, &mut events, &ctx);
        }
        match events.as_slice() {
            [Event::Error(err)] if may_be_400 => {
                assert!(matches!(err.status, 400 | 431), "{ctx}: {err:?}");
            }
            [Event::Error(err)] => assert_eq!(err.status, 431, "{ctx}: {err:?}"),
            other => panic!("{ctx}: expected one error, got {other:?}"),
        }
    }
}

#[test]
fn oversized_bodies_end_in_413() {
    for case in 0..cases(300) {
        let mut rng = Rng::new(0xE000 + case);
        let max_body_bytes = *rng.pick(&[0, 1, 17, 1000, 4096]);
        let limits = Limits {
            max_body_bytes,
            ..Limits::default()
        };
        let ctx = format!("413 case {case} (max {max_body_bytes})");
        let excess = rng.range(1, 3000);
        let body: Vec<u8> = (0..max_body_bytes + excess).map(|_| rng.byte()).collect();
        let mut data = b"POST /up HTTP/1.1\r\n".to_vec();
        if rng.one_in(3) {
            data.extend_from_slice(b"Expect: 100-continue\r\n");
        }
        if rng.one_in(2) {
            data.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            data.extend_from_slice(&body);
        } else {
            data.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            write_chunked(&mut rng, &mut data, &body);
        }
        // A valid request after it must not be reached either.
        data.extend_from_slice(b"GET /after HTTP/1.1\r\n\r\n");
        let got = run(&limits, &data, &mut rng, &ctx);
        assert_eq!(got.requests().count(), 0, "{ctx}: {:?}", got.events);
        assert_eq!(got.error_status(), Some(413), "{ctx}: {:?}", got.events);
        // A Content-Length far beyond the limit is refused from the head alone.
        let huge = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            max_body_bytes as u64 + rng.next() % 1_000_000_000_000 + 1
        );
        let got = run(&limits, huge.as_bytes(), &mut rng, &ctx);
        assert_eq!(got.error_status(), Some(413), "{ctx}: {:?}", got.events);
    }
}

#[test]
fn bodies_exactly_at_the_limit_pass() {
    let mut rng = Rng::new(5);
    for max_body_bytes in [0, 1, 17, 1000] {
        let limits = Limits {
            max_body_bytes,
            ..Limits::default()
        };
        let body: Vec<u8> = (0..max_body_bytes).map(|_| rng.byte()).collect();
        for chunked in [false, true] {
            let mut data = b"POST / HTTP/1.1\r\n".to_vec();
            if chunked {
                data.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                // No extensions: they would count against the limit too.
                write_chunks(&mut rng, &mut data, &body, false);
            } else {
                data.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                data.extend_from_slice(&body);
            }
            let got = run(&limits, &data, &mut rng, "at limit");
            let reqs: Vec<_> = got.requests().collect();
            assert_eq!(
                reqs.len(),
                1,
                "{max_body_bytes} {chunked}: {:?}",
                got.events
            );
            assert_eq!(reqs[0].body, body);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (d) router

const ROUTER_CHARS: &[&str] = &[
    "/", "/", "//", "..", ".", "%", "%2F", "%zz", "a", "users", "1", "42", "-", "é", "日本", "😀",
    " ", "?", "#", "{", "}", "\u{0}", "static", "files", "x",
];

fn sample_router(redirect_slashes: bool) -> Router {
    let mut r = Router::new(redirect_slashes);
    r.add("/", Some(&["GET"]), 0, Some("home")).unwrap();
    r.add("/users", Some(&["GET", "POST"]), 1, Some("users"))
        .unwrap();
    r.add("/users/{id:int}", Some(&["GET"]), 2, Some("user"))
        .unwrap();
    r.add("/users/{id:int}", Some(&["DELETE"]), 3, None)
        .unwrap();
    r.add("/f/{x:float}", None, 4, Some("float")).unwrap();
    r.add("/id/{u:uuid}", None, 5, Some("uuid")).unwrap();
    r.add("/files/{rest:path}", Some(&["GET"]), 6, Some("files"))
        .unwrap();
    r.add("/mix/{a}/{b:int}/{c:path}", None, 7, Some("mix"))
        .unwrap();
    r.add("/café b/{s}/日本", None, 8, Some("unicode")).unwrap();
    r.add("/odd%/{s}/a b", None, 9, Some("odd")).unwrap();
    r.add("/s/{name}", Some(&["PUT"]), 10, Some("str")).unwrap();
    r.add("/trail/{name}/", None, 11, Some("trail")).unwrap();
    r.mount("/static", 12, Some("static")).unwrap();
    r.add("/docs/", None, 13, None).unwrap();
    r
}

#[test]
fn router_lookup_of_random_paths_never_panics() {
    let routers = [sample_router(true), sample_router(false)];
    let mut root = Router::new(true);
    root.mount("/", 0, None).unwrap();
    let methods = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "", "get", "ÄÖ",
    ];
    for case in 0..cases(3000) {
        let mut rng = Rng::new(0xF000 + case);
        let path = match rng.below(5) {
            0 => random_text(&mut rng, ROUTER_CHARS, 0, 10),
            1 => format!("/{}", random_text(&mut rng, ROUTER_CHARS, 0, 20)),
            2 => "/".repeat(rng.range(1, 5000)),
            3 => format!("/files/{}", "é/".repeat(rng.range(1, 3000))),
            _ => {
                let bytes: Vec<u8> = (0..rng.range(0, 64)).map(|_| rng.byte()).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let method = rng.pick(&methods);
        for r in routers.iter().chain([&root]) {
            match r.lookup(method, &path) {
                Lookup::Found { endpoint, .. } | Lookup::Mount { endpoint, .. } => {
                    assert!(endpoint < 14, "{path:?}");
                }
                Lookup::Redirect { location_path } => {
                    assert_ne!(location_path, path);
                    assert!(
                        !matches!(r.lookup(method, &location_path), Lookup::NotFound),
                        "redirect from {path:?} to a path that is not found"
                    );
                }
                Lookup::MethodNotAllowed { allow } => assert!(!allow.is_empty()),
                Lookup::NotFound => {}
            }
        }
        // Random names and parameters never panic either.
        let name = rng.pick(&["home", "user", "files", "mix", "static", "nope", ""]);
        let value = random_text(&mut rng, ROUTER_CHARS, 0, 8);
        let key = rng.pick(&["id", "rest", "a", "b", "c", "path", "zz"]);
        let _ = routers[0].url_path_for(name, &[(key, &value)]);
    }
}

/// A random value the converter accepts, and what lookup should give back for it.
fn random_param(rng: &mut Rng, conv: &str) -> (String, ParamValue) {
    const STR_CHARS: &[&str] = &[
        "a", "Z", "0", " ", "%", "%2F", "?", "#", "+", "&", "=", ".", "..", "~", "é", "日本", "😀",
        "\u{0}", "\u{7f}", "'", "\"", "\\", "{", "}", "[", "]", ";", ":", "@", "\t",
    ];
    const PATH_CHARS: &[&str] = &["/", "//", "a", " ", "%", "?", "#", "..", "é", "😀", "x.txt"];
    match conv {
        "int" => {
            let digits = rng.range(1, 18);
            let s: String = (0..digits)
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect();
            let v = ParamValue::Int(s.parse().unwrap());
            (s, v)
        }
        "float" => {
            let int: String = (0..rng.range(1, 8))
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect();
            let s = if rng.one_in(2) {
                int
            } else {
                let frac: String = (0..rng.range(1, 8))
                    .map(|_| char::from(b'0' + rng.below(10) as u8))
                    .collect();
                format!("{int}.{frac}")
            };
            let v = ParamValue::Float(s.parse().unwrap());
            (s, v)
        }
        "uuid" => {
            let s: String = (0..36)
                .map(|i| match i {
                    8 | 13 | 18 | 23 => '-',
                    _ => *rng.pick(&['0', '1', '9', 'a', 'b', 'f', 'A', 'C', 'F', 'e', 'd', '5']),
                })
                .collect();
            let v = ParamValue::Uuid(s.to_ascii_lowercase());
            (s, v)
        }
        "path" => {
            let s = random_text(rng, PATH_CHARS, 0, 10);
            (s.clone(), ParamValue::Str(s))
        }
        _ => {
            let s = random_text(rng, STR_CHARS, 1, 10);
            (s.clone(), ParamValue::Str(s))
        }
    }
}

/// Decodes a built path the way a request would: through `parse_head`.
fn decode_via_request(built: &str) -> String {
    let raw = format!("GET {built} HTTP/1.1\r\n\r\n");
    let (request, _, _) = parse_head(raw.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("built path {built:?} is not a valid target: {e}"))
        .unwrap();
    assert!(request.query.is_empty(), "{built:?} grew a query");
    request.path
}

/// A named route of `sample_router`: name, a method it accepts, its endpoint, and its
/// parameters with their converters.
type RouteSpec = (
    &'static str,
    &'static str,
    usize,
    &'static [(&'static str, &'static str)],
);

#[test]
fn url_path_for_round_trips() {
    let routes: &[RouteSpec] = &[
        ("home", "GET", 0, &[]),
        ("users", "POST", 1, &[]),
        ("user", "GET", 2, &[("id", "int")]),
        ("float", "GET", 4, &[("x", "float")]),
        ("uuid", "PATCH", 5, &[("u", "uuid")]),
        ("files", "GET", 6, &[("rest", "path")]),
        (
            "mix",
            "POST",
            7,
            &[("a", "str"), ("b", "int"), ("c", "path")],
        ),
        ("unicode", "GET", 8, &[("s", "str")]),
        ("odd", "GET", 9, &[("s", "str")]),
        ("str", "PUT", 10, &[("name", "str")]),
        ("trail", "GET", 11, &[("name", "str")]),
    ];
    for redirect_slashes in [true, false] {
        let router = sample_router(redirect_slashes);
        for case in 0..cases(400) {
            let mut rng = Rng::new(0x1_0000 + case);
            for &(name, method, endpoint, spec) in routes {
                let mut values = Vec::new();
                let mut expected = Vec::new();
                for &(param, conv) in spec {
                    let (raw, value) = random_param(&mut rng, conv);
                    values.push((param, raw));
                    expected.push((param.to_string(), value));
                }
                // Parameters may be given in any order.
                values.reverse();
                let given: Vec<(&str, &str)> =
                    values.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let built = router
                    .url_path_for(name, &given)
                    .unwrap_or_else(|e| panic!("{name} {given:?}: {e}"));
                let path = decode_via_request(&built);
                let want = Lookup::Found {
                    endpoint,
                    params: expected,
                    head_from_get: false,
                };
                assert_eq!(
                    router.lookup(method, &path),
                    want,
                    "{name} {given:?} built {built:?} decoded {path:?}"
                );
            }
            // The mount: its optional path parameter comes back as the rest.
            let (rest, _) = random_param(&mut rng, "path");
            let rest = format!("/{rest}");
            let given: &[(&str, &str)] = if rng.one_in(4) {
                &[]
            } else {
                &[("path", &rest)]
            };
            let built = router.url_path_for("static", given).unwrap();
            let path = decode_via_request(&built);
            let want_rest = given.first().map_or("/", |(_, v)| *v).to_string();
            assert_eq!(
                router.lookup("GET", &path),
                Lookup::Mount {
                    endpoint: 12,
                    root_path: "/static".into(),
                    rest: want_rest,
                },
                "static {given:?} built {built:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// urlencoded

#[test]
fn parse_pairs_never_panics_and_round_trips() {
    for case in 0..cases(2000) {
        let mut rng = Rng::new(0x2_0000 + case);
        let bytes: Vec<u8> = (0..rng.range(0, 64))
            .map(|_| match rng.below(3) {
                0 => *rng.pick(b"%&=+"),
                1 => *rng.pick(b"0123456789abcdefABCDEF"),
                _ => rng.byte(),
            })
            .collect();
        let parts = bytes
            .split(|&b| b == b'&')
            .filter(|p| !p.is_empty())
            .count();
        assert_eq!(parse_pairs(&bytes).len(), parts);

        // Encoding pairs and parsing them gives them back.
        let pairs: Vec<(String, String)> = (0..rng.range(0, 5))
            .map(|_| {
                (
                    random_text(&mut rng, PATH_CHARS, 0, 6),
                    random_text(&mut rng, PATH_CHARS, 0, 6),
                )
            })
            .collect();
        let encoded = pairs
            .iter()
            .map(|(n, v)| format!("{}={}", form_encode(n), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(parse_pairs(encoded.as_bytes()), pairs, "{encoded}");
    }
}

fn form_encode(text: &str) -> String {
    percent_encode(text).replace("%20", "+")
}
