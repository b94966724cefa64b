//! The loop-local mutex: the same FIFO hand-off and cancellation rules as
//! `Mutex` (asyncio's `test_locks` cases: fairness, a cancelled waiter, a
//! waiter cancelled after the release), shared through an `Rc`, and safe
//! against a waker that touches the mutex while it is being unlocked.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use brigade::sync::{LocalMutex, LocalMutexGuard, TryLockError};
use brigade::time::{sleep, timeout};

mod common;
use common::{settle, within};

/// Spawns a task that locks `mutex` and records `name`.
fn locker(
    mutex: &Rc<LocalMutex<Vec<&'static str>>>,
    name: &'static str,
) -> brigade::JoinHandle<()> {
    let mutex = mutex.clone();
    brigade::spawn(async move { mutex.lock().await.push(name) })
}

#[brigade::test(virtual)]
async fn waiters_are_served_in_arrival_order_and_none_barges() {
    let mutex = Rc::new(LocalMutex::new(Vec::new()));
    let guard = mutex.lock().await;
    let mut waiters = Vec::new();
    for name in ["a", "b", "c"] {
        waiters.push(locker(&mutex, name));
        settle().await; // each queues before the next starts
    }
    drop(guard);
    // The lock now belongs to "a", which has not run yet: a newcomer's
    // try_lock fails, and a newcomer's lock queues behind "c".
    assert!(mutex.is_locked());
    assert_eq!(mutex.try_lock().err(), Some(TryLockError));
    waiters.push(locker(&mutex, "late"));
    for w in waiters {
        within(w).await.unwrap();
    }
    assert_eq!(*mutex.lock().await, ["a", "b", "c", "late"]);
    assert!(!mutex.is_locked());
}

#[brigade::test(virtual)]
async fn a_waiter_that_times_out_leaves_the_queue() {
    let mutex = Rc::new(LocalMutex::new(Vec::new()));
    let guard = mutex.lock().await;
    let after = brigade::spawn({
        let mutex = mutex.clone();
        async move {
            sleep(Duration::from_millis(1)).await; // queues behind the timeout
            mutex.lock().await.push("after");
        }
    });
    assert!(
        timeout(Duration::from_millis(5), mutex.lock())
            .await
            .is_err()
    );
    drop(guard);
    within(after).await.unwrap();
    assert_eq!(*mutex.lock().await, ["after"]);
}

#[brigade::test(virtual)]
async fn a_waiter_cancelled_after_the_hand_off_passes_the_lock_on() {
    let mutex = Rc::new(LocalMutex::new(Vec::new()));
    let guard = mutex.lock().await;
    let first = locker(&mutex, "first");
    settle().await;
    let second = locker(&mutex, "second");
    settle().await;
    drop(guard); // hands the lock to `first`...
    first.abort(); // ...which is cancelled before it runs
    assert!(first.await.unwrap_err().is_cancelled());
    within(second).await.unwrap();
    assert_eq!(*mutex.lock().await, ["second"]);
    assert!(!mutex.is_locked());
}

#[brigade::test(virtual)]
async fn a_cancelled_holder_releases_the_lock() {
    let mutex = Rc::new(LocalMutex::new(()));
    let holder = brigade::spawn({
        let mutex = mutex.clone();
        async move {
            let _held = mutex.lock().await;
            sleep(Duration::from_secs(3600)).await;
        }
    });
    settle().await;
    assert!(mutex.is_locked());
    holder.abort();
    let _ = holder.await;
    assert!(!mutex.is_locked());
}

#[brigade::test(virtual)]
async fn critical_sections_never_overlap() {
    let mutex = Rc::new(LocalMutex::new(0u32));
    let inside = Rc::new(Cell::new(0));
    let most = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (mutex, inside, most) = (mutex.clone(), inside.clone(), most.clone());
            brigade::spawn(async move {
                for _ in 0..3 {
                    let mut count = mutex.lock().await;
                    inside.set(inside.get() + 1);
                    most.set(most.get().max(inside.get()));
                    sleep(Duration::from_millis(i % 3)).await;
                    *count += 1;
                    inside.set(inside.get() - 1);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(most.get(), 1);
    assert_eq!(*mutex.lock().await, 60);
}

thread_local! {
    /// The mutex the test below waits on, where its waker can find it.
    static WAITED_ON: RefCell<Option<Rc<LocalMutex<()>>>> = const { RefCell::new(None) };
}

/// A waker that, when woken, asks the mutex it waits on whether it is
/// locked: the unlock that wakes it must have let go of the mutex's state
/// first.
#[derive(Default)]
struct Reentrant {
    saw: std::sync::Mutex<Option<bool>>,
}

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let locked = WAITED_ON.with(|m| m.borrow().as_ref().map(|m| m.is_locked()));
        *self.saw.lock().unwrap() = locked;
    }
}

#[test]
fn a_waker_may_touch_the_mutex_that_wakes_it() {
    let mutex = Rc::new(LocalMutex::new(()));
    WAITED_ON.with(|m| *m.borrow_mut() = Some(mutex.clone()));
    let woken = Arc::new(Reentrant::default());
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    let held = mutex.try_lock().unwrap();
    let mut waiting = pin!(mutex.lock());
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    drop(held); // hands off and wakes: the waker reads the state
    assert_eq!(*woken.saw.lock().unwrap(), Some(true));
    match waiting.as_mut().poll(&mut cx) {
        Poll::Ready(guard) => assert!(std::ptr::eq(LocalMutexGuard::mutex(&guard), &*mutex)),
        Poll::Pending => panic!("the lock was handed over"),
    }
    assert!(!mutex.is_locked());
}

#[test]
fn debug_shows_the_data_or_that_it_is_locked() {
    let mutex = LocalMutex::new(7);
    assert_eq!(format!("{mutex:?}"), "LocalMutex { data: 7 }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "LocalMutex { data: <locked> }");
    assert_eq!(format!("{guard:?} {guard}"), "7 7");
}

#[test]
fn into_inner_and_get_mut_bypass_the_lock() {
    let mut mutex = LocalMutex::from(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(mutex.into_inner(), [1, 2]);
    assert_eq!(LocalMutex::<u8>::default().into_inner(), 0);
}
