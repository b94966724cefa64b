//! The broadcast channel's errors; a failed send hands the message back,
//! and a lagging receiver is told how many messages it missed.
//!
//! ```
//! use brigade::sync::broadcast::{self, TryRecvError};
//!
//! let (tx, mut rx) = broadcast::channel(2);
//! for n in 0..5 {
//!     tx.send(n).unwrap();
//! }
//! assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
//! assert_eq!(rx.try_recv(), Ok(3));
//! ```

use std::fmt;

/// [`Sender::send`](super::Sender::send) found no receiver; here is the
/// message back (it was not stored).
///
/// # Examples
///
/// ```
/// let (tx, rx) = brigade::sync::broadcast::channel(4);
/// drop(rx);
/// assert_eq!(tx.send("lost?").unwrap_err().0, "lost?");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = brigade::sync::broadcast::SendError(3);
    /// assert_eq!(err.into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no receiver is subscribed to the broadcast channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`](super::Receiver::recv) returned no message.
///
/// # Examples
///
/// ```
/// use brigade::sync::broadcast::{self, RecvError};
///
/// brigade::run(async {
///     let (tx, mut rx) = broadcast::channel(1);
///     tx.send(1).unwrap();
///     tx.send(2).unwrap();
///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
///     assert_eq!(rx.recv().await, Ok(2));
///     drop(tx);
///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and this receiver has seen every message.
    Closed,
    /// The receiver fell behind: this many messages were overwritten
    /// before it read them. The next call returns the oldest one kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the broadcast channel is closed"),
            RecvError::Lagged(n) => write!(f, "the receiver lagged behind by {n} messages"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
/// message.
///
/// # Examples
///
/// ```
/// use brigade::sync::broadcast::{self, TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new yet; senders remain.
    Empty,
    /// Every sender is gone and this receiver has seen every message.
    Closed,
    /// The receiver fell behind by this many messages; see
    /// [`RecvError::Lagged`].
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new message in the broadcast channel"),
            TryRecvError::Closed => RecvError::Closed.fmt(f),
            TryRecvError::Lagged(n) => RecvError::Lagged(*n).fmt(f),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// [`try_channel`](super::try_channel) was asked for an impossible
/// capacity.
///
/// # Examples
///
/// ```
/// use brigade::sync::broadcast::{self, CapacityError};
///
/// assert_eq!(broadcast::try_channel::<u8>(0).err(), Some(CapacityError::Zero));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityError {
    /// A broadcast channel needs room for at least one message.
    Zero,
    /// More than `usize::MAX / 2` slots were asked for.
    TooLarge(usize),
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapacityError::Zero => f.write_str("a broadcast channel needs a capacity above zero"),
            CapacityError::TooLarge(n) => {
                write!(f, "a broadcast channel of capacity {n} is too large")
            }
        }
    }
}

impl std::error::Error for CapacityError {}
