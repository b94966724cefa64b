//! [`LocalMutex`]: mutual exclusion for the tasks of one event loop, with
//! no thread lock inside (`asyncio.Lock` exactly: a lock that is not
//! thread-safe, for coroutines that share one loop).
//!
//! # Why a second mutex
//! [`Mutex`](super::Mutex) is `Send + Sync`: tasks on several loops and
//! plain threads may share it, so its waiter list sits behind a thread
//! lock, and every lock, hand-off and unlock pays for that lock's atomic
//! instructions. Most programs written in asyncio's style run one loop, and
//! their tasks share state through an `Rc`. For them the atomics buy
//! nothing: here the same FIFO list sits in a `RefCell`, and the type is
//! not `Sync`, so the compiler keeps it on one thread. A contended lock
//! handed from task to task every turn (the simultaneous exhibition's
//! master, who plays one board at a time) is the case where the difference
//! shows.
//!
//! # The discipline
//! Everything else is [`Mutex`](super::Mutex)'s, and is the same code
//! (`lock_state.rs`): a FIFO waiter list (`waiters.rs`); unlocking hands
//! the lock straight to the first waiter (direct hand-off), so a task that
//! arrives later never barges in; a waiter cancelled after the hand-off,
//! before it ran, passes the lock on from its destructor.
//!
//! ```
//! use std::rc::Rc;
//! use brigade::sync::LocalMutex;
//!
//! brigade::run(async {
//!     let board = Rc::new(LocalMutex::new(Vec::new()));
//!     let players: Vec<_> = ["white", "black"]
//!         .into_iter()
//!         .map(|side| {
//!             let board = board.clone();
//!             brigade::spawn(async move {
//!                 let mut moves = board.lock().await;
//!                 brigade::yield_now().await; // the other side queues meanwhile
//!                 moves.push(side);
//!             })
//!         })
//!         .collect();
//!     for p in players {
//!         p.await.unwrap();
//!     }
//!     assert_eq!(*board.lock().await, ["white", "black"]);
//! });
//! ```

use std::cell::{RefCell, UnsafeCell};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::TryLockError;
use super::lock_state::LockState;

/// An async mutex for the tasks of one loop (`asyncio.Lock`, holding its
/// data): [`Mutex`](super::Mutex) without the thread-safety, and without
/// its cost.
///
/// It is `Send` (when `T` is) but not `Sync`: share it between tasks with
/// an `Rc`, as tasks spawned with [`spawn`](crate::spawn) may hold `Rc`s.
/// A lock shared with other loops or threads is [`Mutex`](super::Mutex).
/// Waiting tasks are served FIFO, and unlocking hands the lock straight to
/// the first waiter, as with [`Mutex`](super::Mutex).
///
/// Why a second mutex: `Mutex` keeps its waiter list behind a thread lock,
/// so that loops and threads may share it, and every lock, hand-off and
/// unlock pays that lock's atomic instructions. Tasks of one loop gain
/// nothing from them; here the list sits in a `RefCell`. The difference
/// shows where a contended lock passes from task to task every turn.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use brigade::sync::LocalMutex;
///
/// brigade::run(async {
///     let count = Rc::new(LocalMutex::new(0));
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
///
/// It cannot be shared with another thread:
///
/// ```compile_fail
/// let m = brigade::sync::LocalMutex::new(0);
/// std::thread::scope(|s| {
///     s.spawn(|| *m.try_lock().unwrap() += 1);
/// });
/// ```
pub struct LocalMutex<T: ?Sized> {
    state: RefCell<LockState>,
    data: UnsafeCell<T>,
}

impl<T> LocalMutex<T> {
    /// A new, unlocked mutex holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = brigade::sync::LocalMutex::new(5);
    /// assert!(!m.is_locked());
    /// ```
    pub fn new(value: T) -> LocalMutex<T> {
        LocalMutex {
            state: RefCell::new(LockState::new()),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = brigade::sync::LocalMutex::new(String::from("hi"));
    /// assert_eq!(m.into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> LocalMutex<T> {
    /// Waits until the lock is free, then takes it. Waiters are served in
    /// the order they started waiting.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future gives up its place in the queue; a lock handed
    /// to it meanwhile goes on to the next waiter, so the mutex never stays
    /// locked by nobody.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let m = brigade::sync::LocalMutex::new(1);
    ///     *m.lock().await += 1;
    ///     assert_eq!(*m.lock().await, 2);
    /// });
    /// ```
    pub fn lock(&self) -> LocalLock<'_, T> {
        LocalLock {
            mutex: self,
            key: None,
        }
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
    /// let m = brigade::sync::LocalMutex::new(0);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<LocalMutexGuard<'_, T>, TryLockError> {
        if !self.state.borrow_mut().try_take() {
            return Err(TryLockError);
        }
        Ok(LocalMutexGuard { mutex: self })
    }

    /// Whether the lock is held right now (by a guard, or handed to a
    /// waiter that has not run yet): asyncio's `Lock.locked()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = brigade::sync::LocalMutex::new(());
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.is_locked());
    /// drop(guard);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.state.borrow().is_locked()
    }

    /// Direct access to the data: `&mut self` proves nobody holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = brigade::sync::LocalMutex::new(1);
    /// *m.get_mut() = 10;
    /// assert_eq!(m.into_inner(), 10);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Releases the lock: to the first waiter if there is one.
    fn unlock(&self) {
        let waker = self.state.borrow_mut().hand_off();
        // Woken after the borrow ends: a waker may run code that locks.
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The future returned by [`LocalMutex::lock`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let m = brigade::sync::LocalMutex::new('a');
///     let lock: brigade::sync::LocalLock<'_, char> = m.lock();
///     assert_eq!(*lock.await, 'a');
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct LocalLock<'a, T: ?Sized> {
    mutex: &'a LocalMutex<T>,
    key: Option<usize>,
}

impl<'a, T: ?Sized> Future for LocalLock<'a, T> {
    type Output = LocalMutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LocalMutexGuard<'a, T>> {
        let mutex = self.mutex;
        if mutex
            .state
            .borrow_mut()
            .poll_take(&mut self.key, cx.waker())
        {
            Poll::Ready(LocalMutexGuard { mutex })
        } else {
            Poll::Pending
        }
    }
}

impl<T: ?Sized> Drop for LocalLock<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = self.mutex.state.borrow_mut().give_up(key);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Exclusive access to a [`LocalMutex`]'s data; dropping it unlocks, handing
/// the lock to the first waiter.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let m = brigade::sync::LocalMutex::new(vec![1]);
///     let mut guard: brigade::sync::LocalMutexGuard<'_, Vec<i32>> = m.lock().await;
///     guard.push(2);
///     drop(guard);
///     assert_eq!(*m.lock().await, [1, 2]);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LocalMutexGuard<'a, T: ?Sized> {
    mutex: &'a LocalMutex<T>,
}

impl<'a, T: ?Sized> LocalMutexGuard<'a, T> {
    /// The mutex this guard holds (an associated function, so that it does
    /// not shadow a method of `T`).
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::{LocalMutex, LocalMutexGuard};
    ///
    /// let m = LocalMutex::new(0);
    /// let guard = m.try_lock().unwrap();
    /// assert!(std::ptr::eq(LocalMutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(guard: &Self) -> &'a LocalMutex<T> {
        guard.mutex
    }
}

impl<T: ?Sized> Deref for LocalMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other reference to the
        // data exists until it drops; the mutex is not `Sync`, so no other
        // thread can reach it either.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for LocalMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only use.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for LocalMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LocalMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for LocalMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LocalMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("LocalMutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for LocalMutex<T> {
    fn default() -> LocalMutex<T> {
        LocalMutex::new(T::default())
    }
}

impl<T> From<T> for LocalMutex<T> {
    fn from(value: T) -> LocalMutex<T> {
        LocalMutex::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for LocalLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalLock")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
