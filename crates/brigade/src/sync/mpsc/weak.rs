//! [`WeakSender`]: a handle on the channel that does not keep it open
//! (tokio's `WeakSender`).
//!
//! The channel counts its [`Sender`]s; when the count drops to zero the
//! receiver sees the end. A weak sender is not counted: it only holds the
//! shared state alive, and [`upgrade`](WeakSender::upgrade) turns it back
//! into a counted `Sender` if, and only if, the count has not yet reached
//! zero (a compare-and-swap that never raises it from zero, so the end,
//! once seen, is final).
//!
//! ```
//! use brigade::sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::unbounded::<u8>();
//! let weak = tx.downgrade();
//! weak.upgrade().unwrap().try_send(1).unwrap();
//! drop(tx);
//! assert!(weak.upgrade().is_none());
//! assert_eq!(rx.recv_blocking(), Some(1));
//! assert_eq!(rx.recv_blocking(), None); // the weak sender kept nothing open
//! ```

use std::fmt;

use super::Sender;
use super::chan::Chan;
use crate::loom::sync::Arc;

/// A sender that does not keep the channel open; see the module docs.
/// Clone it freely; [`upgrade`](Self::upgrade) it to send.
///
/// # Examples
///
/// ```
/// let (tx, _rx) = brigade::sync::mpsc::channel::<u8>(1);
/// let weak = tx.downgrade();
/// assert_eq!(weak.strong_count(), 1);
/// ```
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// A [`WeakSender`] for this channel, which does not keep it open
    /// (tokio's `downgrade`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().unwrap().same_channel(&tx));
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> WeakSender<T> {
    /// A counted [`Sender`] again, or `None` if every sender is already
    /// gone (the receiver has seen, or will see, the end).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: self.chan.clone(),
        })
    }

    /// How many (counted) senders the channel has.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// let _tx2 = tx.clone();
    /// assert_eq!(weak.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::WeakSender").finish_non_exhaustive()
    }
}
