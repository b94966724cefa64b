//! [`Notify`]: wake one task, or all of them, without any data.
//!
//! The building block under many hand-made primitives: a task checks some
//! state, and if it must wait, awaits [`Notify::notified`]; whoever changes
//! the state calls [`notify_one`](Notify::notify_one) or
//! [`notify_waiters`](Notify::notify_waiters).
//!
//! - `notify_one` wakes the longest waiter. If nobody waits, it stores one
//!   permit, and the next `notified().await` returns at once, so a
//!   notification sent just before the receiver starts waiting is not lost.
//! - `notify_waiters` (alias `notify_all`) wakes every task waiting now and
//!   stores nothing. A [`Notified`] future counts as waiting from the moment
//!   it is *created*, so the pattern "create, check the state, await" cannot
//!   miss a broadcast that lands between the check and the await.
//!
//! Cancellation: a waiter dropped after `notify_one` picked it passes the
//! notification on to the next waiter (or stores it as the permit).
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Notify;
//!
//! brigade::run(async {
//!     let notify = Arc::new(Notify::new());
//!     notify.notify_one(); // nobody waits yet: stored as a permit
//!     notify.notified().await; // returns at once
//!
//!     let n2 = notify.clone();
//!     let waiter = brigade::spawn(async move { n2.notified().await });
//!     brigade::yield_now().await;
//!     notify.notify_waiters();
//!     waiter.await.unwrap();
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitList, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};

/// Wakes one task, or all, without data.
///
/// [`notify_one`](Self::notify_one) wakes the longest waiter or stores one
/// permit for the next; [`notify_waiters`](Self::notify_waiters) wakes every
/// current waiter and stores nothing. A [`Notified`] future catches
/// broadcasts from its creation on, and passes a `notify_one` on if it is
/// cancelled after receiving it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use brigade::sync::Notify;
///
/// brigade::run(async {
///     let notify = Arc::new(Notify::new());
///     let waiter = brigade::spawn({
///         let notify = notify.clone();
///         async move { notify.notified().await }
///     });
///     notify.notify_one(); // wakes the waiter, or is stored for it
///     waiter.await.unwrap();
/// });
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// Bumped by every `notify_waiters`, under the lock.
    broadcasts: AtomicUsize,
}

struct State {
    permit: bool,
    waiters: WaitList<Outcome>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    /// Picked by `notify_one`: the notification must not be lost.
    One,
    /// Released by `notify_waiters`.
    All,
}

impl Notify {
    /// A new `Notify` with no stored permit.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let notify = brigade::sync::Notify::new();
    ///     notify.notify_one();
    ///     notify.notified().await; // takes the stored permit
    /// });
    /// ```
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
            broadcasts: AtomicUsize::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the longest-waiting task, or stores a permit if none waits (at
    /// most one permit is stored).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let notify = brigade::sync::Notify::new();
    ///     notify.notify_one();
    ///     notify.notify_one(); // at most one permit is stored
    ///     notify.notified().await;
    ///     let second = brigade::timeout(std::time::Duration::from_millis(1), notify.notified());
    ///     assert!(second.await.is_err());
    /// });
    /// ```
    pub fn notify_one(&self) {
        let waker = Self::notify_locked(&mut self.state());
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn notify_locked(state: &mut State) -> Option<Waker> {
        match state.waiters.pop_front() {
            Some(key) => {
                *state.waiters.value_mut(key) = Outcome::One;
                state.waiters.take_waker(key)
            }
            None => {
                state.permit = true;
                None
            }
        }
    }

    /// Wakes every task waiting now; stores no permit.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let notify = brigade::sync::Notify::new();
    ///     let a = notify.notified();
    ///     let b = notify.notified();
    ///     notify.notify_waiters(); // caught by both, though not yet polled
    ///     a.await;
    ///     b.await;
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            self.broadcasts.fetch_add(1, Ordering::SeqCst);
            while let Some(key) = state.waiters.pop_front() {
                *state.waiters.value_mut(key) = Outcome::All;
                wake.push(state.waiters.take_waker(key));
            }
        }
        wake.wake_all();
    }

    /// The same as [`notify_waiters`](Self::notify_waiters).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let notify = brigade::sync::Notify::new();
    ///     let waiting = notify.notified();
    ///     notify.notify_all();
    ///     waiting.await;
    /// });
    /// ```
    pub fn notify_all(&self) {
        self.notify_waiters();
    }

    /// Waits for a notification. The future catches any `notify_waiters`
    /// made after its creation, even before it is first polled.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a `notify_one` handed to a future that is
    /// then dropped goes on to the next waiter (or is stored again), so no
    /// notification is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::Notify;
    ///
    /// brigade::run(async {
    ///     let notify = Arc::new(Notify::new());
    ///     let waiter = brigade::spawn({
    ///         let notify = notify.clone();
    ///         async move { notify.notified().await }
    ///     });
    ///     brigade::yield_now().await;
    ///     notify.notify_waiters();
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            broadcasts: self.broadcasts.load(Ordering::SeqCst),
            key: None,
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// The future returned by [`Notify::notified`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let notify = brigade::sync::Notify::new();
///     let notified: brigade::sync::Notified<'_> = notify.notified();
///     notify.notify_one();
///     notified.await;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    broadcasts: usize,
    key: Option<usize>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let notify = self.notify;
        let mut state = notify.state();
        let Some(key) = self.key else {
            if notify.broadcasts.load(Ordering::SeqCst) != self.broadcasts {
                return Poll::Ready(());
            }
            if std::mem::take(&mut state.permit) {
                return Poll::Ready(());
            }
            self.key = Some(state.waiters.push_back(Outcome::Waiting, cx.waker()));
            return Poll::Pending;
        };
        if *state.waiters.value(key) == Outcome::Waiting {
            state.waiters.register(key, cx.waker());
            return Poll::Pending;
        }
        state.waiters.remove(key);
        self.key = None;
        Poll::Ready(())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            let mut state = self.notify.state();
            match state.waiters.remove(key) {
                Outcome::One => Notify::notify_locked(&mut state),
                _ => None,
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::Notify;
    use crate::loom::sync::Arc;
    use crate::loom::thread;

    #[test]
    fn notify_one_is_never_lost_to_a_dropped_waiter() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let waiter = {
                let notify = notify.clone();
                thread::spawn(move || {
                    let mut notified = pin!(notify.notified());
                    let mut cx = Context::from_waker(Waker::noop());
                    notified.as_mut().poll(&mut cx).is_ready()
                    // Dropped here, possibly just after being picked.
                })
            };
            notify.notify_one();
            let consumed = waiter.join().unwrap();
            let mut again = pin!(notify.notified());
            let mut cx = Context::from_waker(Waker::noop());
            let stored = again.as_mut().poll(&mut cx) == Poll::Ready(());
            assert!(consumed ^ stored, "the notification was lost or doubled");
        });
    }
}
