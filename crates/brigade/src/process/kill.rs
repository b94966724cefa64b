//! Ending a [`Process`] early: [`terminate`](Process::terminate) sends
//! `SIGTERM` and [`kill`](Process::kill) `SIGKILL`, as Python's methods
//! of the same names, and a `Killer` kills a child when it is dropped.
//!
//! Every signal goes through the child's pidfd, which names this child
//! and no other: a child that has ended, even one already reaped and whose
//! pid the system gave to another process, is never signalled by mistake,
//! and signalling it is not an error. A `Killer` holds its own copy of
//! the pidfd, so a future that waits for a child on another thread
//! ([`run`](super::run)) kills the child when it is dropped (a timeout, a
//! cancelled task) unless it finished first and disarmed it.
//!
//! ```
//! use brigade::process::{Exit, Process, ProcessError};
//!
//! fn spin() {
//!     loop {
//!         std::thread::sleep(std::time::Duration::from_secs(1));
//!     }
//! }
//!
//! let mut p = Process::new(spin, ());
//! assert!(matches!(p.terminate(), Err(ProcessError::NotStarted)));
//! p.start().unwrap();
//! p.terminate().unwrap();
//! assert!(matches!(p.join(), Err(ProcessError::Signaled { .. })));
//! assert_eq!(p.exit_status(), Some(Exit::Signal(libc::SIGTERM)));
//! // It has ended: another signal is harmless.
//! p.kill().unwrap();
//! ```

use serde::de::DeserializeOwned;

use super::error::ProcessError;
use super::frame::FrameError;
use super::handle::Process;
use super::spawn::Child;

impl<R: DeserializeOwned> Process<R> {
    /// Sends `SIGTERM` (Python's `terminate()`).
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Exit, Process};
    ///
    /// fn spin() {
    ///     loop {
    ///         std::thread::sleep(std::time::Duration::from_secs(1));
    ///     }
    /// }
    ///
    /// let mut p = Process::new(spin, ());
    /// p.start().unwrap();
    /// p.terminate().unwrap();
    /// assert!(p.join().is_err());
    /// assert_eq!(p.exit_status(), Some(Exit::Signal(libc::SIGTERM)));
    /// ```
    ///
    /// # Errors
    /// [`ProcessError::NotStarted`] before [`start`](Self::start),
    /// [`ProcessError::Closed`] after [`close`](Self::close). A child that has
    /// already ended is not an error.
    pub fn terminate(&self) -> Result<(), ProcessError> {
        self.signal(libc::SIGTERM)
    }

    /// Sends `SIGKILL` (Python's `kill()`).
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Exit, Process};
    ///
    /// fn spin() {
    ///     loop {
    ///         std::thread::sleep(std::time::Duration::from_secs(1));
    ///     }
    /// }
    ///
    /// let mut p = Process::new(spin, ());
    /// p.start().unwrap();
    /// p.kill().unwrap();
    /// assert!(p.join().is_err());
    /// assert_eq!(p.exit_status(), Some(Exit::Signal(libc::SIGKILL)));
    /// ```
    ///
    /// # Errors
    /// As [`terminate`](Self::terminate).
    pub fn kill(&self) -> Result<(), ProcessError> {
        self.signal(libc::SIGKILL)
    }

    /// Something that kills the child when dropped, unless disarmed.
    pub(crate) fn killer(&self) -> Killer {
        Killer {
            pidfd: self.child.as_deref().and_then(Child::pidfd_dup),
        }
    }

    fn signal(&self, signal: i32) -> Result<(), ProcessError> {
        if self.closed {
            return Err(ProcessError::Closed);
        }
        let child = self.child.as_deref().ok_or(ProcessError::NotStarted)?;
        child.signal(signal).map_err(|e| ProcessError::Channel {
            pid: child.pid().unwrap_or(0),
            source: FrameError::Io(e),
        })
    }
}

/// Kills a child when dropped (for futures that are cancelled).
pub(crate) struct Killer {
    pidfd: Option<std::os::fd::OwnedFd>,
}

impl Killer {
    pub(crate) fn disarm(&mut self) {
        self.pidfd = None;
    }
}

impl Drop for Killer {
    fn drop(&mut self) {
        if let Some(fd) = &self.pidfd {
            // A pidfd names this child and no other, even if it has been
            // reaped and its pid reused.
            let _ = crate::sys::process::pidfd_kill(std::os::fd::AsFd::as_fd(fd), libc::SIGKILL);
        }
    }
}
