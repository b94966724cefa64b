//! [`ThreadError`]: every way a [`Thread`](super::Thread) call can fail.
//!
//! Python raises `RuntimeError` for the misuses (starting twice, joining
//! before start, changing `daemon` on a running thread) and re-raises
//! nothing when a thread's target fails. Brigade returns one typed error for
//! all of them, whose message says what happened and to which thread; a
//! target's panic reaches `join` as [`ThreadError::Panicked`], carrying the
//! panic so the caller may read its message or re-raise it.
//!
//! ```
//! use brigade::thread::{Thread, ThreadError};
//!
//! let mut t = Thread::builder().name("boom").build_fn(|| -> u32 { panic!("out of flour") });
//! assert!(matches!(t.join(), Err(ThreadError::NotStarted { .. })));
//! t.start().unwrap();
//! let err = t.join().unwrap_err();
//! assert_eq!(err.panic_message(), Some("out of flour"));
//! assert_eq!(err.to_string(), "thread boom panicked: out of flour");
//! ```

use std::fmt;

use crate::event_loop::Panic;

/// Why a [`Thread`](super::Thread) operation failed. Each variant names the
/// thread concerned.
///
/// # Examples
/// ```
/// use brigade::thread::{Thread, ThreadError};
///
/// let mut t = Thread::builder().name("idle").build_fn(|| ());
/// let e = t.join().unwrap_err();
/// assert!(matches!(e, ThreadError::NotStarted { .. }));
/// assert_eq!(e.thread_name(), "idle");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ThreadError {
    /// [`start`](super::Thread::start) on a thread already started.
    AlreadyStarted {
        /// The thread's name.
        name: String,
    },
    /// A join on a thread that was never started.
    NotStarted {
        /// The thread's name.
        name: String,
    },
    /// A join on a thread whose result was already taken by an earlier join.
    AlreadyJoined {
        /// The thread's name.
        name: String,
    },
    /// A thread tried to join itself, which would wait forever.
    JoinSelf {
        /// The thread's name.
        name: String,
    },
    /// [`join_timeout`](super::Thread::join_timeout) ran out of time; the
    /// thread still runs and may be joined again.
    Timeout {
        /// The thread's name.
        name: String,
    },
    /// [`set_daemon`](super::Thread::set_daemon) on a started thread.
    DaemonAfterStart {
        /// The thread's name.
        name: String,
    },
    /// The target panicked; the panic was caught on its thread.
    Panicked {
        /// The thread's name.
        name: String,
        /// The panic: its message, and the payload to re-raise it.
        panic: Panic,
    },
    /// The operating system refused to start the thread (too many threads,
    /// not enough memory for its stack).
    Spawn {
        /// The thread's name.
        name: String,
        /// The system's reason.
        error: std::io::Error,
    },
}

impl ThreadError {
    /// The name of the thread the error is about.
    ///
    /// # Examples
    /// ```
    /// let mut t = brigade::thread::Thread::builder().name("named").build_fn(|| ());
    /// assert_eq!(t.join().unwrap_err().thread_name(), "named");
    /// ```
    pub fn thread_name(&self) -> &str {
        match self {
            ThreadError::AlreadyStarted { name }
            | ThreadError::NotStarted { name }
            | ThreadError::AlreadyJoined { name }
            | ThreadError::JoinSelf { name }
            | ThreadError::Timeout { name }
            | ThreadError::DaemonAfterStart { name }
            | ThreadError::Panicked { name, .. }
            | ThreadError::Spawn { name, .. } => name,
        }
    }

    /// The panic message, if the target panicked.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::spawn(|| -> () { panic!("no flour") }).unwrap();
    /// assert_eq!(t.into_result().unwrap_err().panic_message(), Some("no flour"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            ThreadError::Panicked { panic, .. } => Some(panic.message()),
            _ => None,
        }
    }

    /// Whether a timed join ran out of time (the thread may be joined again).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let (go, gate) = std::sync::mpsc::channel::<()>();
    /// let mut t = brigade::thread::spawn(move || gate.recv().unwrap()).unwrap();
    /// assert!(t.join_timeout(Duration::ZERO).unwrap_err().is_timeout());
    /// go.send(()).unwrap();
    /// t.join().unwrap();
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, ThreadError::Timeout { .. })
    }

    /// The panic, to re-raise it with [`Panic::resume`], if the target
    /// panicked.
    ///
    /// # Examples
    /// Re-raising a thread's panic on the joining thread:
    /// ```
    /// let t = brigade::thread::spawn(|| -> () { panic!("oven fire") }).unwrap();
    /// let panic = t.into_result().unwrap_err().into_panic().unwrap();
    /// let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || panic.resume()));
    /// assert!(caught.is_err());
    /// ```
    pub fn into_panic(self) -> Option<Panic> {
        match self {
            ThreadError::Panicked { panic, .. } => Some(panic),
            _ => None,
        }
    }
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadError::AlreadyStarted { name } => {
                write!(f, "thread {name}: threads can only be started once")
            }
            ThreadError::NotStarted { name } => {
                write!(f, "cannot join thread {name}: it was never started")
            }
            ThreadError::AlreadyJoined { name } => {
                write!(f, "thread {name} was already joined; its result was taken")
            }
            ThreadError::JoinSelf { name } => {
                write!(f, "thread {name} cannot join itself: it would wait forever")
            }
            ThreadError::Timeout { name } => {
                write!(f, "timed out joining thread {name}; it is still running")
            }
            ThreadError::DaemonAfterStart { name } => write!(
                f,
                "cannot set the daemon status of thread {name}: it has already started"
            ),
            ThreadError::Panicked { name, panic } => {
                write!(f, "thread {name} panicked: {}", panic.message())
            }
            ThreadError::Spawn { name, error } => {
                write!(f, "cannot start thread {name}: {error}")
            }
        }
    }
}

impl std::error::Error for ThreadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ThreadError::Spawn { error, .. } => Some(error),
            _ => None,
        }
    }
}
