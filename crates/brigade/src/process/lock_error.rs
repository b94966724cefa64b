//! [`LockError`]: why a cross-process lock was not simply acquired, and in
//! particular [`LockError::OwnerDied`], the news that the last holder died
//! holding it.
//!
//! Python's `multiprocessing.Lock` has no such news: a process killed while
//! holding a lock leaves it locked for ever, and everyone else waits for
//! ever. brigade's locks are robust (see [`Lock`](super::Lock)): the
//! death is noticed (by the kernel, or by a waiter that finds the holder's
//! thread gone), and the next acquirer gets the lock together with this
//! error, the way `std`'s
//! [`PoisonError`](std::sync::PoisonError) hands back the guard of a lock
//! whose holder panicked. The lock works again at once; the error is said
//! to that one acquirer only, which may repair what the dead holder left
//! half-done before it releases.
//!
//! ```
//! use brigade::process::{Lock, LockError};
//!
//! let l = Lock::new().unwrap();
//! // What a caller that does not care who held the lock before writes:
//! let g = l.acquire().or_else(LockError::recover).unwrap();
//! drop(g);
//! ```

use std::fmt;
use std::io;
use std::time::Duration;

use crate::sys::robust::{Locked, RobustMutex};

/// Why acquiring a cross-process lock did not simply succeed; `G` is the
/// guard the caller would have had; see the module docs of
/// [`Lock`](super::Lock) for what a robust lock is.
///
/// ```
/// use std::time::Duration;
/// use brigade::process::{Lock, LockError};
///
/// let l = Lock::new().unwrap();
/// let g = l.acquire().unwrap();
/// // The same thread again: an error, not a deadlock.
/// assert!(matches!(l.acquire(), Err(LockError::WouldDeadlock)));
/// drop(g);
/// let g = l.acquire_timeout(Duration::from_millis(10)).unwrap();
/// # drop(g);
/// ```
pub enum LockError<G> {
    /// The previous holder (a process or a thread) died while holding the
    /// lock. The caller holds it now, through the guard inside; the lock is
    /// usable again, but what it protects may be half-updated.
    OwnerDied(G),
    /// The calling thread already holds this (non-recursive) lock:
    /// acquiring it again would never end. (Python's `Lock` deadlocks.)
    WouldDeadlock,
    /// The timeout passed (or, for a `try_` method, someone else holds the
    /// lock).
    Timeout,
    /// The system refused (not expected short of a damaged lock).
    Io(io::Error),
}

impl<G> LockError<G> {
    /// The guard of an [`OwnerDied`](Self::OwnerDied) error as `Ok`, any
    /// other error as it was: `acquire().or_else(LockError::recover)` takes
    /// a lock over from a dead holder without a word.
    ///
    /// ```
    /// use brigade::process::{Lock, LockError};
    ///
    /// let l = Lock::new().unwrap();
    /// assert!(l.acquire().or_else(LockError::recover).is_ok());
    /// ```
    ///
    /// # Errors
    /// Every error but [`OwnerDied`](Self::OwnerDied), unchanged.
    pub fn recover(self) -> Result<G, LockError<G>> {
        match self {
            LockError::OwnerDied(g) => Ok(g),
            other => Err(other),
        }
    }

    /// The guard inside an [`OwnerDied`](Self::OwnerDied) error.
    ///
    /// ```
    /// use brigade::process::LockError;
    ///
    /// assert_eq!(LockError::OwnerDied(7).into_guard(), Some(7));
    /// assert_eq!(LockError::<i32>::Timeout.into_guard(), None);
    /// ```
    pub fn into_guard(self) -> Option<G> {
        match self {
            LockError::OwnerDied(g) => Some(g),
            _ => None,
        }
    }

    /// Whether this is [`OwnerDied`](Self::OwnerDied).
    ///
    /// ```
    /// use brigade::process::LockError;
    ///
    /// assert!(LockError::OwnerDied(()).is_owner_died());
    /// ```
    pub fn is_owner_died(&self) -> bool {
        matches!(self, LockError::OwnerDied(_))
    }

    /// The same error with the guard passed through `f`.
    ///
    /// ```
    /// use brigade::process::LockError;
    ///
    /// let e = LockError::OwnerDied(2).map(|n| n * 10);
    /// assert_eq!(e.into_guard(), Some(20));
    /// ```
    pub fn map<H>(self, f: impl FnOnce(G) -> H) -> LockError<H> {
        match self {
            LockError::OwnerDied(g) => LockError::OwnerDied(f(g)),
            LockError::WouldDeadlock => LockError::WouldDeadlock,
            LockError::Timeout => LockError::Timeout,
            LockError::Io(e) => LockError::Io(e),
        }
    }
}

impl<G> fmt::Debug for LockError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDied(_) => f.write_str("OwnerDied(..)"),
            LockError::WouldDeadlock => f.write_str("WouldDeadlock"),
            LockError::Timeout => f.write_str("Timeout"),
            LockError::Io(e) => f.debug_tuple("Io").field(e).finish(),
        }
    }
}

impl<G> fmt::Display for LockError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::OwnerDied(_) => f.write_str(
                "the lock's previous holder died holding it; the caller holds it now, \
                 and what it protects may be half-updated",
            ),
            LockError::WouldDeadlock => {
                f.write_str("this thread already holds the lock: acquiring it again would deadlock")
            }
            LockError::Timeout => f.write_str("the lock was not acquired in time"),
            LockError::Io(e) => write!(f, "the lock failed: {e}"),
        }
    }
}

impl<G> std::error::Error for LockError<G> {}

/// So that `?` works in a function returning `io::Result`. An
/// [`OwnerDied`](LockError::OwnerDied) guard is released on the way (its
/// lock stays usable); the error keeps the message.
impl<G> From<LockError<G>> for io::Error {
    fn from(e: LockError<G>) -> io::Error {
        let kind = match &e {
            LockError::Timeout => io::ErrorKind::TimedOut,
            LockError::WouldDeadlock => io::ErrorKind::Deadlock,
            LockError::Io(e) => e.kind(),
            LockError::OwnerDied(_) => io::ErrorKind::Other,
        };
        io::Error::new(kind, e.to_string())
    }
}

/// How long an acquire may wait.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    Forever,
    For(Duration),
    Never,
}

/// Locks `m` as `wait` says, and makes the guard with `guard` once held.
pub(crate) fn acquire<G>(
    m: &RobustMutex,
    wait: Wait,
    guard: impl FnOnce() -> G,
) -> Result<G, LockError<G>> {
    let outcome = match wait {
        Wait::Forever => m.lock(None),
        Wait::For(t) => m.lock(Some(t)),
        Wait::Never => m.try_lock(),
    };
    judge(outcome, guard)
}

/// The result of a lock attempt that ended as `outcome`, with the guard
/// made by `guard` once held.
pub(crate) fn judge<G>(
    outcome: io::Result<Locked>,
    guard: impl FnOnce() -> G,
) -> Result<G, LockError<G>> {
    match outcome {
        Ok(Locked::Acquired) => Ok(guard()),
        Ok(Locked::OwnerDied) => Err(LockError::OwnerDied(guard())),
        Ok(Locked::WouldDeadlock) => Err(LockError::WouldDeadlock),
        Ok(Locked::Busy) => Err(LockError::Timeout),
        Err(e) => Err(LockError::Io(e)),
    }
}
