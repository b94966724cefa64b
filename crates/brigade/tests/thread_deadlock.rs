//! Deadlock detection for `brigade::thread::Lock` and `RLock`: a cycle of
//! threads waiting on each other's locks is reported, naming the threads
//! and locks, instead of hanging. Every test here turns detection on (it is
//! a process-wide switch, and no test of this binary needs it off).

use std::sync::{Arc, Barrier};

use brigade::thread::{self, Builder, DeadlockError, Lock, RLock};

/// Runs `n` named threads; thread i takes lock i, waits until all hold
/// theirs, then takes lock i + 1 (mod n). Returns each thread's outcome.
fn ring(n: usize, prefix: &str) -> Vec<Result<(), DeadlockError>> {
    thread::detect_deadlocks(true);
    let locks: Vec<Arc<Lock>> = (0..n)
        .map(|i| Arc::new(Lock::named(format!("{prefix}-lock-{i}"), ())))
        .collect();
    let all_hold = Arc::new(Barrier::new(n));
    let mut threads: Vec<_> = (0..n)
        .map(|i| {
            let first = locks[i].clone();
            let second = locks[(i + 1) % n].clone();
            let all_hold = all_hold.clone();
            Builder::new()
                .name(format!("{prefix}-cook-{i}"))
                .build_fn(move || {
                    let _held = first.lock().unwrap();
                    all_hold.wait();
                    // On error, returning drops `_held`, which unblocks the
                    // previous thread of the ring.
                    second.lock().map(drop)
                })
        })
        .collect();
    threads.iter_mut().for_each(|t| t.start().unwrap());
    threads.iter_mut().map(|t| t.join().unwrap()).collect()
}

#[test]
fn two_threads_locking_in_opposite_orders_get_a_report_not_a_hang() {
    let outcomes = ring(2, "pair");
    let errors: Vec<&DeadlockError> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{outcomes:?}");
    let err = errors[0];
    let mut threads = err.threads();
    threads.sort();
    assert_eq!(threads, ["pair-cook-0", "pair-cook-1"]);
    let mut locks = err.locks();
    locks.sort();
    assert_eq!(locks, ["pair-lock-0", "pair-lock-1"]);
    let message = err.to_string();
    let expected = [
        "deadlock: pair-cook-0 holds pair-lock-0 and waits for pair-lock-1, \
         held by pair-cook-1, which waits for pair-lock-0",
        "deadlock: pair-cook-1 holds pair-lock-1 and waits for pair-lock-0, \
         held by pair-cook-0, which waits for pair-lock-1",
    ];
    assert!(expected.contains(&message.as_str()), "{message}");
}

#[test]
fn a_ring_of_three_is_reported_with_every_thread() {
    let outcomes = ring(3, "trio");
    let errors: Vec<&DeadlockError> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{outcomes:?}");
    assert_eq!(errors[0].threads().len(), 3);
    assert_eq!(errors[0].locks().len(), 3);
}

#[test]
fn relocking_a_lock_one_holds_is_reported() {
    thread::detect_deadlocks(true);
    let lock = Lock::named("pantry", ());
    let _held = lock.lock().unwrap();
    let err = lock.lock().unwrap_err();
    assert!(
        err.to_string()
            .ends_with("waits for pantry, which it holds itself"),
        "{err}"
    );
}

#[test]
fn an_rlock_may_be_reentered_without_a_report() {
    thread::detect_deadlocks(true);
    let lock = RLock::named("recipe", 5);
    let a = lock.lock().unwrap();
    let b = lock.lock().unwrap();
    assert!(lock.is_owned());
    assert_eq!(*a + *b, 10);
    drop(a);
    assert!(lock.locked());
    drop(b);
    assert!(!lock.locked());
}

#[test]
fn rlocks_in_a_cycle_are_reported() {
    thread::detect_deadlocks(true);
    let a = Arc::new(RLock::named("r-a", ()));
    let b = Arc::new(RLock::named("r-b", ()));
    let barrier = Arc::new(Barrier::new(2));
    let run = |first: Arc<RLock>, second: Arc<RLock>, barrier: Arc<Barrier>| {
        move || {
            let _again = first.lock().unwrap();
            let _held = first.lock().unwrap(); // reentered: still one owner
            barrier.wait();
            second.lock().map(drop)
        }
    };
    let mut one = thread::spawn(run(a.clone(), b.clone(), barrier.clone())).unwrap();
    let mut two = thread::spawn(run(b, a, barrier)).unwrap();
    let outcomes = [one.join().unwrap(), two.join().unwrap()];
    assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1);
}

#[test]
fn consistent_lock_order_never_reports() {
    thread::detect_deadlocks(true);
    let a = Arc::new(Lock::named("first", 0u64));
    let b = Arc::new(Lock::named("second", 0u64));
    let mut threads: Vec<_> = (0..4)
        .map(|_| {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                for _ in 0..500 {
                    let mut x = a.lock()?;
                    let mut y = b.lock()?;
                    *x += 1;
                    *y += 1;
                }
                Ok::<_, DeadlockError>(())
            })
            .unwrap()
        })
        .collect();
    for t in &mut threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(*a.lock().unwrap(), 2000);
    assert_eq!(*b.lock().unwrap(), 2000);
}

#[test]
fn a_lock_is_released_when_its_holder_panics() {
    let lock = Arc::new(Lock::new(1));
    let mut t = thread::spawn({
        let lock = lock.clone();
        move || {
            let _g = lock.lock().unwrap();
            panic!("while holding the lock");
        }
    })
    .unwrap();
    assert!(t.join().is_err());
    // Not poisoned: as in Python, the lock is simply free again.
    assert_eq!(*lock.lock().unwrap(), 1);
    assert!(lock.name().starts_with("lock #"));
}

#[test]
fn a_timed_relock_of_a_held_lock_is_reported_not_waited_out() {
    thread::detect_deadlocks(true);
    let lock = Lock::named("larder", ());
    let _held = lock.lock().unwrap();
    let err = lock
        .lock_timeout(std::time::Duration::from_secs(3600))
        .unwrap_err();
    assert_eq!(err.locks(), ["larder"]);
    let rlock = RLock::named("shelf", ());
    let _mine = rlock.lock().unwrap();
    assert!(
        rlock
            .lock_timeout(std::time::Duration::ZERO)
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_timed_wait_that_ran_out_leaves_no_stale_edge() {
    // B waits for A's lock with a timeout and gives up; A then waits for
    // B's lock. If B still counted as waiting, A would see a false cycle.
    thread::detect_deadlocks(true);
    let a_lock = Arc::new(Lock::named("stale-a", ()));
    let b_lock = Arc::new(Lock::named("stale-b", ()));
    let a_holds = Arc::new(Barrier::new(2));
    let b_gave_up = Arc::new(Barrier::new(2));
    let a_done = Arc::new(Barrier::new(2));
    let mut b = thread::spawn({
        let (a_lock, b_lock) = (a_lock.clone(), b_lock.clone());
        let (a_holds, b_gave_up, a_done) = (a_holds.clone(), b_gave_up.clone(), a_done.clone());
        move || {
            let _mine = b_lock.lock().unwrap();
            a_holds.wait();
            let timed_out = a_lock
                .lock_timeout(std::time::Duration::from_millis(1))
                .unwrap()
                .is_none();
            b_gave_up.wait();
            a_done.wait();
            timed_out
        }
    })
    .unwrap();
    let _mine = a_lock.lock().unwrap();
    a_holds.wait();
    b_gave_up.wait();
    let outcome = b_lock
        .lock_timeout(std::time::Duration::from_millis(1))
        .map(|g| g.is_some());
    a_done.wait();
    assert!(!outcome.unwrap(), "B still holds its lock");
    assert!(b.join().unwrap());
}

#[test]
fn foreign_threads_appear_under_their_os_names_in_a_report() {
    thread::detect_deadlocks(true);
    let a = Arc::new(Lock::named("std-lock-a", ()));
    let b = Arc::new(Lock::named("std-lock-b", ()));
    let both_hold = Arc::new(Barrier::new(2));
    let cook = |name: &str, first: Arc<Lock>, second: Arc<Lock>, both_hold: Arc<Barrier>| {
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _held = first.lock().unwrap();
                both_hold.wait();
                second.lock().map(drop)
            })
            .unwrap()
    };
    let one = cook("std-cook-a", a.clone(), b.clone(), both_hold.clone());
    let two = cook("std-cook-b", b, a, both_hold);
    let outcomes = [one.join().unwrap(), two.join().unwrap()];
    let err = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
    let mut threads = err.threads();
    threads.sort();
    assert_eq!(threads, ["std-cook-a", "std-cook-b"]);
}
