//! [`Semaphore`] and [`BoundedSemaphore`]: counted permits across
//! processes, as Python's `multiprocessing.Semaphore` and
//! `multiprocessing.BoundedSemaphore`.
//!
//! The count is a 32-bit futex word in an anonymous memory file, next to a
//! count of sleepers. Taking a permit is one compare-and-swap; returning
//! one is one atomic add, plus a `FUTEX_WAKE` only when someone sleeps (the
//! sleeper announces itself before it sleeps, and the kernel re-checks the
//! count as it puts it to sleep, so no wake-up is lost).
//!
//! ```
//! let s = brigade::process::Semaphore::new(1).unwrap();
//! let p = s.acquire();
//! assert!(s.try_acquire().is_none());
//! drop(p);
//! ```

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::region::{Region, SharedState};
use crate::sys::futex;

#[repr(C)]
pub(crate) struct SemaphoreState {
    /// Free permits: the futex word.
    count: AtomicU32,
    /// Processes and threads asleep (or about to sleep) on `count`.
    sleepers: AtomicU32,
    /// The most `count` may reach (`u32::MAX` when unbounded).
    bound: AtomicU32,
}

// SAFETY: three atomics: any bit pattern is a state, nothing points
// anywhere, every change is atomic.
unsafe impl SharedState for SemaphoreState {}

impl SemaphoreState {
    fn try_take(&self) -> bool {
        let mut n = self.count.load(Ordering::Relaxed);
        while n > 0 {
            match self
                .count
                .compare_exchange_weak(n, n - 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }

    fn take(&self, timeout: Option<Duration>) -> bool {
        if self.try_take() {
            return true;
        }
        // A timeout too far to represent is no timeout.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            // Sleep only while the count is zero: a release between the
            // check above and this sleep changed the word, so the kernel
            // does not put us to sleep.
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left != Some(Duration::ZERO) && self.count.load(Ordering::SeqCst) == 0 {
                futex::wait(&self.count, 0, left);
            }
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            if self.try_take() {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
        }
    }

    /// Adds a permit unless the count is at its bound.
    fn give(&self) -> bool {
        let bound = self.bound.load(Ordering::Relaxed);
        let mut n = self.count.load(Ordering::Relaxed);
        loop {
            if n >= bound {
                return false;
            }
            match self
                .count
                .compare_exchange_weak(n, n + 1, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => n = now,
            }
        }
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            futex::wake(&self.count, 1);
        }
        true
    }
}

fn new_region(permits: u32, bound: u32) -> io::Result<Region<SemaphoreState>> {
    Region::new(c"brigade-semaphore", |s: &SemaphoreState| {
        s.count.store(permits, Ordering::Relaxed);
        s.bound.store(bound, Ordering::Relaxed);
        Ok(())
    })
}

/// A semaphore shared between processes (Python's
/// `multiprocessing.Semaphore`): taking a permit is one atomic operation,
/// returning one too (plus a wake-up only if someone sleeps).
///
/// ```
/// use brigade::process::{Process, Semaphore};
///
/// fn signal(s: Semaphore) {
///     s.release();
/// }
///
/// // A semaphore of zero as a signal from a child.
/// let s = Semaphore::new(0).unwrap();
/// let mut p = Process::new(signal, (s.clone(),));
/// p.start().unwrap();
/// s.acquire().forget();
/// p.join().unwrap();
/// ```
///
/// # A dead holder
/// A permit has no owner: any process may [`release`](Semaphore::release)
/// one, whoever took it (that is what makes a semaphore a signal). So a
/// process that dies while it holds a permit does **not** give it back:
/// the count stays one lower, as with Python's and POSIX semaphores. There
/// is no "owner died" for a semaphore; a program that must survive a dead
/// holder guards each slot with a [`Lock`](super::Lock) instead (whose death
/// is reported), or waits with [`acquire_timeout`](Semaphore::acquire_timeout).
///
/// # Differences from Python
/// - [`acquire`](Semaphore::acquire) returns a [`Permit`] that gives the
///   permit back when dropped; [`Permit::forget`] keeps it taken (Python's
///   bare `acquire()`).
/// - The count is at most `u32::MAX`; a release beyond it is refused like a
///   bounded one.
pub struct Semaphore {
    region: Region<SemaphoreState>,
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    ///
    /// ```
    /// let s = brigade::process::Semaphore::new(2).unwrap();
    /// assert_eq!(s.available(), 2);
    /// ```
    ///
    /// # Errors
    /// The error of creating the shared memory it lives in (`ENOMEM`,
    /// `EMFILE`).
    pub fn new(permits: u32) -> io::Result<Semaphore> {
        Ok(Semaphore {
            region: new_region(permits, u32::MAX)?,
        })
    }

    /// Takes a permit, waiting for one.
    ///
    /// ```
    /// let s = brigade::process::Semaphore::new(1).unwrap();
    /// let p = s.acquire();
    /// assert_eq!(s.available(), 0);
    /// drop(p);
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn acquire(&self) -> Permit<'_> {
        self.region.state().take(None);
        Permit {
            state: self.state(),
        }
    }

    /// Takes a permit, waiting at most `timeout` (`None` if none came).
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = brigade::process::Semaphore::new(0).unwrap();
    /// assert!(s.acquire_timeout(Duration::from_millis(5)).is_none());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Permit<'_>> {
        self.state().take(Some(timeout)).then(|| Permit {
            state: self.state(),
        })
    }

    /// Takes a permit if one is free.
    ///
    /// ```
    /// let s = brigade::process::Semaphore::new(1).unwrap();
    /// let p = s.try_acquire().unwrap();
    /// assert!(s.try_acquire().is_none());
    /// # drop(p);
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.state().try_take().then(|| Permit {
            state: self.state(),
        })
    }

    /// Adds a permit (whoever took one; Python's `release`). At `u32::MAX`
    /// permits it adds none.
    ///
    /// ```
    /// let s = brigade::process::Semaphore::new(0).unwrap();
    /// s.release();
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn release(&self) {
        self.state().give();
    }

    /// Free permits now (Python's `get_value`).
    ///
    /// ```
    /// let s = brigade::process::Semaphore::new(3).unwrap();
    /// assert_eq!(s.available(), 3);
    /// ```
    pub fn available(&self) -> u32 {
        self.state().count.load(Ordering::Relaxed)
    }

    fn state(&self) -> &SemaphoreState {
        self.region.state()
    }
}

/// A semaphore that refuses to be released above its initial count
/// (Python's `BoundedSemaphore`, which raises `ValueError`).
///
/// ```
/// use brigade::process::BoundedSemaphore;
///
/// let s = BoundedSemaphore::new(1).unwrap();
/// let p = s.acquire();
/// p.forget();
/// s.release().unwrap();
/// assert!(s.release().is_err());
/// ```
pub struct BoundedSemaphore {
    region: Region<SemaphoreState>,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` free permits, never more.
    ///
    /// ```
    /// let s = brigade::process::BoundedSemaphore::new(2).unwrap();
    /// assert_eq!(s.available(), 2);
    /// ```
    ///
    /// # Errors
    /// The error of creating the shared memory it lives in (`ENOMEM`,
    /// `EMFILE`).
    pub fn new(permits: u32) -> io::Result<BoundedSemaphore> {
        Ok(BoundedSemaphore {
            region: new_region(permits, permits)?,
        })
    }

    /// Takes a permit, waiting for one.
    ///
    /// ```
    /// let s = brigade::process::BoundedSemaphore::new(1).unwrap();
    /// drop(s.acquire());
    /// ```
    pub fn acquire(&self) -> Permit<'_> {
        self.state().take(None);
        Permit {
            state: self.state(),
        }
    }

    /// Takes a permit, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = brigade::process::BoundedSemaphore::new(1).unwrap();
    /// assert!(s.acquire_timeout(Duration::from_millis(5)).is_some());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Permit<'_>> {
        self.state().take(Some(timeout)).then(|| Permit {
            state: self.state(),
        })
    }

    /// Takes a permit if one is free.
    ///
    /// ```
    /// let s = brigade::process::BoundedSemaphore::new(0).unwrap();
    /// assert!(s.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.state().try_take().then(|| Permit {
            state: self.state(),
        })
    }

    /// Adds a permit, unless that would exceed the initial count.
    ///
    /// ```
    /// let s = brigade::process::BoundedSemaphore::new(1).unwrap();
    /// assert_eq!(s.release().unwrap_err().bound(), 1);
    /// ```
    ///
    /// # Errors
    /// [`ReleaseError`] if every permit is already free (a release without an
    /// acquire); the count is unchanged.
    pub fn release(&self) -> Result<(), ReleaseError> {
        let state = self.state();
        if state.give() {
            Ok(())
        } else {
            Err(ReleaseError {
                bound: state.bound.load(Ordering::Relaxed),
            })
        }
    }

    /// Free permits now.
    ///
    /// ```
    /// let s = brigade::process::BoundedSemaphore::new(1).unwrap();
    /// assert_eq!(s.available(), 1);
    /// ```
    pub fn available(&self) -> u32 {
        self.state().count.load(Ordering::Relaxed)
    }

    fn state(&self) -> &SemaphoreState {
        self.region.state()
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it gives
/// it back.
///
/// ```
/// let s = brigade::process::Semaphore::new(1).unwrap();
/// let p: brigade::process::Permit<'_> = s.acquire();
/// drop(p);
/// assert_eq!(s.available(), 1);
/// ```
#[must_use = "dropping a permit gives it back at once"]
pub struct Permit<'a> {
    state: &'a SemaphoreState,
}

impl Permit<'_> {
    /// Keeps the permit taken (Python's bare `acquire()`); someone gives
    /// it back later with `release`.
    ///
    /// ```
    /// let s = brigade::process::Semaphore::new(1).unwrap();
    /// s.acquire().forget();
    /// assert_eq!(s.available(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.state.give();
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// [`BoundedSemaphore::release`] above the initial count.
///
/// ```
/// let s = brigade::process::BoundedSemaphore::new(0).unwrap();
/// let e = s.release().unwrap_err();
/// assert_eq!(e.to_string(), "semaphore released too many times (bound 0)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseError {
    bound: u32,
}

impl ReleaseError {
    /// The semaphore's bound, its initial count.
    ///
    /// ```
    /// let s = brigade::process::BoundedSemaphore::new(4).unwrap();
    /// assert_eq!(s.release().unwrap_err().bound(), 4);
    /// ```
    pub fn bound(&self) -> u32 {
        self.bound
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "semaphore released too many times (bound {})",
            self.bound
        )
    }
}

impl std::error::Error for ReleaseError {}

super::lock::shared_handle!(Semaphore, BoundedSemaphore);
