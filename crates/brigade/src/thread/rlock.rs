//! [`RLock`]: Python's `threading.RLock`, a lock that the thread holding
//! it may take again, with a name and optional deadlock detection (see
//! [`detect_deadlocks`](super::detect_deadlocks)).
//!
//! Each `lock` by the owner deepens its hold and returns a guard of its
//! own; the lock is free for other threads once every guard is dropped.
//! Since two guards of one thread may be alive at once, an `RLock` lends
//! its data by shared reference only, like `std`'s unstable
//! `ReentrantLock` (put a `Cell` or `RefCell` inside to change it). The
//! owner, its depth and the detector's record sit in a small `std` mutex;
//! other threads wait on a condition variable until the depth falls to
//! zero.
//!
//! As [`Lock`](super::Lock), it is not poisoned by a panic, and
//! [`RLock::lock_timeout`] is Python's `acquire(timeout=...)`.
//!
//! ```
//! use brigade::thread::RLock;
//!
//! let recipe = RLock::new(vec!["flour"]);
//! let outer = recipe.lock().unwrap();
//! let inner = recipe.lock().unwrap(); // the same thread may re-enter
//! assert_eq!(inner.len(), outer.len());
//! drop((outer, inner));
//! assert!(!recipe.locked());
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::deadlock::{self, DeadlockError, LockId, Tracked};
use super::registry;

/// A reentrant lock, Python's `threading.RLock`: the thread holding it may
/// take it again, so it lends its data by shared reference only.
///
/// # Examples
/// A function that takes the lock calls another that takes it too:
/// ```
/// use std::cell::Cell;
/// use brigade::thread::RLock;
///
/// fn deposit(account: &RLock<Cell<u32>>, amount: u32) {
///     let balance = account.lock().unwrap();
///     balance.set(balance.get() + amount);
/// }
///
/// fn deposit_twice(account: &RLock<Cell<u32>>, amount: u32) {
///     let _held = account.lock().unwrap(); // both deposits as one
///     deposit(account, amount);
///     deposit(account, amount);
/// }
///
/// let account = RLock::new(Cell::new(0));
/// deposit_twice(&account, 5);
/// assert_eq!(account.into_inner().get(), 10);
/// ```
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
    ///
    /// # Examples
    /// ```
    /// let r = brigade::thread::RLock::new(3);
    /// assert_eq!(*r.lock().unwrap(), 3);
    /// assert!(r.name().starts_with("rlock #"));
    /// ```
    pub fn new(value: T) -> RLock<T> {
        let id = LockId::next();
        let name = format!("rlock #{}", id.number());
        RLock::with_id(id, name, value)
    }

    /// A reentrant lock around `value` with a name for deadlock reports.
    ///
    /// # Examples
    /// ```
    /// let r = brigade::thread::RLock::named("catalog", ());
    /// assert_eq!(r.name(), "catalog");
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// let r = brigade::thread::RLock::new(vec![1, 2]);
    /// assert_eq!(r.into_inner(), [1, 2]);
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// let r = brigade::thread::RLock::named("shelf", 0);
    /// assert_eq!(r.name(), "shelf");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the lock, or enters it again if this thread holds it; blocks
    /// while another thread holds it. With deadlock detection on, fails
    /// instead of blocking when the wait would never end.
    ///
    /// # Examples
    /// ```
    /// let r = brigade::thread::RLock::new(());
    /// let outer = r.lock().unwrap();
    /// let inner = r.lock().unwrap(); // the same thread enters again
    /// drop(inner);
    /// assert!(r.locked()); // still held once
    /// drop(outer);
    /// assert!(!r.locked());
    /// ```
    ///
    /// # Errors
    /// [`DeadlockError`], only with deadlock detection on, when waiting would
    /// never end.
    pub fn lock(&self) -> Result<RLockGuard<'_, T>, DeadlockError> {
        if let Some(guard) = self.try_lock() {
            return Ok(guard);
        }
        deadlock::before_wait(self.id, &self.name)?;
        let mut owner = self.owner();
        while owner.thread.is_some() {
            owner = self.free.wait(owner).unwrap_or_else(|e| e.into_inner());
        }
        Ok(self.take_free(owner))
    }

    /// Takes or re-enters the lock, waiting at most `timeout` while another
    /// thread holds it: `Ok(None)` if the time ran out (Python's
    /// `acquire(timeout=...)`). Deadlocks are reported as by
    /// [`Lock::lock_timeout`](super::Lock::lock_timeout).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use brigade::thread::{self, RLock};
    ///
    /// let book = Arc::new(RLock::new("recipes"));
    /// let mine = book.lock().unwrap();
    /// let again = book.lock_timeout(Duration::ZERO).unwrap(); // re-entered
    /// assert!(again.is_some());
    /// let other = thread::spawn({
    ///     let book = book.clone();
    ///     move || book.lock_timeout(Duration::from_millis(1)).unwrap().is_some()
    /// })
    /// .unwrap();
    /// assert!(!other.into_result().unwrap()); // held here: it timed out
    /// drop((mine, again));
    /// ```
    ///
    /// # Errors
    /// [`DeadlockError`], only with deadlock detection on, as for
    /// [`Lock::lock_timeout`](super::Lock::lock_timeout).
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<RLockGuard<'_, T>>, DeadlockError> {
        if let Some(guard) = self.try_lock() {
            return Ok(Some(guard));
        }
        if timeout.is_zero() {
            return Ok(None);
        }
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return self.lock().map(Some);
        };
        deadlock::before_wait(self.id, &self.name)?;
        let mut owner = self.owner();
        while owner.thread.is_some() {
            let now = Instant::now();
            if now >= deadline {
                drop(owner);
                deadlock::gave_up();
                return Ok(None);
            }
            owner = self
                .free
                .wait_timeout(owner, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Ok(Some(self.take_free(owner)))
    }

    /// Makes the calling thread the owner of the free lock.
    fn take_free<'a>(&'a self, mut owner: MutexGuard<'a, Owner>) -> RLockGuard<'a, T> {
        owner.thread = Some(registry::get_ident());
        owner.depth = 1;
        drop(owner);
        // Recorded outside the state mutex, which is never held while the
        // detector's table is taken: the two locks have one order.
        let tracked = deadlock::acquired(self.id, &self.name);
        self.owner().tracked = tracked;
        RLockGuard {
            lock: self,
            _owner_thread: PhantomData,
        }
    }

    /// Takes or re-enters the lock if that needs no waiting.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use brigade::thread::{self, RLock};
    ///
    /// let r = Arc::new(RLock::new(()));
    /// let held = r.try_lock().unwrap();
    /// assert!(r.try_lock().is_some()); // re-entered
    /// let r2 = r.clone();
    /// let other = thread::spawn(move || r2.try_lock().is_none()).unwrap();
    /// assert!(other.into_result().unwrap()); // another thread cannot
    /// drop(held);
    /// ```
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
            None => Some(self.take_free(owner)),
        }
    }

    /// Whether some thread holds the lock now.
    ///
    /// # Examples
    /// ```
    /// let r = brigade::thread::RLock::new(());
    /// let g = r.lock().unwrap();
    /// assert!(r.locked());
    /// drop(g);
    /// assert!(!r.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.owner().thread.is_some()
    }

    /// Whether the calling thread holds the lock (Python's `_is_owned()`).
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use brigade::thread::{self, RLock};
    ///
    /// let r = Arc::new(RLock::new(()));
    /// let _g = r.lock().unwrap();
    /// assert!(r.is_owned());
    /// let r2 = r.clone();
    /// let theirs = thread::spawn(move || r2.is_owned()).unwrap();
    /// assert!(!theirs.into_result().unwrap()); // held, but not by that thread
    /// ```
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
///
/// # Examples
/// ```
/// use std::cell::RefCell;
/// use brigade::thread::RLock;
///
/// let r = RLock::new(RefCell::new(Vec::new()));
/// let guard = r.lock().unwrap();
/// guard.borrow_mut().push("shared access only"); // interior mutability
/// assert_eq!(guard.borrow().len(), 1);
/// ```
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
