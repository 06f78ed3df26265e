//! `multipart/form-data` decoding (RFC 7578), sans-IO and incremental.
//!
//! [`MultipartParser`] takes the body in whatever pieces the caller has ([`feed`]) and turns it
//! into [`Event`]s: a part's head ([`Event::PartStart`]), its content in one or more
//! [`Event::Data`] chunks, [`Event::PartEnd`], and [`Event::End`] after the closing boundary.
//! A boundary may be split across feeds at any byte; the parser holds back only the bytes that
//! could still turn out to be the start of a delimiter, so memory stays bounded by the limits,
//! not by the size of a file.
//!
//! The preamble before the first boundary and the epilogue after the last are ignored. A body
//! that ends without its closing boundary is an error ([`MultipartParser::finish`]). Errors
//! carry the status to answer with: 413 when a [`MultipartLimits`] limit is passed, 400 for a
//! malformed body.
//!
//! ```
//! use covet_engine::multipart::{parse, MultipartLimits};
//!
//! let body = b"--xyz\r\n\
//!     Content-Disposition: form-data; name=\"title\"\r\n\r\n\
//!     hello\r\n\
//!     --xyz\r\n\
//!     Content-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
//!     Content-Type: text/plain\r\n\r\n\
//!     file body\r\n\
//!     --xyz--\r\n";
//! let parts = parse(b"xyz", body, MultipartLimits::default()).unwrap();
//! assert_eq!(parts[0].head.name, "title");
//! assert_eq!(parts[0].data, b"hello");
//! assert_eq!(parts[1].head.filename.as_deref(), Some("a.txt"));
//! assert_eq!(parts[1].head.content_type.as_deref(), Some("text/plain"));
//! assert_eq!(parts[1].data, b"file body");
//! ```
//!
//! [`feed`]: MultipartParser::feed

use std::collections::VecDeque;
use std::fmt;

/// Size and count limits for one multipart body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartLimits {
    /// Largest number of parts (fields and files together); over it the body gets 413.
    pub max_parts: usize,
    /// Largest header block of one part, in bytes; over it the body gets 413.
    pub max_part_header_bytes: usize,
    /// Largest content of one non-file part (no `filename`), in bytes; over it the body gets
    /// 413. File parts are not limited here: they are bounded by the request body limit.
    pub max_field_bytes: usize,
}

impl Default for MultipartLimits {
    fn default() -> Self {
        MultipartLimits {
            max_parts: 1000,
            max_part_header_bytes: 16 * 1024,
            max_field_bytes: 1024 * 1024,
        }
    }
}

/// Why a multipart body was refused, and the status to answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartError {
    status: u16,
    message: String,
}

impl MultipartError {
    /// A malformed body: 400.
    fn malformed(message: impl Into<String>) -> Self {
        MultipartError {
            status: 400,
            message: message.into(),
        }
    }

    /// A body over one of the [`MultipartLimits`]: 413.
    fn too_large(message: impl Into<String>) -> Self {
        MultipartError {
            status: 413,
            message: message.into(),
        }
    }

    /// The HTTP status to answer with: 413 for a passed limit, 400 for a malformed body.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether a [`MultipartLimits`] limit was passed (rather than the body being malformed).
    pub fn is_limit(&self) -> bool {
        self.status == 413
    }

    /// A short human message naming what is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for MultipartError {}

/// The head of one part: its form name, file name, content type and raw headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartHead {
    /// The `name` of Content-Disposition (`name*` when given).
    pub name: String,
    /// The `filename` of Content-Disposition (`filename*` when given); `Some` marks a file part.
    pub filename: Option<String>,
    /// The part's Content-Type header, if any.
    pub content_type: Option<String>,
    /// Every header of the part in order, names lower-cased, values as sent (trimmed).
    pub headers: Vec<(String, Vec<u8>)>,
}

/// What the parser found next in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A part begins; its content follows as [`Event::Data`].
    PartStart(PartHead),
    /// A piece of the current part's content (a part may come in several pieces).
    Data(Vec<u8>),
    /// The current part is complete.
    PartEnd,
    /// The closing boundary was read; nothing follows.
    End,
}

/// One complete part, as returned by [`parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Name, file name, content type and headers.
    pub head: PartHead,
    /// The whole content.
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Nothing read yet: the body may open with the boundary itself (no leading CRLF).
    Start,
    /// Skipping the preamble up to the first delimiter.
    Preamble,
    /// Just past a delimiter: `--` closes the body, otherwise padding and CRLF open a part.
    AfterBoundary,
    /// Reading a part's header block up to its blank line.
    Headers,
    /// Reading a part's content up to the next delimiter.
    Body,
    /// Past the closing boundary: everything is ignored.
    Epilogue,
    /// An error was returned; every later call returns it again.
    Failed(MultipartError),
}

/// An incremental `multipart/form-data` parser: feed it bytes, take [`Event`]s out.
pub struct MultipartParser {
    /// `\r\n--` followed by the boundary: what ends a part (and, minus the CRLF, may open the body).
    delimiter: Vec<u8>,
    /// Horspool shift table for `delimiter`.
    shift: [u8; 256],
    limits: MultipartLimits,
    state: State,
    /// Input not consumed yet, carried to the next feed.
    buf: Vec<u8>,
    events: VecDeque<Event>,
    parts: usize,
    /// Transport padding (spaces and tabs) seen after the current delimiter.
    padding: usize,
    /// How far the current header block has been searched for its blank line.
    header_scanned: usize,
    /// Content bytes of the current part so far, and whether it is a file.
    part_bytes: usize,
    part_is_file: bool,
}

/// How a state handler left the input.
enum Step {
    /// Consumed this many bytes; the state may have changed; run again.
    Advance(usize),
    /// Consumed this many bytes and needs more input to go on.
    Wait(usize),
}

impl MultipartParser {
    /// Makes a parser for the given boundary (the `boundary` parameter of the Content-Type,
    /// unquoted; see [`boundary_from_content_type`]).
    ///
    /// # Panics
    ///
    /// If the boundary is empty or longer than 250 bytes (an RFC 2046 boundary has 1 to 70).
    pub fn new(boundary: &[u8], limits: MultipartLimits) -> Self {
        assert!(
            !boundary.is_empty() && boundary.len() <= MAX_BOUNDARY,
            "multipart boundary must have 1 to {MAX_BOUNDARY} bytes"
        );
        let mut delimiter = Vec::with_capacity(boundary.len() + 4);
        delimiter.extend_from_slice(b"\r\n--");
        delimiter.extend_from_slice(boundary);
        // Fits in u8: the delimiter is at most MAX_BOUNDARY + 4 < 256 bytes.
        let n = delimiter.len();
        let mut shift = [n as u8; 256];
        for (i, &b) in delimiter[..n - 1].iter().enumerate() {
            shift[b as usize] = (n - 1 - i) as u8;
        }
        MultipartParser {
            delimiter,
            shift,
            limits,
            state: State::Start,
            buf: Vec::new(),
            events: VecDeque::new(),
            parts: 0,
            padding: 0,
            header_scanned: 0,
            part_bytes: 0,
            part_is_file: false,
        }
    }

    /// Parses the next piece of the body, queueing the events it completes.
    ///
    /// After an error the parser is spent: every later call returns the same error.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), MultipartError> {
        if let State::Failed(err) = &self.state {
            return Err(err.clone());
        }
        let result = if self.buf.is_empty() {
            // The common case (a whole body, or a feed after a clean cut): parse straight from
            // the caller's bytes and keep only what is left over.
            self.run(data)
                .map(|used| self.buf.extend_from_slice(&data[used..]))
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            buf.extend_from_slice(data);
            let result = self.run(&buf).map(|used| {
                buf.drain(..used);
            });
            self.buf = buf;
            result
        };
        if let Err(err) = &result {
            self.state = State::Failed(err.clone());
            self.buf = Vec::new();
        }
        result
    }

    /// Declares the end of the body: an error unless the closing boundary has been read.
    pub fn finish(&mut self) -> Result<(), MultipartError> {
        let err = match &self.state {
            State::Epilogue => return Ok(()),
            State::Failed(err) => return Err(err.clone()),
            State::Start | State::Preamble => {
                MultipartError::malformed("no boundary found in the body")
            }
            _ => MultipartError::malformed("the body ended before its closing boundary"),
        };
        self.state = State::Failed(err.clone());
        Err(err)
    }

    /// Takes the oldest queued event, if any.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Runs the state machine over `input`, returning how many bytes it consumed.
    fn run(&mut self, input: &[u8]) -> Result<usize, MultipartError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            let step = match self.state {
                State::Start => self.start(rest),
                State::Preamble => self.preamble(rest),
                State::AfterBoundary => self.after_boundary(rest)?,
                State::Headers => self.headers(rest)?,
                State::Body => self.body(rest)?,
                State::Epilogue => Step::Wait(rest.len()),
                State::Failed(_) => unreachable!("feed checks for a failed parser"),
            };
            match step {
                Step::Advance(n) => pos += n,
                Step::Wait(n) => return Ok(pos + n),
            }
        }
    }

    fn start(&mut self, input: &[u8]) -> Step {
        let dash_boundary = &self.delimiter[2..];
        if input.len() < dash_boundary.len() && dash_boundary.starts_with(input) {
            return Step::Wait(0);
        }
        if input.starts_with(dash_boundary) {
            self.state = State::AfterBoundary;
            self.padding = 0;
            Step::Advance(dash_boundary.len())
        } else {
            self.state = State::Preamble;
            Step::Advance(0)
        }
    }

    fn preamble(&mut self, input: &[u8]) -> Step {
        match self.find_delimiter(input) {
            Some(i) => {
                self.state = State::AfterBoundary;
                self.padding = 0;
                Step::Advance(i + self.delimiter.len())
            }
            None => Step::Wait(input.len() - self.partial_delimiter(input)),
        }
    }

    fn after_boundary(&mut self, input: &[u8]) -> Result<Step, MultipartError> {
        match input {
            [] | [b'-'] | [b'\r'] => Ok(Step::Wait(0)),
            [b'-', b'-', ..] if self.padding == 0 => {
                self.events.push_back(Event::End);
                self.state = State::Epilogue;
                Ok(Step::Advance(2))
            }
            [b' ' | b'\t', ..] => {
                // RFC 2046 transport padding; bounded so it cannot grow without end.
                self.padding += 1;
                if self.padding > self.limits.max_part_header_bytes {
                    return Err(MultipartError::malformed(
                        "too much padding after a boundary",
                    ));
                }
                Ok(Step::Advance(1))
            }
            [b'\r', b'\n', ..] => {
                self.parts += 1;
                if self.parts > self.limits.max_parts {
                    return Err(MultipartError::too_large(format!(
                        "too many parts (the limit is {})",
                        self.limits.max_parts
                    )));
                }
                self.state = State::Headers;
                self.header_scanned = 0;
                Ok(Step::Advance(2))
            }
            _ => Err(MultipartError::malformed(
                "a boundary is followed by something other than CRLF or \"--\"",
            )),
        }
    }

    fn headers(&mut self, input: &[u8]) -> Result<Step, MultipartError> {
        let max = self.limits.max_part_header_bytes;
        if input.starts_with(b"\r\n") {
            return Err(MultipartError::malformed(
                "a part has no Content-Disposition header",
            ));
        }
        let from = self.header_scanned.saturating_sub(3);
        let end = input[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| from + i);
        match end {
            Some(end) if end <= max => {
                let head = parse_head(&input[..end])?;
                self.part_is_file = head.filename.is_some();
                self.part_bytes = 0;
                self.events.push_back(Event::PartStart(head));
                self.state = State::Body;
                Ok(Step::Advance(end + 4))
            }
            None if input.len() < max + 4 => {
                self.header_scanned = input.len();
                Ok(Step::Wait(0))
            }
            _ => Err(MultipartError::too_large(format!(
                "a part's headers are too large (the limit is {max} bytes)"
            ))),
        }
    }

    fn body(&mut self, input: &[u8]) -> Result<Step, MultipartError> {
        let (data_len, found) = match self.find_delimiter(input) {
            Some(i) => (i, true),
            None => (input.len() - self.partial_delimiter(input), false),
        };
        if data_len > 0 {
            self.part_bytes += data_len;
            if !self.part_is_file && self.part_bytes > self.limits.max_field_bytes {
                return Err(MultipartError::too_large(format!(
                    "a form field is too large (the limit is {} bytes)",
                    self.limits.max_field_bytes
                )));
            }
            self.events
                .push_back(Event::Data(input[..data_len].to_vec()));
        }
        if !found {
            return Ok(Step::Wait(data_len));
        }
        self.events.push_back(Event::PartEnd);
        self.state = State::AfterBoundary;
        self.padding = 0;
        Ok(Step::Advance(data_len + self.delimiter.len()))
    }

    /// Where the delimiter first occurs in `hay` (Boyer-Moore-Horspool).
    fn find_delimiter(&self, hay: &[u8]) -> Option<usize> {
        let needle = &self.delimiter[..];
        let last = needle.len() - 1;
        let mut i = 0;
        while i + last < hay.len() {
            let b = hay[i + last];
            if b == needle[last] && hay[i..i + last] == needle[..last] {
                return Some(i);
            }
            i += self.shift[b as usize] as usize;
        }
        None
    }

    /// The length of the longest tail of `hay` that is a proper prefix of the delimiter: bytes
    /// that must wait for the next feed before they can be told apart from content.
    fn partial_delimiter(&self, hay: &[u8]) -> usize {
        let start = hay.len().saturating_sub(self.delimiter.len() - 1);
        (start..hay.len())
            .find(|&j| hay[j] == b'\r' && self.delimiter.starts_with(&hay[j..]))
            .map_or(0, |j| hay.len() - j)
    }
}

/// The longest boundary [`MultipartParser::new`] accepts (RFC 2046 allows 70; some clients
/// send a little more).
pub const MAX_BOUNDARY: usize = 250;

/// Parses a whole body at once into its parts, in order.
///
/// The one-shot form of [`MultipartParser`], for a body already in memory.
pub fn parse(
    boundary: &[u8],
    body: &[u8],
    limits: MultipartLimits,
) -> Result<Vec<Part>, MultipartError> {
    let mut parser = MultipartParser::new(boundary, limits);
    parser.feed(body)?;
    parser.finish()?;
    let mut parts: Vec<Part> = Vec::new();
    while let Some(event) = parser.next_event() {
        match event {
            Event::PartStart(head) => parts.push(Part {
                head,
                data: Vec::new(),
            }),
            Event::Data(data) => {
                // PartStart always comes first, so a part is there to take the data.
                if let Some(part) = parts.last_mut() {
                    if part.data.is_empty() {
                        part.data = data;
                    } else {
                        part.data.extend_from_slice(&data);
                    }
                }
            }
            Event::PartEnd | Event::End => {}
        }
    }
    Ok(parts)
}

/// The `boundary` parameter of a `multipart/*` Content-Type value, unquoted.
///
/// `None` when the media type is not `multipart/...`, or the boundary is missing, empty,
/// longer than [`MAX_BOUNDARY`] or contains CR or LF.
pub fn boundary_from_content_type(ct: &[u8]) -> Option<Vec<u8>> {
    let (kind, params) = parse_params(ct).ok()?;
    if kind.len() < 10 || !kind[..10].eq_ignore_ascii_case(b"multipart/") {
        return None;
    }
    let boundary = params
        .into_iter()
        .find(|p| p.name == "boundary" && !p.extended)?
        .value;
    let valid = !boundary.is_empty()
        && boundary.len() <= MAX_BOUNDARY
        && !boundary.iter().any(|&b| b == b'\r' || b == b'\n');
    valid.then_some(boundary)
}

/// Parses a part's header block (without its final blank line) into its head.
fn parse_head(block: &[u8]) -> Result<PartHead, MultipartError> {
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    let last = block.split(|&b| b == b'\n').count() - 1;
    for (i, line) in block.split(|&b| b == b'\n').enumerate() {
        // Lines end in CRLF; the block's last line lost its CRLF to the blank line after it.
        let line = match line.strip_suffix(b"\r") {
            Some(line) if i < last => line,
            _ if i < last => {
                return Err(MultipartError::malformed(
                    "a part header line ends in a bare LF",
                ))
            }
            _ => line,
        };
        if line.iter().any(|&b| b == b'\r' || b == 0) {
            return Err(MultipartError::malformed(
                "a part header contains a bare CR or NUL",
            ));
        }
        if let [b' ' | b'\t', ..] = line {
            // An obsolete folded line continues the previous header's value.
            let Some((_, value)) = headers.last_mut() else {
                return Err(MultipartError::malformed(
                    "a part's headers begin with a continuation line",
                ));
            };
            value.push(b' ');
            value.extend_from_slice(trim(line));
            continue;
        }
        let colon = line.iter().position(|&b| b == b':');
        let name = colon.map(|c| &line[..c]).unwrap_or_default();
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Err(MultipartError::malformed(format!(
                "invalid part header line {:?}",
                String::from_utf8_lossy(&line[..line.len().min(64)])
            )));
        }
        let value = trim(&line[name.len() + 1..]).to_vec();
        headers.push((String::from_utf8_lossy(name).to_ascii_lowercase(), value));
    }
    let find = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let Some(disposition) = find("content-disposition") else {
        return Err(MultipartError::malformed(
            "a part has no Content-Disposition header",
        ));
    };
    let (kind, params) = parse_params(disposition)?;
    if !kind.eq_ignore_ascii_case(b"form-data") {
        return Err(MultipartError::malformed(format!(
            "a part's Content-Disposition is {:?}, not form-data",
            String::from_utf8_lossy(kind)
        )));
    }
    let name = param_text(&params, "name")
        .ok_or_else(|| MultipartError::malformed("a part's Content-Disposition has no name"))?;
    let filename = param_text(&params, "filename").map(strip_windows_path);
    if filename
        .as_deref()
        .is_some_and(|f| f.chars().any(char::is_control))
    {
        // `filename*=UTF-8''a%00.php`: a NUL or a line break in a name the application may
        // use as a path or log is refused, not passed on (nor silently changed).
        return Err(MultipartError::malformed(
            "a part's filename contains a control character",
        ));
    }
    let content_type = find("content-type").map(|v| String::from_utf8_lossy(v).into_owned());
    Ok(PartHead {
        name,
        filename,
        content_type,
        headers,
    })
}

/// One `name=value` parameter of a header value; `extended` for RFC 5987 `name*=` forms.
#[derive(Debug)]
struct Param {
    name: String,
    value: Vec<u8>,
    extended: bool,
}

/// Splits a header value like `form-data; name="a"; filename*=UTF-8''b` into its leading token
/// and its parameters (names lower-cased; quoted values unquoted).
///
/// In a quoted value a backslash escapes only `"` and `\`; before any other character it is
/// kept, so a Windows path such as `C:\dir\a.txt` survives as browsers send it.
fn parse_params(value: &[u8]) -> Result<(&[u8], Vec<Param>), MultipartError> {
    let kind_end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    let kind = trim(&value[..kind_end]);
    let mut params = Vec::new();
    let mut i = kind_end;
    while i < value.len() {
        // `value[i]` is a `;`.
        i += 1;
        let name_start = i;
        while i < value.len() && value[i] != b'=' && value[i] != b';' {
            i += 1;
        }
        let name = trim(&value[name_start..i]);
        if i >= value.len() || value[i] == b';' {
            continue; // a parameter without a value is ignored
        }
        i += 1; // '='
        while i < value.len() && (value[i] == b' ' || value[i] == b'\t') {
            i += 1;
        }
        let mut text = Vec::new();
        if value.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match value.get(i) {
                    None => {
                        return Err(MultipartError::malformed(
                            "unterminated quoted string in a part header",
                        ))
                    }
                    Some(b'"') => break,
                    Some(b'\\') if matches!(value.get(i + 1), Some(b'"' | b'\\')) => {
                        text.push(value[i + 1]);
                        i += 2;
                    }
                    Some(&b) => {
                        text.push(b);
                        i += 1;
                    }
                }
            }
            // Skip the closing quote and anything up to the next `;`.
            while i < value.len() && value[i] != b';' {
                i += 1;
            }
        } else {
            let start = i;
            while i < value.len() && value[i] != b';' {
                i += 1;
            }
            text.extend_from_slice(trim(&value[start..i]));
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let (name, extended) = match name.strip_suffix('*') {
            Some(base) => (base.to_owned(), true),
            None => (name, false),
        };
        params.push(Param {
            name,
            value: text,
            extended,
        });
    }
    Ok((kind, params))
}

/// The text of parameter `name`, preferring its RFC 5987 `name*` form when present.
fn param_text(params: &[Param], name: &str) -> Option<String> {
    let mut plain = None;
    for p in params.iter().filter(|p| p.name == name) {
        if p.extended {
            return Some(decode_ext_value(&p.value));
        }
        plain.get_or_insert(p);
    }
    plain.map(|p| String::from_utf8_lossy(&p.value).into_owned())
}

/// Decodes an RFC 5987 `charset'language'percent-encoded` value. ISO-8859-1 is honoured; every
/// other charset is read as UTF-8 (invalid sequences become U+FFFD).
fn decode_ext_value(value: &[u8]) -> String {
    let mut pieces = value.splitn(3, |&b| b == b'\'');
    let (charset, encoded) = match (pieces.next(), pieces.next(), pieces.next()) {
        (Some(charset), Some(_language), Some(encoded)) => (charset, encoded),
        _ => (&b"utf-8"[..], value),
    };
    let bytes = percent_decode(encoded);
    if charset.eq_ignore_ascii_case(b"iso-8859-1") || charset.eq_ignore_ascii_case(b"latin1") {
        bytes.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// `%XX` decoding with no `+` rule (RFC 3986); an invalid escape is kept as it is.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A full Windows path (`C:\dir\a.txt`, `\\host\share\a.txt`), as old browsers sent, is cut to
/// its last component, as Starlette does.
fn strip_windows_path(filename: String) -> String {
    let b = filename.as_bytes();
    let is_path = (b.len() >= 3 && b[0].is_ascii_alphabetic() && &b[1..3] == b":\\")
        || b.starts_with(b"\\\\");
    match filename.rfind('\\') {
        Some(i) if is_path => filename[i + 1..].to_owned(),
        _ => filename,
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &[u8] = b"b0undary";

    /// A part as the tests compare it: name, filename, content type, content.
    type Simple = (String, Option<String>, Option<String>, Vec<u8>);

    fn simple(parts: Vec<Part>) -> Vec<Simple> {
        parts
            .into_iter()
            .map(|p| (p.head.name, p.head.filename, p.head.content_type, p.data))
            .collect()
    }

    fn field(name: &str, data: &[u8]) -> Simple {
        (name.into(), None, None, data.to_vec())
    }

    fn ok(body: &[u8]) -> Vec<Simple> {
        simple(parse(B, body, MultipartLimits::default()).expect("parses"))
    }

    fn err(body: &[u8], limits: MultipartLimits) -> MultipartError {
        parse(B, body, limits).expect_err("fails")
    }

    /// Feeds `chunks` one after another and rebuilds the parts from the events, checking
    /// that the events come in a valid order.
    fn feed_chunks<'a>(
        chunks: impl IntoIterator<Item = &'a [u8]>,
        limits: MultipartLimits,
    ) -> Result<Vec<Simple>, MultipartError> {
        let mut parser = MultipartParser::new(B, limits);
        let mut parts: Vec<Simple> = Vec::new();
        let mut open = false;
        let mut ended = false;
        let mut drain = |parser: &mut MultipartParser, parts: &mut Vec<Simple>| {
            while let Some(event) = parser.next_event() {
                assert!(!ended, "event after End: {event:?}");
                match event {
                    Event::PartStart(h) => {
                        assert!(!open);
                        open = true;
                        parts.push((h.name, h.filename, h.content_type, Vec::new()));
                    }
                    Event::Data(d) => {
                        assert!(open && !d.is_empty());
                        parts.last_mut().unwrap().3.extend_from_slice(&d);
                    }
                    Event::PartEnd => {
                        assert!(open);
                        open = false;
                    }
                    Event::End => {
                        assert!(!open);
                        ended = true;
                    }
                }
            }
        };
        for chunk in chunks {
            parser.feed(chunk)?;
            drain(&mut parser, &mut parts);
        }
        parser.finish()?;
        drain(&mut parser, &mut parts);
        assert!(ended);
        Ok(parts)
    }

    const SAMPLE: &[u8] = b"preamble to ignore\r\n\
        --b0undary\r\n\
        Content-Disposition: form-data; name=\"a\"\r\n\
        \r\n\
        one\r\n\
        --b0undary  \t\r\n\
        content-disposition: form-data; name=\"up\"; filename=\"x \\\"y\\\".txt\"\r\n\
        Content-Type: text/plain\r\n\
        X-Extra: 1\r\n\
        \r\n\
        line1\r\n--b0und\r\n-- not a boundary\r\r\n\r\n\
        --b0undary\r\n\
        Content-Disposition: form-data; name=\"empty\"\r\n\
        \r\n\
        \r\n\
        --b0undary--\r\n\
        epilogue --b0undary\r\n garbage";

    fn sample_parts() -> Vec<Simple> {
        vec![
            field("a", b"one"),
            (
                "up".into(),
                Some("x \"y\".txt".into()),
                Some("text/plain".into()),
                b"line1\r\n--b0und\r\n-- not a boundary\r\r\n".to_vec(),
            ),
            field("empty", b""),
        ]
    }

    #[test]
    fn parses_fields_and_files_ignoring_preamble_and_epilogue() {
        assert_eq!(ok(SAMPLE), sample_parts());
        let parts = parse(B, SAMPLE, MultipartLimits::default()).unwrap();
        assert_eq!(
            parts[1].head.headers,
            vec![
                (
                    "content-disposition".to_string(),
                    b"form-data; name=\"up\"; filename=\"x \\\"y\\\".txt\"".to_vec()
                ),
                ("content-type".to_string(), b"text/plain".to_vec()),
                ("x-extra".to_string(), b"1".to_vec()),
            ]
        );
    }

    #[test]
    fn body_may_open_with_the_boundary_and_have_no_parts() {
        let body = b"--b0undary\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b0undary--";
        assert_eq!(ok(body), vec![field("x", b"1")]);
        assert_eq!(ok(b"--b0undary--\r\n"), vec![]);
        // "--b0undary" inside the preamble only counts after a CRLF.
        let body = b"x--b0undary\r\n--b0undary\r\nContent-Disposition: form-data; name=y\r\n\r\n\r\n--b0undary--";
        assert_eq!(ok(body), vec![field("y", b"")]);
    }

    #[test]
    fn split_at_every_byte() {
        let expected = sample_parts();
        for i in 0..=SAMPLE.len() {
            let got = feed_chunks([&SAMPLE[..i], &SAMPLE[i..]], MultipartLimits::default());
            assert_eq!(got.as_ref(), Ok(&expected), "split at {i}");
        }
        for i in 0..=SAMPLE.len() {
            for j in i..=SAMPLE.len().min(i + 20) {
                let chunks = [&SAMPLE[..i], &SAMPLE[i..j], &SAMPLE[j..]];
                let got = feed_chunks(chunks, MultipartLimits::default());
                assert_eq!(got.as_ref(), Ok(&expected), "split at {i} and {j}");
            }
        }
        let bytes = SAMPLE.chunks(1);
        assert_eq!(feed_chunks(bytes, MultipartLimits::default()), Ok(expected));
    }

    /// xorshift64*: a tiny deterministic generator, enough to shuffle test inputs.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn randomized_bodies_and_splits() {
        // Content is drawn mostly from bytes that make up delimiters, so near-misses
        // ("\r\n--b0undar", "\r\r\n--b0") are common.
        const ALPHABET: &[u8] = b"\r\n-b0undary\r\n--x\xff\x00";
        let delimiter = b"\r\n--b0undary";
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..400 {
            let mut expected: Vec<Simple> = Vec::new();
            let mut body = Vec::new();
            if rng.below(2) == 0 {
                body.extend_from_slice(b"some preamble\r\n");
            }
            for p in 0..rng.below(5) {
                let mut data: Vec<u8>;
                loop {
                    let max_len = if rng.below(4) == 0 { 3000 } else { 40 };
                    let len = rng.below(max_len);
                    data = (0..len)
                        .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                        .collect();
                    // Content that holds the delimiter (or ends where one could begin) is not
                    // a valid body; draw again.
                    let mut framed = data.clone();
                    framed.extend_from_slice(b"\r\n");
                    if !framed.windows(delimiter.len()).any(|w| w == delimiter)
                        && !data.starts_with(&delimiter[2..])
                    {
                        break;
                    }
                }
                let name = format!("f{p}");
                let filename = (rng.below(2) == 0).then(|| format!("file{p}.bin"));
                body.extend_from_slice(b"--b0undary\r\nContent-Disposition: form-data; name=\"");
                body.extend_from_slice(name.as_bytes());
                body.push(b'"');
                if let Some(f) = &filename {
                    body.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
                }
                body.extend_from_slice(b"\r\n\r\n");
                body.extend_from_slice(&data);
                body.extend_from_slice(b"\r\n");
                expected.push((name, filename, None, data));
            }
            body.extend_from_slice(b"--b0undary--");
            if rng.below(2) == 0 {
                body.extend_from_slice(b"\r\nepilogue");
            }
            for _ in 0..8 {
                let mut chunks = Vec::new();
                let mut rest = &body[..];
                while !rest.is_empty() {
                    let max_chunk = if rng.below(2) == 0 { 8 } else { 500 };
                    let n = 1 + rng.below(rest.len().min(max_chunk));
                    chunks.push(&rest[..n]);
                    rest = &rest[n..];
                }
                let got = feed_chunks(chunks, MultipartLimits::default());
                assert_eq!(got.as_ref(), Ok(&expected), "round {round}");
            }
        }
    }

    #[test]
    fn missing_final_boundary_is_400() {
        let limits = MultipartLimits::default;
        let body = b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n\r\nabc\r\n";
        let e = err(body, limits());
        assert_eq!((e.status(), e.is_limit()), (400, false));
        assert!(e.message().contains("closing boundary"), "{e}");
        assert_eq!(
            err(b"", limits()).message(),
            "no boundary found in the body"
        );
        assert_eq!(err(b"just text", limits()).status(), 400);
        // A truncated header block, and a truncated closing boundary.
        assert_eq!(err(b"--b0undary\r\nContent-Disp", limits()).status(), 400);
        assert_eq!(err(b"--b0undary-", limits()).status(), 400);
    }

    #[test]
    fn malformed_bodies_are_400() {
        let cases: &[&[u8]] = &[
            // Something other than CRLF or "--" after a boundary.
            b"--b0undaryX\r\n\r\n--b0undary--",
            b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b0undary-x",
            // No headers at all, no Content-Disposition, no name, not form-data.
            b"--b0undary\r\n\r\nx\r\n--b0undary--",
            b"--b0undary\r\nContent-Type: text/plain\r\n\r\nx\r\n--b0undary--",
            b"--b0undary\r\nContent-Disposition: form-data; filename=a\r\n\r\nx\r\n--b0undary--",
            b"--b0undary\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b0undary--",
            // Broken header lines and an unterminated quoted string.
            b"--b0undary\r\nno colon here\r\n\r\nx\r\n--b0undary--",
            b"--b0undary\r\nBad Name: 1\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b0undary--",
            b"--b0undary\r\n Content-Disposition: form-data; name=a\r\n\r\n\r\n--b0undary--",
            b"--b0undary\r\nX: a\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b0undary--",
            b"--b0undary\r\nContent-Disposition: form-data; name=\"a\r\n\r\n\r\n--b0undary--",
        ];
        for body in cases {
            let e = err(body, MultipartLimits::default());
            assert_eq!(e.status(), 400, "{:?}: {e}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn errors_stick() {
        let mut parser = MultipartParser::new(B, MultipartLimits::default());
        let e = parser.feed(b"--b0undary!").unwrap_err();
        assert_eq!(parser.feed(b"\r\n"), Err(e.clone()));
        assert_eq!(parser.finish(), Err(e));
    }

    #[test]
    fn too_many_parts_is_413() {
        let mut body = Vec::new();
        for _ in 0..3 {
            body.extend_from_slice(
                b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n",
            );
        }
        body.extend_from_slice(b"--b0undary--");
        let limits = |max_parts| MultipartLimits {
            max_parts,
            ..MultipartLimits::default()
        };
        assert_eq!(parse(B, &body, limits(3)).unwrap().len(), 3);
        let e = err(&body, limits(2));
        assert_eq!((e.status(), e.is_limit()), (413, true));
        assert_eq!(e.message(), "too many parts (the limit is 2)");
    }

    #[test]
    fn large_headers_are_413() {
        let body = b"--b0undary\r\nContent-Disposition: form-data; name=a\r\nX-Pad: 0123456789\r\n\r\n\r\n--b0undary--";
        let head_len = b"Content-Disposition: form-data; name=a\r\nX-Pad: 0123456789".len();
        let limits = |max_part_header_bytes| MultipartLimits {
            max_part_header_bytes,
            ..MultipartLimits::default()
        };
        assert!(parse(B, body, limits(head_len)).is_ok());
        assert_eq!(err(body, limits(head_len - 1)).status(), 413);
        // Also when the blank line has not arrived yet, and when fed byte by byte.
        assert_eq!(err(&body[..60], limits(20)).status(), 413);
        assert_eq!(
            feed_chunks(body.chunks(1), limits(20))
                .unwrap_err()
                .status(),
            413
        );
        assert!(feed_chunks(body.chunks(1), limits(head_len)).is_ok());
    }

    #[test]
    fn large_fields_are_413_but_files_are_not_limited() {
        let field_body = b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n\r\n0123456789\r\n--b0undary--";
        let file_body = b"--b0undary\r\nContent-Disposition: form-data; name=a; filename=f\r\n\r\n0123456789\r\n--b0undary--";
        let limits = |max_field_bytes| MultipartLimits {
            max_field_bytes,
            ..MultipartLimits::default()
        };
        assert!(parse(B, field_body, limits(10)).is_ok());
        let e = err(field_body, limits(9));
        assert_eq!(e.status(), 413);
        assert_eq!(
            e.message(),
            "a form field is too large (the limit is 9 bytes)"
        );
        assert_eq!(
            feed_chunks(field_body.chunks(3), limits(9))
                .unwrap_err()
                .status(),
            413
        );
        assert!(parse(B, file_body, limits(1)).is_ok());
    }

    #[test]
    fn content_disposition_parameters() {
        let head = |disposition: &str| {
            let block = format!("Content-Disposition: {disposition}");
            parse_head(block.as_bytes())
        };
        let h = head(r#"form-data; name="a b"; filename="C:\dir\x.txt""#).unwrap();
        assert_eq!(
            (h.name.as_str(), h.filename.as_deref()),
            ("a b", Some("x.txt"))
        );
        let h = head(r#"form-data; name=plain; filename="back\slash \\ \"q\"""#).unwrap();
        assert_eq!(h.name, "plain");
        assert_eq!(h.filename.as_deref(), Some(r#"back\slash \ "q""#));
        // filename* wins over filename, wherever it comes; both charsets.
        let h = head("form-data; filename*=UTF-8''%E2%82%AC%20rates.txt; name=\"f\"; filename=\"EUR rates.txt\"").unwrap();
        assert_eq!(h.filename.as_deref(), Some("€ rates.txt"));
        let h = head("form-data; name=f; filename*=iso-8859-1'en'%E9t%E9.txt").unwrap();
        assert_eq!(h.filename.as_deref(), Some("été.txt"));
        for hostile in [
            "form-data; name=f; filename*=UTF-8''a%00.php",
            "form-data; name=f; filename*=UTF-8''a%0D%0Ab",
            "form-data; name=f; filename*=UTF-8''a%C2%85b",
            "form-data; name=f; filename=\"a\x7fb\"",
        ] {
            let e = head(hostile).unwrap_err();
            assert!(
                e.to_string().contains("control character"),
                "{hostile}: {e}"
            );
        }
        let h = head("form-data; name*=utf-8''%C3%B1; filename=\"\"").unwrap();
        assert_eq!((h.name.as_str(), h.filename.as_deref()), ("ñ", Some("")));
        // Raw UTF-8 in a quoted value (what browsers send), case-insensitive names, a
        // semicolon inside quotes, valueless and empty parameters.
        let h = head("Form-Data;NAME=\"é;x\" ; bare; FileName = \"a;b.txt\";;").unwrap();
        assert_eq!(
            (h.name.as_str(), h.filename.as_deref()),
            ("é;x", Some("a;b.txt"))
        );
    }

    #[test]
    fn folded_header_lines_are_joined() {
        let h = parse_head(
            b"Content-Disposition: form-data;\r\n\tname=\"a\"\r\nContent-Type:  text/csv ",
        )
        .unwrap();
        assert_eq!(h.name, "a");
        assert_eq!(h.content_type.as_deref(), Some("text/csv"));
    }

    #[test]
    fn boundary_from_content_types() {
        let b = |ct: &str| boundary_from_content_type(ct.as_bytes());
        assert_eq!(
            b("multipart/form-data; boundary=abc"),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            b("Multipart/Form-Data;BOUNDARY=\"a b;c\""),
            Some(b"a b;c".to_vec())
        );
        assert_eq!(
            b("multipart/mixed; charset=x; boundary=--x--"),
            Some(b"--x--".to_vec())
        );
        assert_eq!(b("multipart/form-data"), None);
        assert_eq!(b("multipart/form-data; boundary="), None);
        assert_eq!(b("multipart/form-data; boundary=\"\""), None);
        assert_eq!(b("application/json; boundary=abc"), None);
        assert_eq!(b("multi"), None);
        assert_eq!(
            b(&format!(
                "multipart/form-data; boundary={}",
                "x".repeat(251)
            )),
            None
        );
        assert_eq!(b("multipart/form-data; boundary=\"unterminated"), None);
    }

    #[test]
    fn search_helpers() {
        let p = MultipartParser::new(B, MultipartLimits::default());
        assert_eq!(p.find_delimiter(b"ab\r\n--b0undary"), Some(2));
        assert_eq!(p.find_delimiter(b"\r\n--b0undar"), None);
        assert_eq!(p.find_delimiter(b"\r\n--b0undar\r\n--b0undaryy"), Some(11));
        assert_eq!(p.partial_delimiter(b"abc\r\n--b0"), 6);
        assert_eq!(p.partial_delimiter(b"abc\r"), 1);
        assert_eq!(p.partial_delimiter(b"abc\r\n-x"), 0);
        assert_eq!(p.partial_delimiter(b""), 0);
    }

    #[test]
    #[should_panic(expected = "boundary")]
    fn empty_boundary_panics() {
        MultipartParser::new(b"", MultipartLimits::default());
    }
}
