//! [`Condition`]: wait for a state guarded by a [`Mutex`] to change
//! (`asyncio.Condition`, shaped like `std::sync::Condvar`).
//!
//! [`wait`](Condition::wait) takes the guard, joins the condition's waiter
//! list (`waiters.rs`) *before* unlocking, so a notification sent by the
//! next holder of the lock cannot slip between the two, then waits for a
//! notification and takes the lock again before returning the guard. Use
//! one mutex per condition, as with a condvar.
//!
//! Cancellation: dropping a `wait` gives up the place in the queue. If the
//! waiter had already been notified, whether it still waited for its turn
//! or was already retaking the lock, the notification goes to the next
//! waiter, as `asyncio.Condition.wait` does (its exception path calls
//! `_notify(1)`). Two differences from asyncio: a wait cancelled before any
//! notification reached it wakes nobody (asyncio's `_notify(1)` runs for
//! it too, a spurious wake-up), and a cancelled wait cannot retake the lock
//! first: the guard is gone, and the lock stays free.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::{Condition, Mutex};
//!
//! brigade::run(async {
//!     let pair = Arc::new((Mutex::new(Vec::<u32>::new()), Condition::new()));
//!     let consumer = brigade::spawn({
//!         let pair = pair.clone();
//!         async move {
//!             let (items, cond) = &*pair;
//!             let mut items = cond.wait_for(items.lock().await, |v| v.len() >= 2).await;
//!             items.drain(..).sum::<u32>()
//!         }
//!     });
//!     for i in [20, 22] {
//!         brigade::yield_now().await;
//!         pair.0.lock().await.push(i);
//!         pair.1.notify_all();
//!     }
//!     assert_eq!(consumer.await.unwrap(), 42);
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitList, WakeList};
use super::{Mutex, MutexGuard};
use crate::loom::sync::Mutex as StateLock;

/// A condition variable for tasks (`asyncio.Condition`), used with a
/// [`Mutex`]: [`wait`](Self::wait) releases the lock, waits for a
/// notification and retakes the lock. A notification handed to a waiter
/// that is cancelled goes on to the next one.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use brigade::sync::{Condition, Mutex};
///
/// brigade::run(async {
///     let state = Arc::new((Mutex::new(false), Condition::new()));
///     let waiter = brigade::spawn({
///         let state = state.clone();
///         async move {
///             let (lock, cond) = &*state;
///             let ready = cond.wait_for(lock.lock().await, |ready| *ready).await;
///             assert!(*ready);
///         }
///     });
///     brigade::yield_now().await; // let the waiter start waiting
///     let (lock, cond) = &*state;
///     *lock.lock().await = true;
///     cond.notify_all();
///     waiter.await.unwrap();
/// });
/// ```
pub struct Condition {
    /// `true` in a node once that waiter was notified.
    waiters: StateLock<WaitList<bool>>,
}

impl Condition {
    /// A condition with nobody waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = brigade::sync::Condition::new();
    /// assert_eq!(cond.waiters_count(), 0);
    /// ```
    pub fn new() -> Condition {
        Condition {
            waiters: StateLock::new(WaitList::new()),
        }
    }

    fn waiters(&self) -> crate::loom::sync::MutexGuard<'_, WaitList<bool>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Releases the lock, waits for [`notify`](Self::notify) or
    /// [`notify_all`](Self::notify_all), then retakes the lock and returns
    /// the guard. Like any condition variable, check the state again after
    /// waking (or use [`wait_for`](Self::wait_for)).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future never leaves the lock held: the guard it holds (or
    /// retakes) is dropped with it. A notification handed to it before it was
    /// dropped goes on to the next waiter, also when the future had already
    /// moved on to retaking the lock (as in asyncio, where a notified waiter
    /// cancelled while it reacquires the lock calls `_notify(1)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::{Condition, Mutex};
    ///
    /// brigade::run(async {
    ///     let pair = Arc::new((Mutex::new(0), Condition::new()));
    ///     let waiter = brigade::spawn({
    ///         let pair = pair.clone();
    ///         async move {
    ///             let (lock, cond) = &*pair;
    ///             let mut guard = lock.lock().await;
    ///             while *guard == 0 {
    ///                 guard = cond.wait(guard).await;
    ///             }
    ///             *guard
    ///         }
    ///     });
    ///     brigade::yield_now().await;
    ///     *pair.0.lock().await = 5;
    ///     pair.1.notify(1);
    ///     assert_eq!(waiter.await.unwrap(), 5);
    /// });
    /// ```
    pub async fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex: &'a Mutex<T> = MutexGuard::mutex(&guard);
        let key = self.waiters().push_back(false, Waker::noop());
        let waiting = CondWait {
            cond: self,
            key: Some(key),
        };
        drop(guard);
        waiting.await;
        // Notified: if this future is dropped while it retakes the lock,
        // the notification it consumed goes on to the next waiter.
        let pass_on = PassOn { cond: Some(self) };
        let guard = mutex.lock().await;
        pass_on.disarm();
        guard
    }

    /// Waits until `predicate` holds for the guarded data, checking it
    /// first and then after every notification; returns with the lock held
    /// and the predicate true.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait): dropping the future releases the lock, and a
    /// notification it had not yet acted on goes on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::{Condition, Mutex};
    ///
    /// brigade::run(async {
    ///     let pair = Arc::new((Mutex::new(Vec::new()), Condition::new()));
    ///     let consumer = brigade::spawn({
    ///         let pair = pair.clone();
    ///         async move {
    ///             let (lock, cond) = &*pair;
    ///             let mut items = cond.wait_for(lock.lock().await, |v| !v.is_empty()).await;
    ///             items.pop()
    ///         }
    ///     });
    ///     brigade::yield_now().await;
    ///     pair.0.lock().await.push("job");
    ///     pair.1.notify_all();
    ///     assert_eq!(consumer.await.unwrap(), Some("job"));
    /// });
    /// ```
    pub async fn wait_for<'a, T: ?Sized, P>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: P,
    ) -> MutexGuard<'a, T>
    where
        P: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut *guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiters, longest waiting first. Returns how many were
    /// woken. Nothing is stored when nobody waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = brigade::sync::Condition::new();
    /// assert_eq!(cond.notify(1), 0); // nobody waits: nothing is stored
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        let (woken, wake) = Self::notify_locked(&mut self.waiters(), n);
        wake.wake_all();
        woken
    }

    /// Wakes every waiter; returns how many.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::{Condition, Mutex};
    ///
    /// brigade::run(async {
    ///     let pair = Arc::new((Mutex::new(()), Condition::new()));
    ///     let waiters: Vec<_> = (0..2)
    ///         .map(|_| {
    ///             let pair = pair.clone();
    ///             brigade::spawn(async move {
    ///                 let guard = pair.0.lock().await;
    ///                 drop(pair.1.wait(guard).await);
    ///             })
    ///         })
    ///         .collect();
    ///     brigade::yield_now().await;
    ///     assert_eq!(pair.1.notify_all(), 2);
    ///     for w in waiters {
    ///         w.await.unwrap();
    ///     }
    /// });
    /// ```
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    fn notify_locked(waiters: &mut WaitList<bool>, n: usize) -> (usize, WakeList) {
        let mut wake = WakeList::new();
        let mut woken = 0;
        while woken < n {
            let Some(key) = waiters.pop_front() else {
                break;
            };
            *waiters.value_mut(key) = true;
            wake.push(waiters.take_waker(key));
            woken += 1;
        }
        (woken, wake)
    }

    /// How many tasks wait right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::{Condition, Mutex};
    ///
    /// brigade::run(async {
    ///     let pair = Arc::new((Mutex::new(()), Condition::new()));
    ///     let waiter = brigade::spawn({
    ///         let pair = pair.clone();
    ///         async move { drop(pair.1.wait(pair.0.lock().await).await) }
    ///     });
    ///     brigade::yield_now().await;
    ///     assert_eq!(pair.1.waiters_count(), 1);
    ///     pair.1.notify(1);
    ///     waiter.await.unwrap();
    ///     assert_eq!(pair.1.waiters_count(), 0);
    /// });
    /// ```
    pub fn waiters_count(&self) -> usize {
        self.waiters().len()
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters_count())
            .finish()
    }
}

/// Waiting for a notification, already registered.
struct CondWait<'a> {
    cond: &'a Condition,
    key: Option<usize>,
}

impl Future for CondWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(key) = self.key else {
            return Poll::Ready(());
        };
        let mut waiters = self.cond.waiters();
        if *waiters.value(key) {
            waiters.remove(key);
            self.key = None;
            return Poll::Ready(());
        }
        waiters.register(key, cx.waker());
        Poll::Pending
    }
}

impl Drop for CondWait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let wake = {
            let mut waiters = self.cond.waiters();
            if waiters.remove(key) {
                // Notified but cancelled: the notification is not wasted.
                Condition::notify_locked(&mut waiters, 1).1
            } else {
                WakeList::new()
            }
        };
        wake.wake_all();
    }
}

/// A notification consumed by a `wait` that has not yet retaken the lock:
/// dropped armed (the `wait` was cancelled), it notifies the next waiter.
struct PassOn<'a> {
    cond: Option<&'a Condition>,
}

impl PassOn<'_> {
    /// The lock was retaken: the notification was used.
    fn disarm(mut self) {
        self.cond = None;
    }
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if let Some(cond) = self.cond {
            cond.notify(1);
        }
    }
}
