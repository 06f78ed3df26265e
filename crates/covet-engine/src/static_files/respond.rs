//! From an opened file to an [`Answer`]: the representation chosen (a precompressed sibling),
//! its headers, the preconditions, and the ranges.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::body::{Body, Piece};
use super::cache::Version;
use super::conditional::{Validators, Verdict};
use super::range::{self, Ranges};
use super::{mime, path, Asked, StaticDir};

/// The response to a static request: what the binding writes. `Content-Length` and `Date`
/// are the writer's (the length is the body's).
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Header fields, names in lower case.
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// The body (the writer leaves it out for HEAD and 304).
    pub body: Body,
}

impl Answer {
    fn text(status: u16, text: &str) -> Self {
        Answer {
            status,
            headers: vec![("content-type", b"text/plain; charset=utf-8".to_vec())],
            body: Body::text(text),
        }
    }

    /// 404, with nothing said about what is there.
    pub fn not_found() -> Self {
        Answer::text(404, "Not Found")
    }

    /// 405 for anything but GET and HEAD.
    pub fn method_not_allowed() -> Self {
        let mut answer = Answer::text(405, "Method Not Allowed");
        answer.headers.push(("allow", b"GET, HEAD".to_vec()));
        answer
    }

    /// 307 to the directory's path with its trailing slash (html mode).
    pub fn redirect_slash(full_path: &str, query: &[u8]) -> Self {
        let mut location = format!("{full_path}/").into_bytes();
        if !query.is_empty() {
            location.push(b'?');
            location.extend_from_slice(query);
        }
        Answer {
            status: 307,
            headers: vec![("location", location)],
            body: Body::default(),
        }
    }

    fn empty(status: u16, headers: Vec<(&'static str, Vec<u8>)>) -> Self {
        Answer {
            status,
            headers,
            body: Body::default(),
        }
    }
}

/// The encodings a precompressed sibling may have, in order of preference.
const SIBLINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

impl StaticDir {
    /// Answers with the regular file `rel` of root `root`, opened as `file`.
    pub(super) fn respond_file(
        &self,
        asked: &Asked<'_>,
        root: usize,
        rel: &str,
        file: File,
        meta: Metadata,
        status: u16,
    ) -> Answer {
        let mut chosen = (file, meta, "");
        let mut vary = false;
        if self.options.precompressed && status == 200 {
            if let Some(accepted) = asked.accept_encoding {
                for (encoding, ext) in SIBLINGS {
                    if !accepts(accepted, encoding) {
                        continue;
                    }
                    vary = true;
                    if let Some((f, m)) = self.open_file_in(root, &format!("{rel}{ext}")) {
                        chosen = (f, m, ext);
                        break;
                    }
                }
            }
        }
        let (file, meta, ext) = chosen;
        let encoding = SIBLINGS
            .iter()
            .find(|(_, e)| *e == ext)
            .map(|(enc, _)| *enc);
        let cache_control = self
            .options
            .cache_control
            .iter()
            .find(|(p, _)| path::glob_match(p, rel))
            .map(|(_, value)| value.clone().into_bytes());
        let key = format!("{root}:{rel}{ext}");
        let content = self.content(&key, &file, &meta);
        let representation = Representation {
            content_type: mime::content_type(rel).as_bytes().to_vec(),
            encoding,
            cache_control,
            vary,
            content,
        };
        representation.answer(asked, file, meta, status)
    }

    /// The file's bytes from the cache (read into it on a miss) when it is small enough.
    fn content(&self, key: &str, file: &File, meta: &Metadata) -> Option<Arc<[u8]>> {
        if !self.cache.admits(meta.size()) {
            return None;
        }
        let version = Version {
            dev_ino: (meta.dev(), meta.ino()),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            size: meta.size(),
        };
        if let Some(data) = self.cache.get(key, &version) {
            return Some(data);
        }
        let mut data = vec![0u8; meta.size() as usize];
        std::os::unix::fs::FileExt::read_exact_at(file, &mut data, 0).ok()?;
        let data: Arc<[u8]> = Arc::from(data);
        self.cache.put(key, version, data.clone());
        Some(data)
    }
}

/// What describes the bytes sent for a file (beyond its validators, which come from its
/// metadata): shared by a static directory's files and a single `FileResponse` file.
#[derive(Debug, Default)]
pub struct Representation {
    /// `Content-Type` (also each part's in a multipart answer).
    pub content_type: Vec<u8>,
    /// `Content-Encoding` of a precompressed sibling.
    pub encoding: Option<&'static str>,
    /// `Cache-Control`, sent with the validators (304 too).
    pub cache_control: Option<Vec<u8>>,
    /// Whether `Vary: Accept-Encoding` is said.
    pub vary: bool,
    /// The file's bytes when they are in memory already.
    pub content: Option<Arc<[u8]>>,
}

impl Representation {
    /// The answer with `file` (a regular file, `meta` its metadata) to `asked`: 304/412 by
    /// the preconditions, then 200, 206 (one range or multipart) or 416 by `Range`. A status
    /// other than 200 is sent as is, with the whole file and no precondition or range applied.
    pub fn answer(self, asked: &Asked<'_>, file: File, meta: Metadata, status: u16) -> Answer {
        let validators = Validators::new(meta.mtime().max(0) as u64, meta.size());
        let mut headers = vec![("content-type", self.content_type)];
        if let Some(encoding) = self.encoding {
            headers.push(("content-encoding", encoding.as_bytes().to_vec()));
        }
        let mut validating = vec![
            ("etag", validators.etag.clone().into_bytes()),
            ("last-modified", validators.last_modified().to_vec()),
        ];
        if let Some(value) = self.cache_control {
            validating.push(("cache-control", value));
        }
        if self.vary {
            validating.push(("vary", b"Accept-Encoding".to_vec()));
        }
        let len = meta.size();
        let content = self.content;
        if status != 200 {
            headers.extend(validating);
            return Answer {
                status,
                headers,
                body: whole(content, file, len),
            };
        }
        // A FileResponse may answer any method: only GET and HEAD get 304 and ranges.
        let safe = matches!(asked.method, "GET" | "HEAD");
        let ranges_apply = match validators.evaluate(&asked.conditions, safe) {
            Verdict::NotModified => return Answer::empty(304, validating),
            Verdict::PreconditionFailed => return Answer::empty(412, Vec::new()),
            Verdict::Serve { ranges_apply } => ranges_apply && safe,
        };
        headers.extend(validating);
        let ranges = match asked.range {
            Some(h) if ranges_apply => range::parse(h, len),
            _ => Ranges::Full,
        };
        match ranges {
            Ranges::Full => {
                // Said on whole answers only, as nginx does: a 206 shows it already.
                headers.push(("accept-ranges", b"bytes".to_vec()));
                Answer {
                    status: 200,
                    headers,
                    body: whole(content, file, len),
                }
            }
            Ranges::Unsatisfiable => {
                headers.retain(|(n, _)| *n != "content-type" && *n != "content-encoding");
                headers.push(("content-range", format!("bytes */{len}").into_bytes()));
                Answer::empty(416, headers)
            }
            Ranges::Partial(spans) if spans.len() == 1 => {
                let (start, end) = spans[0];
                headers.push(("content-range", content_range(start, end, len).into_bytes()));
                let piece = piece(&content, start, end);
                Answer {
                    status: 206,
                    headers,
                    body: Body::new(vec![piece], Some(file)),
                }
            }
            Ranges::Partial(spans) => multipart(headers, content, file, len, &spans),
        }
    }
}

/// The answer with the file at `path` (a `FileResponse`): its validators, `Range` and the
/// preconditions as for a static directory's file. Fails when it is missing or not a file.
pub fn answer_file(
    path: &Path,
    content_type: Vec<u8>,
    asked: &Asked<'_>,
    status: u16,
) -> io::Result<Answer> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file", path.display()),
        ));
    }
    let representation = Representation {
        content_type,
        ..Default::default()
    };
    Ok(representation.answer(asked, file, meta, status))
}

/// `[start, end)` of the file, from the cached bytes when there are some.
fn piece(content: &Option<Arc<[u8]>>, start: u64, end: u64) -> Piece {
    match content {
        Some(data) => Piece::Shared(data.clone(), start as usize, end as usize),
        None => Piece::File {
            offset: start,
            len: end - start,
        },
    }
}

fn whole(content: Option<Arc<[u8]>>, file: File, len: u64) -> Body {
    Body::new(vec![piece(&content, 0, len)], Some(file))
}

fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{}/{len}", end - 1)
}

/// 206 with a `multipart/byteranges` body, one part per range (RFC 9110 §14.6).
fn multipart(
    mut headers: Vec<(&'static str, Vec<u8>)>,
    content: Option<Arc<[u8]>>,
    file: File,
    len: u64,
    spans: &[(u64, u64)],
) -> Answer {
    let boundary = boundary();
    let part_type = headers
        .iter()
        .find(|(n, _)| *n == "content-type")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    let mut pieces = Vec::with_capacity(spans.len() * 2 + 1);
    for &(start, end) in spans {
        let head = format!(
            "\r\n--{boundary}\r\ncontent-type: {part_type}\r\ncontent-range: {}\r\n\r\n",
            content_range(start, end, len)
        );
        pieces.push(Piece::Owned(head.into_bytes()));
        pieces.push(piece(&content, start, end));
    }
    pieces.push(Piece::Owned(format!("\r\n--{boundary}--\r\n").into_bytes()));
    for (name, value) in headers.iter_mut() {
        if *name == "content-type" {
            *value = format!("multipart/byteranges; boundary={boundary}").into_bytes();
        }
    }
    Answer {
        status: 206,
        headers,
        body: Body::new(pieces, Some(file)),
    }
}

/// A boundary no two answers of this process share.
fn boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "covet{:016x}{:08x}",
        t ^ (std::process::id() as u64) << 32,
        n
    )
}

/// Whether an `Accept-Encoding` value accepts `encoding` (by name or `*`, with a q above 0).
pub(super) fn accepts(header: &[u8], encoding: &str) -> bool {
    let Ok(text) = std::str::from_utf8(header) else {
        return false;
    };
    text.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        if !(name.eq_ignore_ascii_case(encoding) || name == "*") {
            return false;
        }
        parts.all(|p| match p.trim().split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => {
                v.trim().parse::<f32>().map(|q| q > 0.0).unwrap_or(false)
            }
            _ => true,
        })
    })
}
