//! The operating-system layer: every system call brigade makes goes through
//! here, so that the rest of the crate is portable code over a small surface
//! (in the manner of mio's `sys`). Linux x86_64 is the target.
//!
//! ```ignore
//! let tid = brigade::sys::gettid();
//! ```

pub(crate) mod epoll;
pub(crate) mod fd;
/// Reading files without waiting: cached opens, `RWF_NOWAIT` reads.
pub(crate) mod fs;
/// Shared futex words: sleep on a value, wake sleepers in any process.
pub(crate) mod futex;
pub(crate) mod memory;
/// Network sockets for the event loop (TCP, UDP, Unix).
pub(crate) mod net;
/// pidfds: a child's exit as a readable descriptor.
pub(crate) mod pidfd;
/// Child processes of `brigade::process`: spawn, fork server, wait.
pub(crate) mod process;
/// Robust process-shared mutexes (the C library's, with `EOWNERDEAD`).
pub(crate) mod robust;
pub(crate) mod signal;
/// Socketpairs carrying `brigade::process` messages and descriptors.
pub(crate) mod socket;
pub(crate) mod thread;
/// A thread's identity over time (id and start time), and whether it lives.
pub(crate) mod thread_life;
/// One-shot timers as descriptors: how a sleeping loop wakes on time.
pub(crate) mod timerfd;

use fd::{cvt, owned};

/// The kernel's id of the calling thread (what `ps -L` shows).
#[allow(dead_code)]
pub(crate) fn gettid() -> u64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() as u64 }
}
