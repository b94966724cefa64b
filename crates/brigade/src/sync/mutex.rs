//! [`Mutex`]: mutual exclusion for tasks (`asyncio.Lock`, with the data
//! inside as in Rust's own mutex).
//!
//! A task that finds the lock taken parks on a FIFO waiter
//! list (`waiters.rs`) instead of blocking its thread. Unlocking does not
//! just clear a flag: it hands the lock straight to the first waiter, so a
//! task that arrives later can never barge in and take it first (the
//! "direct hand-off" discipline of fair locks, as in tokio's semaphore or
//! Java's fair `ReentrantLock`). A waiter that is cancelled after the lock
//! was handed to it, but before it ran, passes the lock on from its
//! destructor: a lock is never leaked by cancellation. These rules live in
//! `lock_state.rs`, shared with [`LocalMutex`](super::LocalMutex); the
//! guards that hold the lock live in `mutex_guard.rs`.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Mutex;
//!
//! brigade::run(async {
//!     let counter = Arc::new(Mutex::new(0));
//!     let tasks: Vec<_> = (0..10)
//!         .map(|_| {
//!             let counter = counter.clone();
//!             brigade::spawn(async move {
//!                 let mut n = counter.lock().await;
//!                 brigade::yield_now().await; // others queue up meanwhile
//!                 *n += 1;
//!             })
//!         })
//!         .collect();
//!     for t in tasks {
//!         t.await.unwrap();
//!     }
//!     assert_eq!(*counter.lock().await, 10);
//! });
//! ```

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::lock_state::LockState;
use super::mutex_guard::{MutexGuard, OwnedMutexGuard};
use super::park::block_on;
use crate::event_loop::context::assert_not_on_loop;
use crate::loom::sync::Mutex as StateLock;

/// An async mutex (`asyncio.Lock`, holding its data).
///
/// Waiting tasks are served FIFO: unlocking hands the lock straight to the
/// first waiter, so newcomers cannot barge in, and a waiter cancelled after
/// the hand-off passes the lock on.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use brigade::sync::Mutex;
///
/// brigade::run(async {
///     let count = Arc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let count = count.clone();
///             brigade::spawn(async move { *count.lock().await += 1 })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(*count.lock().await, 3);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    state: StateLock<LockState>,
    pub(super) data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one guard at a time, on any
// thread, so it may be sent and shared whenever `T` may be sent.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above: `&Mutex<T>` only ever yields exclusive access to `T`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// [`Mutex::try_lock`] (or [`RwLock::try_read`](super::RwLock::try_read),
/// [`RwLock::try_write`](super::RwLock::try_write)) found the lock taken.
///
/// # Examples
///
/// ```
/// let m = brigade::sync::Mutex::new(());
/// let _held = m.try_lock().unwrap();
/// let err: brigade::sync::TryLockError = m.try_lock().unwrap_err();
/// assert_eq!(err.to_string(), "the lock is held");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError;

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = brigade::sync::Mutex::new(5);
    /// assert!(!m.is_locked());
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: StateLock::new(LockState::new()),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = brigade::sync::Mutex::new(String::from("hi"));
    /// assert_eq!(m.into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    fn state(&self) -> crate::loom::sync::MutexGuard<'_, LockState> {
        // Every critical section is a few assignments that cannot panic
        // halfway, so a poisoned lock still guards a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the lock is free, then takes it. Waiters are served in
    /// the order they started waiting.
    ///
    /// # Cancel safety
    ///
    /// This method uses a queue to hand out the lock in the order it was asked
    /// for. Dropping the future gives up its place in the queue; a lock handed
    /// to it meanwhile goes on to the next waiter, so the mutex never stays
    /// locked by nobody.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let m = brigade::sync::Mutex::new(1);
    ///     *m.lock().await += 1;
    ///     assert_eq!(*m.lock().await, 2);
    /// });
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            key: None,
        }
    }

    /// Like [`lock`](Self::lock), for a mutex in an `Arc`: the guard owns a
    /// clone of the `Arc`, so it can move into a spawned task.
    ///
    /// # Cancel safety
    ///
    /// As [`lock`](Self::lock): dropping the future gives up its place in the
    /// queue, and a lock handed to it goes on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// brigade::run(async {
    ///     let m = Arc::new(brigade::sync::Mutex::new(0));
    ///     let mut guard = m.clone().lock_owned().await;
    ///     brigade::spawn(async move { *guard += 1 }).await.unwrap();
    ///     assert_eq!(*m.lock().await, 1);
    /// });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let guard = self.lock().await;
        // The owned guard takes over the lock that `guard` holds.
        std::mem::forget(guard);
        OwnedMutexGuard { mutex: self }
    }

    /// Takes the lock from a plain thread, sleeping until it is free
    /// (tokio's `blocking_lock`). The thread queues in the same FIFO as the
    /// tasks do, so it is served in turn, not before nor after them.
    ///
    /// # Panics
    /// On an event loop's thread, even if the lock is free (as tokio does):
    /// sleeping there would block every task of the loop, the holder's
    /// perhaps too. Await [`lock`](Self::lock) there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::Mutex;
    ///
    /// let count = Arc::new(Mutex::new(0));
    /// let worker = std::thread::spawn({
    ///     let count = count.clone();
    ///     move || *count.blocking_lock() += 1
    /// });
    /// worker.join().unwrap();
    /// brigade::run(async move { assert_eq!(*count.lock().await, 1) });
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        assert_not_on_loop("Mutex::blocking_lock", "lock().await");
        block_on(self.lock())
    }

    /// Like [`blocking_lock`](Self::blocking_lock), for a mutex in an
    /// `Arc`: the guard owns a clone of the `Arc` (tokio's
    /// `blocking_lock_owned`).
    ///
    /// # Panics
    /// On an event loop's thread, as [`blocking_lock`](Self::blocking_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::Mutex;
    ///
    /// let names = Arc::new(Mutex::new(Vec::new()));
    /// let mut guard = names.clone().blocking_lock_owned();
    /// std::thread::spawn(move || guard.push("ada")).join().unwrap();
    /// assert_eq!(*names.blocking_lock(), ["ada"]);
    /// ```
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        assert_not_on_loop("Mutex::blocking_lock_owned", "lock_owned().await");
        let guard = block_on(self.lock());
        // The owned guard takes over the lock that `guard` holds.
        std::mem::forget(guard);
        OwnedMutexGuard { mutex: self }
    }

    /// Takes the lock if it is free right now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held (by a guard, or handed to a
    /// waiter that has not run yet).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = brigade::sync::Mutex::new(0);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if !self.state().try_take() {
            return Err(TryLockError);
        }
        Ok(MutexGuard { mutex: self })
    }

    /// Whether some guard holds the lock right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = brigade::sync::Mutex::new(());
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.is_locked());
    /// drop(guard);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.state().is_locked()
    }

    /// Direct access to the data: `&mut self` proves nobody holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = brigade::sync::Mutex::new(1);
    /// *m.get_mut() = 10;
    /// assert_eq!(m.into_inner(), 10);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Releases the lock: to the first waiter if there is one.
    pub(super) fn unlock(&self) {
        // Woken once the state is unlocked again.
        let waker = self.state().hand_off();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The future returned by [`Mutex::lock`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let m = brigade::sync::Mutex::new('a');
///     let lock: brigade::sync::Lock<'_, char> = m.lock();
///     assert_eq!(*lock.await, 'a');
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    key: Option<usize>,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        if mutex.state().poll_take(&mut self.key, cx.waker()) {
            Poll::Ready(MutexGuard { mutex })
        } else {
            Poll::Pending
        }
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = self.mutex.state().give_up(key);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    use super::Mutex;
    use crate::loom::sync::Arc;
    use crate::loom::thread;
    use crate::sync::park::block_on;

    #[test]
    fn two_threads_take_turns() {
        loom::model(|| {
            let mutex = Arc::new(Mutex::new(0));
            let other = {
                let mutex = mutex.clone();
                thread::spawn(move || *block_on(mutex.lock()) += 1)
            };
            *block_on(mutex.lock()) += 1;
            other.join().unwrap();
            assert_eq!(*mutex.try_lock().unwrap(), 2);
        });
    }

    #[test]
    fn a_waiter_dropped_during_the_hand_off_never_leaks_the_lock() {
        loom::model(|| {
            let mutex = Arc::new(Mutex::new(()));
            let guard = mutex.try_lock().unwrap();
            let waiter = {
                let mutex = mutex.clone();
                thread::spawn(move || {
                    let mut lock = pin!(mutex.lock());
                    let mut cx = Context::from_waker(Waker::noop());
                    // Either it parks, or the lock was already free.
                    let got = lock.as_mut().poll(&mut cx);
                    drop(got);
                    // Dropped while the unlock may be handing it the lock.
                })
            };
            drop(guard);
            waiter.join().unwrap();
            assert!(mutex.try_lock().is_ok(), "the lock leaked");
        });
    }

    #[test]
    fn the_hand_off_wakes_the_waiter() {
        loom::model(|| {
            let mutex = Arc::new(Mutex::new(0));
            let guard = mutex.try_lock().unwrap();
            let waiter = {
                let mutex = mutex.clone();
                thread::spawn(move || {
                    let mut n = block_on(mutex.lock());
                    *n += 1;
                })
            };
            drop(guard);
            waiter.join().unwrap();
            match mutex.try_lock() {
                Ok(n) => assert_eq!(*n, 1),
                Err(_) => panic!("the lock leaked"),
            }
        });
    }
}
