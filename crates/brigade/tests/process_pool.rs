//! `ProcessPool`: ordered and unordered maps, futures, initializers,
//! worker recycling, time limits, and workers that die mid-task.

use std::collections::BTreeSet;
use std::time::Duration;

use brigade::process::{Exit, ProcessError, ProcessPool, StartMethod};

fn square(n: u64) -> u64 {
    n * n
}

fn add(a: u64, b: u64) -> u64 {
    a + b
}

fn pid_of_worker(_: u32) -> u32 {
    std::process::id()
}

fn sleep_then(ms: u64, value: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    value
}

/// Dies in the way its argument names, or returns it.
fn crash(how: String) -> String {
    match how.as_str() {
        // SAFETY: signals this very process; nothing else is touched.
        "kill" => unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        },
        "abort" => std::process::abort(),
        // SAFETY: as above, with the signal a wild pointer would raise.
        "segfault" => unsafe {
            libc::raise(libc::SIGSEGV);
        },
        "stack" => {
            #[allow(unconditional_recursion)]
            fn deeper(n: u64) -> u64 {
                let pad = std::hint::black_box([n; 64]);
                deeper(pad[3] + 1) + pad[0]
            }
            std::hint::black_box(deeper(0));
        }
        "panic" => panic!("task panicked"),
        _ => {}
    }
    how
}

fn set_marker(value: String) {
    // SAFETY: the worker runs its initializer before any other code of its
    // own, on its only thread but the parent watch.
    unsafe { std::env::set_var("BRIGADE_TEST_MARKER", value) };
}

fn read_marker() -> String {
    std::env::var("BRIGADE_TEST_MARKER").unwrap_or_default()
}

#[test]
fn map_is_ordered_and_chunked() {
    let pool = ProcessPool::new(2).unwrap();
    let out = pool.map(square, 0..1000).unwrap();
    assert_eq!(out, (0..1000u64).map(|n| n * n).collect::<Vec<_>>());
    assert_eq!(
        pool.map(square, Vec::<u64>::new()).unwrap(),
        Vec::<u64>::new()
    );
    assert_eq!(pool.starmap(add, [(1, 2), (3, 4)]).unwrap(), [3, 7]);
}

fn late_first_failure(n: u64) -> u64 {
    match n {
        1 => {
            // Likely to fail after item 5 has: the order of the errors
            // returned must not depend on it.
            std::thread::sleep(Duration::from_millis(50));
            panic!("item one");
        }
        5 => panic!("item five"),
        n => n,
    }
}

#[test]
fn map_returns_the_first_error_in_input_order() {
    let pool = ProcessPool::new(2).unwrap();
    // Eight items on two workers: eight chunks of one.
    match pool.map(late_first_failure, 0..8) {
        Err(ProcessError::Panicked { message, .. }) => assert!(message.contains("item one")),
        other => panic!("expected item one's panic, got {other:?}"),
    }
    // The pool goes on.
    assert_eq!(pool.map(late_first_failure, [0, 2, 3]).unwrap(), [0, 2, 3]);
}

fn bytes_of(n: u64) -> Vec<u8> {
    vec![n as u8; 10_000]
}

#[test]
fn map_replies_inline_and_in_memory_files_arrive_whole() {
    let pool = ProcessPool::new(2).unwrap();
    // Chunks of 5 results (50 KB, inline) and of 13 (130 KB, a memory
    // file).
    for items in [40u64, 100] {
        let out = pool.map(bytes_of, 0..items).unwrap();
        assert_eq!(out.len(), items as usize);
        for (n, bytes) in out.iter().enumerate() {
            assert_eq!(bytes, &vec![n as u8; 10_000]);
        }
    }
}

/// A result whose decoding panics for 13, in the parent only (the worker
/// never decodes a result).
#[derive(Debug, PartialEq)]
struct Unlucky(u64);

impl serde::Serialize for Unlucky {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Unlucky {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        assert_ne!(n, 13, "thirteen will not be decoded");
        Ok(Unlucky(n))
    }
}

fn unlucky(n: u64) -> Unlucky {
    Unlucky(n)
}

#[test]
fn a_panic_decoding_results_reaches_the_caller_and_the_pool_goes_on() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let pool = ProcessPool::new(2).unwrap();
    let message = |panic: Box<dyn std::any::Any + Send>| {
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let map = catch_unwind(AssertUnwindSafe(|| pool.map(unlucky, 0..40)));
    assert!(message(map.unwrap_err()).contains("thirteen"));
    let imap = catch_unwind(AssertUnwindSafe(|| {
        pool.imap(unlucky, 10..20).collect::<Vec<_>>()
    }));
    assert!(message(imap.unwrap_err()).contains("thirteen"));
    // Every driver is still there: a map as wide as the pool completes.
    let out = pool.map(unlucky, 20..60).unwrap();
    assert_eq!(out, (20..60).map(Unlucky).collect::<Vec<_>>());
}

/// Page faults taken by this process so far.
fn minor_faults() -> i64 {
    // SAFETY: rusage is plain integers, for which all zeroes is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes only into the struct it is given.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    usage.ru_minflt
}

/// Faults taken to allocate and fill 8 MiB, the second time this task does
/// it (the first allocation is freed before).
fn refaults_of_a_second_task(_: u32) -> i64 {
    let fill = || drop(std::hint::black_box(vec![1u8; 8 << 20]));
    fill();
    let before = minor_faults();
    fill();
    minor_faults() - before
}

#[test]
fn a_worker_keeps_the_memory_a_task_frees_for_the_next() {
    let pool = ProcessPool::new(1).unwrap();
    // Given back to the kernel and taken again, 8 MiB would be 2,048
    // faults of 4 KiB pages.
    let faults = pool.apply(refaults_of_a_second_task, (0,)).unwrap();
    assert!(faults < 256, "{faults} page faults");
}

#[test]
fn imap_keeps_order_and_imap_unordered_yields_everything() {
    let pool = ProcessPool::new(3).unwrap();
    let ordered: Vec<u64> = pool.imap(square, [5, 1, 4]).map(Result::unwrap).collect();
    assert_eq!(ordered, [25, 1, 16]);
    let mut unordered: Vec<u64> = pool
        .imap_unordered(square, 0..20)
        .map(Result::unwrap)
        .collect();
    unordered.sort();
    assert_eq!(unordered, (0..20u64).map(|n| n * n).collect::<Vec<_>>());
}

#[test]
fn submit_is_awaitable_and_waitable() {
    let pool = ProcessPool::new(2).unwrap();
    assert_eq!(pool.submit(square, (3,)).wait().unwrap(), 9);
    assert_eq!(pool.apply(add, (2, 2)).unwrap(), 4);
    let (a, b) = brigade::run(async {
        let a = pool.submit(sleep_then, (30, 1));
        let b = pool.submit(sleep_then, (1, 2));
        (a.await.unwrap(), b.await.unwrap())
    });
    assert_eq!((a, b), (1, 2));
    let slow = pool.submit(sleep_then, (60_000, 0));
    let slow = slow.wait_timeout(Duration::from_millis(1)).unwrap_err();
    assert!(!slow.is_done());
    pool.terminate();
    assert!(matches!(slow.wait(), Err(ProcessError::PoolClosed)));
}

#[test]
fn the_initializer_runs_in_every_worker() {
    let pool = ProcessPool::builder()
        .processes(2)
        .initializer(set_marker, ("ready".to_string(),))
        .build()
        .unwrap();
    for _ in 0..4 {
        assert_eq!(pool.apply(read_marker, ()).unwrap(), "ready");
    }
}

#[test]
fn max_tasks_per_child_recycles_workers() {
    let pool = ProcessPool::builder()
        .processes(2)
        .max_tasks_per_child(1)
        .build()
        .unwrap();
    let pids: Vec<u32> = pool.imap(pid_of_worker, 0..6).map(Result::unwrap).collect();
    let distinct: BTreeSet<u32> = pids.iter().copied().collect();
    assert_eq!(distinct.len(), 6, "{pids:?}");
}

#[test]
fn a_task_past_its_time_limit_fails_alone() {
    let pool = ProcessPool::builder()
        .processes(1)
        .task_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let slow = pool.submit(sleep_then, (60_000, 0));
    let quick = pool.submit(sleep_then, (0, 7));
    assert!(matches!(slow.wait(), Err(ProcessError::TimedOut { .. })));
    assert_eq!(quick.wait().unwrap(), 7);
}

fn crashes_fail_only_their_task(method: StartMethod) {
    let pool = ProcessPool::builder()
        .processes(2)
        .start_method(method)
        .build()
        .unwrap();
    let kinds = [
        "ok1", "kill", "ok2", "abort", "ok3", "segfault", "panic", "stack", "ok4",
    ];
    let tasks: Vec<_> = kinds
        .iter()
        .map(|k| pool.submit(crash, (k.to_string(),)))
        .collect();
    for (kind, task) in kinds.iter().zip(tasks) {
        let result = task.wait();
        match *kind {
            "kill" => assert!(
                matches!(result, Err(ProcessError::WorkerDied { cause: Exit::Signal(9), pid }) if pid > 0),
                "{result:?}"
            ),
            "abort" => assert!(
                matches!(
                    result,
                    Err(ProcessError::WorkerDied {
                        cause: Exit::Signal(6),
                        ..
                    })
                ),
                "{result:?}"
            ),
            "segfault" | "stack" => assert!(
                matches!(
                    result,
                    Err(ProcessError::WorkerDied {
                        cause: Exit::Signal(11),
                        ..
                    })
                ),
                "{kind}: {result:?}"
            ),
            "panic" => assert!(
                matches!(&result, Err(ProcessError::Panicked { message, .. }) if message == "task panicked"),
                "{result:?}"
            ),
            ok => assert_eq!(result.unwrap(), ok),
        }
    }
    // The pool goes on with fresh workers.
    assert_eq!(pool.map(square, 0..10).unwrap()[9], 81);
}

#[test]
fn crashed_workers_fail_only_their_task_spawn() {
    crashes_fail_only_their_task(StartMethod::Spawn);
}

#[test]
fn crashed_workers_fail_only_their_task_forkserver() {
    crashes_fail_only_their_task(StartMethod::Forkserver);
}

#[test]
fn died_errors_name_the_pid_and_cause() {
    let pool = ProcessPool::new(1).unwrap();
    let err = pool.apply(crash, ("kill".to_string(),)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("SIGKILL") && text.contains("worker process"),
        "{text}"
    );
}

#[test]
fn close_join_and_terminate() {
    let pool = ProcessPool::new(2).unwrap();
    let queued: Vec<_> = (0..6).map(|i| pool.submit(sleep_then, (5, i))).collect();
    pool.close();
    assert!(matches!(
        pool.submit(square, (1,)).wait(),
        Err(ProcessError::PoolClosed)
    ));
    pool.join();
    // Queued tasks finished before join returned.
    for (i, t) in queued.into_iter().enumerate() {
        assert_eq!(t.wait().unwrap(), i as u64);
    }
    assert!(pool.pids().is_empty());

    let pool = ProcessPool::new(1).unwrap();
    let running = pool.submit(sleep_then, (60_000, 0));
    let waiting = pool.submit(sleep_then, (60_000, 1));
    while pool.pids().is_empty() {
        std::thread::sleep(Duration::from_millis(1));
    }
    pool.terminate();
    let r = running.wait();
    assert!(matches!(r, Err(ProcessError::PoolClosed)), "{r:?}");
    assert!(matches!(waiting.wait(), Err(ProcessError::PoolClosed)));
}

#[test]
fn a_capturing_function_fails_its_task_not_the_pool() {
    let pool = ProcessPool::new(1).unwrap();
    let k = 2u64;
    let err = pool.apply(move |n: u64| n * k, (1,)).unwrap_err();
    assert!(matches!(err, ProcessError::Start(_)), "{err:?}");
    assert_eq!(pool.apply(square, (5,)).unwrap(), 25);
}

#[test]
fn a_worker_killed_while_idle_costs_no_task() {
    let pool = ProcessPool::new(1).unwrap();
    let first = pool.apply(pid_of_worker, (0,)).unwrap();
    // SAFETY: signals our own idle worker, which the pool owns and reaps.
    unsafe { libc::kill(first as i32, libc::SIGKILL) };
    // The next task finds the worker dead before it takes the task, and
    // goes to a fresh worker instead of failing.
    let second = pool.apply(pid_of_worker, (1,)).unwrap();
    assert_ne!(first, second);
}

#[test]
fn a_chunk_sent_behind_a_dying_task_runs_on_a_fresh_worker() {
    // One worker: while it runs each item, the next is already in its
    // channel. Those behind a death were never started, so they run, once,
    // on the replacement.
    let pool = ProcessPool::new(1).unwrap();
    let items = ["kill", "a", "b", "abort", "c"].map(String::from);
    let results: Vec<_> = pool.imap(crash, items).collect();
    assert!(matches!(
        results[0],
        Err(ProcessError::WorkerDied {
            cause: Exit::Signal(libc::SIGKILL),
            ..
        })
    ));
    assert_eq!(results[1].as_ref().unwrap(), "a");
    assert_eq!(results[2].as_ref().unwrap(), "b");
    assert!(matches!(
        results[3],
        Err(ProcessError::WorkerDied {
            cause: Exit::Signal(libc::SIGABRT),
            ..
        })
    ));
    assert_eq!(results[4].as_ref().unwrap(), "c");
}

#[test]
fn no_chunk_is_sent_ahead_past_a_workers_quota() {
    let pool = ProcessPool::builder()
        .processes(1)
        .max_tasks_per_child(2)
        .build()
        .unwrap();
    let pids: Vec<u32> = pool.imap(pid_of_worker, 0..6).map(Result::unwrap).collect();
    // Each worker ran exactly its two, one after the other.
    for pair in pids.chunks(2) {
        assert_eq!(pair[0], pair[1], "{pids:?}");
    }
    let distinct: BTreeSet<u32> = pids.iter().copied().collect();
    assert_eq!(distinct.len(), 3, "{pids:?}");
}
