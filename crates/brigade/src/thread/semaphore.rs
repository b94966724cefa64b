//! [`Semaphore`] and [`BoundedSemaphore`]: Python's counting semaphores
//! for threads (Dijkstra's P and V, 1965).
//!
//! A semaphore holds a number of permits. [`acquire`](Semaphore::acquire)
//! takes one, blocking while there is none; dropping the [`Permit`] gives
//! it back. Python pairs `acquire()` and `release()` by hand; that works
//! here too ([`Permit::forget`] keeps the permit taken, and
//! [`release`](Semaphore::release) adds one). A plain semaphore lets
//! `release` raise the count above its start, as Python's does; a
//! [`BoundedSemaphore`] refuses with [`ReleaseError`], which catches a
//! release without its acquire.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use brigade::thread::{Semaphore, Thread};
//!
//! // Four cooks, two stoves.
//! let stoves = Arc::new(Semaphore::new(2));
//! let cooking = Arc::new(AtomicUsize::new(0));
//! let most = Arc::new(AtomicUsize::new(0));
//! let mut cooks: Vec<_> = (0..4)
//!     .map(|_| {
//!         let (stoves, cooking, most) = (stoves.clone(), cooking.clone(), most.clone());
//!         Thread::from_fn(move || {
//!             let _stove = stoves.acquire();
//!             let now = cooking.fetch_add(1, Ordering::SeqCst) + 1;
//!             most.fetch_max(now, Ordering::SeqCst);
//!             cooking.fetch_sub(1, Ordering::SeqCst);
//!         })
//!     })
//!     .collect();
//! cooks.iter_mut().for_each(|c| c.start().unwrap());
//! cooks.iter_mut().for_each(|c| c.join().unwrap());
//! assert!(most.load(Ordering::SeqCst) <= 2);
//! assert_eq!(stoves.available(), 2);
//! ```
//!
//! These block the thread; tasks on an event loop use [`crate::sync`].

use std::fmt;
use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, Mutex, MutexGuard};

/// The count and its waiters, shared by both kinds of semaphore.
struct Counter {
    permits: Mutex<usize>,
    released: Condvar,
    bound: Option<usize>,
}

impl Counter {
    fn new(permits: usize, bound: Option<usize>) -> Counter {
        Counter {
            permits: Mutex::new(permits),
            released: Condvar::new(),
            bound,
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        // A counter cannot be left half-written by a panic.
        self.permits.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn acquire(&self) -> Permit<'_> {
        let mut permits = self.lock();
        while *permits == 0 {
            permits = self
                .released
                .wait(permits)
                .unwrap_or_else(|e| e.into_inner());
        }
        *permits -= 1;
        Permit { counter: self }
    }

    fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut permits = self.lock();
        if *permits == 0 {
            return None;
        }
        *permits -= 1;
        Some(Permit { counter: self })
    }

    fn acquire_timeout(&self, timeout: Duration) -> Option<Permit<'_>> {
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return Some(self.acquire());
        };
        let mut permits = self.lock();
        while *permits == 0 {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            permits = self
                .released
                .wait_timeout(permits, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *permits -= 1;
        Some(Permit { counter: self })
    }

    /// Adds a permit; a bounded counter refuses to pass its bound.
    fn release(&self) -> Result<(), ReleaseError> {
        let mut permits = self.lock();
        let limit = self.bound.unwrap_or(usize::MAX);
        if *permits >= limit {
            return Err(ReleaseError { bound: limit });
        }
        *permits += 1;
        drop(permits);
        self.released.notify_one();
        Ok(())
    }

    fn available(&self) -> usize {
        *self.lock()
    }
}

/// A counting semaphore for threads, Python's `threading.Semaphore`:
/// `acquire` takes a permit (blocking while none is free), dropping the
/// [`Permit`] or calling `release` gives one back.
///
/// # Examples
/// At most two threads in the oven at once:
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use brigade::thread::{self, Semaphore};
///
/// let oven = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let threads: Vec<_> = (0..6)
///     .map(|_| {
///         let (oven, inside) = (oven.clone(), inside.clone());
///         thread::spawn(move || {
///             let _permit = oven.acquire();
///             let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
///             inside.fetch_sub(1, Ordering::SeqCst);
///             now
///         })
///         .unwrap()
///     })
///     .collect();
/// for t in threads {
///     assert!(t.into_result().unwrap() <= 2);
/// }
/// ```
pub struct Semaphore {
    counter: Counter,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::Semaphore::new(3);
    /// assert_eq!(s.available(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            counter: Counter::new(permits, None),
        }
    }

    /// Takes a permit, blocking until one is free.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::Semaphore::new(1);
    /// let permit = s.acquire();
    /// assert_eq!(s.available(), 0);
    /// drop(permit);
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn acquire(&self) -> Permit<'_> {
        self.counter.acquire()
    }

    /// Takes a permit if one is free now (Python's `acquire(blocking=False)`).
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::Semaphore::new(1);
    /// let _p = s.try_acquire().unwrap();
    /// assert!(s.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.counter.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout` for one.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let s = brigade::thread::Semaphore::new(0);
    /// assert!(s.acquire_timeout(Duration::from_millis(1)).is_none());
    /// s.release();
    /// assert!(s.acquire_timeout(Duration::from_secs(1)).is_some());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Permit<'_>> {
        self.counter.acquire_timeout(timeout)
    }

    /// Adds a permit, waking one waiting thread. The count may grow past
    /// its start, as in Python (it stops at `usize::MAX`).
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::Semaphore::new(0);
    /// s.release();
    /// s.release(); // past the start: allowed, as in Python
    /// assert_eq!(s.available(), 2);
    /// ```
    pub fn release(&self) {
        let _ = self.counter.release();
    }

    /// How many permits are free now.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::Semaphore::new(2);
    /// let _p = s.acquire();
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn available(&self) -> usize {
        self.counter.available()
    }
}

/// A semaphore whose count never exceeds its start: Python's
/// `threading.BoundedSemaphore`.
///
/// ```
/// use brigade::thread::BoundedSemaphore;
///
/// let pans = BoundedSemaphore::new(1);
/// pans.acquire().forget(); // Python style: acquire now, release later
/// pans.release().unwrap();
/// assert!(pans.release().is_err()); // a release without an acquire
/// ```
pub struct BoundedSemaphore {
    counter: Counter,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `permits` permits, its bound too.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::BoundedSemaphore::new(4);
    /// assert_eq!(s.available(), 4);
    /// ```
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            counter: Counter::new(permits, Some(permits)),
        }
    }

    /// Takes a permit, blocking until one is free.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::BoundedSemaphore::new(1);
    /// {
    ///     let _p = s.acquire();
    ///     assert_eq!(s.available(), 0);
    /// }
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn acquire(&self) -> Permit<'_> {
        self.counter.acquire()
    }

    /// Takes a permit if one is free now.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::BoundedSemaphore::new(1);
    /// let p = s.try_acquire();
    /// assert!(p.is_some() && s.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.counter.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout` for one.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let s = brigade::thread::BoundedSemaphore::new(1);
    /// let _held = s.acquire();
    /// assert!(s.acquire_timeout(Duration::from_millis(1)).is_none());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Permit<'_>> {
        self.counter.acquire_timeout(timeout)
    }

    /// Gives back a permit taken with [`Permit::forget`]. Fails if every
    /// permit is already free: then there was no acquire to pair with.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::BoundedSemaphore::new(2);
    /// s.acquire().forget();
    /// s.release().unwrap();
    /// let e = s.release().unwrap_err();
    /// assert_eq!(e.bound(), 2);
    /// ```
    ///
    /// # Errors
    /// [`ReleaseError`] if every permit is already free (the release has no
    /// acquire to pair with); the count is unchanged.
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.counter.release()
    }

    /// How many permits are free now.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::BoundedSemaphore::new(2);
    /// s.acquire().forget();
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn available(&self) -> usize {
        self.counter.available()
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it gives
/// the permit back.
///
/// # Examples
/// ```
/// let s = brigade::thread::Semaphore::new(1);
/// let permit: brigade::thread::Permit<'_> = s.acquire();
/// drop(permit); // given back
/// assert_eq!(s.available(), 1);
/// ```
#[must_use = "dropping the permit releases it at once"]
pub struct Permit<'a> {
    counter: &'a Counter,
}

impl Permit<'_> {
    /// Keeps the permit taken without a guard, for code that releases it
    /// by hand with `release`, as Python code does.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::Semaphore::new(1);
    /// s.acquire().forget(); // still taken
    /// assert_eq!(s.available(), 0);
    /// s.release();
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        // Only a bounded semaphore released by hand while this permit was
        // out can be full here; the permit then has nowhere to go.
        let _ = self.counter.release();
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permit")
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available())
            .finish()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.available())
            .finish()
    }
}

/// [`BoundedSemaphore::release`] would pass the semaphore's bound.
///
/// # Examples
/// ```
/// let s = brigade::thread::BoundedSemaphore::new(1);
/// let e = s.release().unwrap_err();
/// assert_eq!(e.bound(), 1);
/// println!("{e}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseError {
    bound: usize,
}

impl ReleaseError {
    /// The semaphore's bound.
    ///
    /// # Examples
    /// ```
    /// let s = brigade::thread::BoundedSemaphore::new(3);
    /// assert_eq!(s.release().unwrap_err().bound(), 3);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "semaphore released too many times: all {} permits are already free",
            self.bound
        )
    }
}

impl std::error::Error for ReleaseError {}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn one_permit_admits_one_thread_at_a_time() {
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(1));
            let inside = Arc::new(AtomicUsize::new(0));
            let worker = |sem: Arc<Semaphore>, inside: Arc<AtomicUsize>| {
                move || {
                    let _permit = sem.acquire();
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            };
            let t = loom::thread::spawn(worker(sem.clone(), inside.clone()));
            worker(sem.clone(), inside.clone())();
            t.join().unwrap();
            assert_eq!(sem.available(), 1);
        });
    }

    #[test]
    fn release_wakes_a_blocked_acquire() {
        loom::model(|| {
            let sem = Arc::new(BoundedSemaphore::new(1));
            sem.acquire().forget();
            let t = {
                let sem = sem.clone();
                loom::thread::spawn(move || sem.acquire().forget())
            };
            sem.release().unwrap();
            t.join().unwrap();
            assert_eq!(sem.available(), 0);
        });
    }
}
