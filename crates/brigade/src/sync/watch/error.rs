//! The watch channel's errors; a failed send hands the value back.
//!
//! ```
//! use brigade::sync::watch;
//!
//! let (tx, rx) = watch::channel(0);
//! drop(rx);
//! assert_eq!(tx.send(1), Err(watch::SendError(1)));
//! ```

use std::fmt;

/// [`Sender::send`](super::Sender::send) found no receiver; here is the value back.
///
/// # Examples
///
/// ```
/// let (tx, rx) = brigade::sync::watch::channel(0);
/// drop(rx);
/// let err = tx.send(5).unwrap_err();
/// assert_eq!(err.to_string(), "no receiver is left to watch the value");
/// assert_eq!(err.0, 5);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no receiver is left to watch the value")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The sender is gone (and, for [`Receiver::changed`](super::Receiver::changed), every value was
/// seen).
///
/// # Examples
///
/// ```
/// let (tx, rx) = brigade::sync::watch::channel(0);
/// drop(tx);
/// assert_eq!(rx.has_changed(), Err(brigade::sync::watch::RecvError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the watch sender was dropped")
    }
}

impl std::error::Error for RecvError {}
