//! A process pool's tasks as `concurrent.futures` futures: cancel,
//! done-callbacks, `error()`, `wait` (with thread-pool jobs too),
//! `apply_async` callbacks, chunk sizes, and a pool of zero workers. A
//! task that must stay running blocks on a `Queue` the test releases, so
//! every order here is forced, never timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use brigade::process::{
    PoolTask, ProcessError, ProcessPool, Queue, ReturnWhen, StartError, Waitable, wait,
};
use brigade::thread::ThreadPool;

/// Says it started, then waits for the word to finish.
fn gate(started: Queue<()>, release: Queue<()>) -> u32 {
    started.put(&()).unwrap();
    release.get().unwrap();
    7
}

fn record(ran: Queue<u32>, n: u32) -> u32 {
    ran.put(&n).unwrap();
    n
}

fn fail(why: String) -> u32 {
    panic!("{why}")
}

fn square(n: u64) -> u64 {
    n * n
}

struct Gate {
    started: Queue<()>,
    release: Queue<()>,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            started: Queue::new().unwrap(),
            release: Queue::new().unwrap(),
        }
    }

    /// Submits a gated task and returns once a worker runs it.
    fn submit(&self, pool: &ProcessPool) -> PoolTask<u32> {
        let task = pool.submit(gate, (self.started.clone(), self.release.clone()));
        self.started.get().unwrap();
        task
    }

    fn open(&self) {
        self.release.put(&()).unwrap();
    }
}

#[test]
fn zero_workers_is_a_typed_error() {
    assert!(matches!(ProcessPool::new(0), Err(StartError::NoWorkers)));
    let built = ProcessPool::builder().processes(0).build();
    assert!(matches!(built, Err(StartError::NoWorkers)));
    assert_eq!(
        StartError::NoWorkers.to_string(),
        "a process pool needs at least one worker"
    );
}

#[test]
fn a_queued_task_cancels_and_never_runs() {
    let pool = ProcessPool::new(1).unwrap();
    let g = Gate::new();
    let busy = g.submit(&pool);
    assert!(busy.running());
    assert!(!busy.cancel(), "a running task cannot be cancelled");
    let ran = Queue::new().unwrap();
    let queued = pool.submit(record, (ran.clone(), 1));
    assert!(!queued.running() && !queued.done());
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    queued.add_done_callback(move |t| {
        assert!(t.cancelled());
        seen.fetch_add(1, Ordering::SeqCst);
    });
    assert!(queued.cancel());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "cancel ran the callback");
    assert!(queued.cancelled() && queued.done());
    assert!(matches!(*queued.error().unwrap(), ProcessError::Cancelled));
    let after = pool.submit(record, (ran.clone(), 2));
    g.open();
    assert_eq!(busy.wait().unwrap(), 7);
    assert_eq!(after.wait().unwrap(), 2);
    assert!(matches!(queued.wait(), Err(ProcessError::Cancelled)));
    pool.join();
    assert_eq!(ran.try_get().unwrap(), 2, "only the task not cancelled ran");
    assert!(ran.try_get().is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_callback_runs_once_when_the_task_ends_and_at_once_after() {
    let pool = ProcessPool::new(1).unwrap();
    let g = Gate::new();
    let task = g.submit(&pool);
    let calls = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let seen = calls.clone();
    task.add_done_callback(move |t| {
        seen.fetch_add(1, Ordering::SeqCst);
        tx.send(t.error().is_none()).unwrap();
    });
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    g.open();
    assert!(rx.recv().unwrap());
    let here = std::thread::current().id();
    let ran_on = Arc::new(Mutex::new(None));
    let slot = ran_on.clone();
    task.add_done_callback(move |_| *slot.lock().unwrap() = Some(std::thread::current().id()));
    assert_eq!(
        *ran_on.lock().unwrap(),
        Some(here),
        "ran at once, on the caller"
    );
    assert_eq!(task.wait().unwrap(), 7);
    pool.join();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn error_reads_a_failure_without_taking_it() {
    let pool = ProcessPool::new(1).unwrap();
    let bad = pool.submit(fail, ("dough".to_owned(),));
    let good = pool.submit(square, (3,));
    wait([&bad], None, ReturnWhen::AllCompleted);
    wait([&good], None, ReturnWhen::AllCompleted);
    match &*bad.error().unwrap() {
        ProcessError::Panicked { message, .. } => assert_eq!(message, "dough"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(good.error().is_none());
    assert!(matches!(bad.wait(), Err(ProcessError::Panicked { .. })));
    assert_eq!(good.wait().unwrap(), 9);
}

#[test]
fn wait_on_pool_tasks_with_every_return_when() {
    let pool = ProcessPool::new(2).unwrap();
    let g = Gate::new();
    let blocked = g.submit(&pool);
    let quick = pool.submit(gate_free, ());
    let (done, not_done) = wait([&blocked, &quick], None, ReturnWhen::FirstCompleted);
    assert!(std::ptr::eq(done[0], &quick) && std::ptr::eq(not_done[0], &blocked));

    let failing = pool.submit(fail, ("x".to_owned(),));
    let (done, not_done) = wait([&blocked, &failing], None, ReturnWhen::FirstException);
    assert!(std::ptr::eq(done[0], &failing) && std::ptr::eq(not_done[0], &blocked));

    let (done, not_done) = wait(
        [&blocked],
        Some(Duration::from_millis(1)),
        ReturnWhen::AllCompleted,
    );
    assert!(done.is_empty() && not_done.len() == 1);
    assert!(!blocked.cancelled());
    g.open();
    let (done, not_done) = wait([&blocked, &quick, &failing], None, ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (3, 0));
}

fn gate_free() -> u32 {
    0
}

#[test]
fn one_wait_takes_jobs_and_pool_tasks_together() {
    let threads = ThreadPool::builder().workers(1).build().unwrap();
    let processes = ProcessPool::new(1).unwrap();
    let g = Gate::new();
    let task = g.submit(&processes);
    let (release, hold) = mpsc::channel::<()>();
    let job = threads.submit(move || hold.recv().unwrap()).unwrap();
    let both: [&dyn Waitable; 2] = [&job, &task];
    release.send(()).unwrap();
    let (done, not_done) = wait(both, None, ReturnWhen::FirstCompleted);
    assert_eq!((done.len(), not_done.len()), (1, 1));
    assert!(done[0].is_done() && !not_done[0].is_done());
    g.open();
    let (done, _) = wait(both, None, ReturnWhen::AllCompleted);
    assert_eq!(done.len(), 2);
}

#[test]
fn apply_async_calls_one_callback_once_before_the_task_is_done() {
    let pool = ProcessPool::new(1).unwrap();
    let values = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let (v1, e1) = (values.clone(), errors.clone());
    let ok = pool.apply_async(
        square,
        (5,),
        move |v| v1.lock().unwrap().push(*v),
        move |e| e1.lock().unwrap().push(e.to_string()),
    );
    let (v2, e2) = (values.clone(), errors.clone());
    let bad = pool.apply_async(
        fail,
        ("proofing".to_owned(),),
        move |v| v2.lock().unwrap().push(u64::from(*v)),
        move |e| e2.lock().unwrap().push(e.to_string()),
    );
    assert_eq!(ok.wait().unwrap(), 25);
    assert!(bad.wait().is_err());
    // Both callbacks had run by the time their tasks were done.
    assert_eq!(*values.lock().unwrap(), [25]);
    let errors = errors.lock().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("proofing"), "{}", errors[0]);
}

#[test]
fn chunked_maps_keep_order_and_refuse_zero() {
    let pool = ProcessPool::new(2).unwrap();
    let expected: Vec<u64> = (0..10).map(|n| n * n).collect();
    for chunksize in [1, 3, 10, 50] {
        assert_eq!(
            pool.map_chunked(square, 0..10, chunksize).unwrap(),
            expected
        );
        let lazy: Vec<u64> = pool
            .imap_chunked(square, 0..10, chunksize)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(lazy, expected);
        let mut unordered: Vec<u64> = pool
            .imap_unordered_chunked(square, 0..10, chunksize)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        unordered.sort();
        assert_eq!(unordered, expected);
    }
    assert!(matches!(
        pool.map_chunked(square, 0..3, 0),
        Err(ProcessError::Start(StartError::ZeroChunksize))
    ));
    assert!(matches!(
        pool.imap_chunked(square, 0..3, 0),
        Err(StartError::ZeroChunksize)
    ));
    assert!(matches!(
        pool.imap_unordered_chunked(square, 0..3, 0),
        Err(StartError::ZeroChunksize)
    ));
    assert!(pool.map_chunked(square, Vec::new(), 4).unwrap().is_empty());
}

#[test]
fn a_task_of_a_terminated_pool_fails_once_with_its_callbacks() {
    let pool = ProcessPool::new(1).unwrap();
    let g = Gate::new();
    let busy = g.submit(&pool);
    let errors = Arc::new(AtomicUsize::new(0));
    let seen = errors.clone();
    let queued = pool.apply_async(
        square,
        (2,),
        |_| (),
        move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        },
    );
    pool.terminate();
    assert!(matches!(queued.wait(), Err(ProcessError::PoolClosed)));
    assert!(busy.wait().is_err());
    assert_eq!(errors.load(Ordering::SeqCst), 1);
}
