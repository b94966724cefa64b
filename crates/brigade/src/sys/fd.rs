//! The two steps every system call wrapper in `sys` takes: turn `-1` into
//! the `errno` error, and take ownership of a descriptor the kernel just
//! returned.
//!
//! ```ignore
//! let fd = owned(check(unsafe { libc::dup(0) })?);
//! ```

use std::ffi::c_int;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// Returns the error of the last call if `ret` is -1.
pub(crate) fn check(ret: c_int) -> io::Result<c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wraps a descriptor that a successful call has just returned.
pub(crate) fn owned(fd: c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel to this call and nothing
    // else holds it, so ownership is ours to take.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
