//! Processes: `pidfd_open(2)`, a descriptor that becomes readable when a
//! child exits, so the loop can wait for it like for a socket.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use super::fd::cvt;

/// A pidfd for `pid` (Linux 5.3+), non-blocking and close-on-exec.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers; the result is a fresh
    // descriptor (pidfds are always close-on-exec).
    let fd = unsafe {
        libc::syscall(
            libc::SYS_pidfd_open,
            pid as libc::pid_t,
            libc::PIDFD_NONBLOCK,
        )
    };
    let fd = cvt(fd as libc::c_int)?;
    // SAFETY: `fd` was just created and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Switches `O_NONBLOCK` on for `fd` (the parent's end of a child's pipe).
pub(crate) fn set_nonblocking(fd: std::os::fd::RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL only read and write the flags of `fd`; a bad
    // descriptor is reported as EBADF.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above.
        cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}
