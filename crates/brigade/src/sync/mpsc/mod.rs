//! Multi-producer, single-consumer channels, between tasks on one loop,
//! tasks on different loops, and plain threads.
//!
//! Two flavors, as in crossbeam-channel:
//! - [`channel(n)`](channel): bounded; `send` waits while `n` messages are
//!   queued (back-pressure). `channel(0)` is a rendezvous.
//! - [`unbounded()`](unbounded): `send` never waits.
//!
//! Both give a cloneable [`Sender`] (`sender.rs`) and one [`Receiver`]
//! (`receiver.rs`). Each side works
//! from a task (`send(v).await`, `recv().await`, or the receiver as a
//! [`Stream`](futures_core::Stream)) and from a plain thread (`send_blocking`, `recv_blocking`,
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
mod receiver;
mod sender;
mod timeout;
mod weak;

use self::chan::Chan;
pub use self::error::{RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use self::permit::{OwnedPermit, Permit, Reserve};
pub use self::receiver::{Receiver, Recv, RecvMany};
pub use self::sender::{Closed, SendFuture, Sender};
pub use self::weak::WeakSender;
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
