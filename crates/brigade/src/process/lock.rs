//! [`Lock`] and [`RLock`]: mutual exclusion across processes, as Python's
//! `multiprocessing.Lock` and `multiprocessing.RLock`, that survives the
//! death of its holder.
//!
//! A [`Lock`] is a futex word in an anonymous memory file that names its
//! holder's thread (see `futex_lock.rs` for the algorithm, Drepper's third
//! mutex); an [`RLock`] is a robust, process-shared mutex of the C library
//! (`pthread_mutex_t` with `PTHREAD_PROCESS_SHARED` and
//! `PTHREAD_MUTEX_ROBUST`). Uncontended, acquiring and releasing are one
//! atomic operation each, in user space; a contended acquire sleeps on the
//! lock's futex word. Passing the lock to a child (as a
//! [`Process`](super::Process) argument, a pool initializer argument, or in
//! a [`Queue`](super::Queue) message) passes the memory file.
//!
//! When a holder dies (a process killed by `SIGKILL`, a thread that ends),
//! the next acquirer gets the lock with [`LockError::OwnerDied`]: for an
//! `RLock` the kernel marks the mutex; for a `Lock` a contender finds the
//! holder gone when it checks, every 20 ms while it waits. Python's locks
//! stay held for ever instead.
//!
//! ```
//! let l = brigade::process::Lock::new().unwrap();
//! drop(l.acquire().unwrap());
//! ```

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::time::Duration;

use super::futex_lock::FutexLock;
use super::lock_error::{LockError, Wait, acquire, judge};
use super::region::{Region, SharedState};
use crate::sys::robust::RobustMutex;

// SAFETY: one atomic word; zero is a free lock, and any other bit pattern
// names some thread (dead or alive, which contenders check). Nothing in it
// points anywhere, and no kernel list links to it, so it may be unmapped
// while held.
unsafe impl SharedState for FutexLock {}

/// The shared state of a recursive lock: one robust mutex.
#[repr(C)]
pub(crate) struct LockState {
    pub(crate) mutex: RobustMutex,
}

// SAFETY: a pthread mutex is plain bytes (no pointers the kernel or another
// process relies on in *our* address space, the robust list entry being
// rewritten by each holder), zero is glibc's unlocked default, and every
// change goes through the C library's atomic operations.
unsafe impl SharedState for LockState {
    fn held_in_this_process(&self) -> bool {
        self.mutex.held_in_this_process()
    }
}

/// A lock shared between processes (Python's `multiprocessing.Lock`).
/// Clone it to share it among threads; pass it to a child (as a
/// [`Process`](super::Process) argument, a pool initializer argument, or
/// in a [`Queue`](super::Queue) message) to share it there.
///
/// It is robust: when a holder dies (a process killed by `SIGKILL`, a
/// thread that ends holding it), the next acquirer gets the lock with
/// [`LockError::OwnerDied`], where Python's lock stays held for ever.
/// Uncontended, acquire and release are one compare-and-swap each, with no
/// system call.
///
/// ```
/// use brigade::process::{Lock, Process, Value};
///
/// fn add(lock: Lock, total: Value<u64>, n: u64) {
///     for _ in 0..n {
///         let _g = lock.acquire().unwrap();
///         total.set(total.get().unwrap() + 1).unwrap();
///     }
/// }
///
/// let lock = Lock::new().unwrap();
/// let total = Value::new(0u64).unwrap();
/// let mut a = Process::new(add, (lock.clone(), total.clone(), 100));
/// let mut b = Process::new(add, (lock.clone(), total.clone(), 100));
/// a.start().unwrap();
/// b.start().unwrap();
/// a.join().unwrap();
/// b.join().unwrap();
/// assert_eq!(total.get().unwrap(), 200);
/// ```
///
/// # Differences from Python
/// - A guard releases the lock when dropped; there is no bare `release`,
///   and a guard cannot move to another thread (the holder is a thread,
///   as for a POSIX mutex). Python lets any process release a `Lock`; use
///   a [`Semaphore`](super::Semaphore) of one for that.
/// - Acquiring a `Lock` the calling thread holds is
///   [`LockError::WouldDeadlock`] (Python: a deadlock).
/// - A holder's death is noticed by a waiter when it checks, every 20 ms
///   of its wait (and at once by `try_acquire`), not the instant the
///   holder dies; a busy `try_acquire` therefore reads `/proc` once.
pub struct Lock {
    region: Region<FutexLock>,
}

impl Lock {
    /// A new, unlocked lock.
    ///
    /// ```
    /// let l = brigade::process::Lock::new().unwrap();
    /// let g = l.acquire().unwrap();
    /// drop(g);
    /// ```
    ///
    /// # Errors
    /// The error of creating the shared memory it lives in (`ENOMEM`,
    /// `EMFILE`).
    pub fn new() -> io::Result<Lock> {
        // All zeroes, as a fresh memory file is, is a free lock.
        let region = Region::new(c"brigade-lock", |_: &FutexLock| Ok(()))?;
        Ok(Lock { region })
    }

    /// Acquires the lock, waiting as long as it takes; the guard releases
    /// it when dropped.
    ///
    /// ```
    /// let l = brigade::process::Lock::new().unwrap();
    /// {
    ///     let _g = l.acquire().unwrap();
    ///     assert!(l.try_acquire().is_err());
    /// }
    /// assert!(l.try_acquire().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`LockError::OwnerDied`], holding the guard, if the previous holder
    /// died holding the lock (what it protects may be half-updated); [`LockError::WouldDeadlock`] if this thread holds it
    /// already; [`LockError::Io`] if the system refuses.
    pub fn acquire(&self) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.acquire_with(Wait::Forever)
    }

    /// Acquires the lock, waiting at most `timeout`
    /// ([`LockError::Timeout`] then).
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = brigade::process::Lock::new().unwrap();
    /// assert!(l.acquire_timeout(Duration::from_millis(5)).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] when the time runs out; else as `acquire`.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.acquire_with(Wait::For(timeout))
    }

    /// Acquires the lock if no one holds it ([`LockError::Timeout`] if
    /// someone does).
    ///
    /// ```
    /// let l = brigade::process::Lock::new().unwrap();
    /// let g = l.try_acquire().unwrap();
    /// # drop(g);
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] if another thread or process holds it; else as
    /// `acquire`.
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        self.acquire_with(Wait::Never)
    }

    #[inline]
    fn acquire_with(&self, wait: Wait) -> Result<LockGuard<'_>, LockError<LockGuard<'_>>> {
        let lock = self.region.state();
        judge(Ok(lock.lock(wait)), || LockGuard {
            lock,
            _thread_bound: PhantomData,
        })
    }
}

/// Holds a [`Lock`]; dropping it releases the lock.
///
/// ```
/// let l = brigade::process::Lock::new().unwrap();
/// let g: brigade::process::LockGuard<'_> = l.acquire().unwrap();
/// drop(g);
/// ```
pub struct LockGuard<'a> {
    lock: &'a FutexLock,
    /// The holder is this thread: the guard must not move to another.
    _thread_bound: PhantomData<*const ()>,
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // A guard exists only while this thread holds the lock (it is
        // !Send), and each guard releases once.
        self.lock.unlock();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// A recursive lock shared between processes: the thread that holds it may
/// acquire it again, and it is free once every guard is dropped (Python's
/// `multiprocessing.RLock`). A holder's death is
/// [`LockError::OwnerDied`] for the next acquirer, as for a [`Lock`].
///
/// ```
/// use brigade::process::RLock;
///
/// let l = RLock::new().unwrap();
/// let outer = l.acquire().unwrap();
/// let inner = l.acquire().unwrap(); // the same thread: fine
/// drop(inner);
/// drop(outer);
/// ```
pub struct RLock {
    region: Region<LockState>,
}

impl RLock {
    /// A new, unlocked recursive lock.
    ///
    /// ```
    /// let l = brigade::process::RLock::new().unwrap();
    /// # drop(l);
    /// ```
    ///
    /// # Errors
    /// The error of creating the shared memory it lives in (`ENOMEM`,
    /// `EMFILE`).
    pub fn new() -> io::Result<RLock> {
        // SAFETY: the region is fresh, seen by no one else yet.
        let region = Region::new(c"brigade-rlock", |s: &LockState| unsafe {
            s.mutex.init(true)
        })?;
        Ok(RLock { region })
    }

    /// Acquires the lock (again, if this thread holds it already).
    ///
    /// ```
    /// let l = brigade::process::RLock::new().unwrap();
    /// let g = l.acquire().unwrap();
    /// # drop(g);
    /// ```
    ///
    /// # Errors
    /// [`LockError::OwnerDied`], holding the guard, if the previous holder
    /// died holding the lock (what it protects may be half-updated); [`LockError::Io`] if the system refuses.
    pub fn acquire(&self) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.acquire_with(Wait::Forever)
    }

    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = brigade::process::RLock::new().unwrap();
    /// assert!(l.acquire_timeout(Duration::from_millis(5)).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] when the time runs out; else as `acquire`.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.acquire_with(Wait::For(timeout))
    }

    /// Acquires the lock if it is free or this thread holds it.
    ///
    /// ```
    /// let l = brigade::process::RLock::new().unwrap();
    /// assert!(l.try_acquire().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] if another thread or process holds it; else as
    /// `acquire`.
    pub fn try_acquire(&self) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        self.acquire_with(Wait::Never)
    }

    fn acquire_with(&self, wait: Wait) -> Result<RLockGuard<'_>, LockError<RLockGuard<'_>>> {
        let mutex = &self.region.state().mutex;
        acquire(mutex, wait, || RLockGuard {
            mutex,
            _thread_bound: PhantomData,
        })
    }
}

/// One level of hold on an [`RLock`]; dropping it releases that level.
///
/// ```
/// let l = brigade::process::RLock::new().unwrap();
/// let g: brigade::process::RLockGuard<'_> = l.acquire().unwrap();
/// drop(g);
/// ```
pub struct RLockGuard<'a> {
    mutex: &'a RobustMutex,
    _thread_bound: PhantomData<*const ()>,
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this thread holds the mutex at least once for this guard
        // (guards are !Send), and each guard releases once.
        unsafe { self.mutex.unlock() };
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard").finish_non_exhaustive()
    }
}

macro_rules! shared_handle {
    ($($t:ident),*) => { $(
        impl Clone for $t {
            fn clone(&self) -> $t {
                $t { region: self.region.clone() }
            }
        }
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&self.region, s)
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok($t { region: ::serde::Deserialize::deserialize(d)? })
            }
        }
        impl ::std::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        }
    )* };
}
pub(crate) use shared_handle;

shared_handle!(Lock, RLock);
