//! Regressions found in review: hangs, escaping panics, lost wake-ups and
//! overflow at the edges of the event loop. Scenarios that used to hang run
//! on a thread of their own, with a generous limit that only a hang exceeds.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use brigade::sync::oneshot;
use brigade::time::{Instant, sleep, timeout};
use brigade::{Runtime, TaskGroup, spawn, task_group, to_thread};

/// Runs `f` on a thread; `None` if it has not finished after `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

const HANG: Duration = Duration::from_secs(60);

fn virtual_rt() -> Runtime {
    Runtime::builder().virtual_clock(true).build().unwrap()
}

#[test]
fn a_blocking_job_not_yet_awaited_lets_the_virtual_clock_move_once_done() {
    let r = within(HANG, || {
        virtual_rt().block_on(async {
            let job = to_thread(|| 42);
            sleep(Duration::from_secs(1)).await;
            job.await.unwrap()
        })
    });
    assert_eq!(r, Some(42), "the loop hung");
}

#[test]
fn a_group_dropped_from_outside_refuses_new_children() {
    let ran = Rc::new(RefCell::new(false));
    let r2 = ran.clone();
    virtual_rt().block_on(async move {
        let escaped: Rc<RefCell<Option<TaskGroup<()>>>> = Rc::default();
        let e2 = escaped.clone();
        let group = task_group(move |g: TaskGroup<()>| {
            *e2.borrow_mut() = Some(g);
            std::future::pending::<Result<(), ()>>()
        });
        assert!(timeout(Duration::from_secs(1), group).await.is_err());
        let g = escaped.borrow_mut().take().unwrap();
        let child = g.spawn(async move {
            *r2.borrow_mut() = true;
            Ok::<_, ()>(())
        });
        assert!(child.await.unwrap_err().is_cancelled());
        sleep(Duration::from_secs(1)).await;
    });
    assert!(!*ran.borrow(), "a child spawned into a dropped group ran");
}

struct ReadyThenPanicOnDrop;
impl Future for ReadyThenPanicOnDrop {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(7)
    }
}
impl Drop for ReadyThenPanicOnDrop {
    fn drop(&mut self) {
        panic!("drop of a finished future");
    }
}

#[test]
fn a_panic_dropping_a_finished_future_is_the_tasks_panic() {
    let error = brigade::run(async { spawn(ReadyThenPanicOnDrop).await.unwrap_err() });
    assert_eq!(error.panic_message(), Some("drop of a finished future"));
}

#[test]
fn a_panicking_callback_loses_no_wake_up() {
    let r = within(HANG, || {
        let rt = Runtime::new().unwrap();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let (s, p) = (slot.clone(), polls.clone());
        let task = rt.spawn(std::future::poll_fn(move |cx| {
            if p.fetch_add(1, Ordering::SeqCst) == 0 {
                *s.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        rt.block_on(brigade::yield_now());
        let waker = slot.lock().unwrap().take().unwrap();
        rt.handle().call_soon(|| panic!("bad callback")).unwrap();
        // From another thread, so it goes through the remote queue too.
        std::thread::spawn(move || waker.wake()).join().unwrap();
        rt.block_on(task).is_ok()
    });
    assert_eq!(r, Some(true), "the task was never polled again");
}

#[test]
fn an_enormous_sleep_does_not_freeze_the_virtual_clock() {
    let r = within(HANG, || {
        virtual_rt().block_on(async {
            let _forever = spawn(sleep(Duration::from_secs(1 << 62)));
            let start = Instant::now();
            sleep(Duration::from_secs(1)).await;
            start.elapsed()
        })
    });
    assert_eq!(r, Some(Duration::from_secs(1)));
}

#[test]
fn duration_max_means_forever() {
    virtual_rt().block_on(async {
        assert_eq!(timeout(Duration::MAX, async { 1 }).await, Ok(1));
        let never = spawn(sleep(Duration::MAX));
        sleep(Duration::from_secs(3600)).await;
        assert!(!never.is_finished());
    });
}

struct SpawnOnDrop(Arc<AtomicBool>);
impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let flag = self.0.clone();
        drop(spawn(async move { flag.store(true, Ordering::SeqCst) }));
    }
}

#[test]
fn a_task_spawned_at_the_end_of_shutdown_is_cancelled_unrun() {
    let flag = Arc::new(AtomicBool::new(false));
    let rt = Runtime::new().unwrap();
    let guard = SpawnOnDrop(flag.clone());
    rt.handle().call_soon(move || drop(guard)).unwrap();
    drop(rt); // the undelivered callback is dropped, and spawns, during shutdown
    assert!(!flag.load(Ordering::SeqCst));
}

thread_local! {
    static HELD: RefCell<Option<oneshot::Sender<u32>>> = const { RefCell::new(None) };
}

#[test]
fn a_wake_from_a_thread_local_destructor_does_not_abort() {
    brigade::run(async {
        let (tx, rx) = oneshot::channel::<u32>();
        let t = std::thread::spawn(move || {
            HELD.with(|h| *h.borrow_mut() = Some(tx));
            brigade::run(async {}); // this thread's loop context is torn down first
        });
        let task = spawn(async move { rx.await.is_err() });
        brigade::yield_now().await;
        assert!(
            to_thread(move || t.join().is_ok()).await.unwrap(),
            "the thread died"
        );
        assert!(task.await.unwrap());
    });
}

#[test]
fn resetting_a_sleep_away_from_its_loop_takes_the_new_deadline() {
    let rt = virtual_rt();
    let (mut s, start) = rt.block_on(async {
        let start = Instant::now();
        let mut s = Box::pin(sleep(Duration::from_secs(5)));
        std::future::poll_fn(|cx| {
            assert!(s.as_mut().poll(cx).is_pending()); // armed at +5 s
            Poll::Ready(())
        })
        .await;
        (s, start)
    });
    s.as_mut().reset(start + Duration::from_millis(10)); // no loop current
    let woke = rt.block_on(async {
        s.await;
        Instant::now()
    });
    assert_eq!(woke - start, Duration::from_millis(10));
}

struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("output dropped");
    }
}

#[test]
fn blocking_threads_survive_outputs_that_panic_when_dropped() {
    let r = within(HANG, || {
        brigade::run(async {
            for _ in 0..brigade::event_loop::MAX_BLOCKING_THREADS + 4 {
                // The job returns only once nobody awaits it any more, so the
                // pool thread is the one that drops the output, which panics.
                let (go, wait) = std::sync::mpsc::channel::<()>();
                drop(to_thread(move || {
                    let _ = wait.recv();
                    PanicOnDrop
                }));
                go.send(()).unwrap();
            }
            to_thread(|| 1).await.unwrap()
        })
    });
    assert_eq!(r, Some(1), "the pool stopped running jobs");
}
