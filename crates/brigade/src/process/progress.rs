//! A pool worker's progress word: how many calls the worker has started,
//! kept in a page of memory it shares with its driver.
//!
//! The pool promises that a dying worker never loses or reruns a task. A
//! task the worker never started may go to a fresh worker; a task it
//! started is answered once, with its result or with the worker's death.
//! So when a worker's channel closes, its driver must tell "died before it
//! took the call" from "died running it". A message back ("started")
//! before every call would tell it, at the price of a wake-up of the
//! driver per call, paid by every call to learn something needed only
//! when a worker dies.
//!
//! Instead each worker counts the calls it takes, and stores the count
//! here (one store to a mapped page, no system call) after it has read a
//! call and before it runs it. The driver counts the calls it has sent,
//! and reads the word only when the worker has died: then the worker can
//! no longer write it, and its count is final. If it equals the calls
//! sent, the worker took the last one (the task failed with the death);
//! one less, and the last call was never started (the task goes to a
//! fresh worker). This is the same sequence-number idea as the
//! acknowledgement it replaces, moved from a message to a shared word
//! that nobody waits for.
//!
//! The word lives in a [`Region`], an anonymous memory file the driver
//! makes for each worker and hands over with the worker's first message.
//!
//! ```
//! use brigade::process::{ProcessError, ProcessPool};
//!
//! fn crash() { std::process::abort() }
//! fn one() -> u8 { 1 }
//!
//! let pool = ProcessPool::new(1).unwrap();
//! // The worker had counted the call as started: it fails, and runs once.
//! assert!(matches!(pool.apply(crash, ()), Err(ProcessError::WorkerDied { .. })));
//! assert_eq!(pool.apply(one, ()).unwrap(), 1);
//! ```

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use super::region::{Region, SharedState};

/// The shared state: the number of calls the worker has started.
#[repr(C)]
pub(crate) struct Count {
    started: AtomicU64,
}

// SAFETY: one atomic; all zeroes is a valid count (none started), any bit
// pattern is some count, and it points nowhere.
unsafe impl SharedState for Count {}

/// A worker's count of started calls, as both its driver and the worker
/// map it.
pub(crate) struct Progress {
    region: Region<Count>,
}

impl Progress {
    /// A fresh word (no call started), for a worker about to start.
    pub(crate) fn new() -> io::Result<Progress> {
        Ok(Progress {
            region: Region::new(c"brigade-progress", |_| Ok(()))?,
        })
    }

    /// The word whose memory file arrived with the worker's first message.
    pub(crate) fn from_fd(fd: OwnedFd) -> io::Result<Progress> {
        Ok(Progress {
            region: Region::open(fd)?,
        })
    }

    /// The memory file, to hand to the worker.
    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.region.fd()
    }

    /// In the worker: it has taken its `n`th call (counting from 1) and is
    /// about to run it.
    pub(crate) fn start(&self, n: u64) {
        // Release: whoever sees the count sees it after the call was read.
        self.region.state().started.store(n, Ordering::Release);
    }

    /// In the driver, once the worker has died: how many calls it started.
    pub(crate) fn started(&self) -> u64 {
        self.region.state().started.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_mapping_sees_the_count() {
        let ours = Progress::new().unwrap();
        assert_eq!(ours.started(), 0);
        let fd = crate::sys::process::dup(ours.as_fd()).unwrap();
        let theirs = Progress::from_fd(fd).unwrap();
        theirs.start(3);
        assert_eq!(ours.started(), 3);
    }

    #[test]
    fn a_file_too_small_for_the_word_is_refused() {
        let fd = crate::sys::memory::memfd(c"tiny", 0).unwrap();
        assert!(Progress::from_fd(fd).is_err());
    }
}
