//! The blocking primitives of `brigade::thread`: `Event`, `Semaphore`,
//! `BoundedSemaphore`, `Timer`, and the re-exported std locks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use brigade::thread::{self, BoundedSemaphore, Event, Lock, RLock, Semaphore, Thread, Timer};

const FOREVER: Duration = Duration::from_secs(3600);

#[test]
fn event_wakes_every_waiter() {
    let event = Arc::new(Event::new());
    let mut waiters: Vec<_> = (0..4)
        .map(|i| {
            let event = event.clone();
            Thread::from_fn(move || {
                event.wait();
                i
            })
        })
        .collect();
    waiters.iter_mut().for_each(|w| w.start().unwrap());
    assert!(!event.is_set());
    event.set();
    let got: Vec<_> = waiters.iter_mut().map(|w| w.join().unwrap()).collect();
    assert_eq!(got, [0, 1, 2, 3]);
}

#[test]
fn event_wait_returns_at_once_while_set_and_blocks_again_after_clear() {
    let event = Event::new();
    event.set();
    event.wait();
    assert!(event.wait_timeout(Duration::ZERO));
    event.clear();
    assert!(!event.is_set());
    assert!(!event.wait_timeout(Duration::from_millis(1)));
}

#[test]
fn event_wait_timeout_sees_a_set_from_another_thread() {
    let event = Arc::new(Event::new());
    let mut setter = Thread::from_fn({
        let event = event.clone();
        move || event.set()
    });
    setter.start().unwrap();
    assert!(event.wait_timeout(FOREVER));
    setter.join().unwrap();
}

/// Waits until the kernel reports thread `tid` asleep. Called after the
/// thread said it is about to block on a primitive that nothing else holds,
/// so asleep means blocked in that primitive (CPython's lock_tests sleep
/// for this instead: `wait_threads_blocked`).
fn wait_until_asleep(tid: u64) {
    loop {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        // "tid (comm) S ...": the name may hold spaces and parentheses.
        let (_, after_name) = stat.rsplit_once(')').unwrap();
        if after_name.trim_start().starts_with('S') {
            return;
        }
        std::thread::yield_now();
    }
}

/// Starts `n` threads that each run `wait` on `event`, one at a time, each
/// asleep in it before the next starts.
fn blocked_waiters<R: Send + 'static>(
    event: &Arc<Event>,
    n: usize,
    wait: fn(&Event) -> R,
) -> Vec<Thread<R>> {
    (0..n)
        .map(|_| {
            let about_to_wait = Arc::new(AtomicBool::new(false));
            let mut t = Thread::from_fn({
                let (event, about_to_wait) = (event.clone(), about_to_wait.clone());
                move || {
                    about_to_wait.store(true, Ordering::SeqCst);
                    wait(&event)
                }
            });
            t.start().unwrap();
            while !about_to_wait.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            wait_until_asleep(t.native_id().unwrap());
            t
        })
        .collect()
}

#[test]
fn event_set_then_clear_at_once_still_releases_every_waiter() {
    // CPython's EventTests.test_set_and_clear (gh-57711): a set releases
    // every thread waiting then, even if the flag is cleared before they
    // run. The limit only bounds the test if the wake-up is lost.
    let event = Arc::new(Event::new());
    let mut waiters = blocked_waiters(&event, 3, |e| e.wait_timeout(Duration::from_secs(10)));
    event.set();
    event.clear();
    for w in &mut waiters {
        assert!(w.join().unwrap(), "a waiter missed the set");
    }
    assert!(!event.is_set());
}

#[test]
fn event_set_then_clear_releases_untimed_waiters_too() {
    let event = Arc::new(Event::new());
    let mut waiters = blocked_waiters(&event, 2, Event::wait);
    event.set();
    event.clear();
    waiters.iter_mut().for_each(|w| w.join().unwrap());
    // A later wait is not released by that old set.
    assert!(!event.wait_timeout(Duration::ZERO));
}

#[test]
fn semaphore_blocks_when_empty_and_release_wakes() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.acquire();
    assert!(sem.try_acquire().is_none());
    let acquired = Arc::new(AtomicBool::new(false));
    let mut t = Thread::from_fn({
        let (sem, acquired) = (sem.clone(), acquired.clone());
        move || {
            let _p = sem.acquire();
            acquired.store(true, Ordering::SeqCst);
        }
    });
    t.start().unwrap();
    assert!(sem.acquire_timeout(Duration::from_millis(1)).is_none());
    drop(held);
    t.join().unwrap();
    assert!(acquired.load(Ordering::SeqCst));
    assert_eq!(sem.available(), 1);
}

#[test]
fn semaphore_limits_concurrency() {
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut threads: Vec<_> = (0..8)
        .map(|_| {
            let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
            Thread::from_fn(move || {
                for _ in 0..50 {
                    let _p = sem.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::yield_now();
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    threads.iter_mut().for_each(|t| t.start().unwrap());
    threads.iter_mut().for_each(|t| t.join().unwrap());
    assert!(most.load(Ordering::SeqCst) <= 3);
    assert_eq!(sem.available(), 3);
}

#[test]
fn a_plain_semaphore_may_grow_past_its_start() {
    let sem = Semaphore::new(0);
    sem.release();
    sem.release();
    assert_eq!(sem.available(), 2);
}

#[test]
fn a_bounded_semaphore_refuses_a_release_without_an_acquire() {
    let sem = BoundedSemaphore::new(2);
    let err = sem.release().unwrap_err();
    assert_eq!(err.bound(), 2);
    assert!(err.to_string().contains("released too many times"));
    sem.acquire().forget();
    assert_eq!(sem.available(), 1);
    sem.release().unwrap();
    assert_eq!(sem.available(), 2);
    {
        let _a = sem.acquire();
        let _b = sem.acquire();
        assert_eq!(sem.available(), 0);
    }
    assert_eq!(sem.available(), 2);
}

#[test]
fn timer_calls_after_its_delay() {
    let mut t = Timer::new(Duration::from_millis(1), || "ding");
    assert!(t.name().starts_with("Thread-"), "{}", t.name());
    t.start().unwrap();
    assert_eq!(t.join().unwrap(), Some("ding"));
    assert!(!t.cancel(), "too late to cancel");
}

#[test]
fn a_cancelled_timer_never_calls() {
    let called = Arc::new(AtomicBool::new(false));
    let mut t = Timer::new(FOREVER, {
        let called = called.clone();
        move || called.store(true, Ordering::SeqCst)
    });
    t.start().unwrap();
    assert!(t.cancel());
    assert!(t.is_cancelled());
    assert_eq!(t.join().unwrap(), None);
    assert!(!called.load(Ordering::SeqCst));
}

#[test]
fn a_timer_cancelled_before_start_never_calls() {
    let mut t = Timer::new(Duration::ZERO, || 1);
    assert!(t.cancel());
    t.start().unwrap();
    assert_eq!(t.join().unwrap(), None);
}

#[test]
fn timer_threads_follow_thread_rules() {
    let mut t = Timer::with_builder(
        thread::Builder::new().name("oven timer"),
        Duration::ZERO,
        || (),
    );
    assert_eq!(t.name(), "oven timer");
    t.set_daemon(true).unwrap();
    t.start().unwrap();
    assert!(t.start().is_err());
    assert!(t.set_daemon(false).is_err());
    t.join().unwrap();
}

#[test]
fn std_locks_are_re_exported_and_the_barrier_is_brigades() {
    let counter = Arc::new(thread::Mutex::new(0));
    let barrier = Arc::new(thread::Barrier::new(2));
    let mut t = Thread::from_fn({
        let (counter, barrier) = (counter.clone(), barrier.clone());
        move || {
            *counter.lock().unwrap() += 1;
            barrier.wait().unwrap();
        }
    });
    t.start().unwrap();
    barrier.wait().unwrap();
    t.join().unwrap();
    assert_eq!(*counter.lock().unwrap(), 1);
    let rw = thread::RwLock::new(1);
    assert_eq!(*rw.read().unwrap(), 1);
    let _cv = thread::Condvar::new();
}

/// Starts `f` on a thread and returns once it is asleep in whatever it
/// blocks on first after starting (nothing else may hold what it needs).
fn blocked<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Thread<R> {
    let about_to_wait = Arc::new(AtomicBool::new(false));
    let mut t = Thread::from_fn({
        let about_to_wait = about_to_wait.clone();
        move || {
            about_to_wait.store(true, Ordering::SeqCst);
            f()
        }
    });
    t.start().unwrap();
    while !about_to_wait.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    wait_until_asleep(t.native_id().unwrap());
    t
}

#[test]
fn lock_timeout_runs_out_while_another_thread_holds_the_lock() {
    // CPython's LockTests.test_timeout, without its timing checks.
    let lock = Arc::new(Lock::new(1));
    let held = lock.lock().unwrap();
    let mut other = thread::spawn({
        let lock = lock.clone();
        move || {
            let zero = lock.lock_timeout(Duration::ZERO).unwrap().is_none();
            let short = lock
                .lock_timeout(Duration::from_millis(1))
                .unwrap()
                .is_none();
            (zero, short)
        }
    })
    .unwrap();
    assert_eq!(other.join().unwrap(), (true, true));
    assert!(lock.locked());
    drop(held);
    assert_eq!(*lock.lock_timeout(Duration::ZERO).unwrap().unwrap(), 1);
}

#[test]
fn a_timed_lock_waiter_is_woken_by_the_release() {
    let lock = Arc::new(Lock::new(0));
    let mut held = lock.lock().unwrap();
    let mut waiters: Vec<_> = (0..2)
        .map(|_| {
            let lock = lock.clone();
            blocked(move || {
                let mut guard = lock.lock_timeout(FOREVER).unwrap().unwrap();
                *guard += 1;
            })
        })
        .collect();
    *held += 10;
    drop(held);
    waiters.iter_mut().for_each(|w| w.join().unwrap());
    assert_eq!(*lock.lock().unwrap(), 12);
    assert!(!lock.locked());
}

#[test]
fn timed_and_untimed_waiters_share_a_lock_without_losing_a_wake_up() {
    let lock = Arc::new(Lock::new(0u64));
    let mut threads: Vec<_> = (0..4)
        .map(|i| {
            let lock = lock.clone();
            thread::spawn(move || {
                for _ in 0..300 {
                    let mut guard = if i % 2 == 0 {
                        lock.lock().unwrap()
                    } else {
                        lock.lock_timeout(FOREVER).unwrap().unwrap()
                    };
                    *guard += 1;
                }
            })
            .unwrap()
        })
        .collect();
    threads.iter_mut().for_each(|t| t.join().unwrap());
    assert_eq!(*lock.lock().unwrap(), 1200);
}

#[test]
fn rlock_timeout_re_enters_at_once_and_times_out_for_others() {
    let lock = Arc::new(RLock::new(()));
    let outer = lock.lock().unwrap();
    let inner = lock.lock_timeout(Duration::ZERO).unwrap();
    assert!(inner.is_some());
    let mut other = thread::spawn({
        let lock = lock.clone();
        move || {
            lock.lock_timeout(Duration::from_millis(1))
                .unwrap()
                .is_none()
        }
    })
    .unwrap();
    assert!(other.join().unwrap());
    let waiter = blocked({
        let lock = lock.clone();
        move || lock.lock_timeout(FOREVER).unwrap().is_some()
    });
    drop(inner);
    drop(outer);
    assert!(waiter.into_result().unwrap());
    assert!(!lock.locked());
}
