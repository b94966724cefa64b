//! [`Process`]: a Rust function running in a child process, as Python's
//! `multiprocessing.Process`.
//!
//! A `Process` is made with its function and arguments, configured
//! (name, daemon flag, start method, message limit), then started; this
//! file holds those steps and the questions one asks a started child
//! (`pid`, `is_alive`, `exitcode`), and `close`. Waiting for the result is
//! in `join.rs`, ending a child early in `kill.rs`.
//!
//! ```
//! use brigade::process::Process;
//!
//! fn square(n: u64) -> u64 {
//!     n * n
//! }
//!
//! let mut p = Process::new(square, (4,));
//! p.start().unwrap();
//! assert!(p.pid().is_some());
//! assert_eq!(p.join().unwrap(), 16);
//! assert_eq!(p.exitcode(), Some(0));
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::child::{Call, Hello};
use super::error::{Exit, ProcessError, StartError};
use super::frame;
use super::function::{Callable, FnRef};
use super::spawn::{Child, StartMethod};
use super::transfer::{self, Encoded};

/// A function to run in a child process; see the [module](super) docs.
///
/// # Examples
/// Python's `Process(target=f, args=(x,))`, `start()`, `join()`, with the
/// result handed back:
/// ```
/// use brigade::process::Process;
///
/// fn shout(word: String) -> String {
///     word.to_uppercase()
/// }
///
/// let mut p = Process::new(shout, ("hello".to_string(),)).with_name("shouter");
/// p.start().unwrap();
/// assert_ne!(p.pid(), Some(std::process::id()));
/// assert_eq!(p.join().unwrap(), "HELLO");
/// assert_eq!(p.exitcode(), Some(0));
/// ```
pub struct Process<R> {
    // The fields that `join.rs` and `kill.rs` read are `pub(super)`.
    pub(super) name: String,
    daemon: bool,
    method: StartMethod,
    call: Option<Result<(FnRef, Encoded), StartError>>,
    pub(super) max_message: usize,
    pub(super) child: Option<Arc<Child>>,
    pub(super) joined: bool,
    /// [`close`](Self::close) released the child.
    pub(super) closed: bool,
    /// When the child started, on the process-wide trace, if one is set.
    pub(super) traced_start: Option<Duration>,
    _result: PhantomData<fn() -> R>,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

impl<R: DeserializeOwned> Process<R> {
    /// A process that will call `f` with the argument tuple `args`
    /// (`(2,)` for one argument, as in Python's `args=(2,)`).
    ///
    /// `f` must be a fn item or a closure that captures nothing; anything
    /// else is refused by [`start`](Self::start).
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Process, StartError};
    ///
    /// fn add(a: u64, b: u64) -> u64 {
    ///     a + b
    /// }
    ///
    /// let mut p = Process::new(add, (40, 2));
    /// p.start().unwrap();
    /// assert_eq!(p.join().unwrap(), 42);
    ///
    /// let offset = 1;
    /// let mut refused = Process::new(move |x: u64| x + offset, (1,)); // captures `offset`
    /// assert!(matches!(refused.start(), Err(StartError::Captures { .. })));
    /// ```
    pub fn new<F, Args>(f: F, args: Args) -> Process<R>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize,
    {
        // The function is named by its type (zero-sized): the value carries
        // nothing to send.
        let _ = f;
        let call = prepare(FnRef::single::<F, Args>(), &args);
        Process {
            name: format!("Process-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
            daemon: false,
            method: StartMethod::default(),
            call: Some(call),
            max_message: frame::DEFAULT_MAX_MESSAGE,
            child: None,
            joined: false,
            closed: false,
            traced_start: None,
            _result: PhantomData,
        }
    }

    /// Names the process (the default is `Process-N`).
    ///
    /// # Examples
    /// ```
    /// fn noop() {}
    /// let p = brigade::process::Process::new(noop, ()).with_name("indexer");
    /// assert_eq!(p.name(), "indexer");
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Process<R> {
        self.name = name.into();
        self
    }

    /// A daemon process is killed when its parent process ends, however it
    /// ends (and when its `Process` is dropped unjoined). The default is
    /// `false`: the child runs on, and is reaped when it ends.
    ///
    /// # Examples
    /// ```
    /// fn noop() {}
    /// let p = brigade::process::Process::new(noop, ()).daemon(true);
    /// assert!(p.is_daemon());
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Process<R> {
        self.daemon = daemon;
        self
    }

    /// The limit on one message between this process and its child, either
    /// way: the encoded arguments, and the encoded result (the default is
    /// [`DEFAULT_MAX_MESSAGE`](frame::DEFAULT_MAX_MESSAGE), 256 MiB; at
    /// most [`MAX_PAYLOAD`](frame::MAX_PAYLOAD), 1 GiB). Arguments above
    /// it are [`StartError::TooLarge`] from [`start`](Self::start); a result
    /// above it is [`ProcessError::ResultTooLarge`]. Whatever size a child
    /// announces is checked against it before anything is allocated.
    ///
    /// ```
    /// use brigade::process::{Process, ProcessError};
    ///
    /// fn zeros(n: usize) -> Vec<u8> {
    ///     vec![0; n]
    /// }
    ///
    /// let mut p = Process::new(zeros, (4096,)).max_message_size(1024);
    /// p.start().unwrap();
    /// assert!(matches!(p.join(), Err(ProcessError::ResultTooLarge { max: 1024, .. })));
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> Process<R> {
        self.max_message = bytes.min(frame::MAX_PAYLOAD);
        self
    }

    /// Chooses the start method (the default is [`StartMethod::Spawn`]).
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Process, StartMethod};
    ///
    /// fn pid() -> u32 {
    ///     std::process::id()
    /// }
    ///
    /// let mut p = Process::new(pid, ()).start_method(StartMethod::Forkserver);
    /// p.start().unwrap();
    /// let child = p.pid().unwrap();
    /// assert_eq!(p.join().unwrap(), child);
    /// ```
    pub fn start_method(mut self, method: StartMethod) -> Process<R> {
        self.method = method;
        self
    }

    /// Starts the child. A function the child could not run, or arguments
    /// that cannot be encoded, are refused here.
    ///
    /// With [`StartMethod::Forkserver`] this only asks the server for a
    /// worker and returns: starting many processes keeps the server
    /// forking back to back. The first call that needs the child
    /// ([`pid`](Self::pid), [`join`](Self::join), ...) waits for the
    /// server's answer; a fork the server could not make is then a
    /// [`ProcessError::Start`] from `join` (and `pid` is `None`).
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Process, StartError};
    ///
    /// fn noop() {}
    ///
    /// let mut p = Process::new(noop, ());
    /// p.start().unwrap();
    /// assert!(matches!(p.start(), Err(StartError::AlreadyStarted)));
    /// p.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// [`StartError::AlreadyStarted`], [`StartError::Captures`] (a closure
    /// with captures), [`StartError::NotInExecutable`], [`StartError::Encode`]
    /// and [`StartError::TooLarge`] for arguments, [`StartError::Closed`] after
    /// [`close`](Self::close), [`StartError::Io`] if the system refuses the
    /// child.
    pub fn start(&mut self) -> Result<(), StartError> {
        if self.closed {
            return Err(StartError::Closed);
        }
        let (function, args) = match self.call.take() {
            None => return Err(StartError::AlreadyStarted),
            Some(call) => call?,
        };
        let mut hello = Hello::new(self.daemon, false, self.max_message).map_err(StartError::Io)?;
        hello.name = self.name.clone();
        let mut call = frame::to_payload(&Call { function }).map_err(StartError::Encode)?;
        call.extend_from_slice(&args.bytes);
        // Checked before a child exists: nothing to undo.
        if call.len() > self.max_message {
            return Err(StartError::TooLarge {
                len: call.len(),
                max: self.max_message,
            });
        }
        let child = Child::start(self.method, &hello, Some((&call, &args.raw_fds())))
            .map_err(StartError::Io)?;
        self.traced_start = crate::trace::global().map(|trace| trace.now());
        let child = Arc::new(child);
        super::identity::register_child(&self.name, self.daemon, Arc::downgrade(&child));
        self.child = Some(child);
        Ok(())
    }

    /// The child's process id, once started.
    ///
    /// # Examples
    /// ```
    /// fn noop() {}
    /// let mut p = brigade::process::Process::new(noop, ());
    /// assert_eq!(p.pid(), None);
    /// p.start().unwrap();
    /// assert!(p.pid().is_some());
    /// p.join().unwrap();
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.child.as_deref().and_then(Child::pid)
    }

    /// The process's name.
    ///
    /// # Examples
    /// ```
    /// fn noop() {}
    /// let p = brigade::process::Process::new(noop, ());
    /// assert!(p.name().starts_with("Process-"));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is a daemon process.
    ///
    /// # Examples
    /// ```
    /// fn noop() {}
    /// assert!(!brigade::process::Process::new(noop, ()).is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.daemon
    }

    /// Whether the child has started and not yet ended.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Process, Queue};
    ///
    /// fn wait_for(q: Queue<()>) {
    ///     q.get().unwrap()
    /// }
    ///
    /// let q = Queue::new().unwrap();
    /// let mut p = Process::new(wait_for, (q.clone(),));
    /// assert!(!p.is_alive());
    /// p.start().unwrap();
    /// assert!(p.is_alive()); // blocked on the queue
    /// q.put(&()).unwrap();
    /// p.join().unwrap();
    /// assert!(!p.is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.child
            .as_deref()
            .is_some_and(|c| c.try_status().is_none())
    }

    /// The exit code in Python's convention: `None` while running (or
    /// before start), the code of a normal exit, or minus the number of
    /// the signal that killed it.
    ///
    /// Also `None` if the child has ended but its status is unknown
    /// ([`Exit::Unknown`], only when `SIGCHLD` is ignored on a kernel older
    /// than 6.15): [`is_alive`](Self::is_alive) and
    /// [`exit_status`](Self::exit_status) tell the two apart.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::Process;
    ///
    /// fn spin() {
    ///     loop {
    ///         std::thread::sleep(std::time::Duration::from_secs(1));
    ///     }
    /// }
    ///
    /// let mut p = Process::new(spin, ());
    /// p.start().unwrap();
    /// assert_eq!(p.exitcode(), None); // running
    /// p.kill().unwrap();
    /// assert!(p.join().is_err());
    /// assert_eq!(p.exitcode(), Some(-9)); // minus SIGKILL, as in Python
    /// ```
    pub fn exitcode(&self) -> Option<i32> {
        self.exit_status().and_then(Exit::python_code)
    }

    /// How the child ended: `None` while it runs (or before start).
    ///
    /// When the parent ignores `SIGCHLD` (`SIG_IGN`), the kernel reaps
    /// children itself and discards their status; brigade then reads the
    /// copy that Linux 6.15 and later keeps for the child's pidfd, and
    /// reports [`Exit::Unknown`] on older kernels. [`join`](Self::join)
    /// works either way: the result comes over the channel.
    ///
    /// ```
    /// use brigade::process::{Exit, Process};
    ///
    /// fn quit(code: i32) {
    ///     std::process::exit(code)
    /// }
    ///
    /// let mut p = Process::new(quit, (3,));
    /// p.start().unwrap();
    /// assert!(p.join().is_err());
    /// assert_eq!(p.exit_status(), Some(Exit::Code(3)));
    /// assert_eq!(p.exitcode(), Some(3));
    /// ```
    pub fn exit_status(&self) -> Option<Exit> {
        self.child
            .as_deref()
            .and_then(Child::try_status)
            .map(Exit::from)
    }

    /// Releases the child's resources (its channel and pidfd; Python's
    /// `Process.close()`, 3.7+). Fails with [`ProcessError::StillRunning`]
    /// while the child runs, leaving the process as it was. Once closed,
    /// `start` fails with [`StartError::Closed`] and `join`, `terminate`
    /// and `kill` with [`ProcessError::Closed`] (Python raises
    /// `ValueError`); closing again is harmless. A result the child sent
    /// and nobody joined is dropped.
    ///
    /// Difference from Python: the methods that cannot fail
    /// ([`pid`](Self::pid), [`is_alive`](Self::is_alive),
    /// [`exitcode`](Self::exitcode)) answer `None` or `false` on a closed
    /// process instead of raising.
    ///
    /// ```
    /// use brigade::process::{Process, ProcessError, Queue};
    ///
    /// fn wait_for(q: Queue<()>) { q.get().unwrap() }
    ///
    /// let q = Queue::new().unwrap();
    /// let mut p = Process::new(wait_for, (q.clone(),));
    /// p.start().unwrap();
    /// assert!(matches!(p.close(), Err(ProcessError::StillRunning)));
    /// q.put(&()).unwrap();
    /// p.join().unwrap();
    /// p.close().unwrap();
    /// assert!(matches!(p.join(), Err(ProcessError::Closed)));
    /// ```
    ///
    /// # Errors
    /// [`ProcessError::StillRunning`] while the child runs.
    pub fn close(&mut self) -> Result<(), ProcessError> {
        if self.is_alive() {
            return Err(ProcessError::StillRunning);
        }
        self.closed = true;
        self.call = None;
        // The child has ended: dropping its handle reaps it if `join` has
        // not, and closes the channel and the pidfd.
        self.child = None;
        Ok(())
    }
}

/// Encodes the call, or records why it cannot be made.
pub(crate) fn prepare<Args: Serialize + ?Sized>(
    function: Result<FnRef, super::function::Unnameable>,
    args: &Args,
) -> Result<(FnRef, Encoded), StartError> {
    let function = function.map_err(StartError::from)?;
    let args = transfer::encode(args).map_err(StartError::Encode)?;
    Ok((function, args))
}

impl<R> Drop for Process<R> {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            if self.daemon {
                child.kill();
            }
            // Otherwise the child runs on; Child's drop reaps it later.
        }
    }
}

impl<R> fmt::Debug for Process<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("name", &self.name)
            .field("pid", &self.child.as_deref().map(Child::pid))
            .field("daemon", &self.daemon)
            .finish_non_exhaustive()
    }
}
