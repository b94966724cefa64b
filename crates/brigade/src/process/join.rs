//! Joining a [`Process`]: waiting for the child to end, then reading its
//! one reply, and telling the caller what became of the call.
//!
//! A child sends its reply just before it exits, into a socket buffer with
//! room for it, so the parent waits for the end first (on the child's
//! pidfd) and then takes the reply without waiting: one wake-up per child.
//! A reply, when there is one, says everything: the result, or the
//! function's panic, or why the child refused the call. Without a reply,
//! the exit status explains the end: death by a signal, or an exit before
//! the function returned (with any code, 0 included); a status that is
//! unknown (`SIGCHLD` ignored on an old kernel) claims nothing, and the
//! broken channel is the error. The pool reads its workers' replies with
//! the same decoder.
//!
//! ```
//! use brigade::process::{Process, ProcessError};
//!
//! fn quit(code: i32) -> u8 {
//!     std::process::exit(code)
//! }
//!
//! fn half(n: u8) -> u8 {
//!     n / 2
//! }
//!
//! let mut exits = Process::new(quit, (0,));
//! exits.start().unwrap();
//! // No reply came: the status says the child exited first.
//! assert!(matches!(exits.join(), Err(ProcessError::Exited { code: 0, .. })));
//!
//! let mut p = Process::new(half, (8,));
//! p.start().unwrap();
//! assert_eq!(p.join().unwrap(), 4);
//! // The result is handed out once.
//! assert!(matches!(p.join(), Err(ProcessError::AlreadyJoined)));
//! ```

use std::io;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::child::Reply;
use super::error::{Exit, ProcessError, StartError};
use super::frame::{self, FrameError};
use super::handle::Process;
use super::socket::{Message, RecvError};
use super::spawn::left;
use super::transfer;
use crate::sys::process::Status;

impl<R: DeserializeOwned> Process<R> {
    /// Waits for the child to end and returns its function's result.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Process, ProcessError};
    ///
    /// fn fail(why: String) -> u8 {
    ///     panic!("{why}")
    /// }
    ///
    /// let mut p = Process::new(fail, ("out of paper".to_string(),));
    /// p.start().unwrap();
    /// match p.join() {
    ///     Err(ProcessError::Panicked { message, .. }) => assert_eq!(message, "out of paper"),
    ///     other => unreachable!("{other:?}"),
    /// }
    /// ```
    ///
    /// # Errors
    /// A [`ProcessError`] for each way the function gave no result: it
    /// panicked, the child exited or was killed first, the channel broke, the
    /// result was too large, the process was never started, already joined or
    /// closed.
    ///
    /// Blocks the calling thread: on an event loop, use [`run`](super::run)
    /// instead.
    pub fn join(&mut self) -> Result<R, ProcessError> {
        self.join_until(None)
    }

    /// Like [`join`](Self::join), waiting at most `timeout`;
    /// [`ProcessError::Timeout`] leaves the process joinable.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::process::{Process, ProcessError, Queue};
    ///
    /// fn wait_for(q: Queue<u8>) -> u8 {
    ///     q.get().unwrap()
    /// }
    ///
    /// let q = Queue::new().unwrap();
    /// let mut p = Process::new(wait_for, (q.clone(),));
    /// p.start().unwrap();
    /// assert!(matches!(p.join_timeout(Duration::from_millis(10)), Err(ProcessError::Timeout)));
    /// q.put(&7).unwrap();
    /// assert_eq!(p.join_timeout(Duration::from_secs(60)).unwrap(), 7);
    /// ```
    ///
    /// # Errors
    /// [`ProcessError::Timeout`] when the time runs out (the process can be
    /// joined again); else as [`join`](Self::join).
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<R, ProcessError> {
        self.join_until(Some(Instant::now() + timeout))
    }

    fn join_until(&mut self, deadline: Option<Instant>) -> Result<R, ProcessError> {
        if self.closed {
            return Err(ProcessError::Closed);
        }
        if self.joined {
            return Err(ProcessError::AlreadyJoined);
        }
        let Some(child) = &self.child else {
            return Err(ProcessError::NotStarted);
        };
        let pid = match child.known_pid() {
            Ok(pid) => pid,
            // The forkserver could not fork it: there is nothing to wait for.
            Err(e) => {
                self.joined = true;
                return Err(ProcessError::Start(StartError::Io(e)));
            }
        };
        // The end first, then the reply: a child sends its one reply just
        // before it exits, into a buffer with room for it, so the reply is
        // waiting by then; and the parent wakes once per child, not twice.
        let status = match child.wait(left(deadline)) {
            Ok(Some(status)) => status,
            Ok(None) => return Err(ProcessError::Timeout),
            Err(e) => {
                return Err(ProcessError::Channel {
                    pid,
                    source: FrameError::Io(e),
                });
            }
        };
        self.joined = true;
        crate::trace::emit::process_ended(pid, &self.name);
        if let (Some(trace), Some(start)) = (crate::trace::global(), self.traced_start) {
            let track = crate::trace::Track::Process(pid);
            trace.label(track.clone(), format!("{} (pid {pid})", self.name));
            trace.span(
                track,
                "process",
                self.name.clone(),
                start,
                trace.now() - start,
            );
        }
        let reply = match child
            .socket
            .recv_max(Some(Duration::ZERO), self.max_message)
        {
            Ok(m) => Ok(m),
            Err(RecvError::Timeout | RecvError::Closed) => Err(None),
            Err(RecvError::Frame(source)) => Err(Some(source)),
        };
        outcome(pid, reply, status)
    }
}

/// Turns a reply and an exit status into the caller's result. `reply` is
/// the message, or why there is none: `None` if nothing came, or what was
/// wrong with what came.
pub(crate) fn outcome<R: DeserializeOwned>(
    pid: u32,
    reply: Result<Message, Option<FrameError>>,
    status: Status,
) -> Result<R, ProcessError> {
    let channel = |source| ProcessError::Channel { pid, source };
    match reply {
        Ok(message) => decode_reply(pid, message),
        // No reply: the exit status tells why.
        Err(why) => match (Exit::from(status), why) {
            (Exit::Signal(signal), _) => Err(ProcessError::Signaled { pid, signal }),
            // A child that exits, with any code, before it replies: the
            // same error as a pool's (see ProcessError::Exited).
            (Exit::Code(code), None) => Err(ProcessError::Exited { pid, code }),
            // It sent garbage and exited cleanly: the garbage is the news.
            (Exit::Code(0), Some(source)) => Err(channel(source)),
            (Exit::Code(code), Some(_)) => Err(ProcessError::Exited { pid, code }),
            // No way to know how it ended: the channel tells more.
            (Exit::Unknown, why) => Err(channel(why.unwrap_or_else(no_reply))),
        },
    }
}

/// The channel error of a child that ended without a word.
pub(crate) fn no_reply() -> FrameError {
    FrameError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the child ended without replying",
    ))
}

/// Decodes a child's reply to one call.
pub(crate) fn decode_reply<R: DeserializeOwned>(
    pid: u32,
    message: Message,
) -> Result<R, ProcessError> {
    let (reply, rest) = frame::take_from_payload::<Reply>(&message.payload)
        .map_err(|source| ProcessError::Channel { pid, source })?;
    returned(pid, reply)?;
    transfer::decode(rest, message.fds).map_err(|source| ProcessError::Channel { pid, source })
}

/// Whether the function returned (its value follows the reply), or the
/// error the reply stands for.
fn returned(pid: u32, reply: Reply) -> Result<(), ProcessError> {
    match reply {
        Reply::Returned => Ok(()),
        Reply::Panicked(message) => Err(ProcessError::Panicked { pid, message }),
        Reply::Refused(reason) => Err(ProcessError::Refused { pid, reason }),
        Reply::TooLarge { len, max } => Err(ProcessError::ResultTooLarge { pid, len, max }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed() -> Result<Message, Option<FrameError>> {
        Err(None)
    }

    #[test]
    fn without_a_reply_the_status_explains_the_end_when_it_is_known() {
        let r = outcome::<()>(1, closed(), Status::Code(3));
        assert!(matches!(r, Err(ProcessError::Exited { code: 3, .. })));
        let r = outcome::<()>(1, closed(), Status::Signal(9));
        assert!(matches!(r, Err(ProcessError::Signaled { signal: 9, .. })));
        // An unknown status claims nothing: the channel's error stands.
        let r = outcome::<()>(1, closed(), Status::Unknown);
        assert!(matches!(r, Err(ProcessError::Channel { .. })), "{r:?}");
        assert_eq!(Exit::from(Status::Unknown).python_code(), None);
        // An exit with code 0 before the reply is an exit all the same.
        let r = outcome::<()>(1, closed(), Status::Code(0));
        assert!(
            matches!(r, Err(ProcessError::Exited { code: 0, .. })),
            "{r:?}"
        );
    }
}
