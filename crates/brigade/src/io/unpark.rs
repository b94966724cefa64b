//! [`Unparker`]: how another thread wakes a loop that sleeps in its I/O
//! driver.
//!
//! The loop sleeps in `epoll_wait` or `io_uring_enter`, so a wake-up must be
//! something those see: an eventfd, watched by the driver. Writing to it is a
//! system call, so writes are coalesced by a flag, as in tokio's driver: the
//! first `unpark` after the loop last drained the eventfd writes, later ones
//! see the flag and return at once. A busy loop costs its wakers one atomic
//! swap each.
//!
//! The protocol is Dekker's: the waker publishes its work, then swaps the
//! flag; the loop clears the flag, then looks for work. A `SeqCst` fence on
//! each side after the first step guarantees that at least one of them sees
//! the other's write, so no wake-up is lost (see the loom test below).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::loom::sync::atomic::{AtomicBool, Ordering, fence};
use crate::sys::fd;

/// Wakes the loop from any thread.
pub(crate) struct Unparker {
    fd: OwnedFd,
    notified: AtomicBool,
}

impl Unparker {
    pub(crate) fn new() -> std::io::Result<Unparker> {
        Ok(Unparker {
            fd: fd::eventfd()?,
            notified: AtomicBool::new(false),
        })
    }

    /// Makes the loop's next (or current) park return.
    pub(crate) fn unpark(&self) {
        // Orders the caller's publication of work before the flag check.
        fence(Ordering::SeqCst);
        if !self.notified.swap(true, Ordering::AcqRel) {
            fd::eventfd_signal(&self.fd);
        }
    }

    /// Called by the driver when the eventfd was reported readable.
    pub(crate) fn consume(&self) {
        fd::eventfd_drain(&self.fd);
        self.notified.store(false, Ordering::Release);
        // Orders the reset before the loop's next look for work.
        fence(Ordering::SeqCst);
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

    /// The flag protocol with the eventfd modeled as a counter: whenever
    /// work is published and the loop then goes to sleep, either the loop
    /// sees the work or the eventfd holds a signal.
    #[test]
    fn loom_no_lost_wakeup() {
        loom::model(|| {
            let work = Arc::new(AtomicBool::new(false));
            let notified = Arc::new(AtomicBool::new(true));
            let eventfd = Arc::new(AtomicUsize::new(1));
            let (w, n, e) = (work.clone(), notified.clone(), eventfd.clone());
            let waker = loom::thread::spawn(move || {
                w.store(true, Ordering::Release);
                fence(Ordering::SeqCst);
                if !n.swap(true, Ordering::AcqRel) {
                    e.fetch_add(1, Ordering::Release);
                }
            });
            // The loop consumes the earlier signal, then checks for work.
            eventfd.store(0, Ordering::Relaxed);
            notified.store(false, Ordering::Release);
            fence(Ordering::SeqCst);
            let saw_work = work.load(Ordering::Acquire);
            waker.join().unwrap();
            assert!(saw_work || eventfd.load(Ordering::Acquire) > 0);
        });
    }
}
