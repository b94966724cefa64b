//! [`broadcast`](self): every message to every receiver, through a bounded
//! ring that never makes the sender wait (tokio's `sync::broadcast`; in
//! Python, a pub-sub fan-out over one queue per subscriber).
//!
//! # The idea
//! Messages go into a ring of `capacity` slots (rounded up to a power of
//! two, as tokio does), numbered by an ever-growing position. Each receiver
//! keeps the position it reads next, and each slot counts the receivers
//! that have yet to read it; the last one moves the message out instead of
//! cloning it and frees the slot. A send never waits: when the ring is
//! full it overwrites the oldest message, and a receiver that had not read
//! it yet learns on its next call that it [lagged](RecvError::Lagged), by
//! how many messages, and goes on from the oldest one kept. This is the
//! LMAX disruptor's single ring with a cursor per consumer, given tokio's
//! "drop the oldest" policy instead of back-pressure.
//!
//! The ring, the cursors' counts and the waiting receivers sit behind one
//! mutex, held for a few assignments and a clone. A send wakes every
//! waiting receiver once, after releasing the lock, reusing one buffer of
//! wakers: no allocation per message beyond the receivers' clones.
//!
//! A receiver takes one message per lock. Taking several at once (the
//! disruptor's batching consumers) was measured faster still, but a
//! message taken ahead counts as read before the receiver has seen it,
//! which would make [`Sender::len`] and the moment of a lag differ from
//! tokio's; this design is already ahead of tokio (BENCHMARKS.md,
//! `broadcast`).
//!
//! ```
//! use brigade::sync::broadcast;
//!
//! brigade::run(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     let listeners = [
//!         brigade::spawn(async move { rx1.recv().await.unwrap() }),
//!         brigade::spawn(async move { rx2.recv().await.unwrap() }),
//!     ];
//!     assert_eq!(tx.send("hello").unwrap(), 2); // two receivers got it
//!     for l in listeners {
//!         assert_eq!(l.await.unwrap(), "hello");
//!     }
//! });
//! ```

mod error;
mod receiver;

use std::fmt;
use std::sync::Arc;
use std::task::Waker;

pub use self::error::{CapacityError, RecvError, SendError, TryRecvError};
pub use self::receiver::Receiver;
use super::waiters::WaitList;
use crate::loom::sync::{Mutex, MutexGuard};

/// Creates a broadcast channel that keeps the last `capacity` messages
/// (rounded up to a power of two, as tokio does) for receivers that have
/// not read them yet.
///
/// # Panics
/// If `capacity` is zero or above `usize::MAX / 2`, as tokio's does; use
/// [`try_channel`] to get an error instead.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = brigade::sync::broadcast::channel(4);
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    match try_channel(capacity) {
        Ok(pair) => pair,
        Err(e) => panic!("broadcast::channel: {e}"),
    }
}

/// Like [`channel`], with an error instead of a panic for a capacity of
/// zero or above `usize::MAX / 2` (tokio has no such function).
///
/// # Errors
///
/// [`CapacityError::Zero`] for a capacity of zero;
/// [`CapacityError::TooLarge`] for one above `usize::MAX / 2`.
///
/// # Examples
///
/// ```
/// use brigade::sync::broadcast::{self, CapacityError};
///
/// assert!(broadcast::try_channel::<u8>(3).is_ok());
/// assert_eq!(broadcast::try_channel::<u8>(0).err(), Some(CapacityError::Zero));
/// ```
pub fn try_channel<T: Clone>(capacity: usize) -> Result<(Sender<T>, Receiver<T>), CapacityError> {
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    if capacity > usize::MAX >> 1 {
        return Err(CapacityError::TooLarge(capacity));
    }
    let size = capacity.next_power_of_two();
    let slots = (0..size)
        .map(|_| Slot {
            remaining: 0,
            value: None,
        })
        .collect();
    let shared = Arc::new(Shared {
        ring: Mutex::new(Ring {
            slots,
            tail: 0,
            receivers: 1,
            senders: 1,
            queued: 0,
            waiters: WaitList::new(),
            wake_buffer: Vec::new(),
        }),
        mask: size - 1,
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    Ok((Sender { shared }, rx))
}

struct Shared<T> {
    ring: Mutex<Ring<T>>,
    /// `slots.len() - 1`: a position's slot is `pos & mask`.
    mask: usize,
}

struct Ring<T> {
    slots: Box<[Slot<T>]>,
    /// The position the next message gets; those before it are in
    /// `[tail - slots.len(), tail)` if still kept.
    tail: u64,
    receivers: usize,
    senders: usize,
    /// Slots that hold a message.
    queued: usize,
    /// Receivers waiting in `recv`; a send wakes them all.
    waiters: WaitList<()>,
    /// Kept between sends so that waking costs no allocation.
    wake_buffer: Vec<Waker>,
}

struct Slot<T> {
    /// Receivers that have yet to read this message.
    remaining: usize,
    value: Option<T>,
}

impl<T> Shared<T> {
    fn ring(&self) -> MutexGuard<'_, Ring<T>> {
        // Critical sections cannot panic halfway (a clone that panics
        // leaves the cursor where it was): a poisoned lock is fine.
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The oldest position a ring of `mask + 1` slots still keeps.
fn oldest<T>(ring: &Ring<T>, mask: usize) -> u64 {
    ring.tail.saturating_sub(mask as u64 + 1)
}

/// The sending half; clone it to send from several places. Sending never
/// waits.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = brigade::sync::broadcast::channel(8);
/// let tx2 = tx.clone();
/// tx.send('a').unwrap();
/// tx2.send('b').unwrap();
/// assert_eq!((rx.try_recv(), rx.try_recv()), (Ok('a'), Ok('b')));
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver and returns how many there
    /// are. Never waits: if the ring is full, the oldest message is
    /// overwritten (receivers that had not read it will see
    /// [`RecvError::Lagged`]). Fails, handing `value` back, when there is
    /// no receiver; the value is then not stored.
    ///
    /// # Errors
    ///
    /// [`SendError`], holding `value`, if no receiver exists right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::broadcast::channel(2);
    /// let _rx2 = rx.resubscribe();
    /// assert_eq!(tx.send(1).unwrap(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut ring = self.shared.ring();
        if ring.receivers == 0 {
            return Err(SendError(value));
        }
        let receivers = ring.receivers;
        let index = ring.tail as usize & self.shared.mask;
        let slot = &mut ring.slots[index];
        slot.remaining = receivers;
        let overwritten = slot.value.replace(value);
        if overwritten.is_none() {
            ring.queued += 1;
        }
        ring.tail += 1;
        if ring.waiters.is_empty() {
            drop(ring);
            drop(overwritten);
            return Ok(receivers);
        }
        let mut wake = std::mem::take(&mut ring.wake_buffer);
        while let Some(key) = ring.waiters.pop_front() {
            wake.extend(ring.waiters.take_waker(key));
        }
        drop(ring);
        // A message's destructor and the wakers run outside the lock.
        drop(overwritten);
        for waker in wake.drain(..) {
            waker.wake();
        }
        self.shared.ring().wake_buffer = wake;
        Ok(receivers)
    }

    /// A new receiver that will see the messages sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::subscribe_to(&self.shared)
    }

    /// How many receivers are alive.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::broadcast::channel::<()>(2);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.ring().receivers
    }

    /// How many messages are kept: sent, and not yet read by every
    /// receiver that was subscribed then, nor overwritten.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = brigade::sync::broadcast::channel(4);
    /// let mut rx2 = tx.subscribe();
    /// tx.send(1).unwrap();
    /// rx.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1); // rx2 has not read it
    /// rx2.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.shared.ring().queued
    }

    /// Whether no message is kept; see [`len`](Self::len).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::broadcast::channel::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = brigade::sync::broadcast::channel::<u8>(4);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.ring().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut ring = self.shared.ring();
        ring.senders -= 1;
        if ring.senders > 0 {
            return;
        }
        // Closed: the waiting receivers drain what is left, then see it.
        let mut wake = Vec::with_capacity(ring.waiters.len());
        while let Some(key) = ring.waiters.pop_front() {
            wake.extend(ring.waiters.take_waker(key));
        }
        drop(ring);
        wake.into_iter().for_each(Waker::wake);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    #[test]
    fn every_receiver_gets_each_message_once() {
        loom::model(|| {
            let (tx, mut rx1) = channel::<u32>(2);
            let mut rx2 = tx.subscribe();
            let t = loom::thread::spawn(move || {
                let got = (rx2.recv_blocking(), rx2.recv_blocking());
                assert_eq!(got, (Ok(1), Ok(2)));
            });
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            drop(tx);
            assert_eq!(rx1.recv_blocking(), Ok(1));
            assert_eq!(rx1.recv_blocking(), Ok(2));
            assert_eq!(rx1.recv_blocking(), Err(RecvError::Closed));
            t.join().unwrap();
        });
    }

    #[test]
    fn a_dropped_sender_wakes_a_waiting_receiver() {
        loom::model(|| {
            let (tx, mut rx) = channel::<u32>(1);
            let t = loom::thread::spawn(move || drop(tx));
            assert_eq!(rx.recv_blocking(), Err(RecvError::Closed));
            t.join().unwrap();
        });
    }

    #[test]
    fn a_lagging_receiver_accounts_for_every_message() {
        loom::model(|| {
            let (tx, mut rx) = channel::<u32>(1);
            let t = loom::thread::spawn(move || {
                tx.send(1).unwrap();
                tx.send(2).unwrap();
            });
            let mut accounted = 0;
            let mut last = 0;
            loop {
                match rx.recv_blocking() {
                    Ok(n) => {
                        assert!(n > last, "out of order");
                        last = n;
                        accounted += 1;
                    }
                    Err(RecvError::Lagged(k)) => accounted += k,
                    Err(RecvError::Closed) => break,
                }
            }
            assert_eq!((accounted, last), (2, 2));
            t.join().unwrap();
        });
    }
}
