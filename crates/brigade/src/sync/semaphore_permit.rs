//! The permits of a [`Semaphore`]: proof that their holder took some of
//! its permits, borrowed ([`SemaphorePermit`]) or owning an `Arc` of the
//! semaphore ([`OwnedSemaphorePermit`], to move into a task or a thread).
//!
//! Dropping a permit releases what it holds, which hands the permits to the
//! head of the waiter queue first (see `semaphore.rs`); `forget` keeps them
//! out for good instead.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Semaphore;
//!
//! brigade::run(async {
//!     let sem = Arc::new(Semaphore::new(3));
//!     let two = sem.acquire_many(2).await.unwrap();
//!     let owned = sem.clone().acquire_owned().await.unwrap();
//!     assert_eq!(sem.available_permits(), 0);
//!     drop(two);
//!     owned.forget();
//!     assert_eq!(sem.available_permits(), 2); // the forgotten one stays out
//! });
//! ```

use std::fmt;
use std::sync::Arc;

use super::Semaphore;

/// Permits held from a [`Semaphore`]; they go back when it drops.
///
/// # Examples
///
/// ```
/// let sem = brigade::sync::Semaphore::new(1);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permits are released as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    pub(super) sem: &'a Semaphore,
    pub(super) permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(3);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Keeps the permits out of the semaphore for good.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1); // it never comes back
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.sem.release(self.permits);
        }
    }
}

/// Permits that own an `Arc` of their [`Semaphore`]; see
/// [`Semaphore::acquire_owned`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// let sem = Arc::new(brigade::sync::Semaphore::new(1));
/// let permit = brigade::run(sem.clone().acquire_owned()).unwrap();
/// std::thread::spawn(move || drop(permit)).join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permits are released as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    pub(super) sem: Arc<Semaphore>,
    pub(super) permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(brigade::sync::Semaphore::new(3));
    /// let permit = brigade::run(sem.clone().acquire_many_owned(2)).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Keeps the permits out of the semaphore for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(brigade::sync::Semaphore::new(2));
    /// brigade::run(sem.clone().acquire_owned()).unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.sem.release(self.permits);
        }
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}
