//! Multi-producer, single-consumer channels, between tasks on one loop,
//! tasks on different loops, and plain threads.
//!
//! Two flavors, as in crossbeam-channel:
//! - [`channel(n)`](channel): bounded; `send` waits while `n` messages are
//!   queued (back-pressure). `channel(0)` is a rendezvous.
//! - [`unbounded()`](unbounded): `send` never waits.
//!
//! Both give a cloneable [`Sender`] and one [`Receiver`]. Each side works
//! from a task (`send(v).await`, `recv().await`, or the receiver as a
//! [`Stream`]) and from a plain thread (`send_blocking`, `recv_blocking`,
//! which must not be called on an event loop's thread). The receiver sees
//! `None` once every sender is gone and the buffer is drained.
//!
//! Beyond send and receive, as in tokio: [`Sender::reserve`] a slot first
//! and fill it later with a [`Permit`] (`permit.rs`); take a batch with
//! [`Receiver::recv_many`]; bound a wait with [`Sender::send_timeout`] and
//! [`Receiver::recv_timeout`] (`timeout.rs`); wait for the receiver to go
//! with [`Sender::closed`]; keep a [`WeakSender`] that does not hold the
//! channel open (`weak.rs`).
//!
//! The buffer is a ring reserved up front for bounded channels, guarded by
//! one mutex: see `chan.rs` for the wake-up protocol. Waiting senders (and
//! reservations) are served in FIFO order, and cancelling a `send`, a
//! `reserve` or a `recv` never loses nor duplicates a message or a slot.
//!
//! The blocking calls panic on an event loop's thread when they would
//! sleep, instead of freezing the loop (see their "Panics" sections).
//!
//! ```
//! use brigade::sync::mpsc;
//!
//! brigade::run(async {
//!     let (tx, mut rx) = mpsc::channel(8);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         brigade::spawn(async move {
//!             tx.send(id).await.unwrap();
//!         });
//!     }
//!     drop(tx); // the receiver ends when the last clone is gone
//!     let mut got = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

mod chan;
mod error;
mod permit;
mod timeout;
mod weak;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use self::chan::Chan;
pub use self::error::{RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use self::permit::{OwnedPermit, Permit, Reserve};
pub use self::weak::WeakSender;
use super::park::block_on;
use crate::event_loop::context::assert_not_on_loop;
use crate::loom::sync::Arc;

/// A bounded channel holding at most `capacity` messages in flight
/// (`0`: every send waits for the receiver to take its message).
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::mpsc::channel(1);
///     tx.send("a").await.unwrap();
///     assert!(tx.try_send("b").is_err()); // full
///     assert_eq!(rx.recv().await, Some("a"));
/// });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    with_capacity(Some(capacity))
}

/// A channel without a bound: sending never waits.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = brigade::sync::mpsc::unbounded();
/// for n in 0..100 {
///     tx.try_send(n).unwrap(); // never full
/// }
/// assert_eq!(rx.len(), 100);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    with_capacity(None)
}

fn with_capacity<T>(capacity: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(capacity));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

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
    chan: Arc<Chan<T>>,
}

/// The receiving side. Also a [`Stream`] of the messages.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::mpsc::unbounded();
///     brigade::spawn(async move {
///         for n in 0..3 {
///             tx.send(n).await.unwrap();
///         }
///     });
///     let mut got = Vec::new();
///     while let Some(n) = rx.recv().await {
///         got.push(n);
///     }
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
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
    /// slots reserved by [`Permit`]s (tokio's `capacity()`); `None` for an
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

impl<T> Receiver<T> {
    /// Receives the next message, waiting for one. `None` once every
    /// sender is gone (or [`close`](Self::close) was called) and the
    /// buffer is drained.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: messages stay in the channel until a `recv`
    /// returns them.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let (tx, mut rx) = brigade::sync::mpsc::channel(1);
    ///     brigade::spawn(async move { tx.send("hi").await.unwrap() });
    ///     assert_eq!(rx.recv().await, Some("hi"));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { rx: self }
    }

    /// Polls for the next message; the building block of [`recv`](Self::recv)
    /// and of the [`Stream`] impl.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// brigade::run(async {
    ///     let (tx, mut rx) = brigade::sync::mpsc::unbounded();
    ///     tx.try_send(4).unwrap();
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(4));
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Takes the next message if one is there.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if no message is buffered right now;
    /// [`TryRecvError::Closed`] if every sender is gone (or the receiver
    /// closed) and the buffer is drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::unbounded();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives from a plain thread, sleeping while the channel is empty.
    /// Never call this on an event loop's thread: await [`recv`](Self::recv).
    ///
    /// # Panics
    /// If the channel is empty and this thread runs an event loop: sleeping
    /// would block every task of the loop, and the senders on it could never
    /// send (a message already there is taken without sleeping, anywhere).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::mpsc::unbounded();
    /// std::thread::spawn(move || tx.send_blocking(7).unwrap());
    /// assert_eq!(rx.recv_blocking(), Some(7));
    /// assert_eq!(rx.recv_blocking(), None); // the sender is gone
    /// ```
    #[track_caller]
    pub fn recv_blocking(&mut self) -> Option<T> {
        match self.chan.try_recv() {
            Ok(message) => Some(message),
            Err(TryRecvError::Closed) => None,
            Err(TryRecvError::Empty) => {
                assert_not_on_loop("mpsc::Receiver::recv_blocking", "recv().await");
                block_on(self.recv())
            }
        }
    }

    /// Closes the channel: sends and reservations fail from now on
    /// (waiting senders get their message back), and the messages already
    /// buffered can still be received. [`Permit`]s granted before the close
    /// may still send, so `recv` ends only once they are used or dropped
    /// (as in tokio).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::mpsc::unbounded();
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1)); // buffered messages remain
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Messages buffered right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::mpsc::unbounded();
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is buffered right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::mpsc::unbounded();
    /// assert!(rx.is_empty());
    /// tx.try_send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slots free right now (tokio's `capacity()`); see
    /// [`Sender::capacity`]. `None` for an unbounded channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::mpsc::channel::<u8>(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.capacity(), Some(1));
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.capacity(), Some(2));
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
    /// let (_tx, rx) = brigade::sync::mpsc::channel::<u8>(2);
    /// assert_eq!(rx.max_capacity(), Some(2));
    /// ```
    pub fn max_capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Receives up to `limit` messages into `buffer` (appending), waiting
    /// while there is none, and returns how many (tokio's `recv_many`).
    /// `0` means the channel is closed and drained, or `limit` is `0`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: messages leave the channel only in the poll
    /// that returns them.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc;
    ///
    /// brigade::run(async {
    ///     let (tx, mut rx) = mpsc::unbounded();
    ///     for i in 0..5 {
    ///         tx.try_send(i).unwrap();
    ///     }
    ///     drop(tx);
    ///     let mut batch = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut batch, 3).await, 3);
    ///     assert_eq!(rx.recv_many(&mut batch, 3).await, 2);
    ///     assert_eq!(batch, [0, 1, 2, 3, 4]);
    ///     assert_eq!(rx.recv_many(&mut batch, 3).await, 0);
    /// });
    /// ```
    pub fn recv_many<'a>(&'a mut self, buffer: &'a mut Vec<T>, limit: usize) -> RecvMany<'a, T> {
        RecvMany {
            rx: self,
            buffer,
            limit,
        }
    }

    /// Polls for up to `limit` messages; the building block of
    /// [`recv_many`](Self::recv_many).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let (tx, mut rx) = brigade::sync::mpsc::channel(4);
    /// tx.try_send('a').unwrap();
    /// let mut got = Vec::new();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(rx.poll_recv_many(&mut cx, &mut got, 8), Poll::Ready(1));
    /// assert!(rx.poll_recv_many(&mut cx, &mut got, 8).is_pending());
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
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
    chan: &'a Chan<T>,
    message: Option<T>,
    key: Option<usize>,
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

/// The future returned by [`Receiver::recv_many`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::mpsc::channel(4);
///     tx.send(1).await.unwrap();
///     let mut got = Vec::new();
///     let batch: brigade::sync::mpsc::RecvMany<'_, i32> = rx.recv_many(&mut got, 4);
///     assert_eq!(batch.await, 1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RecvMany<'a, T> {
    rx: &'a mut Receiver<T>,
    buffer: &'a mut Vec<T>,
    limit: usize,
}

impl<T> Future for RecvMany<'_, T> {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = &mut *self;
        this.rx.chan.poll_recv_many(cx, this.buffer, this.limit)
    }
}

impl<T> fmt::Debug for RecvMany<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvMany")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
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

/// The future returned by [`Receiver::recv`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::mpsc::unbounded();
///     tx.try_send('x').unwrap();
///     let recv: brigade::sync::mpsc::Recv<'_, char> = rx.recv();
///     assert_eq!(recv.await, Some('x'));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;

    #[test]
    fn a_blocked_sender_and_receiver_wake_each_other() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let sender = thread::spawn(move || {
                tx.send_blocking(1).unwrap();
                tx.send_blocking(2).unwrap();
            });
            assert_eq!(rx.recv_blocking(), Some(1));
            assert_eq!(rx.recv_blocking(), Some(2));
            assert_eq!(rx.recv_blocking(), None);
            sender.join().unwrap();
        });
    }

    #[test]
    fn the_last_sender_leaving_wakes_the_receiver() {
        loom::model(|| {
            let (tx, mut rx) = unbounded::<u8>();
            let tx2 = tx.clone();
            let a = thread::spawn(move || drop(tx));
            let b = thread::spawn(move || tx2.try_send(1).unwrap());
            assert_eq!(rx.recv_blocking(), Some(1));
            assert_eq!(rx.recv_blocking(), None);
            a.join().unwrap();
            b.join().unwrap();
        });
    }

    #[test]
    fn a_rendezvous_send_completes_once_taken() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let sender = thread::spawn(move || tx.send_blocking(7).unwrap());
            assert_eq!(rx.recv_blocking(), Some(7));
            sender.join().unwrap();
        });
    }

    #[test]
    fn a_dropped_permit_hands_its_slot_to_a_blocked_sender() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let reserver = tx.clone();
            let sender = thread::spawn(move || tx.send_blocking(1).unwrap());
            // Either the permit takes the slot first and hands it on when
            // dropped, or the sender got it and the reservation fails.
            if let Ok(permit) = reserver.try_reserve() {
                drop(permit);
            }
            assert_eq!(rx.recv_blocking(), Some(1));
            sender.join().unwrap();
            assert_eq!(reserver.capacity(), Some(1));
        });
    }

    #[test]
    fn a_permit_sent_from_another_thread_wakes_the_receiver() {
        loom::model(|| {
            let (tx, mut rx) = channel(1);
            let permit = tx.try_reserve_owned().unwrap();
            let sender = thread::spawn(move || drop(permit.send(5)));
            assert_eq!(rx.recv_blocking(), Some(5));
            assert_eq!(rx.recv_blocking(), None);
            sender.join().unwrap();
        });
    }

    #[test]
    fn dropping_the_receiver_releases_a_blocked_sender() {
        loom::model(|| {
            let (tx, rx) = channel(1);
            tx.try_send(1).unwrap();
            let sender = thread::spawn(move || tx.send_blocking(2));
            drop(rx);
            assert_eq!(sender.join().unwrap(), Err(SendError(2)));
        });
    }
}
