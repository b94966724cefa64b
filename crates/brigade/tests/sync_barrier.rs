//! The async Barrier's asyncio behaviour: arrival indices, abort, reset,
//! the broken state, and cancellation at its one await point.

use std::sync::Arc;
use std::time::Duration;

use brigade::sync::{Barrier, BrokenBarrierError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

fn spawn_wait(
    barrier: &Arc<Barrier>,
) -> brigade::JoinHandle<Result<brigade::sync::BarrierWaitResult, BrokenBarrierError>> {
    let barrier = barrier.clone();
    brigade::spawn(async move { barrier.wait().await })
}

#[brigade::test(virtual)]
async fn indices_follow_the_arrival_order_and_the_leader_is_last() {
    let barrier = Arc::new(Barrier::new(4));
    let tasks: Vec<_> = (0..3u64)
        .map(|i| {
            let barrier = barrier.clone();
            brigade::spawn(async move {
                sleep(Duration::from_millis(i)).await; // arrive in order
                (i, barrier.wait().await.unwrap())
            })
        })
        .collect();
    sleep(Duration::from_millis(10)).await;
    assert_eq!(barrier.n_waiting(), 3);
    let me = barrier.wait().await.unwrap();
    assert!(me.is_leader());
    assert_eq!(me.index(), 3);
    for t in tasks {
        let (i, r) = within(t).await.unwrap();
        assert_eq!(r.index() as u64, i);
        assert!(!r.is_leader());
        assert_eq!(r.generation(), 0);
    }
}

#[brigade::test(virtual)]
async fn a_cancelled_waiter_leaves_no_gap_in_the_indices() {
    let barrier = Arc::new(Barrier::new(3));
    let first = spawn_wait(&barrier);
    settle().await;
    let quitter = spawn_wait(&barrier);
    settle().await;
    assert_eq!(barrier.n_waiting(), 2);
    quitter.abort();
    assert!(quitter.await.is_err());
    assert_eq!(barrier.n_waiting(), 1);
    let third = spawn_wait(&barrier);
    settle().await;
    let me = barrier.wait().await.unwrap();
    let mut indices = vec![
        me.index(),
        within(first).await.unwrap().unwrap().index(),
        within(third).await.unwrap().unwrap().index(),
    ];
    indices.sort();
    assert_eq!(indices, [0, 1, 2]);
}

#[brigade::test(virtual)]
async fn abort_fails_the_waiters_and_every_later_wait_until_reset() {
    let barrier = Arc::new(Barrier::new(3));
    let waiters = [spawn_wait(&barrier), spawn_wait(&barrier)];
    settle().await;
    assert!(!barrier.broken());
    barrier.abort();
    assert!(barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    for w in waiters {
        assert_eq!(within(w).await.unwrap(), Err(BrokenBarrierError));
    }
    assert_eq!(barrier.wait().await, Err(BrokenBarrierError));
    barrier.reset();
    assert!(!barrier.broken());
    // Usable again: three arrivals trip it.
    let waiters = [spawn_wait(&barrier), spawn_wait(&barrier)];
    settle().await;
    assert!(barrier.wait().await.unwrap().is_leader());
    for w in waiters {
        assert!(within(w).await.unwrap().is_ok());
    }
}

#[brigade::test(virtual)]
async fn reset_fails_the_waiters_but_leaves_the_barrier_usable() {
    let barrier = Arc::new(Barrier::new(2));
    let waiter = spawn_wait(&barrier);
    settle().await;
    barrier.reset();
    assert!(!barrier.broken());
    assert_eq!(within(waiter).await.unwrap(), Err(BrokenBarrierError));
    // The reset emptied the generation: one arrival is not enough.
    assert!(
        timeout(Duration::from_millis(5), barrier.wait())
            .await
            .is_err()
    );
    let other = spawn_wait(&barrier);
    settle().await;
    let me = barrier.wait().await.unwrap();
    let other = within(other).await.unwrap().unwrap();
    assert!(me.is_leader() && !other.is_leader());
    assert_eq!(me.generation(), other.generation());
}

#[brigade::test(virtual)]
async fn a_released_wait_dropped_before_it_runs_changes_nothing() {
    let barrier = Arc::new(Barrier::new(2));
    let waiter = spawn_wait(&barrier);
    settle().await;
    // The leader releases the waiter, which is cancelled before it runs.
    assert!(barrier.wait().await.unwrap().is_leader());
    waiter.abort();
    let _ = waiter.await;
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
    // The next generation still needs two.
    assert!(
        timeout(Duration::from_millis(5), barrier.wait())
            .await
            .is_err()
    );
}

#[test]
fn waits_from_two_loops_on_two_threads_meet() {
    let barrier = Arc::new(Barrier::new(2));
    let other = std::thread::spawn({
        let barrier = barrier.clone();
        move || brigade::run(async move { barrier.wait().await.unwrap().index() })
    });
    let mine = brigade::run({
        let barrier = barrier.clone();
        async move { barrier.wait().await.unwrap().index() }
    });
    let theirs = other.join().unwrap();
    assert_eq!(mine + theirs, 1);
}
