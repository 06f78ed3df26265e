//! Writing a file to a non-blocking socket without copying it through user space: the head
//! with `MSG_MORE` (it leaves in the same segment as the file's first bytes, as nginx's
//! `tcp_nopush`), then `sendfile(2)` for as long as the socket takes bytes.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

/// Sends what it can of `bytes` on the non-blocking socket `fd` now: the count sent (0 when the
/// socket is full). `more` says further bytes follow at once.
pub fn send_now(fd: RawFd, bytes: &[u8], more: bool) -> io::Result<usize> {
    let flags = if more { libc::MSG_MORE } else { 0 };
    crate::socket::send_parts_flagged(fd, &[bytes], flags)
}

/// Sends `len` bytes of `file` from `offset` on the non-blocking socket `fd` until they are
/// all out or the socket is full: the count sent. A file shorter than promised is an error.
pub fn sendfile_now(fd: RawFd, file: &File, offset: u64, len: u64) -> io::Result<u64> {
    let mut sent = 0u64;
    while sent < len {
        let mut off = (offset + sent) as libc::off_t;
        let count = (len - sent).min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the call; `off` is a live off_t it updates.
        let n = unsafe { libc::sendfile(fd, file.as_raw_fd(), &mut off, count) };
        if n > 0 {
            sent += n as u64;
            continue;
        }
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        match io::Error::last_os_error() {
            e if e.kind() == io::ErrorKind::Interrupted => continue,
            e if e.kind() == io::ErrorKind::WouldBlock => break,
            e => return Err(e),
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    #[test]
    fn head_then_file_until_the_socket_is_full() {
        let path = std::env::temp_dir().join(format!("covet-zero-copy-{}", std::process::id()));
        let data: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        assert_eq!(send_now(a.as_raw_fd(), b"HEAD", true).unwrap(), 4);
        // Nobody reads: the socket fills before 4 MB, and the count says how far it got.
        let sent = sendfile_now(a.as_raw_fd(), &file, 10, data.len() as u64 - 10).unwrap();
        assert!(sent > 0 && sent < data.len() as u64 - 10);
        assert_eq!(send_now(a.as_raw_fd(), b"x", false).unwrap(), 0);
        drop(a);
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        assert_eq!(&got[..4], b"HEAD");
        assert_eq!(&got[4..], &data[10..10 + sent as usize]);
        std::fs::remove_file(path).unwrap();
    }
}
