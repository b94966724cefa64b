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

use std::cell::Cell;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use super::completion::Completion;
use super::error::ThreadError;
use super::exit;
use super::registry::{self, Kind, ThreadRef};
use super::target::{Target, target_name};
use crate::event_loop::Panic;
use crate::loom::sync::Arc;
use crate::sys;

type Outcome<R> = Result<R, Panic>;

/// A started thread: its outcome cell, and the OS thread to join once the
/// cell is full.
struct Running<R> {
    outcome: Arc<Completion<Outcome<R>>>,
    os: std::thread::JoinHandle<()>,
}

impl<R> Running<R> {
    /// Hands back the outcome once the OS thread is gone too: the cell fills
    /// in the thread's last thread-local destructor, and only the C
    /// library's teardown of the thread follows, so this wait is short.
    fn finish(self, outcome: Option<Outcome<R>>) -> Option<Outcome<R>> {
        // The target's panic was caught and is in `outcome`; an error here
        // would be a panic past the catch, which `outcome` (None) reports.
        let _ = self.os.join();
        outcome
    }
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
    me: ThreadRef,
    stack_size: Option<usize>,
    state: State<R>,
}

enum State<R> {
    New(Box<dyn FnOnce() -> R + Send>),
    Running(Running<R>),
    Joined,
    /// `start` failed: the OS refused the thread and the target is gone.
    Failed,
}

/// Options for a [`Thread`]: Python's `Thread(name=.., daemon=..)`, plus
/// the stack size.
///
/// ```
/// use brigade::thread::Builder;
///
/// let mut t = Builder::new()
///     .name("baker")
///     .daemon(true)
///     .stack_size(256 * 1024)
///     .build(|a: u32, b: u32| a * b, (6, 7));
/// assert_eq!((t.name(), t.is_daemon()), ("baker", true));
/// t.start().unwrap();
/// assert_eq!(t.join().unwrap(), 42);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until build or spawn is called"]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl Builder {
    /// Default options: the name `Thread-N (target)`, the daemon flag of
    /// the creating thread, the standard library's stack size.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new().spawn(|| "default options").unwrap();
    /// assert!(t.name().starts_with("Thread-"));
    /// assert_eq!(t.into_result().unwrap(), "default options");
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The thread's name.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new()
    ///     .name("worker-7")
    ///     .spawn(|| brigade::thread::current_thread().name().to_string())
    ///     .unwrap();
    /// assert_eq!(t.into_result().unwrap(), "worker-7");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Whether the program's exit abandons the thread (`true`) or waits for
    /// it (`false`). By default a thread made by a brigade daemon thread is
    /// a daemon, and any other is not. (Python also makes the children of
    /// its dummy threads daemons; brigade does not, so that threads made
    /// from tests and from `std` threads behave like those made from main.)
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new().daemon(true).build_fn(|| ());
    /// assert!(t.is_daemon()); // the program's exit will not wait for it
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Builder {
        self.daemon = Some(daemon);
        self
    }

    /// The new thread's stack size in bytes.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new()
    ///     .stack_size(8 << 20)
    ///     .spawn(|| [0u8; 4 << 20].len()) // a large frame needs a large stack
    ///     .unwrap();
    /// assert_eq!(t.into_result().unwrap(), 4 << 20);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Makes a thread that will run `target` with `args` (a tuple), without
    /// starting it.
    ///
    /// # Examples
    /// ```
    /// let mut t = brigade::thread::Builder::new().name("greeter").build(
    ///     |who: String, times: usize| format!("hi {who}").repeat(times),
    ///     ("ann".to_string(), 2),
    /// );
    /// t.start().unwrap();
    /// assert_eq!(t.join().unwrap(), "hi annhi ann");
    /// ```
    pub fn build<F, A>(self, target: F, args: A) -> Thread<F::Output>
    where
        F: Target<A>,
        A: Send + 'static,
        F::Output: Send + 'static,
    {
        let name = self.name_for(target_name::<F>);
        self.make(name, Box::new(move || target.call(args)))
    }

    /// Makes a thread that will run the closure `f`, without starting it.
    ///
    /// # Examples
    /// ```
    /// let data = vec![1, 2, 3];
    /// let mut t = brigade::thread::Builder::new().build_fn(move || data.iter().sum::<i32>());
    /// t.start().unwrap();
    /// assert_eq!(t.join().unwrap(), 6);
    /// ```
    pub fn build_fn<F, R>(self, f: F) -> Thread<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let name = self.name_for(target_name::<F>);
        self.make(name, Box::new(f))
    }

    /// Makes the thread and starts it.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::Builder::new().name("quick").spawn(|| 1).unwrap();
    /// assert_eq!(t.name(), "quick");
    /// assert_eq!(t.into_result().unwrap(), 1);
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::Spawn`] if the operating system refuses the thread.
    pub fn spawn<F, R>(self, f: F) -> Result<Thread<R>, ThreadError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let mut thread = self.build_fn(f);
        thread.start()?;
        Ok(thread)
    }

    pub(crate) fn has_name(&self) -> bool {
        self.name.is_some()
    }

    fn name_for(&self, target: impl FnOnce() -> String) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => default_name(&target()),
        }
    }

    fn make<R>(self, name: String, target: Box<dyn FnOnce() -> R + Send>) -> Thread<R> {
        let daemon = self.daemon.unwrap_or_else(inherited_daemon);
        Thread {
            me: ThreadRef::new(name, Kind::Brigade, daemon),
            stack_size: self.stack_size,
            state: State::New(target),
        }
    }
}

/// `Thread-N (target)`, N counting the threads given a default name, as
/// Python counts them.
pub(crate) fn default_name(target: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("Thread-{n} ({target})")
}

/// A brigade daemon thread makes daemon threads; any other thread does not.
fn inherited_daemon() -> bool {
    let me = registry::current_thread();
    me.kind() == Kind::Brigade && me.is_daemon()
}

/// Makes a thread that runs `f` and starts it, like `std::thread::spawn`
/// but returning a [`Thread`].
///
/// ```
/// let t = brigade::thread::spawn(|| 6 * 7).unwrap();
/// assert_eq!(t.into_result().unwrap(), 42);
/// ```
///
/// # Errors
/// [`ThreadError::Spawn`] if the operating system refuses the thread (too
/// many threads, no memory for the stack).
pub fn spawn<F, R>(f: F) -> Result<Thread<R>, ThreadError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Builder::new().spawn(f)
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

    /// Waits for the thread to finish and returns what its target returned,
    /// or [`ThreadError::Panicked`] with the panic. The result is handed out
    /// once; a second join is [`ThreadError::AlreadyJoined`].
    ///
    /// Blocks the calling thread: on an event loop, await
    /// [`join_async`](Self::join_async) instead.
    ///
    /// # Panics
    /// On an event loop's thread, where it would block every task of the
    /// loop: await [`join_async`](Self::join_async) there.
    ///
    /// # Examples
    /// ```
    /// use brigade::thread::{Thread, ThreadError};
    ///
    /// let mut t = Thread::from_fn(|| -> u8 { panic!("burnt") });
    /// t.start().unwrap();
    /// let e = t.join().unwrap_err();
    /// assert_eq!(e.panic_message(), Some("burnt"));
    /// assert!(matches!(t.join(), Err(ThreadError::AlreadyJoined { .. })));
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::Panicked`] (with the panic), [`ThreadError::NotStarted`],
    /// [`ThreadError::AlreadyJoined`], [`ThreadError::JoinSelf`] (a thread
    /// joining itself).
    #[track_caller]
    pub fn join(&mut self) -> Result<R, ThreadError> {
        crate::event_loop::context::assert_not_on_loop("Thread::join", "thread.join_async().await");
        self.join_blocking()
    }

    /// [`join`](Self::join) without the event-loop check: a pool dropped
    /// on a loop still waits for its workers (they only finish their jobs).
    pub(crate) fn join_blocking(&mut self) -> Result<R, ThreadError> {
        let Running { outcome, os } = self.take_running()?;
        // One wait, not two: the OS thread ends only after its last
        // thread-local destructor filled the cell, so once it is joined
        // the outcome is there (or never will be).
        let _ = os.join();
        let outcome = outcome.try_take().unwrap_or(None);
        self.finish_join(outcome)
    }

    /// Like [`join`](Self::join), waiting at most `timeout`. On
    /// [`ThreadError::Timeout`] the thread is still running and may be
    /// joined again (Python's `join(timeout)` returns `None` and leaves the
    /// caller to check `is_alive()`; here the error says it).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use std::sync::mpsc;
    /// use brigade::thread::Thread;
    ///
    /// let (go, gate) = mpsc::channel::<()>();
    /// let mut t = Thread::from_fn(move || gate.recv().unwrap());
    /// t.start().unwrap();
    /// let e = t.join_timeout(Duration::from_millis(10)).unwrap_err();
    /// assert!(e.is_timeout() && t.is_alive());
    /// go.send(()).unwrap();
    /// t.join_timeout(Duration::from_secs(60)).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::Timeout`] when the time runs out, and the errors of
    /// [`join`](Self::join).
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<R, ThreadError> {
        let running = self.take_running()?;
        match running.outcome.take_timeout(timeout) {
            Ok(outcome) => {
                let outcome = running.finish(outcome);
                self.finish_join(outcome)
            }
            Err(()) => {
                self.state = State::Running(running);
                Err(ThreadError::Timeout {
                    name: self.name().to_string(),
                })
            }
        }
    }

    /// Joins, consuming the handle: a shorthand for `join` when the handle
    /// is not needed afterwards.
    ///
    /// # Panics
    /// On an event loop's thread, as [`join`](Self::join) does: await the
    /// thread there.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::spawn(|| vec![1, 2]).unwrap();
    /// assert_eq!(t.into_result().unwrap(), [1, 2]);
    /// ```
    ///
    /// # Errors
    /// As [`join`](Self::join).
    #[track_caller]
    pub fn into_result(mut self) -> Result<R, ThreadError> {
        crate::event_loop::context::assert_not_on_loop("Thread::into_result", "thread.await");
        self.join()
    }

    /// A future of the thread's result, for a task on an event loop: it
    /// suspends the task, never the loop. `thread.await` does the same,
    /// consuming the handle.
    ///
    /// On a virtual clock the loop does not know about the thread, so time
    /// may jump while it runs; a `timeout` around this future measures
    /// virtual time.
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut t = brigade::thread::spawn(|| "baked").unwrap();
    ///     assert_eq!(t.join_async().await.unwrap(), "baked");
    /// });
    /// ```
    pub fn join_async(&mut self) -> JoinAsync<'_, R> {
        self.hold_virtual_clock();
        JoinAsync { thread: self }
    }

    /// Awaited from a loop on a virtual clock, a running thread holds that
    /// clock still until it finishes: simulated time must not jump past
    /// real work.
    fn hold_virtual_clock(&self) {
        if let State::Running(running) = &self.state {
            if let Some(hold) = crate::event_loop::hold_clock() {
                running.outcome.hold_until_done(hold);
            }
        }
    }

    fn poll_join(&mut self, cx: &mut Context<'_>) -> Poll<Result<R, ThreadError>> {
        let running = match self.take_running() {
            Ok(running) => running,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match running.outcome.poll_take(cx) {
            Poll::Pending => {
                self.state = State::Running(running);
                Poll::Pending
            }
            Poll::Ready(result) => {
                let result = running.finish(result);
                Poll::Ready(self.finish_join(result))
            }
        }
    }

    /// Takes the running state out, or says why there is none.
    fn take_running(&mut self) -> Result<Running<R>, ThreadError> {
        let name = || self.name().to_string();
        match &self.state {
            State::New(_) | State::Failed => return Err(ThreadError::NotStarted { name: name() }),
            State::Joined => return Err(ThreadError::AlreadyJoined { name: name() }),
            State::Running(_) if self.me.raw_ident() == registry::get_ident() => {
                return Err(ThreadError::JoinSelf { name: name() });
            }
            State::Running(_) => {}
        }
        match std::mem::replace(&mut self.state, State::Joined) {
            State::Running(running) => Ok(running),
            _ => unreachable!("checked above"),
        }
    }

    fn finish_join(&mut self, outcome: Option<Outcome<R>>) -> Result<R, ThreadError> {
        self.state = State::Joined;
        let name = || self.name().to_string();
        match outcome {
            Some(Ok(value)) => Ok(value),
            Some(Err(panic)) => Err(ThreadError::Panicked {
                name: name(),
                panic,
            }),
            // The thread ended without reporting: a panic escaped the
            // catch (a panicking panic payload's destructor) or the
            // outcome's cell was read twice.
            None => Err(ThreadError::Panicked {
                name: name(),
                panic: Panic::new(Box::new("the thread ended without a result")),
            }),
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

/// The future of [`Thread::join_async`].
///
/// # Examples
/// ```
/// brigade::run(async {
///     let mut t = brigade::thread::spawn(|| 3).unwrap();
///     let joining: brigade::thread::JoinAsync<'_, i32> = t.join_async();
///     assert_eq!(joining.await.unwrap(), 3);
/// });
/// ```
///
/// # Cancel safety
/// Cancel-safe: dropping the future leaves the thread running and its
/// result in place for a later join.
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAsync<'a, R> {
    thread: &'a mut Thread<R>,
}

impl<R> Future for JoinAsync<'_, R> {
    type Output = Result<R, ThreadError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.thread.poll_join(cx)
    }
}

/// The future of `thread.await`; see [`Thread::join_async`].
///
/// # Examples
/// ```
/// brigade::run(async {
///     let t = brigade::thread::spawn(|| "done").unwrap();
///     assert_eq!(t.await.unwrap(), "done"); // a ThreadJoin
/// });
/// ```
///
/// # Cancel safety
/// Dropping the future drops the handle: the thread runs on, detached, and
/// its result is dropped when it finishes.
#[must_use = "futures do nothing unless awaited"]
pub struct ThreadJoin<R> {
    thread: Thread<R>,
}

impl<R> Future for ThreadJoin<R> {
    type Output = Result<R, ThreadError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Nothing in a Thread is pinned: the channel receiver moves freely.
        self.get_mut().thread.poll_join(cx)
    }
}

impl<R> IntoFuture for Thread<R> {
    type Output = Result<R, ThreadError>;
    type IntoFuture = ThreadJoin<R>;

    fn into_future(self) -> ThreadJoin<R> {
        self.hold_virtual_clock();
        ThreadJoin { thread: self }
    }
}
