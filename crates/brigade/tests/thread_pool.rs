//! `brigade::thread::ThreadPool`: submit and its jobs, map in order,
//! map_unordered, as_completed, backpressure, shutdown, and panics that
//! fail only their own job.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brigade::thread::{
    self, Event, JobError, PoolError, ResultTimeoutError, SubmitError, ThreadPool, as_completed,
};

fn pool(workers: usize) -> ThreadPool {
    ThreadPool::builder().workers(workers).build().unwrap()
}

/// A job that blocks its worker until the returned event is set.
fn occupy(pool: &ThreadPool) -> (Arc<Event>, brigade::thread::Job<()>) {
    let gate = Arc::new(Event::new());
    let started = Arc::new(Event::new());
    let job = pool
        .submit({
            let (gate, started) = (gate.clone(), started.clone());
            move || {
                started.set();
                gate.wait();
            }
        })
        .unwrap();
    started.wait();
    (gate, job)
}

#[test]
fn submit_returns_the_value() {
    let pool = pool(2);
    let job = pool.submit(|| 2 + 2).unwrap();
    assert_eq!(job.result().unwrap(), 4);
}

#[test]
fn default_workers_is_the_available_parallelism() {
    let pool = ThreadPool::new().unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(pool.workers(), cores);
}

#[test]
fn bad_options_are_typed_errors() {
    assert!(matches!(
        ThreadPool::builder().workers(0).build(),
        Err(PoolError::NoWorkers)
    ));
    assert!(matches!(
        ThreadPool::builder().queue_bound(0).build(),
        Err(PoolError::ZeroBound)
    ));
}

#[test]
fn a_panicking_job_fails_alone_and_the_pool_keeps_serving() {
    let pool = pool(1);
    let bad = pool
        .submit(|| -> u32 { panic!("dropped the tray") })
        .unwrap();
    let good = pool.submit(|| 5).unwrap();
    let err = bad.result().unwrap_err();
    assert_eq!(err.panic_message(), Some("dropped the tray"));
    assert_eq!(good.result().unwrap(), 5);
    assert_eq!(pool.submit(|| 6).unwrap().result().unwrap(), 6);
}

#[test]
fn done_running_and_result_timeout_follow_the_job() {
    let pool = pool(1);
    let (gate, blocker) = occupy(&pool);
    assert!(blocker.running() && !blocker.done());
    let queued = pool.submit(|| 1).unwrap();
    assert!(!queued.running() && !queued.done());
    let queued = match queued.result_timeout(Duration::from_millis(1)) {
        Err(ResultTimeoutError::Timeout(job)) => job,
        other => panic!("expected a timeout, got {other:?}"),
    };
    gate.set();
    blocker.result().unwrap();
    assert_eq!(queued.result_timeout(Duration::from_secs(3600)).unwrap(), 1);
}

#[test]
fn cancel_stops_a_job_that_has_not_started() {
    let pool = pool(1);
    let (gate, blocker) = occupy(&pool);
    let ran = Arc::new(AtomicUsize::new(0));
    let queued = pool
        .submit({
            let ran = ran.clone();
            move || ran.fetch_add(1, Ordering::SeqCst)
        })
        .unwrap();
    assert!(queued.cancel());
    assert!(queued.cancelled() && queued.done());
    assert!(!blocker.cancel(), "a running job cannot be cancelled");
    gate.set();
    blocker.result().unwrap();
    assert!(queued.result().unwrap_err().is_cancelled());
    // The worker skipped the cancelled job and still serves.
    pool.submit(|| ()).unwrap().result().unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn a_job_is_awaited_on_an_event_loop() {
    let pool = pool(2);
    let out = brigade::run(async {
        let job = pool.submit(|| "from the pool").unwrap();
        job.await
    });
    assert_eq!(out.unwrap(), "from the pool");
}

#[test]
fn awaiting_a_job_does_not_block_the_loop() {
    let pool = pool(1);
    let gate = Arc::new(Event::new());
    let job = pool
        .submit({
            let gate = gate.clone();
            move || {
                gate.wait();
                7
            }
        })
        .unwrap();
    let out = brigade::run(async move {
        let opener = brigade::spawn(async move { gate.set() });
        let value = job.await.unwrap();
        opener.await.unwrap();
        value
    });
    assert_eq!(out, 7);
}

#[test]
fn map_keeps_input_order() {
    let pool = pool(3);
    let input: Vec<u64> = (0..10_007).collect();
    let out = pool.map(|x| x * 3, input).unwrap();
    assert_eq!(out.len(), 10_007);
    assert!(out.iter().enumerate().all(|(i, &y)| y == 3 * i as u64));
}

#[test]
fn map_handles_empty_and_tiny_inputs() {
    let pool = pool(2);
    assert_eq!(pool.map(|x: u8| x, Vec::new()).unwrap(), Vec::<u8>::new());
    assert_eq!(pool.map(|x: u8| x + 1, [1]).unwrap(), [2]);
    assert_eq!(pool.map(|x: u8| x + 1, [1, 2, 3]).unwrap(), [2, 3, 4]);
}

#[test]
fn map_may_borrow_from_the_caller() {
    let pool = pool(2);
    let words = ["rye".to_string(), "spelt".to_string()];
    let suffix = String::from("!");
    let out = pool
        .map(|w: &String| format!("{w}{suffix}"), &words)
        .unwrap();
    assert_eq!(out, ["rye!", "spelt!"]);
}

#[test]
fn map_slice_lends_items_by_reference() {
    let pool = pool(2);
    let input: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let lens = pool.map_slice(|s| s.len(), &input).unwrap();
    assert_eq!(lens[999], 3);
    assert_eq!(input.len(), 1000); // still ours
}

#[test]
fn map_moves_owned_items_and_drops_every_value_exactly_once() {
    // Each value counts its drops; after a successful map and a failed one
    // every item and every output has been dropped exactly once.
    #[derive(Debug)]
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let pool = pool(2);
    let items: Vec<Counted> = (0..500).map(|_| Counted(drops.clone())).collect();
    let out = pool.map(|c: Counted| c, items).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(out);
    assert_eq!(drops.load(Ordering::SeqCst), 500);

    drops.store(0, Ordering::SeqCst);
    let items: Vec<(usize, Counted)> = (0..500).map(|i| (i, Counted(drops.clone()))).collect();
    let err = pool
        .map(
            |(i, c): (usize, Counted)| {
                if i == 321 {
                    panic!("item {i} burnt");
                }
                c
            },
            items,
        )
        .unwrap_err();
    assert_eq!(err.index(), 321);
    assert_eq!(err.panic_message(), "item 321 burnt");
    assert_eq!(drops.load(Ordering::SeqCst), 500);
}

#[test]
fn map_reports_the_first_panicking_item() {
    let pool = pool(2);
    let err = pool
        .map(
            |x: u32| {
                assert!(x % 1000 != 999, "bad {x}");
                x
            },
            0..5000,
        )
        .unwrap_err();
    assert_eq!(err.index(), 999);
    assert!(err.to_string().contains("item 999 panicked: bad 999"));
    // The pool still works.
    assert_eq!(pool.map(|x: u32| x, 0..3).unwrap(), [0, 1, 2]);
}

#[test]
fn map_works_while_every_worker_is_busy() {
    // The caller does the work itself when no worker comes to help.
    let pool = pool(1);
    let (gate, blocker) = occupy(&pool);
    let out = pool.map(|x: u32| x + 1, 0..1000).unwrap();
    assert_eq!(out[999], 1000);
    gate.set();
    blocker.result().unwrap();
}

#[test]
fn map_after_shutdown_runs_on_the_caller() {
    let pool = pool(2);
    pool.shutdown(true, false);
    assert_eq!(pool.map(|x: u8| x * 2, [1, 2]).unwrap(), [2, 4]);
}

#[test]
fn map_from_inside_a_worker_does_not_deadlock() {
    let pool = Arc::new(pool(2));
    let inner = pool.clone();
    let job = pool
        .submit(move || inner.map(|x: u32| x * x, 0..100).unwrap())
        .unwrap();
    assert_eq!(job.result().unwrap()[9], 81);
}

#[test]
fn map_unordered_yields_every_result_once() {
    let pool = pool(3);
    let got: HashSet<u32> = pool
        .map_unordered(|x: u32| x * 2, 0..1000)
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, (0..1000).map(|x| x * 2).collect());
}

#[test]
fn map_unordered_reports_a_panic_as_that_items_error() {
    let pool = pool(2);
    let results: Vec<Result<u32, JobError>> = pool
        .map_unordered(
            |x: u32| {
                assert!(x != 7, "seven");
                x
            },
            0..20,
        )
        .collect();
    assert_eq!(results.len(), 20);
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].panic_message(), Some("seven"));
}

#[test]
fn map_unordered_after_shutdown_still_yields_everything() {
    let pool = pool(1);
    pool.shutdown(false, false);
    let mut got: Vec<u8> = pool
        .map_unordered(|x: u8| x, [3, 1, 2])
        .map(Result::unwrap)
        .collect();
    got.sort();
    assert_eq!(got, [1, 2, 3]);
}

#[test]
fn as_completed_yields_in_completion_order() {
    let pool = pool(2);
    let gate = Arc::new(Event::new());
    let slow = pool
        .submit({
            let gate = gate.clone();
            move || {
                gate.wait();
                "slow"
            }
        })
        .unwrap();
    let fast = pool.submit(|| "fast").unwrap();
    let mut done = as_completed([slow, fast]);
    assert_eq!(done.next().map(|(i, r)| (i, r.unwrap())), Some((1, "fast")));
    gate.set();
    assert_eq!(done.next().map(|(i, r)| (i, r.unwrap())), Some((0, "slow")));
    assert!(done.next().is_none());
}

#[test]
fn a_bounded_queue_pushes_back() {
    let pool = ThreadPool::builder()
        .workers(1)
        .queue_bound(2)
        .build()
        .unwrap();
    let (gate, blocker) = occupy(&pool);
    let a = pool.try_submit(|| 1).unwrap();
    let b = pool.try_submit(|| 2).unwrap();
    let refused = pool.try_submit(|| 3).unwrap_err();
    assert!(matches!(refused, SubmitError::Full(_)));
    assert_eq!(refused.into_inner()(), 3, "the function is handed back");
    // A blocking submit waits for room, which the worker makes.
    let submitter = thread::spawn({
        let gate = gate.clone();
        move || gate.set()
    })
    .unwrap();
    let c = pool.submit(|| 4).unwrap();
    submitter.into_result().unwrap();
    blocker.result().unwrap();
    let got: Vec<i32> = [a, b, c].into_iter().map(|j| j.result().unwrap()).collect();
    assert_eq!(got, [1, 2, 4]);
}

#[test]
fn shutdown_refuses_new_jobs_and_finishes_queued_ones() {
    let pool = pool(1);
    let (gate, blocker) = occupy(&pool);
    let queued = pool.submit(|| "kept").unwrap();
    let opener = thread::spawn(move || gate.set()).unwrap();
    pool.shutdown(true, false);
    opener.into_result().unwrap();
    assert!(pool.is_shutdown());
    blocker.result().unwrap();
    assert_eq!(queued.result().unwrap(), "kept");
    let refused = pool.submit(|| 1).unwrap_err();
    assert!(matches!(refused, SubmitError::Shutdown(_)));
    assert!(refused.to_string().contains("shut down"));
}

#[test]
fn shutdown_with_cancel_pending_cancels_queued_jobs() {
    let pool = pool(1);
    let (gate, blocker) = occupy(&pool);
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i).unwrap()).collect();
    pool.shutdown(false, true);
    gate.set();
    blocker.result().unwrap();
    for job in queued {
        assert!(job.result().unwrap_err().is_cancelled());
    }
}

#[test]
fn workers_are_named_daemon_brigade_threads() {
    let pool = ThreadPool::builder()
        .workers(1)
        .name_prefix("bakery")
        .build()
        .unwrap();
    let me = pool
        .submit(thread::current_thread)
        .unwrap()
        .result()
        .unwrap();
    assert_eq!(me.name(), "bakery_0");
    assert!(me.is_daemon());
    assert!(thread::enumerate().contains(&me));
}

#[test]
fn dropping_the_pool_waits_for_its_jobs() {
    let done = Arc::new(AtomicUsize::new(0));
    {
        let pool = pool(2);
        for _ in 0..20 {
            let done = done.clone();
            pool.submit(move || done.fetch_add(1, Ordering::SeqCst))
                .unwrap();
        }
    }
    assert_eq!(done.load(Ordering::SeqCst), 20);
}

#[test]
fn shutdown_from_a_worker_does_not_wait_for_itself() {
    let pool = Arc::new(pool(2));
    let inner = pool.clone();
    let job = pool.submit(move || inner.shutdown(true, false)).unwrap();
    job.result().unwrap();
    assert!(pool.is_shutdown());
}

#[test]
fn map_range_keeps_order_without_an_input_vector() {
    let pool = brigade::thread::ThreadPool::new().unwrap();
    let out = pool.map_range(|n| n * 3, 10..100_010).unwrap();
    assert_eq!(out.len(), 100_000);
    assert!(
        out.iter()
            .enumerate()
            .all(|(i, &v)| v == (i as u64 + 10) * 3)
    );
    assert!(pool.map_range(|n| n, 5..5).unwrap().is_empty());
    let error = pool
        .map_range(|n| if n == 777 { panic!("item {n}") } else { n }, 0..1000)
        .unwrap_err();
    assert!(error.to_string().contains("item 777"), "{error}");
}

/// Outputs of many MiB stay whole and in order, panics included.
#[test]
fn large_maps_keep_every_result() {
    let pool = brigade::thread::ThreadPool::new().unwrap();
    let n = 3 * (1 << 20); // 24 MiB of u64 output
    let out = pool.map_range(|i| i ^ 0x5555, 0..n).unwrap();
    assert_eq!(out.len() as u64, n);
    assert!(
        out.iter()
            .enumerate()
            .all(|(i, &v)| v == (i as u64) ^ 0x5555)
    );
    let strings = pool.map_range(|i| i.to_string(), 0..300_000).unwrap();
    assert_eq!(strings[299_999], "299999");
    let error = pool
        .map_range(|i| if i == n - 1 { panic!("last {i}") } else { i }, 0..n)
        .unwrap_err();
    assert!(
        error.to_string().contains(&format!("last {}", n - 1)),
        "{error}"
    );
}
