//! `wait` with each `ReturnWhen` and a timeout, `as_completed(..).timeout`,
//! and `shield` under cancellation. Pending work must survive every return
//! and every cancelled wait.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::event_loop::{Either, ReturnWhen, as_completed, select, shield, try_wait, wait};
use brigade::time::{Instant, sleep, timeout};
use brigade::{JoinHandle, spawn};

struct DropFlag(Rc<Cell<u32>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Tasks that sleep `s` seconds and return `s`, panicking when `s` is 0 mod 100.
fn sleepers(list: &[u64]) -> Vec<JoinHandle<u64>> {
    list.iter()
        .map(|&s| {
            spawn(async move {
                sleep(secs(s % 100)).await;
                assert!(s < 100, "task {s} failed");
                s
            })
        })
        .collect()
}

fn values<T: Copy>(done: &[brigade::event_loop::Finished<T>]) -> Vec<T> {
    done.iter().map(|f| *f.result.as_ref().unwrap()).collect()
}

#[brigade::test(virtual)]
async fn first_completed_returns_at_the_first_and_leaves_the_rest_running() {
    let start = Instant::now();
    let (done, pending) = wait(sleepers(&[3, 1, 2]), None, ReturnWhen::FirstCompleted).await;
    assert_eq!(start.elapsed(), secs(1));
    assert_eq!(values(&done), [1]);
    assert_eq!(done[0].index, 1);
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|task| !task.is_finished()));
    let mut rest = Vec::new();
    for task in pending {
        rest.push(task.await.unwrap());
    }
    assert_eq!(rest, [3, 2], "pending keeps the input order");
    assert_eq!(start.elapsed(), secs(3));
}

#[brigade::test(virtual)]
async fn first_completed_collects_everything_finished_at_that_moment() {
    let (done, pending) = wait(sleepers(&[2, 1, 1, 3]), None, ReturnWhen::FirstCompleted).await;
    assert_eq!(values(&done), [1, 1]);
    assert_eq!(pending.len(), 2);
}

#[brigade::test(virtual)]
async fn all_completed_waits_for_every_task_in_completion_order() {
    let start = Instant::now();
    let (done, pending) = wait(sleepers(&[3, 1, 2]), None, ReturnWhen::AllCompleted).await;
    assert_eq!(values(&done), [1, 2, 3]);
    assert_eq!(done.iter().map(|f| f.index).collect::<Vec<_>>(), [1, 2, 0]);
    assert!(pending.is_empty());
    assert_eq!(start.elapsed(), secs(3));
}

#[brigade::test(virtual)]
async fn first_exception_returns_at_the_first_panic() {
    let start = Instant::now();
    let (done, pending) = wait(sleepers(&[1, 4, 102, 3]), None, ReturnWhen::FirstException).await;
    assert_eq!(start.elapsed(), secs(2));
    assert_eq!(done.len(), 2);
    assert_eq!(*done[0].result.as_ref().unwrap(), 1);
    let error = done[1].result.as_ref().unwrap_err();
    assert_eq!(error.panic_message(), Some("task 102 failed"));
    assert_eq!(pending.len(), 2);
}

#[brigade::test(virtual)]
async fn first_exception_without_failures_waits_for_all_and_ignores_cancellation() {
    let tasks = sleepers(&[1, 5, 3]);
    tasks[1].abort();
    let (done, pending) = wait(tasks, None, ReturnWhen::FirstException).await;
    assert!(pending.is_empty(), "a cancelled task is no exception");
    assert_eq!(done.len(), 3);
    assert!(done[0].result.as_ref().unwrap_err().is_cancelled());
}

#[brigade::test(virtual)]
async fn try_wait_counts_err_outputs_as_exceptions() {
    let tasks: Vec<JoinHandle<Result<u64, String>>> = [(1, true), (2, false), (3, true)]
        .map(|(s, ok)| {
            spawn(async move {
                sleep(secs(s)).await;
                if ok {
                    Ok(s)
                } else {
                    Err(format!("{s} failed"))
                }
            })
        })
        .into();
    let (done, pending) = try_wait(tasks, None, ReturnWhen::FirstException).await;
    assert_eq!(done.len(), 2);
    assert_eq!(
        done[1].result.as_ref().unwrap(),
        &Err("2 failed".to_string())
    );
    assert_eq!(pending.len(), 1);
    assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), Ok(3));
}

#[brigade::test(virtual)]
async fn timeout_returns_what_finished_and_the_rest_finish_later() {
    let start = Instant::now();
    for when in [
        ReturnWhen::AllCompleted,
        ReturnWhen::FirstException,
        ReturnWhen::FirstCompleted,
    ] {
        let (done, pending) = wait(sleepers(&[5, 6]), Some(secs(2)), when).await;
        assert!(done.is_empty(), "{when:?}");
        assert_eq!(pending.len(), 2);
        for task in pending {
            assert!(
                task.await.is_ok(),
                "{when:?}: the pending task finished later"
            );
        }
    }
    assert_eq!(start.elapsed(), secs(3 * (2 + 4)));
}

#[brigade::test(virtual)]
async fn waiting_on_nothing_returns_at_once() {
    let (done, pending) = wait(Vec::<JoinHandle<()>>::new(), None, ReturnWhen::AllCompleted).await;
    assert!(done.is_empty() && pending.is_empty());
}

#[brigade::test(virtual)]
async fn a_cancelled_wait_leaves_its_tasks_running() {
    let finished = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (1..=2)
        .map(|s| {
            let finished = finished.clone();
            spawn(async move {
                sleep(secs(s * 2)).await;
                finished.set(finished.get() + 1);
            })
        })
        .collect();
    let waited = timeout(secs(1), wait(tasks, None, ReturnWhen::AllCompleted)).await;
    assert!(waited.is_err());
    sleep(secs(10)).await;
    assert_eq!(
        finished.get(),
        2,
        "dropping the wait detached, not cancelled"
    );
}

#[brigade::test(virtual)]
async fn as_completed_timeout_yields_in_order_then_hands_back_the_rest() {
    let dropped = Rc::new(Cell::new(0));
    let futures = [4u64, 1, 2, 6].map(|s| {
        let flag = DropFlag(dropped.clone());
        async move {
            let _flag = flag;
            sleep(secs(s)).await;
            s
        }
    });
    let start = Instant::now();
    let mut done = as_completed(futures).timeout(secs(3));
    assert_eq!(done.remaining(), 4);
    assert_eq!(done.next().await.unwrap().unwrap(), 1);
    assert_eq!(done.next().await.unwrap().unwrap(), 2);
    let timed_out = done.next().await.unwrap().unwrap_err();
    assert_eq!(start.elapsed(), secs(3));
    assert_eq!(timed_out.duration(), secs(3));
    assert_eq!(
        timed_out.to_string(),
        "as_completed timed out after 3s with 2 futures unfinished"
    );
    assert!(done.next().await.is_none());
    assert_eq!(done.remaining(), 0);
    assert_eq!(dropped.get(), 2, "the unfinished ones were not dropped");
    let rest = brigade::gather(timed_out.into_remaining()).await;
    assert_eq!(rest, [4, 6], "handed back in input order, still usable");
    assert_eq!(dropped.get(), 4);
}

#[brigade::test(virtual)]
async fn as_completed_timeout_that_never_fires_ends_with_none() {
    let mut done = as_completed([1u64, 2].map(|s| sleep(secs(s)))).timeout(secs(5));
    assert!(done.next().await.unwrap().is_ok());
    assert!(done.next().await.unwrap().is_ok());
    assert!(done.next().await.is_none());
}

#[brigade::test(virtual)]
async fn a_dropped_as_completed_next_loses_no_output() {
    let mut done = as_completed([2u64, 4].map(|s| async move {
        sleep(secs(s)).await;
        s
    }))
    .timeout(secs(10));
    assert!(timeout(secs(1), done.next()).await.is_err());
    assert_eq!(done.next().await.unwrap().unwrap(), 2);
    assert_eq!(done.next().await.unwrap().unwrap(), 4);
}

#[brigade::test(virtual)]
async fn shield_keeps_working_when_its_waiting_task_is_aborted() {
    let dropped = Rc::new(Cell::new(0));
    let flag = DropFlag(dropped.clone());
    let (tx, rx) = brigade::sync::oneshot::channel();
    let waiter = spawn(async move {
        let work = shield(async move {
            let _flag = flag;
            sleep(secs(3)).await;
            "done"
        });
        // Give the result's route to whoever outlives this task.
        tx.send(work.abort_handle()).ok();
        work.await
    });
    let abort_work = rx.await.unwrap();
    sleep(secs(1)).await;
    waiter.abort();
    assert!(waiter.await.unwrap_err().is_cancelled());
    assert_eq!(dropped.get(), 0, "the shielded work was not dropped");
    assert!(!abort_work.is_finished());
    sleep(secs(3)).await;
    assert!(abort_work.is_finished(), "the work ran to its end");
    assert_eq!(dropped.get(), 1);
}

#[brigade::test(virtual)]
async fn shield_result_is_still_received_after_the_outer_wait_is_cancelled() {
    let start = Instant::now();
    let mut work = shield(async {
        sleep(secs(3)).await;
        String::from("result")
    });
    // The outer wait is cancelled twice, at its await point.
    assert!(timeout(secs(1), &mut work).await.is_err());
    let raced = select(&mut work, sleep(secs(1))).await;
    assert!(matches!(raced, Either::Right(())));
    assert_eq!(work.await.unwrap(), "result");
    assert_eq!(start.elapsed(), secs(3));
}

#[brigade::test(virtual)]
async fn shielded_task_delivers_to_a_handle_kept_outside_the_cancelled_task() {
    let slot: Rc<Cell<Option<JoinHandle<u32>>>> = Rc::new(Cell::new(None));
    let keep = slot.clone();
    let outer = spawn(async move {
        let work = shield(async {
            sleep(secs(2)).await;
            42u32
        });
        // The outer task hands the work to its parent, then is cancelled
        // while it waits on something else.
        keep.set(Some(work.into_join_handle()));
        std::future::pending::<()>().await;
    });
    sleep(secs(1)).await;
    outer.abort();
    assert!(outer.await.unwrap_err().is_cancelled());
    let handle = slot.take().expect("the outer task handed the work over");
    assert_eq!(handle.await.unwrap(), 42);
}

#[brigade::test(virtual)]
async fn aborting_the_shield_itself_cancels_the_work() {
    let dropped = Rc::new(Cell::new(0));
    let flag = DropFlag(dropped.clone());
    let work = shield(async move {
        let _flag = flag;
        std::future::pending::<()>().await;
    });
    work.abort();
    assert!(work.await.unwrap_err().is_cancelled());
    assert_eq!(dropped.get(), 1);
}
