//! [`Child`]: a program that runs, waited for without a thread.
//!
//! On Linux 5.3 and later a child has a pidfd, a descriptor that becomes
//! readable when the process exits; the loop's driver watches it like a
//! socket, so [`wait`](Child::wait) suspends only its task and costs no
//! thread (without pidfds, `wait` polls the status every few
//! milliseconds). A `Child` that is dropped before its end is handed to
//! brigade's one reaper thread, so no zombie is left behind. While it
//! lives, a child counts as outside work: a virtual clock does not jump
//! past a real process.
//!
//! ```
//! use brigade::subprocess::Command;
//!
//! brigade::run(async {
//!     let mut child = Command::new("sh").args(["-c", "exit 4"]).spawn().unwrap();
//!     let status = child.wait().await.unwrap();
//!     assert_eq!(status.code(), Some(4));
//!     // Once known, the status is kept: waiting again returns it at once.
//!     assert_eq!(child.try_wait().unwrap(), Some(status));
//! });
//! ```

use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{ExitStatus, Output};
use std::task::Poll;
use std::time::Duration;

use super::{ChildStderr, ChildStdin, ChildStdout};
use crate::event_loop::blocking::Inhibit;
use crate::io::registry::Direction;
use crate::io::source::Source;

/// A running (or finished) child process.
///
/// On a virtual clock, a `Child` counts as outside work until it is
/// dropped: simulated time does not jump while a real process runs.
///
/// # Examples
/// ```
/// use brigade::subprocess::Command;
///
/// brigade::run(async {
///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
///     assert!(child.try_wait().unwrap().is_none());
///     let status = child.kill().await.unwrap();
///     use std::os::unix::process::ExitStatusExt;
///     assert_eq!(status.signal(), Some(9));
/// });
/// ```
pub struct Child {
    /// The child's standard input, if piped. Dropping it closes the pipe.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
    pub(super) std: std::process::Child,
    pub(super) pidfd: Option<Source<OwnedFd>>,
    pub(super) status: Option<ExitStatus>,
    pub(super) kill_on_drop: bool,
    /// A running child is outside work: a virtual clock waits for it.
    #[allow(dead_code)]
    pub(super) inhibit: Inhibit,
}

impl Child {
    /// The process id.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("true").spawn().unwrap();
    ///     assert_ne!(child.id(), std::process::id());
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    pub fn id(&self) -> u32 {
        self.std.id()
    }

    /// Sends SIGKILL (does not wait; await [`wait`](Self::wait) for that).
    /// Killing a child that already exited is not an error.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     child.start_kill().unwrap();
    ///     assert!(!child.wait().await.unwrap().success());
    ///     child.start_kill().unwrap(); // already gone: not an error
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `kill(2)` other than a child already gone (which is `Ok`).
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        match self.std.kill() {
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
            other => other,
        }
    }

    /// Kills the child and waits for it to exit.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     let status = child.kill().await.unwrap();
    ///     assert!(status.code().is_none()); // ended by a signal
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    ///
    /// # Cancel safety
    /// Cancel-safe: the signal goes out at the first poll; whether or not
    /// it went before the future was dropped, a later
    /// [`wait`](Self::wait) (or [`kill`](Self::kill)) still collects the
    /// status.
    pub async fn kill(&mut self) -> io::Result<ExitStatus> {
        self.start_kill()?;
        self.wait().await
    }

    /// The exit status if the child has exited, without waiting.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("true").spawn().unwrap();
    ///     let status = child.wait().await.unwrap();
    ///     assert_eq!(child.try_wait().unwrap(), Some(status)); // kept
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `waitid(2)` (`ECHILD` if something else reaped the child).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = self.std.try_wait()?;
        self.status = status;
        Ok(status)
    }

    /// Waits for the child to exit. Closes its standard input first (as
    /// `std` does), so a child that reads to the end of its input can end.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
    ///     assert_eq!(child.wait().await.unwrap().code(), Some(7));
    ///     assert_eq!(child.wait().await.unwrap().code(), Some(7)); // again: the same
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`try_wait`](Self::try_wait).
    ///
    /// # Cancel safety
    /// Cancel-safe: the status is taken from the kernel only in the poll that
    /// returns it (and then kept), so a dropped wait loses nothing. The child's
    /// standard input, closed by the first poll, stays closed.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            match &self.pidfd {
                Some(pidfd) => {
                    let std = &mut self.std;
                    let status = pidfd
                        .io(Direction::Read, |_| match std.try_wait()? {
                            Some(status) => Ok(status),
                            None => Err(io::ErrorKind::WouldBlock.into()),
                        })
                        .await?;
                    self.status = Some(status);
                    return Ok(status);
                }
                None => crate::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    /// Waits for the child while collecting its piped output and error.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::{Command, Stdio};
    ///
    /// brigade::run(async {
    ///     let child = Command::new("seq").arg("3").stdout(Stdio::piped()).spawn().unwrap();
    ///     let out = child.wait_with_output().await.unwrap();
    ///     assert_eq!(out.stdout, b"1\n2\n3\n");
    ///     assert!(out.stderr.is_empty()); // not piped: nothing collected
    /// });
    /// ```
    ///
    /// # Errors
    /// An error reading a pipe, or as [`wait`](Self::wait).
    ///
    /// # Cancel safety
    /// Not cancel-safe: the `Child` moved into the future, so a dropped future
    /// drops it (see [`Command::status`](super::Command::status)) with the output read so far.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        use crate::io::AsyncReadExt;
        self.stdin = None;
        let mut out = self.stdout.take();
        let mut err = self.stderr.take();
        let collect_out = async {
            let mut buf = Vec::new();
            if let Some(s) = out.as_mut() {
                s.read_to_end(&mut buf).await?;
            }
            Ok::<_, io::Error>(buf)
        };
        let collect_err = async {
            let mut buf = Vec::new();
            if let Some(s) = err.as_mut() {
                s.read_to_end(&mut buf).await?;
            }
            Ok::<_, io::Error>(buf)
        };
        let (stdout, stderr) = join2(collect_out, collect_err).await;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: stdout?,
            stderr: stderr?,
        })
    }
}

/// Polls two futures together until both are done.
async fn join2<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.expect("set above"), rb.expect("set above"))
}

impl Drop for Child {
    /// Kills the child first with [`Command::kill_on_drop`](super::Command::kill_on_drop). A child that
    /// has not ended is then handed to brigade's one process-wide reaper
    /// thread, which reaps it when it ends, whether or not this loop still
    /// runs then (tokio reaps orphans on its runtime, best effort; here
    /// every one is reaped). Without pidfds (Linux before 5.3) a child
    /// still running is left to the operating system.
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        if self.kill_on_drop {
            let _ = self.std.kill();
        }
        if let Ok(Some(_)) = self.std.try_wait() {
            return;
        }
        // The loop's registration goes with the Source; the reaper watches
        // its own descriptor for the same child.
        if let Some(watched) = self.pidfd.take() {
            if let Ok(pidfd) = crate::sys::process::dup(watched.get_ref().as_fd()) {
                drop(watched);
                crate::reaper::reap(pidfd);
            }
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.id())
            .field("status", &self.status)
            .finish()
    }
}
