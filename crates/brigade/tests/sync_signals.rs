//! Event, Notify, Condition and Barrier: their semantics, and cancellation
//! at each one's await point.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use brigade::sync::{Barrier, Condition, Event, Mutex, Notify};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

// ---- Event ----

#[brigade::test(virtual)]
async fn event_releases_every_waiter_and_later_waits_pass() {
    let event = Arc::new(Event::new());
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let event = event.clone();
            brigade::spawn(async move { event.wait().await })
        })
        .collect();
    settle().await;
    assert!(waiters.iter().all(|w| !w.is_finished()));
    event.set();
    for w in waiters {
        within(w).await.unwrap();
    }
    assert!(event.is_set());
    event.wait().await; // set: returns at once
    event.clear();
    assert!(
        timeout(Duration::from_millis(5), event.wait())
            .await
            .is_err()
    );
}

#[brigade::test(virtual)]
async fn event_set_then_clear_still_releases_the_waiters_of_the_set() {
    let event = Arc::new(Event::new());
    let waiter = brigade::spawn({
        let event = event.clone();
        async move { event.wait().await }
    });
    settle().await;
    event.set();
    event.clear();
    within(waiter).await.unwrap();
    assert!(!event.is_set());
}

#[brigade::test(virtual)]
async fn a_cancelled_event_wait_leaves_the_others_waiting() {
    let event = Arc::new(Event::new());
    let spawn_waiter = || {
        let event = event.clone();
        brigade::spawn(async move { event.wait().await })
    };
    let (a, b) = (spawn_waiter(), spawn_waiter());
    settle().await;
    a.abort();
    assert!(a.await.unwrap_err().is_cancelled());
    assert!(
        timeout(Duration::from_millis(5), event.wait())
            .await
            .is_err()
    );
    event.set();
    within(b).await.unwrap();
}

// ---- Notify ----

#[brigade::test(virtual)]
async fn notify_one_stores_a_single_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    within(notify.notified()).await;
    // Only one permit was stored.
    assert!(
        timeout(Duration::from_millis(5), notify.notified())
            .await
            .is_err()
    );
}

#[brigade::test(virtual)]
async fn notify_one_wakes_waiters_one_at_a_time_in_order() {
    let notify = Arc::new(Notify::new());
    let log = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let (notify, log) = (notify.clone(), log.clone());
            brigade::spawn(async move {
                sleep(Duration::from_millis(i)).await;
                notify.notified().await;
                log.borrow_mut().push(i);
            })
        })
        .collect();
    sleep(Duration::from_millis(10)).await;
    for expected in 1..=3 {
        notify.notify_one();
        settle().await;
        assert_eq!(log.borrow().len(), expected);
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*log.borrow(), [0, 1, 2]);
}

#[brigade::test(virtual)]
async fn notify_waiters_wakes_all_and_stores_nothing() {
    let notify = Arc::new(Notify::new());
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let notify = notify.clone();
            brigade::spawn(async move { notify.notified().await })
        })
        .collect();
    settle().await;
    notify.notify_waiters();
    for t in tasks {
        within(t).await.unwrap();
    }
    assert!(
        timeout(Duration::from_millis(5), notify.notified())
            .await
            .is_err()
    );
}

#[brigade::test(virtual)]
async fn a_notified_future_catches_broadcasts_made_after_its_creation() {
    let notify = Notify::new();
    let notified = notify.notified();
    notify.notify_all();
    within(notified).await;
}

#[brigade::test(virtual)]
async fn a_notification_given_to_a_cancelled_waiter_is_passed_on() {
    let notify = Arc::new(Notify::new());
    let spawn_waiter = || {
        let notify = notify.clone();
        brigade::spawn(async move { notify.notified().await })
    };
    let first = spawn_waiter();
    settle().await;
    let second = spawn_waiter();
    settle().await;
    notify.notify_one(); // picks `first`...
    first.abort(); // ...which is cancelled before it sees it
    assert!(first.await.unwrap_err().is_cancelled());
    within(second).await.unwrap();
}

#[brigade::test(virtual)]
async fn a_notification_given_to_a_lone_cancelled_waiter_becomes_the_permit() {
    let notify = Arc::new(Notify::new());
    let first = brigade::spawn({
        let notify = notify.clone();
        async move { notify.notified().await }
    });
    settle().await;
    notify.notify_one();
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    within(notify.notified()).await;
}

// ---- Condition ----

#[brigade::test(virtual)]
async fn condition_notify_n_wakes_that_many_waiters() {
    let pair = Arc::new((Mutex::new(0), Condition::new()));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let pair = pair.clone();
            brigade::spawn(async move {
                let (lock, cond) = &*pair;
                let mut n = cond.wait(lock.lock().await).await;
                *n += 1;
            })
        })
        .collect();
    settle().await;
    assert_eq!(pair.1.waiters_count(), 3);
    assert_eq!(pair.1.notify(2), 2);
    settle().await;
    assert_eq!(*pair.0.lock().await, 2);
    assert_eq!(pair.1.notify_all(), 1);
    for t in tasks {
        within(t).await.unwrap();
    }
    assert_eq!(*pair.0.lock().await, 3);
    assert_eq!(pair.1.notify(1), 0);
}

#[brigade::test(virtual)]
async fn condition_wait_for_rechecks_the_predicate() {
    let pair = Arc::new((Mutex::new(0u32), Condition::new()));
    let waiter = brigade::spawn({
        let pair = pair.clone();
        async move {
            let (lock, cond) = &*pair;
            *cond.wait_for(lock.lock().await, |n| *n >= 3).await
        }
    });
    for _ in 0..5 {
        settle().await;
        *pair.0.lock().await += 1;
        pair.1.notify_all();
    }
    assert_eq!(within(waiter).await.unwrap(), 3);
}

#[brigade::test(virtual)]
async fn a_condition_wait_releases_the_lock_while_waiting() {
    let pair = Arc::new((Mutex::new(()), Condition::new()));
    let waiter = brigade::spawn({
        let pair = pair.clone();
        async move {
            let (lock, cond) = &*pair;
            let _g = cond.wait(lock.lock().await).await;
        }
    });
    settle().await;
    assert!(!pair.0.is_locked());
    let guard = pair.0.lock().await;
    pair.1.notify(1);
    settle().await;
    // Notified, but the lock is ours: the waiter queues for it.
    assert!(!waiter.is_finished());
    drop(guard);
    within(waiter).await.unwrap();
}

#[brigade::test(virtual)]
async fn a_condition_notification_given_to_a_cancelled_waiter_is_passed_on() {
    let pair = Arc::new((Mutex::new(()), Condition::new()));
    let spawn_waiter = || {
        let pair = pair.clone();
        brigade::spawn(async move {
            let (lock, cond) = &*pair;
            let _g = cond.wait(lock.lock().await).await;
        })
    };
    let first = spawn_waiter();
    settle().await;
    let second = spawn_waiter();
    settle().await;
    assert_eq!(pair.1.notify(1), 1);
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    within(second).await.unwrap();
    assert!(!pair.0.is_locked());
}

#[brigade::test(virtual)]
async fn a_condition_waiter_cancelled_while_retaking_the_lock_does_not_leak_it() {
    let pair = Arc::new((Mutex::new(()), Condition::new()));
    let waiter = brigade::spawn({
        let pair = pair.clone();
        async move {
            let (lock, cond) = &*pair;
            let _g = cond.wait(lock.lock().await).await;
        }
    });
    settle().await;
    let guard = pair.0.lock().await;
    pair.1.notify(1);
    settle().await; // the waiter now queues for the lock
    drop(guard); // handed to the waiter...
    waiter.abort(); // ...which is cancelled first
    let _ = waiter.await;
    assert!(!pair.0.is_locked());
}

/// Where a `Condition::wait` is cancelled, for the test below.
#[derive(Clone, Copy, Debug)]
enum WaitStage {
    /// Still waiting: no notification has reached it.
    Waiting,
    /// Notified, but not yet polled since.
    Notified,
    /// Notified and queued for the lock, which somebody else holds.
    QueuedForLock,
    /// Notified, and the lock was handed to it before it ran.
    HandedTheLock,
}

#[brigade::test(virtual)]
async fn a_condition_wait_cancelled_at_every_await_point_loses_no_notification() {
    use WaitStage::*;
    for stage in [Waiting, Notified, QueuedForLock, HandedTheLock] {
        let pair = Arc::new((Mutex::new(0u32), Condition::new()));
        let spawn_waiter = || {
            let pair = pair.clone();
            brigade::spawn(async move {
                let (lock, cond) = &*pair;
                let mut n = cond.wait(lock.lock().await).await;
                *n += 1;
            })
        };
        let first = spawn_waiter();
        settle().await;
        let second = spawn_waiter();
        settle().await;
        assert_eq!(pair.1.waiters_count(), 2, "{stage:?}");
        let guard = pair.0.lock().await;
        match stage {
            Waiting => {
                first.abort();
                assert!(first.await.unwrap_err().is_cancelled(), "{stage:?}");
                assert_eq!(pair.1.waiters_count(), 1, "{stage:?}");
                assert_eq!(pair.1.notify(1), 1, "{stage:?}");
                drop(guard);
            }
            Notified => {
                assert_eq!(pair.1.notify(1), 1, "{stage:?}");
                first.abort();
                assert!(first.await.unwrap_err().is_cancelled(), "{stage:?}");
                drop(guard);
            }
            QueuedForLock => {
                assert_eq!(pair.1.notify(1), 1, "{stage:?}");
                settle().await; // the first waiter now queues for the lock
                assert_eq!(pair.1.waiters_count(), 1, "{stage:?}");
                first.abort();
                assert!(first.await.unwrap_err().is_cancelled(), "{stage:?}");
                drop(guard);
            }
            HandedTheLock => {
                assert_eq!(pair.1.notify(1), 1, "{stage:?}");
                settle().await;
                drop(guard); // handed to the first waiter...
                first.abort(); // ...which is cancelled before it runs
                assert!(first.await.unwrap_err().is_cancelled(), "{stage:?}");
            }
        }
        // The one notification reached the second waiter all the same.
        within(second).await.unwrap();
        assert_eq!(pair.1.waiters_count(), 0, "{stage:?}");
        assert!(!pair.0.is_locked(), "{stage:?}");
        assert_eq!(*pair.0.lock().await, 1, "{stage:?}");
    }
}

#[brigade::test(virtual)]
async fn a_condition_wait_that_retook_the_lock_passes_nothing_on() {
    let pair = Arc::new((Mutex::new(()), Condition::new()));
    let spawn_waiter = || {
        let pair = pair.clone();
        brigade::spawn(async move {
            let (lock, cond) = &*pair;
            drop(cond.wait(lock.lock().await).await);
        })
    };
    let first = spawn_waiter();
    settle().await;
    let second = spawn_waiter();
    settle().await;
    assert_eq!(pair.1.notify(1), 1);
    within(first).await.unwrap();
    settle().await;
    // The notification was used: the second waiter still waits.
    assert!(!second.is_finished());
    assert_eq!(pair.1.waiters_count(), 1);
    assert_eq!(pair.1.notify(1), 1);
    within(second).await.unwrap();
}

// ---- Barrier ----

#[brigade::test(virtual)]
async fn barrier_releases_a_generation_together_with_one_leader() {
    let barrier = Arc::new(Barrier::new(3));
    let passed = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..6u64)
        .map(|i| {
            let (barrier, passed) = (barrier.clone(), passed.clone());
            brigade::spawn(async move {
                sleep(Duration::from_millis(i * 10)).await;
                let r = barrier.wait().await.unwrap();
                passed.borrow_mut().push((i, r.generation()));
                r.is_leader()
            })
        })
        .collect();
    sleep(Duration::from_millis(15)).await;
    assert!(passed.borrow().is_empty());
    assert_eq!(barrier.n_waiting(), 2);
    let mut leaders = 0;
    for t in tasks {
        leaders += within(t).await.unwrap() as usize;
    }
    assert_eq!(leaders, 2);
    let mut seen = passed.borrow().clone();
    seen.sort();
    assert_eq!(seen, [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]);
}

#[brigade::test(virtual)]
async fn a_cancelled_barrier_wait_gives_its_place_back() {
    let barrier = Arc::new(Barrier::new(2));
    let quitter = brigade::spawn({
        let barrier = barrier.clone();
        async move { barrier.wait().await }
    });
    settle().await;
    assert_eq!(barrier.n_waiting(), 1);
    quitter.abort();
    let _ = quitter.await;
    assert_eq!(barrier.n_waiting(), 0);
    // Had the quitter still counted, this one would pass alone.
    assert!(
        timeout(Duration::from_millis(5), barrier.wait())
            .await
            .is_err()
    );
    let other = brigade::spawn({
        let barrier = barrier.clone();
        async move { barrier.wait().await.unwrap().is_leader() }
    });
    let me = within(barrier.wait()).await.unwrap();
    assert!(me.is_leader() ^ within(other).await.unwrap());
}

#[brigade::test(virtual)]
async fn a_barrier_of_one_never_waits() {
    let barrier = Barrier::new(0);
    assert_eq!(barrier.parties(), 1);
    assert!(barrier.wait().await.unwrap().is_leader());
    assert!(barrier.wait().await.unwrap().is_leader());
}
