//! [`Job`]: the future of one function submitted to a
//! [`ThreadPool`](super::ThreadPool), like `concurrent.futures.Future`.
//!
//! A job is pending in the pool's queue, then running on a worker, then
//! finished: with the function's value, with its panic, or cancelled. Its
//! result can be waited for from plain code ([`result`](Job::result),
//! [`result_timeout`](Job::result_timeout)), awaited on an event loop (a
//! job is a [`Future`]), or collected from many jobs in the order they
//! finish with [`as_completed`](super::as_completed) (`as_completed.rs`).
//!
//! ```
//! use brigade::thread::ThreadPool;
//!
//! let pool = ThreadPool::builder().workers(2).build().unwrap();
//! let job = pool.submit(|| 6 * 7).unwrap();
//! assert_eq!(job.result().unwrap(), 42);
//!
//! let late = pool.submit(|| "awaited").unwrap();
//! assert_eq!(brigade::run(late).unwrap(), "awaited"); // a job is a future
//! ```
//!
//! The state is a mutex-protected slot with a condition variable for
//! blocked threads and a waker for an awaiting task: the monitor that
//! [`oneshot`](crate::sync::oneshot) uses, plus the states a pool needs
//! (running, cancelled).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::slot::{Callback, ErrorRef, Failure, State, Status, take_finished};
use crate::event_loop::Panic;
use crate::loom::sync::Arc;

/// Why a [`Job`] has no value.
///
/// # Examples
/// ```
/// use brigade::thread::{JobError, ThreadPool};
///
/// let pool = ThreadPool::new().unwrap();
/// let job = pool.submit(|| -> u8 { panic!("bad batch") }).unwrap();
/// match job.result() {
///     Err(JobError::Panicked(p)) => assert_eq!(p.message(), "bad batch"),
///     other => unreachable!("{other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum JobError {
    /// The job was cancelled before it started, by [`Job::cancel`] or by
    /// [`ThreadPool::shutdown`](super::ThreadPool::shutdown) with
    /// `cancel_pending`.
    Cancelled,
    /// The function panicked; the worker caught it and kept serving.
    Panicked(Panic),
}

impl JobError {
    /// The panic message, if the function panicked.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let e = pool.submit(|| -> () { panic!("boom") }).unwrap().result().unwrap_err();
    /// assert_eq!(e.panic_message(), Some("boom"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JobError::Panicked(panic) => Some(panic.message()),
            JobError::Cancelled => None,
        }
    }

    /// Whether the job was cancelled.
    ///
    /// # Examples
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let pool = brigade::thread::ThreadPool::builder().workers(1).build().unwrap();
    /// let (go, gate) = mpsc::channel::<()>();
    /// let busy = pool.submit(move || gate.recv().unwrap()).unwrap();
    /// let queued = pool.submit(|| ()).unwrap();
    /// queued.cancel();
    /// go.send(()).unwrap();
    /// assert!(queued.result().unwrap_err().is_cancelled());
    /// busy.result().unwrap();
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JobError::Cancelled)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Cancelled => f.write_str("the job was cancelled before it started"),
            JobError::Panicked(panic) => write!(f, "the job panicked: {}", panic.message()),
        }
    }
}

impl std::error::Error for JobError {}

/// Why [`Job::result_timeout`] returned no value.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use brigade::thread::{ResultTimeoutError, ThreadPool};
///
/// let pool = ThreadPool::new().unwrap();
/// let (go, gate) = std::sync::mpsc::channel::<()>();
/// let job = pool.submit(move || gate.recv().map(|_| 5).unwrap()).unwrap();
/// let job = match job.result_timeout(Duration::from_millis(1)) {
///     Err(ResultTimeoutError::Timeout(job)) => job, // handed back
///     other => unreachable!("{other:?}"),
/// };
/// go.send(()).unwrap();
/// assert_eq!(job.result().unwrap(), 5);
/// ```
pub enum ResultTimeoutError<T> {
    /// The time ran out; here is the job back, still pending or running.
    Timeout(Job<T>),
    /// The job finished without a value.
    Failed(JobError),
}

impl<T> fmt::Debug for ResultTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            ResultTimeoutError::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

impl<T> fmt::Display for ResultTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultTimeoutError::Timeout(_) => f.write_str("timed out waiting for the job"),
            ResultTimeoutError::Failed(e) => e.fmt(f),
        }
    }
}

impl<T> std::error::Error for ResultTimeoutError<T> {}

impl Failure for JobError {
    fn cancelled() -> JobError {
        JobError::Cancelled
    }

    fn is_cancellation(&self) -> bool {
        self.is_cancelled()
    }
}

/// The worker's end of a job: runs it once, or cancels it when dropped
/// unrun (the pool shut down with `cancel_pending`).
pub(crate) struct Runner<T> {
    state: Option<Arc<State<T, JobError>>>,
}

impl<T> Runner<T> {
    /// Runs `f` unless the job was cancelled meanwhile, catching a panic.
    pub(crate) fn run(mut self, f: impl FnOnce() -> T) {
        let Some(state) = self.state.take() else {
            return;
        };
        if !state.start() {
            return; // cancelled
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map_err(|payload| JobError::Panicked(Panic::new(payload)));
        State::finish(&state, outcome);
    }
}

impl<T> Drop for Runner<T> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            State::finish(&state, Err(JobError::Cancelled));
        }
    }
}

/// Makes a pending job: the caller's [`Job`] and the worker's [`Runner`].
pub(crate) fn job<T>() -> (Job<T>, Runner<T>) {
    let state = State::new();
    (
        Job {
            state: state.clone(),
        },
        Runner { state: Some(state) },
    )
}

/// A submitted function's future, like `concurrent.futures.Future`: wait
/// for it with `result`, await it on an event loop, or `cancel` it before
/// it starts.
///
/// Dropping a job does not cancel it: the function still runs and its
/// value is dropped. Call [`cancel`](Self::cancel) to stop a job that has
/// not started.
///
/// # Examples
/// Waited for from a thread, or awaited on an event loop:
/// ```
/// let pool = brigade::thread::ThreadPool::new().unwrap();
/// let job = pool.submit(|| 2 + 2).unwrap();
/// assert_eq!(job.result().unwrap(), 4);
///
/// let job = pool.submit(|| "from a worker").unwrap();
/// brigade::run(async move {
///     assert_eq!(job.await.unwrap(), "from a worker");
/// });
/// ```
///
/// # Cancel safety
/// Awaiting is cancel-safe: a dropped `Job` future leaves the function to
/// run (its value is dropped), as dropping the job does.
pub struct Job<T> {
    pub(crate) state: Arc<State<T, JobError>>,
}

impl<T> Job<T> {
    /// Blocks until the job finishes and returns its value. Never call this
    /// from a task on an event loop: `.await` the job instead.
    ///
    /// # Panics
    /// On an event loop's thread, where it would block every task of the
    /// loop: await the job instead.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let job = pool.submit(|| (1..=10).sum::<u32>()).unwrap();
    /// assert_eq!(job.result().unwrap(), 55);
    /// ```
    ///
    /// # Errors
    /// [`JobError::Panicked`] if the function panicked,
    /// [`JobError::Cancelled`] if the job was cancelled before it started.
    #[track_caller]
    pub fn result(self) -> Result<T, JobError> {
        crate::event_loop::context::assert_not_on_loop("Job::result", "job.await");
        let mut slot = self.state.lock();
        loop {
            if let Some(outcome) = take_finished(&mut slot) {
                return outcome;
            }
            slot = self
                .state
                .finished
                .wait(slot)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Like [`result`](Self::result), waiting at most `timeout`; on
    /// time-out the job is handed back, to wait again or cancel.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let job = pool.submit(|| 7).unwrap();
    /// assert_eq!(job.result_timeout(Duration::from_secs(60)).unwrap(), 7);
    /// ```
    ///
    /// # Errors
    /// [`ResultTimeoutError::Timeout`] with the job, when the time runs out;
    /// [`ResultTimeoutError::Failed`] with the [`JobError`] of
    /// [`result`](Self::result).
    pub fn result_timeout(self, timeout: Duration) -> Result<T, ResultTimeoutError<T>> {
        let deadline = Instant::now().checked_add(timeout);
        {
            let mut slot = self.state.lock();
            loop {
                if let Some(outcome) = take_finished(&mut slot) {
                    return outcome.map_err(ResultTimeoutError::Failed);
                }
                let Some(deadline) = deadline else {
                    slot = self
                        .state
                        .finished
                        .wait(slot)
                        .unwrap_or_else(|e| e.into_inner());
                    continue;
                };
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                slot = self
                    .state
                    .finished
                    .wait_timeout(slot, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        Err(ResultTimeoutError::Timeout(self))
    }

    /// Cancels the job if it has not started, and returns whether it is
    /// cancelled now. A running or finished job cannot be cancelled.
    /// Cancelling runs the job's done-callbacks, on this thread.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use brigade::thread::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let (release, gate) = mpsc::channel::<()>();
    /// let busy = pool.submit(move || gate.recv().unwrap()).unwrap();
    /// let queued = pool.submit(|| 1).unwrap();
    /// assert!(queued.cancel());
    /// assert!(queued.cancelled() && queued.done());
    /// release.send(()).unwrap();
    /// busy.result().unwrap();
    /// ```
    pub fn cancel(&self) -> bool {
        State::cancel(&self.state)
    }

    /// Whether the job was cancelled.
    ///
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let job = pool.submit(|| 1).unwrap();
    /// assert!(!job.cancelled() || job.done());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.state.lock().status.is_cancelled()
    }

    /// Whether a worker is running the job now.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let (started, running) = mpsc::channel();
    /// let (release, gate) = mpsc::channel::<()>();
    /// let job = pool.submit(move || { started.send(()).unwrap(); gate.recv().unwrap() }).unwrap();
    /// running.recv().unwrap();
    /// assert!(job.running());
    /// release.send(()).unwrap();
    /// ```
    pub fn running(&self) -> bool {
        matches!(self.state.lock().status, Status::Running)
    }

    /// Whether the job has finished: with a value, a panic, or cancelled.
    ///
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let job = pool.submit(|| 1).unwrap();
    /// pool.shutdown(true, false);
    /// assert!(job.done());
    /// ```
    pub fn done(&self) -> bool {
        self.state.lock().status.is_done()
    }

    /// The job's error, if it finished with one, without taking it
    /// (Python's `Future.exception()` once the future is done): `None`
    /// while the job is pending or running, and when it returned a value.
    /// To wait for the end first, use [`wait`](super::wait) or a
    /// done-callback.
    ///
    /// Unlike Python, this does not block: Python's `exception(timeout)`
    /// waits for the future, which here is `wait` followed by `error`. The
    /// reference keeps the job locked: drop it before calling another
    /// method of the same job.
    ///
    /// ```
    /// use brigade::thread::{ReturnWhen, ThreadPool, wait};
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let job = pool.submit(|| -> u8 { panic!("burnt") }).unwrap();
    /// let (done, _) = wait([&job], None, ReturnWhen::AllCompleted);
    /// assert_eq!(done.len(), 1);
    /// assert_eq!(job.error().unwrap().panic_message(), Some("burnt"));
    /// ```
    pub fn error(&self) -> Option<ErrorRef<'_, T, JobError>> {
        self.state.error()
    }

    /// Runs `f` with this job once it finishes (with a value, a panic, or
    /// cancelled), as Python's `Future.add_done_callback(fn)`: on the
    /// thread that finishes it (the worker, or the thread that cancels
    /// it), or at once on this thread if the job is already done. Each
    /// callback runs exactly once, in the order they were added.
    ///
    /// The callback sees the job by reference, so it can ask about it
    /// ([`done`](Self::done), [`cancelled`](Self::cancelled),
    /// [`error`](Self::error)) but not take its value, which stays for
    /// whoever holds the `Job`. A callback that panics is reported on
    /// standard error and ignored, as Python logs and ignores an exception
    /// raised by one.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use brigade::thread::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// let job = pool.submit(|| 2 + 2).unwrap();
    /// job.add_done_callback(move |job| tx.send(job.error().is_none()).unwrap());
    /// assert!(rx.recv().unwrap()); // it succeeded
    /// assert_eq!(job.result().unwrap(), 4);
    /// ```
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: FnOnce(&Job<T>) + Send + 'static,
    {
        State::on_done(
            &self.state,
            Callback::Future(Box::new(move |state| {
                f(&Job {
                    state: state.clone(),
                })
            })),
        );
    }
}

impl<T> Future for Job<T> {
    type Output = Result<T, JobError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.state.lock();
        if let Some(outcome) = take_finished(&mut slot) {
            return Poll::Ready(outcome);
        }
        if let Status::Taken = slot.status {
            // Polled again after it returned its value: a misuse of the
            // Future contract, answered without panicking.
            return Poll::Ready(Err(JobError::Cancelled));
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state.lock().status {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Finished(Ok(_)) | Status::Taken => "finished",
            Status::Finished(Err(JobError::Cancelled)) => "cancelled",
            Status::Finished(Err(JobError::Panicked(_))) => "panicked",
        };
        write!(f, "Job({state})")
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    #[test]
    fn a_value_reaches_a_blocked_waiter() {
        loom::model(|| {
            let (job, runner) = job::<u32>();
            let t = loom::thread::spawn(move || runner.run(|| 7));
            assert_eq!(job.result().unwrap(), 7);
            t.join().unwrap();
        });
    }

    #[test]
    fn cancel_and_run_race_to_one_outcome() {
        loom::model(|| {
            let (job, runner) = job::<u32>();
            let t = loom::thread::spawn(move || runner.run(|| 7));
            let cancelled = job.cancel();
            let outcome = job.result();
            assert_eq!(cancelled, outcome.is_err());
            t.join().unwrap();
        });
    }
}
