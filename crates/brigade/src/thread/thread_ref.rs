//! [`ThreadRef`]: one thread's identity, shared: its name, its idents,
//! its daemon flag and whether it is alive (what Python's
//! `threading.current_thread()` returns).
//!
//! The identity is one reference-counted record, so a `ThreadRef` is cheap
//! to clone and to send, and two refer to the same thread exactly when
//! they share the record. The name and the brigade ident are fixed when
//! the record is made; the life (not started, running, finished) and the
//! kernel's thread id change under a small mutex, and the daemon flag is an
//! atomic. A ref joins the process-wide table of live threads
//! (`registry.rs`) when its thread starts and leaves it when it ends.
//!
//! ```
//! use brigade::thread::{self, Thread};
//!
//! let mut t = Thread::builder().name("proofer").build_fn(|| ());
//! let r = t.thread_ref();
//! assert!(!r.is_alive() && r.ident().is_none()); // not started yet
//! assert_eq!(format!("{r:?}"), "<Thread(proofer, initial)>"); // Python's repr
//! t.start().unwrap();
//! t.join().unwrap();
//! assert!(!r.is_alive());
//! assert_eq!(r, t.thread_ref()); // the same thread
//! assert_ne!(r, thread::current_thread());
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
// Refs live in the registry, a global static; loom's types cannot live in
// statics.
use std::sync::{Arc, Mutex, MutexGuard};

use super::registry::{CURRENT, IDENT, Slot, registry};
use crate::sys;

/// Where a thread came from; decides its name and its place at exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Made by [`Thread`](super::Thread).
    Brigade,
    /// The process's first thread.
    Main,
    /// Started outside brigade; known because it asked who it is.
    Dummy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    New,
    Running,
    Finished,
}

pub(crate) struct Inner {
    pub(super) ident: u64,
    // A String, not a Box<str>: converting would reallocate to shrink.
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) daemon: AtomicBool,
    pub(super) life: Mutex<Life>,
}

pub(super) struct Life {
    pub(super) status: Status,
    native_id: Option<u64>,
}

/// A shared reference to one thread's identity: its name, ids, daemon flag
/// and whether it is alive. Cheap to clone; what [`current_thread`](super::current_thread),
/// [`main_thread`](super::main_thread) and [`enumerate`](super::enumerate) return, and what
/// [`Thread::thread_ref`](super::Thread::thread_ref) lends out.
///
/// # Examples
/// ```
/// use brigade::thread::{self, ThreadRef};
///
/// let mut t = thread::Thread::builder().name("watched").build_fn(|| ());
/// let watch: ThreadRef = t.thread_ref();
/// let watcher = std::thread::spawn(move || watch.name().to_string()); // Send
/// t.start().unwrap();
/// t.join().unwrap();
/// assert_eq!(watcher.join().unwrap(), "watched");
/// ```
#[derive(Clone)]
pub struct ThreadRef(pub(crate) Arc<Inner>);

impl ThreadRef {
    pub(crate) fn new(name: String, kind: Kind, daemon: bool) -> ThreadRef {
        ThreadRef::with_ident(next_ident(), name, kind, daemon)
    }

    pub(super) fn with_ident(ident: u64, name: String, kind: Kind, daemon: bool) -> ThreadRef {
        let (status, native_id) = match kind {
            Kind::Brigade => (Status::New, None),
            Kind::Main => (Status::Running, Some(sys::thread::getpid())),
            Kind::Dummy => (Status::Running, Some(sys::thread::gettid())),
        };
        ThreadRef(Arc::new(Inner {
            ident,
            name,
            kind,
            daemon: AtomicBool::new(daemon),
            life: Mutex::new(Life { status, native_id }),
        }))
    }

    pub(super) fn life(&self) -> MutexGuard<'_, Life> {
        // Every critical section assigns a field or two; a panic cannot
        // leave them half-written.
        self.0.life.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The thread's name: `Thread-N (target)` unless one was given,
    /// `MainThread` for the main thread, and for a thread started outside
    /// brigade its OS name, or `Dummy-N` (see [`current_thread`](super::current_thread)).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(brigade::thread::main_thread().name(), "MainThread");
    /// ```
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Python's `ident`: a number that identifies the thread within the
    /// process for as long as it lives (and is never reused, unlike
    /// Python's). `None` before the thread is started.
    ///
    /// # Examples
    /// ```
    /// let me = brigade::thread::current_thread();
    /// assert_eq!(me.ident(), Some(brigade::thread::get_ident()));
    /// ```
    pub fn ident(&self) -> Option<u64> {
        (self.life().status != Status::New).then_some(self.0.ident)
    }

    /// The kernel's id of the thread (`gettid`), as `ps -L` and `top -H`
    /// show it. `None` before the thread is started; right after
    /// [`start`](super::Thread::start) this waits the few microseconds the
    /// new thread takes to report it.
    ///
    /// # Examples
    /// ```
    /// let me = brigade::thread::current_thread();
    /// assert_eq!(me.native_id(), Some(brigade::thread::get_native_id()));
    /// ```
    pub fn native_id(&self) -> Option<u64> {
        loop {
            let life = self.life();
            match (life.status, life.native_id) {
                (Status::New, _) => return None,
                (_, Some(id)) => return Some(id),
                // Its first act is to report it; a start that failed
                // reports nothing.
                (Status::Finished, None) => return None,
                // Started, not yet running: the id is moments away. A
                // condition variable here would cost every thread's start a
                // wake-up call for the sake of this rare question.
                (Status::Running, None) => {
                    drop(life);
                    std::thread::yield_now();
                }
            }
        }
    }

    /// Whether the program's exit abandons this thread instead of waiting
    /// for it. Threads started outside brigade count as daemons: brigade
    /// never waits for them.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Thread::builder().daemon(true).build_fn(|| ());
    /// assert!(t.thread_ref().is_daemon());
    /// // A thread brigade did not start counts as a daemon.
    /// let outside = std::thread::spawn(|| brigade::thread::current_thread().is_daemon());
    /// assert!(outside.join().unwrap());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.0.daemon.load(Ordering::Relaxed)
    }

    /// Whether the thread has started and its target has not yet returned.
    ///
    /// # Examples
    /// ```
    /// assert!(brigade::thread::current_thread().is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.life().status == Status::Running
    }

    /// Whether this is the process's main thread.
    ///
    /// # Examples
    /// ```
    /// assert!(brigade::thread::main_thread().is_main());
    /// let t = brigade::thread::spawn(|| brigade::thread::current_thread().is_main()).unwrap();
    /// assert!(!t.into_result().unwrap());
    /// ```
    pub fn is_main(&self) -> bool {
        self.0.kind == Kind::Main
    }

    pub(crate) fn kind(&self) -> Kind {
        self.0.kind
    }

    pub(crate) fn raw_ident(&self) -> u64 {
        self.0.ident
    }

    pub(crate) fn set_daemon(&self, daemon: bool) {
        self.0.daemon.store(daemon, Ordering::Relaxed);
    }

    pub(crate) fn is_started(&self) -> bool {
        self.life().status != Status::New
    }

    /// Marks a brigade thread started and counts it as alive. The caller
    /// then spawns the OS thread, or calls [`unstart`](Self::unstart) if
    /// that fails.
    pub(crate) fn mark_started(&self) {
        self.life().status = Status::Running;
        registry().insert(self);
    }

    /// Undoes [`mark_started`](Self::mark_started) after a failed spawn.
    pub(crate) fn unstart(&self) {
        self.life().status = Status::Finished;
        registry().remove(self);
    }

    /// Runs first on the new thread: installs it as the current thread and
    /// reports its kernel id.
    pub(crate) fn enter(&self) {
        IDENT.with(|id| id.set(self.0.ident));
        CURRENT.with(|current| *current.borrow_mut() = Some(Slot(self.clone())));
        self.life().native_id = Some(sys::thread::gettid());
    }

    /// Runs last on a brigade thread, after its target returned or panicked.
    pub(crate) fn finish(&self) {
        self.life().status = Status::Finished;
        registry().remove(self);
    }
}

impl PartialEq for ThreadRef {
    fn eq(&self, other: &ThreadRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ThreadRef {}

impl fmt::Debug for ThreadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.life().status {
            Status::New => "initial",
            Status::Running => "started",
            Status::Finished => "stopped",
        };
        // Python's repr: <Thread(Thread-1 (f), started daemon 140)>.
        write!(f, "<Thread({}, {status}", self.name())?;
        if self.is_daemon() {
            f.write_str(" daemon")?;
        }
        if status != "initial" {
            write!(f, " {}", self.0.ident)?;
        }
        f.write_str(")>")
    }
}

impl fmt::Display for ThreadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub(super) fn next_ident() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
