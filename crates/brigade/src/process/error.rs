//! What can go wrong with a child process, told apart so that a caller can
//! react to each: a panic, an exit code, a signal, a broken channel.
//!
//! ```
//! use brigade::process::{Exit, ProcessError};
//!
//! let e = ProcessError::Signaled { pid: 42, signal: 9 };
//! assert_eq!(e.to_string(), "process 42 was killed by signal 9 (SIGKILL)");
//! assert_eq!(Exit::Signal(15).python_code(), Some(-15));
//! ```

use std::fmt;
use std::io;

use super::frame::FrameError;
use super::function::Unnameable;
use crate::sys::process::Status;

/// How a process ended.
///
/// # Examples
/// ```
/// use brigade::process::{Exit, Process};
///
/// fn quit() {
///     std::process::exit(4)
/// }
///
/// let mut p = Process::new(quit, ());
/// p.start().unwrap();
/// let _ = p.join();
/// assert_eq!(p.exit_status(), Some(Exit::Code(4)));
/// assert_eq!(Exit::Signal(9).python_code(), Some(-9));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
    /// It ended, but how is not known: the parent ignores `SIGCHLD`, so the
    /// kernel discarded the status when the child exited (or other code of
    /// the program reaped the child first), and the kernel is older than
    /// Linux 6.15, which keeps a copy for brigade's pidfd.
    Unknown,
}

impl Exit {
    /// Python's `exitcode`: the code, or minus the signal number; `None`
    /// for [`Exit::Unknown`].
    ///
    /// # Examples
    /// ```
    /// use brigade::process::Exit;
    ///
    /// assert_eq!(Exit::Code(0).python_code(), Some(0));
    /// assert_eq!(Exit::Signal(15).python_code(), Some(-15));
    /// assert_eq!(Exit::Unknown.python_code(), None);
    /// ```
    pub fn python_code(self) -> Option<i32> {
        match self {
            Exit::Code(c) => Some(c),
            Exit::Signal(s) => Some(-s),
            Exit::Unknown => None,
        }
    }
}

impl From<Status> for Exit {
    fn from(s: Status) -> Exit {
        match s {
            Status::Code(c) => Exit::Code(c),
            Status::Signal(s) => Exit::Signal(s),
            Status::Unknown => Exit::Unknown,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "signal {s} ({})", signal_name(s)),
            Exit::Unknown => f.write_str("an unknown exit status (SIGCHLD is ignored)"),
        }
    }
}

/// The conventional name of a signal number.
///
/// # Examples
/// ```
/// assert_eq!(brigade::process::signal_name(libc::SIGKILL), "SIGKILL");
/// assert_eq!(brigade::process::signal_name(libc::SIGSEGV), "SIGSEGV");
/// ```
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => "unknown signal",
    }
}

/// Why a child's function gave no result.
///
/// # Examples
/// ```
/// use brigade::process::{Process, ProcessError};
///
/// fn crash() {
///     std::process::abort()
/// }
///
/// let mut p = Process::new(crash, ());
/// p.start().unwrap();
/// let e = p.join().unwrap_err();
/// assert!(matches!(e, ProcessError::Signaled { signal, .. } if signal == libc::SIGABRT));
/// println!("{e}"); // names the pid and the signal
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessError {
    /// The function panicked in the child. (In a program built with
    /// `panic = "abort"` a panic cannot be caught: it shows as
    /// [`Signaled`](Self::Signaled) with `SIGABRT`.)
    Panicked {
        /// The child's pid.
        pid: u32,
        /// The panic message.
        message: String,
    },
    /// The child ended with this exit code before replying: it called
    /// `std::process::exit` (with any code, 0 included) inside the
    /// function, or something in it did. [`Process`](super::Process) and
    /// [`ProcessPool`](super::ProcessPool) report it alike; a pool also
    /// replaces the worker. (A child killed by a signal is
    /// [`Signaled`](Self::Signaled), or, in a pool,
    /// [`WorkerDied`](Self::WorkerDied).)
    ///
    /// ```
    /// use brigade::process::{Process, ProcessError, ProcessPool};
    ///
    /// fn leave() -> u8 {
    ///     std::process::exit(0)
    /// }
    ///
    /// let mut p = Process::new(leave, ());
    /// p.start().unwrap();
    /// let alone = p.join().unwrap_err();
    /// let pool = ProcessPool::new(1).unwrap();
    /// let pooled = pool.apply(leave, ()).unwrap_err();
    /// assert!(matches!(alone, ProcessError::Exited { code: 0, .. }));
    /// assert!(matches!(pooled, ProcessError::Exited { code: 0, .. }));
    /// ```
    Exited {
        /// The child's pid.
        pid: u32,
        /// Its exit code.
        code: i32,
    },
    /// A signal killed the child before it replied.
    Signaled {
        /// The child's pid.
        pid: u32,
        /// The signal number.
        signal: i32,
    },
    /// The channel to the child failed, or carried bytes that are not a
    /// valid reply.
    Channel {
        /// The child's pid.
        pid: u32,
        /// What went wrong.
        source: FrameError,
    },
    /// The child could not make the call (for example, the arguments did
    /// not decode as the function's argument types).
    Refused {
        /// The child's pid.
        pid: u32,
        /// Why.
        reason: String,
    },
    /// The function's result takes more bytes than the limit on one
    /// message (`max_message_size` on the [`Process`](super::Process) or
    /// the pool; [`DEFAULT_MAX_MESSAGE`](super::frame::DEFAULT_MAX_MESSAGE)
    /// by default). The child found it out and said so, rather than
    /// sending it; a pool worker stays in service.
    ResultTooLarge {
        /// The child's pid.
        pid: u32,
        /// The size of the encoded result.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A pool worker died while running this task, killed by a signal (or
    /// in a way that is not known); the pool replaced it. A worker that
    /// exits with a code is [`Exited`](Self::Exited), as a `Process` is.
    WorkerDied {
        /// The worker's pid.
        pid: u32,
        /// How it died.
        cause: Exit,
    },
    /// The task ran past its time limit; its worker was killed.
    TimedOut {
        /// The worker's pid.
        pid: u32,
    },
    /// The wait timed out; the process is still running and can be joined
    /// again.
    Timeout,
    /// `join` before `start`.
    NotStarted,
    /// The result was already taken by an earlier `join`.
    AlreadyJoined,
    /// The process could not be started.
    Start(StartError),
    /// The pool was terminated before the task ran, or it cannot start
    /// workers.
    PoolClosed,
    /// The pool task was cancelled before a worker took it
    /// ([`PoolTask::cancel`](super::PoolTask::cancel); Python's
    /// `CancelledError`).
    Cancelled,
    /// [`Process::close`](super::Process::close) was called while the
    /// child still runs (Python's `ValueError`).
    StillRunning,
    /// The [`Process`](super::Process) was closed (Python's `ValueError:
    /// process object is closed`).
    Closed,
    /// A task of a cluster pool got no result: see
    /// [`ClusterError`](super::ClusterError) (cargo feature `cluster`).
    #[cfg(feature = "cluster")]
    Cluster(super::ClusterError),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::Panicked { pid, message } => {
                write!(f, "process {pid} panicked: {message}")
            }
            ProcessError::Exited { pid, code } => {
                write!(f, "process {pid} exited with code {code} before replying")
            }
            ProcessError::ResultTooLarge { pid, len, max } => write!(
                f,
                "the result of process {pid} takes {len} bytes, more than the limit \
                 of {max} bytes on one message (see max_message_size)"
            ),
            ProcessError::Signaled { pid, signal } => write!(
                f,
                "process {pid} was killed by signal {signal} ({})",
                signal_name(*signal)
            ),
            ProcessError::Channel { pid, source } => {
                write!(f, "the channel to process {pid} failed: {source}")
            }
            ProcessError::Refused { pid, reason } => {
                write!(f, "process {pid} could not run the function: {reason}")
            }
            ProcessError::WorkerDied { pid, cause } => {
                write!(
                    f,
                    "worker process {pid} died ({cause}) while running this task"
                )
            }
            ProcessError::TimedOut { pid } => {
                write!(f, "the task timed out; worker process {pid} was killed")
            }
            ProcessError::Timeout => f.write_str("timed out waiting for the process"),
            ProcessError::NotStarted => f.write_str("the process has not been started"),
            ProcessError::AlreadyJoined => f.write_str("the process was already joined"),
            ProcessError::Start(e) => write!(f, "cannot start the process: {e}"),
            ProcessError::PoolClosed => f.write_str("the process pool was terminated"),
            ProcessError::Cancelled => f.write_str("the pool task was cancelled before it ran"),
            ProcessError::StillRunning => {
                f.write_str("cannot close a process that is still running")
            }
            ProcessError::Closed => f.write_str("the process object is closed"),
            #[cfg(feature = "cluster")]
            ProcessError::Cluster(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProcessError::Channel { source, .. } => Some(source),
            ProcessError::Start(e) => Some(e),
            #[cfg(feature = "cluster")]
            ProcessError::Cluster(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StartError> for ProcessError {
    fn from(e: StartError) -> ProcessError {
        ProcessError::Start(e)
    }
}

/// Why a process could not be started.
///
/// # Examples
/// ```
/// use brigade::process::{ProcessPool, StartError};
///
/// assert!(matches!(ProcessPool::new(0), Err(StartError::NoWorkers)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The function captures state (a closure with captures), which a
    /// child cannot receive. Pass a fn item or a capture-free closure and
    /// send the state as an argument.
    Captures {
        /// The function's type.
        function: &'static str,
    },
    /// The function's code is in a shared library rather than in the
    /// executable, so the child cannot find it.
    NotInExecutable {
        /// The function's type.
        function: &'static str,
    },
    /// The arguments could not be encoded.
    Encode(FrameError),
    /// The operating system refused to start the child.
    Io(io::Error),
    /// `start` was already called.
    AlreadyStarted,
    /// The encoded arguments take more bytes than the limit on one message
    /// (`max_message_size`, or
    /// [`DEFAULT_MAX_MESSAGE`](super::frame::DEFAULT_MAX_MESSAGE)). Nothing
    /// was sent and no worker was touched.
    TooLarge {
        /// The size of the encoded call.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A pool of zero workers was asked for (`ProcessPool::new(0)`; Python's
    /// `ValueError: Number of processes must be at least 1`), as a thread
    /// pool refuses with [`PoolError::NoWorkers`](crate::thread::PoolError::NoWorkers).
    ///
    /// ```
    /// use brigade::process::{ProcessPool, StartError};
    /// assert!(matches!(ProcessPool::new(0), Err(StartError::NoWorkers)));
    /// ```
    NoWorkers,
    /// A chunk size of zero was asked for (Python's `ValueError: Chunksize
    /// must be 1+`): a chunk holds at least one item.
    ///
    /// ```
    /// use brigade::process::{ProcessPool, StartError};
    /// fn id(n: u8) -> u8 { n }
    /// let pool = ProcessPool::new(1).unwrap();
    /// assert!(matches!(pool.imap_chunked(id, [1], 0), Err(StartError::ZeroChunksize)));
    /// ```
    ZeroChunksize,
    /// `start` on a [`Process`](super::Process) that was closed.
    Closed,
    /// A cluster pool could not reach its broker, its URL is not usable,
    /// or its initializer cannot travel (cargo feature `cluster`; see
    /// [`ClusterError`](super::ClusterError)).
    #[cfg(feature = "cluster")]
    Cluster(super::ClusterError),
}

impl From<Unnameable> for StartError {
    fn from(u: Unnameable) -> StartError {
        match u {
            Unnameable::Captures(function) => StartError::Captures { function },
            Unnameable::NotInExecutable(function) => StartError::NotInExecutable { function },
        }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Captures { function } => write!(
                f,
                "`{function}` captures state, which a child process cannot receive: \
                 pass a fn item or a closure without captures, and the state as arguments"
            ),
            StartError::NotInExecutable { function } => write!(
                f,
                "`{function}` lives in a shared library, not in the executable, \
                 so a child process cannot find it"
            ),
            StartError::Encode(e) => write!(f, "cannot encode the arguments: {e}"),
            StartError::Io(e) => write!(f, "cannot start the child process: {e}"),
            StartError::AlreadyStarted => f.write_str("the process was already started"),
            StartError::NoWorkers => f.write_str("a process pool needs at least one worker"),
            StartError::ZeroChunksize => f.write_str("a chunk size must be at least 1"),
            StartError::Closed => f.write_str("the process object is closed"),
            StartError::TooLarge { len, max } => write!(
                f,
                "the arguments take {len} bytes, more than the limit of {max} bytes \
                 on one message (see max_message_size)"
            ),
            #[cfg(feature = "cluster")]
            StartError::Cluster(e) => write!(f, "cannot start the cluster pool: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Encode(e) => Some(e),
            StartError::Io(e) => Some(e),
            #[cfg(feature = "cluster")]
            StartError::Cluster(e) => Some(e),
            _ => None,
        }
    }
}
