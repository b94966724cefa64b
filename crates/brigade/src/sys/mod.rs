//! The operating-system layer: every system call brigade makes goes through
//! here, so that the rest of the crate is portable code over a small surface
//! (in the manner of mio's `sys`). Linux x86_64 is the target.
//!
//! ```ignore
//! let tid = brigade::sys::gettid();
//! ```

pub(crate) mod thread;

/// The kernel's id of the calling thread (what `ps -L` shows).
#[allow(dead_code)]
pub(crate) fn gettid() -> u64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() as u64 }
}

pub(crate) mod epoll;
pub(crate) mod fd;
pub(crate) mod process;
pub(crate) mod signal;
pub(crate) mod socket;
