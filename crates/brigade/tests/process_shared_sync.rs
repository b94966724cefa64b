//! The cross-process synchronization primitives of `brigade::process`
//! (Value, Lock, RLock, Semaphore, Event, Condition, Barrier,
//! JoinableQueue), each used by real child processes that received it as
//! a `Process` argument (or in a `Queue` message).
//!
//! Every test runs under a watchdog thread, so a hang fails the test
//! instead of stalling the suite; the bound is far above any run and
//! claims nothing about speed.

use std::time::Duration;

use brigade::process::{
    Barrier, BoundedSemaphore, Condition, Event, JoinableQueue, Lock, Process, Queue, Semaphore,
    Value,
};

mod watchdog;
use watchdog::within;

fn count(v: Value<u64>, n: u64) {
    for _ in 0..n {
        let mut g = v.lock().unwrap();
        *g += 1;
    }
}

#[test]
fn value_increments_from_three_processes_add_up() {
    within(|| {
        let v = Value::new(0u64).unwrap();
        let mut children: Vec<_> = (0..2)
            .map(|_| Process::new(count, (v.clone(), 20_000)))
            .collect();
        for c in &mut children {
            c.start().unwrap();
        }
        count(v.clone(), 20_000);
        for c in &mut children {
            c.join().unwrap();
        }
        assert_eq!(v.get().unwrap(), 60_000);
    });
}

/// Two separate locked steps (`get`, then `set`) are a lost update unless
/// the outer lock excludes the other processes.
fn add_under_lock(lock: Lock, v: Value<u64>, n: u64) {
    for _ in 0..n {
        let _g = lock.acquire().unwrap();
        let x = v.get().unwrap();
        v.set(x + 1).unwrap();
    }
}

#[test]
fn lock_excludes_other_processes() {
    within(|| {
        let lock = Lock::new().unwrap();
        let v = Value::new(0u64).unwrap();
        let mut a = Process::new(add_under_lock, (lock.clone(), v.clone(), 5_000));
        let mut b = Process::new(add_under_lock, (lock.clone(), v.clone(), 5_000));
        a.start().unwrap();
        b.start().unwrap();
        add_under_lock(lock.clone(), v.clone(), 5_000);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(v.get().unwrap(), 15_000);
    });
}

fn bump_from_queue(q: Queue<Value<u64>>) {
    let v = q.get().unwrap();
    *v.lock().unwrap() += 7;
}

#[test]
fn a_value_travels_through_a_queue() {
    within(|| {
        let q = Queue::new().unwrap();
        let v = Value::new(1u64).unwrap();
        let mut p = Process::new(bump_from_queue, (q.clone(),));
        p.start().unwrap();
        q.put(&v).unwrap();
        p.join().unwrap();
        assert_eq!(v.get().unwrap(), 8);
    });
}

fn set_after(go: Event, done: Event) {
    go.wait();
    done.set();
}

#[test]
fn event_set_in_a_child_wakes_the_parent() {
    within(|| {
        let go = Event::new().unwrap();
        let done = Event::new().unwrap();
        let mut p = Process::new(set_after, (go.clone(), done.clone()));
        p.start().unwrap();
        assert!(!done.is_set());
        go.set();
        done.wait();
        assert!(done.is_set());
        p.join().unwrap();
        done.clear();
        assert!(!done.wait_timeout(Duration::from_millis(1)));
    });
}

fn meet(b: Barrier, rounds: u32, log: Value<u64>) -> Vec<u32> {
    let mut indices = Vec::new();
    for round in 0..rounds {
        // Everyone adds this round's mark before the barrier; after it,
        // every mark of the round must be there.
        log.update(|n| *n += 1).unwrap();
        indices.push(b.wait().unwrap());
        assert!(log.get().unwrap() >= 3 * u64::from(round + 1));
    }
    indices
}

#[test]
fn barrier_releases_three_processes_each_round() {
    within(|| {
        let b = Barrier::new(3).unwrap();
        let log = Value::new(0u64).unwrap();
        let mut p1 = Process::new(meet, (b.clone(), 20, log.clone()));
        let mut p2 = Process::new(meet, (b.clone(), 20, log.clone()));
        p1.start().unwrap();
        p2.start().unwrap();
        let mine = meet(b.clone(), 20, log.clone());
        let theirs = [p1.join().unwrap(), p2.join().unwrap()];
        for round in 0..20 {
            let mut got = [mine[round], theirs[0][round], theirs[1][round]];
            got.sort();
            assert_eq!(got, [0, 1, 2], "round {round}");
        }
        assert!(!b.broken());
    });
}

#[test]
fn barrier_timeout_breaks_it_for_a_waiting_child() {
    fn wait_long(b: Barrier) -> bool {
        b.wait().is_err()
    }
    within(|| {
        let b = Barrier::new(3).unwrap();
        let mut p = Process::new(wait_long, (b.clone(),));
        p.start().unwrap();
        while b.n_waiting() < 1 {
            std::thread::yield_now();
        }
        assert!(b.wait_timeout(Duration::from_millis(10)).is_err());
        assert!(p.join().unwrap(), "the waiting child saw the barrier break");
        assert!(b.broken());
        b.reset();
        assert!(!b.broken());
    });
}

fn wait_for_flag(cond: Condition, flag: Value<u32>, waiting: Event) -> u32 {
    let mut g = cond.acquire().unwrap();
    waiting.set();
    g.wait_for(|| flag.get().unwrap() != 0).unwrap();
    flag.get().unwrap()
}

#[test]
fn condition_notify_wakes_a_child() {
    within(|| {
        let cond = Condition::new().unwrap();
        let flag = Value::new(0u32).unwrap();
        let waiting = Event::new().unwrap();
        let mut p = Process::new(wait_for_flag, (cond.clone(), flag.clone(), waiting.clone()));
        p.start().unwrap();
        waiting.wait();
        {
            // The child set `waiting` holding the lock, and releases it only
            // inside `wait`: once we hold it, the child waits.
            let g = cond.acquire().unwrap();
            flag.set(42).unwrap();
            g.notify();
        }
        assert_eq!(p.join().unwrap(), 42);
    });
}

fn wait_once(cond: Condition, waiting: Semaphore) -> bool {
    let mut g = cond.acquire().unwrap();
    waiting.release();
    g.wait_timeout(Duration::from_secs(60)).unwrap()
}

#[test]
fn condition_notify_n_wakes_exactly_n() {
    within(|| {
        let cond = Condition::new().unwrap();
        let waiting = Semaphore::new(0).unwrap();
        let mut children: Vec<_> = (0..3)
            .map(|_| Process::new(wait_once, (cond.clone(), waiting.clone())))
            .collect();
        for c in &mut children {
            c.start().unwrap();
        }
        for _ in 0..3 {
            waiting.acquire().forget();
        }
        // All three wait (each released the lock inside `wait`).
        let g = cond.acquire().unwrap();
        g.notify_n(2);
        drop(g);
        // Two return; the third still waits until notified again.
        let mut woke = 0;
        let mut pending: Vec<_> = children;
        while woke < 2 {
            let mut rest = Vec::new();
            for mut c in pending {
                if c.is_alive() {
                    rest.push(c);
                } else {
                    assert!(c.join().unwrap(), "returned by a notification");
                    woke += 1;
                }
            }
            pending = rest;
            std::thread::yield_now();
        }
        assert_eq!(pending.len(), 1);
        cond.acquire().unwrap().notify_all();
        assert!(pending[0].join().unwrap());
    });
}

fn hold_permit(s: Semaphore, inside: Value<u32>, most: Value<u32>) {
    for _ in 0..200 {
        let _p = s.acquire();
        let now = inside.update(|n| {
            *n += 1;
            *n
        });
        most.update(|m| *m = (*m).max(now.unwrap())).unwrap();
        std::thread::yield_now();
        inside.update(|n| *n -= 1).unwrap();
    }
}

#[test]
fn semaphore_admits_at_most_its_permits() {
    within(|| {
        let s = Semaphore::new(2).unwrap();
        let inside = Value::new(0u32).unwrap();
        let most = Value::new(0u32).unwrap();
        let mut children: Vec<_> = (0..4)
            .map(|_| Process::new(hold_permit, (s.clone(), inside.clone(), most.clone())))
            .collect();
        for c in &mut children {
            c.start().unwrap();
        }
        for c in &mut children {
            c.join().unwrap();
        }
        let most = most.get().unwrap();
        assert!((1..=2).contains(&most), "{most} inside at once");
        assert_eq!(s.available(), 2);
    });
}

#[test]
fn bounded_semaphore_refuses_extra_release() {
    fn release_twice(s: BoundedSemaphore) -> (bool, bool) {
        (s.release().is_ok(), s.release().is_ok())
    }
    within(|| {
        let s = BoundedSemaphore::new(1).unwrap();
        s.acquire().forget();
        let mut p = Process::new(release_twice, (s.clone(),));
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), (true, false));
        assert_eq!(s.available(), 1);
    });
}

fn consume(q: JoinableQueue<u32>, n: u32) -> u32 {
    let mut sum = 0;
    for _ in 0..n {
        sum += q.get().unwrap();
        q.task_done().unwrap();
    }
    sum
}

#[test]
fn joinable_queue_join_waits_for_task_done_in_a_child() {
    within(|| {
        let q = JoinableQueue::new().unwrap();
        let mut p = Process::new(consume, (q.clone(), 10));
        p.start().unwrap();
        for i in 0..10 {
            q.put(&i).unwrap();
        }
        q.join();
        assert_eq!(q.unfinished(), 0);
        assert_eq!(p.join().unwrap(), 45);
        assert!(q.task_done().is_err(), "more task_done than puts");
        assert_eq!(q.unfinished(), 0);
    });
}

#[test]
fn joinable_queue_join_timeout_without_task_done() {
    within(|| {
        let q = JoinableQueue::new().unwrap();
        q.put(&1u8).unwrap();
        assert_eq!(q.get().unwrap(), 1);
        assert!(!q.join_timeout(Duration::from_millis(5)));
        q.task_done().unwrap();
        assert!(q.join_timeout(Duration::from_millis(5)));
    });
}

/// A `put_async` cancelled while it waits for room (its one await point)
/// has put nothing and counted nothing: `join` does not wait for it.
#[test]
fn joinable_queue_cancelled_put_async_counts_nothing() {
    within(|| {
        let q = JoinableQueue::new().unwrap();
        let mut put = 0u32;
        while q.put_timeout(&put, Duration::ZERO).is_ok() {
            put += 1;
        }
        assert_eq!(q.unfinished(), put, "a refused put gave its count back");
        let rt = brigade::Runtime::builder()
            .virtual_clock(true)
            .build()
            .unwrap();
        let q2 = q.clone();
        let waited = rt.block_on(async move {
            brigade::timeout(Duration::from_secs(1), q2.put_async(&u32::MAX)).await
        });
        assert!(waited.is_err(), "the full queue made put_async wait");
        assert_eq!(q.unfinished(), put);
        // Drain and finish everything: join returns, and nothing extra came.
        for i in 0..put {
            assert_eq!(q.get().unwrap(), i);
            q.task_done().unwrap();
        }
        assert!(q.try_get().is_err());
        q.join();
    });
}

#[test]
fn timeouts_too_long_to_represent_mean_no_timeout() {
    within(|| {
        let e = Event::new().unwrap();
        e.set();
        assert!(e.wait_timeout(Duration::MAX));
        let s = Semaphore::new(1).unwrap();
        assert!(s.acquire_timeout(Duration::MAX).is_some());
        let l = Lock::new().unwrap();
        assert!(l.acquire_timeout(Duration::MAX).is_ok());
        let v = Value::new(1u8).unwrap();
        assert_eq!(*v.lock_timeout(Duration::MAX).unwrap(), 1);
        let b = Barrier::new(1).unwrap();
        assert_eq!(b.wait_timeout(Duration::MAX).unwrap(), 0);
        let q = JoinableQueue::<u8>::new().unwrap();
        assert!(q.join_timeout(Duration::MAX));
        let c = Condition::new().unwrap();
        let mut g = c.acquire_timeout(Duration::MAX).unwrap();
        assert!(g.wait_for_timeout(|| true, Duration::MAX).unwrap());
    });
}
