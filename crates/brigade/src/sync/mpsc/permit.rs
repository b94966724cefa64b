//! Reserving a slot before producing the message (tokio's `reserve` and
//! `Permit`).
//!
//! `send(v).await` needs the message before it knows there is room; a
//! producer whose message is costly, or which must not lose it to a closed
//! channel, first reserves a slot with [`Sender::reserve`] and then sends
//! into it with [`Permit::send`], which never waits and never fails. The
//! channel counts a reservation as an occupied slot (see `chan.rs`), so the
//! room exists from the reservation to the send; dropping the permit unused
//! gives the slot back to the next waiting sender.
//!
//! ```
//! use brigade::sync::mpsc;
//!
//! brigade::run(async {
//!     let (tx, mut rx) = mpsc::channel(1);
//!     let permit = tx.reserve().await.unwrap(); // room is ours now
//!     assert!(tx.try_send("other").is_err());   // so others see it full
//!     permit.send("costly message");
//!     assert_eq!(rx.recv().await, Some("costly message"));
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::chan::Chan;
use super::{SendError, Sender, TrySendError};

impl<T> Sender<T> {
    /// Waits for a free slot and reserves it (tokio's `reserve`). Waiting
    /// reservations and sends are served together, in FIFO order. Fails if
    /// the receiver closed or dropped.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a slot handed to a dropped future goes to
    /// the next waiter. An unbounded channel reserves at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc;
    ///
    /// brigade::run(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.reserve().await.unwrap().send(1);
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     drop(rx);
    ///     assert!(tx.reserve().await.is_err());
    /// });
    /// ```
    pub fn reserve(&self) -> Reserve<'_, T> {
        Reserve {
            chan: &self.chan,
            key: None,
        }
    }

    /// Reserves a slot if one is free now and nobody waits before us
    /// (tokio's `try_reserve`).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if no slot is free or others wait for one;
    /// [`TrySendError::Closed`] if the receiver closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    /// drop(permit); // the slot is free again
    /// assert!(tx.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve()?;
        Ok(Permit { chan: &self.chan })
    }

    /// Like [`reserve`](Self::reserve), consuming the sender: the permit
    /// owns it and hands it back when used (tokio's `reserve_owned`). On
    /// failure the sender is dropped.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver closed or dropped; the sender is dropped.
    ///
    /// # Cancel safety
    ///
    /// As [`reserve`](Self::reserve): a slot handed to a dropped future goes to
    /// the next waiter. The sender is dropped with the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc;
    ///
    /// brigade::run(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     brigade::spawn(async move { drop(permit.send("from a task")) });
    ///     assert_eq!(rx.recv().await, Some("from a task"));
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.reserve().await?.forget_slot();
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Like [`try_reserve`](Self::try_reserve), consuming the sender; on
    /// failure the error hands the sender back (tokio's
    /// `try_reserve_owned`).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if no slot is free or others wait for one;
    /// [`TrySendError::Closed`] if the receiver closed or dropped. Both hand
    /// the sender back.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(0);
    /// // A rendezvous has no slot until the receiver waits.
    /// let Err(TrySendError::Full(tx)) = tx.try_reserve_owned() else { panic!() };
    /// assert!(!tx.is_closed());
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Sender<T>>> {
        match self.chan.try_reserve() {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }
}

/// A reserved slot in a channel: [`send`](Self::send) fills it, dropping
/// the permit frees it (tokio's `Permit`).
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = brigade::sync::mpsc::channel(1);
/// let permit = tx.try_reserve().unwrap();
/// permit.send('x');
/// assert_eq!(rx.try_recv(), Ok('x'));
/// ```
#[must_use = "the slot is freed as soon as the permit is dropped"]
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `message` into the reserved slot: never waits, never fails.
    /// The message joins the buffer even if the receiver closed meanwhile
    /// (it can still drain it); only if the receiver is gone is the message
    /// dropped, as the buffered messages were (tokio does the same).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// rx.close();
    /// permit.send(1); // still delivered: the slot was ours
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn send(self, message: T) {
        let chan = self.chan;
        self.forget_slot();
        // Dropped after the channel's lock is released.
        drop(chan.send_reserved(message));
    }

    /// Ends the permit without touching its slot (the caller takes it over).
    fn forget_slot(self) {
        std::mem::forget(self);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
    }
}

/// A reserved slot that owns its [`Sender`]; see [`Sender::reserve_owned`]
/// (tokio's `OwnedPermit`).
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = brigade::sync::mpsc::channel(1);
/// let permit = tx.try_reserve_owned().unwrap();
/// let tx = permit.send(7); // the sender comes back
/// assert_eq!(rx.try_recv(), Ok(7));
/// assert!(tx.try_send(8).is_ok());
/// ```
#[must_use = "the slot is freed as soon as the permit is dropped"]
pub struct OwnedPermit<T> {
    /// `Some` until the permit is used.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `message` into the reserved slot, as [`Permit::send`] does,
    /// and hands the sender back.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send("a");
    /// assert_eq!(rx.try_recv(), Ok("a"));
    /// # drop(tx);
    /// ```
    pub fn send(mut self, message: T) -> Sender<T> {
        let sender = self.sender.take().expect("an owned permit is used once");
        drop(sender.chan.send_reserved(message));
        sender
    }

    /// Frees the slot without sending and hands the sender back (tokio's
    /// `release`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::mpsc::channel::<u8>(1);
    /// let tx = tx.try_reserve_owned().unwrap().release();
    /// assert_eq!(tx.capacity(), Some(1));
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("an owned permit is used once");
        sender.chan.release_reserved();
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.release_reserved();
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::OwnedPermit").finish_non_exhaustive()
    }
}

/// The future returned by [`Sender::reserve`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::mpsc::channel(1);
///     let reserve: brigade::sync::mpsc::Reserve<'_, &str> = tx.reserve();
///     reserve.await.unwrap().send("in the slot");
///     assert_eq!(rx.recv().await, Some("in the slot"));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Reserve<'a, T> {
    chan: &'a Chan<T>,
    key: Option<usize>,
}

impl<'a, T> Future for Reserve<'a, T> {
    type Output = Result<Permit<'a, T>, SendError<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let chan = this.chan;
        chan.poll_reserve(&mut this.key, cx)
            .map(|reserved| reserved.map(|()| Permit { chan }))
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_reserve(key);
        }
    }
}

impl<T> fmt::Debug for Reserve<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserve")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}
