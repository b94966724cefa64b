//! The Semaphore: FIFO fairness (a big request is not starved), permits
//! conserved through cancellation at its one await point, and close.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use brigade::sync::{AcquireError, Semaphore, TryAcquireError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

#[brigade::test(virtual)]
async fn waiters_are_served_in_arrival_order() {
    let sem = Arc::new(Semaphore::new(0));
    let order = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (sem, order) = (sem.clone(), order.clone());
            brigade::spawn(async move {
                sleep(Duration::from_millis(i)).await;
                let _p = sem.acquire().await.unwrap();
                order.borrow_mut().push(i);
                sleep(Duration::from_millis(1)).await;
            })
        })
        .collect();
    sleep(Duration::from_millis(10)).await;
    sem.add_permits(1);
    for t in tasks {
        within(t).await.unwrap();
    }
    assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    assert_eq!(sem.available_permits(), 1);
}

#[brigade::test(virtual)]
async fn a_big_request_at_the_head_is_not_starved_by_small_ones() {
    let sem = Arc::new(Semaphore::new(2));
    let held = sem.acquire_many(2).await.unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let big = brigade::spawn({
        let (sem, log) = (sem.clone(), log.clone());
        async move {
            let p = sem.acquire_many(3).await.unwrap();
            log.borrow_mut().push("big");
            p.forget();
        }
    });
    settle().await;
    let small = brigade::spawn({
        let (sem, log) = (sem.clone(), log.clone());
        async move {
            let _p = sem.acquire().await.unwrap();
            log.borrow_mut().push("small");
        }
    });
    settle().await;
    // Two permits come back: enough for `small`, not for `big`. FIFO
    // keeps them for `big`, and a newcomer's try_acquire fails too.
    drop(held);
    settle().await;
    assert!(log.borrow().is_empty());
    assert_eq!(sem.available_permits(), 2);
    assert_eq!(sem.try_acquire().err(), Some(TryAcquireError::NoPermits));
    sem.add_permits(2);
    within(big).await.unwrap();
    within(small).await.unwrap();
    assert_eq!(*log.borrow(), ["big", "small"]);
    assert_eq!(sem.available_permits(), 1);
}

#[brigade::test(virtual)]
async fn a_cancelled_head_lets_the_next_waiters_through() {
    let sem = Arc::new(Semaphore::new(1));
    let big = brigade::spawn({
        let sem = sem.clone();
        async move { sem.acquire_many(5).await.map(|p| p.forget()) }
    });
    settle().await;
    let small = brigade::spawn({
        let sem = sem.clone();
        async move { sem.acquire().await.map(|p| p.forget()) }
    });
    settle().await;
    assert!(!small.is_finished());
    big.abort();
    assert!(big.await.unwrap_err().is_cancelled());
    within(small).await.unwrap().unwrap();
    assert_eq!(sem.available_permits(), 0);
}

#[brigade::test(virtual)]
async fn a_timed_out_acquire_takes_no_permit() {
    let sem = Semaphore::new(1);
    let held = sem.acquire().await.unwrap();
    assert!(
        timeout(Duration::from_millis(5), sem.acquire())
            .await
            .is_err()
    );
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.acquire_many(1).await.unwrap().num_permits(), 1);
}

#[brigade::test(virtual)]
async fn permits_handed_to_a_cancelled_waiter_are_returned() {
    let sem = Arc::new(Semaphore::new(0));
    let spawn_acquirer = |n: usize| {
        let sem = sem.clone();
        brigade::spawn(async move { sem.acquire_many(n).await.map(|p| p.forget()) })
    };
    let first = spawn_acquirer(2);
    settle().await;
    let second = spawn_acquirer(3);
    settle().await;
    sem.add_permits(2); // moved into `first`'s node and `first` woken...
    first.abort(); // ...but it is cancelled before it runs
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(sem.available_permits(), 2);
    sem.add_permits(1);
    within(second).await.unwrap().unwrap();
    assert_eq!(sem.available_permits(), 0);
}

#[brigade::test(virtual)]
async fn permits_are_conserved_under_random_cancellation() {
    const TOTAL: usize = 4;
    let sem = Arc::new(Semaphore::new(TOTAL));
    let tasks: Vec<_> = (0..40u64)
        .map(|i| {
            let sem = sem.clone();
            brigade::spawn(async move {
                let want = (i % 3 + 1) as usize;
                // Deterministic mix of waits that time out and that succeed.
                let patience = Duration::from_millis(i * 7 % 5);
                if let Ok(Ok(_p)) = timeout(patience, sem.acquire_many(want)).await {
                    sleep(Duration::from_millis(i % 4 + 1)).await;
                }
            })
        })
        .collect();
    // Abort some of them at various points too: before they start,
    // while they wait, while they hold permits.
    for (i, t) in tasks.iter().enumerate().step_by(3) {
        let handle = t.abort_handle();
        brigade::spawn(async move {
            sleep(Duration::from_millis(i as u64 % 6)).await;
            handle.abort();
        });
    }
    for t in tasks {
        let _ = within(t).await;
    }
    assert_eq!(sem.available_permits(), TOTAL);
    assert_eq!(sem.acquire_many(TOTAL).await.unwrap().num_permits(), TOTAL);
}

#[brigade::test(virtual)]
async fn close_fails_waiting_and_later_acquires_but_keeps_held_permits() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.acquire().await.unwrap();
    let waiter = brigade::spawn({
        let sem = sem.clone();
        async move { sem.acquire().await.map(|p| p.forget()) }
    });
    settle().await;
    sem.close();
    assert!(sem.is_closed());
    assert_eq!(within(waiter).await.unwrap(), Err(AcquireError::Closed));
    assert_eq!(sem.acquire().await.err(), Some(AcquireError::Closed));
    assert_eq!(sem.try_acquire().err(), Some(TryAcquireError::Closed));
    drop(held);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn try_acquire_and_forget() {
    let sem = Semaphore::new(3);
    let two = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(
        sem.try_acquire_many(2).err(),
        Some(TryAcquireError::NoPermits)
    );
    two.forget();
    assert_eq!(sem.available_permits(), 1);
    drop(sem.try_acquire().unwrap());
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.try_acquire_many(0).unwrap().num_permits(), 0);
}

#[brigade::test(virtual)]
async fn owned_permits_bound_how_many_spawned_tasks_run_at_once() {
    let sem = Arc::new(Semaphore::new(2));
    let running = Rc::new(RefCell::new((0, 0))); // (now, peak)
    let mut tasks = Vec::new();
    for i in 0..6 {
        let permit = sem.clone().acquire_owned().await.unwrap();
        assert_eq!(permit.num_permits(), 1);
        let running = running.clone();
        tasks.push(brigade::spawn(async move {
            let _permit = permit;
            {
                let mut r = running.borrow_mut();
                r.0 += 1;
                r.1 = r.1.max(r.0);
            }
            sleep(Duration::from_millis(1 + i % 3)).await;
            running.borrow_mut().0 -= 1;
        }));
    }
    for t in tasks {
        within(t).await.unwrap();
    }
    assert_eq!(*running.borrow(), (0, 2));
    assert_eq!(sem.available_permits(), 2);
}

// ---- BoundedSemaphore ----

#[brigade::test(virtual)]
async fn a_bounded_semaphore_refuses_a_release_past_its_bound() {
    use brigade::sync::BoundedSemaphore;
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.release().unwrap_err().bound(), 2);
    assert_eq!(sem.available_permits(), 2);
    sem.acquire().await.unwrap().forget();
    sem.acquire().await.unwrap().forget();
    assert!(sem.locked());
    assert!(sem.release_many(3).is_err(), "three released, two held");
    assert_eq!(sem.available_permits(), 0);
    sem.release().unwrap();
    sem.release().unwrap();
    assert!(sem.release().is_err());
    assert_eq!(sem.available_permits(), 2);
}

#[brigade::test(virtual)]
async fn a_bounded_release_wakes_a_waiter_and_guards_never_pass_the_bound() {
    use brigade::sync::BoundedSemaphore;
    let sem = std::sync::Arc::new(BoundedSemaphore::new(1));
    sem.acquire().await.unwrap().forget();
    let waiter = brigade::spawn({
        let sem = sem.clone();
        async move { sem.acquire().await.map(|p| p.num_permits()) }
    });
    settle().await;
    // The permit goes straight to the waiter, which holds it from then on:
    // a second release pairs with that permit...
    sem.release().unwrap();
    assert_eq!(sem.available_permits(), 0);
    sem.release().unwrap();
    assert!(sem.release().is_err());
    // ...and the waiter's guard, released by hand already, is dropped
    // rather than pass the bound.
    assert_eq!(within(waiter).await.unwrap(), Ok(1));
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.release().is_err());
}

#[brigade::test(virtual)]
async fn a_bounded_acquire_cancelled_after_the_hand_off_gives_the_permit_back() {
    use brigade::sync::BoundedSemaphore;
    let sem = std::sync::Arc::new(BoundedSemaphore::new(1));
    sem.acquire().await.unwrap().forget();
    let waiter = brigade::spawn({
        let sem = sem.clone();
        async move { sem.acquire().await.map(drop) }
    });
    settle().await;
    sem.release().unwrap(); // handed to the waiter...
    waiter.abort(); // ...which is cancelled before it runs
    let _ = waiter.await;
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.release().is_err(), "the returned permit counted twice");
}
