//! One WebSocket connection's frames, sans-IO: bytes in, whole messages out, and the frames to
//! send back.
//!
//! [`Codec::feed`] takes received bytes; [`Codec::next`] returns the next complete message.
//! Fragments are joined, compressed messages inflated, text checked as UTF-8 fragment by
//! fragment (so a bad byte fails the connection as soon as it arrives). Control replies are
//! written to the caller's output buffer on the way: a pong for each ping, the echo of a
//! close, and a close frame with the error's code when the peer breaks the protocol.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use super::close;
use super::deflate::{self, Inflater};
use super::frame::{self, OpCode};
use super::ProtocolError;

/// Which end of the connection this codec is: a server requires masked frames and sends
/// unmasked ones; a client the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The accepting end.
    Server,
    /// The connecting end (the test client).
    Client,
}

/// A complete message or control frame from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, valid UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (already answered with a pong).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame: its code (1005 when it had none) and reason. The echo was already
    /// written when this end had not closed first.
    Close(u16, String),
}

/// A buffer larger than this is freed once empty, so an idle connection keeps nothing.
const KEEP_BUFFER: usize = 4096;

#[derive(Debug)]
struct Partial {
    text: bool,
    compressed: bool,
    data: Vec<u8>,
    /// Bytes of `data` known to be valid UTF-8 (text only).
    checked: usize,
}

/// The frame codec of one connection.
pub struct Codec {
    role: Role,
    max_message: usize,
    deflate: bool,
    buf: Vec<u8>,
    pos: usize,
    partial: Option<Partial>,
    inflater: Option<Box<Inflater>>,
    close_sent: bool,
    close_received: bool,
    failed: bool,
}

impl Codec {
    /// A codec for `role`, refusing messages over `max_message` bytes; `deflate` when
    /// `permessage-deflate` was negotiated.
    pub fn new(role: Role, max_message: usize, deflate: bool) -> Self {
        Codec {
            role,
            max_message,
            deflate,
            buf: Vec::new(),
            pos: 0,
            partial: None,
            inflater: None,
            close_sent: false,
            close_received: false,
            failed: false,
        }
    }

    /// Whether `permessage-deflate` is in use.
    pub fn deflate(&self) -> bool {
        self.deflate
    }

    /// A close frame was sent (no data may follow).
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// A close frame was received (nothing more is read).
    pub fn close_received(&self) -> bool {
        self.close_received
    }

    /// Bytes received and not yet turned into messages.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos + self.partial.as_ref().map_or(0, |p| p.data.len())
    }

    /// Appends received bytes (ignored after a close or a protocol error).
    pub fn feed(&mut self, data: &[u8]) {
        if self.failed || self.close_received {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next message, `Ok(None)` when more bytes are needed. Replies go to `out`. After an
    /// error (whose close frame is in `out`) or a close, it always returns `Ok(None)`.
    pub fn next(&mut self, out: &mut Vec<u8>) -> Result<Option<Message>, ProtocolError> {
        loop {
            if self.failed || self.close_received {
                return Ok(None);
            }
            match self.next_frame(out) {
                Ok(Some(Some(message))) => return Ok(Some(message)),
                Ok(Some(None)) => continue,
                Ok(None) => {
                    self.release();
                    return Ok(None);
                }
                Err(err) => return Err(self.fail(out, err)),
            }
        }
    }

    /// Reads one frame: `None` when incomplete, `Some(None)` for a non-final fragment.
    fn next_frame(&mut self, out: &mut Vec<u8>) -> Result<Option<Option<Message>>, ProtocolError> {
        let Some(h) = frame::parse_header(&self.buf[self.pos..])? else {
            return Ok(None);
        };
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => {
                return Err(ProtocolError::protocol("Client frames must be masked"))
            }
            (Role::Client, true) => {
                return Err(ProtocolError::protocol("Server frames must not be masked"))
            }
            _ => {}
        }
        let data_start = matches!(h.opcode, OpCode::Text | OpCode::Binary);
        if h.rsv1 && !(self.deflate && data_start) {
            return Err(ProtocolError::protocol(
                "RSV1 set without permessage-deflate",
            ));
        }
        let so_far = self.partial.as_ref().map_or(0, |p| p.data.len());
        if !h.opcode.is_control() && so_far as u64 + h.len > self.max_message as u64 {
            return Err(ProtocolError {
                code: close::MESSAGE_TOO_BIG,
                reason: "Message too big",
            });
        }
        let len = h.len as usize;
        let start = self.pos + h.header_len;
        if self.buf.len() - start < len {
            self.buf.reserve(start + len - self.buf.len());
            return Ok(None);
        }
        self.pos = start + len;
        let payload = &mut self.buf[start..start + len];
        if let Some(key) = h.mask {
            frame::apply_mask(payload, key);
        }
        let payload = &self.buf[start..start + len];
        match h.opcode {
            OpCode::Ping => {
                if !self.close_sent {
                    let mask = self.mask();
                    frame::write_frame(out, OpCode::Pong, false, payload, mask);
                }
                Ok(Some(Some(Message::Ping(payload.to_vec()))))
            }
            OpCode::Pong => Ok(Some(Some(Message::Pong(payload.to_vec())))),
            OpCode::Close => {
                let (code, reason) = close::parse(payload)?;
                self.close_received = true;
                if !self.close_sent {
                    self.close_sent = true;
                    let echo = close::payload(code, "");
                    let mask = self.mask();
                    frame::write_frame(out, OpCode::Close, false, &echo, mask);
                }
                Ok(Some(Some(Message::Close(code, reason))))
            }
            OpCode::Text | OpCode::Binary => {
                if self.partial.is_some() {
                    return Err(ProtocolError::protocol(
                        "New message before the last one ended",
                    ));
                }
                self.partial = Some(Partial {
                    text: h.opcode == OpCode::Text,
                    compressed: h.rsv1,
                    data: Vec::new(),
                    checked: 0,
                });
                self.append(start, len, h.fin)
            }
            OpCode::Continuation => {
                if self.partial.is_none() {
                    return Err(ProtocolError::protocol(
                        "Continuation frame without a message",
                    ));
                }
                self.append(start, len, h.fin)
            }
        }
    }

    /// Adds a data frame's payload (`buf[start..start + len]`) to the message in progress.
    fn append(
        &mut self,
        start: usize,
        len: usize,
        fin: bool,
    ) -> Result<Option<Option<Message>>, ProtocolError> {
        let payload = &self.buf[start..start + len];
        let partial = self.partial.as_mut().expect("a message is in progress");
        if partial.compressed {
            let inflater = self.inflater.get_or_insert_with(Box::default);
            inflater.feed(payload, fin, &mut partial.data, self.max_message)?;
        } else {
            partial.data.extend_from_slice(payload);
        }
        if partial.text {
            check_utf8(partial, fin)?;
        }
        if !fin {
            return Ok(Some(None));
        }
        // No context takeover: the inflater is not kept between messages.
        self.inflater = None;
        let done = self.partial.take().expect("a message is in progress");
        Ok(Some(Some(if done.text {
            // Checked by check_utf8 above.
            Message::Text(String::from_utf8(done.data).expect("validated UTF-8"))
        } else {
            Message::Binary(done.data)
        })))
    }

    /// Frees the receive buffer once it is empty, when it grew past [`KEEP_BUFFER`].
    fn release(&mut self) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if self.buf.capacity() > KEEP_BUFFER {
                self.buf = Vec::new();
            }
        }
    }

    fn fail(&mut self, out: &mut Vec<u8>, err: ProtocolError) -> ProtocolError {
        self.failed = true;
        self.buf = Vec::new();
        self.pos = 0;
        self.partial = None;
        self.inflater = None;
        self.write_close(out, err.code, err.reason);
        err
    }

    fn mask(&self) -> Option<[u8; 4]> {
        match self.role {
            Role::Server => None,
            Role::Client => {
                let mut h = RandomState::new().build_hasher();
                h.write_usize(self.buf.len());
                Some((h.finish() as u32).to_ne_bytes())
            }
        }
    }

    /// Appends a text or binary message as one frame, compressed when `permessage-deflate`
    /// is on and the message is large enough. Returns false (and writes nothing) after a
    /// close was sent.
    pub fn write_message(&mut self, out: &mut Vec<u8>, text: bool, payload: &[u8]) -> bool {
        if self.close_sent {
            return false;
        }
        let opcode = if text { OpCode::Text } else { OpCode::Binary };
        let mask = self.mask();
        if self.deflate && payload.len() >= deflate::COMPRESS_MIN {
            let packed = deflate::compress(payload);
            frame::write_frame(out, opcode, true, &packed, mask);
        } else {
            frame::write_frame(out, opcode, false, payload, mask);
        }
        true
    }

    /// Appends a ping (payload cut to 125 bytes); false after a close was sent.
    pub fn write_ping(&mut self, out: &mut Vec<u8>, payload: &[u8]) -> bool {
        if self.close_sent {
            return false;
        }
        let payload = &payload[..payload.len().min(frame::MAX_CONTROL_PAYLOAD)];
        let mask = self.mask();
        frame::write_frame(out, OpCode::Ping, false, payload, mask);
        true
    }

    /// Appends a close frame (once; later calls return false). Codes that may not be sent
    /// (1005, 1006, 1015, out of range) become 1000.
    pub fn write_close(&mut self, out: &mut Vec<u8>, code: u16, reason: &str) -> bool {
        if self.close_sent {
            return false;
        }
        self.close_sent = true;
        let code = if close::is_valid(code) {
            code
        } else {
            close::NORMAL
        };
        let payload = close::payload(code, reason);
        let mask = self.mask();
        frame::write_frame(out, OpCode::Close, false, &payload, mask);
        true
    }
}

/// Checks the new bytes of a text message; a sequence cut at the end of a non-final fragment
/// waits for the next one.
fn check_utf8(partial: &mut Partial, fin: bool) -> Result<(), ProtocolError> {
    const BAD: ProtocolError = ProtocolError {
        code: close::INVALID_DATA,
        reason: "Text message is not valid UTF-8",
    };
    match std::str::from_utf8(&partial.data[partial.checked..]) {
        Ok(_) => partial.checked = partial.data.len(),
        Err(e) if e.error_len().is_some() => return Err(BAD),
        Err(e) => partial.checked += e.valid_up_to(),
    }
    if fin && partial.checked != partial.data.len() {
        return Err(BAD);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn cframe(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        frame::write_frame(&mut out, OpCode::Text, false, payload, Some([9, 8, 7, 6]));
        out[0] = b0;
        out
    }

    fn server() -> Codec {
        Codec::new(Role::Server, 1000, false)
    }

    fn run(c: &mut Codec, bytes: &[u8]) -> (Vec<Message>, Option<ProtocolError>, Vec<u8>) {
        c.feed(bytes);
        let mut out = Vec::new();
        let mut msgs = Vec::new();
        loop {
            match c.next(&mut out) {
                Ok(Some(m)) => msgs.push(m),
                Ok(None) => return (msgs, None, out),
                Err(e) => return (msgs, Some(e), out),
            }
        }
    }

    #[test]
    fn text_binary_and_byte_by_byte() {
        let mut raw = cframe(0x81, b"hello");
        raw.extend(cframe(0x82, &[0, 1, 2]));
        let mut c = server();
        let (msgs, err, _) = run(&mut c, &raw);
        assert_eq!(err, None);
        assert_eq!(
            msgs,
            [
                Message::Text("hello".into()),
                Message::Binary(vec![0, 1, 2])
            ]
        );
        let mut c = server();
        let mut got = Vec::new();
        for b in &raw {
            got.extend(run(&mut c, std::slice::from_ref(b)).0);
        }
        assert_eq!(got.len(), 2);
        assert_eq!(c.buffered(), 0);
    }

    #[test]
    fn fragments_with_a_ping_between() {
        let mut raw = cframe(0x01, b"hel");
        raw.extend(cframe(0x89, b"p"));
        raw.extend(cframe(0x80, b"lo"));
        let (msgs, err, out) = run(&mut server(), &raw);
        assert_eq!(err, None);
        assert_eq!(
            msgs,
            [Message::Ping(b"p".to_vec()), Message::Text("hello".into())]
        );
        assert_eq!(out, [0x8A, 1, b'p']); // the automatic pong
    }

    #[test]
    fn protocol_errors() {
        let code = |raw: Vec<u8>| run(&mut server(), &raw).1.map(|e| e.code);
        let mut unmasked = Vec::new();
        frame::write_frame(&mut unmasked, OpCode::Text, false, b"x", None);
        assert_eq!(code(unmasked), Some(1002));
        assert_eq!(code(cframe(0xC1, b"x")), Some(1002)); // RSV1 without deflate
        assert_eq!(code(cframe(0x80, b"x")), Some(1002)); // continuation first
        let mut two = cframe(0x01, b"a");
        two.extend(cframe(0x81, b"b"));
        assert_eq!(code(two), Some(1002)); // new message inside a fragmented one
        assert_eq!(code(cframe(0x09, b"x")), Some(1002)); // fragmented ping
        assert_eq!(code(cframe(0x89, &[0; 126])), Some(1002));
        assert_eq!(code(cframe(0x81, &[b'a'; 1001])), Some(1009));
        let mut big = cframe(0x01, &[b'a'; 600]);
        big.extend(cframe(0x80, &[b'a'; 600]));
        assert_eq!(code(big), Some(1009));
        assert_eq!(code(cframe(0x81, &[0xff])), Some(1007));
        assert_eq!(code(cframe(0x88, &[0x03])), Some(1002));
    }

    #[test]
    fn utf8_across_fragments() {
        let euro = "€".as_bytes(); // three bytes
        let mut ok = cframe(0x01, &euro[..1]);
        ok.extend(cframe(0x00, &euro[1..2]));
        ok.extend(cframe(0x80, &euro[2..]));
        assert_eq!(run(&mut server(), &ok).0, [Message::Text("€".into())]);
        // Bad bytes fail at the fragment carrying them, before the message ends.
        let (msgs, err, out) = run(&mut server(), &cframe(0x01, &[b'a', 0xc0, 0xaf]));
        assert!(msgs.is_empty());
        assert_eq!(err.unwrap().code, 1007);
        assert_eq!(&out[..4], [0x88, out[1], 0x03, 0xef]); // close 1007
                                                           // A sequence cut at the very end of the message.
        let mut cut = cframe(0x01, b"a");
        cut.extend(cframe(0x80, &euro[..2]));
        assert_eq!(run(&mut server(), &cut).1.unwrap().code, 1007);
    }

    #[test]
    fn close_handshake() {
        let mut payload = 1000u16.to_be_bytes().to_vec();
        payload.extend_from_slice(b"bye");
        let mut raw = cframe(0x88, &payload);
        raw.extend(cframe(0x81, b"ignored"));
        let mut c = server();
        let (msgs, err, out) = run(&mut c, &raw);
        assert_eq!(err, None);
        assert_eq!(msgs, [Message::Close(1000, "bye".into())]);
        assert_eq!(out, [0x88, 2, 0x03, 0xe8]);
        assert!(c.close_sent() && c.close_received());
        assert!(!c.write_message(&mut Vec::new(), true, b"late"));
        // Server closes first: the client's echo is not answered again.
        let mut c = server();
        let mut out = Vec::new();
        assert!(c.write_close(&mut out, 4000, "done"));
        assert!(!c.write_close(&mut out, 4000, "again"));
        let (msgs, _, out) = run(&mut c, &cframe(0x88, &4000u16.to_be_bytes()));
        assert_eq!(msgs, [Message::Close(4000, String::new())]);
        assert!(out.is_empty());
    }

    #[test]
    fn deflate_roundtrip_between_roles() {
        let mut client = Codec::new(Role::Client, 1 << 20, true);
        let mut server = Codec::new(Role::Server, 1 << 20, true);
        let text = "compress me ".repeat(100);
        let mut wire = Vec::new();
        client.write_message(&mut wire, true, text.as_bytes());
        assert_eq!(wire[0] & 0x40, 0x40);
        assert!(wire.len() < text.len() / 2);
        let (msgs, err, _) = run(&mut server, &wire);
        assert_eq!(err, None);
        assert_eq!(msgs, [Message::Text(text.clone())]);
        let mut back = Vec::new();
        server.write_message(&mut back, false, text.as_bytes());
        client.feed(&back);
        let got = client.next(&mut Vec::new()).unwrap();
        assert_eq!(got, Some(Message::Binary(text.into_bytes())));
        // Small messages go uncompressed, which is allowed.
        let mut small = Vec::new();
        client.write_message(&mut small, true, b"hi");
        assert_eq!(small[0] & 0x40, 0);
    }

    #[test]
    fn idle_codec_holds_no_buffer() {
        let mut c = Codec::new(Role::Server, 1 << 20, false);
        let (msgs, _, _) = run(&mut c, &cframe(0x82, &[7; 50_000]));
        assert_eq!(msgs.len(), 1);
        assert_eq!(c.buf.capacity(), 0);
    }
}
