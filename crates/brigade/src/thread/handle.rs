//! [`Thread`]: Python's `threading.Thread`, typed.
//!
//! A thread is made from a target and its arguments without running it;
//! [`start`](Thread::start) runs it on a new OS thread, and
//! [`join`](Thread::join) waits for it and hands back what the target
//! returned. Misuse (starting twice, joining a thread never started,
//! changing `daemon` after start) is a [`ThreadError`], never a panic.
//!
//! ```
//! use brigade::thread::Thread;
//!
//! fn squares(n: u64) -> Vec<u64> {
//!     (1..=n).map(|i| i * i).collect()
//! }
//!
//! let mut t = Thread::new(squares, (5,));
//! assert!(!t.is_alive() && t.ident().is_none());
//! assert!(t.name().starts_with("Thread-") && t.name().ends_with(" (squares)"));
//! t.start().unwrap();
//! assert!(t.start().is_err()); // threads can only be started once
//! assert_eq!(t.join().unwrap(), [1, 4, 9, 16, 25]);
//! assert!(!t.is_alive());
//! ```
//!
//! # How a thread reports back
//! The new thread catches its target's panic, marks itself finished in the
//! registry, then stores the outcome in a completion cell (`completion.rs`,
//! a trimmed [`oneshot`](crate::sync::oneshot)) from its last
//! thread-local destructor (`exit.rs`). The cell is what lets one handle
//! be joined in three ways: blocking ([`join`](Thread::join)), with a time
//! limit ([`join_timeout`](Thread::join_timeout)), or by awaiting it on an
//! event loop ([`join_async`](Thread::join_async), or `.await` on the
//! thread), which suspends only the awaiting task. Every join returns only
//! when the OS thread has really ended, as `std`'s does: a blocking join
//! simply joins it (the cell is full by then); a join with a time limit or
//! an awaited one waits on the cell, then joins the OS thread, of which
//! only the C library's teardown is left, so this last wait is short, even
//! on a loop. A thread dropped unjoined is detached.
//!
//! The OS thread is named after the brigade thread; the kernel keeps 15
//! bytes of it, cut on a character boundary.
//!
//! The handle is in three files: this one (the thread, `start` and what it
//! tells about itself), its options ([`Builder`](super::Builder),
//! `builder.rs`) and the ways to join it (`join.rs`).

use std::cell::Cell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use super::builder::Builder;
use super::completion::Completion;
use super::error::ThreadError;
use super::exit;
use super::target::Target;
use super::thread_ref::ThreadRef;
use crate::event_loop::Panic;
use crate::loom::sync::Arc;
use crate::sys;

pub(super) type Outcome<R> = Result<R, Panic>;

/// A started thread: its outcome cell, and the OS thread to join once the
/// cell is full.
pub(super) struct Running<R> {
    pub(super) outcome: Arc<Completion<Outcome<R>>>,
    pub(super) os: std::thread::JoinHandle<()>,
}

/// A thread of execution, like Python's `threading.Thread`; `R` is what its
/// target returns. Made without running; [`start`](Self::start) runs it
/// once, [`join`](Self::join) hands back the result.
///
/// # Examples
/// Python's `t = Thread(target=f, args=(2, 3)); t.start(); t.join()`:
/// ```
/// use brigade::thread::Thread;
///
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
///
/// let mut t = Thread::new(add, (2, 3));
/// assert!(!t.is_alive());
/// t.start().unwrap();
/// assert_eq!(t.join().unwrap(), 5);
/// ```
pub struct Thread<R> {
    pub(super) me: ThreadRef,
    pub(super) stack_size: Option<usize>,
    pub(super) state: State<R>,
}

pub(super) enum State<R> {
    New(Box<dyn FnOnce() -> R + Send>),
    Running(Running<R>),
    Joined,
    /// `start` failed: the OS refused the thread and the target is gone.
    Failed,
}

impl<R: Send + 'static> Thread<R> {
    /// Makes a thread that will run `target(args...)`, like
    /// `threading.Thread(target=target, args=args)`. `args` is a tuple of
    /// up to six values: `(5,)` for one, `()` for none.
    ///
    /// # Examples
    /// ```
    /// use brigade::thread::Thread;
    ///
    /// let mut t = Thread::new(|name: &str| name.len(), ("brigade",));
    /// t.start().unwrap();
    /// assert_eq!(t.join().unwrap(), 7);
    /// ```
    pub fn new<F, A>(target: F, args: A) -> Thread<R>
    where
        F: Target<A, Output = R>,
        A: Send + 'static,
    {
        Builder::new().build(target, args)
    }

    /// Makes a thread that will run the closure `f`.
    ///
    /// # Examples
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicU32, Ordering}};
    /// use brigade::thread::Thread;
    ///
    /// let hits = Arc::new(AtomicU32::new(0));
    /// let h = hits.clone();
    /// let mut t = Thread::from_fn(move || h.fetch_add(1, Ordering::SeqCst));
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert_eq!(hits.load(Ordering::SeqCst), 1);
    /// ```
    pub fn from_fn<F>(f: F) -> Thread<R>
    where
        F: FnOnce() -> R + Send + 'static,
    {
        Builder::new().build_fn(f)
    }
}

impl Thread<()> {
    /// Options for a new thread: the same as [`Builder::new`]. (It sits on
    /// `Thread<()>` only so that `Thread::builder()` needs no type
    /// annotation; the builder makes threads of any result type.)
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Thread::builder().name("b").spawn(|| 2).unwrap();
    /// assert_eq!(t.into_result().unwrap(), 2);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }
}

impl<R> Thread<R> {
    /// Starts the thread: runs its target on a new OS thread. A thread is
    /// started at most once.
    ///
    /// # Examples
    /// ```
    /// use brigade::thread::{Thread, ThreadError};
    ///
    /// let mut t = Thread::from_fn(|| ());
    /// t.start().unwrap();
    /// assert!(matches!(t.start(), Err(ThreadError::AlreadyStarted { .. })));
    /// t.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::AlreadyStarted`] on a second start;
    /// [`ThreadError::Spawn`] if the operating system refuses the thread.
    pub fn start(&mut self) -> Result<(), ThreadError>
    where
        R: Send + 'static,
    {
        let target = match std::mem::replace(&mut self.state, State::Failed) {
            State::New(target) => target,
            other => {
                self.state = other;
                return Err(ThreadError::AlreadyStarted {
                    name: self.name().to_string(),
                });
            }
        };
        let cell = Completion::new();
        let me = self.me.clone();
        let name = self.me.name();
        // std refuses names with a NUL; it is also where the kernel stops.
        let name = name.split('\0').next().unwrap_or("");
        let mut os = std::thread::Builder::new().name(name.to_string());
        if let Some(bytes) = self.stack_size {
            os = os.stack_size(bytes);
        }
        self.me.mark_started();
        let done = cell.clone();
        let spawned = os.spawn(move || {
            // First, so that it is the last thread-local destructor to run:
            // joiners wake once the thread-locals are gone.
            let handed: Rc<Cell<Option<Outcome<R>>>> = Rc::default();
            let take = handed.clone();
            exit::at_thread_exit(move || done.finish(take.take()));
            me.enter();
            fix_kernel_name(me.name());
            let traced = crate::trace::global().map(|trace| (trace, trace.now()));
            let outcome = {
                let _living = crate::trace::emit::thread(me.name());
                catch_unwind(AssertUnwindSafe(target)).map_err(Panic::new)
            };
            if let Err(panic) = &outcome {
                super::excepthook::report(&me, panic);
            }
            if let Some((trace, start)) = traced {
                let track = crate::trace::Track::Thread(me.ident().unwrap_or(0));
                trace.label(track.clone(), me.name().to_string());
                trace.span(
                    track,
                    "thread",
                    me.name().to_string(),
                    start,
                    trace.now() - start,
                );
            }
            me.finish();
            handed.set(Some(outcome));
        });
        match spawned {
            Ok(os) => {
                self.state = State::Running(Running { outcome: cell, os });
                Ok(())
            }
            Err(error) => {
                self.me.unstart();
                Err(ThreadError::Spawn {
                    name: self.name().to_string(),
                    error,
                })
            }
        }
    }

    /// The thread's name; see [`ThreadRef::name`].
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Thread::builder().name("reader").build_fn(|| ());
    /// assert_eq!(t.name(), "reader");
    /// ```
    pub fn name(&self) -> &str {
        self.me.name()
    }

    /// Python's `ident`; `None` before start. See [`ThreadRef::ident`].
    ///
    /// # Examples
    /// ```
    /// let mut t = brigade::thread::Thread::from_fn(brigade::thread::get_ident);
    /// assert_eq!(t.ident(), None);
    /// t.start().unwrap();
    /// let ident = t.ident();
    /// assert_eq!(Some(t.join().unwrap()), ident);
    /// ```
    pub fn ident(&self) -> Option<u64> {
        self.me.ident()
    }

    /// The kernel's thread id; `None` before start. See
    /// [`ThreadRef::native_id`].
    ///
    /// # Examples
    /// ```
    /// let mut t = brigade::thread::Thread::from_fn(brigade::thread::get_native_id);
    /// t.start().unwrap();
    /// let tid = t.native_id().unwrap();
    /// assert_eq!(t.join().unwrap(), tid);
    /// ```
    pub fn native_id(&self) -> Option<u64> {
        self.me.native_id()
    }

    /// Whether the program's exit abandons this thread.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Thread::from_fn(|| ());
    /// assert!(!t.is_daemon()); // made by a non-daemon thread
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.me.is_daemon()
    }

    /// Sets the daemon flag; only before [`start`](Self::start).
    ///
    /// # Examples
    /// ```
    /// use brigade::thread::{Thread, ThreadError};
    ///
    /// let mut t = Thread::from_fn(|| ());
    /// t.set_daemon(true).unwrap();
    /// t.start().unwrap();
    /// assert!(matches!(t.set_daemon(false), Err(ThreadError::DaemonAfterStart { .. })));
    /// t.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::DaemonAfterStart`] once the thread has started.
    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), ThreadError> {
        if self.me.is_started() {
            return Err(ThreadError::DaemonAfterStart {
                name: self.name().to_string(),
            });
        }
        self.me.set_daemon(daemon);
        Ok(())
    }

    /// Whether the thread has started and its target has not returned.
    ///
    /// # Examples
    /// ```
    /// let mut t = brigade::thread::Thread::from_fn(|| ());
    /// assert!(!t.is_alive()); // not started
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert!(!t.is_alive()); // finished
    /// ```
    pub fn is_alive(&self) -> bool {
        self.me.is_alive()
    }

    /// A shareable reference to this thread's identity, which other threads
    /// may hold to watch it.
    ///
    /// # Examples
    /// ```
    /// let mut t = brigade::thread::Thread::builder().name("watched").build_fn(|| ());
    /// let watcher = t.thread_ref(); // Clone + Send: another thread may hold it
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert_eq!(watcher.name(), "watched");
    /// assert!(!watcher.is_alive());
    /// ```
    pub fn thread_ref(&self) -> ThreadRef {
        self.me.clone()
    }
}

/// std cut the kernel's copy of the name at byte 15, maybe inside a
/// character; name the thread again if so.
fn fix_kernel_name(name: &str) {
    if name.len() > sys::thread::NAME_MAX && !name.is_char_boundary(sys::thread::NAME_MAX) {
        // A thread may always rename itself; if the kernel refused, the
        // name would only be cosmetic anyway.
        let _ = sys::thread::set_name(name);
    }
}

impl<R> fmt::Debug for Thread<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.me, f)
    }
}
