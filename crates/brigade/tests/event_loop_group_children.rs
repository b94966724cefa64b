//! Task group children: names, and cancelling one child without failing
//! the group.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::event_loop::{Failure, Origin, current_task};
use brigade::task_group;
use brigade::time::{Instant, sleep};

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
async fn a_named_child_shows_its_name_in_current_task_and_in_failures() {
    let result = task_group(|group| async move {
        let named = group.spawn_named("resolver", async {
            Ok::<_, String>(current_task().unwrap().name().map(String::from))
        });
        assert_eq!(named.name(), Some("resolver"));
        assert_eq!(named.await.unwrap().as_deref(), Some("resolver"));
        group.spawn_named("uploader", async {
            sleep(secs(1)).await;
            Err::<(), _>("disk full".to_string())
        });
        group.spawn(async {
            sleep(secs(1)).await;
            panic!("unnamed child exploded");
            #[allow(unreachable_code)]
            Ok(())
        });
        sleep(secs(10)).await;
        Ok(())
    })
    .await;
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 task(s) failed in the group: uploader: disk full; panic: unnamed child exploded"
    );
    let origins = error.origins();
    assert!(matches!(&origins[0], Origin::Child { name: Some(n), .. } if n == "uploader"));
    assert!(matches!(&origins[1], Origin::Child { name: None, .. }));
    assert!(matches!(&error.failures()[1], Failure::Panic(_)));
}

#[brigade::test(virtual)]
async fn the_body_failure_is_reported_as_coming_from_the_body() {
    let result = task_group(|group| async move {
        group.spawn_named("sibling", async {
            sleep(secs(100)).await;
            Ok(())
        });
        Err::<(), _>("body gave up")
    })
    .await;
    let error = result.unwrap_err();
    assert_eq!(error.origins(), [Origin::Body]);
    assert_eq!(
        error.to_string(),
        "1 task(s) failed in the group: body gave up"
    );
}

#[brigade::test(virtual)]
async fn aborting_one_child_at_each_await_point_does_not_fail_the_group() {
    // Abort before the child first ran, while it sleeps, and after it
    // finished: the group goes on and returns the body's value each time.
    for when in ["before it runs", "while it sleeps", "after it finished"] {
        let start = Instant::now();
        let dropped = Rc::new(Cell::new(false));
        let sibling_done = Rc::new(Cell::new(false));
        let (flag, done) = (DropFlag(dropped.clone()), sibling_done.clone());
        let result = task_group(|group| async move {
            let child = group.spawn_named("victim", async move {
                let _flag = flag;
                sleep(secs(5)).await;
                Ok::<_, String>("victim finished")
            });
            group.spawn(async move {
                sleep(secs(8)).await;
                done.set(true);
                Ok(())
            });
            match when {
                "before it runs" => child.abort(),
                "while it sleeps" => {
                    sleep(secs(2)).await;
                    child.abort();
                }
                _ => {
                    sleep(secs(6)).await;
                    child.abort();
                }
            }
            let outcome = child.await;
            Ok(outcome.map_err(|e| e.is_cancelled()))
        })
        .await;
        let outcome = result.unwrap_or_else(|e| panic!("{when}: the group failed: {e:?}"));
        if when == "after it finished" {
            assert_eq!(outcome, Ok("victim finished"));
        } else {
            assert_eq!(outcome, Err(true), "{when}: the child reports cancellation");
        }
        assert!(dropped.get(), "{when}: the child's future was dropped");
        assert!(sibling_done.get(), "{when}: the sibling ran to its end");
        assert_eq!(start.elapsed(), secs(8), "{when}");
    }
}

#[brigade::test(virtual)]
async fn aborting_a_child_the_group_refused_does_nothing() {
    let result = task_group(|group| async move {
        group.cancel();
        let late = group.spawn_named("late", async { Ok::<_, ()>(1) });
        late.abort();
        assert_eq!(late.name(), Some("late"));
        assert!(late.await.unwrap_err().is_cancelled());
        // The group drops the body at its next poll.
        std::future::pending::<Result<(), ()>>().await
    })
    .await;
    assert!(result.unwrap_err().failures().is_empty());
}
