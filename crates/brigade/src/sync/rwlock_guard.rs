//! The guards of an [`RwLock`]: shared or exclusive access to its data,
//! borrowed or owning an `Arc` of the lock, released when dropped.
//!
//! A guard is proof of what it holds in the lock's word (one reader, or the
//! writer bit), so its `Deref` is the only place that touches the data, and
//! its destructor gives back exactly that. A write guard can
//! [`downgrade`](RwLockWriteGuard::downgrade) to a read guard without
//! letting anybody in between.
//!
//! ```
//! brigade::run(async {
//!     let lock = brigade::sync::RwLock::new(0);
//!     let mut w = lock.write().await;
//!     *w += 1;
//!     let r = w.downgrade();
//!     assert_eq!(*r, 1);
//! });
//! ```

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::RwLock;

/// Shared access to the data of an [`RwLock`]; released when dropped.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let lock = brigade::sync::RwLock::new(vec![1, 2]);
///     let guard = lock.read().await;
///     assert_eq!(guard.len(), 2);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    pub(super) lock: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard counts as a reader in the word, so no writer
        // guard exists until it drops.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release_read();
    }
}

/// Exclusive access to the data of an [`RwLock`]; released when dropped.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let lock = brigade::sync::RwLock::new(vec![1]);
///     lock.write().await.push(2);
///     assert_eq!(*lock.read().await, [1, 2]);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    pub(super) lock: &'a RwLock<T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access without letting a writer
    /// in between; readers that queue at the head come in too (tokio's
    /// `downgrade`).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let lock = brigade::sync::RwLock::new(1);
    ///     let mut w = lock.write().await;
    ///     *w = 2;
    ///     let r = w.downgrade();
    ///     assert_eq!((*r, *lock.try_read().unwrap()), (2, 2));
    /// });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.downgrade();
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the writer bit: no other guard exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only use.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release_write();
    }
}

/// A read guard that owns an `Arc` of its [`RwLock`]; see
/// [`RwLock::read_owned`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// brigade::run(async {
///     let lock = Arc::new(brigade::sync::RwLock::new(1));
///     let guard: brigade::sync::OwnedRwLockReadGuard<i32> = lock.read_owned().await;
///     assert_eq!(*guard, 1);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    pub(super) hold: OwnedHold<T>,
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard counts as a reader (see `RwLockReadGuard`).
        unsafe { &*self.hold.lock.data.get() }
    }
}

/// A write guard that owns an `Arc` of its [`RwLock`]; see
/// [`RwLock::write_owned`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// brigade::run(async {
///     let lock = Arc::new(brigade::sync::RwLock::new(1));
///     let mut guard = lock.clone().write_owned().await;
///     *guard = 3;
///     let reader = guard.downgrade();
///     assert_eq!(*reader, 3);
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    pub(super) hold: OwnedHold<T>,
}

/// What an owned guard holds, released on drop by the kind it holds now
/// (a downgrade turns a write hold into a read hold without unsafe moves).
pub(super) struct OwnedHold<T: ?Sized> {
    pub(super) lock: Arc<RwLock<T>>,
    pub(super) write: bool,
}

impl<T: ?Sized> Drop for OwnedHold<T> {
    fn drop(&mut self) {
        if self.write {
            self.lock.release_write();
        } else {
            self.lock.release_read();
        }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns exclusive access into shared access; see
    /// [`RwLockWriteGuard::downgrade`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// brigade::run(async {
    ///     let lock = Arc::new(brigade::sync::RwLock::new(1));
    ///     let r = lock.clone().write_owned().await.downgrade();
    ///     assert_eq!((*r, *lock.read().await), (1, 1));
    /// });
    /// ```
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let mut hold = self.hold;
        hold.lock.downgrade();
        hold.write = false;
        OwnedRwLockReadGuard { hold }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the writer bit (see `RwLockWriteGuard`).
        unsafe { &*self.hold.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the writer bit, and `&mut self` is unique.
        unsafe { &mut *self.hold.lock.data.get() }
    }
}

macro_rules! guard_fmt {
    ($($guard:ty),*) => {$(
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

guard_fmt!(
    RwLockReadGuard<'_, T>,
    RwLockWriteGuard<'_, T>,
    OwnedRwLockReadGuard<T>,
    OwnedRwLockWriteGuard<T>
);
