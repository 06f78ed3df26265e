//! Request ids and access lines, made by the engine so that logging a request costs no call
//! into Python.
//!
//! * [`RequestIds`] takes a client's id when it is sane ([`sane_id`]) or makes one: 32 hex
//!   digits, a random per-worker prefix and a counter (no system call per request).
//! * [`AccessLog`] formats one line per request, JSON (the fields of `covet.logs`'
//!   `JSONFormatter`) or text (its `TextFormatter`), into a buffer the caller writes out in
//!   [`AccessLog::chunks`] that end on a line and fit one atomic pipe write.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::json_escape;

/// The longest request id taken from a client (it goes into every log line).
pub const MAX_ID_LEN: usize = 128;
/// Bytes one `write` to a pipe delivers without interleaving with other writers (POSIX
/// `PIPE_BUF` on Linux): several workers share the same stderr.
pub const ATOMIC_WRITE: usize = 4096;

/// Whether a client's request id may be used as it is: 1 to 128 bytes of printable ASCII.
pub fn sane_id(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= MAX_ID_LEN && value.iter().all(|b| (0x20..0x7f).contains(b))
}

/// Makes request ids for one worker: `prefix` (random, 16 hex digits) then a counter (16).
pub struct RequestIds {
    prefix: [u8; 16],
    counter: u64,
}

impl RequestIds {
    /// A generator whose prefix and starting count come from `seed` (random bytes).
    pub fn new(seed: [u8; 16]) -> Self {
        let mut prefix = [0u8; 16];
        hex_into(
            &mut prefix,
            u64::from_le_bytes(seed[..8].try_into().unwrap()),
        );
        RequestIds {
            prefix,
            counter: u64::from_le_bytes(seed[8..].try_into().unwrap()),
        }
    }

    /// A generator seeded from the kernel's random source (once per worker).
    pub fn from_os() -> Self {
        let mut seed = [0u8; 16];
        // SAFETY: writes at most 16 bytes into `seed`.
        let n = unsafe { libc::getrandom(seed.as_mut_ptr().cast(), seed.len(), 0) };
        if n != seed.len() as isize {
            // No getrandom: the time and the process id still keep workers apart.
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            seed[..8].copy_from_slice(&(now.as_nanos() as u64).to_le_bytes());
            seed[8..12].copy_from_slice(&std::process::id().to_le_bytes());
        }
        Self::new(seed)
    }

    /// Replaces `out` with the next id: 32 lowercase hex digits.
    pub fn next_into(&mut self, out: &mut String) {
        self.counter = self.counter.wrapping_add(1);
        let mut id = [0u8; 32];
        id[..16].copy_from_slice(&self.prefix);
        hex_into((&mut id[16..]).try_into().unwrap(), self.counter);
        out.clear();
        // Hex digits are ASCII.
        out.push_str(std::str::from_utf8(&id).unwrap());
    }
}

fn hex_into(out: &mut [u8; 16], value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// How access lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, time in UTC.
    Json,
    /// `HH:MM:SS.mmm INFO  covet.access: ... [request id]`, local time at this UTC offset.
    Text {
        /// Seconds east of UTC.
        utc_offset: i32,
    },
}

/// What one access line says about a request.
pub struct Line<'a> {
    /// When it was answered.
    pub time: SystemTime,
    /// The request's method.
    pub method: &'a str,
    /// The route template it matched (None: no route).
    pub route: Option<&'a str>,
    /// The request's path (decoded).
    pub path: &'a str,
    /// The response status.
    pub status: u16,
    /// From the request's head to its answer.
    pub duration: Duration,
    /// `host:port` of the client, or "-" (an address: written as it is, unescaped).
    pub client: &'a str,
    /// The request's id ("" when ids are off).
    pub request_id: &'a str,
}

/// A worker's access lines, formatted and waiting to be written.
pub struct AccessLog {
    format: Format,
    buf: Vec<u8>,
    /// The last whole second formatted and its text (date and time, or time only).
    second: (u64, Vec<u8>),
}

impl AccessLog {
    /// An empty log writing lines in `format`.
    pub fn new(format: Format) -> Self {
        AccessLog {
            format,
            buf: Vec::with_capacity(2 * ATOMIC_WRITE),
            second: (u64::MAX, Vec::new()),
        }
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Appends one line.
    pub fn push(&mut self, line: &Line<'_>) {
        let since = line.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let millis = since.subsec_millis();
        let ms = line.duration.as_micros();
        let (ms_whole, ms_frac) = (ms / 1000, ms % 1000);
        let mut num = itoa::Buffer::new();
        match self.format {
            Format::Json => {
                let stamp = stamp(&mut self.second, self.format, since.as_secs());
                let buf = &mut self.buf;
                buf.extend_from_slice(b"{\"time\": \"");
                buf.extend_from_slice(stamp);
                push_millis(buf, millis);
                buf.extend_from_slice(
                    b"Z\", \"level\": \"info\", \"logger\": \"covet.access\", \"message\": \"",
                );
                write_message(buf, line, ms_whole, ms_frac, true);
                let route = line.route.unwrap_or("<unmatched>");
                buf.extend_from_slice(b"\", \"method\": ");
                json_escape::write_str(buf, line.method.as_bytes());
                buf.extend_from_slice(b", \"route\": ");
                json_escape::write_str(buf, route.as_bytes());
                buf.extend_from_slice(b", \"path\": ");
                json_escape::write_str(buf, line.path.as_bytes());
                buf.extend_from_slice(b", \"status\": ");
                buf.extend_from_slice(num.format(line.status).as_bytes());
                buf.extend_from_slice(b", \"duration_ms\": ");
                buf.extend_from_slice(num.format(ms_whole).as_bytes());
                buf.push(b'.');
                push_3(buf, ms_frac as u32);
                buf.extend_from_slice(b", \"client\": ");
                json_escape::write_str(buf, line.client.as_bytes());
                if !line.request_id.is_empty() {
                    buf.extend_from_slice(b", \"request_id\": ");
                    json_escape::write_str(buf, line.request_id.as_bytes());
                }
                buf.extend_from_slice(b"}\n");
            }
            Format::Text { utc_offset } => {
                let local = (since.as_secs() as i64 + utc_offset as i64).max(0) as u64;
                let stamp = stamp(&mut self.second, self.format, local);
                let buf = &mut self.buf;
                buf.extend_from_slice(stamp);
                push_millis(buf, millis);
                buf.extend_from_slice(b" INFO  covet.access: ");
                write_message(buf, line, ms_whole, ms_frac, false);
                if !line.request_id.is_empty() {
                    buf.extend_from_slice(b" [");
                    buf.extend_from_slice(line.request_id.as_bytes());
                    buf.push(b']');
                }
                buf.push(b'\n');
            }
        }
    }

    /// Calls `write` with what is buffered, in pieces of at most [`ATOMIC_WRITE`] bytes that
    /// end on a line (a longer line is its own piece), then empties the buffer. A piece
    /// `write` refuses (false) and all after it are dropped: the sink is gone.
    pub fn chunks(&mut self, mut write: impl FnMut(&[u8]) -> bool) {
        let mut rest = &self.buf[..];
        while !rest.is_empty() {
            let end = if rest.len() <= ATOMIC_WRITE {
                rest.len()
            } else {
                match rest[..ATOMIC_WRITE].iter().rposition(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    None => rest
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(rest.len(), |i| i + 1),
                }
            };
            if !write(&rest[..end]) {
                break;
            }
            rest = &rest[end..];
        }
        self.buf.clear();
    }
}

/// Writes all of `bytes` to descriptor `fd` (waiting while a non-blocking one is full);
/// false when it cannot take them (closed, or an error).
pub fn write_fd(fd: i32, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a live slice; the kernel reads at most its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            std::io::ErrorKind::Interrupted => {}
            std::io::ErrorKind::WouldBlock => {
                let mut poll = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut poll, 1, 1000) } <= 0 {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

/// Closes a descriptor this module was given to own.
pub fn close_fd(fd: i32) {
    // SAFETY: the caller owns `fd` and uses it no more.
    unsafe { libc::close(fd) };
}

/// The date and time (JSON) or time (text) of second `secs`, formatted once per second.
fn stamp(second: &mut (u64, Vec<u8>), format: Format, secs: u64) -> &[u8] {
    if second.0 != secs {
        let text = &mut second.1;
        text.clear();
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        if format == Format::Json {
            let (y, mo, d) = civil_from_days((secs / 86400) as i64);
            text.extend_from_slice(itoa::Buffer::new().format(y).as_bytes());
            for (sep, v) in [(b'-', mo), (b'-', d), (b'T', h as u32)] {
                text.push(sep);
                push_2(text, v);
            }
        } else {
            push_2(text, h as u32);
        }
        for v in [m, s] {
            text.push(b':');
            push_2(text, v as u32);
        }
        second.0 = secs;
    }
    &second.1
}

/// `client "METHOD path" status N.N ms`, the path's control characters escaped as `\xNN`;
/// with `json`, as the inside of a JSON string.
fn write_message(out: &mut Vec<u8>, line: &Line<'_>, ms_whole: u128, ms_frac: u128, json: bool) {
    let quote: &[u8] = if json { b"\\\"" } else { b"\"" };
    let backslash: &[u8] = if json { b"\\\\" } else { b"\\" };
    // An address (`host:port`, or "-"): nothing in it to escape.
    out.extend_from_slice(line.client.as_bytes());
    out.push(b' ');
    out.extend_from_slice(quote);
    out.extend_from_slice(line.method.as_bytes());
    out.push(b' ');
    for &b in line.path.as_bytes() {
        if b < 0x20 || b == 0x7f {
            out.extend_from_slice(backslash);
            out.push(b'x');
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else if json && (b == b'"' || b == b'\\') {
            out.push(b'\\');
            out.push(b);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(quote);
    out.push(b' ');
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(num.format(line.status).as_bytes());
    out.push(b' ');
    // One decimal, rounded half up (what %.1f gives for all but exact ties).
    let tenths = (ms_whole * 1000 + ms_frac + 50) / 100;
    out.extend_from_slice(num.format(tenths / 10).as_bytes());
    out.push(b'.');
    out.push(b'0' + (tenths % 10) as u8);
    out.extend_from_slice(b" ms");
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_millis(out: &mut Vec<u8>, millis: u32) {
    out.push(b'.');
    push_3(out, millis);
}

fn push_2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

fn push_3(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 100 % 10) as u8);
    push_2(out, v % 100);
}

/// (year, month, day) of a day counted from 1970-01-01 (the proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(path: &str, request_id: &str) -> Line<'static> {
        Line {
            // 2026-12-05T08:40:38.250Z
            time: UNIX_EPOCH + Duration::from_millis(1_796_460_038_250),
            method: "GET",
            route: Some("/items/{id}"),
            path: Box::leak(path.to_owned().into_boxed_str()),
            status: 200,
            duration: Duration::from_micros(1_234),
            client: "127.0.0.1:5000",
            request_id: Box::leak(request_id.to_owned().into_boxed_str()),
        }
    }

    #[test]
    fn ids_are_32_hex_digits_and_differ() {
        let mut ids = RequestIds::new([7; 16]);
        let (mut a, mut b) = (String::new(), String::new());
        ids.next_into(&mut a);
        ids.next_into(&mut b);
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
        assert_eq!(a[..16], b[..16]);
        let mut other = String::new();
        RequestIds::from_os().next_into(&mut other);
        assert_ne!(other[..16], a[..16]);
    }

    #[test]
    fn sane_ids_are_short_printable_ascii() {
        assert!(sane_id(b"edge-7f3a"));
        assert!(sane_id(&[b'x'; 128]));
        assert!(!sane_id(&[b'x'; 129]));
        assert!(!sane_id(b""));
        assert!(!sane_id(b"caf\xc3\xa9"));
        assert!(!sane_id(b"a\nb"));
        assert!(!sane_id(b"a\x7f"));
    }

    /// Everything the log holds, taken out as its writer would.
    fn drained(log: &mut AccessLog) -> Vec<u8> {
        let mut text = Vec::new();
        log.chunks(|c| {
            text.extend_from_slice(c);
            true
        });
        text
    }

    #[test]
    fn json_line_has_the_formatter_fields() {
        let mut log = AccessLog::new(Format::Json);
        log.push(&line("/items/\"1\"", "abc"));
        let text = drained(&mut log);
        let text = String::from_utf8(text).unwrap();
        let value: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(value["time"], "2026-12-05T08:40:38.250Z");
        assert_eq!(value["level"], "info");
        assert_eq!(value["logger"], "covet.access");
        assert_eq!(
            value["message"],
            "127.0.0.1:5000 \"GET /items/\"1\"\" 200 1.2 ms"
        );
        assert_eq!(value["route"], "/items/{id}");
        assert_eq!(value["path"], "/items/\"1\"");
        assert_eq!(value["status"], 200);
        assert_eq!(value["duration_ms"], 1.234);
        assert_eq!(value["request_id"], "abc");
        assert_eq!(log.pending(), 0);
    }

    #[test]
    fn json_escapes_what_a_path_may_hold() {
        let mut log = AccessLog::new(Format::Json);
        log.push(&line("/a\x01\\b\u{e9}", "id\"1"));
        let text = drained(&mut log);
        let value: serde_json::Value = serde_json::from_slice(text.trim_ascii_end()).unwrap();
        assert_eq!(value["path"], "/a\x01\\b\u{e9}");
        assert_eq!(value["request_id"], "id\"1");
        assert_eq!(
            value["message"],
            "127.0.0.1:5000 \"GET /a\\x01\\b\u{e9}\" 200 1.2 ms"
        );
    }

    #[test]
    fn text_line_is_local_time_with_the_id() {
        let mut log = AccessLog::new(Format::Text { utc_offset: 3600 });
        log.push(&line("/a\x01", "id-1"));
        let text = drained(&mut log);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "09:40:38.250 INFO  covet.access: 127.0.0.1:5000 \"GET /a\\x01\" 200 1.2 ms [id-1]\n"
        );
    }

    #[test]
    fn chunks_end_on_lines_and_fit_a_pipe_write() {
        let mut log = AccessLog::new(Format::Json);
        for _ in 0..200 {
            log.push(&line("/items/1", "abc"));
        }
        let total = log.pending();
        let mut seen = 0;
        log.chunks(|c| {
            assert!(c.len() <= ATOMIC_WRITE && c.ends_with(b"\n"));
            seen += c.len();
            true
        });
        assert_eq!(seen, total);
    }

    #[test]
    fn dates_follow_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_792), (2026, 12, 5));
    }
}
