//! A seeded generator of HTTP/1.1 request streams, valid and subtly invalid.
//!
//! Each input is one to three pipelined requests. Every part is usually valid and sometimes
//! one of its neighbours: whitespace and case in the request line and fields, duplicate and
//! conflicting framing headers, chunk-size forms, trailers, bare LF and bare CR line ends,
//! obs-fold, absolute-form and other targets, `Expect`, HTTP/1.0, two Hosts, and bodies that
//! hold a second request (the smuggling shape).

/// xorshift64*: tiny, deterministic, good enough to pick cases. In a calm stretch (half the
/// streams) the mutation choices ([`one_in`](Self::one_in), [`variant`](Self::variant)) always
/// take the valid form, so that valid traffic, pipelined, is compared at length too.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    calm: bool,
}

impl Rng {
    /// A generator from a seed (any value; zero is replaced).
    pub fn new(seed: u64) -> Self {
        Rng {
            state: seed.max(1),
            calm: false,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True one time in `n` (never when calm): picks a mutation.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0 && !self.calm
    }

    /// A number in `0..n`, where the numbers name mutations and `n` and above the valid
    /// form (always `n` when calm).
    pub fn variant(&mut self, n: usize) -> usize {
        let v = self.below(n);
        if self.calm {
            n
        } else {
            v
        }
    }

    /// One of `items`.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

/// Line ends: nearly always CRLF, sometimes a bare LF or a bare CR.
fn eol(rng: &mut Rng) -> &'static [u8] {
    match rng.variant(40) {
        0 => b"\n",
        1 => b"\r",
        _ => b"\r\n",
    }
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "G(T", "GE T", "M-SEARCH",
];

const TARGETS: &[&[u8]] = &[
    b"/",
    b"/a/b?x=1&y=2",
    b"/p%20q",
    b"/q?",
    b"/%zz",
    b"/caf%C3%A9",
    b"/%ff",
    b"/caf\xc3\xa9",
    b"*",
    b"http://evil.example/x?y=1",
    b"https://h.example:8443",
    b"HTTP://Up.Example/",
    b"http://",
    b"http:///x",
    b"http://u@h.example/",
    b"http://[::1]:80/v6",
    b"ftp://h.example/",
    b"h.example:80",
    b"/a#frag",
    b"/{x}|^`",
    b"/a\"b<c>",
    b"/a\\b",
    b"/\x7f",
    b"//double//slash",
    b"/a?b?c=%zz",
];

const VERSIONS: &[&str] = &[
    "HTTP/1.1",
    "HTTP/1.1",
    "HTTP/1.1",
    "HTTP/1.1",
    "HTTP/1.0",
    "HTTP/1.2",
    "http/1.1",
    "HTTP/2.0",
    "HTTP/1.1 ",
    "HTTP/1.",
];

const HOSTS: &[&[u8]] = &[
    b"example.com",
    b"good.example:8000",
    b"EXAMPLE.com",
    b"[::1]:8000",
    b"",
    b"bad host",
];

/// Header fields that are not about framing: names, values, and malformed neighbours.
const FIELDS: &[&[u8]] = &[
    b"Accept: */*",
    b"X-Thing:  padded \t",
    b"x-thing: second",
    b"User-Agent: gen/1.0",
    b"Cookie: a=1; b=2",
    b"X-Empty:",
    b"X-Obs: caf\xc3\xa9",
    b"Connection: close",
    b"Connection: keep-alive",
    b"Connection: Keep-Alive, Upgrade-Insecure",
    b"Expect: 100-continue",
    b"Expect: 100-Continue",
    b"Expect: something-else",
    b"X-Fold: a\r\n b",
    b"X-Fold: a\r\n\tb",
    b"X-Space : v",
    b" X-Lead: v",
    b": no-name",
    b"NoColon",
    b"X-Nul: a\x00b",
    b"X-Del: a\x7fb",
    b"X-Tab:\tv\t",
    b"X(Paren): v",
    b"X-Cr: a\rb",
];

/// How the body is framed.
#[derive(Clone, Copy)]
enum Framing {
    None,
    Length,
    Chunked,
}

/// One stream of one to three pipelined requests.
pub fn stream(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    rng.calm = false;
    rng.calm = rng.below(2) == 0;
    for _ in 0..=rng.below(3) {
        if rng.one_in(30) {
            out.extend_from_slice(rng.pick(&[&b"\r\n"[..], b"\n", b"\r\n\r\n"]));
        }
        request(rng, &mut out);
    }
    if rng.one_in(20) {
        // A stream cut short.
        let cut = rng.below(out.len() + 1);
        out.truncate(cut);
    }
    out
}

fn request(rng: &mut Rng, out: &mut Vec<u8>) {
    let method = if rng.one_in(8) {
        rng.pick(METHODS)
    } else {
        rng.pick(&["GET", "POST"])
    };
    let target = if rng.one_in(4) {
        rng.pick(TARGETS)
    } else {
        rng.pick(&[&b"/"[..], b"/a/b?x=1&y=2"])
    };
    let version = if rng.one_in(6) {
        rng.pick(VERSIONS)
    } else {
        "HTTP/1.1"
    };
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(if rng.one_in(40) { b"  " } else { b" " });
    out.extend_from_slice(target);
    out.extend_from_slice(if rng.one_in(40) { b"\t" } else { b" " });
    out.extend_from_slice(version.as_bytes());
    out.extend_from_slice(eol(rng));

    let hosts = match rng.variant(20) {
        0 => 0,
        1 => 2,
        _ => 1,
    };
    for _ in 0..hosts {
        let name = rng.pick(&["Host", "host", "HOST"]);
        let value = if rng.one_in(10) {
            rng.pick(HOSTS)
        } else {
            &b"example.com"[..]
        };
        field(out, name.as_bytes(), value, rng);
    }
    for _ in 0..rng.below(3) {
        if rng.one_in(3) {
            out.extend_from_slice(rng.pick(FIELDS));
        } else {
            out.extend_from_slice(rng.pick(&[&b"Accept: */*"[..], b"X-Thing: 1"]));
        }
        out.extend_from_slice(eol(rng));
    }
    let body = body_bytes(rng);
    let framing = match rng.below(4) {
        0 => Framing::None,
        1 | 2 => Framing::Length,
        _ => Framing::Chunked,
    };
    match framing {
        Framing::None => {}
        Framing::Length => length_fields(rng, out, body.len()),
        Framing::Chunked => coding_fields(rng, out, body.len()),
    }
    out.extend_from_slice(eol(rng));
    match framing {
        Framing::None => {}
        Framing::Length => out.extend_from_slice(&body),
        Framing::Chunked => chunked(rng, out, &body),
    }
}

fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8], rng: &mut Rng) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(eol(rng));
}

/// A body: empty, text, or text holding a request line (what a smuggler hides in a body).
fn body_bytes(rng: &mut Rng) -> Vec<u8> {
    match rng.below(5) {
        0 => Vec::new(),
        1 => b"GET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec(),
        2 => b"0\r\n\r\n".to_vec(),
        _ => {
            let len = rng.below(40);
            (0..len).map(|i| b"abcdefghij\r\n"[i % 12]).collect()
        }
    }
}

fn length_fields(rng: &mut Rng, out: &mut Vec<u8>, len: usize) {
    let n = len.to_string();
    let other = (len + 1 + rng.below(3)).to_string();
    let short = len.saturating_sub(1 + rng.below(3)).to_string();
    let value = match rng.variant(16) {
        0 => format!("{n}, {n}"),
        1 => format!("{n},{other}"),
        2 => format!("+{n}"),
        3 => format!(" {n} "),
        4 => format!("0{n}"),
        5 => other,
        6 => short,
        7 => format!("{n}x"),
        8 => String::new(),
        _ => n.clone(),
    };
    let name = if rng.one_in(5) {
        "content-LENGTH"
    } else {
        "Content-Length"
    };
    field(out, name.as_bytes(), value.as_bytes(), rng);
    match rng.variant(12) {
        0 => field(out, b"Content-Length", n.as_bytes(), rng),
        1 => field(out, b"Content-Length", other_length(len).as_bytes(), rng),
        2 => field(out, b"Transfer-Encoding", b"chunked", rng),
        _ => {}
    }
}

fn other_length(len: usize) -> String {
    (len + 7).to_string()
}

fn coding_fields(rng: &mut Rng, out: &mut Vec<u8>, len: usize) {
    let value: &[u8] = if rng.one_in(3) {
        rng.pick(&[
            &b"Chunked"[..],
            b"chunked, chunked",
            b"gzip, chunked",
            b"chunked, gzip",
            b"chunked,",
            b", chunked",
            b"",
            b" chunked ",
            b"xchunked",
            b"chunked\r\n , x",
        ])
    } else {
        b"chunked"
    };
    field(out, b"Transfer-Encoding", value, rng);
    match rng.variant(14) {
        0 => field(out, b"Content-Length", len.to_string().as_bytes(), rng),
        1 => field(out, b"Transfer-Encoding", b"chunked", rng),
        2 => field(out, b"Transfer-Encoding", b"identity", rng),
        3 => field(out, b"Transfer-Encoding", b"", rng),
        _ => {}
    }
}

/// The body in chunks, with the size-line, data-end and trailer forms varied.
fn chunked(rng: &mut Rng, out: &mut Vec<u8>, body: &[u8]) {
    let mut rest = body;
    while !rest.is_empty() {
        let take = 1 + rng.below(rest.len().min(20));
        size_line(rng, out, take);
        out.extend_from_slice(&rest[..take]);
        out.extend_from_slice(if rng.one_in(40) { b"\n" } else { b"\r\n" });
        rest = &rest[take..];
    }
    size_line(rng, out, 0);
    for _ in 0..rng.below(3) {
        let line: &[u8] = if rng.one_in(4) {
            rng.pick(&[
                &b"GET /secret HTTP/1.1"[..],
                b"NoColon",
                b": no-name",
                b"X-T : v",
                b"X-T: a\x01b",
                b"X-T: caf\xc3\xa9",
                b" X-Fold: v",
                b"X-T:",
            ])
        } else {
            b"X-Trailer: yes"
        };
        out.extend_from_slice(line);
        out.extend_from_slice(eol(rng));
    }
    out.extend_from_slice(eol(rng));
}

fn size_line(rng: &mut Rng, out: &mut Vec<u8>, size: usize) {
    let hex = match rng.variant(24) {
        0 => format!("{size:X}"),
        1 => format!("0{size:x}"),
        2 => format!("{size:0>17x}"),
        3 => format!("0x{size:x}"),
        4 => format!("{size:x}g"),
        5 => format!("{size:x} "),
        6 => format!("{size:x}\t;a=b"),
        7 => format!("{size:x};name=\"quoted;value\""),
        8 => format!("{size:x};a\x01b"),
        9 => format!("{size:x} x"),
        10 => format!("-{size:x}"),
        11 => format!(" {size:x}"),
        12 => format!("{size:x};"),
        13 => format!("{size:x}; a = b ; c"),
        14 => format!("{size:x};{}", "e".repeat(1100)),
        _ => format!("{size:x}"),
    };
    out.extend_from_slice(hex.as_bytes());
    out.extend_from_slice(eol(rng));
}
