//! Why acquiring from a [`Semaphore`](super::Semaphore) failed: it was
//! closed ([`AcquireError`]), or, for a `try_acquire`, no permit was free
//! right now ([`TryAcquireError`]).
//!
//! ```
//! use brigade::sync::{Semaphore, TryAcquireError};
//!
//! let sem = Semaphore::new(0);
//! assert_eq!(sem.try_acquire().unwrap_err().to_string(), "no permits available");
//! sem.close();
//! assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
//! ```

use std::fmt;

/// The semaphore was closed; no permit can be acquired any more.
///
/// # Examples
///
/// ```
/// use brigade::sync::{AcquireError, Semaphore};
///
/// brigade::run(async {
///     let sem = Semaphore::new(0);
///     sem.close();
///     assert_eq!(sem.acquire().await.unwrap_err(), AcquireError::Closed);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcquireError {
    /// [`Semaphore::close`](super::Semaphore::close) was called.
    Closed,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`](super::Semaphore::try_acquire) got no permit.
///
/// # Examples
///
/// ```
/// use brigade::sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(1);
/// let _held = sem.try_acquire().unwrap();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// Not enough permits are free right now (or others wait before you).
    NoPermits,
    /// The semaphore was closed.
    Closed,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => f.write_str("no permits available"),
            TryAcquireError::Closed => f.write_str("the semaphore is closed"),
        }
    }
}

impl std::error::Error for TryAcquireError {}
