//! The channel's errors; those of sending hand the message back.
//!
//! ```
//! use brigade::sync::mpsc::{self, TrySendError};
//!
//! let (tx, rx) = mpsc::channel(1);
//! tx.try_send("first").unwrap();
//! assert_eq!(tx.try_send("second"), Err(TrySendError::Full("second")));
//! drop(rx);
//! assert_eq!(tx.try_send("third").unwrap_err().into_inner(), "third");
//! ```

use std::fmt;

/// The receiver closed or dropped; here is the message back.
///
/// # Examples
///
/// ```
/// let (tx, rx) = brigade::sync::mpsc::unbounded();
/// drop(rx);
/// let err: brigade::sync::mpsc::SendError<&str> = tx.send_blocking("lost?").unwrap_err();
/// assert_eq!(err.0, "lost?"); // the message is handed back
/// ```
#[derive(PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc::SendError;
    /// assert_eq!(SendError(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Why [`Sender::try_send`](super::Sender::try_send) did not send; the
/// message is handed back.
///
/// # Examples
///
/// ```
/// use brigade::sync::mpsc::{self, TrySendError};
///
/// let (tx, _rx) = mpsc::channel(0); // a rendezvous: full until a receiver waits
/// match tx.try_send("job") {
///     Err(TrySendError::Full(job)) => assert_eq!(job, "job"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is full.
    Full(T),
    /// The receiver closed or dropped.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc::TrySendError;
    /// assert_eq!(TrySendError::Full(1).into_inner(), 1);
    /// assert_eq!(TrySendError::Closed(2).into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(message) | TrySendError::Closed(message) => message,
        }
    }
}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned nothing.
///
/// # Examples
///
/// ```
/// use brigade::sync::mpsc::{self, TryRecvError};
///
/// let (tx, mut rx) = mpsc::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No message right now.
    Empty,
    /// Every sender is gone (or the receiver closed) and the buffer is
    /// drained.
    Closed,
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the receiver is closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the channel is full"),
            TrySendError::Closed(_) => f.write_str("the receiver is closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty"),
            TryRecvError::Closed => f.write_str("the channel is closed and drained"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// Why [`Sender::send_timeout`](super::Sender::send_timeout) did not send;
/// the message is handed back (tokio's `SendTimeoutError`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::sync::mpsc::{self, SendTimeoutError};
///
/// brigade::Runtime::builder().virtual_clock(true).build().unwrap().block_on(async {
///     let (tx, _rx) = mpsc::channel(1);
///     tx.try_send(1).unwrap();
///     let err = tx.send_timeout(2, Duration::from_secs(1)).await.unwrap_err();
///     assert_eq!(err, SendTimeoutError::Timeout(2));
///     assert_eq!(err.into_inner(), 2);
/// });
/// ```
#[derive(PartialEq, Eq)]
pub enum SendTimeoutError<T> {
    /// The channel stayed full for the whole time.
    Timeout(T),
    /// The receiver closed or dropped.
    Closed(T),
}

impl<T> SendTimeoutError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc::SendTimeoutError;
    /// assert_eq!(SendTimeoutError::Closed("m").into_inner(), "m");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(message) | SendTimeoutError::Closed(message) => message,
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => {
                f.write_str("timed out waiting for room in the channel")
            }
            SendTimeoutError::Closed(_) => f.write_str("the receiver is closed"),
        }
    }
}

impl<T> std::error::Error for SendTimeoutError<T> {}

/// Why [`Receiver::recv_timeout`](super::Receiver::recv_timeout) returned
/// no message.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::sync::mpsc::{self, RecvTimeoutError};
///
/// brigade::Runtime::builder().virtual_clock(true).build().unwrap().block_on(async {
///     let (tx, mut rx) = mpsc::channel::<u8>(1);
///     let waited = rx.recv_timeout(Duration::from_secs(1)).await;
///     assert_eq!(waited, Err(RecvTimeoutError::Timeout));
///     drop(tx);
///     assert_eq!(rx.recv_timeout(Duration::from_secs(1)).await, Err(RecvTimeoutError::Closed));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// No message came in time.
    Timeout,
    /// Every sender is gone (or the receiver closed) and the buffer is
    /// drained.
    Closed,
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out waiting for a message"),
            RecvTimeoutError::Closed => f.write_str("the channel is closed and drained"),
        }
    }
}

impl std::error::Error for RecvTimeoutError {}
