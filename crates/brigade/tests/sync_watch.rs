//! The watch channel: the latest value and a version per receiver, close in
//! both directions, cancellation at its await points (`changed`,
//! `wait_for`, `closed`) and use across threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brigade::sync::watch::{self, RecvError, SendError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn halves_are_send_and_sync() {
    assert_send_sync::<watch::Sender<String>>();
    assert_send_sync::<watch::Receiver<String>>();
}

#[brigade::test(virtual)]
async fn a_slow_receiver_sees_one_change_and_the_newest_value() {
    let (tx, mut rx) = watch::channel(0);
    assert!(!rx.has_changed().unwrap());
    for n in 1..=10 {
        tx.send(n).unwrap();
    }
    assert!(rx.has_changed().unwrap());
    within(rx.changed()).await.unwrap();
    assert_eq!(*rx.borrow(), 10);
    assert!(!rx.has_changed().unwrap());
    assert!(
        timeout(Duration::from_millis(5), rx.changed())
            .await
            .is_err()
    );
}

#[brigade::test(virtual)]
async fn every_waiting_receiver_is_woken_by_a_send() {
    let (tx, rx) = watch::channel(0);
    let seen = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (mut rx, seen) = (rx.clone(), seen.clone());
            brigade::spawn(async move {
                rx.changed().await.unwrap();
                seen.fetch_add(*rx.borrow_and_update(), Ordering::SeqCst);
            })
        })
        .collect();
    settle().await;
    assert_eq!(tx.receiver_count(), 6);
    tx.send(3).unwrap();
    for t in tasks {
        within(t).await.unwrap();
    }
    assert_eq!(seen.load(Ordering::SeqCst), 15);
}

#[brigade::test(virtual)]
async fn borrow_does_not_mark_seen_but_borrow_and_update_does() {
    let (tx, mut rx) = watch::channel("a");
    tx.send("b").unwrap();
    {
        let r = rx.borrow();
        assert!(r.has_changed());
        assert_eq!(*r, "b");
    }
    assert!(rx.has_changed().unwrap());
    {
        let r = rx.borrow_and_update();
        assert!(r.has_changed());
    }
    assert!(!rx.borrow().has_changed());
    assert!(!tx.borrow().has_changed());
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    within(rx.changed()).await.unwrap();
    tx.send("c").unwrap();
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    assert_eq!(*rx.borrow(), "c");
}

#[brigade::test(virtual)]
async fn clones_and_subscribers_start_from_what_they_inherit() {
    let (tx, rx) = watch::channel(1);
    tx.send(2).unwrap();
    let clone = rx.clone();
    assert!(
        clone.has_changed().unwrap(),
        "a clone inherits the unseen change"
    );
    let sub = tx.subscribe();
    assert!(
        !sub.has_changed().unwrap(),
        "a subscriber has seen the value"
    );
    assert!(sub.same_channel(&rx));
    assert_eq!(tx.receiver_count(), 3);
}

#[brigade::test(virtual)]
async fn send_fails_without_receivers_and_send_replace_does_not() {
    let (tx, rx) = watch::channel(String::from("a"));
    drop(rx);
    assert!(tx.is_closed());
    let err = tx.send(String::from("b")).unwrap_err();
    assert_eq!(err, SendError(String::from("b")));
    assert_eq!(*tx.borrow(), "a", "a failed send stores nothing");
    assert_eq!(tx.send_replace(String::from("c")), "a");
    tx.send_modify(|s| s.push('!'));
    let rx = tx.subscribe();
    assert_eq!(*rx.borrow(), "c!");
}

#[brigade::test(virtual)]
async fn send_if_modified_notifies_only_on_change() {
    let (tx, mut rx) = watch::channel(0);
    assert!(!tx.send_if_modified(|_| false));
    assert!(
        timeout(Duration::from_millis(5), rx.changed())
            .await
            .is_err()
    );
    assert!(tx.send_if_modified(|n| {
        *n = 4;
        true
    }));
    within(rx.changed()).await.unwrap();
}

#[brigade::test(virtual)]
async fn dropping_the_sender_wakes_waiters_after_the_last_change() {
    let (tx, mut rx) = watch::channel(0);
    let waiter = brigade::spawn({
        let mut rx = rx.clone();
        async move { rx.changed().await }
    });
    settle().await;
    tx.send(1).unwrap();
    drop(tx);
    // The unseen change is reported before the close.
    assert_eq!(rx.has_changed(), Err(RecvError));
    assert_eq!(rx.changed().await, Ok(()));
    assert_eq!(rx.changed().await, Err(RecvError));
    assert_eq!(within(waiter).await.unwrap(), Ok(()));
    assert_eq!(*rx.borrow(), 1);
}

#[brigade::test(virtual)]
async fn closed_waits_for_the_last_receiver() {
    let (tx, rx) = watch::channel(());
    let rx2 = rx.clone();
    let closer = brigade::spawn(async move {
        sleep(Duration::from_millis(5)).await;
        drop(rx);
        sleep(Duration::from_millis(5)).await;
        drop(rx2);
    });
    // Cancelled once, it leaves nothing behind.
    assert!(
        timeout(Duration::from_millis(7), tx.closed())
            .await
            .is_err()
    );
    assert!(!tx.is_closed());
    within(tx.closed()).await;
    assert!(tx.is_closed());
    closer.await.unwrap();
}

#[brigade::test(virtual)]
async fn wait_for_checks_the_current_value_first_then_each_change() {
    let (tx, mut rx) = watch::channel(5);
    assert_eq!(*rx.wait_for(|n| *n == 5).await.unwrap(), 5);
    let sender = brigade::spawn(async move {
        for n in 6..10 {
            sleep(Duration::from_millis(1)).await;
            tx.send(n).unwrap();
        }
    });
    assert_eq!(*within(rx.wait_for(|n| *n == 8)).await.unwrap(), 8);
    // The sender finishes and goes away: no value will ever match.
    assert_eq!(
        within(rx.wait_for(|n| *n == 100)).await.err(),
        Some(RecvError)
    );
    sender.await.unwrap();
}

#[brigade::test(virtual)]
async fn cancelled_waits_lose_no_change() {
    let (tx, mut rx) = watch::channel(0);
    // Cancel `changed` while parked, then again after the change arrived
    // but before it ran: the change is still unseen.
    assert!(
        timeout(Duration::from_millis(1), rx.changed())
            .await
            .is_err()
    );
    let task = brigade::spawn({
        let mut rx = rx.clone();
        async move { rx.changed().await }
    });
    settle().await;
    tx.send(1).unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(
        timeout(Duration::from_millis(1), rx.wait_for(|n| *n == 9))
            .await
            .is_err()
    );
    // `wait_for` marked 1 seen while checking; a new send still wakes us.
    tx.send(2).unwrap();
    within(rx.changed()).await.unwrap();
    assert_eq!(*rx.borrow(), 2);
}

#[test]
fn a_sender_thread_and_receivers_on_other_loops() {
    let (tx, rx) = watch::channel(0u32);
    let receivers: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = rx.clone();
            std::thread::spawn(move || {
                brigade::run(async move {
                    let mut last = 0;
                    while rx.changed().await.is_ok() {
                        let now = *rx.borrow_and_update();
                        assert!(now > last, "versions went backwards");
                        last = now;
                    }
                    last
                })
            })
        })
        .collect();
    drop(rx);
    for n in 1..=1000 {
        tx.send(n).unwrap();
    }
    drop(tx);
    for r in receivers {
        assert_eq!(r.join().unwrap(), 1000);
    }
}
