//! Running programs asynchronously (`asyncio.create_subprocess_exec`).
//!
//! [`Command`] configures a program (arguments, environment, working
//! directory, standard streams) and [`Command::spawn`] starts it as a
//! [`Child`]. Piped streams are non-blocking pipes registered with the
//! loop: [`ChildStdin`] implements `AsyncWrite`, [`ChildStdout`] and
//! [`ChildStderr`] implement `AsyncRead`. [`Child::wait`] waits for the
//! exit on a pidfd, which the driver watches like a socket, so waiting
//! costs no thread.
//!
//! ```
//! use brigade::io::AsyncReadExt;
//! use brigade::subprocess::{Command, Stdio};
//!
//! brigade::run(async {
//!     let mut child = Command::new("sh")
//!         .args(["-c", "echo $GREETING from $(pwd)"])
//!         .env("GREETING", "hello")
//!         .current_dir("/")
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let mut out = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
//!     assert_eq!(out, "hello from /\n");
//!     assert!(child.wait().await.unwrap().success());
//! });
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

pub use std::process::Stdio;

use crate::event_loop::blocking::Inhibit;
use crate::io::registry::Direction;
use crate::io::source::{Source, current_driver};
use crate::sys::{fd, pidfd};

/// A program to run; see the [module documentation](self).
///
/// # Examples
/// Python's `await asyncio.create_subprocess_exec("ls", "-d", "/", stdout=PIPE)`
/// then `communicate()`:
/// ```
/// use brigade::subprocess::Command;
///
/// brigade::run(async {
///     let out = Command::new("ls").args(["-d", "/"]).output().await.unwrap();
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"/\n");
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    program: String,
    kill_on_drop: bool,
}

impl Command {
    /// Runs `program`, found on `PATH` unless it contains a slash.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     assert!(Command::new("true").status().await.unwrap().success());
    ///     let e = Command::new("no-such-program-here").spawn().unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(e.to_string().contains("no-such-program-here"));
    /// });
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_string_lossy().into_owned(),
            std: std::process::Command::new(program),
            kill_on_drop: false,
        }
    }

    /// Adds an argument.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     // One argument, spaces and all: no shell splits it.
    ///     let out = Command::new("echo").arg("a  b").output().await.unwrap();
    ///     assert_eq!(out.stdout, b"a  b\n");
    /// });
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let out = Command::new("printf").args(["%s-%s", "x", "y"]).output().await.unwrap();
    ///     assert_eq!(out.stdout, b"x-y");
    /// });
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let out = Command::new("sh").args(["-c", "echo $COLOR"]).env("COLOR", "blue")
    ///         .output().await.unwrap();
    ///     assert_eq!(out.stdout, b"blue\n");
    /// });
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let out = Command::new("sh").args(["-c", "echo $A$B"])
    ///         .envs([("A", "1"), ("B", "2")])
    ///         .output().await.unwrap();
    ///     assert_eq!(out.stdout, b"12\n");
    /// });
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let out = Command::new("sh").args(["-c", "echo ${HOME-unset}"]).env_remove("HOME")
    ///         .output().await.unwrap();
    ///     assert_eq!(out.stdout, b"unset\n");
    /// });
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts from an empty environment.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let out = Command::new("/usr/bin/env").env_clear().env("ONLY", "me")
    ///         .output().await.unwrap();
    ///     assert_eq!(out.stdout, b"ONLY=me\n");
    /// });
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The working directory of the child.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let out = Command::new("pwd").current_dir("/tmp").output().await.unwrap();
    ///     assert_eq!(out.stdout, b"/tmp\n");
    /// });
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: [`Stdio::piped`] gives [`Child::stdin`].
    ///
    /// # Examples
    /// ```
    /// use brigade::io::AsyncWriteExt;
    /// use brigade::subprocess::{Command, Stdio};
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("wc").arg("-c")
    ///         .stdin(Stdio::piped()).stdout(Stdio::piped())
    ///         .spawn().unwrap();
    ///     child.stdin.take().unwrap().write_all(b"12345").await.unwrap(); // then closed
    ///     let out = child.wait_with_output().await.unwrap();
    ///     assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "5");
    /// });
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output.
    ///
    /// # Examples
    /// ```
    /// use brigade::io::AsyncReadExt;
    /// use brigade::subprocess::{Command, Stdio};
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("echo").arg("piped").stdout(Stdio::piped()).spawn().unwrap();
    ///     let mut text = String::new();
    ///     child.stdout.take().unwrap().read_to_string(&mut text).await.unwrap();
    ///     assert_eq!(text, "piped\n");
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::{Command, Stdio};
    ///
    /// brigade::run(async {
    ///     let out = Command::new("sh").args(["-c", "echo oops >&2"])
    ///         .stderr(Stdio::piped()).stdout(Stdio::null())
    ///         .spawn().unwrap()
    ///         .wait_with_output().await.unwrap();
    ///     assert_eq!(out.stderr, b"oops\n");
    /// });
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Kills the child (SIGKILL) if its [`Child`] is dropped before it
    /// exited.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
    ///     let pid = child.id();
    ///     drop(child); // SIGKILL now; the reaper collects it
    ///     # let _ = pid;
    /// });
    /// ```
    pub fn kill_on_drop(&mut self, on: bool) -> &mut Command {
        self.kill_on_drop = on;
        self
    }

    /// Starts the program. A missing program is `ErrorKind::NotFound`
    /// naming it.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
    ///     let status = child.wait().await.unwrap();
    ///     assert_eq!(status.code(), Some(3));
    /// });
    /// ```
    ///
    /// # Errors
    /// `NotFound` (naming the program), `PermissionDenied` (not executable),
    /// a missing working directory, and the other errors of starting a
    /// process; outside a brigade event loop, an error that says so.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let driver = current_driver("brigade::subprocess::Command::spawn")?;
        let mut child = self
            .std
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run {}: {e}", self.program)))?;
        let stdin = child.stdin.take().map(|s| pipe(s.into())).transpose()?;
        let stdout = child.stdout.take().map(|s| pipe(s.into())).transpose()?;
        let stderr = child.stderr.take().map(|s| pipe(s.into())).transpose()?;
        // Without pidfds (Linux < 5.3) `wait` polls instead.
        let pidfd = match pidfd::pidfd_open(child.id()) {
            Ok(fd) => Some(Source::new(fd, "brigade::subprocess")?),
            Err(_) => None,
        };
        Ok(Child {
            stdin: stdin.map(|source| ChildStdin { source }),
            stdout: stdout.map(|source| ChildStdout { source }),
            stderr: stderr.map(|source| ChildStderr { source }),
            std: child,
            pidfd,
            status: None,
            kill_on_drop: self.kill_on_drop,
            inhibit: Inhibit::new(driver.shared.clone()),
        })
    }

    /// Runs the program to its end and returns its exit status (standard
    /// streams are inherited unless configured).
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let status = Command::new("false").status().await.unwrap();
    ///     assert!(!status.success());
    ///     assert_eq!(status.code(), Some(1));
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn), and an error from waiting.
    ///
    /// # Cancel safety
    /// A dropped future drops its [`Child`]: the program goes on running (or
    /// is killed, with [`kill_on_drop`](Self::kill_on_drop)) and is reaped when
    /// it ends; its status is lost.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the program with piped output and collects it
    /// (`communicate()`). Standard input is closed (`/dev/null`) unless
    /// configured.
    ///
    /// # Examples
    /// ```
    /// use brigade::subprocess::Command;
    ///
    /// brigade::run(async {
    ///     let out = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 2"])
    ///         .output().await.unwrap();
    ///     assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
    ///     assert_eq!(out.status.code(), Some(2));
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn), and an error reading the pipes or waiting.
    ///
    /// # Cancel safety
    /// As [`status`](Self::status): the output read so far is lost with the
    /// future.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.spawn()?.wait_with_output().await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

fn pipe(fd: OwnedFd) -> io::Result<Source<OwnedFd>> {
    pidfd::set_nonblocking(fd.as_raw_fd())?;
    Source::new(fd, "brigade::subprocess")
}

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
    std: std::process::Child,
    pidfd: Option<Source<OwnedFd>>,
    status: Option<ExitStatus>,
    kill_on_drop: bool,
    /// A running child is outside work: a virtual clock waits for it.
    #[allow(dead_code)]
    inhibit: Inhibit,
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
    /// drops it (see [`Command::status`]) with the output read so far.
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
    /// Kills the child first with [`Command::kill_on_drop`]. A child that
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

macro_rules! pipe_reader {
    ($name:ident, $doc:literal, $example:literal) => {
        #[doc = $doc]
        ///
        /// # Examples
        #[doc = $example]
        pub struct $name {
            source: Source<OwnedFd>,
        }

        impl AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                self.source
                    .poll_io(cx, Direction::Read, |fd| fd::read(fd.as_raw_fd(), buf))
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.source.raw_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.source.raw_fd())
                    .finish()
            }
        }
    };
}

pipe_reader!(
    ChildStdout,
    "The read end of a child's standard output.",
    r#"```
use brigade::io::AsyncReadExt;
use brigade::subprocess::{Command, Stdio};

brigade::run(async {
    let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).await.unwrap();
    assert_eq!(out, b"hi\n");
    child.wait().await.unwrap();
});
```"#
);
pipe_reader!(
    ChildStderr,
    "The read end of a child's standard error.",
    r#"```
use brigade::io::AsyncReadExt;
use brigade::subprocess::{Command, Stdio};

brigade::run(async {
    let mut child = Command::new("sh").args(["-c", "echo warn >&2"])
        .stderr(Stdio::piped()).spawn().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
    assert_eq!(err, "warn\n");
    child.wait().await.unwrap();
});
```"#
);

/// The write end of a child's standard input. A child that exited makes
/// writes fail with `BrokenPipe` (never a SIGPIPE); a child that does not
/// read makes writes wait.
///
/// # Examples
/// ```
/// use brigade::io::AsyncWriteExt;
/// use brigade::subprocess::{Command, Stdio};
///
/// brigade::run(async {
///     let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     child.wait().await.unwrap();
///     let e = stdin.write_all(b"too late").await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
/// });
/// ```
pub struct ChildStdin {
    source: Source<OwnedFd>,
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.source
            .poll_io(cx, Direction::Write, |fd| fd::write(fd.as_raw_fd(), buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsRawFd for ChildStdin {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("fd", &self.source.raw_fd())
            .finish()
    }
}
