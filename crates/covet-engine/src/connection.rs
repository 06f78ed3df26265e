//! The sans-IO HTTP/1.1 server connection: bytes in, [`Event`]s out.
//!
//! The caller owns the socket. It passes received bytes to [`Connection::feed`], then calls
//! [`Connection::next_event`] until it returns `None`. Pipelined requests come out one by one,
//! in order, each with its complete body, except a body larger than
//! [`Limits::stream_threshold`]: that request comes out as [`Event::Stream`] as soon as the
//! threshold is passed, and the rest of its body follows as [`Event::BodyChunk`]s and
//! [`Event::BodyEnd`], so a large upload never has to sit whole in memory.
//!
//! Its timeouts are decisions too: the caller reports reads and finished responses to the
//! connection's [`Timers`] and asks [`Connection::expired`] with the time of its sweep; the
//! answer says whether to refuse (408) and close, or close quietly.

use std::mem;
use std::time::Instant;

use crate::http::body::{BodyKind, ChunkedDecoder};
use crate::http::error::HttpError;
use crate::http::request::{parse_head, Request};
use crate::limits::{BodyPace, Limits};
use crate::timers::{Expiry, Phase, Timers};

/// Something the caller must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete request with its whole body.
    Request(Request),
    /// The request announced `Expect: 100-continue` and its body has not arrived yet; the caller
    /// writes [`CONTINUE_100`](crate::http::response::CONTINUE_100). Emitted at most once per
    /// request, only when the announced body fits the limit (otherwise `Error` 413 comes
    /// instead) or the body is chunked.
    Continue,
    /// A request whose body is large: `body` holds what arrived so far; the rest follows.
    Stream(Request),
    /// The next piece of a streamed body.
    BodyChunk(Vec<u8>),
    /// The streamed body is complete.
    BodyEnd,
    /// Unrecoverable: the caller writes [`write_error`](crate::http::response::write_error) and
    /// closes the connection. After an `Error`, `next_event` always returns `None`.
    Error(HttpError),
}

/// Largest up-front allocation for a body announced by Content-Length.
const MAX_BODY_RESERVE: usize = 1024 * 1024;

/// How the rest of a pending body is delimited.
#[derive(Debug)]
enum Pending {
    /// This many bytes are still to come.
    Length(usize),
    /// A chunked body, part-way decoded.
    Chunked(ChunkedDecoder),
}

#[derive(Debug)]
enum State {
    /// Waiting for (the rest of) a request head.
    Head,
    /// The head is parsed; its body is arriving.
    Body { request: Request, pending: Pending },
    /// The request went out as `Stream`; the rest of its body goes out in chunks.
    Streaming { pending: Pending, received: usize },
    /// An error was reported; nothing more is parsed.
    Failed,
}

/// One HTTP/1.1 server connection, without any IO.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    /// Received bytes; `buf[..pos]` is consumed.
    buf: Vec<u8>,
    pos: usize,
    state: State,
    /// How many bytes after `pos` are known to hold no complete head yet.
    scanned: usize,
    /// The clock its timeouts are decided by (see [`Timers`]).
    timers: Timers,
}

impl Connection {
    /// A fresh connection enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Connection {
            limits,
            buf: Vec::new(),
            pos: 0,
            state: State::Head,
            scanned: 0,
            timers: Timers::new(Instant::now()),
        }
    }

    /// The connection's clock: tell it when bytes arrive ([`Timers::read`]) and responses
    /// finish; [`Connection::parsed`] tells it what the parser waits for.
    pub fn timers_mut(&mut self) -> &mut Timers {
        &mut self.timers
    }

    /// After the events of the bytes so far are taken: the head or body still arriving is
    /// timed from `now`, if it just started.
    pub fn parsed(&mut self, now: Instant) {
        let (partial, in_body) = (self.has_partial(), self.in_body());
        self.timers.parsed(now, partial, in_body);
    }

    /// Whether one of this connection's timeouts has passed at `now` (see [`Timers::expired`]),
    /// by its own limits.
    pub fn expired(
        &self,
        now: Instant,
        phase: Phase,
        pace: &BodyPace,
        drain_since: Option<Instant>,
    ) -> Option<Expiry> {
        self.timers
            .expired(now, phase, &self.limits, pace, drain_since)
    }

    /// Whether this connection may be closed to make room for a new one (see
    /// [`Timers::evictable`]).
    pub fn evictable(&self, now: Instant, phase: Phase, pace: &BodyPace) -> Option<(u8, Instant)> {
        self.timers.evictable(now, phase, pace)
    }

    /// The refusal a connection closed for room gets while a request arrives.
    pub fn eviction_refusal(&self) -> Option<HttpError> {
        self.timers.eviction_refusal()
    }

    /// The limits this connection enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Appends received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        if matches!(self.state, State::Failed) {
            return;
        }
        if self.pos > 0 {
            if self.pos == self.buf.len() {
                self.buf.clear();
            } else {
                self.buf.drain(..self.pos);
            }
            self.pos = 0;
        }
        let mut data = data;
        // A body by Content-Length with nothing buffered goes straight into the request.
        if let State::Body {
            request,
            pending: Pending::Length(left),
        } = &mut self.state
        {
            if self.buf.is_empty() {
                let take = (*left).min(data.len());
                request.body.extend_from_slice(&data[..take]);
                *left -= take;
                data = &data[take..];
            }
        }
        self.buf.extend_from_slice(data);
    }

    /// Parses the next event from the buffered bytes; `None` means more bytes are needed.
    ///
    /// Call it repeatedly: several pipelined requests in one feed give several `Request`
    /// events, in order.
    pub fn next_event(&mut self) -> Option<Event> {
        match self.state {
            State::Head => self.read_head(),
            State::Body { .. } => self.read_body(),
            State::Streaming { .. } => self.read_stream(),
            State::Failed => None,
        }
    }

    /// True when some bytes of an incomplete request are buffered (a partial head or a
    /// partial body); the caller uses it for the header-read timeout.
    pub fn has_partial(&self) -> bool {
        match self.state {
            State::Head => self.pos < self.buf.len(),
            State::Body { .. } | State::Streaming { .. } => true,
            State::Failed => false,
        }
    }

    /// How many received bytes are buffered and not yet consumed by an event (body bytes
    /// already moved into a pending request do not count; those are bounded by
    /// `max_body_bytes`). The caller can pause reading when this grows while it is busy.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Takes the bytes received after the last request (after a protocol switch they belong
    /// to the new protocol) and frees the buffer; nothing more is parsed afterwards.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.pos);
        self.buf = Vec::new();
        self.pos = 0;
        self.state = State::Failed;
        rest
    }

    /// True when a head was parsed and its body is still arriving.
    pub fn in_body(&self) -> bool {
        matches!(self.state, State::Body { .. } | State::Streaming { .. })
    }

    /// True while a streamed body is still arriving (between `Stream` and `BodyEnd`).
    pub fn streaming(&self) -> bool {
        matches!(self.state, State::Streaming { .. })
    }

    fn read_head(&mut self) -> Option<Event> {
        let input = &self.buf[self.pos..];
        if input.is_empty() {
            return None;
        }
        // A head can only complete with a newline: skip re-parsing when none arrived.
        let fresh = &input[self.scanned.min(input.len())..];
        if !fresh.contains(&b'\n') && input.len() <= self.limits.max_head_bytes {
            self.scanned = input.len();
            return None;
        }
        match parse_head(input, &self.limits) {
            Err(err) => self.fail(err),
            Ok(None) => {
                self.scanned = input.len();
                None
            }
            Ok(Some((request, len, kind))) => {
                self.scanned = 0;
                self.pos += len;
                self.start_body(request, kind)
            }
        }
    }

    fn start_body(&mut self, mut request: Request, kind: BodyKind) -> Option<Event> {
        let available = self.buf.len() - self.pos;
        let pending = match kind {
            BodyKind::Empty => return Some(Event::Request(request)),
            BodyKind::Length(n) if n <= available => {
                request.body = self.buf[self.pos..self.pos + n].to_vec();
                self.pos += n;
                return Some(Event::Request(request));
            }
            BodyKind::Length(n) => {
                request.body.reserve(n.min(MAX_BODY_RESERVE));
                Pending::Length(n)
            }
            BodyKind::Chunked => Pending::Chunked(ChunkedDecoder::new(self.limits.max_body_bytes)),
        };
        let wants_continue = request.expect_continue && available == 0;
        self.state = State::Body { request, pending };
        if wants_continue {
            return Some(Event::Continue);
        }
        self.read_body()
    }

    fn read_body(&mut self) -> Option<Event> {
        let State::Body { request, pending } = &mut self.state else {
            return None;
        };
        let input = &self.buf[self.pos..];
        let finished = match pending {
            Pending::Length(left) => {
                let take = (*left).min(input.len());
                request.body.extend_from_slice(&input[..take]);
                *left -= take;
                self.pos += take;
                *left == 0
            }
            Pending::Chunked(decoder) => match decoder.feed(input, &mut request.body) {
                Ok((used, done)) => {
                    self.pos += used;
                    done
                }
                Err(err) => return self.fail(err),
            },
        };
        if !finished {
            let large = match pending {
                Pending::Length(left) => request.body.len() + *left > self.limits.stream_threshold,
                Pending::Chunked(_) => request.body.len() > self.limits.stream_threshold,
            };
            if !large {
                return None;
            }
            // Too large to collect: hand the request over now; the body follows in chunks.
            return match mem::replace(&mut self.state, State::Head) {
                State::Body { request, pending } => {
                    let received = request.body.len();
                    self.state = State::Streaming { pending, received };
                    Some(Event::Stream(request))
                }
                _ => unreachable!("read_body runs in the Body state"),
            };
        }
        match mem::replace(&mut self.state, State::Head) {
            State::Body { request, .. } => Some(Event::Request(request)),
            _ => unreachable!("read_body runs in the Body state"),
        }
    }

    fn read_stream(&mut self) -> Option<Event> {
        let State::Streaming { pending, received } = &mut self.state else {
            return None;
        };
        let input = &self.buf[self.pos..];
        let mut chunk = Vec::new();
        let finished = match pending {
            Pending::Length(left) => {
                let take = (*left).min(input.len());
                chunk.extend_from_slice(&input[..take]);
                *left -= take;
                self.pos += take;
                *left == 0
            }
            Pending::Chunked(decoder) => match decoder.feed(input, &mut chunk) {
                Ok((used, done)) => {
                    self.pos += used;
                    done
                }
                Err(err) => return self.fail(err),
            },
        };
        *received += chunk.len();
        if !chunk.is_empty() {
            if finished {
                // The end comes with the next call.
                self.state = State::Streaming {
                    pending: Pending::Length(0),
                    received: *received,
                };
            }
            return Some(Event::BodyChunk(chunk));
        }
        if finished {
            self.state = State::Head;
            return Some(Event::BodyEnd);
        }
        None
    }

    fn fail(&mut self, err: HttpError) -> Option<Event> {
        self.state = State::Failed;
        self.buf = Vec::new();
        self.pos = 0;
        Some(Event::Error(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        Connection::new(Limits::default())
    }

    fn events(c: &mut Connection) -> Vec<Event> {
        std::iter::from_fn(|| c.next_event()).collect()
    }

    fn request(event: Event) -> Request {
        match event {
            Event::Request(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn pipelined_requests_in_one_feed() {
        let mut c = conn();
        c.feed(
            b"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz\
              GET /c HTTP/1.1\r\n\r\nGET /d HT",
        );
        let got = events(&mut c);
        assert_eq!(got.len(), 3);
        let reqs: Vec<Request> = got.into_iter().map(request).collect();
        assert_eq!(reqs[0].path, "/a");
        assert_eq!(
            (reqs[1].path.as_str(), reqs[1].body.as_slice()),
            ("/b", &b"xyz"[..])
        );
        assert_eq!(reqs[2].path, "/c");
        assert!(c.has_partial());
        assert_eq!(c.buffered(), 9);
        c.feed(b"TP/1.1\r\n\r\n");
        assert_eq!(request(c.next_event().unwrap()).path, "/d");
        assert!(!c.has_partial());
        assert_eq!(c.next_event(), None);
    }

    #[test]
    fn request_split_byte_by_byte() {
        let raw = b"POST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        let mut c = conn();
        let mut got = Vec::new();
        for (i, b) in raw.iter().enumerate() {
            c.feed(std::slice::from_ref(b));
            got.extend(events(&mut c));
            if i + 1 < raw.len() {
                assert!(got.is_empty());
                assert!(c.has_partial());
            }
        }
        assert_eq!(got.len(), 1);
        let req = request(got.remove(0));
        assert_eq!(req.body, b"hello");
        assert_eq!(req.header("host"), Some(&b"x"[..]));
        assert!(!c.has_partial() && !c.in_body());
    }

    #[test]
    fn body_by_content_length_in_pieces() {
        let mut c = conn();
        c.feed(b"PUT /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123");
        assert_eq!(c.next_event(), None);
        assert!(c.in_body() && c.has_partial());
        c.feed(b"456");
        assert_eq!(c.next_event(), None);
        c.feed(b"789GET /next HTTP/1.1\r\n\r\n");
        assert_eq!(request(c.next_event().unwrap()).body, b"0123456789");
        assert!(!c.in_body());
        assert_eq!(request(c.next_event().unwrap()).path, "/next");
        assert_eq!(c.next_event(), None);
    }

    #[test]
    fn chunked_body() {
        let raw = b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                    4\r\nWiki\r\n5;ext\r\npedia\r\n0\r\nX-T: 1\r\n\r\nGET /n HTTP/1.1\r\n\r\n";
        let mut c = conn();
        c.feed(raw);
        assert_eq!(request(c.next_event().unwrap()).body, b"Wikipedia");
        assert_eq!(request(c.next_event().unwrap()).path, "/n");
        for split in 0..raw.len() {
            let mut c = conn();
            c.feed(&raw[..split]);
            let mut got = events(&mut c);
            c.feed(&raw[split..]);
            got.extend(events(&mut c));
            assert_eq!(got.len(), 2, "split at {split}");
            assert_eq!(request(got.remove(0)).body, b"Wikipedia");
        }
    }

    #[test]
    fn chunked_body_errors() {
        let limits = Limits {
            max_body_bytes: 8,
            ..Limits::default()
        };
        let mut c = Connection::new(limits);
        c.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\n");
        assert_eq!(
            c.next_event(),
            Some(Event::Error(HttpError::body_too_large()))
        );
        let mut c = conn();
        c.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        assert!(matches!(c.next_event(), Some(Event::Error(e)) if e.status == 400));
    }

    #[test]
    fn expect_continue() {
        let mut c = conn();
        c.feed(b"POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
        assert_eq!(c.next_event(), Some(Event::Continue));
        assert_eq!(c.next_event(), None);
        assert!(c.in_body());
        c.feed(b"data");
        assert_eq!(request(c.next_event().unwrap()).body, b"data");

        let mut c = conn();
        let chunked =
            b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n";
        c.feed(chunked);
        assert_eq!(c.next_event(), Some(Event::Continue));
        c.feed(b"0\r\n\r\n");
        assert!(request(c.next_event().unwrap()).body.is_empty());

        // The body is already here: no Continue.
        let mut c = conn();
        c.feed(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
        assert_eq!(request(c.next_event().unwrap()).body, b"ok");
    }

    #[test]
    fn too_large_content_length_fails_before_the_body() {
        let limits = Limits {
            max_body_bytes: 100,
            ..Limits::default()
        };
        let mut c = Connection::new(limits);
        c.feed(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n");
        assert_eq!(
            c.next_event(),
            Some(Event::Error(HttpError::body_too_large()))
        );
        assert_eq!(c.limits().max_body_bytes, 100);
    }

    #[test]
    fn has_partial_semantics() {
        let mut c = conn();
        assert!(!c.has_partial());
        c.feed(b"GET / HTTP/1.1\r\n");
        assert_eq!(c.next_event(), None);
        assert!(c.has_partial() && !c.in_body());
        c.feed(b"\r\n");
        assert!(matches!(c.next_event(), Some(Event::Request(_))));
        assert!(!c.has_partial());
    }

    #[test]
    fn error_then_none() {
        let mut c = conn();
        c.feed(b"GET / HTTP/2.0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        assert!(matches!(c.next_event(), Some(Event::Error(e)) if e.status == 505));
        assert_eq!(c.next_event(), None);
        c.feed(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(c.next_event(), None);
        assert!(!c.has_partial());
    }

    #[test]
    fn oversized_partial_head_without_newline_is_431() {
        let limits = Limits {
            max_head_bytes: 32,
            ..Limits::default()
        };
        let mut c = Connection::new(limits);
        c.feed(b"GET /");
        assert_eq!(c.next_event(), None);
        c.feed(&[b'a'; 40]);
        assert!(matches!(c.next_event(), Some(Event::Error(e)) if e.status == 431));
    }

    #[test]
    fn large_bodies_stream_in_chunks() {
        let limits = Limits {
            stream_threshold: 10,
            ..Limits::default()
        };
        let mut c = Connection::new(limits.clone());
        c.feed(b"POST /up HTTP/1.1\r\nContent-Length: 25\r\n\r\n0123456789abc");
        let got = events(&mut c);
        assert_eq!(got.len(), 1);
        let Event::Stream(req) = &got[0] else {
            panic!("expected a stream, got {got:?}")
        };
        assert_eq!(req.body, b"0123456789abc");
        assert!(c.streaming() && c.in_body());
        c.feed(b"defghijklmnoGET /next HTTP/1.1\r\n\r\n");
        let got = events(&mut c);
        assert_eq!(got[0], Event::BodyChunk(b"defghijklmno".to_vec()));
        assert_eq!(got[1], Event::BodyEnd);
        assert_eq!(request(got[2].clone()).path, "/next");
        assert!(!c.streaming());

        // Chunked: collected until past the threshold, then streamed; the limit still holds.
        let mut c = Connection::new(Limits {
            max_body_bytes: 30,
            ..limits
        });
        c.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        assert_eq!(events(&mut c), vec![]);
        c.feed(b"8\r\n world!!\r\n");
        let got = events(&mut c);
        assert!(matches!(&got[0], Event::Stream(r) if r.body == b"hello world!!"));
        c.feed(b"4\r\nmore\r\n");
        assert_eq!(events(&mut c), vec![Event::BodyChunk(b"more".to_vec())]);
        c.feed(b"10\r\n0123456789abcdef\r\n");
        assert_eq!(
            events(&mut c),
            vec![Event::Error(HttpError::body_too_large())]
        );
    }

    #[test]
    fn take_buffered_after_an_upgrade() {
        let mut c = conn();
        c.feed(b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x80frame");
        assert!(request(c.next_event().unwrap()).websocket);
        assert_eq!(c.take_buffered(), b"\x81\x80frame");
        assert_eq!(c.buffered(), 0);
        c.feed(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(c.next_event(), None); // the connection speaks another protocol now
    }

    #[test]
    fn small_bodies_are_not_streamed() {
        let mut c = Connection::new(Limits {
            stream_threshold: 10,
            ..Limits::default()
        });
        c.feed(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234");
        assert_eq!(events(&mut c), vec![]);
        c.feed(b"56789");
        assert_eq!(request(events(&mut c).remove(0)).body, b"0123456789");
    }
}
