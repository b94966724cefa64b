//! The loop's own run queue holds tasks without a reference of their own:
//! the registry's reference keeps them alive, and a task that finishes while
//! still queued hands that reference to its entry. These tests walk each
//! way a queued task can end (finishing in the poll that woke it, being
//! cancelled by an abort or by the loop's shutdown, being woken from two
//! threads at once) and check that every task's memory goes exactly once:
//! the values they capture are dropped, and `scripts/memcheck.sh` runs this
//! file under valgrind, which fails on a leak or a use after free.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use brigade::Runtime;
use brigade::event_loop::{TaskState, all_tasks};
use brigade::sync::oneshot;

/// Ready at once, after waking its own task: the task finishes while it
/// sits in the run queue again.
fn wake_self_and_finish() -> impl Future<Output = ()> {
    poll_fn(|cx| {
        cx.waker().wake_by_ref();
        Poll::Ready(())
    })
}

#[test]
fn a_task_that_finishes_while_queued_is_freed_once() {
    let token = Rc::new(());
    Runtime::new().unwrap().block_on({
        let token = token.clone();
        async move {
            let awaited = brigade::spawn({
                let token = token.clone();
                async move {
                    wake_self_and_finish().await;
                    token
                }
            });
            // Detached: only the loop's references are left when it ends.
            drop(brigade::spawn({
                let token = token.clone();
                async move {
                    let _token = token;
                    wake_self_and_finish().await;
                }
            }));
            let back = awaited.await.unwrap();
            brigade::yield_now().await; // the stale entries are popped
            assert_eq!(Rc::strong_count(&back), 3, "only the caller's clones");
        }
    });
    assert_eq!(Rc::strong_count(&token), 1, "every capture was dropped");
}

#[test]
fn shutdown_frees_tasks_still_queued_and_those_their_drops_wake() {
    let token = Rc::new(());
    let rt = Runtime::new().unwrap();
    rt.block_on({
        let token = token.clone();
        async move {
            let (tx, rx) = oneshot::channel::<()>();
            // Runs once and waits on `rx`.
            drop(brigade::spawn({
                let token = token.clone();
                async move {
                    let _token = token;
                    let _ = rx.await;
                }
            }));
            brigade::yield_now().await;
            // Queued, never run: cancelling it at shutdown drops `tx`,
            // which wakes the waiter above while the loop shuts down.
            drop(brigade::spawn({
                let token = token.clone();
                async move {
                    let _keep = (token, tx);
                }
            }));
            for _ in 0..3 {
                let token = token.clone();
                drop(brigade::spawn(async move { drop(token) }));
            }
            assert_eq!(all_tasks().len(), 5);
            assert!(
                all_tasks()
                    .iter()
                    .skip(1)
                    .all(|t| t.state() == TaskState::Ready),
                "a queued task reads as ready"
            );
        }
    });
    drop(rt);
    assert_eq!(Rc::strong_count(&token), 1, "every capture was dropped");
}

#[test]
fn an_abort_on_the_owner_thread_cancels_a_queued_task_unrun() {
    Runtime::new().unwrap().block_on(async {
        let polled = Rc::new(std::cell::Cell::new(false));
        let task = brigade::spawn({
            let polled = polled.clone();
            async move { polled.set(true) }
        });
        task.abort(); // still queued from its spawn
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!polled.get(), "cancelled before its first poll");
    });
}

/// Pending until `woken` reaches 2, counting its polls.
struct TwoWakes {
    woken: Arc<AtomicUsize>,
    polls: usize,
    waker: Arc<std::sync::Mutex<Option<Waker>>>,
}

impl Future for TwoWakes {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls += 1;
        if self.woken.load(Ordering::Acquire) >= 2 {
            return Poll::Ready(self.polls);
        }
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_task_woken_from_its_loop_and_another_thread_at_once_finishes() {
    let polls = Runtime::new().unwrap().block_on(async {
        let woken = Arc::new(AtomicUsize::new(0));
        let waker = Arc::new(std::sync::Mutex::new(None::<Waker>));
        let task = brigade::spawn(TwoWakes {
            woken: woken.clone(),
            polls: 0,
            waker: waker.clone(),
        });
        brigade::yield_now().await; // it runs once and parks
        let w = waker.lock().unwrap().clone().expect("parked");
        // One wake-up from another thread (the remote queue), one from here
        // (the loop's own), before the task runs again.
        std::thread::spawn({
            let (w, woken) = (w.clone(), woken.clone());
            move || {
                woken.fetch_add(1, Ordering::AcqRel);
                w.wake();
            }
        })
        .join()
        .unwrap();
        woken.fetch_add(1, Ordering::AcqRel);
        w.wake();
        task.await.unwrap()
    });
    // Its first poll, then one or two more: a task in both queues may be
    // polled once more than needed, never lost.
    assert!((2..=3).contains(&polls), "polled {polls} times");
}

fn virtual_rt() -> Runtime {
    Runtime::builder().virtual_clock(true).build().unwrap()
}

/// Polls a sleep once, then forgets it: its timer stays in the wheel, and
/// names the task, after the task has finished.
async fn leak_a_sleep(secs: u64) {
    // A `Sleep` is `Unpin`: polled in place and forgotten, it leaks no
    // memory of its own, only its timer.
    let mut nap = brigade::sleep(std::time::Duration::from_secs(secs));
    let pending = poll_fn(|cx| Poll::Ready(Pin::new(&mut nap).poll(cx).is_pending())).await;
    assert!(pending);
    std::mem::forget(nap);
}

#[test]
fn a_finished_task_whose_timer_is_still_set_is_freed_by_the_timer() {
    let token = Rc::new(());
    let rt = virtual_rt();
    rt.block_on({
        let token = token.clone();
        async move {
            let task = brigade::spawn({
                let token = token.clone();
                async move {
                    leak_a_sleep(1).await;
                    token
                }
            });
            drop(task.await.unwrap());
            // The timer fires on a finished task: nothing runs, and the
            // task's memory goes with the timer.
            brigade::sleep(std::time::Duration::from_secs(2)).await;
            // One more, never fired: the runtime's drop clears it.
            drop(brigade::spawn(leak_a_sleep(3)));
            brigade::yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(Rc::strong_count(&token), 1, "every capture was dropped");
}

#[test]
fn a_task_with_more_timers_than_pins_wakes_for_each() {
    let rt = virtual_rt();
    let (woken, elapsed) = rt.block_on(async {
        let start = brigade::time::Instant::now();
        let task = brigade::spawn(async {
            // 300 sleeps of 1..=300 s awaited together, more than a task's
            // pin count holds: the rest keep a waker, and all of them fire.
            let mut naps: Vec<_> = (1..=300u64)
                .map(|s| Some(Box::pin(brigade::sleep(std::time::Duration::from_secs(s)))))
                .collect();
            let mut woken = 0;
            poll_fn(|cx| {
                for nap in naps.iter_mut() {
                    if nap.as_mut().is_some_and(|n| n.as_mut().poll(cx).is_ready()) {
                        *nap = None;
                        woken += 1;
                    }
                }
                if woken == naps.len() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            woken
        });
        let woken = task.await.unwrap();
        (woken, start.elapsed())
    });
    assert_eq!(woken, 300);
    assert_eq!(elapsed, std::time::Duration::from_secs(300));
}

#[test]
fn a_sleep_polled_by_another_task_wakes_that_task() {
    let rt = virtual_rt();
    let woke = rt.block_on(async {
        let nap = Rc::new(std::cell::RefCell::new(Box::pin(brigade::sleep(
            std::time::Duration::from_secs(5),
        ))));
        let first_woke = Rc::new(std::cell::Cell::new(false));
        // The first task polls it once, then waits for good elsewhere.
        let first = brigade::spawn({
            let (nap, first_woke) = (nap.clone(), first_woke.clone());
            async move {
                let mut polled = false;
                poll_fn(|cx| {
                    if polled {
                        first_woke.set(true);
                    } else {
                        polled = true;
                        assert!(nap.borrow_mut().as_mut().poll(cx).is_pending());
                    }
                    Poll::<()>::Pending
                })
                .await;
            }
        });
        brigade::yield_now().await;
        // The second takes the timer over, and is the one woken.
        let second = brigade::spawn({
            let nap = nap.clone();
            async move { poll_fn(|cx| nap.borrow_mut().as_mut().poll(cx)).await }
        });
        second.await.unwrap();
        first.abort();
        first_woke.get()
    });
    assert!(!woke, "the first poller is not woken by a timer it gave up");
}
