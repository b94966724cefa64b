//! [`Event`]: Python's `threading.Event`, a flag that threads wait on.
//!
//! One thread [`set`](Event::set)s the flag, and every thread blocked in
//! [`wait`](Event::wait) wakes; threads that call `wait` later return at
//! once, until someone [`clear`](Event::clear)s it. It is a boolean behind
//! a mutex with a condition variable, the textbook monitor (Hoare, 1974).
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
pub struct Event {
    flag: Mutex<bool>,
    changed: Condvar,
}

impl Event {
    /// A cleared event.
    pub fn new() -> Event {
        Event {
            flag: Mutex::new(false),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        // A bool cannot be left half-written by a panic.
        self.flag.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the flag and wakes every waiting thread.
    pub fn set(&self) {
        *self.lock() = true;
        self.changed.notify_all();
    }

    /// Clears the flag: later `wait`s block until the next `set`.
    pub fn clear(&self) {
        *self.lock() = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        *self.lock()
    }

    /// Blocks until the flag is set.
    pub fn wait(&self) {
        let mut set = self.lock();
        while !*set {
            set = self.changed.wait(set).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Blocks until the flag is set or `timeout` passes; returns whether
    /// it is set (Python's `wait(timeout)`).
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut set = self.lock();
        while !*set {
            let Some(deadline) = deadline else {
                // Too far in the future to represent: wait without limit.
                set = self.changed.wait(set).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            set = self
                .changed
                .wait_timeout(set, deadline - now)
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
