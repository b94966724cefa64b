//! [`Lock`]: Python's `threading.Lock`, as a Rust lock that owns the data
//! it guards, with a name and optional deadlock detection (see
//! [`detect_deadlocks`](super::detect_deadlocks)).
//!
//! A [`Lock`] is the standard library's [`Mutex`](std::sync::Mutex) plus
//! a name and a place in the detector's wait-for graph; `lock` returns
//! `Err(DeadlockError)` where a plain mutex would hang. Its reentrant
//! sibling, [`RLock`](super::RLock), is in `rlock.rs`.
//!
//! A lock is not poisoned by a panic: as in Python, it is simply released
//! when its holder unwinds.
//!
//! It can be waited for with a time limit, Python's
//! `acquire(timeout=...)`: [`Lock::lock_timeout`] returns `Ok(None)` when
//! the time runs out. `std`'s mutex has no timed wait, so a [`Lock`]'s
//! timed waiters sleep on a condition variable of their own, and a release
//! wakes one of them only when there are any (a counter read after a
//! fence, the store-buffering pattern of Dekker's algorithm): an untimed
//! `lock` and its release cost what `std`'s do.
//!
//! ```
//! use std::time::Duration;
//! use brigade::thread::Lock;
//!
//! let oven = Lock::named("oven", 0u32);
//! *oven.lock().unwrap() += 180;
//! assert_eq!(*oven.lock().unwrap(), 180);
//! assert_eq!(oven.name(), "oven");
//!
//! let held = oven.lock().unwrap();
//! let waited = std::thread::scope(|s| {
//!     s.spawn(|| oven.lock_timeout(Duration::from_millis(1)).unwrap().is_none())
//!         .join()
//!         .unwrap()
//! });
//! assert!(waited); // held here: the other thread's wait timed out
//! drop(held);
//! ```

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use super::deadlock::{self, DeadlockError, LockId, Tracked};

/// A mutual-exclusion lock that owns its data: `std`'s `Mutex` with a
/// name, no poisoning, and a place in the deadlock detector's graph.
///
/// # Examples
/// Python's `with lock:` around shared data:
/// ```
/// use std::sync::Arc;
/// use brigade::thread::{self, Lock};
///
/// let counter = Arc::new(Lock::new(0));
/// let threads: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = counter.clone();
///         thread::spawn(move || *counter.lock().unwrap() += 1).unwrap()
///     })
///     .collect();
/// for t in threads {
///     t.into_result().unwrap();
/// }
/// assert_eq!(*counter.lock().unwrap(), 4);
/// ```
pub struct Lock<T: ?Sized = ()> {
    id: LockId,
    name: Box<str>,
    /// Threads in `lock_timeout`, which sleep on `opened` (under `gate`)
    /// rather than in the mutex.
    timed: AtomicUsize,
    gate: Mutex<()>,
    opened: Condvar,
    mutex: Mutex<T>,
}

impl<T> Lock<T> {
    /// A lock around `value`, named `lock #N`.
    ///
    /// # Examples
    /// ```
    /// let lock = brigade::thread::Lock::new(vec![1]);
    /// lock.lock().unwrap().push(2);
    /// assert_eq!(*lock.lock().unwrap(), [1, 2]);
    /// assert!(lock.name().starts_with("lock #"));
    /// ```
    pub fn new(value: T) -> Lock<T> {
        let id = LockId::next();
        let name = format!("lock #{}", id.number());
        Lock::with_id(id, name, value)
    }

    /// A lock around `value` with a name for deadlock reports.
    ///
    /// # Examples
    /// ```
    /// let ledger = brigade::thread::Lock::named("ledger", 0u64);
    /// assert_eq!(ledger.name(), "ledger");
    /// ```
    pub fn named(name: impl Into<String>, value: T) -> Lock<T> {
        Lock::with_id(LockId::next(), name.into(), value)
    }

    fn with_id(id: LockId, name: String, value: T) -> Lock<T> {
        Lock {
            id,
            name: name.into_boxed_str(),
            timed: AtomicUsize::new(0),
            gate: Mutex::new(()),
            opened: Condvar::new(),
            mutex: Mutex::new(value),
        }
    }

    /// The data, for the lock's owner.
    ///
    /// # Examples
    /// ```
    /// let lock = brigade::thread::Lock::new(String::from("flour"));
    /// lock.lock().unwrap().push_str(" and water");
    /// assert_eq!(lock.into_inner(), "flour and water");
    /// ```
    pub fn into_inner(self) -> T {
        self.mutex.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: ?Sized> Lock<T> {
    /// The lock's name.
    ///
    /// # Examples
    /// ```
    /// let lock = brigade::thread::Lock::named("pantry", ());
    /// assert_eq!(lock.name(), "pantry");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the lock, blocking until it is free. With deadlock detection
    /// on, fails instead of blocking when the wait would never end.
    ///
    /// # Examples
    /// ```
    /// let lock = brigade::thread::Lock::new(1);
    /// {
    ///     let mut guard = lock.lock().unwrap();
    ///     *guard += 1;
    ///     assert!(lock.locked());
    /// } // released here
    /// assert!(!lock.locked());
    /// ```
    ///
    /// # Errors
    /// [`DeadlockError`], only with deadlock detection on (see
    /// [`detect_deadlocks`](super::detect_deadlocks)), when waiting would never
    /// end; without it, never.
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
    ///
    /// # Examples
    /// ```
    /// let lock = brigade::thread::Lock::new(());
    /// let held = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none()); // not reentrant: held already
    /// drop(held);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.try_inner().map(|inner| self.guard(inner))
    }

    /// Takes the lock, waiting at most `timeout` for it: `Ok(None)` if the
    /// time ran out (Python's `acquire(timeout=...)` returning `False`). A
    /// zero timeout only tries, as [`try_lock`](Self::try_lock) does.
    ///
    /// With deadlock detection on, a wait that would close a cycle fails at
    /// once with [`DeadlockError`] instead of timing out, even though the
    /// timeout would end it: Python would wait out the time and return
    /// `False`. Without detection, it times out as in Python.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use brigade::thread::{self, Lock};
    ///
    /// let oven = Arc::new(Lock::new(180));
    /// let held = oven.lock().unwrap();
    /// let other = thread::spawn({
    ///     let oven = oven.clone();
    ///     move || oven.lock_timeout(Duration::from_millis(1)).unwrap().is_none()
    /// })
    /// .unwrap();
    /// assert!(other.into_result().unwrap()); // held here: it timed out
    /// drop(held);
    /// let guard = oven.lock_timeout(Duration::from_secs(1)).unwrap().unwrap();
    /// assert_eq!(*guard, 180);
    /// ```
    ///
    /// # Errors
    /// [`DeadlockError`], only with deadlock detection on, as described above.
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<LockGuard<'_, T>>, DeadlockError> {
        if let Some(guard) = self.try_lock() {
            return Ok(Some(guard));
        }
        if timeout.is_zero() {
            return Ok(None);
        }
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            // Too far in the future to represent: wait without limit.
            return self.lock().map(Some);
        };
        deadlock::before_wait(self.id, &self.name)?;
        let mut gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        self.timed.fetch_add(1, Ordering::SeqCst);
        let inner = loop {
            // Pairs with the fence in `Opener::drop`: either this try sees
            // the release, or the releaser sees the count and wakes us.
            fence(Ordering::SeqCst);
            if let Some(inner) = self.try_inner() {
                break Some(inner);
            }
            let now = Instant::now();
            if now >= deadline {
                break None;
            }
            gate = self
                .opened
                .wait_timeout(gate, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        self.timed.fetch_sub(1, Ordering::SeqCst);
        drop(gate);
        match inner {
            Some(inner) => Ok(Some(self.guard(inner))),
            None => {
                deadlock::gave_up();
                Ok(None)
            }
        }
    }

    /// Takes the lock again after a [`Condition`](super::Condition) wait,
    /// without a deadlock check: it has no way to report one and still
    /// hand back the guard.
    pub(crate) fn relock(&self) -> LockGuard<'_, T> {
        let inner = match self.try_inner() {
            Some(inner) => inner,
            None => self.mutex.lock().unwrap_or_else(|e| e.into_inner()),
        };
        self.guard(inner)
    }

    fn try_inner(&self) -> Option<MutexGuard<'_, T>> {
        match self.mutex.try_lock() {
            Ok(inner) => Some(inner),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    fn guard<'a>(&'a self, inner: MutexGuard<'a, T>) -> LockGuard<'a, T> {
        LockGuard {
            tracked: deadlock::acquired(self.id, &self.name),
            inner,
            opener: Opener { lock: self },
        }
    }

    /// Whether some thread holds the lock now (Python's `locked()`).
    ///
    /// # Examples
    /// ```
    /// let lock = brigade::thread::Lock::new(());
    /// assert!(!lock.locked());
    /// let _guard = lock.lock().unwrap();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        matches!(self.mutex.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// The data, through exclusive access to the lock itself.
    ///
    /// # Examples
    /// ```
    /// let mut lock = brigade::thread::Lock::new(5);
    /// *lock.get_mut() += 1; // no locking: `&mut` proves nobody else holds it
    /// assert_eq!(lock.into_inner(), 6);
    /// ```
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
///
/// # Examples
/// ```
/// use brigade::thread::{Lock, LockGuard};
///
/// let lock = Lock::new(vec![0; 3]);
/// let mut guard: LockGuard<'_, Vec<i32>> = lock.lock().unwrap();
/// guard[1] = 7; // derefs to the data
/// drop(guard);
/// assert_eq!(lock.into_inner(), [0, 7, 0]);
/// ```
#[must_use = "dropping the guard releases the lock at once"]
pub struct LockGuard<'a, T: ?Sized> {
    tracked: Option<Tracked>,
    // Fields drop in order: the mutex opens, then the opener wakes a timed
    // waiter.
    inner: MutexGuard<'a, T>,
    opener: Opener<'a, T>,
}

impl<'a, T: ?Sized> LockGuard<'a, T> {
    /// Releases the lock and hands back the lock itself, for a
    /// [`Condition`](super::Condition) to take it again later.
    pub(crate) fn unlock(self) -> &'a Lock<T> {
        let lock = self.opener.lock;
        drop(self);
        lock
    }
}

/// Wakes a thread in [`Lock::lock_timeout`] once the mutex has opened.
struct Opener<'a, T: ?Sized> {
    lock: &'a Lock<T>,
}

impl<T: ?Sized> Drop for Opener<'_, T> {
    fn drop(&mut self) {
        let lock = self.lock;
        // Pairs with the fence in `lock_timeout`, after the mutex opened.
        fence(Ordering::SeqCst);
        if lock.timed.load(Ordering::SeqCst) > 0 {
            // Taking the gate waits until the timed waiter sleeps on
            // `opened`, so this wake-up cannot pass it by.
            let _gate = lock.gate.lock().unwrap_or_else(|e| e.into_inner());
            lock.opened.notify_one();
        }
    }
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
