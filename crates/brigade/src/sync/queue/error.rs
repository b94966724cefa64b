//! The queue's errors; those of putting hand the item back.
//!
//! ```
//! use brigade::sync::{Queue, TryPutError, TryGetError};
//!
//! let queue = Queue::bounded(1);
//! queue.try_put("a").unwrap();
//! assert_eq!(queue.try_put("b"), Err(TryPutError::Full("b")));
//! queue.close();
//! assert_eq!(queue.try_put("c").unwrap_err().into_inner(), "c");
//! assert_eq!(queue.try_get(), Ok("a"));
//! assert_eq!(queue.try_get(), Err(TryGetError::Closed));
//! ```

use std::fmt;

/// The queue was closed before the item could be put; here it is back.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let queue = brigade::sync::Queue::unbounded();
///     queue.close();
///     let err: brigade::sync::PutError<&str> = queue.put("late").await.unwrap_err();
///     assert_eq!(err.0, "late");
/// });
/// ```
#[derive(PartialEq, Eq)]
pub struct PutError<T>(pub T);

/// Why `try_put` ([`Queue::try_put`](super::Queue::try_put) and the other
/// queues') did not put the item; the item is handed back.
///
/// # Examples
///
/// ```
/// use brigade::sync::{Queue, TryPutError};
///
/// let queue = Queue::bounded(1);
/// queue.try_put(1).unwrap();
/// assert_eq!(queue.try_put(2), Err(TryPutError::Full(2)));
/// ```
#[derive(PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue is full.
    Full(T),
    /// The queue was closed.
    Closed(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::TryPutError;
    /// assert_eq!(TryPutError::Closed("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::Closed(item) => item,
        }
    }
}

/// The queue was closed and is empty: no item will ever come.
///
/// # Examples
///
/// ```
/// use brigade::sync::{Queue, QueueClosed};
///
/// brigade::run(async {
///     let queue = Queue::<u8>::unbounded();
///     queue.close();
///     assert_eq!(queue.get().await, Err(QueueClosed));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueClosed;

/// Why `try_get` ([`Queue::try_get`](super::Queue::try_get) and the other
/// queues') returned no item.
///
/// # Examples
///
/// ```
/// use brigade::sync::{Queue, TryGetError};
///
/// let queue = Queue::<u8>::unbounded();
/// assert_eq!(queue.try_get(), Err(TryGetError::Empty));
/// queue.close();
/// assert_eq!(queue.try_get(), Err(TryGetError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item right now.
    Empty,
    /// The queue was closed and is empty.
    Closed,
}

/// `task_done` ([`Queue::task_done`](super::Queue::task_done) and the other
/// queues') was called more times than items were put.
///
/// # Examples
///
/// ```
/// use brigade::sync::{Queue, TaskDoneError};
///
/// let queue = Queue::<u8>::unbounded();
/// assert_eq!(queue.task_done(), Err(TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PutError(..)")
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed")
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("the queue is full"),
            TryPutError::Closed(_) => f.write_str("the queue is closed"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

impl fmt::Display for QueueClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed and empty")
    }
}

impl std::error::Error for QueueClosed {}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("the queue is empty"),
            TryGetError::Closed => QueueClosed.fmt(f),
        }
    }
}

impl std::error::Error for TryGetError {}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put")
    }
}

impl std::error::Error for TaskDoneError {}
