//! Handing ready bytes to a non-blocking socket now, without an event loop: a response's
//! head and body in one `sendmsg(2)`, for as long as the kernel takes them. What it does not
//! take is the caller's to queue; an error is the caller's to report (the binding lets its
//! transport meet it, so a connection is never torn down from two places).

use std::io;
use std::os::fd::RawFd;

/// Most parts one call sends (a head and a body, or a few chunks).
const MAX_PARTS: usize = 4;

/// Sends what it can of `parts`, in order, on the non-blocking socket `fd`: the count of bytes
/// sent, 0 when the socket is full. Never raises SIGPIPE (`MSG_NOSIGNAL`).
pub fn send_parts(fd: RawFd, parts: &[&[u8]]) -> io::Result<usize> {
    send_parts_flagged(fd, parts, 0)
}

/// `send_parts` with extra `sendmsg` flags (`MSG_MORE`: further bytes follow at once).
pub fn send_parts_flagged(fd: RawFd, parts: &[&[u8]], flags: i32) -> io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_PARTS];
    let mut count = 0;
    for part in parts.iter().filter(|p| !p.is_empty()) {
        if count == MAX_PARTS {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        iov[count] = libc::iovec {
            iov_base: part.as_ptr() as *mut libc::c_void,
            iov_len: part.len(),
        };
        count += 1;
    }
    if count == 0 {
        return Ok(0);
    }
    // SAFETY: a zeroed msghdr is valid (no name, no control data); its iovecs point into live
    // slices of the lengths given, and the kernel only reads them.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = count as _;
    loop {
        // SAFETY: `msg` is a valid msghdr for the duration of the call.
        let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL | flags) };
        if n >= 0 {
            return Ok(n as usize);
        }
        match io::Error::last_os_error() {
            e if e.kind() == io::ErrorKind::Interrupted => continue,
            e if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            e => return Err(e),
        }
    }
}

/// The bytes of `parts` left after the first `sent`, in order (for the caller's queue).
pub fn rest_of<'a>(parts: &[&'a [u8]], mut sent: usize) -> Vec<&'a [u8]> {
    let mut rest = Vec::with_capacity(parts.len());
    for part in parts {
        if sent >= part.len() {
            sent -= part.len();
        } else {
            rest.push(&part[sent..]);
            sent = 0;
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn parts_leave_in_order_until_the_socket_is_full() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        assert_eq!(
            send_parts(a.as_raw_fd(), &[b"HEAD ", b"", b"body"]).unwrap(),
            9
        );
        let big = vec![7u8; 8 << 20];
        let sent = send_parts(a.as_raw_fd(), &[b"x", &big]).unwrap();
        assert!(sent > 1 && sent < big.len() + 1);
        assert_eq!(send_parts(a.as_raw_fd(), &[b"y"]).unwrap(), 0);
        drop(a);
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        assert_eq!(&got[..10], b"HEAD bodyx");
        assert_eq!(got.len(), 9 + sent);
    }

    #[test]
    fn an_error_is_returned_not_raised() {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        drop(b);
        assert!(send_parts(a.as_raw_fd(), &[b"gone"]).is_err());
    }

    #[test]
    fn the_rest_skips_what_was_sent() {
        let parts: [&[u8]; 3] = [b"abc", b"de", b"fgh"];
        assert_eq!(rest_of(&parts, 0), parts.to_vec());
        assert_eq!(rest_of(&parts, 4), vec![&b"e"[..], &b"fgh"[..]]);
        assert_eq!(rest_of(&parts, 5), vec![&b"fgh"[..]]);
        assert!(rest_of(&parts, 8).is_empty());
    }
}
