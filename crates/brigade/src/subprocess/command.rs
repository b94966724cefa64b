//! [`Command`]: what to run and how, as a builder.
//!
//! A `Command` wraps the standard library's and adds what the loop needs:
//! [`spawn`](Command::spawn) switches the piped streams to non-blocking
//! mode, registers them and the child's pidfd with the loop's driver, and
//! returns a [`Child`]; [`status`](Command::status) and
//! [`output`](Command::output) run the program to its end
//! (`asyncio.create_subprocess_exec` then `wait()` or `communicate()`).
//! The builder methods take and return `&mut Command`, so one command can
//! be configured in a chain and spawned more than once.
//!
//! ```
//! use brigade::subprocess::Command;
//!
//! brigade::run(async {
//!     let mut cmd = Command::new("sh");
//!     cmd.args(["-c", "echo $WHO"]).env("WHO", "chef");
//!     let first = cmd.output().await.unwrap();
//!     let second = cmd.output().await.unwrap(); // the same command again
//!     assert_eq!(first.stdout, b"chef\n");
//!     assert_eq!(first.stdout, second.stdout);
//! });
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output};

use super::pipes::pipe;
use super::{Child, ChildStderr, ChildStdin, ChildStdout, Stdio};
use crate::event_loop::blocking::Inhibit;
use crate::io::source::{Source, current_driver};
use crate::sys::pidfd;

/// A program to run; see the [module documentation](crate::subprocess).
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
