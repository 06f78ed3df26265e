//! Opening a file beneath the served directory without following a symlink out of it.
//!
//! On Linux 5.6+ one `openat2(RESOLVE_BENEATH)` call relative to the directory's descriptor asks
//! the kernel to refuse any resolution leaving it (a `..` reached through a symlink, a symlink to
//! elsewhere). Where that call is missing, or refuses an absolute symlink that in fact stays
//! inside, the path is canonicalised and checked against the canonical root instead.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `rel` (already free of `..`, see [`super::path::relative`]) beneath `root` read-only.
/// With `follow_symlink`, symlinks may lead anywhere (Starlette's option of that name).
pub fn open_beneath(
    root: &Path,
    root_fd: &File,
    rel: &str,
    follow_symlink: bool,
) -> io::Result<File> {
    let target = root.join(rel);
    if follow_symlink {
        return File::open(target);
    }
    match openat2_beneath(root_fd, rel) {
        Ok(file) => Ok(file),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EXDEV) | Some(libc::ENOSYS) | Some(libc::EPERM)
            ) =>
        {
            let real = target.canonicalize()?;
            if real.starts_with(root) {
                File::open(real)
            } else {
                Err(io::Error::from(io::ErrorKind::PermissionDenied))
            }
        }
        Err(e) => Err(e),
    }
}

#[cfg(target_os = "linux")]
fn openat2_beneath(root_fd: &File, rel: &str) -> io::Result<File> {
    use std::ffi::CString;
    use std::os::fd::{AsRawFd, FromRawFd};

    let rel = if rel.is_empty() { "." } else { rel };
    let c_rel = CString::new(rel).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `c_rel` is a NUL-terminated string and `how` a fully initialised `open_how` that
    // both outlive the call; the size passed is that struct's. A non-negative return is a new
    // descriptor that nothing else owns, so `File` may take it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root_fd.as_raw_fd(),
            c_rel.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { File::from_raw_fd(fd as i32) })
}

#[cfg(not(target_os = "linux"))]
fn openat2_beneath(_root_fd: &File, _rel: &str) -> io::Result<File> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree() -> (std::path::PathBuf, std::path::PathBuf) {
        let base = std::env::temp_dir().join(format!(
            "covet-open-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("sub/in.txt"), b"in").unwrap();
        fs::write(base.join("secret.txt"), b"secret").unwrap();
        std::os::unix::fs::symlink(base.join("secret.txt"), root.join("out")).unwrap();
        std::os::unix::fs::symlink("sub/in.txt", root.join("inside")).unwrap();
        std::os::unix::fs::symlink(root.join("sub/in.txt"), root.join("inside_abs")).unwrap();
        (base, root.canonicalize().unwrap())
    }

    #[test]
    fn symlinks_stay_inside_unless_followed() {
        let (base, root) = tree();
        let fd = File::open(&root).unwrap();
        assert!(open_beneath(&root, &fd, "sub/in.txt", false).is_ok());
        assert!(open_beneath(&root, &fd, "inside", false).is_ok());
        assert!(open_beneath(&root, &fd, "inside_abs", false).is_ok());
        assert!(open_beneath(&root, &fd, "out", false).is_err());
        assert!(open_beneath(&root, &fd, "out", true).is_ok());
        assert!(open_beneath(&root, &fd, "missing", false).is_err());
        fs::remove_dir_all(base).unwrap();
    }
}
