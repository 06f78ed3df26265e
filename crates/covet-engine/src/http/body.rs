//! Request body framing: how long the body is, and an incremental chunked decoder.

use super::error::HttpError;
use super::is_tchar;

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (no Content-Length, or Content-Length: 0).
    Empty,
    /// Exactly this many bytes follow the head.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Longest chunk size line, extensions included.
const MAX_SIZE_LINE: usize = 1024;
/// Most bytes of whitespace and extensions after the sizes, all chunks of a body together (as
/// hyper's limit). They also count against the body limit.
const MAX_EXTENSIONS: usize = 16 * 1024;
/// Most bytes of trailer fields accepted after the last chunk.
const MAX_TRAILERS: usize = 8 * 1024;
/// Most trailer lines (hyper's default too).
const MAX_TRAILER_LINES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size; `digits` counts the digits seen so far.
    Size { digits: u8 },
    /// After the size digits: optional whitespace, then `;` or the CR.
    SizeWs,
    /// In a chunk extension (after `;`), up to the CR.
    Extension,
    /// Saw the CR ending the size line; the LF must follow.
    SizeLf,
    /// Copying chunk data; this many bytes are left.
    Data(u64),
    /// Chunk data ended; expecting CR.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// After the last chunk, at the start of a trailer line (or of the final CRLF).
    TrailerStart,
    /// In a trailer field name, up to the colon.
    TrailerName,
    /// In a trailer field value, up to the CR.
    TrailerValue,
    /// Expecting the LF ending a trailer line.
    TrailerLf,
    /// Expecting the LF of the final empty line.
    EndLf,
    /// The body is complete.
    Done,
}

/// Incremental `Transfer-Encoding: chunked` decoder.
///
/// Sans-IO: [`feed`](Self::feed) takes whatever bytes are available and can be called again with
/// more. Strict on framing, since a laxer reading than a front-end's is request smuggling: the
/// size is hex digits followed only by whitespace, `;` and an extension, or CRLF; every line
/// ends in CRLF (a bare LF is refused); trailer lines must be `name: value` fields. Chunk
/// extensions are ignored (their bytes count against the body limit) and trailers are skipped.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    line_len: usize,
    trailer_bytes: usize,
    trailer_lines: usize,
    extension_bytes: usize,
    max_body: usize,
    /// Data bytes announced by the chunks started so far, plus extension bytes (the limit
    /// counts these, so it holds even when the caller takes the output away piece by piece).
    decoded: u64,
}

impl ChunkedDecoder {
    /// A decoder for a body of at most `max_body` decoded bytes.
    pub fn new(max_body: usize) -> Self {
        ChunkedDecoder {
            state: State::Size { digits: 0 },
            size: 0,
            line_len: 0,
            trailer_bytes: 0,
            trailer_lines: 0,
            extension_bytes: 0,
            max_body,
            decoded: 0,
        }
    }

    /// True once the final chunk, the trailers and the closing CRLF have been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes as much of `input` as it can, appending decoded data to `out`.
    ///
    /// Returns the number of bytes consumed and whether the body is complete; once complete,
    /// nothing past the end of the body is consumed. Errors: malformed framing gives 400, a body
    /// growing past `max_body` (all chunks and extensions together) gives 413 and oversized
    /// trailers give 431.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), HttpError> {
        let mut i = 0;
        while i < input.len() {
            if let State::Data(left) = self.state {
                let take = left.min((input.len() - i) as u64) as usize;
                out.extend_from_slice(&input[i..i + take]);
                i += take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data(left)
                };
                continue;
            }
            if self.state == State::Done {
                break;
            }
            self.step(input[i])?;
            i += 1;
        }
        Ok((i, self.state == State::Done))
    }

    /// Advances the state machine over one framing byte (anything but chunk data).
    fn step(&mut self, b: u8) -> Result<(), HttpError> {
        const BAD_SIZE: HttpError = HttpError::bad_request("Invalid chunk size line");
        match self.state {
            State::Size { digits } => {
                self.count_line_byte()?;
                if let Some(v) = hex_value(b) {
                    if digits >= 16 {
                        return Err(HttpError::bad_request("Chunk size has too many digits"));
                    }
                    self.size = self.size << 4 | u64::from(v);
                    self.state = State::Size { digits: digits + 1 };
                } else if digits == 0 {
                    return Err(BAD_SIZE);
                } else {
                    self.after_size(b)?;
                }
            }
            State::SizeWs => {
                self.count_line_byte()?;
                self.after_size(b)?;
            }
            State::Extension => {
                self.count_line_byte()?;
                match b {
                    b'\r' => self.state = State::SizeLf,
                    b'\n' => return Err(BAD_SIZE),
                    _ => self.count_extension_byte()?,
                }
            }
            State::SizeLf => {
                if b != b'\n' {
                    return Err(BAD_SIZE);
                }
                self.start_chunk()?;
            }
            State::DataCr if b == b'\r' => self.state = State::DataLf,
            State::DataLf if b == b'\n' => self.begin_size_line(),
            State::DataCr | State::DataLf => {
                return Err(HttpError::bad_request("Missing CRLF after chunk data"))
            }
            State::TrailerStart
            | State::TrailerName
            | State::TrailerValue
            | State::TrailerLf
            | State::EndLf => self.step_trailer(b)?,
            State::Data(_) | State::Done => unreachable!("handled by feed"),
        }
        Ok(())
    }

    /// A byte after the size digits: whitespace, the start of an extension, or the CR.
    fn after_size(&mut self, b: u8) -> Result<(), HttpError> {
        self.state = match b {
            b' ' | b'\t' => State::SizeWs,
            b';' => State::Extension,
            b'\r' => {
                self.state = State::SizeLf;
                return Ok(());
            }
            _ => return Err(HttpError::bad_request("Invalid chunk size line")),
        };
        self.count_extension_byte()
    }

    fn count_line_byte(&mut self) -> Result<(), HttpError> {
        self.line_len += 1;
        if self.line_len > MAX_SIZE_LINE {
            return Err(HttpError::bad_request("Chunk size line too long"));
        }
        Ok(())
    }

    /// Extension bytes are capped per body and count against the body limit, so a body of
    /// tiny chunks with long extensions cannot make the wire many times the limit.
    fn count_extension_byte(&mut self) -> Result<(), HttpError> {
        self.extension_bytes += 1;
        if self.extension_bytes > MAX_EXTENSIONS {
            return Err(HttpError::bad_request("Chunk extensions too long"));
        }
        self.decoded += 1;
        if self.decoded > self.max_body as u64 {
            return Err(HttpError::body_too_large());
        }
        Ok(())
    }

    fn begin_size_line(&mut self) {
        self.state = State::Size { digits: 0 };
        self.size = 0;
        self.line_len = 0;
    }

    /// The size line is complete: start the data, or the trailers after the last chunk.
    fn start_chunk(&mut self) -> Result<(), HttpError> {
        if self.size == 0 {
            self.state = State::TrailerStart;
            return Ok(());
        }
        let room = (self.max_body as u64).saturating_sub(self.decoded);
        if self.size > room {
            return Err(HttpError::body_too_large());
        }
        self.decoded += self.size;
        self.state = State::Data(self.size);
        Ok(())
    }

    /// Trailer lines are checked as header fields (a token, a colon, a value without control
    /// characters, CRLF): a request line or junk after the last chunk is refused, never
    /// swallowed.
    fn step_trailer(&mut self, b: u8) -> Result<(), HttpError> {
        const BAD: HttpError = HttpError::bad_request("Invalid chunked trailer line");
        self.trailer_bytes += 1;
        if self.trailer_bytes > MAX_TRAILERS {
            return Err(HttpError::head_too_large("Chunked trailers too large"));
        }
        self.state = match (self.state, b) {
            (State::TrailerStart, b'\r') => State::EndLf,
            (State::TrailerStart | State::TrailerName, b) if is_tchar(b) => State::TrailerName,
            (State::TrailerName, b':') => State::TrailerValue,
            (State::TrailerValue, b'\r') => State::TrailerLf,
            (State::TrailerValue, b) if b == b'\t' || b >= b' ' && b != 0x7f => State::TrailerValue,
            (State::TrailerLf, b'\n') => {
                self.trailer_lines += 1;
                if self.trailer_lines > MAX_TRAILER_LINES {
                    return Err(HttpError::head_too_large("Too many chunked trailers"));
                }
                State::TrailerStart
            }
            (State::EndLf, b'\n') => State::Done,
            _ => return Err(BAD),
        };
        Ok(())
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], max: usize) -> Result<(Vec<u8>, usize), HttpError> {
        let mut d = ChunkedDecoder::new(max);
        let mut out = Vec::new();
        let (n, done) = d.feed(input, &mut out)?;
        assert!(done, "body incomplete");
        Ok((out, n))
    }

    const BODY: &[u8] = b"5\r\nhello\r\n6;ext=1;x\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\nNEXT";

    #[test]
    fn whole_body_with_extensions_and_trailers() {
        let (out, n) = decode_all(BODY, 1000).unwrap();
        assert_eq!(out, b"hello world");
        assert_eq!(&BODY[n..], b"NEXT");
    }

    #[test]
    fn split_at_every_boundary() {
        let end = BODY.len() - 4;
        for split in 0..=end {
            let mut d = ChunkedDecoder::new(1000);
            let mut out = Vec::new();
            let (n1, done1) = d.feed(&BODY[..split], &mut out).unwrap();
            assert_eq!(n1, split);
            assert!(!done1 || split == end);
            let (n2, done2) = d.feed(&BODY[split..], &mut out).unwrap();
            assert!(done2);
            assert_eq!(split + n2, end);
            assert_eq!(out, b"hello world");
        }
    }

    #[test]
    fn byte_by_byte() {
        let mut d = ChunkedDecoder::new(1000);
        let mut out = Vec::new();
        let mut done = false;
        for (i, b) in BODY.iter().enumerate() {
            let (n, fin) = d.feed(std::slice::from_ref(b), &mut out).unwrap();
            if fin {
                assert_eq!(i, BODY.len() - 5);
                done = true;
                break;
            }
            assert_eq!(n, 1);
        }
        assert!(done && d.is_done());
        assert_eq!(out, b"hello world");
    }

    #[test]
    fn empty_body_and_uppercase_hex() {
        assert_eq!(decode_all(b"0\r\n\r\n", 10).unwrap().0, b"");
        let (out, _) = decode_all(b"A\r\n0123456789\r\n0\r\n\r\n", 10).unwrap();
        assert_eq!(out, b"0123456789");
    }

    #[test]
    fn over_limit_is_413() {
        assert_eq!(decode_all(b"B\r\n", 10).unwrap_err().status, 413);
        let err = decode_all(b"6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n", 10).unwrap_err();
        assert_eq!(err.status, 413);
    }

    #[test]
    fn malformed_is_400() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b";ext\r\n",
            b"5\nhello",
            b"5\r\nhelloXX",
            b"5\r\nhello\rX",
            b"5\rx",
            b"11111111111111111\r\n",
        ] {
            let mut d = ChunkedDecoder::new(1 << 20);
            let err = d.feed(bad, &mut Vec::new()).unwrap_err();
            assert_eq!(err.status, 400, "{:?}", String::from_utf8_lossy(bad));
        }
        let mut long = b"1;".to_vec();
        long.resize(2000, b'a');
        let err = ChunkedDecoder::new(1 << 20)
            .feed(&long, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.status, 400);
    }

    /// Items of issue 14: each of these was accepted, letting bytes after it be read as a
    /// second request that a front-end reading the size correctly sees as body.
    #[test]
    fn size_line_junk_and_bad_trailers_are_400() {
        for bad in [
            &b"0x2f\r\n"[..],
            b"0g\r\n",
            b"1 x\r\n",
            b"0\r\nGET /secret HTTP/1.1\r\n\r\n",
            b"0\r\n: no name\r\n\r\n",
            b"0\r\nX-T: a\nY: b\r\n\r\n",
            b"0\r\nX T: a\r\n\r\n",
            b"0\r\nX-T: a\x00\r\n\r\n",
            b"0\r\n\n",
        ] {
            let mut d = ChunkedDecoder::new(1 << 20);
            let err = d.feed(bad, &mut Vec::new()).unwrap_err();
            assert_eq!(err.status, 400, "{:?}", String::from_utf8_lossy(bad));
        }
        // Whitespace before the `;` or the CR is allowed (RFC 9112 BWS), as hyper does.
        for good in [
            &b"0 \r\n\r\n"[..],
            b"0\t;a=b\r\n\r\n",
            b"0;a\r\nX-T:\r\n\r\n",
        ] {
            assert!(
                decode_all(good, 10).is_ok(),
                "{:?}",
                String::from_utf8_lossy(good)
            );
        }
    }

    #[test]
    fn extension_bytes_count_against_the_body_limit() {
        // 1-byte chunks with a 1000-byte extension each: the limit of 100 is reached by the
        // extensions long before the data.
        let mut input = Vec::new();
        for _ in 0..20 {
            input.extend_from_slice(b"1;");
            input.resize(input.len() + 1000, b'e');
            input.extend_from_slice(b"\r\nx\r\n");
        }
        let err = ChunkedDecoder::new(100)
            .feed(&input, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.status, 413);
        // And they are capped per body whatever the limit (16 KiB, as hyper does).
        let err = ChunkedDecoder::new(1 << 30)
            .feed(&input.repeat(2), &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.status, 400);
    }

    /// Found by the http_diff fuzz target: hyper refuses more than 100 trailer lines.
    #[test]
    fn more_than_100_trailer_lines_are_431() {
        let mut input = b"0\r\n".to_vec();
        input.extend_from_slice(&b"X: 1\r\n".repeat(100));
        input.extend_from_slice(b"\r\n");
        assert!(decode_all(&input, 10).is_ok());
        let mut input = b"0\r\n".to_vec();
        input.extend_from_slice(&b"X: 1\r\n".repeat(101));
        let err = ChunkedDecoder::new(10)
            .feed(&input, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.status, 431);
    }

    #[test]
    fn huge_trailers_are_431() {
        let mut input = b"0\r\n".to_vec();
        for _ in 0..1000 {
            input.extend_from_slice(b"X-Padding: 0123456789\r\n");
        }
        let err = ChunkedDecoder::new(10)
            .feed(&input, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.status, 431);
    }
}
