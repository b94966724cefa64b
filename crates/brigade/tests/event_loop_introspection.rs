//! Introspection: current_task and all_tasks from inside tasks, from the
//! runtime's owner, and from other threads through a Handle.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use brigade::event_loop::{TaskInfo, TaskState, all_tasks, current_task};
use brigade::sync::oneshot;
use brigade::{Handle, Runtime, spawn, spawn_named, yield_now};

fn names(tasks: &[TaskInfo]) -> Vec<Option<&str>> {
    tasks.iter().map(|t| t.name()).collect()
}

#[brigade::test]
async fn current_task_names_each_task_of_nested_spawns() {
    let outer = spawn_named("outer", async {
        let before = current_task().unwrap();
        let middle = spawn_named("middle", async {
            let me = current_task().unwrap();
            let inner = spawn(async { current_task().unwrap() });
            let inner = inner.await.unwrap();
            // Back in `middle` after awaiting: still itself.
            (me, inner, current_task().unwrap())
        });
        let middle_id = middle.id();
        let (me, inner, after) = middle.await.unwrap();
        assert_eq!(me.id(), middle_id);
        assert_eq!(me, after);
        (before, me, inner, current_task().unwrap())
    });
    let outer_id = outer.id();
    let (before, middle, inner, after) = outer.await.unwrap();
    assert_eq!(before.id(), outer_id);
    assert_eq!(before.name(), Some("outer"));
    assert_eq!(middle.name(), Some("middle"));
    assert_eq!(inner.name(), None);
    assert!(inner.id() > middle.id() && middle.id() > outer_id);
    assert_eq!(after, before);
    for info in [&before, &middle, &inner] {
        assert_eq!(info.state(), TaskState::Running);
    }
}

#[test]
fn current_task_is_none_outside_of_tasks() {
    assert!(current_task().is_none(), "no loop");
    brigade::run(async {
        assert!(current_task().is_none(), "the main future is not a task");
        let task = spawn(async { current_task().is_some() });
        assert!(task.await.unwrap());
        assert!(current_task().is_none());
    });
}

#[brigade::test]
async fn all_tasks_shows_each_task_in_its_state_in_spawn_order() {
    let waiting = spawn_named("waiting", std::future::pending::<()>());
    yield_now().await; // `waiting` runs once and suspends
    let cancelled = spawn_named("cancelled", std::future::pending::<()>());
    cancelled.abort();
    let ready = spawn_named("ready", std::future::pending::<()>());
    let asker = spawn_named("asker", async { all_tasks() });
    // Right before `asker` runs, the others are as named; `ready` ran once
    // meanwhile (it was queued before `asker`), so it waits by then.
    let seen = asker.await.unwrap();
    assert_eq!(
        names(&seen),
        [Some("waiting"), Some("ready"), Some("asker")],
        "cancelled tasks are dropped at the loop's turn, before `asker` polls"
    );
    let states: Vec<_> = seen.iter().map(|t| t.state()).collect();
    assert_eq!(
        states,
        [TaskState::Waiting, TaskState::Waiting, TaskState::Running]
    );

    // From the main future, right after spawning and aborting.
    let fresh = spawn_named("fresh", std::future::pending::<()>());
    waiting.abort();
    let now = all_tasks();
    assert_eq!(names(&now), [Some("waiting"), Some("ready"), Some("fresh")]);
    let states: Vec<_> = now.iter().map(|t| t.state()).collect();
    assert_eq!(
        states,
        [TaskState::Cancelling, TaskState::Waiting, TaskState::Ready]
    );
    assert!(cancelled.await.unwrap_err().is_cancelled());
    ready.abort();
    fresh.abort();
    yield_now().await;
    assert!(
        all_tasks().is_empty(),
        "finished and cancelled tasks are gone"
    );
}

#[test]
fn all_tasks_is_a_snapshot_that_does_not_change_afterwards() {
    brigade::run(async {
        let task = spawn_named("short", async {});
        let snapshot = all_tasks();
        task.await.unwrap();
        assert_eq!(names(&snapshot), [Some("short")]);
        assert_eq!(snapshot[0].state(), TaskState::Ready);
        assert!(all_tasks().is_empty());
    });
}

#[test]
fn the_runtime_lists_its_tasks_between_runs() {
    let rt = Runtime::new().unwrap();
    let a = rt.spawn(async {});
    let b = rt.spawn(std::future::pending::<()>());
    let ids: Vec<_> = rt.all_tasks().iter().map(|t| t.id()).collect();
    assert_eq!(ids, [a.id(), b.id()]);
    rt.block_on(a).unwrap();
    let left = rt.all_tasks();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].id(), left[0].state()),
        (b.id(), TaskState::Waiting)
    );
}

#[test]
fn another_thread_asks_through_a_handle_and_the_loop_answers() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let (tx, rx) = oneshot::channel();
    rt.block_on(async {
        let workers: Vec<_> = (0..3)
            .map(|i| spawn_named(format!("worker-{i}"), std::future::pending::<()>()))
            .collect();
        let asker = std::thread::spawn(move || {
            let answer = handle.all_tasks().wait();
            tx.send(answer).unwrap();
        });
        // The loop keeps turning (this waits in it) until the answer is in.
        let seen = rx.await.unwrap().unwrap();
        asker.join().unwrap();
        assert_eq!(
            names(&seen),
            [Some("worker-0"), Some("worker-1"), Some("worker-2")]
        );
        // Answered between polls (perhaps before the workers first ran),
        // so nobody runs.
        assert!(
            seen.iter()
                .all(|t| matches!(t.state(), TaskState::Ready | TaskState::Waiting)),
            "{seen:?}"
        );
        for w in workers {
            w.abort();
        }
    });
}

#[brigade::test]
async fn a_handle_of_the_running_loop_answers_at_once() {
    let _task = spawn_named("here", std::future::pending::<()>());
    let seen = Handle::current().all_tasks().await.unwrap();
    assert_eq!(names(&seen), [Some("here")]);
}

#[test]
fn another_loop_awaits_the_answer_without_blocking() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let (tx, rx) = oneshot::channel();
    rt.block_on(async move {
        let _task = spawn_named("remote", std::future::pending::<()>());
        let other = std::thread::spawn(move || {
            brigade::run(async move {
                let seen = handle.all_tasks().await.unwrap();
                tx.send(seen).unwrap();
            })
        });
        let seen = rx.await.unwrap();
        other.join().unwrap();
        assert_eq!(names(&seen), [Some("remote")]);
    });
}

#[test]
fn a_loop_that_shut_down_or_never_answers_reports_loop_closed() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    // Asked while the loop does not run, then the loop is dropped: the
    // request is dropped with it and the asker is told.
    let pending = handle.all_tasks();
    drop(rt);
    assert!(pending.wait().is_err());
    assert!(handle.all_tasks().wait().is_err());
}

#[test]
fn spawning_leaves_nothing_behind_for_introspection() {
    // The registry is the only list: a million spawned-and-finished tasks
    // leave nothing to walk.
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    let count = Rc::new(Cell::new(0u32));
    rt.block_on(async {
        let handles: Vec<_> = (0..10_000)
            .map(|_| {
                let count = count.clone();
                spawn(async move { count.set(count.get() + 1) })
            })
            .collect();
        assert_eq!(all_tasks().len(), 10_000);
        for h in handles {
            h.await.unwrap();
        }
        brigade::sleep(Duration::from_secs(1)).await;
        assert!(all_tasks().is_empty());
    });
    assert_eq!(count.get(), 10_000);
}
