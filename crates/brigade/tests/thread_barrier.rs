//! `brigade::thread::Barrier`, after CPython's `BarrierTests`
//! (Lib/test/lock_tests.py): behaviour only, no timing claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brigade::thread::{self, Barrier, BrokenBarrierError, Thread};

const N: usize = 5;
const FOREVER: Duration = Duration::from_secs(3600);

/// Starts `n` threads running `f(barrier, i)`.
fn bunch<R: Send + 'static>(
    barrier: &Arc<Barrier>,
    n: usize,
    f: impl Fn(&Barrier, usize) -> R + Send + Sync + Clone + 'static,
) -> Vec<Thread<R>> {
    (0..n)
        .map(|i| {
            let (barrier, f) = (barrier.clone(), f.clone());
            thread::spawn(move || f(&barrier, i)).unwrap()
        })
        .collect()
}

fn join_all<R>(threads: Vec<Thread<R>>) -> Vec<R> {
    threads
        .into_iter()
        .map(|t| t.into_result().unwrap())
        .collect()
}

/// Blocks until `n` threads wait in the barrier's current round.
fn until_waiting(barrier: &Barrier, n: usize) {
    while barrier.n_waiting() != n {
        std::thread::yield_now();
    }
}

#[test]
fn every_round_releases_all_parties_with_distinct_indices() {
    // BarrierTests.test_barrier and test_wait_return, over three rounds.
    let barrier = Arc::new(Barrier::new(N));
    let threads = bunch(&barrier, N, |b, _| {
        (0..3).map(|_| b.wait().unwrap()).collect::<Vec<usize>>()
    });
    let rounds = join_all(threads);
    for round in 0..3 {
        let mut indices: Vec<usize> = rounds.iter().map(|r| r[round]).collect();
        indices.sort();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
    }
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[test]
fn the_action_runs_once_per_round_before_any_release() {
    // BarrierTests.test_action.
    let acted = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::with_action(N, {
        let acted = acted.clone();
        move || {
            acted.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let threads = bunch(&barrier, N, {
        let acted = acted.clone();
        move |b, _| {
            (0..2)
                .map(|_| {
                    b.wait().unwrap();
                    acted.load(Ordering::SeqCst)
                })
                .collect::<Vec<usize>>()
        }
    });
    for seen in join_all(threads) {
        // After round r's release the action has run r + 1 times, and the
        // next round's cannot run before this thread waits again.
        assert_eq!(seen, [1, 2]);
    }
}

#[test]
fn a_panicking_action_breaks_the_barrier() {
    let barrier = Arc::new(Barrier::with_action(N, || panic!("burnt the toast")));
    let outcomes = join_all(bunch(&barrier, N, |b, _| b.wait()));
    let mut panicked = 0;
    for outcome in outcomes {
        match outcome.unwrap_err() {
            BrokenBarrierError::ActionPanicked(panic) => {
                assert_eq!(panic.message(), "burnt the toast");
                panicked += 1;
            }
            BrokenBarrierError::Broken => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(panicked, 1, "the last to arrive ran the action");
    assert!(barrier.broken());
}

#[test]
fn the_action_may_look_at_the_barrier() {
    let barrier = Arc::new_cyclic(|me: &std::sync::Weak<Barrier>| {
        let me = me.clone();
        Barrier::with_action(2, move || {
            let b = me.upgrade().unwrap();
            assert_eq!(b.n_waiting(), 2);
        })
    });
    let indices = join_all(bunch(&barrier, 2, |b, _| b.wait().unwrap()));
    assert_eq!(indices.iter().sum::<usize>(), 1);
}

#[test]
fn abort_fails_every_waiter_and_later_waits() {
    // BarrierTests.test_abort.
    let barrier = Arc::new(Barrier::new(N));
    let waiters = bunch(&barrier, N - 1, |b, _| b.wait());
    until_waiting(&barrier, N - 1);
    barrier.abort();
    for outcome in join_all(waiters) {
        assert!(matches!(outcome, Err(BrokenBarrierError::Broken)));
    }
    assert!(barrier.broken());
    assert!(matches!(barrier.wait(), Err(BrokenBarrierError::Broken)));
}

#[test]
fn reset_fails_the_waiters_then_the_barrier_works_again() {
    // BarrierTests.test_reset and test_abort_and_reset.
    let barrier = Arc::new(Barrier::new(N));
    let waiters = bunch(&barrier, N - 1, |b, _| b.wait());
    until_waiting(&barrier, N - 1);
    barrier.reset();
    for outcome in join_all(waiters) {
        assert!(matches!(outcome, Err(BrokenBarrierError::Broken)));
    }
    assert!(!barrier.broken());
    barrier.abort();
    barrier.reset();
    assert!(!barrier.broken());
    let mut indices = join_all(bunch(&barrier, N, |b, _| b.wait().unwrap()));
    indices.sort();
    assert_eq!(indices, [0, 1, 2, 3, 4]);
}

#[test]
fn a_timeout_breaks_the_barrier_for_everyone() {
    // BarrierTests.test_timeout: one party never comes.
    let barrier = Arc::new(Barrier::new(N));
    let waiters = bunch(&barrier, N - 2, |b, _| b.wait_timeout(FOREVER));
    until_waiting(&barrier, N - 2);
    let mine = barrier.wait_timeout(Duration::from_millis(1));
    assert!(matches!(mine, Err(BrokenBarrierError::Timeout)));
    for outcome in join_all(waiters) {
        assert!(matches!(outcome, Err(BrokenBarrierError::Broken)));
    }
    assert!(barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn a_single_party_never_blocks() {
    // BarrierTests.test_single_thread; 0 parties count as 1, as in std.
    for barrier in [Barrier::new(1), Barrier::new(0)] {
        assert_eq!(barrier.parties(), 1);
        for _ in 0..3 {
            assert_eq!(barrier.wait().unwrap(), 0);
        }
    }
}

#[test]
fn n_waiting_counts_the_threads_of_the_round() {
    let barrier = Arc::new(Barrier::new(3));
    let first = bunch(&barrier, 2, |b, _| b.wait().unwrap());
    until_waiting(&barrier, 2);
    assert_eq!(barrier.n_waiting(), 2);
    let last = barrier.wait().unwrap();
    assert_eq!(last, 2, "the last to arrive has the last index");
    let mut others = join_all(first);
    others.sort();
    assert_eq!(others, [0, 1]);
    assert_eq!(barrier.n_waiting(), 0);
}
