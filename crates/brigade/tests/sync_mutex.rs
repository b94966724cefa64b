//! The async Mutex: FIFO hand-off, no barging, cancellation at its one
//! await point (waiting for the lock), and use across threads.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use brigade::sync::{Mutex, TryLockError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn primitives_are_send_and_sync() {
    assert_send_sync::<Mutex<Vec<u8>>>();
    assert_send_sync::<brigade::sync::MutexGuard<'static, u8>>();
    assert_send_sync::<brigade::sync::Semaphore>();
    assert_send_sync::<brigade::sync::Event>();
    assert_send_sync::<brigade::sync::Notify>();
    assert_send_sync::<brigade::sync::Condition>();
    assert_send_sync::<brigade::sync::Barrier>();
    assert_send_sync::<brigade::sync::Queue<String>>();
    assert_send_sync::<brigade::sync::mpsc::Sender<String>>();
    assert_send_sync::<brigade::sync::mpsc::Receiver<String>>();
    assert_send_sync::<brigade::sync::BoundedSemaphore>();
    assert_send_sync::<brigade::sync::PriorityQueue<String>>();
    assert_send_sync::<brigade::sync::LifoQueue<String>>();
    assert_send_sync::<brigade::sync::mpsc::WeakSender<String>>();
    assert_send_sync::<brigade::sync::mpsc::Permit<'static, String>>();
    assert_send_sync::<brigade::sync::mpsc::OwnedPermit<String>>();
}

#[brigade::test(virtual)]
async fn waiters_get_the_lock_in_arrival_order() {
    let mutex = Arc::new(Mutex::new(Vec::new()));
    let guard = mutex.lock().await;
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let mutex = mutex.clone();
            brigade::spawn(async move {
                sleep(Duration::from_millis(i)).await; // arrive in order 0..5
                mutex.lock().await.push(i);
            })
        })
        .collect();
    sleep(Duration::from_millis(10)).await;
    drop(guard);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*mutex.lock().await, [0, 1, 2, 3, 4]);
}

#[brigade::test(virtual)]
async fn unlock_hands_over_so_a_newcomer_cannot_barge() {
    let mutex = Arc::new(Mutex::new(()));
    let guard = mutex.lock().await;
    let waiter = brigade::spawn({
        let mutex = mutex.clone();
        async move {
            let _g = mutex.lock().await;
        }
    });
    settle().await;
    drop(guard);
    // The lock now belongs to the waiter, which has not run yet.
    assert!(mutex.is_locked());
    assert_eq!(mutex.try_lock().err(), Some(TryLockError));
    waiter.await.unwrap();
    assert!(mutex.try_lock().is_ok());
}

#[brigade::test(virtual)]
async fn a_waiter_that_times_out_leaves_the_queue() {
    let mutex = Arc::new(Mutex::new(0));
    let guard = mutex.lock().await;
    let late = brigade::spawn({
        let mutex = mutex.clone();
        async move {
            sleep(Duration::from_millis(1)).await;
            *mutex.lock().await += 1;
        }
    });
    assert!(
        timeout(Duration::from_millis(5), mutex.lock())
            .await
            .is_err()
    );
    drop(guard);
    within(late).await.unwrap();
    assert_eq!(*mutex.lock().await, 1);
    assert!(!mutex.is_locked());
}

#[brigade::test(virtual)]
async fn a_waiter_cancelled_after_the_hand_off_passes_the_lock_on() {
    let mutex = Arc::new(Mutex::new(Vec::new()));
    let guard = mutex.lock().await;
    let spawn_locker = |name: &'static str| {
        let mutex = mutex.clone();
        brigade::spawn(async move { mutex.lock().await.push(name) })
    };
    let first = spawn_locker("first");
    settle().await;
    let second = spawn_locker("second");
    settle().await;
    // Hand the lock to `first`, then cancel it before it can run.
    drop(guard);
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    within(second).await.unwrap();
    assert_eq!(*mutex.lock().await, ["second"]);
}

#[brigade::test(virtual)]
async fn a_cancelled_holder_releases_the_lock() {
    let mutex = Arc::new(Mutex::new(0));
    let holder = brigade::spawn({
        let mutex = mutex.clone();
        async move {
            let _g = mutex.lock().await;
            sleep(Duration::from_secs(3600)).await;
        }
    });
    settle().await;
    assert!(mutex.is_locked());
    holder.abort();
    let _ = holder.await;
    assert!(!mutex.is_locked());
}

#[test]
fn into_inner_and_get_mut_bypass_the_lock() {
    let mut mutex = Mutex::new(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(mutex.into_inner(), [1, 2]);
}

#[brigade::test(virtual)]
async fn critical_sections_never_overlap() {
    let mutex = Arc::new(Mutex::new(()));
    let inside = Rc::new(RefCell::new((0, 0))); // (now, max)
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (mutex, inside) = (mutex.clone(), inside.clone());
            brigade::spawn(async move {
                for _ in 0..3 {
                    let _g = mutex.lock().await;
                    {
                        let mut s = inside.borrow_mut();
                        s.0 += 1;
                        s.1 = s.1.max(s.0);
                    }
                    sleep(Duration::from_millis(i % 3)).await;
                    inside.borrow_mut().0 -= 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*inside.borrow(), (0, 1));
}

#[test]
fn loops_on_several_threads_share_one_mutex() {
    let counter = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                brigade::run(async move {
                    let tasks: Vec<_> = (0..8)
                        .map(|_| {
                            let counter = counter.clone();
                            brigade::spawn(async move {
                                for _ in 0..250 {
                                    let mut n = counter.lock().await;
                                    let seen = *n;
                                    brigade::yield_now().await;
                                    *n = seen + 1;
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*counter.try_lock().unwrap(), 4 * 8 * 250);
}

#[brigade::test(virtual)]
async fn an_owned_guard_moves_into_a_task_and_unlocks_there() {
    assert_send_sync::<brigade::sync::OwnedMutexGuard<u8>>();
    let mutex = Arc::new(Mutex::new(1));
    let guard = mutex.clone().lock_owned().await;
    let task = brigade::spawn(async move {
        let mut guard = guard;
        sleep(Duration::from_millis(5)).await;
        *guard += 1;
    });
    settle().await;
    assert!(mutex.is_locked());
    within(task).await.unwrap();
    assert_eq!(*mutex.lock().await, 2);
}
