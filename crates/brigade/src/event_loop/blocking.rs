//! [`to_thread`]: run blocking code on a pool of threads and await it
//! (`asyncio.to_thread`).
//!
//! One pool serves every loop of the process. It starts threads as jobs
//! arrive, up to a bound, and lets a thread go after it has idled for ten
//! seconds. Jobs beyond the bound wait in a FIFO queue.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use super::context;
use super::join::JoinError;
use super::scheduler::{Shared, next_task_id};
use super::task::TaskId;
use crate::sync::oneshot;

/// Most threads the blocking pool runs at once.
pub const MAX_BLOCKING_THREADS: usize = 64;
const KEEP_ALIVE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    /// Idle threads already woken for a job but not yet running: they are
    /// idle on paper only, and a new job must not count on them.
    notified: usize,
    spawned: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            queue: VecDeque::new(),
            threads: 0,
            idle: 0,
            notified: 0,
            spawned: 0,
        }),
        work: Condvar::new(),
    })
}

impl Pool {
    fn submit(&'static self, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.queue.push_back(job);
        if state.idle > state.notified {
            state.notified += 1;
            self.work.notify_one();
            return;
        }
        if state.threads < MAX_BLOCKING_THREADS {
            state.threads += 1;
            state.spawned += 1;
            let name = format!("brigade-blocking-{}", state.spawned);
            let started = std::thread::Builder::new()
                .name(name)
                .spawn(move || self.work_loop());
            if started.is_err() {
                state.threads -= 1;
                if state.threads == 0 {
                    // No thread can take the jobs: drop them, which tells
                    // their awaiters (their result channels close).
                    let jobs: Vec<Job> = state.queue.drain(..).collect();
                    drop(state);
                    drop(jobs);
                }
            }
        }
    }

    fn work_loop(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // Jobs catch their own panics; this guards the thread count
                // against anything that still unwinds.
                let _ = catch_unwind(AssertUnwindSafe(job));
                state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, KEEP_ALIVE)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if !timeout.timed_out() {
                state.notified = state.notified.saturating_sub(1);
            }
            if timeout.timed_out() && state.queue.is_empty() {
                state.threads -= 1;
                return;
            }
        }
    }
}

/// Runs the blocking function `f` on brigade's pool of blocking threads and
/// returns a future of its result, so the event loop keeps running
/// meanwhile. A panic in `f` is caught and reported as
/// [`JoinError::Panicked`].
///
/// On a virtual clock, time does not jump while such a job runs: the loop
/// waits for it as it would for any real work.
///
/// # Cancel safety
///
/// Dropping the future does not stop `f`: a thread cannot be interrupted
/// (as with `asyncio.to_thread`), so the job runs to its end and its result
/// is dropped.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let sum = brigade::to_thread(|| (1..=100u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
pub fn to_thread<F, T>(f: F) -> ToThread<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    // The job, not its future, holds the clock: time may move again as soon
    // as the work is done, even if nobody awaits the result yet.
    let hold = hold_clock();
    pool().submit(Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(f)).map_err(JoinError::panicked);
        // An output nobody awaits is dropped here; its destructor may panic,
        // which must not kill the pool thread.
        let unsent = tx.send(result).err();
        let _ = catch_unwind(AssertUnwindSafe(move || drop(unsent)));
        drop(hold);
    }));
    ToThread {
        rx,
        id: next_task_id(),
    }
}

/// The future returned by [`to_thread`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let job: brigade::event_loop::ToThread<String> =
///         brigade::to_thread(|| std::fs::read_to_string("Cargo.toml").unwrap());
///     assert!(job.await.unwrap().contains("[package]"));
/// });
/// ```
#[must_use = "the job runs anyway; await the future to get its result"]
pub struct ToThread<T> {
    rx: oneshot::Receiver<Result<T, JoinError>>,
    id: TaskId,
}

impl<T> Future for ToThread<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(JoinError::Cancelled(id))))
    }
}

/// Holds the current loop's virtual clock still until dropped, if called on
/// a loop: for futures that wait on outside work (a blocking job, a thread).
pub(crate) fn hold_clock() -> Option<Inhibit> {
    context::with(|core| core.map(|core| Inhibit::new(core.shared.clone())))
}

/// Holds a virtual clock still while outside work is in flight.
pub(crate) struct Inhibit(Arc<Shared>);

impl Inhibit {
    pub(crate) fn new(shared: Arc<Shared>) -> Inhibit {
        shared.inhibit.fetch_add(1, Ordering::AcqRel);
        Inhibit(shared)
    }
}

impl Drop for Inhibit {
    fn drop(&mut self) {
        // The last hold released: a virtual loop parked for the outside work
        // may now let time jump.
        if self.0.inhibit.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.unpark();
        }
    }
}
