//! The guards of a [`Mutex`]: exclusive access to its data, borrowed
//! ([`MutexGuard`]) or owning an `Arc` of the mutex ([`OwnedMutexGuard`]),
//! released when dropped.
//!
//! A guard is proof that its holder was handed the lock, so its `Deref` is
//! the only place that touches the data, and its destructor unlocks, which
//! hands the lock straight to the first waiter (see `mutex.rs`).
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Mutex;
//!
//! brigade::run(async {
//!     let m = Arc::new(Mutex::new(String::new()));
//!     let mut borrowed = m.lock().await;
//!     borrowed.push('a');
//!     drop(borrowed); // unlocks
//!     let mut owned = m.clone().lock_owned().await; // 'static: may move into a task
//!     owned.push('b');
//!     assert_eq!(owned.as_str(), "ab");
//! });
//! ```

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::Mutex;

/// Exclusive access to the data of a [`Mutex`]; unlocks when dropped.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let m = brigade::sync::Mutex::new(vec![1]);
///     let mut guard = m.lock().await;
///     guard.push(2); // the guard derefs to the data
///     drop(guard); // unlocks
///     assert_eq!(*m.lock().await, [1, 2]);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    pub(super) mutex: &'a Mutex<T>,
}

// SAFETY: a guard is `&mut T` in disguise: shareable when `T` is `Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks (so that a [`Condition`](super::Condition)
    /// can release and retake it).
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::{Mutex, MutexGuard};
    ///
    /// let m = Mutex::new(0);
    /// let guard = m.try_lock().unwrap();
    /// assert!(std::ptr::eq(MutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(guard: &Self) -> &'a Mutex<T> {
        guard.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other reference to the
        // data exists until it drops.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only use.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

/// A guard that owns an `Arc` of its [`Mutex`]; see
/// [`Mutex::lock_owned`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use brigade::sync::{Mutex, OwnedMutexGuard};
///
/// let m = Arc::new(Mutex::new(0));
/// let mut guard: OwnedMutexGuard<i32> = m.clone().blocking_lock_owned();
/// std::thread::spawn(move || *guard = 7).join().unwrap();
/// assert_eq!(*m.blocking_lock(), 7);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    pub(super) mutex: Arc<Mutex<T>>,
}

// SAFETY: as for `MutexGuard`: shared access to the guard is `&T`.
unsafe impl<T: ?Sized + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::{Mutex, OwnedMutexGuard};
    ///
    /// let m = Arc::new(Mutex::new(0));
    /// let guard = m.clone().blocking_lock_owned();
    /// assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(guard: &Self) -> &Arc<Mutex<T>> {
        &guard.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock (see `MutexGuard::deref`).
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and `&mut self` is unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
