//! Tasks: spawning, joining, panics, cancellation, shutdown, misuse.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use brigade::event_loop::RuntimeError;
use brigade::{JoinError, Runtime, spawn, spawn_named, yield_now};

/// Sets a flag when dropped: shows that a future's destructor ran.
struct DropFlag(Rc<Cell<bool>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn virtual_rt() -> Runtime {
    Runtime::builder().virtual_clock(true).build().unwrap()
}

#[test]
fn a_coroutine_does_nothing_until_awaited() {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    let coroutine = async move { flag.set(true) };
    assert!(!ran.get(), "creating the future must not run it");
    brigade::run(coroutine);
    assert!(ran.get());
}

#[test]
fn spawned_tasks_return_their_values_in_any_join_order() {
    let total = brigade::run(async {
        let handles: Vec<_> = (0..1000u64).map(|i| spawn(async move { i * 2 })).collect();
        let mut total = 0;
        for h in handles.into_iter().rev() {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, 999 * 1000);
}

#[test]
fn a_panicking_task_reports_its_message_and_the_loop_survives() {
    brigade::run(async {
        let bad = spawn(async {
            yield_now().await;
            panic!("board {} fell over", 7);
        });
        let good = spawn(async { "still here" });
        let error = bad.await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("board 7 fell over"));
        assert_eq!(error.to_string(), "task panicked: board 7 fell over");
        assert_eq!(good.await.unwrap(), "still here");
    });
}

#[test]
fn abort_drops_the_future_promptly_and_reports_cancellation() {
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    brigade::run(async move {
        let task = spawn(async move {
            let _guard = DropFlag(flag);
            brigade::sleep(Duration::from_secs(3600)).await;
        });
        yield_now().await; // let it start and park on its timer
        assert!(!task.is_finished());
        task.abort();
        yield_now().await; // one turn of the loop
        assert!(task.is_finished());
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert!(dropped.get());
}

#[test]
fn aborting_before_the_first_poll_never_runs_the_task() {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    brigade::run(async move {
        let task = spawn(async move { flag.set(true) });
        task.abort();
        assert!(matches!(task.await, Err(JoinError::Cancelled(_))));
    });
    assert!(!ran.get());
}

#[test]
fn aborting_a_finished_task_keeps_its_output() {
    brigade::run(async {
        let task = spawn(async { 5 });
        yield_now().await;
        assert!(task.is_finished());
        task.abort();
        assert_eq!(task.await.unwrap(), 5);
    });
}

#[test]
fn a_task_can_abort_itself() {
    brigade::run(async {
        let slot: Rc<RefCell<Option<brigade::event_loop::AbortHandle>>> = Rc::default();
        let inner = slot.clone();
        let task = spawn(async move {
            yield_now().await;
            inner.borrow().as_ref().unwrap().abort();
            yield_now().await;
            unreachable!("aborted tasks are not polled again");
        });
        *slot.borrow_mut() = Some(task.abort_handle());
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn tasks_have_names_and_unique_ids() {
    brigade::run(async {
        let a = spawn_named("board-1", async {});
        let b = spawn(async {});
        assert_eq!(a.name(), Some("board-1"));
        assert_eq!(b.name(), None);
        assert_ne!(a.id(), b.id());
        a.await.unwrap();
        b.await.unwrap();
    });
}

#[test]
fn yield_now_lets_every_other_ready_task_run_first() {
    let log = Rc::new(RefCell::new(Vec::new()));
    brigade::run({
        let log = log.clone();
        async move {
            let tasks: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let log = log.clone();
                    spawn(async move {
                        for i in 0..3 {
                            log.borrow_mut().push(format!("{name}{i}"));
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[test]
fn dropping_the_runtime_cancels_live_tasks_and_runs_their_destructors() {
    let dropped = Rc::new(Cell::new(0));
    {
        let rt = virtual_rt();
        for _ in 0..10 {
            let flag = Rc::new(Cell::new(false));
            let counter = dropped.clone();
            rt.spawn(async move {
                struct Count(Rc<Cell<i32>>);
                impl Drop for Count {
                    fn drop(&mut self) {
                        self.0.set(self.0.get() + 1);
                    }
                }
                let _count = Count(counter);
                let _flag = DropFlag(flag);
                std::future::pending::<()>().await;
            });
        }
        rt.block_on(yield_now());
        assert_eq!(rt.live_tasks(), 10);
    }
    assert_eq!(dropped.get(), 10);
}

#[test]
fn destructors_that_spawn_during_shutdown_are_cancelled_too() {
    let inner_dropped = Rc::new(Cell::new(false));
    {
        let rt = virtual_rt();
        let flag = inner_dropped.clone();
        rt.spawn(async move {
            struct SpawnOnDrop(Option<Rc<Cell<bool>>>);
            impl Drop for SpawnOnDrop {
                fn drop(&mut self) {
                    // Captured by value: dropped even if never polled.
                    let guard = DropFlag(self.0.take().unwrap());
                    drop(spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await
                    }));
                }
            }
            let _s = SpawnOnDrop(Some(flag));
            std::future::pending::<()>().await
        });
        rt.block_on(yield_now());
    }
    assert!(inner_dropped.get());
}

#[test]
fn run_inside_run_is_a_clear_error() {
    brigade::run(async {
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.try_block_on(async {}), Err(RuntimeError::Nested));
        let message = RuntimeError::Nested.to_string();
        assert!(message.contains("inside a running event loop"), "{message}");
    });
}

#[test]
#[should_panic(expected = "cannot run an event loop inside a running event loop")]
fn nested_run_panics_with_the_explanation() {
    brigade::run(async { brigade::run(async {}) });
}

#[test]
#[should_panic(expected = "must be called from a task on a brigade event loop")]
fn spawn_outside_a_loop_explains_itself() {
    drop(spawn(async {}));
}

#[test]
fn awaiting_a_handle_on_another_loop_is_an_error() {
    let rt1 = Runtime::new().unwrap();
    let handle = rt1.spawn(async { 1 });
    let result = brigade::run(handle);
    assert!(matches!(result, Err(JoinError::WrongLoop(_))), "{result:?}");
}

#[test]
fn a_runtime_can_block_on_several_times_and_keep_its_tasks() {
    let rt = virtual_rt();
    let counter = Rc::new(Cell::new(0));
    let c = counter.clone();
    let background = rt.spawn(async move {
        loop {
            brigade::sleep(Duration::from_secs(1)).await;
            c.set(c.get() + 1);
        }
    });
    rt.block_on(brigade::sleep(Duration::from_millis(3500)));
    assert_eq!(counter.get(), 3);
    rt.block_on(brigade::sleep(Duration::from_secs(2)));
    assert_eq!(counter.get(), 5);
    background.abort();
    assert!(rt.block_on(background).unwrap_err().is_cancelled());
}

#[test]
fn panics_in_destructors_of_cancelled_tasks_do_not_take_the_loop_down() {
    brigade::run(async {
        struct Explode;
        impl Drop for Explode {
            fn drop(&mut self) {
                panic!("destructor exploded");
            }
        }
        let task = spawn(async {
            let _e = Explode;
            std::future::pending::<()>().await
        });
        yield_now().await;
        task.abort();
        let error = task.await.unwrap_err();
        assert_eq!(error.panic_message(), Some("destructor exploded"));
    });
}

#[test]
fn dropping_a_handle_detaches_the_task_which_still_runs() {
    let done = Rc::new(Cell::new(false));
    let flag = done.clone();
    brigade::run(async move {
        drop(spawn(async move {
            yield_now().await;
            flag.set(true);
        }));
        for _ in 0..3 {
            yield_now().await;
        }
    });
    assert!(done.get());
}

/// A future that remembers where it was when first polled, and whose
/// destructor reports whether it is dropped at that same place. A pinned
/// future must be dropped where it was pinned: a future that borrows from
/// itself reads its own memory in its destructor. It wakes itself at once,
/// so it is polled again, and then finishes if `finish` is set.
struct PinProbe {
    polled_at: Option<usize>,
    finish: bool,
    dropped_in_place: Rc<Cell<Option<bool>>>,
}

impl PinProbe {
    fn new(finish: bool, dropped_in_place: &Rc<Cell<Option<bool>>>) -> PinProbe {
        PinProbe {
            polled_at: None,
            finish,
            dropped_in_place: dropped_in_place.clone(),
        }
    }
}

impl Future for PinProbe {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.polled_at.is_some() && this.finish {
            return Poll::Ready(());
        }
        this.polled_at = Some(this as *const PinProbe as usize);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Drop for PinProbe {
    fn drop(&mut self) {
        if let Some(at) = self.polled_at {
            let here = self as *const PinProbe as usize;
            self.dropped_in_place.set(Some(at == here));
        }
    }
}

#[test]
fn an_aborted_task_drops_its_future_where_it_was_pinned() {
    let seen = Rc::new(Cell::new(None));
    brigade::run(async {
        let task = spawn(PinProbe::new(false, &seen));
        yield_now().await; // the probe is polled, so pinned
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!(seen.get(), Some(true));
}

#[test]
fn a_finished_task_drops_its_future_where_it_was_pinned() {
    let seen = Rc::new(Cell::new(None));
    brigade::run(async {
        spawn(PinProbe::new(true, &seen)).await.unwrap();
    });
    assert_eq!(seen.get(), Some(true));
}
