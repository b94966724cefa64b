//! File descriptors: the checked form of a raw return value, ownership of a
//! fresh descriptor, non-blocking reads and writes, and the eventfd that
//! wakes a sleeping loop.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Turns a `-1` return into the thread's `errno` as an [`io::Error`].
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wraps a descriptor that a successful call has just returned.
pub(crate) fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel to this call and nothing
    // else holds it, so ownership is ours to take.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Like [`cvt`] for the `ssize_t` results of `read`/`write`.
pub(crate) fn cvt_size(ret: libc::ssize_t) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// Repeats `f` while it fails with `EINTR`.
pub(crate) fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// `read(2)` into `buf`.
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call.
    retry(|| cvt_size(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) }))
}

/// `write(2)` from `buf`.
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the call.
    retry(|| cvt_size(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) }))
}

/// A non-blocking, close-on-exec eventfd: a counter that other threads bump
/// to wake whoever polls it.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers; the result is a fresh descriptor
    // that nothing else owns.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
    // SAFETY: `fd` was just returned by eventfd and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds one to an eventfd's counter, which makes it readable.
pub(crate) fn eventfd_signal(fd: &OwnedFd) {
    let one = 1u64.to_ne_bytes();
    // The only failure is EAGAIN when the counter would overflow, and then
    // the fd is readable anyway: the wake-up is not lost.
    let _ = write(fd.as_raw_fd(), &one);
}

/// Resets an eventfd's counter to zero.
pub(crate) fn eventfd_drain(fd: &OwnedFd) {
    let mut buf = [0u8; 8];
    // EAGAIN means it was already zero, which is what we want.
    let _ = read(fd.as_raw_fd(), &mut buf);
}

/// The soft limit on open descriptors (`RLIMIT_NOFILE`), which also caps
/// an io_uring's table of direct descriptors; `None` if unknown.
pub(crate) fn open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is valid for writes for the call.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }).ok()?;
    Some(limit.rlim_cur)
}

/// Closes a descriptor that the caller owns and nobody else refers to
/// (an abandoned operation's result); errors are moot: the number is
/// released either way.
pub(crate) fn close_owned(fd: RawFd) {
    drop(owned(fd));
}
