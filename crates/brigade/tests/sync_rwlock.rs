//! The async RwLock: shared readers, one writer, FIFO fairness (a writer
//! is never starved), downgrade, cancellation at its await points (waiting
//! to read, waiting to write) and use across threads.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use brigade::sync::{RwLock, TryLockError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn lock_and_guards_are_send_and_sync() {
    assert_send_sync::<RwLock<Vec<u8>>>();
    assert_send_sync::<brigade::sync::RwLockReadGuard<'static, u8>>();
    assert_send_sync::<brigade::sync::RwLockWriteGuard<'static, u8>>();
    assert_send_sync::<brigade::sync::OwnedRwLockReadGuard<u8>>();
    assert_send_sync::<brigade::sync::OwnedRwLockWriteGuard<u8>>();
}

/// Spawns a task that waits `delay` ms (to fix the arrival order), then
/// takes the lock (`'r'` read, `'w'` write), logs `name`, and holds the
/// lock for `hold` ms.
fn spawn_user(
    lock: &Arc<RwLock<()>>,
    log: &Rc<RefCell<Vec<String>>>,
    name: &str,
    delay: u64,
    hold: u64,
) -> brigade::JoinHandle<()> {
    let (lock, log, name) = (lock.clone(), log.clone(), name.to_string());
    brigade::spawn(async move {
        sleep(Duration::from_millis(delay)).await;
        if name.starts_with('r') {
            let _g = lock.read().await;
            log.borrow_mut().push(name);
            sleep(Duration::from_millis(hold)).await;
        } else {
            let _g = lock.write().await;
            log.borrow_mut().push(name);
            sleep(Duration::from_millis(hold)).await;
        }
    })
}

#[brigade::test(virtual)]
async fn readers_share_and_a_writer_excludes() {
    let lock = RwLock::new(1);
    let a = lock.read().await;
    let b = lock.read().await;
    assert_eq!(*a + *b, 2);
    assert_eq!(lock.try_write().err(), Some(TryLockError));
    drop((a, b));
    let mut w = lock.write().await;
    *w = 5;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    drop(w);
    assert_eq!(*lock.try_read().unwrap(), 5);
}

#[brigade::test(virtual)]
async fn a_queued_writer_holds_back_later_readers() {
    let lock = Arc::new(RwLock::new(()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let reader = lock.read().await;
    let tasks = vec![
        spawn_user(&lock, &log, "w1", 1, 1),
        spawn_user(&lock, &log, "r1", 2, 1),
        spawn_user(&lock, &log, "r2", 3, 1),
        spawn_user(&lock, &log, "w2", 4, 1),
        spawn_user(&lock, &log, "r3", 5, 1),
    ];
    sleep(Duration::from_millis(10)).await;
    // A reader holds the lock, yet nobody else got in: the writer queues
    // first and the readers behind it.
    assert!(log.borrow().is_empty());
    assert!(lock.try_read().is_err(), "try_read jumped the queue");
    drop(reader);
    for t in tasks {
        within(t).await.unwrap();
    }
    assert_eq!(*log.borrow(), ["w1", "r1", "r2", "w2", "r3"]);
}

#[brigade::test(virtual)]
async fn readers_between_writers_run_together() {
    let lock = Arc::new(RwLock::new(()));
    let writer = lock.write().await;
    let inside = Rc::new(RefCell::new((0, 0)));
    let readers: Vec<_> = (0..5)
        .map(|_| {
            let (lock, inside) = (lock.clone(), inside.clone());
            brigade::spawn(async move {
                let _g = lock.read().await;
                {
                    let mut s = inside.borrow_mut();
                    s.0 += 1;
                    s.1 = s.1.max(s.0);
                }
                sleep(Duration::from_millis(1)).await;
                inside.borrow_mut().0 -= 1;
            })
        })
        .collect();
    settle().await;
    drop(writer);
    for t in readers {
        within(t).await.unwrap();
    }
    assert_eq!(*inside.borrow(), (0, 5));
}

#[brigade::test(virtual)]
async fn a_stream_of_readers_does_not_starve_a_writer() {
    let lock = Arc::new(RwLock::new(0u32));
    // Readers overlap each other forever, unless a writer closes the door.
    let readers: Vec<_> = (0..4)
        .map(|i| {
            let lock = lock.clone();
            brigade::spawn(async move {
                sleep(Duration::from_millis(i)).await;
                loop {
                    let g = lock.read().await;
                    sleep(Duration::from_millis(3)).await;
                    if *g > 0 {
                        return;
                    }
                }
            })
        })
        .collect();
    settle().await;
    *within(lock.write()).await += 1;
    for t in readers {
        within(t).await.unwrap();
    }
}

#[brigade::test(virtual)]
async fn max_readers_makes_later_readers_wait() {
    let lock = Arc::new(RwLock::with_max_readers(0, 2));
    let (a, b) = (lock.read().await, lock.read().await);
    assert!(lock.try_read().is_err());
    let third = brigade::spawn({
        let lock = lock.clone();
        async move { *lock.read().await }
    });
    settle().await;
    assert!(!third.is_finished());
    drop(a);
    assert_eq!(within(third).await.unwrap(), 0);
    drop(b);
    assert!(lock.try_write().is_ok());
}

#[brigade::test(virtual)]
async fn downgrade_lets_queued_readers_in_but_not_a_writer() {
    let lock = Arc::new(RwLock::new(0));
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut w = lock.write().await;
    let (l, g) = (lock.clone(), log.clone());
    let reader = brigade::spawn(async move {
        let r = l.read().await;
        g.borrow_mut().push(format!("r{}", *r));
    });
    settle().await;
    let (l, g) = (lock.clone(), log.clone());
    let writer = brigade::spawn(async move {
        *l.write().await += 1;
        g.borrow_mut().push("w".to_string());
    });
    settle().await;
    *w = 7;
    let r = w.downgrade();
    assert_eq!(*r, 7);
    within(reader).await.unwrap();
    assert_eq!(*log.borrow(), ["r7"]);
    settle().await;
    assert!(!writer.is_finished(), "the writer got in past a reader");
    drop(r);
    within(writer).await.unwrap();
    assert_eq!(*log.borrow(), ["r7", "w"]);
    assert_eq!(*lock.read().await, 8);
}

#[brigade::test(virtual)]
async fn owned_guards_move_into_tasks() {
    let lock = Arc::new(RwLock::new(1));
    let r = lock.clone().read_owned().await;
    let reader = brigade::spawn(async move {
        sleep(Duration::from_millis(5)).await;
        *r
    });
    let w = brigade::spawn({
        let lock = lock.clone();
        async move {
            let mut w = lock.write_owned().await;
            *w += 1;
            let r = w.downgrade();
            *r
        }
    });
    assert_eq!(within(reader).await.unwrap(), 1);
    assert_eq!(within(w).await.unwrap(), 2);
    assert!(lock.try_write().is_ok());
}

#[brigade::test(virtual)]
async fn cancelled_waits_leave_the_queue() {
    let lock = Arc::new(RwLock::new(0));
    let held = lock.write().await;
    assert!(
        timeout(Duration::from_millis(1), lock.read())
            .await
            .is_err()
    );
    assert!(
        timeout(Duration::from_millis(1), lock.write())
            .await
            .is_err()
    );
    drop(held);
    // Nothing left queued: the fast paths are open again.
    assert!(lock.try_read().is_ok());
    assert!(lock.try_write().is_ok());
}

#[brigade::test(virtual)]
async fn a_cancelled_writer_at_the_head_lets_the_readers_behind_it_in() {
    let lock = Arc::new(RwLock::new(0));
    let reader = lock.read().await;
    let writer = brigade::spawn({
        let lock = lock.clone();
        async move { *lock.write().await += 1 }
    });
    settle().await;
    let late_reader = brigade::spawn({
        let lock = lock.clone();
        async move { *lock.read().await }
    });
    settle().await;
    assert!(!late_reader.is_finished());
    writer.abort();
    assert!(writer.await.unwrap_err().is_cancelled());
    // The reader behind the cancelled writer shares with the holder.
    assert_eq!(within(late_reader).await.unwrap(), 0);
    drop(reader);
    assert!(lock.try_write().is_ok());
}

#[brigade::test(virtual)]
async fn waiters_cancelled_after_the_hand_off_pass_it_on() {
    for first_writes in [false, true] {
        let lock = Arc::new(RwLock::new(Vec::new()));
        let held = lock.write().await;
        let first = brigade::spawn({
            let lock = lock.clone();
            async move {
                if first_writes {
                    lock.write().await.push("first");
                } else {
                    let _r = lock.read().await;
                }
            }
        });
        settle().await;
        let second = brigade::spawn({
            let lock = lock.clone();
            async move { lock.write().await.push("second") }
        });
        settle().await;
        // Hand the lock to `first`, then cancel it before it runs.
        drop(held);
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        within(second).await.unwrap();
        assert_eq!(*lock.read().await, ["second"]);
        assert!(lock.try_write().is_ok());
    }
}

#[brigade::test(virtual)]
async fn a_cancelled_holder_releases_the_lock() {
    let lock = Arc::new(RwLock::new(0));
    let holders: Vec<_> = [false, true, false]
        .into_iter()
        .map(|write| {
            let lock = lock.clone();
            brigade::spawn(async move {
                if write {
                    let _g = lock.write().await;
                    sleep(Duration::from_secs(3600)).await;
                } else {
                    let _g = lock.read().await;
                    sleep(Duration::from_secs(3600)).await;
                }
            })
        })
        .collect();
    settle().await;
    for h in holders {
        h.abort();
        let _ = h.await;
    }
    assert!(lock.try_write().is_ok());
}

#[test]
fn into_inner_and_get_mut_bypass_the_lock() {
    let mut lock = RwLock::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(format!("{lock:?}"), "RwLock { data: [1, 2] }");
    assert_eq!(lock.into_inner(), [1, 2]);
}

#[test]
fn loops_on_several_threads_share_one_lock() {
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let lock = lock.clone();
            std::thread::spawn(move || {
                brigade::run(async move {
                    let tasks: Vec<_> = (0..8)
                        .map(|i| {
                            let lock = lock.clone();
                            brigade::spawn(async move {
                                for j in 0..200 {
                                    if (i + j) % 4 == 0 {
                                        let mut g = lock.write().await;
                                        let seen = g.0;
                                        brigade::yield_now().await;
                                        g.0 = seen + 1;
                                        g.1 = seen + 1;
                                    } else {
                                        let g = lock.read().await;
                                        let a = g.0;
                                        brigade::yield_now().await;
                                        assert_eq!((a, a), *g, "a reader saw a torn write");
                                    }
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
    assert_eq!(*lock.try_read().unwrap(), (4 * 8 * 50, 4 * 8 * 50));
}
