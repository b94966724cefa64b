//! [`Event`]: Python's `threading.Event`, a flag that threads wait on.
//!
//! One thread [`set`](Event::set)s the flag, and every thread blocked in
//! [`wait`](Event::wait) wakes; threads that call `wait` later return at
//! once, until someone [`clear`](Event::clear)s it. It is a boolean behind
//! a mutex with a condition variable, the textbook monitor (Hoare, 1974).
//!
//! # Every waiter of a `set` is released
//! A `set` releases every thread that was waiting when it ran, even if
//! another thread `clear`s the flag before the waiters get to look at it
//! (CPython's `EventTests.test_set_and_clear`, gh-57711). The flag alone
//! cannot promise that: a waiter that wakes after the `clear` sees it down
//! and would sleep again. So the event also counts its `set`s, a
//! generation number as in a sense-reversing barrier (Mellor-Crummey and
//! Scott, 1991): a waiter notes the count when it starts, and leaves once
//! the flag is up or the count has moved.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::thread::{Event, Thread};
//!
//! let ready = Arc::new(Event::new());
//! let mut cook = Thread::from_fn({
//!     let ready = ready.clone();
//!     move || {
//!         ready.wait();
//!         "cooking"
//!     }
//! });
//! cook.start().unwrap();
//! ready.set();
//! assert_eq!(cook.join().unwrap(), "cooking");
//! ```
//!
//! It blocks the thread; a task on an event loop waits for an async event
//! from [`crate::sync`] instead.

use std::fmt;
use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, Mutex, MutexGuard};

/// A flag that threads can wait for, Python's `threading.Event`: `set`
/// wakes every thread blocked in `wait`.
///
/// ```
/// use brigade::thread::Event;
///
/// let done = Event::new();
/// assert!(!done.is_set());
/// done.set();
/// done.wait(); // returns at once: the flag is up
/// ```
pub struct Event {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    set: bool,
    /// How many times `set` ran (wrapping): a waiter that saw another
    /// number when it started has been released, whatever the flag says now.
    generation: u64,
}

impl Event {
    /// A cleared event.
    ///
    /// ```
    /// let event = brigade::thread::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: Mutex::new(State {
                set: false,
                generation: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A bool and a counter cannot be left half-written by a panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the flag and releases every waiting thread, even those that
    /// will only run after a later [`clear`](Self::clear).
    ///
    /// ```
    /// let event = brigade::thread::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let mut state = self.lock();
        state.set = true;
        state.generation = state.generation.wrapping_add(1);
        drop(state);
        self.changed.notify_all();
    }

    /// Clears the flag: later `wait`s block until the next `set`.
    ///
    /// ```
    /// let event = brigade::thread::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.lock().set = false;
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// let event = brigade::thread::Event::default();
    /// assert!(!event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.lock().set
    }

    /// Blocks until the flag is set, or a `set` ran while this thread
    /// waited. Python's `wait()` returns `True` whenever it has no
    /// timeout; this returns nothing, which says the same.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::thread::{self, Event};
    ///
    /// let ready = Arc::new(Event::new());
    /// let setter = thread::spawn({
    ///     let ready = ready.clone();
    ///     move || ready.set()
    /// })
    /// .unwrap();
    /// ready.wait();
    /// setter.into_result().unwrap();
    /// ```
    pub fn wait(&self) {
        let mut state = self.lock();
        let start = state.generation;
        while !state.set && state.generation == start {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Blocks until the flag is set, a `set` ran while this thread waited,
    /// or `timeout` passes. Returns `false` only if the time ran out, as
    /// Python's `wait(timeout)` does: `true` even if the flag was cleared
    /// again by the time this thread ran.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::thread::Event;
    ///
    /// let event = Event::new();
    /// assert!(!event.wait_timeout(Duration::ZERO)); // not set: times out
    /// event.set();
    /// assert!(event.wait_timeout(Duration::from_secs(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.lock();
        let start = state.generation;
        // The release is checked before the clock: a waiter that was set
        // free reports it, however late it runs.
        while !state.set && state.generation == start {
            let Some(deadline) = deadline else {
                // Too far in the future to represent: wait without limit.
                state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;

    #[test]
    fn set_wakes_a_waiter() {
        loom::model(|| {
            let event = Arc::new(Event::new());
            let waiter = {
                let event = event.clone();
                loom::thread::spawn(move || event.wait())
            };
            event.set();
            waiter.join().unwrap();
            assert!(event.is_set());
        });
    }

    #[test]
    fn clear_after_set_is_seen_by_later_checks() {
        loom::model(|| {
            let event = Arc::new(Event::new());
            let setter = {
                let event = event.clone();
                loom::thread::spawn(move || event.set())
            };
            setter.join().unwrap();
            event.clear();
            assert!(!event.is_set());
        });
    }
}
