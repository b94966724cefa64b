//! [`Lock`] and [`RLock`]: Python's `threading.Lock` and `RLock`, as
//! Rust locks that own the data they guard, with names and optional
//! deadlock detection (see [`detect_deadlocks`](super::detect_deadlocks)).
//!
//! A [`Lock`] is the standard library's [`Mutex`](std::sync::Mutex) plus
//! a name and a place in the detector's wait-for graph; `lock` returns
//! `Err(DeadlockError)` where a plain mutex would hang. An [`RLock`] may
//! be taken again by the thread that holds it (each `lock` needs its guard
//! dropped before another thread gets in), so it lends its data by shared
//! reference only, like `std`'s unstable `ReentrantLock`.
//!
//! Neither is poisoned by a panic: as in Python, a lock is simply released
//! when its holder unwinds.
//!
//! ```
//! use brigade::thread::{Lock, RLock};
//!
//! let oven = Lock::named("oven", 0u32);
//! *oven.lock().unwrap() += 180;
//! assert_eq!(*oven.lock().unwrap(), 180);
//! assert_eq!(oven.name(), "oven");
//!
//! let recipe = RLock::new(vec!["flour"]);
//! let outer = recipe.lock().unwrap();
//! let inner = recipe.lock().unwrap(); // the same thread may re-enter
//! assert_eq!(inner.len(), outer.len());
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};

use super::deadlock::{self, DeadlockError, LockId, Tracked};
use super::registry;

/// A mutual-exclusion lock that owns its data: `std`'s `Mutex` with a
/// name, no poisoning, and a place in the deadlock detector's graph.
pub struct Lock<T: ?Sized = ()> {
    id: LockId,
    name: Box<str>,
    mutex: Mutex<T>,
}

impl<T> Lock<T> {
    /// A lock around `value`, named `lock #N`.
    pub fn new(value: T) -> Lock<T> {
        let id = LockId::next();
        let name = format!("lock #{}", id.number());
        Lock::with_id(id, name, value)
    }

    /// A lock around `value` with a name for deadlock reports.
    pub fn named(name: impl Into<String>, value: T) -> Lock<T> {
        Lock::with_id(LockId::next(), name.into(), value)
    }

    fn with_id(id: LockId, name: String, value: T) -> Lock<T> {
        Lock {
            id,
            name: name.into_boxed_str(),
            mutex: Mutex::new(value),
        }
    }

    /// The data, for the lock's owner.
    pub fn into_inner(self) -> T {
        self.mutex.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: ?Sized> Lock<T> {
    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the lock, blocking until it is free. With deadlock detection
    /// on, fails instead of blocking when the wait would never end.
    pub fn lock(&self) -> Result<LockGuard<'_, T>, DeadlockError> {
        if let Some(guard) = self.try_lock() {
            return Ok(guard);
        }
        deadlock::before_wait(self.id, &self.name)?;
        let inner = self.mutex.lock().unwrap_or_else(|e| e.into_inner());
        Ok(self.guard(inner))
    }

    /// Takes the lock if it is free now (Python's
    /// `acquire(blocking=False)`).
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        match self.mutex.try_lock() {
            Ok(inner) => Some(self.guard(inner)),
            Err(TryLockError::Poisoned(e)) => Some(self.guard(e.into_inner())),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    fn guard<'a>(&'a self, inner: MutexGuard<'a, T>) -> LockGuard<'a, T> {
        LockGuard {
            tracked: deadlock::acquired(self.id, &self.name),
            inner,
        }
    }

    /// Whether some thread holds the lock now (Python's `locked()`).
    pub fn locked(&self) -> bool {
        matches!(self.mutex.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// The data, through exclusive access to the lock itself.
    pub fn get_mut(&mut self) -> &mut T {
        self.mutex.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Lock<T> {
        Lock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name)
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

/// Access to a [`Lock`]'s data; releases the lock when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct LockGuard<'a, T: ?Sized> {
    tracked: Option<Tracked>,
    inner: MutexGuard<'a, T>,
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        // Forget the owner before the mutex opens (the field drops next).
        if let Some(tracked) = self.tracked.take() {
            tracked.release();
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A reentrant lock, Python's `threading.RLock`: the thread holding it may
/// take it again, so it lends its data by shared reference only.
pub struct RLock<T: ?Sized = ()> {
    id: LockId,
    name: Box<str>,
    state: Mutex<Owner>,
    free: Condvar,
    data: T,
}

#[derive(Default)]
struct Owner {
    /// Ident of the holding thread.
    thread: Option<u64>,
    depth: usize,
    tracked: Option<Tracked>,
}

impl<T> RLock<T> {
    /// A reentrant lock around `value`, named `rlock #N`.
    pub fn new(value: T) -> RLock<T> {
        let id = LockId::next();
        let name = format!("rlock #{}", id.number());
        RLock::with_id(id, name, value)
    }

    /// A reentrant lock around `value` with a name for deadlock reports.
    pub fn named(name: impl Into<String>, value: T) -> RLock<T> {
        RLock::with_id(LockId::next(), name.into(), value)
    }

    fn with_id(id: LockId, name: String, value: T) -> RLock<T> {
        RLock {
            id,
            name: name.into_boxed_str(),
            state: Mutex::new(Owner::default()),
            free: Condvar::new(),
            data: value,
        }
    }

    /// The data, for the lock's owner.
    pub fn into_inner(self) -> T {
        self.data
    }
}

impl<T: ?Sized> RLock<T> {
    fn owner(&self) -> MutexGuard<'_, Owner> {
        // The owner record is a few fields set together.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the lock, or enters it again if this thread holds it; blocks
    /// while another thread holds it. With deadlock detection on, fails
    /// instead of blocking when the wait would never end.
    pub fn lock(&self) -> Result<RLockGuard<'_, T>, DeadlockError> {
        if let Some(guard) = self.try_lock() {
            return Ok(guard);
        }
        deadlock::before_wait(self.id, &self.name)?;
        let me = registry::get_ident();
        let mut owner = self.owner();
        while owner.thread.is_some() {
            owner = self.free.wait(owner).unwrap_or_else(|e| e.into_inner());
        }
        owner.thread = Some(me);
        owner.depth = 1;
        drop(owner);
        // Recorded outside the state mutex, which is never held while the
        // detector's table is taken: the two locks have one order.
        let tracked = deadlock::acquired(self.id, &self.name);
        self.owner().tracked = tracked;
        Ok(RLockGuard {
            lock: self,
            _owner_thread: PhantomData,
        })
    }

    /// Takes or re-enters the lock if that needs no waiting.
    pub fn try_lock(&self) -> Option<RLockGuard<'_, T>> {
        let me = registry::get_ident();
        let mut owner = self.owner();
        match owner.thread {
            Some(holder) if holder == me => {
                owner.depth += 1;
                Some(RLockGuard {
                    lock: self,
                    _owner_thread: PhantomData,
                })
            }
            Some(_) => None,
            None => {
                owner.thread = Some(me);
                owner.depth = 1;
                drop(owner);
                let tracked = deadlock::acquired(self.id, &self.name);
                self.owner().tracked = tracked;
                Some(RLockGuard {
                    lock: self,
                    _owner_thread: PhantomData,
                })
            }
        }
    }

    /// Whether some thread holds the lock now.
    pub fn locked(&self) -> bool {
        self.owner().thread.is_some()
    }

    /// Whether the calling thread holds the lock (Python's `_is_owned()`).
    pub fn is_owned(&self) -> bool {
        self.owner().thread == Some(registry::get_ident())
    }

    fn release(&self) {
        let mut owner = self.owner();
        owner.depth -= 1;
        if owner.depth > 0 {
            return;
        }
        let tracked = owner.tracked.take();
        drop(owner);
        // Forget the owner before others can take the lock.
        if let Some(tracked) = tracked {
            tracked.release();
        }
        self.owner().thread = None;
        self.free.notify_one();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("name", &self.name)
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

/// Shared access to an [`RLock`]'s data; leaves the lock once when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RLockGuard<'a, T: ?Sized> {
    lock: &'a RLock<T>,
    // Not `Send`: the lock is released by the thread that holds it.
    _owner_thread: PhantomData<*const ()>,
}

impl<T: ?Sized> Deref for RLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.lock.data
    }
}

impl<T: ?Sized> Drop for RLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
