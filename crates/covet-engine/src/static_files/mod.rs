//! Static files served by the engine: `StaticFiles` directories answered without Python.
//!
//! A request inside a static mount goes through, in order:
//! - [`path`]: the asked path becomes a relative path, refusing NUL, backslashes, `..` that
//!   leave the root and hidden names;
//! - [`open`]: the file is opened beneath the root (no symlink out unless allowed);
//! - [`conditional`]: `ETag`/`Last-Modified` and the `If-*` headers (304, 412, `If-Range`);
//! - [`range`]: `Range` into 206 (one range or `multipart/byteranges`) or 416;
//! - [`mime`]: the content type; [`cache`]: small files' bytes kept between requests;
//! - [`body`]: the bytes to send, read from the file on demand; [`zero_copy`]: a file sent
//!   from the kernel's page cache straight to the socket.
//!
//! The result is an [`Answer`] (status, headers, body) that the binding writes; the same
//! answer serves covet's server, the ASGI app under uvicorn and the test client.

pub mod body;
pub mod cache;
pub mod conditional;
pub mod mime;
pub mod open;
pub mod path;
pub mod range;
mod respond;
pub mod zero_copy;

use std::fs::File;
use std::io;
use std::path::PathBuf;

pub use body::{Body, Piece};
pub use respond::{answer_file, Answer, Representation};

use cache::FileCache;
use conditional::Conditions;

/// How a static directory serves.
#[derive(Debug, Clone)]
pub struct Options {
    /// `html=True`: a directory serves its `index.html`, a missing file `404.html`.
    pub html: bool,
    /// Symlinks may lead out of the directory.
    pub follow_symlink: bool,
    /// Hidden names (`.env`, `.git/`) are served (they are 404 by default).
    pub allow_hidden: bool,
    /// `x.br` / `x.gz` beside `x` are sent to clients that accept them.
    pub precompressed: bool,
    /// `Cache-Control` values by path pattern (see [`path::glob_match`]); the first match wins.
    pub cache_control: Vec<(String, String)>,
    /// Files up to this size are kept in memory.
    pub cache_max_file: u64,
    /// The memory budget of those files, in bytes.
    pub cache_max_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            html: false,
            follow_symlink: false,
            allow_hidden: false,
            precompressed: true,
            cache_control: Vec::new(),
            cache_max_file: 64 * 1024,
            cache_max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// One request as the static directory sees it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Asked<'a> {
    /// The method.
    pub method: &'a str,
    /// The path inside the mount, percent-decoded, starting with `/`.
    pub path: &'a str,
    /// The full path the client asked for (for the trailing-slash redirect).
    pub full_path: &'a str,
    /// The query string, kept on redirects.
    pub query: &'a [u8],
    /// `Range`.
    pub range: Option<&'a [u8]>,
    /// `Accept-Encoding`.
    pub accept_encoding: Option<&'a [u8]>,
    /// The conditional headers.
    pub conditions: Conditions<'a>,
}

impl<'a> Asked<'a> {
    /// Picks the headers that matter from `(lower-case name, value)` pairs.
    pub fn with_headers<I>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
    {
        for (name, value) in headers {
            let slot = match name {
                b"range" => &mut self.range,
                b"accept-encoding" => &mut self.accept_encoding,
                b"if-match" => &mut self.conditions.if_match,
                b"if-none-match" => &mut self.conditions.if_none_match,
                b"if-modified-since" => &mut self.conditions.if_modified_since,
                b"if-unmodified-since" => &mut self.conditions.if_unmodified_since,
                b"if-range" => &mut self.conditions.if_range,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        self
    }
}

/// A served root: its canonical path and an open descriptor to resolve beneath.
#[derive(Debug)]
struct Root {
    path: PathBuf,
    fd: File,
}

/// One `StaticFiles` app's directories (a `directory` and packages' `statics/`), searched in
/// order, with its options and its cache.
#[derive(Debug)]
pub struct StaticDir {
    roots: Vec<Root>,
    options: Options,
    cache: FileCache,
}

impl StaticDir {
    /// Opens the directories (each must exist and be a directory).
    pub fn new(directories: &[PathBuf], options: Options) -> io::Result<Self> {
        let roots = directories
            .iter()
            .map(|dir| {
                let path = dir.canonicalize()?;
                let fd = File::open(&path)?;
                if !fd.metadata()?.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotADirectory,
                        format!("{} is not a directory", dir.display()),
                    ));
                }
                Ok(Root { path, fd })
            })
            .collect::<io::Result<Vec<_>>>()?;
        let cache = FileCache::new(options.cache_max_file, options.cache_max_bytes);
        Ok(StaticDir {
            roots,
            options,
            cache,
        })
    }

    /// The options it serves with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Opens `rel` in the first root that has it.
    fn open(&self, rel: &str) -> Option<(usize, File, std::fs::Metadata)> {
        self.roots.iter().enumerate().find_map(|(i, root)| {
            let file =
                open::open_beneath(&root.path, &root.fd, rel, self.options.follow_symlink).ok()?;
            let meta = file.metadata().ok()?;
            Some((i, file, meta))
        })
    }

    /// Opens `rel` in root `i` if it is a regular file.
    fn open_file_in(&self, i: usize, rel: &str) -> Option<(File, std::fs::Metadata)> {
        let root = &self.roots[i];
        let file =
            open::open_beneath(&root.path, &root.fd, rel, self.options.follow_symlink).ok()?;
        let meta = file.metadata().ok()?;
        meta.is_file().then_some((file, meta))
    }

    /// The answer to one request.
    pub fn answer(&self, asked: &Asked<'_>) -> Answer {
        if asked.method != "GET" && asked.method != "HEAD" {
            return Answer::method_not_allowed();
        }
        let Ok(rel) = path::relative(asked.path, self.options.allow_hidden) else {
            return self.not_found(asked);
        };
        match self.open(&rel) {
            Some((i, file, meta)) if meta.is_file() => {
                self.respond_file(asked, i, &rel, file, meta, 200)
            }
            Some((i, _, meta)) if meta.is_dir() && self.options.html => {
                let index = if rel.is_empty() {
                    "index.html".to_owned()
                } else {
                    format!("{rel}/index.html")
                };
                match self.open_file_in(i, &index) {
                    Some(_) if !asked.full_path.ends_with('/') => {
                        Answer::redirect_slash(asked.full_path, asked.query)
                    }
                    Some((file, meta)) => self.respond_file(asked, i, &index, file, meta, 200),
                    None => self.not_found(asked),
                }
            }
            _ => self.not_found(asked),
        }
    }

    /// 404: the directory's `404.html` in html mode, else a short text.
    fn not_found(&self, asked: &Asked<'_>) -> Answer {
        if self.options.html {
            if let Some((i, file, meta)) = self.open("404.html").filter(|(_, _, m)| m.is_file()) {
                let plain = Asked {
                    conditions: Conditions::default(),
                    range: None,
                    ..*asked
                };
                return self.respond_file(&plain, i, "404.html", file, meta, 404);
            }
        }
        Answer::not_found()
    }
}

#[cfg(test)]
mod tests;
