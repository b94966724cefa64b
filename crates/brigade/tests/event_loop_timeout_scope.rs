//! timeout_scope: a deadline its own body reads and moves, on the virtual
//! clock.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::Runtime;
use brigade::time::{Instant, TimeoutScope, sleep, timeout_scope, timeout_scope_at};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

struct DropFlag(Rc<Cell<bool>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[brigade::test(virtual)]
async fn the_body_extends_its_own_deadline_while_it_makes_progress() {
    let start = Instant::now();
    let result = timeout_scope(secs(2), |scope| async move {
        for _ in 0..10 {
            sleep(secs(1)).await;
            scope.reschedule(Some(Instant::now() + secs(2)));
        }
        scope.deadline()
    })
    .await;
    assert_eq!(result, Ok(Some(start + secs(12))));
    assert_eq!(start.elapsed(), secs(10));
}

#[brigade::test(virtual)]
async fn a_shortened_deadline_expires_and_drops_the_body() {
    let start = Instant::now();
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(dropped.clone());
    let mut kept: Option<TimeoutScope> = None;
    let result = timeout_scope(secs(60), |scope| {
        kept = Some(scope.clone());
        async move {
            let _flag = flag;
            sleep(secs(1)).await;
            scope.reschedule(Some(Instant::now() + secs(2)));
            sleep(secs(60)).await;
        }
    })
    .await;
    let error = result.unwrap_err();
    assert_eq!(start.elapsed(), secs(3));
    assert!(dropped.get(), "the body was cancelled");
    assert_eq!(error.duration(), None, "rescheduled");
    let scope = kept.unwrap();
    assert!(scope.expired());
    // The scope has ended: moving it changes nothing.
    scope.reschedule(None);
    assert_eq!(scope.deadline(), Some(start + secs(3)));
}

#[brigade::test(virtual)]
async fn an_untouched_scope_reports_its_duration_and_a_finished_one_is_not_expired() {
    let error = timeout_scope(secs(4), |_| sleep(secs(5)))
        .await
        .unwrap_err();
    assert_eq!(error.duration(), Some(secs(4)));
    let mut kept = None;
    let ok = timeout_scope(secs(4), |scope| {
        kept = Some(scope);
        sleep(secs(4)) // at the boundary the body wins
    })
    .await;
    assert!(ok.is_ok());
    assert!(!kept.unwrap().expired());
}

#[brigade::test(virtual)]
async fn lifting_and_setting_the_deadline() {
    let start = Instant::now();
    let result = timeout_scope_at(None, |scope| async move {
        assert_eq!(scope.deadline(), None);
        sleep(secs(100)).await; // no deadline: nothing fires
        scope.reschedule(Some(Instant::now() + secs(5)));
        sleep(secs(100)).await;
    })
    .await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), secs(105));

    let start = Instant::now();
    let result = timeout_scope_at(start + secs(1), |scope| async move {
        scope.reschedule(None);
        sleep(secs(30)).await;
        "unbounded"
    })
    .await;
    assert_eq!(result, Ok("unbounded"));
    assert_eq!(start.elapsed(), secs(30));
}

#[brigade::test(virtual)]
async fn a_deadline_moved_into_the_past_expires_when_the_body_next_waits() {
    let start = Instant::now();
    let steps = Rc::new(Cell::new(0));
    let counted = steps.clone();
    let result = timeout_scope(secs(60), |scope| async move {
        sleep(secs(1)).await;
        scope.reschedule(Some(start));
        counted.set(1); // the body keeps running until it waits
        sleep(secs(1)).await;
        counted.set(2);
    })
    .await;
    assert!(result.is_err());
    assert_eq!(steps.get(), 1);
    assert_eq!(start.elapsed(), secs(1));
}

#[brigade::test(virtual)]
async fn another_task_moves_the_deadline_of_a_waiting_scope() {
    let start = Instant::now();
    let (tx, rx) = brigade::sync::oneshot::channel();
    let guard = brigade::spawn(async move {
        let scope: TimeoutScope = rx.await.unwrap();
        sleep(secs(2)).await;
        // The body waits on something that never comes: cut it short.
        scope.reschedule(Some(Instant::now() + secs(1)));
    });
    let result = timeout_scope(secs(3600), |scope| {
        tx.send(scope).unwrap();
        std::future::pending::<()>()
    })
    .await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), secs(3));
    guard.await.unwrap();
}

#[test]
fn a_scope_made_outside_a_loop_counts_from_its_first_poll() {
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    let scoped = timeout_scope(secs(5), |scope| async move { scope.deadline() });
    assert_eq!(scoped.scope().deadline(), None, "not counted yet");
    let (deadline, start) = rt.block_on(async {
        sleep(secs(7)).await;
        let start = Instant::now();
        (scoped.await.unwrap(), start)
    });
    assert_eq!(deadline, Some(start + secs(5)));
}

#[brigade::test(virtual)]
async fn dropping_the_scope_at_each_await_cancels_the_body_and_its_timer() {
    // Cancel the scope at every await point of its body: before the first
    // poll, while the body sleeps, after a reschedule.
    for cut in [0u64, 1, 2] {
        let start = Instant::now();
        let dropped = Rc::new(Cell::new(false));
        let flag = DropFlag(dropped.clone());
        let mut kept = None;
        let scoped = timeout_scope(secs(100), |scope| {
            kept = Some(scope.clone());
            async move {
                let _flag = flag;
                sleep(secs(1)).await;
                scope.reschedule(Some(Instant::now() + secs(50)));
                sleep(secs(10)).await;
            }
        });
        if cut == 0 {
            drop(scoped);
        } else {
            let outer = brigade::timeout(secs(cut * 5 - 4), scoped).await;
            assert!(outer.is_err());
        }
        assert!(dropped.get(), "cut {cut}: the body was dropped");
        let scope = kept.unwrap();
        assert!(!scope.expired(), "cancelled from outside, not expired");
        let deadline = scope.deadline();
        scope.reschedule(None); // ended: no effect, no wake-up of anyone
        assert_eq!(scope.deadline(), deadline);
        assert_eq!(start.elapsed(), secs(cut * 5).saturating_sub(secs(4)));
    }
}
