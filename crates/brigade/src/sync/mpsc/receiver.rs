//! The receiving side of an mpsc channel: [`Receiver`], which is also a
//! [`Stream`], and the futures of its waits, [`Recv`] and [`RecvMany`].
//!
//! There is one receiver per channel, so receiving takes `&mut self`: the
//! receiver alone owns the consuming end of the shared buffer (`chan.rs`),
//! and a message leaves the channel only in the poll that returns it.
//! Receiving with a time limit lives in `timeout.rs`.
//!
//! ```
//! brigade::run(async {
//!     let (tx, mut rx) = brigade::sync::mpsc::unbounded();
//!     tx.try_send('a').unwrap();
//!     assert_eq!(rx.try_recv(), Ok('a'));
//!     drop(tx);
//!     assert_eq!(rx.recv().await, None);
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::TryRecvError;
use super::chan::Chan;
use crate::event_loop::context::assert_not_on_loop;
use crate::loom::sync::Arc;
use crate::sync::park::block_on;

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
    pub(super) chan: Arc<Chan<T>>,
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
    /// buffered can still be received. [`Permit`](super::Permit)s granted before the close
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
    /// [`Sender::capacity`](super::Sender::capacity). `None` for an unbounded channel.
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

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").finish_non_exhaustive()
    }
}
