//! The receiving half of a [`broadcast`](super) channel: a cursor into
//! the ring, and the messages it took ahead under one lock.
//!
//! ```
//! let (tx, mut rx) = brigade::sync::broadcast::channel(8);
//! tx.send(1).unwrap();
//! tx.send(2).unwrap();
//! assert_eq!(rx.try_recv(), Ok(1)); // takes 2 along, under the same lock
//! assert_eq!(rx.len(), 1);
//! assert_eq!(rx.try_recv(), Ok(2));
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{RecvError, Ring, Shared, TryRecvError, oldest};
use crate::event_loop::context::assert_not_on_loop;
use crate::sync::park::block_on;

/// A receiving half: sees every message sent after it subscribed, unless
/// it lags behind by more than the capacity.
///
/// Difference from tokio: the blocking call is named `recv_blocking` (tokio:
/// `blocking_recv`), as in brigade's other channels.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, mut rx) = brigade::sync::broadcast::channel(8);
///     tx.send(1).unwrap();
///     assert_eq!(rx.len(), 1);
///     assert_eq!(rx.recv().await, Ok(1));
///     assert!(rx.is_empty());
/// });
/// ```
pub struct Receiver<T> {
    pub(super) shared: Arc<Shared<T>>,
    /// The position this receiver reads next in the ring.
    pub(super) next: u64,
}

impl<T> Receiver<T> {
    pub(super) fn subscribe_to(shared: &Arc<Shared<T>>) -> Receiver<T> {
        let mut ring = shared.ring();
        ring.receivers += 1;
        let next = ring.tail;
        drop(ring);
        Receiver {
            shared: shared.clone(),
            next,
        }
    }

    /// A new receiver on the same channel that will see the messages sent
    /// from now on (not those this one has yet to read).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut fresh = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(fresh.try_recv(), Ok(2));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::subscribe_to(&self.shared)
    }

    /// How many messages were sent that this receiver has yet to read,
    /// counting those it lagged past (as tokio: more than the capacity
    /// means the next call reports [`RecvError::Lagged`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::broadcast::channel(2);
    /// for n in 0..3 {
    ///     tx.send(n).unwrap();
    /// }
    /// assert_eq!(rx.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        (self.shared.ring().tail - self.next) as usize
    }

    /// Whether this receiver has read every message sent so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = brigade::sync::broadcast::channel::<u8>(2);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = brigade::sync::broadcast::channel::<u8>(2);
    /// assert!(rx.same_channel(&rx.resubscribe()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T: Clone> Receiver<T> {
    /// Takes the next message if there is one, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if no unread message is there;
    /// [`TryRecvError::Lagged`] with the number of messages skipped if this
    /// receiver fell behind and the oldest were overwritten (the next call
    /// returns the oldest one still held); [`TryRecvError::Closed`] once every
    /// sender is gone and every message was read.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut ring = self.shared.ring();
        take(&mut self.next, self.shared.mask, &mut ring)
    }

    /// Waits for the next message. Fails with [`RecvError::Lagged`] if
    /// messages were overwritten before this receiver read them (the next
    /// call goes on from the oldest one kept), and with
    /// [`RecvError::Closed`] once every sender is gone and everything was
    /// read.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a message is only consumed when this returns
    /// it.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] with the number of messages skipped if this
    /// receiver fell behind (the next call returns the oldest one still held);
    /// [`RecvError::Closed`] once every sender is gone and every message was
    /// read.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let (tx, mut rx) = brigade::sync::broadcast::channel(2);
    ///     brigade::spawn(async move { tx.send("hi").unwrap() });
    ///     assert_eq!(rx.recv().await, Ok("hi"));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        let Receiver { shared, next } = self;
        Recv {
            shared,
            next,
            key: None,
        }
        .await
    }

    /// Waits for the next message by blocking the calling thread, which
    /// must not run an event loop (tokio: `blocking_recv`).
    ///
    /// # Panics
    /// If no message is there yet and this thread runs an event loop:
    /// sleeping would block every task of the loop, the senders on it too.
    /// (A message already there, a lag or the end is returned without
    /// sleeping, so it is allowed anywhere.) tokio panics on any runtime
    /// thread, even when a message is ready.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv): [`RecvError::Lagged`] or [`RecvError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::broadcast::channel(2);
    /// let t = std::thread::spawn(move || tx.send(9).unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok(9));
    /// t.join().unwrap();
    /// ```
    #[track_caller]
    pub fn recv_blocking(&mut self) -> Result<T, RecvError> {
        match self.try_recv() {
            Ok(message) => Ok(message),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Empty) => {
                assert_not_on_loop("broadcast::Receiver::recv_blocking", "recv().await");
                block_on(self.recv())
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut ring = self.shared.ring();
        ring.receivers -= 1;
        // Give up this receiver's share of the messages it has not read.
        let from = self.next.max(oldest(&ring, self.shared.mask));
        let mut freed = Vec::new();
        for pos in from..ring.tail {
            let slot = &mut ring.slots[pos as usize & self.shared.mask];
            slot.remaining -= 1;
            if slot.remaining == 0 {
                freed.extend(slot.value.take());
                ring.queued -= 1;
            }
        }
        drop(ring);
        drop(freed);
    }
}

/// Under the lock: returns the message at position `next` for a receiver,
/// or why there is none.
fn take<T: Clone>(next: &mut u64, mask: usize, ring: &mut Ring<T>) -> Result<T, TryRecvError> {
    if *next == ring.tail {
        return Err(if ring.senders == 0 {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        });
    }
    let oldest = oldest(ring, mask);
    if *next < oldest {
        let missed = oldest - *next;
        *next = oldest;
        return Err(TryRecvError::Lagged(missed));
    }
    Ok(take_kept(next, mask, ring))
}

/// Reads the kept message at `next` and moves past it: moved out by its
/// last reader, cloned for the others.
fn take_kept<T: Clone>(next: &mut u64, mask: usize, ring: &mut Ring<T>) -> T {
    let slot = &mut ring.slots[*next as usize & mask];
    // Clone first: if it panics, nothing has moved.
    let value = if slot.remaining == 1 {
        slot.value.take()
    } else {
        slot.value.clone()
    };
    let Some(value) = value else {
        unreachable!("a kept position holds its message until every reader took it")
    };
    slot.remaining -= 1;
    if slot.remaining == 0 {
        ring.queued -= 1;
    }
    *next += 1;
    value
}

/// The future inside [`Receiver::recv`]. It borrows the channel itself,
/// which lives on the heap, rather than the receiver: its destructor then
/// touches nothing that lives inside the future that awaits it.
struct Recv<'a, T> {
    shared: &'a Shared<T>,
    next: &'a mut u64,
    key: Option<usize>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = &mut *self;
        let mut ring = this.shared.ring();
        if let Some(key) = this.key.take() {
            ring.waiters.remove(key);
        }
        match take(this.next, this.shared.mask, &mut ring) {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Lagged(n)) => Poll::Ready(Err(RecvError::Lagged(n))),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Err(TryRecvError::Empty) => {
                this.key = Some(ring.waiters.push_back((), cx.waker()));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.ring().waiters.remove(key);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
