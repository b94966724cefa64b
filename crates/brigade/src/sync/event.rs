//! [`Event`]: a flag that tasks wait for (`asyncio.Event`).
//!
//! `set` raises the flag and releases every waiter; `clear` lowers it, and
//! later waiters block again. A waiter released by `set` returns even if the
//! flag is cleared again before it runs: `set` unlinks it from the waiter
//! list (`waiters.rs`), and being unlinked is what it checks.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Event;
//!
//! brigade::run(async {
//!     let ready = Arc::new(Event::new());
//!     let waiter = brigade::spawn({
//!         let ready = ready.clone();
//!         async move {
//!             ready.wait().await;
//!             "went"
//!         }
//!     });
//!     brigade::yield_now().await;
//!     assert!(!waiter.is_finished());
//!     ready.set();
//!     assert_eq!(waiter.await.unwrap(), "went");
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{WaitList, WakeList};
use crate::loom::sync::{Mutex, MutexGuard};

/// An async event flag (`asyncio.Event`): [`set`](Self::set) releases every
/// waiter, [`clear`](Self::clear) makes later waits block again.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use brigade::sync::Event;
///
/// brigade::run(async {
///     let ready = Arc::new(Event::new());
///     let waiter = brigade::spawn({
///         let ready = ready.clone();
///         async move { ready.wait().await }
///     });
///     ready.set();
///     waiter.await.unwrap();
///     assert!(ready.is_set());
/// });
/// ```
pub struct Event {
    state: Mutex<State>,
}

struct State {
    set: bool,
    waiters: WaitList<()>,
}

impl Event {
    /// A new event, not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!brigade::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: Mutex::new(State {
                set: false,
                waiters: WaitList::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the flag and releases every waiting task.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = brigade::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            state.set = true;
            while let Some(key) = state.waiters.pop_front() {
                wake.push(state.waiters.take_waker(key));
            }
        }
        wake.wake_all();
    }

    /// Lowers the flag: tasks that wait from now on block until the next
    /// [`set`](Self::set).
    ///
    /// # Examples
    ///
    /// ```
    /// let event = brigade::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.state().set = false;
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = brigade::sync::Event::new();
    /// assert!(!event.is_set());
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state().set
    }

    /// Waits until the flag is set (at once if it is).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: waiting consumes nothing, and dropping the
    /// future only removes it from the waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let event = brigade::sync::Event::new();
    ///     event.set();
    ///     event.wait().await; // already set: returns at once
    /// });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
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
            .field("set", &self.is_set())
            .finish()
    }
}

/// The future returned by [`Event::wait`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let event = brigade::sync::Event::new();
///     let wait: brigade::sync::EventWait<'_> = event.wait();
///     event.set();
///     wait.await;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.event.state();
        match self.key {
            None if state.set => Poll::Ready(()),
            None => {
                self.key = Some(state.waiters.push_back((), cx.waker()));
                Poll::Pending
            }
            Some(key) if !state.waiters.is_linked(key) => {
                state.waiters.remove(key);
                self.key = None;
                Poll::Ready(())
            }
            Some(key) => {
                state.waiters.register(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.event.state().waiters.remove(key);
        }
    }
}
