//! JoinSet: completion order, aborts, drop, detach, and cancellation of
//! `join_next` at its await point.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::JoinSet;
use brigade::time::{Instant, sleep, timeout};

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
async fn join_next_yields_in_completion_order() {
    let mut set = JoinSet::new();
    for s in [5u64, 1, 4, 2, 3] {
        set.spawn(async move {
            sleep(secs(s)).await;
            s
        });
    }
    assert_eq!(set.len(), 5);
    let start = Instant::now();
    let mut order = Vec::new();
    while let Some(result) = set.join_next().await {
        order.push((result.unwrap(), start.elapsed()));
    }
    let expected: Vec<_> = (1..=5).map(|s| (s, secs(s))).collect();
    assert_eq!(order, expected);
    assert!(set.is_empty());
    assert!(set.join_next().await.is_none());
}

#[brigade::test(virtual)]
async fn join_next_with_id_names_the_task() {
    let mut set = JoinSet::new();
    set.spawn(async {
        sleep(secs(1)).await;
        'b'
    });
    let first = brigade::spawn(async {});
    set.spawn(async { 'a' });
    let (id_a, a) = set.join_next_with_id().await.unwrap().unwrap();
    let (id_b, b) = set.join_next_with_id().await.unwrap().unwrap();
    assert_eq!((a, b), ('a', 'b'));
    assert!(id_a > first.id() && id_b < first.id());
}

#[brigade::test(virtual)]
async fn many_members_all_come_back_once() {
    let mut set = JoinSet::new();
    for i in 0..10_000u64 {
        set.spawn(async move {
            if i % 3 == 0 {
                brigade::yield_now().await;
            }
            i
        });
    }
    let mut seen = vec![false; 10_000];
    while let Some(i) = set.join_next().await {
        let i = i.unwrap() as usize;
        assert!(!seen[i], "{i} came back twice");
        seen[i] = true;
    }
    assert!(seen.iter().all(|s| *s));
}

#[brigade::test(virtual)]
async fn panics_come_back_as_join_errors_and_the_rest_still_run() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("member failed") });
    set.spawn(async {
        sleep(secs(1)).await;
        7
    });
    let error = set.join_next().await.unwrap().unwrap_err();
    assert_eq!(error.panic_message(), Some("member failed"));
    assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
}

#[brigade::test(virtual)]
async fn dropping_the_set_stops_every_member() {
    let dropped = Rc::new(Cell::new(0));
    let finished = Rc::new(Cell::new(0));
    let mut set = JoinSet::new();
    for _ in 0..4 {
        let flag = DropFlag(dropped.clone());
        let finished = finished.clone();
        set.spawn(async move {
            let _flag = flag;
            sleep(secs(10)).await;
            finished.set(finished.get() + 1);
        });
    }
    sleep(secs(1)).await;
    assert_eq!(dropped.get(), 0);
    drop(set);
    brigade::yield_now().await;
    assert_eq!(dropped.get(), 4, "every member's future was dropped");
    sleep(secs(20)).await;
    assert_eq!(
        finished.get(),
        0,
        "no member ran on after the set was dropped"
    );
}

#[brigade::test(virtual)]
async fn abort_all_cancels_running_members_and_keeps_finished_results() {
    let dropped = Rc::new(Cell::new(0));
    let mut set = JoinSet::new();
    set.spawn(async { Some(1) });
    for _ in 0..3 {
        let flag = DropFlag(dropped.clone());
        set.spawn(async move {
            let _flag = flag;
            sleep(secs(10)).await;
            None
        });
    }
    sleep(secs(1)).await;
    set.abort_all();
    assert_eq!(set.len(), 4, "aborted members stay until joined");
    let (mut values, mut cancelled) = (Vec::new(), 0);
    while let Some(result) = set.join_next().await {
        match result {
            Ok(v) => values.push(v),
            Err(e) => {
                assert!(e.is_cancelled());
                cancelled += 1;
            }
        }
    }
    assert_eq!(values, [Some(1)]);
    assert_eq!(cancelled, 3);
    assert_eq!(dropped.get(), 3);
}

#[brigade::test(virtual)]
async fn one_abort_handle_cancels_one_member() {
    let mut set = JoinSet::new();
    let slow = set.spawn(async {
        sleep(secs(5)).await;
        "slow"
    });
    set.spawn(async {
        sleep(secs(1)).await;
        "fast"
    });
    slow.abort();
    assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    assert_eq!(set.join_next().await.unwrap().unwrap(), "fast");
}

#[brigade::test(virtual)]
async fn shutdown_waits_until_members_stopped() {
    let dropped = Rc::new(Cell::new(0));
    let mut set = JoinSet::new();
    for _ in 0..3 {
        let flag = DropFlag(dropped.clone());
        set.spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
    }
    set.shutdown().await;
    assert_eq!(dropped.get(), 3);
    assert!(set.is_empty());
    // The set is reusable.
    set.spawn(async {});
    assert!(set.join_next().await.unwrap().is_ok());
}

#[brigade::test(virtual)]
async fn detached_members_run_to_completion() {
    let finished = Rc::new(Cell::new(0));
    let mut set = JoinSet::new();
    for s in 1..=3u64 {
        let finished = finished.clone();
        set.spawn(async move {
            sleep(secs(s)).await;
            finished.set(finished.get() + 1);
        });
    }
    set.detach_all();
    assert!(set.is_empty());
    drop(set);
    sleep(secs(5)).await;
    assert_eq!(finished.get(), 3);
}

#[brigade::test(virtual)]
async fn join_all_returns_values_or_the_first_failure() {
    let set: JoinSet<u64> = [3u64, 1, 2]
        .map(|s| async move {
            sleep(secs(s)).await;
            s
        })
        .into_iter()
        .collect();
    assert_eq!(set.join_all().await.unwrap(), [1, 2, 3]);

    let dropped = Rc::new(Cell::new(0));
    let mut set = JoinSet::new();
    set.spawn(async {
        sleep(secs(1)).await;
        panic!("bad")
    });
    let flag = DropFlag(dropped.clone());
    set.spawn(async move {
        let _flag = flag;
        sleep(secs(100)).await;
    });
    let start = Instant::now();
    let error = set.join_all().await.unwrap_err();
    assert_eq!(error.panic_message(), Some("bad"));
    assert_eq!(start.elapsed(), secs(1));
    brigade::yield_now().await;
    assert_eq!(dropped.get(), 1, "the other member was aborted");
}

#[brigade::test(virtual)]
async fn a_dropped_join_next_loses_no_result() {
    let mut set = JoinSet::new();
    for s in [2u64, 4] {
        set.spawn(async move {
            sleep(secs(s)).await;
            s
        });
    }
    // Cancelled at its await point, before any member finished.
    assert!(timeout(secs(1), set.join_next()).await.is_err());
    // Cancelled after a member finished but before the waiter ran: the
    // result stays in the set.
    sleep(secs(2)).await;
    assert_eq!(set.len(), 2);
    assert_eq!(set.try_join_next().unwrap().unwrap(), 2);
    assert!(set.try_join_next().is_none());
    assert_eq!(set.join_next().await.unwrap().unwrap(), 4);
}

// Holding the borrow across the await is the point: the waiting task is
// aborted while it holds the set.
#[allow(clippy::await_holding_refcell_ref)]
#[brigade::test(virtual)]
async fn aborting_the_task_that_awaits_join_next_keeps_the_members() {
    let set = Rc::new(std::cell::RefCell::new(JoinSet::new()));
    set.borrow_mut().spawn(async {
        sleep(secs(3)).await;
        9
    });
    let waiter = {
        let set = set.clone();
        brigade::spawn(async move { set.borrow_mut().join_next().await })
    };
    sleep(secs(1)).await;
    waiter.abort();
    assert!(waiter.await.unwrap_err().is_cancelled());
    let mut set = set.borrow_mut();
    assert_eq!(set.len(), 1);
    let nine = set.join_next().await.unwrap().unwrap();
    assert_eq!(nine, 9);
}

#[test]
fn members_left_when_the_loop_ends_are_cancelled() {
    let dropped = Rc::new(Cell::new(0));
    let flag = DropFlag(dropped.clone());
    let mut set = brigade::run(async move {
        let mut set = JoinSet::new();
        set.spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        set
    });
    assert_eq!(dropped.get(), 1, "the loop's shutdown dropped the member");
    assert_eq!(set.len(), 1);
    assert!(set.try_join_next().unwrap().unwrap_err().is_cancelled());
}
