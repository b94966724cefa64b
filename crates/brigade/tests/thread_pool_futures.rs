//! A thread pool's jobs as `concurrent.futures` futures: done-callbacks,
//! `error()`, `wait(ReturnWhen)`, and `map_timeout`. Jobs block on
//! channels and barriers, so every order here is forced, never timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use brigade::thread::{
    Job, MapChunkedError, MapTimeoutError, ReturnWhen, ThreadPool, Waitable, wait,
};

fn pool(workers: usize) -> ThreadPool {
    ThreadPool::builder()
        .workers(workers)
        .name_prefix("futures")
        .build()
        .unwrap()
}

/// A job that runs until `release` sends (or is dropped).
fn gated(pool: &ThreadPool) -> (Job<u32>, mpsc::Sender<()>) {
    let (release, gate) = mpsc::channel::<()>();
    let job = pool
        .submit(move || {
            let _ = gate.recv();
            1
        })
        .unwrap();
    (job, release)
}

#[test]
fn a_callback_runs_once_on_the_worker_that_finishes_the_job() {
    let pool = pool(1);
    let (job, release) = gated(&pool);
    let calls = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let seen = calls.clone();
    job.add_done_callback(move |job| {
        seen.fetch_add(1, Ordering::SeqCst);
        let name = brigade::thread::current_thread().name().to_owned();
        tx.send((job.done(), job.error().is_none(), name)).unwrap();
    });
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "ran before the job finished"
    );
    release.send(()).unwrap();
    let (done, ok, name) = rx.recv().unwrap();
    assert!(done && ok);
    assert!(name.starts_with("futures_"), "ran on {name}");
    assert_eq!(job.result().unwrap(), 1); // the value is still there
    pool.shutdown(true, false);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_callback_added_after_the_end_runs_at_once_on_the_caller() {
    let pool = pool(1);
    let job = pool.submit(|| 3).unwrap();
    pool.shutdown(true, false);
    assert!(job.done());
    let here = std::thread::current().id();
    let ran_on = Arc::new(Mutex::new(None));
    let slot = ran_on.clone();
    job.add_done_callback(move |_| *slot.lock().unwrap() = Some(std::thread::current().id()));
    assert_eq!(*ran_on.lock().unwrap(), Some(here));
}

#[test]
fn callbacks_run_in_order_and_cancelling_runs_them_on_the_canceller() {
    let pool = pool(1);
    let (busy, release) = gated(&pool);
    let queued = pool.submit(|| 2).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    for i in 0..3 {
        let order = order.clone();
        queued.add_done_callback(move |job| {
            assert!(job.cancelled());
            order.lock().unwrap().push(i);
        });
    }
    assert!(queued.cancel());
    assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
    assert!(queued.cancel(), "cancel stays true");
    release.send(()).unwrap();
    busy.result().unwrap();
    pool.shutdown(true, false);
    assert_eq!(order.lock().unwrap().len(), 3, "no callback ran twice");
}

#[test]
fn a_panicking_callback_does_not_stop_the_worker() {
    let pool = pool(1);
    let job = pool.submit(|| 1).unwrap();
    job.add_done_callback(|_| panic!("callback trouble"));
    assert_eq!(job.result().unwrap(), 1);
    assert_eq!(pool.submit(|| 2).unwrap().result().unwrap(), 2);
}

#[test]
fn error_reads_the_failure_without_taking_it() {
    let pool = pool(1);
    let (job, release) = gated(&pool);
    assert!(job.error().is_none(), "no error while running");
    release.send(()).unwrap();
    let failing = pool.submit(|| -> u32 { panic!("flour spilt") }).unwrap();
    wait([&job, &failing], None, ReturnWhen::AllCompleted);
    assert!(job.error().is_none(), "no error after a value");
    assert_eq!(
        failing.error().unwrap().panic_message(),
        Some("flour spilt")
    );
    assert_eq!(
        failing.error().unwrap().panic_message(),
        Some("flour spilt")
    );
    let taken = failing.result().unwrap_err();
    assert_eq!(taken.panic_message(), Some("flour spilt"));
    assert_eq!(job.result().unwrap(), 1);
}

#[test]
fn wait_first_completed_returns_with_the_finished_job_only() {
    let pool = pool(2);
    let (a, release_a) = gated(&pool);
    let (b, release_b) = gated(&pool);
    let jobs = [a, b];
    release_b.send(()).unwrap();
    let (done, not_done) = wait(&jobs, None, ReturnWhen::FirstCompleted);
    assert_eq!(done.len(), 1);
    assert!(std::ptr::eq(done[0], &jobs[1]));
    assert!(std::ptr::eq(not_done[0], &jobs[0]));
    assert!(!jobs[0].cancelled(), "not_done jobs are not cancelled");
    release_a.send(()).unwrap();
    let [a, _] = jobs;
    assert_eq!(a.result().unwrap(), 1);
}

#[test]
fn wait_first_exception_returns_at_a_failure_and_ignores_cancellations() {
    let pool = pool(2);
    let (a, release_a) = gated(&pool);
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let failing = pool
        .submit(move || -> u32 {
            let _ = gate_rx.recv();
            panic!("burnt")
        })
        .unwrap();
    let queued = pool.submit(|| 3).unwrap();
    assert!(queued.cancel());
    // A cancellation alone does not end a FirstException wait: it times out.
    let (done, not_done) = wait(
        [&a, &failing, &queued],
        Some(Duration::from_millis(1)),
        ReturnWhen::FirstException,
    );
    assert_eq!((done.len(), not_done.len()), (1, 2));
    gate_tx.send(()).unwrap();
    let (done, not_done) = wait([&a, &failing, &queued], None, ReturnWhen::FirstException);
    assert_eq!(done.len(), 2);
    assert!(std::ptr::eq(done[0], &failing) && std::ptr::eq(done[1], &queued));
    assert!(std::ptr::eq(not_done[0], &a));
    release_a.send(()).unwrap();
}

#[test]
fn wait_first_exception_without_failures_waits_for_all() {
    let pool = pool(2);
    let (a, release_a) = gated(&pool);
    let (b, release_b) = gated(&pool);
    release_a.send(()).unwrap();
    release_b.send(()).unwrap();
    let (done, not_done) = wait([a, b], None, ReturnWhen::FirstException);
    assert_eq!((done.len(), not_done.len()), (2, 0));
}

#[test]
fn wait_all_completed_times_out_with_the_blocked_job_not_done() {
    let pool = pool(2);
    let (a, release_a) = gated(&pool);
    let b = pool.submit(|| 2).unwrap();
    let (done, not_done) = wait(
        [&a, &b],
        Some(Duration::from_millis(1)),
        ReturnWhen::AllCompleted,
    );
    // `b` may or may not have run by the deadline; `a` cannot have.
    assert!(not_done.iter().any(|j| std::ptr::eq(*j, &a)));
    assert_eq!(done.len() + not_done.len(), 2);
    release_a.send(()).unwrap();
    let (done, not_done) = wait([&a, &b], None, ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (2, 0));
    assert!(a.is_done() && b.is_done());
}

#[test]
fn wait_with_nothing_returns_at_once() {
    let (done, not_done) = wait(Vec::<Job<u8>>::new(), None, ReturnWhen::FirstCompleted);
    assert!(done.is_empty() && not_done.is_empty());
}

#[test]
fn map_timeout_yields_in_order_with_failures_in_place() {
    let pool = pool(2);
    let results: Vec<Result<u32, MapTimeoutError>> = pool
        .map_timeout(
            |x: u32| if x == 2 { panic!("two") } else { x * 10 },
            [1, 2, 3],
            Duration::from_secs(3600),
        )
        .collect();
    assert_eq!(results[0].as_ref().unwrap(), &10);
    assert!(
        matches!(&results[1], Err(MapTimeoutError::Failed(e)) if e.panic_message() == Some("two"))
    );
    assert_eq!(results[2].as_ref().unwrap(), &30);
}

#[test]
fn map_timeout_times_out_on_a_blocked_item_and_cancels_the_rest() {
    let pool = pool(1);
    let gate = Arc::new(Barrier::new(2));
    let runs = Arc::new(AtomicUsize::new(0));
    let (started_tx, started) = mpsc::channel();
    let started_tx = Mutex::new(started_tx);
    let (held, counted) = (gate.clone(), runs.clone());
    let mut results = pool.map_timeout(
        move |x: u32| {
            counted.fetch_add(1, Ordering::SeqCst);
            if x == 0 {
                started_tx.lock().unwrap().send(()).unwrap();
                held.wait();
            }
            x
        },
        [0, 1, 2],
        Duration::from_millis(1),
    );
    // The first item is running (and blocked) before the iterator asks.
    started.recv().unwrap();
    assert!(matches!(
        results.next(),
        Some(Err(MapTimeoutError::Timeout))
    ));
    assert!(
        results.next().is_none(),
        "the iteration ends at the timeout"
    );
    gate.wait();
    pool.shutdown(true, false);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the queued items were cancelled"
    );
}

#[test]
fn map_timeout_dropped_early_cancels_what_has_not_started() {
    let pool = pool(1);
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let gate = Mutex::new((gate, started_tx));
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let results = pool.map_timeout(
        move |x: u32| {
            counted.fetch_add(1, Ordering::SeqCst);
            if x == 0 {
                let gate = gate.lock().unwrap();
                gate.1.send(()).unwrap();
                let _ = gate.0.recv();
            }
            x
        },
        [0, 1, 2],
        Duration::from_secs(3600),
    );
    started.recv().unwrap();
    drop(results);
    release.send(()).unwrap();
    pool.shutdown(true, false);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "only the running item ran");
}

#[test]
fn map_timeout_after_shutdown_runs_on_the_caller() {
    let pool = pool(1);
    pool.shutdown(true, false);
    let out: Vec<u32> = pool
        .map_timeout(|x: u32| x + 1, [1, 2], Duration::from_secs(1))
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, [2, 3]);
}

#[test]
fn map_chunked_keeps_order_for_every_chunk_size_and_refuses_zero() {
    let pool = pool(2);
    let expected: Vec<u64> = (0..50).map(|x| x * 3).collect();
    for chunksize in [1, 7, 50, 1000] {
        let out = pool.map_chunked(|x: u64| x * 3, 0..50, chunksize).unwrap();
        assert_eq!(out, expected, "chunksize {chunksize}");
    }
    assert!(matches!(
        pool.map_chunked(|x: u8| x, [1], 0),
        Err(MapChunkedError::ZeroChunksize)
    ));
    let failed = pool.map_chunked(|x: u32| if x == 5 { panic!("five") } else { x }, 0..9, 2);
    assert!(matches!(failed, Err(MapChunkedError::Panicked(e)) if e.index() == 5));
}

#[test]
fn map_chunked_with_one_chunk_runs_every_item_on_one_thread() {
    let pool = pool(2);
    let threads = pool
        .map_chunked(|_: u32| std::thread::current().id(), 0..64, 64)
        .unwrap();
    assert!(threads.iter().all(|t| *t == threads[0]));
}
