//! The sending side of an mpsc channel: [`Sender`], and the futures of
//! its waits, [`SendFuture`] (room for a message) and [`Closed`] (the
//! receiver going away).
//!
//! A `Sender` is a counted handle on the shared channel (`chan.rs`): cloning
//! it counts one more producer, dropping the last one ends the stream the
//! receiver sees. Reserving a slot first lives in `permit.rs`, sending with a
//! time limit in `timeout.rs`, and the uncounted handle in `weak.rs`.
//!
//! ```
//! brigade::run(async {
//!     let (tx, mut rx) = brigade::sync::mpsc::channel(2);
//!     tx.send(1).await.unwrap();
//!     tx.try_send(2).unwrap();
//!     drop(tx);
//!     assert_eq!(rx.recv().await, Some(1));
//!     assert_eq!(rx.recv().await, Some(2));
//!     assert_eq!(rx.recv().await, None);
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::chan::Chan;
use super::{SendError, TrySendError};
use crate::event_loop::context::assert_not_on_loop;
use crate::loom::sync::Arc;
use crate::sync::park::block_on;

/// The sending side; clone it for more producers.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::mpsc::channel(4);
///     let tx2 = tx.clone();
///     tx.send(1).await.unwrap();
///     tx2.send(2).await.unwrap();
///     drop((tx, tx2));
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, Some(2));
///     assert_eq!(rx.recv().await, None); // every sender is gone
/// });
/// ```
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `message`, waiting for room in a full bounded channel. Fails,
    /// handing the message back, if the receiver closed or dropped.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if the future is dropped, either the message
    /// was sent (exactly once) or it was not and is dropped with the future.
    ///
    /// The future resolves to a [`SendError`] holding the message if the
    /// receiver closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let (tx, mut rx) = brigade::sync::mpsc::channel(1);
    ///     tx.send(1).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     drop(rx);
    ///     assert_eq!(tx.send(2).await.unwrap_err().into_inner(), 2);
    /// });
    /// ```
    pub fn send(&self, message: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            message: Some(message),
            key: None,
        }
    }

    /// Sends `message` if there is room right now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if a bounded channel has no free slot (or others
    /// wait for one); [`TrySendError::Closed`] if the receiver closed or
    /// dropped. Both hand the message back.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(message)
    }

    /// Sends from a plain thread, sleeping while the channel is full. Never
    /// call this on an event loop's thread: await [`send`](Self::send).
    ///
    /// # Panics
    /// If the channel is full and this thread runs an event loop: sleeping
    /// would block every task of the loop, the receiver's perhaps too. (A
    /// send that fits right away never sleeps, so it is allowed anywhere.)
    ///
    /// # Errors
    ///
    /// [`SendError`], holding the message, if the receiver closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::mpsc::channel(1);
    /// let t = std::thread::spawn(move || tx.send_blocking("hi"));
    /// assert_eq!(rx.recv_blocking(), Some("hi"));
    /// t.join().unwrap().unwrap();
    /// ```
    #[track_caller]
    pub fn send_blocking(&self, message: T) -> Result<(), SendError<T>> {
        match self.chan.try_send(message) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(message)) => Err(SendError(message)),
            Err(TrySendError::Full(message)) => {
                assert_not_on_loop("mpsc::Sender::send_blocking", "send(message).await");
                block_on(self.send(message))
            }
        }
    }

    /// Whether the receiver closed or dropped, so that sends fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::mpsc::channel::<u8>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Slots free right now: the bound minus the messages buffered and the
    /// slots reserved by [`Permit`](super::Permit)s (tokio's `capacity()`); `None` for an
    /// unbounded channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::mpsc::channel::<u8>(3);
    /// tx.try_send(1).unwrap();
    /// let _permit = tx.try_reserve().unwrap();
    /// assert_eq!(tx.capacity(), Some(1));
    /// assert_eq!(tx.max_capacity(), Some(3));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.free_slots()
    }

    /// The bound the channel was made with (tokio's `max_capacity()`);
    /// `None` for an unbounded channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::mpsc::unbounded::<u8>();
    /// assert_eq!(tx.max_capacity(), None);
    /// ```
    pub fn max_capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Waits until the receiver closes or is dropped, so that a producer
    /// can stop work nobody will receive (tokio's `Sender::closed`).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropping the future changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc;
    ///
    /// brigade::run(async {
    ///     let (tx, mut rx) = mpsc::channel::<u32>(1);
    ///     brigade::spawn(async move {
    ///         brigade::yield_now().await;
    ///         rx.close();
    ///     });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            chan: &self.chan,
            key: None,
        }
    }

    /// Whether both senders feed the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, _rx) = brigade::sync::mpsc::unbounded::<u8>();
    /// let (b, _rx2) = brigade::sync::mpsc::unbounded::<u8>();
    /// assert!(a.same_channel(&a.clone()));
    /// assert!(!a.same_channel(&b));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

/// The future returned by [`Sender::send`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::mpsc::channel(1);
///     let send: brigade::sync::mpsc::SendFuture<'_, i32> = tx.send(1);
///     send.await.unwrap();
///     assert_eq!(rx.recv().await, Some(1));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T> {
    pub(super) chan: &'a Chan<T>,
    message: Option<T>,
    pub(super) key: Option<usize>,
}

// The message is moved, never pinned.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.chan.poll_send(&mut this.message, &mut this.key, cx)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_send(key);
        }
    }
}

/// The future returned by [`Sender::closed`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, rx) = brigade::sync::mpsc::channel::<u8>(1);
///     let closed: brigade::sync::mpsc::Closed<'_, u8> = tx.closed();
///     drop(rx);
///     closed.await;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'a, T> {
    chan: &'a Chan<T>,
    key: Option<usize>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.chan.poll_closed(&mut this.key, cx)
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_closed(key);
        }
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}
