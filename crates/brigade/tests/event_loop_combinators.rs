//! gather, try_gather, race, as_completed and task groups.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::event_loop::{Failure, as_completed};
use brigade::time::{Instant, sleep};
use brigade::{gather, race, spawn, task_group, try_gather};

struct DropFlag(Rc<Cell<u32>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[brigade::test(virtual)]
async fn gather_keeps_input_order_and_takes_the_longest_time() {
    let start = Instant::now();
    let out = gather([3u64, 1, 2].map(|s| async move {
        sleep(secs(s)).await;
        s
    }))
    .await;
    assert_eq!(out, [3, 1, 2]);
    assert_eq!(start.elapsed(), secs(3));
}

#[brigade::test(virtual)]
async fn gather_of_nothing_is_empty() {
    let none: Vec<std::future::Ready<u8>> = Vec::new();
    assert!(gather(none).await.is_empty());
}

#[brigade::test(virtual)]
async fn try_gather_fails_fast_and_cancels_the_rest() {
    let dropped = Rc::new(Cell::new(0));
    let start = Instant::now();
    let futures = (0..5u64).map(|i| {
        let flag = DropFlag(dropped.clone());
        async move {
            let _flag = flag;
            sleep(secs(i + 1)).await;
            if i == 1 {
                Err(format!("task {i} failed"))
            } else {
                Ok(i)
            }
        }
    });
    let result = try_gather(futures).await;
    assert_eq!(result, Err("task 1 failed".to_string()));
    assert_eq!(start.elapsed(), secs(2), "returned at the first error");
    assert_eq!(dropped.get(), 5, "every member was dropped");
}

#[brigade::test(virtual)]
async fn race_returns_the_first_and_cancels_the_others() {
    let dropped = Rc::new(Cell::new(0));
    let futures = [30u64, 10, 20].map(|s| {
        let flag = DropFlag(dropped.clone());
        async move {
            let _flag = flag;
            sleep(secs(s)).await;
            s
        }
    });
    assert_eq!(race(futures).await, Some((1, 10)));
    assert_eq!(dropped.get(), 3);
    let none: Vec<std::future::Ready<u8>> = Vec::new();
    assert_eq!(race(none).await, None);
}

#[brigade::test(virtual)]
async fn as_completed_yields_in_completion_order() {
    let mut done = as_completed([4u64, 2, 3, 1].map(|s| async move {
        sleep(secs(s)).await;
        s
    }));
    assert_eq!(done.remaining(), 4);
    let mut order = Vec::new();
    while let Some(s) = done.next().await {
        order.push(s);
    }
    assert_eq!(order, [1, 2, 3, 4]);
}

#[brigade::test(virtual)]
async fn three_counters_finish_in_the_time_of_one() {
    async fn count(n: u64) -> u64 {
        for _ in 0..3 {
            sleep(secs(1)).await;
        }
        n
    }
    let start = Instant::now();
    let results = gather([count(1), count(2), count(3)]).await;
    assert_eq!(results, [1, 2, 3]);
    assert_eq!(start.elapsed(), secs(3));
}

#[brigade::test(virtual)]
async fn a_group_waits_for_all_children_and_returns_the_body_value() {
    let start = Instant::now();
    let result = task_group(|group| async move {
        let a = group.spawn(async {
            sleep(secs(2)).await;
            Ok::<_, String>(20)
        });
        let b = group.spawn(async {
            sleep(secs(5)).await;
            Ok(50)
        });
        // A child whose value nobody awaits still runs to the end.
        group.spawn(async {
            sleep(secs(7)).await;
            Ok(())
        });
        Ok(a.await.unwrap() + b.await.unwrap())
    })
    .await;
    assert_eq!(result.unwrap(), 70);
    assert_eq!(
        start.elapsed(),
        secs(7),
        "the group returned only after its last child"
    );
}

#[brigade::test(virtual)]
async fn the_first_failure_cancels_siblings_and_body_and_every_error_is_reported() {
    let dropped = Rc::new(Cell::new(0));
    let start = Instant::now();
    let d = dropped.clone();
    let result: Result<(), _> = task_group(|group| async move {
        for i in 0..3u64 {
            let flag = DropFlag(d.clone());
            group.spawn(async move {
                let _flag = flag;
                sleep(secs(100 + i)).await;
                Ok(())
            });
        }
        group.spawn(async {
            sleep(secs(1)).await;
            Err::<(), _>("first".to_string())
        });
        group.spawn(async {
            sleep(secs(1)).await;
            Err::<(), _>("second, same instant".to_string())
        });
        let body_flag = DropFlag(d);
        let _keep = body_flag;
        sleep(secs(1000)).await;
        Ok(())
    })
    .await;
    let error = result.unwrap_err();
    assert_eq!(
        error.errors(),
        [&"first".to_string(), &"second, same instant".to_string()]
    );
    assert_eq!(
        error.to_string(),
        "2 task(s) failed in the group: first; second, same instant"
    );
    assert_eq!(
        dropped.get(),
        4,
        "three siblings and the body were cancelled"
    );
    assert_eq!(start.elapsed(), secs(1));
}

#[brigade::test(virtual)]
async fn a_panicking_child_fails_the_group_with_its_message() {
    let result: Result<(), brigade::event_loop::GroupError<String>> =
        task_group(|group| async move {
            group.spawn(async {
                brigade::yield_now().await;
                panic!("child exploded");
                #[allow(unreachable_code)]
                Ok(())
            });
            sleep(secs(10)).await;
            Ok(())
        })
        .await;
    let failures = result.unwrap_err().into_failures();
    assert_eq!(failures.len(), 1);
    assert!(matches!(&failures[0], Failure::Panic(p) if p.message() == "child exploded"));
}

#[brigade::test(virtual)]
async fn the_body_error_also_cancels_the_children() {
    let dropped = Rc::new(Cell::new(0));
    let flag = DropFlag(dropped.clone());
    let result: Result<(), _> = task_group(|group| async move {
        group.spawn(async move {
            let _flag = flag;
            sleep(secs(60)).await;
            Ok(())
        });
        sleep(secs(1)).await;
        Err("body gave up")
    })
    .await;
    assert_eq!(result.unwrap_err().errors(), [&"body gave up"]);
    assert_eq!(dropped.get(), 1);
}

#[brigade::test(virtual)]
async fn no_child_outlives_a_group_cancelled_from_outside() {
    let dropped = Rc::new(Cell::new(0));
    let d = dropped.clone();
    let group = spawn(task_group(move |group| async move {
        for _ in 0..3 {
            let flag = DropFlag(d.clone());
            group.spawn(async move {
                let _flag = flag;
                sleep(secs(3600)).await;
                Ok::<_, String>(())
            });
        }
        sleep(secs(3600)).await;
        Ok(())
    }));
    sleep(secs(1)).await;
    group.abort();
    assert!(group.await.unwrap_err().is_cancelled());
    brigade::yield_now().await; // the children's cancellation runs at the next turn
    assert_eq!(dropped.get(), 3);
}

#[brigade::test(virtual)]
async fn children_can_spawn_more_children_into_the_group() {
    let total = Rc::new(Cell::new(0));
    let t = total.clone();
    task_group(|group| async move {
        let inner = group.clone();
        group.spawn(async move {
            for i in 1..=3 {
                let t = t.clone();
                inner.spawn(async move {
                    sleep(secs(i)).await;
                    t.set(t.get() + i);
                    Ok::<_, ()>(())
                });
            }
            Ok(())
        });
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(total.get(), 6);
}

#[brigade::test(virtual)]
async fn wait_for_is_asyncio_spelling_of_timeout() {
    let slow = brigade::event_loop::wait_for(secs(1), sleep(secs(2))).await;
    assert!(slow.is_err());
}

#[brigade::test(virtual)]
async fn select_returns_the_first_of_two_and_cancels_the_other() {
    use brigade::event_loop::{Either, select};
    let dropped = Rc::new(Cell::new(0));
    let flag = DropFlag(dropped.clone());
    let out = select(
        async move {
            let _flag = flag;
            sleep(secs(5)).await;
            "slow"
        },
        async {
            sleep(secs(1)).await;
            7u8
        },
    )
    .await;
    assert_eq!(out, Either::Right(7));
    assert_eq!(dropped.get(), 1);
    // Ready at the same poll: the first wins.
    assert_eq!(select(async { 1 }, async { 2 }).await, Either::Left(1));
}
