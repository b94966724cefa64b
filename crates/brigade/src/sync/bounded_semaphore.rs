//! [`BoundedSemaphore`]: a [`Semaphore`] that refuses to be released more
//! times than it was acquired (`asyncio.BoundedSemaphore`).
//!
//! Python code often acquires in one place and releases in another, by
//! hand. A plain semaphore then silently grows when a release is doubled
//! by mistake; a bounded one catches it. Here the free permits and those
//! held (by guards, by waiters they were handed to, or forgotten with
//! [`SemaphorePermit::forget`]) always add up to the bound, so a release is
//! legal exactly when somebody holds a permit: the check is "would the free
//! permits pass the bound?", made under the semaphore's lock. A guard never
//! fails to release; if a release by hand already gave its permit back, the
//! guard's is dropped rather than raise the count past the bound (as
//! [`thread::BoundedSemaphore`](crate::thread::BoundedSemaphore) does).
//!
//! ```
//! use brigade::sync::BoundedSemaphore;
//!
//! brigade::run(async {
//!     let sem = BoundedSemaphore::new(2);
//!     sem.acquire().await.unwrap().forget(); // Python style: release later
//!     assert_eq!(sem.available_permits(), 1);
//!     sem.release().unwrap();
//!     assert!(sem.release().is_err()); // nobody holds a permit any more
//!     assert_eq!(sem.available_permits(), 2);
//! });
//! ```

use std::fmt;

use super::{Acquire, Semaphore, SemaphorePermit, TryAcquireError};

/// An async semaphore whose free permits never exceed the number it was
/// created with (`asyncio.BoundedSemaphore`): [`release`](Self::release)
/// without a matching acquire is a [`ReleaseError`] (Python raises
/// `ValueError`).
///
/// Waiting, fairness and cancellation are those of [`Semaphore`]. Unlike
/// it, a bounded semaphore has no `add_permits` (that would move the bound).
///
/// Difference from asyncio: a release hands its permit straight to the
/// first waiter, so that permit counts as held from then on, and a second
/// release before the waiter runs is accepted (it pairs with the permit the
/// waiter now holds). asyncio wakes the waiter without handing it the
/// permit, so there the second release raises `ValueError`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use brigade::sync::BoundedSemaphore;
///
/// brigade::run(async {
///     let sem = Arc::new(BoundedSemaphore::new(1));
///     let permit = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err());
///     drop(permit); // a guard releases by itself, never past the bound
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
    bound: usize,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` free permits, which is also its bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(3);
    /// assert_eq!(sem.bound(), 3);
    /// ```
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::with_bound(permits, Some(permits)),
            bound: permits,
        }
    }

    /// The bound: how many permits there are in all.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(brigade::sync::BoundedSemaphore::new(2).bound(), 2);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Waits for one permit; see [`Semaphore::acquire`].
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`]: dropping the future gives up its place in the
    /// queue, and a permit already handed to it is given back.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let sem = brigade::sync::BoundedSemaphore::new(1);
    ///     let _permit = sem.acquire().await.unwrap();
    ///     assert_eq!(sem.available_permits(), 0);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.sem.acquire()
    }

    /// Waits for `n` permits at once; see [`Semaphore::acquire_many`].
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire_many`]: dropping the future gives up its place
    /// in the queue, and permits already handed to it are given back.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let sem = brigade::sync::BoundedSemaphore::new(3);
    ///     let permit = sem.acquire_many(2).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 2);
    /// });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        self.sem.acquire_many(n)
    }

    /// Takes one permit if one is free and nobody waits before us.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if no permit is free or others wait;
    /// [`TryAcquireError::Closed`] if the semaphore was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(1);
    /// let held = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// # drop(held);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.sem.try_acquire()
    }

    /// Takes `n` permits if they are free and nobody waits before us.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if fewer than `n` permits are free or
    /// others wait; [`TryAcquireError::Closed`] if the semaphore was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert!(sem.try_acquire_many(2).is_ok());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.sem.try_acquire_many(n)
    }

    /// Gives back one permit taken with [`SemaphorePermit::forget`], waking
    /// the waiter it satisfies. Fails, changing nothing, if every permit is
    /// already free (Python's `ValueError`).
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if no permit is held, so that releasing would raise the
    /// free permits past the bound; nothing is released then.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(1);
    /// assert_eq!(sem.release().unwrap_err().bound(), 1);
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.release_many(1)
    }

    /// Gives back `n` forgotten permits at once; fails, changing nothing,
    /// if fewer than `n` are held.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if fewer than `n` permits are held; nothing is released
    /// then.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(3);
    /// sem.try_acquire_many(2).unwrap().forget();
    /// assert!(sem.release_many(3).is_err());
    /// sem.release_many(2).unwrap();
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn release_many(&self, n: usize) -> Result<(), ReleaseError> {
        if self.sem.add_permits_within(n, self.bound) {
            Ok(())
        } else {
            Err(ReleaseError { bound: self.bound })
        }
    }

    /// Permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(brigade::sync::BoundedSemaphore::new(4).available_permits(), 4);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.sem.available_permits()
    }

    /// Whether an [`acquire`](Self::acquire) would wait now (asyncio's
    /// `locked()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.locked());
    /// drop(permit);
    /// assert!(!sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.sem.try_acquire().is_err()
    }

    /// Closes the semaphore; see [`Semaphore::close`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed() && sem.try_acquire().is_err());
    /// ```
    pub fn close(&self) {
        self.sem.close();
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!brigade::sync::BoundedSemaphore::new(1).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.sem.is_closed()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.available_permits())
            .field("bound", &self.bound)
            .finish()
    }
}

/// [`BoundedSemaphore::release`] would pass the bound: no permit was held
/// to give back (Python's `ValueError: BoundedSemaphore released too many
/// times`).
///
/// # Examples
///
/// ```
/// let sem = brigade::sync::BoundedSemaphore::new(2);
/// let err = sem.release().unwrap_err();
/// assert_eq!(err.bound(), 2);
/// assert!(err.to_string().contains("released too many times"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseError {
    bound: usize,
}

impl ReleaseError {
    /// The semaphore's bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::BoundedSemaphore::new(5);
    /// assert_eq!(sem.release().unwrap_err().bound(), 5);
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
