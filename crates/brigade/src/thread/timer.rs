//! [`Timer`]: Python's `threading.Timer`, a thread that calls a function
//! after a delay unless it is cancelled first.
//!
//! The timer's thread waits on an [`Event`] for the delay; [`cancel`]
//! sets the event, which ends the wait early. Whether the function runs is
//! decided by one compare-and-swap on a three-state flag (waiting, fired,
//! cancelled), so `cancel` can say for certain whether it stopped the call.
//!
//! ```
//! use std::time::Duration;
//! use brigade::thread::Timer;
//!
//! let mut reminder = Timer::new(Duration::from_secs(3600), || "take the bread out");
//! reminder.start().unwrap();
//! assert!(reminder.cancel()); // stopped before the hour was up
//! assert_eq!(reminder.join().unwrap(), None);
//!
//! let mut now = Timer::new(Duration::ZERO, || 42);
//! now.start().unwrap();
//! assert_eq!(now.join().unwrap(), Some(42));
//! ```
//!
//! [`cancel`]: Timer::cancel

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use super::builder::{Builder, default_name};
use super::error::ThreadError;
use super::event::Event;
use super::handle::Thread;
use super::target::target_name;
use super::thread_ref::ThreadRef;

const WAITING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

struct Shared {
    wake: Event,
    state: AtomicU8,
}

/// A delayed, cancellable call on its own thread, Python's
/// `threading.Timer`: [`start`](Self::start) begins the countdown,
/// [`cancel`](Self::cancel) stops it if the call has not begun.
///
/// # Examples
/// Python's `Timer(0.01, f).start()`, and a cancelled one:
/// ```
/// use std::time::Duration;
/// use brigade::thread::Timer;
///
/// let mut fires = Timer::new(Duration::from_millis(10), || "rang");
/// fires.start().unwrap();
/// assert_eq!(fires.join().unwrap(), Some("rang"));
///
/// let mut stopped = Timer::new(Duration::from_secs(3600), || "never");
/// stopped.start().unwrap();
/// assert!(stopped.cancel());
/// assert_eq!(stopped.join().unwrap(), None);
/// ```
pub struct Timer<R> {
    thread: Thread<Option<R>>,
    shared: Arc<Shared>,
}

impl<R: Send + 'static> Timer<R> {
    /// A timer that will call `f` once `delay` has passed after
    /// [`start`](Self::start). Its thread is named `Thread-N (f)`.
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let start = Instant::now();
    /// let mut t = brigade::thread::Timer::new(Duration::from_millis(5), move || start.elapsed());
    /// t.start().unwrap();
    /// assert!(t.join().unwrap().unwrap() >= Duration::from_millis(5));
    /// ```
    pub fn new<F>(delay: Duration, f: F) -> Timer<R>
    where
        F: FnOnce() -> R + Send + 'static,
    {
        Timer::with_builder(Builder::new(), delay, f)
    }

    /// Like [`new`](Self::new), with the thread's options (name, daemon
    /// flag, stack size) from `builder`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::thread::{Builder, Timer};
    ///
    /// let t = Timer::with_builder(Builder::new().name("reminder"), Duration::ZERO, || ());
    /// assert_eq!(t.name(), "reminder");
    /// ```
    pub fn with_builder<F>(builder: Builder, delay: Duration, f: F) -> Timer<R>
    where
        F: FnOnce() -> R + Send + 'static,
    {
        let shared = Arc::new(Shared {
            wake: Event::new(),
            state: AtomicU8::new(WAITING),
        });
        let builder = match builder.has_name() {
            true => builder,
            false => builder.name(default_name(&target_name::<F>())),
        };
        let thread = builder.build_fn({
            let shared = shared.clone();
            move || {
                shared.wake.wait_timeout(delay);
                shared
                    .state
                    .compare_exchange(WAITING, FIRED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                    .then(f)
            }
        });
        Timer { thread, shared }
    }

    /// Starts the countdown.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::thread::{ThreadError, Timer};
    ///
    /// let mut t = Timer::new(Duration::ZERO, || 1);
    /// t.start().unwrap();
    /// assert!(matches!(t.start(), Err(ThreadError::AlreadyStarted { .. })));
    /// assert_eq!(t.join().unwrap(), Some(1));
    /// ```
    ///
    /// # Errors
    /// As [`Thread::start`](super::Thread::start): already started, or the
    /// operating system refused the thread.
    pub fn start(&mut self) -> Result<(), ThreadError> {
        self.thread.start()
    }
}

impl<R> Timer<R> {
    /// Stops the timer if it has not fired yet, and returns whether it did
    /// stop it (`false`: the function has been called or is running).
    /// Cancelling before [`start`](Self::start) stops it too.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut t = brigade::thread::Timer::new(Duration::ZERO, || ());
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// assert!(!t.cancel()); // too late: it fired
    /// ```
    pub fn cancel(&self) -> bool {
        let stopped = self
            .shared
            .state
            .compare_exchange(WAITING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        // Ends the thread's wait early either way.
        self.shared.wake.set();
        stopped
    }

    /// Whether [`cancel`](Self::cancel) stopped the timer.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = brigade::thread::Timer::new(Duration::from_secs(1), || ());
    /// assert!(t.cancel()); // before start: it will never fire
    /// assert!(t.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.shared.state.load(Ordering::Acquire) == CANCELLED
    }

    /// Waits for the timer's thread: `Some` of what the function returned,
    /// or `None` if the timer was cancelled.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut t = brigade::thread::Timer::new(Duration::from_millis(1), || 5);
    /// t.start().unwrap();
    /// assert_eq!(t.join().unwrap(), Some(5));
    /// ```
    ///
    /// # Errors
    /// As [`Thread::join`](super::Thread::join): the function panicked, the
    /// timer was never started, or it was joined already.
    ///
    /// # Panics
    /// On an event loop's thread, as [`Thread::join`](super::Thread::join).
    pub fn join(&mut self) -> Result<Option<R>, ThreadError> {
        self.thread.join()
    }

    /// Like [`join`](Self::join), waiting at most `timeout`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut t = brigade::thread::Timer::new(Duration::from_secs(3600), || ());
    /// t.start().unwrap();
    /// assert!(t.join_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
    /// t.cancel();
    /// assert_eq!(t.join().unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::Timeout`] when the time runs out, and the errors of
    /// [`join`](Self::join).
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<Option<R>, ThreadError> {
        self.thread.join_timeout(timeout)
    }

    /// The timer thread's name.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = brigade::thread::Timer::new(Duration::ZERO, || ());
    /// assert!(t.name().starts_with("Thread-"));
    /// ```
    pub fn name(&self) -> &str {
        self.thread.name()
    }

    /// Whether the timer's thread is running (waiting, or calling).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut t = brigade::thread::Timer::new(Duration::from_secs(3600), || ());
    /// t.start().unwrap();
    /// assert!(t.is_alive()); // counting down
    /// t.cancel();
    /// t.join().unwrap();
    /// assert!(!t.is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// Sets the thread's daemon flag; only before start.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut t = brigade::thread::Timer::new(Duration::from_secs(3600), || ());
    /// t.set_daemon(true).unwrap(); // the program's exit will not wait for it
    /// t.start().unwrap();
    /// assert!(t.set_daemon(false).is_err());
    /// t.cancel();
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::DaemonAfterStart`] once started.
    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), ThreadError> {
        self.thread.set_daemon(daemon)
    }

    /// The timer thread's identity.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = brigade::thread::Timer::new(Duration::ZERO, || ());
    /// assert_eq!(t.thread_ref().name(), t.name());
    /// ```
    pub fn thread_ref(&self) -> ThreadRef {
        self.thread.thread_ref()
    }
}

impl<R> fmt::Debug for Timer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("thread", &self.thread)
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
