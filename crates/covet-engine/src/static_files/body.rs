//! The body of a static answer: pieces of bytes (cached file contents, multipart framing) and
//! byte ranges of an open file, read on demand in chunks so a large file never sits in memory.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// One piece of a body.
#[derive(Debug, Clone)]
pub enum Piece {
    /// Bytes made for this answer (multipart boundaries, a short text).
    Owned(Vec<u8>),
    /// A slice `[start, end)` of bytes shared with the cache.
    Shared(Arc<[u8]>, usize, usize),
    /// `len` bytes of the body's file from `offset`.
    File {
        /// Where the bytes start in the file.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Owned(v) => v.len() as u64,
            Piece::Shared(_, s, e) => (e - s) as u64,
            Piece::File { len, .. } => *len,
        }
    }
}

/// A body of a known length, read front to back.
#[derive(Debug, Default)]
pub struct Body {
    pieces: Vec<Piece>,
    file: Option<File>,
    length: u64,
    /// The piece being read and how far into it.
    at: (usize, u64),
}

impl Body {
    /// A body of these pieces; `file` is the file their `File` pieces read from.
    pub fn new(pieces: Vec<Piece>, file: Option<File>) -> Self {
        let length = pieces.iter().map(Piece::len).sum();
        Body {
            pieces,
            file,
            length,
            at: (0, 0),
        }
    }

    /// A short text body.
    pub fn text(text: &str) -> Self {
        Body::new(vec![Piece::Owned(text.as_bytes().to_vec())], None)
    }

    /// How many bytes the whole body has (its `Content-Length`).
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether the body has no bytes.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The file and the span of it when the whole body, unread, is that one span of its file
    /// (a whole file or one range not held in memory): what may go out by `sendfile`.
    pub fn file_span(&self) -> Option<(&File, u64, u64)> {
        match (self.pieces.as_slice(), &self.file, self.at) {
            ([Piece::File { offset, len }], Some(file), (0, 0)) => Some((file, *offset, *len)),
            _ => None,
        }
    }

    /// Skips `n` bytes (sent some other way).
    pub fn advance(&mut self, mut n: u64) {
        while n > 0 {
            let Some(piece) = self.pieces.get(self.at.0) else {
                return;
            };
            let step = (piece.len() - self.at.1).min(n);
            n -= step;
            self.at.1 += step;
            if self.at.1 == piece.len() {
                self.at = (self.at.0 + 1, 0);
            }
        }
    }

    /// Fills `buf` with the next bytes of the body and returns how many it wrote: `buf.len()`
    /// unless the body ends first (0 at its end). A file that shrank meanwhile is an error.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let Some(piece) = self.pieces.get(self.at.0) else {
                break;
            };
            let left = piece.len() - self.at.1;
            let take = left.min((buf.len() - filled) as u64) as usize;
            let dest = &mut buf[filled..filled + take];
            match piece {
                Piece::Owned(v) => dest.copy_from_slice(&v[self.at.1 as usize..][..take]),
                Piece::Shared(data, start, _) => {
                    dest.copy_from_slice(&data[start + self.at.1 as usize..][..take])
                }
                Piece::File { offset, .. } => {
                    let file = self.file.as_ref().ok_or(io::ErrorKind::NotFound)?;
                    file.read_exact_at(dest, offset + self.at.1)?;
                }
            }
            filled += take;
            self.at.1 += take as u64;
            if self.at.1 == piece.len() {
                self.at = (self.at.0 + 1, 0);
            }
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pieces_in_chunks() {
        let path = std::env::temp_dir().join(format!("covet-body-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let shared: Arc<[u8]> = Arc::from(&b"abcdef"[..]);
        let mut body = Body::new(
            vec![
                Piece::Owned(b"<".to_vec()),
                Piece::File { offset: 2, len: 5 },
                Piece::Shared(shared, 1, 3),
                Piece::Owned(b">".to_vec()),
            ],
            Some(File::open(&path).unwrap()),
        );
        assert_eq!(body.len(), 9);
        let mut out = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            let n = body.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"<23456bc>");
        std::fs::remove_file(path).unwrap();
    }
}
