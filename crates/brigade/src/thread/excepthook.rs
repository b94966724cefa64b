//! [`set_excepthook`]: Python's `threading.excepthook`, a process-wide
//! hook called when a panic escapes a brigade thread's target.
//!
//! A brigade thread catches its target's panic and hands it to whoever
//! joins the thread ([`ThreadError::Panicked`](super::ThreadError)). A
//! thread nobody joins would keep its panic to itself; the hook lets a
//! program log or count such panics in one place, with the thread they
//! came from. It runs on the panicking thread, after the panic was caught
//! and before the thread is marked finished (so
//! [`is_alive`](super::ThreadRef::is_alive) is still true), as Python's
//! does; the join then reports the panic as before.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use brigade::thread::{self, Thread};
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let previous = thread::set_excepthook({
//!     let seen = seen.clone();
//!     move |args| seen.lock().unwrap().push(format!("{}: {}", args.name(), args.message()))
//! });
//! let mut t = Thread::builder().name("fryer").build_fn(|| panic!("oil fire"));
//! t.start().unwrap();
//! assert!(t.join().is_err()); // the join still sees the panic
//! assert!(seen.lock().unwrap().contains(&"fryer: oil fire".to_string()));
//! thread::take_excepthook();
//! # drop(previous);
//! ```

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
// One process-wide slot, read once per panicking thread.
use std::sync::{Arc, Mutex};

use super::thread_ref::ThreadRef;
use crate::event_loop::Panic;

/// A hook installed with [`set_excepthook`], as [`take_excepthook`]
/// hands it back.
///
/// ```
/// use brigade::thread::{self, ExceptHook};
///
/// thread::set_excepthook(|args| eprintln!("{}", args.message()));
/// let hook: Option<ExceptHook> = thread::take_excepthook();
/// assert!(hook.is_some());
/// ```
pub type ExceptHook = Arc<dyn Fn(&ExceptHookArgs<'_>) + Send + Sync>;

static HOOK: Mutex<Option<ExceptHook>> = Mutex::new(None);

fn slot() -> std::sync::MutexGuard<'static, Option<ExceptHook>> {
    // The slot is assigned whole.
    HOOK.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the hook learns about an escaped panic, Python's
/// `threading.ExceptHookArgs`: the thread, and the panic.
///
/// ```
/// use brigade::thread;
///
/// thread::set_excepthook(|args| {
///     eprintln!("{} (ident {:?}) panicked: {}", args.name(), args.ident(), args.message());
/// });
/// # thread::take_excepthook();
/// ```
pub struct ExceptHookArgs<'a> {
    thread: &'a ThreadRef,
    panic: &'a Panic,
}

impl ExceptHookArgs<'_> {
    /// The thread whose target panicked (Python's `args.thread`).
    ///
    /// ```
    /// brigade::thread::set_excepthook(|args| assert!(args.thread().is_alive()));
    /// # brigade::thread::take_excepthook();
    /// ```
    pub fn thread(&self) -> &ThreadRef {
        self.thread
    }

    /// The thread's name.
    ///
    /// ```
    /// brigade::thread::set_excepthook(|args| assert!(!args.name().is_empty()));
    /// # brigade::thread::take_excepthook();
    /// ```
    pub fn name(&self) -> &str {
        self.thread.name()
    }

    /// The thread's ident (see [`ThreadRef::ident`]).
    ///
    /// ```
    /// brigade::thread::set_excepthook(|args| assert!(args.ident().is_some()));
    /// # brigade::thread::take_excepthook();
    /// ```
    pub fn ident(&self) -> Option<u64> {
        self.thread.ident()
    }

    /// The panic's message (Python's `args.exc_value`, as text).
    ///
    /// ```
    /// brigade::thread::set_excepthook(|args| eprintln!("{}", args.message()));
    /// # brigade::thread::take_excepthook();
    /// ```
    pub fn message(&self) -> &str {
        self.panic.message()
    }

    /// The panic itself. It stays the joiner's: the hook may read it only.
    ///
    /// ```
    /// brigade::thread::set_excepthook(|args| eprintln!("{:?}", args.panic()));
    /// # brigade::thread::take_excepthook();
    /// ```
    pub fn panic(&self) -> &Panic {
        self.panic
    }
}

impl fmt::Debug for ExceptHookArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptHookArgs")
            .field("thread", self.thread)
            .field("message", &self.message())
            .finish()
    }
}

/// Installs `hook`, called with every panic that escapes a brigade
/// thread's target from now on, for the whole process (Python's
/// `threading.excepthook = hook`). Returns the hook it replaces. It runs
/// on the panicking thread, after the panic was caught and before the
/// thread counts as finished; the thread's join still gets the panic.
///
/// # Differences from Python
/// - The default is no hook. The standard library's panic hook has
///   already printed the panic (`thread 'fryer' panicked at ...`), which is
///   what Python's default `excepthook` prints; a program that wants only
///   its own report silences that with [`std::panic::set_hook`].
/// - The hook receives the panic, not an exception type, value and
///   traceback: [`ExceptHookArgs::message`] and [`ExceptHookArgs::panic`].
/// - Only threads made by [`Thread`](super::Thread) (and
///   [`Timer`](super::Timer)) call it. A [`ThreadPool`](super::ThreadPool)
///   job's panic goes to its [`Job`](super::Job), as an exception of
///   Python's `ThreadPoolExecutor` goes to its future.
/// - A panic inside the hook is caught and dropped, after `std`'s panic
///   hook printed it (Python hands it to `sys.excepthook`).
///
/// ```
/// use brigade::thread;
///
/// let previous = thread::set_excepthook(|args| eprintln!("{}", args.message()));
/// assert!(previous.is_none()); // this program had none
/// assert!(thread::take_excepthook().is_some());
/// ```
pub fn set_excepthook(
    hook: impl Fn(&ExceptHookArgs<'_>) + Send + Sync + 'static,
) -> Option<ExceptHook> {
    slot().replace(Arc::new(hook))
}

/// Removes the hook and returns it; escaped panics then go only to the
/// threads' joiners (and `std`'s panic message), as by default.
///
/// ```
/// use brigade::thread;
///
/// thread::set_excepthook(|_| ());
/// let hook = thread::take_excepthook().unwrap();
/// assert!(thread::take_excepthook().is_none());
/// thread::set_excepthook(move |args| hook(args)); // put it back
/// # thread::take_excepthook();
/// ```
pub fn take_excepthook() -> Option<ExceptHook> {
    slot().take()
}

/// Called on a brigade thread whose target panicked.
pub(crate) fn report(thread: &ThreadRef, panic: &Panic) {
    // Cloned out: the hook may itself set or take the hook.
    let Some(hook) = slot().clone() else {
        return;
    };
    let args = ExceptHookArgs { thread, panic };
    // std's panic hook has printed a panic of the hook's own; the thread
    // still reports its target's panic to its joiner.
    let _ = catch_unwind(AssertUnwindSafe(|| hook(&args)));
}
