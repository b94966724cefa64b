//! Crossing threads: Handle, call_soon, to_thread, foreign wake-ups.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brigade::sync::oneshot;
use brigade::time::{Instant, sleep};
use brigade::{Handle, Runtime, spawn, to_thread};

#[test]
fn wakers_work_from_other_threads() {
    let total = brigade::run(async {
        let receivers: Vec<_> = (0..50u64)
            .map(|i| {
                let (tx, rx) = oneshot::channel();
                std::thread::spawn(move || tx.send(i).unwrap());
                spawn(async move { rx.await.unwrap() })
            })
            .collect();
        let mut total = 0;
        for r in receivers {
            total += r.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..50).sum());
}

#[test]
fn a_handle_spawns_from_another_thread_and_its_result_can_be_joined_there() {
    brigade::run(async {
        let handle = Handle::current();
        let joined = to_thread(move || {
            let remote = handle.spawn(async {
                brigade::yield_now().await;
                "from the loop"
            });
            remote.join()
        })
        .await
        .unwrap();
        assert_eq!(joined.unwrap(), "from the loop");
    });
}

#[test]
fn call_soon_runs_on_the_loop_thread() {
    let loop_thread = std::thread::current().id();
    let ran_on = brigade::run(async {
        let handle = Handle::current();
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            handle
                .call_soon(move || tx.send(std::thread::current().id()).unwrap())
                .unwrap();
        });
        rx.await.unwrap()
    });
    assert_eq!(ran_on, loop_thread);
}

#[test]
fn work_sent_to_a_closed_loop_reports_cancellation() {
    let handle = {
        let rt = Runtime::new().unwrap();
        rt.handle()
    };
    assert!(handle.call_soon(|| {}).is_err());
    let remote = handle.spawn(async { 1 });
    assert!(remote.join().unwrap_err().is_cancelled());
}

#[test]
fn remote_tasks_cancelled_by_shutdown_report_cancellation() {
    let rt = Runtime::new().unwrap();
    let remote = rt.handle().spawn(std::future::pending::<()>());
    rt.block_on(brigade::yield_now());
    drop(rt);
    assert!(remote.join().unwrap_err().is_cancelled());
}

#[test]
fn to_thread_returns_values_and_reports_panics() {
    brigade::run(async {
        assert_eq!(to_thread(|| 2 + 2).await.unwrap(), 4);
        let error = to_thread(|| -> u8 { panic!("blocking job failed") })
            .await
            .unwrap_err();
        assert_eq!(error.panic_message(), Some("blocking job failed"));
    });
}

#[test]
fn blocking_jobs_run_concurrently_with_the_loop() {
    brigade::run(async {
        let running = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let r = running.clone();
        let job = to_thread(move || {
            r.fetch_add(1, Ordering::SeqCst);
            release_rx.recv().unwrap();
            "released"
        });
        // The loop is not blocked: this task runs while the job waits.
        let ticker = spawn(async move {
            while running.load(Ordering::SeqCst) == 0 {
                brigade::yield_now().await;
            }
            release_tx.send(()).unwrap();
        });
        assert_eq!(job.await.unwrap(), "released");
        ticker.await.unwrap();
    });
}

#[test]
fn the_virtual_clock_does_not_jump_while_a_blocking_job_runs() {
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let sleeper = spawn(sleep(Duration::from_secs(3600)));
        to_thread(|| std::thread::sleep(Duration::from_millis(20)))
            .await
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(3600),
            "time jumped during outside work"
        );
        sleeper.await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    });
}

#[test]
fn several_loops_run_on_several_threads() {
    let loop_threads = std::sync::Mutex::new(Vec::new());
    let sums = brigade::event_loop::run_on_threads(4, |i| {
        loop_threads
            .lock()
            .unwrap()
            .push(std::thread::current().id());
        async move {
            let tasks: Vec<_> = (0..100)
                .map(|j| spawn(async move { i as u64 * 1000 + j }))
                .collect();
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        }
    });
    let expected: Vec<u64> = (0..4).map(|i| i * 100_000 + 4950).collect();
    assert_eq!(sums, expected, "outputs come back in loop order");
    let mut threads = loop_threads.into_inner().unwrap();
    threads.sort_by_key(|t| format!("{t:?}"));
    threads.dedup();
    assert_eq!(threads.len(), 4, "one thread per loop");
    assert!(!threads.contains(&std::thread::current().id()));
}

#[test]
#[should_panic(expected = "loop 2 failed")]
fn a_panicking_loop_is_reraised_after_all_loops_end() {
    brigade::event_loop::run_on_threads(3, |i| async move {
        if i == 2 {
            panic!("loop {i} failed");
        }
    });
}
