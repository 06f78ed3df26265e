//! Request body framing: how long the body is, and an incremental chunked decoder.

use super::error::HttpError;

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
/// Most bytes of trailer fields accepted after the last chunk.
const MAX_TRAILERS: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size; `digits` counts the digits seen so far.
    Size { digits: u8 },
    /// After the size: whitespace or a chunk extension, up to the CR.
    Extension,
    /// Saw the CR ending the size line; the LF must follow.
    SizeLf,
    /// Copying chunk data; this many bytes are left.
    Data(u64),
    /// Chunk data ended; expecting CR.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// After the last chunk: reading trailer lines; `line` bytes of the current line seen.
    Trailer { line: usize },
    /// The body is complete.
    Done,
}

/// Incremental `Transfer-Encoding: chunked` decoder.
///
/// Sans-IO: [`feed`](Self::feed) takes whatever bytes are available and can be called again with
/// more. Chunk extensions are ignored and trailer fields are skipped.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    line_len: usize,
    trailer_bytes: usize,
    max_body: usize,
    /// Data bytes announced by the chunks started so far (the limit counts these, so it holds
    /// even when the caller takes the output away piece by piece).
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
    /// growing past `max_body` (all chunks together) gives 413 and oversized trailers give 431.
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
                        return Err(BAD_SIZE);
                    }
                    self.size = self.size << 4 | u64::from(v);
                    self.state = State::Size { digits: digits + 1 };
                } else if digits == 0 {
                    return Err(BAD_SIZE);
                } else {
                    self.state = State::Extension;
                    return self.step_extension(b);
                }
            }
            State::Extension => {
                self.count_line_byte()?;
                self.step_extension(b)?;
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
            State::Trailer { line } => self.step_trailer(b, line)?,
            State::Data(_) | State::Done => unreachable!("handled by feed"),
        }
        Ok(())
    }

    fn step_extension(&mut self, b: u8) -> Result<(), HttpError> {
        match b {
            b'\r' => self.state = State::SizeLf,
            b'\n' => return Err(HttpError::bad_request("Invalid chunk size line")),
            _ => {}
        }
        Ok(())
    }

    fn count_line_byte(&mut self) -> Result<(), HttpError> {
        self.line_len += 1;
        if self.line_len > MAX_SIZE_LINE {
            return Err(HttpError::bad_request("Chunk size line too long"));
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
            self.state = State::Trailer { line: 0 };
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

    fn step_trailer(&mut self, b: u8, line: usize) -> Result<(), HttpError> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > MAX_TRAILERS {
            return Err(HttpError::head_too_large("Chunked trailers too large"));
        }
        self.state = match b {
            // An empty line ("\r\n" or a bare "\n") ends the trailers.
            b'\n' if line == 0 || (line == 1 && self.line_len == 1) => State::Done,
            b'\n' => State::Trailer { line: 0 },
            _ => {
                // Remember whether the line so far is exactly one CR.
                self.line_len = usize::from(line == 0 && b == b'\r');
                State::Trailer { line: line + 1 }
            }
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
        let err = ChunkedDecoder::new(10)
            .feed(&long, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.status, 400);
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
