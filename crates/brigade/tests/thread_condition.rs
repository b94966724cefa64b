//! `brigade::thread::Condition`, after CPython's `ConditionTests`
//! (Lib/test/lock_tests.py): behaviour only, no timing claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use brigade::thread::{self, Condition, Lock, Thread};

const FOREVER: Duration = Duration::from_secs(3600);

type Shared = Arc<(Lock<Vec<usize>>, Condition)>;

fn shared() -> Shared {
    Arc::new((Lock::new(Vec::new()), Condition::new()))
}

/// Starts `f` on a thread and returns once `cond` counts one more waiter:
/// the thread has queued up (in order, since each waits for the last).
fn waiting<R: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&Lock<Vec<usize>>, &Condition) -> R + Send + 'static,
) -> Thread<R> {
    let before = state.1.waiters();
    let mut t = Thread::from_fn({
        let state = state.clone();
        move || f(&state.0, &state.1)
    });
    t.start().unwrap();
    while state.1.waiters() == before {
        std::thread::yield_now();
    }
    t
}

/// A waiter that records `i` under the lock once woken.
fn recorder(state: &Shared, i: usize) -> Thread<()> {
    waiting(state, move |lock, cond| {
        let mut seen = cond.wait(lock.lock().unwrap());
        seen.push(i);
    })
}

#[test]
fn notify_wakes_the_longest_waiting_threads_first() {
    // ConditionTests.test_notify, with the FIFO order CPython keeps.
    let state = shared();
    let mut waiters: Vec<_> = (0..5).map(|i| recorder(&state, i)).collect();
    let (lock, cond) = &*state;
    assert_eq!(cond.waiters(), 5);
    assert_eq!(cond.notify(1), 1);
    assert_eq!(cond.waiters(), 4);
    waiters.remove(0).join().unwrap();
    assert_eq!(*lock.lock().unwrap(), [0]);
    assert_eq!(cond.notify(2), 2);
    waiters.remove(0).join().unwrap();
    waiters.remove(0).join().unwrap();
    // Woken together, the two race for the lock.
    let mut seen = lock.lock().unwrap().clone();
    seen[1..].sort();
    assert_eq!(seen, [0, 1, 2]);
    assert_eq!(cond.notify_all(), 2);
    waiters.iter_mut().for_each(|w| w.join().unwrap());
    let mut seen = lock.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, [0, 1, 2, 3, 4]);
    assert_eq!(cond.waiters(), 0);
}

#[test]
fn notify_wakes_only_threads_already_waiting() {
    let state = shared();
    let (lock, cond) = &*state;
    assert_eq!(cond.notify(3), 0);
    assert_eq!(cond.notify_all(), 0);
    // The earlier notifies are not saved up for this later waiter.
    let (_, notified) = cond.wait_timeout(lock.lock().unwrap(), Duration::from_millis(1));
    assert!(!notified);
    let first = recorder(&state, 1);
    assert_eq!(cond.notify(1), 1);
    let second = recorder(&state, 2);
    assert_eq!(cond.waiters(), 1, "the second waiter is still waiting");
    first.into_result().unwrap();
    assert_eq!(cond.notify(5), 1);
    second.into_result().unwrap();
    assert_eq!(*lock.lock().unwrap(), [1, 2]);
}

#[test]
fn wait_lets_go_of_the_lock_and_takes_it_back() {
    let state = shared();
    let waiter = waiting(&state, |lock, cond| {
        let seen = cond.wait(lock.lock().unwrap());
        let held_on_return = lock.locked();
        (seen.clone(), held_on_return)
    });
    let (lock, cond) = &*state;
    // The waiter sleeps without the lock: it is free to take.
    lock.lock().unwrap().push(7);
    cond.notify(1);
    assert_eq!(waiter.into_result().unwrap(), (vec![7], true));
}

#[test]
fn a_timed_out_waiter_spends_no_notify() {
    let state = shared();
    let (lock, cond) = &*state;
    let (guard, notified) = cond.wait_timeout(lock.lock().unwrap(), Duration::from_millis(1));
    assert!(!notified);
    assert!(lock.locked(), "the guard holds the lock again");
    drop(guard);
    assert_eq!(cond.waiters(), 0);
    let later = recorder(&state, 9);
    assert_eq!(cond.notify(1), 1, "the notify went to the live waiter");
    later.into_result().unwrap();
}

#[test]
fn wait_timeout_reports_a_notify() {
    let state = shared();
    let waiter = waiting(&state, |lock, cond| {
        cond.wait_timeout(lock.lock().unwrap(), FOREVER).1
    });
    assert_eq!(state.1.notify(1), 1);
    assert!(waiter.into_result().unwrap());
}

#[test]
fn wait_for_returns_once_the_predicate_holds() {
    // ConditionTests.test_waitfor.
    let state = shared();
    let checks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let waiter = waiting(&state, {
        let checks = checks.clone();
        move |lock, cond| {
            let seen = cond.wait_for(lock.lock().unwrap(), |v| {
                checks.fetch_add(1, Ordering::SeqCst);
                v.len() == 4
            });
            seen.len()
        }
    });
    let (lock, cond) = &*state;
    for i in 0..4 {
        lock.lock().unwrap().push(i);
        cond.notify(1);
    }
    assert_eq!(waiter.into_result().unwrap(), 4);
    assert!(checks.load(Ordering::SeqCst) >= 2);
}

#[test]
fn wait_for_timeout_gives_the_predicates_last_answer() {
    // ConditionTests.test_waitfor_timeout.
    let state = shared();
    let (lock, cond) = &*state;
    let (guard, ok) = cond.wait_for_timeout(lock.lock().unwrap(), Duration::from_millis(1), |v| {
        v.len() == 4
    });
    assert!(!ok);
    drop(guard);
    let waiter = waiting(&state, |lock, cond| {
        cond.wait_for_timeout(lock.lock().unwrap(), FOREVER, |v| !v.is_empty())
            .1
    });
    lock.lock().unwrap().push(1);
    cond.notify_all();
    assert!(waiter.into_result().unwrap());
}

#[test]
fn a_condition_works_with_deadlock_detection_on() {
    thread::detect_deadlocks(true);
    let state = shared();
    let done = Arc::new(AtomicBool::new(false));
    let waiter = waiting(&state, {
        let done = done.clone();
        move |lock, cond| {
            let guard = cond.wait_for(lock.lock().unwrap(), |v| !v.is_empty());
            done.store(true, Ordering::SeqCst);
            guard.len()
        }
    });
    let (lock, cond) = &*state;
    // The waiter holds nothing while it waits: no false cycle is seen.
    let mut guard = lock.lock().unwrap();
    guard.push(1);
    drop(guard);
    cond.notify(1);
    assert_eq!(waiter.into_result().unwrap(), 1);
    assert!(done.load(Ordering::SeqCst));
}
