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
pub struct Command {
    std: std::process::Command,
    program: String,
    kill_on_drop: bool,
}

impl Command {
    /// Runs `program`, found on `PATH` unless it contains a slash.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_string_lossy().into_owned(),
            std: std::process::Command::new(program),
            kill_on_drop: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables.
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
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts from an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The working directory of the child.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: [`Stdio::piped`] gives [`Child::stdin`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output.
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Kills the child (SIGKILL) if its [`Child`] is dropped before it
    /// exited.
    pub fn kill_on_drop(&mut self, on: bool) -> &mut Command {
        self.kill_on_drop = on;
        self
    }

    /// Starts the program. A missing program is `ErrorKind::NotFound`
    /// naming it.
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
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the program with piped output and collects it
    /// (`communicate()`). Standard input is closed (`/dev/null`) unless
    /// configured.
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
    pub fn id(&self) -> u32 {
        self.std.id()
    }

    /// Sends SIGKILL (does not wait; await [`wait`](Self::wait) for that).
    /// Killing a child that already exited is not an error.
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
    pub async fn kill(&mut self) -> io::Result<ExitStatus> {
        self.start_kill()?;
        self.wait().await
    }

    /// The exit status if the child has exited, without waiting.
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
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
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

pipe_reader!(ChildStdout, "The read end of a child's standard output.");
pipe_reader!(ChildStderr, "The read end of a child's standard error.");

/// The write end of a child's standard input. A child that exited makes
/// writes fail with `BrokenPipe` (never a SIGPIPE); a child that does not
/// read makes writes wait.
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
