//! The broadcast channel: every receiver gets every message, a full ring
//! overwrites the oldest and tells laggards how much they missed, slots are
//! freed once read, close, cancellation at its await point (`recv`) and
//! use across threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brigade::sync::broadcast::{self, CapacityError, RecvError, SendError, TryRecvError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn halves_are_send_and_sync() {
    assert_send_sync::<broadcast::Sender<String>>();
    assert_send_sync::<broadcast::Receiver<String>>();
}

#[brigade::test(virtual)]
async fn every_receiver_gets_every_message_in_order() {
    let (tx, rx) = broadcast::channel(16);
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let mut rx = rx.resubscribe();
            brigade::spawn(async move {
                let mut got = Vec::new();
                while let Ok(n) = rx.recv().await {
                    got.push(n);
                }
                got
            })
        })
        .collect();
    drop(rx);
    settle().await;
    for n in 0..40 {
        assert_eq!(tx.send(n).unwrap(), 5);
        if n % 8 == 7 {
            settle().await; // let them catch up: nobody lags
        }
    }
    drop(tx);
    for t in tasks {
        assert_eq!(within(t).await.unwrap(), (0..40).collect::<Vec<_>>());
    }
}

#[test]
fn a_lagging_receiver_learns_how_much_it_missed_and_goes_on_from_the_oldest() {
    let (tx, mut rx) = broadcast::channel(4);
    for n in 0..10 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.len(), 10);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
    assert_eq!(rx.len(), 4);
    for n in 6..10 {
        assert_eq!(rx.try_recv(), Ok(n));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    brigade::run(async move {
        for n in 10..15 {
            tx.send(n).unwrap();
        }
        assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
        assert_eq!(rx.recv().await, Ok(11));
    });
}

#[test]
fn capacity_rounds_up_to_a_power_of_two_as_tokio() {
    let (tx, mut rx) = broadcast::channel(3);
    for n in 0..4 {
        tx.send(n).unwrap();
    }
    assert_eq!(tx.len(), 4, "four slots, nothing lost yet");
    tx.send(4).unwrap();
    tx.send(5).unwrap();
    // Three slots would have lost three messages.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn an_impossible_capacity_is_an_error_or_a_documented_panic() {
    assert_eq!(
        broadcast::try_channel::<u8>(0).err(),
        Some(CapacityError::Zero)
    );
    assert_eq!(
        broadcast::try_channel::<u8>(usize::MAX).err(),
        Some(CapacityError::TooLarge(usize::MAX))
    );
    let panicked = std::panic::catch_unwind(|| broadcast::channel::<u8>(0));
    assert!(panicked.is_err());
}

#[test]
fn send_without_receivers_hands_the_value_back_and_stores_nothing() {
    let (tx, rx) = broadcast::channel(2);
    drop(rx);
    assert_eq!(tx.send("x"), Err(SendError("x")));
    assert_eq!(tx.len(), 0);
    let mut rx = tx.subscribe();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send("y").unwrap();
    assert_eq!(rx.try_recv(), Ok("y"));
}

/// Counts live instances, to see when the channel frees a message.
#[derive(Debug)]
struct Tracked(Arc<AtomicUsize>);

impl Clone for Tracked {
    fn clone(&self) -> Tracked {
        self.0.fetch_add(1, Ordering::SeqCst);
        Tracked(self.0.clone())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn a_slot_is_freed_once_every_receiver_read_it_or_left() {
    let live = Arc::new(AtomicUsize::new(0));
    let (tx, mut a) = broadcast::channel(8);
    let mut b = tx.subscribe();
    let c = tx.subscribe();
    live.fetch_add(1, Ordering::SeqCst);
    tx.send(Tracked(live.clone())).unwrap();
    assert_eq!(tx.len(), 1);
    let got_a = a.try_recv().unwrap();
    assert_eq!(live.load(Ordering::SeqCst), 2, "one in the ring, one clone");
    drop(c); // gives up its share
    let got_b = b.try_recv().unwrap(); // the last reader moves it out
    assert_eq!(live.load(Ordering::SeqCst), 2);
    assert_eq!(tx.len(), 0);
    drop((got_a, got_b));
    assert_eq!(live.load(Ordering::SeqCst), 0);
    // Unread messages go with the last receiver that owed them a read.
    live.fetch_add(2, Ordering::SeqCst);
    tx.send(Tracked(live.clone())).unwrap();
    tx.send(Tracked(live.clone())).unwrap();
    drop((a, b));
    assert_eq!(live.load(Ordering::SeqCst), 0);
    assert!(tx.is_empty());
}

#[test]
fn overwriting_frees_the_oldest_message() {
    let live = Arc::new(AtomicUsize::new(0));
    let (tx, _rx) = broadcast::channel(2);
    for _ in 0..5 {
        live.fetch_add(1, Ordering::SeqCst);
        tx.send(Tracked(live.clone())).unwrap();
    }
    assert_eq!(live.load(Ordering::SeqCst), 2);
    assert_eq!(tx.len(), 2);
}

#[brigade::test(virtual)]
async fn receivers_drain_then_see_closed_once_every_sender_is_gone() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    let waiter = brigade::spawn({
        let mut rx = tx.subscribe();
        async move { rx.recv().await }
    });
    settle().await;
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(within(waiter).await.unwrap(), Ok(1));
    let parked = brigade::spawn({
        let mut rx = tx2.subscribe();
        async move { rx.recv().await }
    });
    settle().await;
    drop(tx2);
    assert_eq!(within(parked).await.unwrap(), Err(RecvError::Closed));
    assert_eq!(rx.recv().await, Ok(1));
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[brigade::test(virtual)]
async fn a_cancelled_recv_loses_no_message() {
    let (tx, mut rx) = broadcast::channel(4);
    assert!(timeout(Duration::from_millis(1), rx.recv()).await.is_err());
    // Cancelled after the send woke it but before it ran.
    let task = brigade::spawn({
        let mut rx = tx.subscribe();
        async move {
            let first = rx.recv().await;
            (first, rx)
        }
    });
    settle().await;
    tx.send(7).unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(within(rx.recv()).await, Ok(7));
    // The cancelled receiver's share was released with it.
    assert!(tx.is_empty());
    assert_eq!(tx.receiver_count(), 1);
}

#[brigade::test(virtual)]
async fn a_slow_receiver_in_a_task_reports_its_lag() {
    let (tx, mut rx) = broadcast::channel(2);
    let slow = brigade::spawn(async move {
        let mut log = Vec::new();
        loop {
            match rx.recv().await {
                Ok(n) => log.push(format!("{n}")),
                Err(RecvError::Lagged(k)) => log.push(format!("lag {k}")),
                Err(RecvError::Closed) => return log,
            }
            sleep(Duration::from_millis(10)).await;
        }
    });
    settle().await;
    tx.send(0).unwrap();
    brigade::yield_now().await; // it takes 0, then dawdles
    for n in 1..6 {
        tx.send(n).unwrap();
    }
    drop(tx);
    assert_eq!(within(slow).await.unwrap(), ["0", "lag 3", "4", "5"]);
}

#[test]
fn a_sender_thread_feeds_receivers_on_other_loops_and_threads() {
    let (tx, rx) = broadcast::channel::<u64>(64);
    // Each loop receiver returns the sum of what it got plus the count of
    // what it missed; the blocking one counts both.
    let wanted = 5000;
    let mut handles: Vec<std::thread::JoinHandle<u64>> = (0..2)
        .map(|_| {
            let mut rx = rx.resubscribe();
            std::thread::spawn(move || {
                brigade::run(async move {
                    let (mut sum, mut lost) = (0, 0);
                    loop {
                        match rx.recv().await {
                            Ok(n) => sum += n,
                            Err(RecvError::Lagged(k)) => lost += k,
                            Err(RecvError::Closed) => return sum + lost,
                        }
                    }
                })
            })
        })
        .collect();
    // A blocking receiver on a plain thread counts messages, lag included.
    let mut blocking = rx;
    handles.push(std::thread::spawn(move || {
        let mut seen = 0;
        loop {
            match blocking.recv_blocking() {
                Ok(_) => seen += 1,
                Err(RecvError::Lagged(k)) => seen += k,
                Err(RecvError::Closed) => return seen,
            }
        }
    }));
    for n in 0..wanted {
        tx.send(n).unwrap();
        if n % 32 == 0 {
            std::thread::yield_now();
        }
    }
    drop(tx);
    let counted = handles.pop().unwrap().join().unwrap();
    assert_eq!(
        counted, wanted,
        "every message was received or reported lost"
    );
    for h in handles {
        let total = h.join().unwrap();
        assert!(total > 0 && total <= (0..wanted).sum::<u64>() + wanted);
    }
}

#[test]
fn a_message_is_queued_until_every_receiver_has_read_it() {
    // tokio's `Sender::len`: a value stays queued until every receiver that
    // was alive when it was sent has read it, or it was overwritten.
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    for n in 1..=3 {
        tx.send(n).unwrap();
    }
    assert_eq!(tx.len(), 3);
    assert_eq!(rx1.try_recv(), Ok(1));
    assert_eq!(rx1.try_recv(), Ok(2));
    assert_eq!(tx.len(), 3, "rx2 has read none of them");
    assert_eq!(rx2.try_recv(), Ok(1));
    assert_eq!(tx.len(), 2, "only 1 has been read by both");
    assert_eq!(rx2.len(), 2);
}

#[test]
fn a_receiver_that_has_read_part_of_the_ring_lags_when_the_rest_is_overwritten() {
    let (tx, mut rx) = broadcast::channel(4);
    for n in 0..4 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(0));
    // Four more overwrite 1, 2 and 3, which this receiver had not read yet.
    for n in 4..8 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    let got: Vec<_> = (0..4).map(|_| rx.try_recv().unwrap()).collect();
    assert_eq!(got, [4, 5, 6, 7]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}
