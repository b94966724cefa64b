//! What a pool hands back: a [`PoolTask`] for one submitted call, and an
//! [`Imap`] iterator for many.
//!
//! A `PoolTask` is a future in the `concurrent.futures` sense: the shared
//! state a thread pool's [`Job`](crate::thread::Job) uses too (see
//! `thread/slot.rs`), which the driver thread that runs the task finishes.
//! It is awaited on any event loop or waited for from plain code, can be
//! cancelled while queued, takes done-callbacks, and goes to
//! [`wait`](crate::thread::wait) along with jobs.
//!
//! ```
//! use brigade::process::ProcessPool;
//!
//! fn id(n: u8) -> u8 { n }
//!
//! let pool = ProcessPool::new(1).unwrap();
//! let task = pool.submit(id, (4,));
//! assert_eq!(brigade::run(task).unwrap(), 4);
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::error::ProcessError;
use crate::loom::sync::Arc;
use crate::thread::slot::{Callback, ErrorRef, Failure, State, Status, take_finished};

impl Failure for ProcessError {
    fn cancelled() -> ProcessError {
        ProcessError::Cancelled
    }

    fn is_cancellation(&self) -> bool {
        matches!(self, ProcessError::Cancelled)
    }
}

/// Runs before a task's outcome is published (`apply_async`'s callbacks).
pub(crate) type BeforeDone<R> = Box<dyn FnOnce(&Result<R, ProcessError>) + Send>;

/// The driver's end of a task: finishes it once; dropped unfinished (the
/// pool went away), it fails the task with [`ProcessError::PoolClosed`].
pub(crate) struct Completer<R> {
    state: Option<Arc<State<R, ProcessError>>>,
    before: Option<BeforeDone<R>>,
}

impl<R> Completer<R> {
    /// Claims a queued task for a worker: false if it was cancelled.
    pub(crate) fn claim(state: &Arc<State<R, ProcessError>>) -> bool {
        state.start()
    }

    pub(crate) fn complete(mut self, outcome: Result<R, ProcessError>) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: Result<R, ProcessError>) {
        let Some(state) = self.state.take() else {
            return;
        };
        if state.lock().status.is_cancelled() {
            return; // cancelled while queued: no callback, nothing to store
        }
        if let Some(before) = self.before.take() {
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| before(&outcome)));
            if ran.is_err() {
                eprintln!("brigade: a pool task's callback panicked");
            }
        }
        State::finish(&state, outcome);
    }
}

impl<R> Drop for Completer<R> {
    fn drop(&mut self) {
        self.finish(Err(ProcessError::PoolClosed));
    }
}

/// A pending task: the caller's [`PoolTask`], the driver's [`Completer`],
/// and the shared state for the claim.
pub(crate) fn pool_task<R>(
    before: Option<BeforeDone<R>>,
) -> (PoolTask<R>, Completer<R>, Arc<State<R, ProcessError>>) {
    let state = State::new();
    (
        PoolTask {
            state: state.clone(),
        },
        Completer {
            state: Some(state.clone()),
            before,
        },
        state,
    )
}

/// A task submitted to a [`ProcessPool`](super::ProcessPool), a
/// `concurrent.futures.Future`: `.await` it on an event loop,
/// [`wait`](Self::wait) for it from plain code, [`cancel`](Self::cancel)
/// it while it is queued, or give it done-callbacks.
///
/// Dropping a task does not cancel it: it still runs, and its result is
/// dropped.
///
/// # Examples
/// Waited for from plain code, or awaited on an event loop:
/// ```
/// use brigade::process::ProcessPool;
///
/// fn cube(n: u64) -> u64 {
///     n * n * n
/// }
///
/// let pool = ProcessPool::new(2).unwrap();
/// let task = pool.submit(cube, (3,));
/// assert_eq!(task.wait().unwrap(), 27);
///
/// let task = pool.submit(cube, (4,));
/// let value = brigade::run(async move { task.await });
/// assert_eq!(value.unwrap(), 64);
/// ```
///
/// # Cancel safety
/// Awaiting is cancel-safe: a dropped `PoolTask` future leaves the task to
/// run (its result is dropped), as dropping the task does.
pub struct PoolTask<R> {
    pub(crate) state: Arc<State<R, ProcessError>>,
}

impl<R> PoolTask<R> {
    /// Blocks until the task finishes. Do not call it from a task on an
    /// event loop: await the `PoolTask` instead.
    ///
    /// # Panics
    /// On an event loop's thread, where it would block every task of the
    /// loop: await the `PoolTask` there.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{ProcessError, ProcessPool};
    ///
    /// fn checked(n: i32) -> i32 {
    ///     assert!(n >= 0, "negative");
    ///     n
    /// }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// assert_eq!(pool.submit(checked, (5,)).wait().unwrap(), 5);
    /// let e = pool.submit(checked, (-1,)).wait().unwrap_err();
    /// assert!(matches!(e, ProcessError::Panicked { .. }));
    /// ```
    ///
    /// # Errors
    /// The task's [`ProcessError`]: the function panicked
    /// ([`ProcessError::Panicked`]), its worker died or was killed for a time
    /// limit, the task was cancelled, or the pool was terminated.
    #[track_caller]
    pub fn wait(self) -> Result<R, ProcessError> {
        crate::event_loop::context::assert_not_on_loop("PoolTask::wait", "task.await");
        self.take_until(None)
            .unwrap_or(Err(ProcessError::PoolClosed))
    }

    /// Waits at most `timeout`; on time-out the task is handed back.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::process::{ProcessPool, Queue};
    ///
    /// fn wait_for(q: Queue<u8>) -> u8 {
    ///     q.get().unwrap()
    /// }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// let q = Queue::new().unwrap();
    /// let task = pool.submit(wait_for, (q.clone(),));
    /// let task = task.wait_timeout(Duration::from_millis(10)).unwrap_err(); // handed back
    /// q.put(&9).unwrap();
    /// assert_eq!(task.wait_timeout(Duration::from_secs(60)).unwrap().unwrap(), 9);
    /// ```
    ///
    /// # Errors
    /// `Err(task)` when the time runs out, to wait again or cancel; the inner
    /// `Result` is the task's, as from [`wait`](Self::wait).
    ///
    /// # Panics
    /// On an event loop's thread, only for a `timeout` too long to represent
    /// (which waits as [`wait`](Self::wait) does).
    pub fn wait_timeout(self, timeout: Duration) -> Result<Result<R, ProcessError>, PoolTask<R>> {
        // A timeout too long to represent is no limit.
        match Instant::now().checked_add(timeout) {
            None => Ok(self.wait()),
            Some(deadline) => self.take_until(Some(deadline)).ok_or(self),
        }
    }

    /// The outcome once it is in, or `None` at the deadline.
    fn take_until(&self, deadline: Option<Instant>) -> Option<Result<R, ProcessError>> {
        let mut slot = self.state.lock();
        loop {
            if let Some(outcome) = take_finished(&mut slot) {
                return Some(outcome);
            }
            if let Status::Taken = slot.status {
                return Some(Err(ProcessError::Cancelled));
            }
            slot = match deadline {
                None => self
                    .state
                    .finished
                    .wait(slot)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    self.state
                        .finished
                        .wait_timeout(slot, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Whether the result is in (the same as [`done`](Self::done)).
    ///
    /// # Examples
    /// ```
    /// use brigade::thread::{ReturnWhen, wait};
    ///
    /// fn one() -> u8 {
    ///     1
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(1).unwrap();
    /// let task = pool.submit(one, ());
    /// wait([&task], None, ReturnWhen::AllCompleted);
    /// assert!(task.is_done());
    /// assert_eq!(task.wait().unwrap(), 1);
    /// ```
    pub fn is_done(&self) -> bool {
        self.done()
    }

    /// Whether the task is done: finished with a result or an error, or
    /// cancelled (Python's `Future.done()`).
    ///
    /// ```
    /// fn one() -> u8 { 1 }
    /// let pool = brigade::process::ProcessPool::new(1).unwrap();
    /// let task = pool.submit(one, ());
    /// brigade::thread::wait([&task], None, brigade::thread::ReturnWhen::AllCompleted);
    /// assert!(task.done());
    /// ```
    pub fn done(&self) -> bool {
        self.state.lock().status.is_done()
    }

    /// Whether a worker is running the task now (Python's
    /// `Future.running()`): it left the queue and has no outcome yet.
    ///
    /// ```
    /// fn one() -> u8 { 1 }
    /// let pool = brigade::process::ProcessPool::new(1).unwrap();
    /// let task = pool.submit(one, ());
    /// assert_eq!(task.wait().unwrap(), 1);
    /// ```
    pub fn running(&self) -> bool {
        matches!(self.state.lock().status, Status::Running)
    }

    /// Whether the task was cancelled.
    ///
    /// ```
    /// fn one() -> u8 { 1 }
    /// let pool = brigade::process::ProcessPool::new(1).unwrap();
    /// let task = pool.submit(one, ());
    /// let cancelled = task.cancel();
    /// assert_eq!(task.cancelled(), cancelled);
    /// ```
    pub fn cancelled(&self) -> bool {
        self.state.lock().status.is_cancelled()
    }

    /// Cancels the task if no worker has taken it yet, and returns whether
    /// it is cancelled now (Python's `Future.cancel()`): it then never
    /// runs, and finishes with [`ProcessError::Cancelled`]. A running or
    /// finished task cannot be cancelled. Cancelling runs the task's
    /// done-callbacks on this thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::process::{ProcessError, ProcessPool};
    ///
    /// fn nap(ms: u64) { std::thread::sleep(Duration::from_millis(ms)) }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// let busy = pool.submit(nap, (200,));
    /// let queued = pool.submit(nap, (0,));
    /// if queued.cancel() {
    ///     assert!(matches!(queued.wait(), Err(ProcessError::Cancelled)));
    /// }
    /// busy.wait().unwrap();
    /// ```
    pub fn cancel(&self) -> bool {
        State::cancel(&self.state)
    }

    /// The task's error, if it finished with one, without taking it
    /// (Python's `Future.exception()` once the future is done); `None`
    /// while it is queued or running, and when it returned a value. It
    /// does not block (Python's `exception(timeout)` waits first): wait
    /// with [`wait`](crate::thread::wait) or a done-callback. The
    /// reference keeps the task locked: drop it before calling another
    /// method of the same task.
    ///
    /// ```
    /// use brigade::process::{ProcessError, ProcessPool};
    /// use brigade::thread::{ReturnWhen, wait};
    ///
    /// fn fail() -> u8 { panic!("no") }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// let task = pool.submit(fail, ());
    /// wait([&task], None, ReturnWhen::AllCompleted);
    /// assert!(matches!(*task.error().unwrap(), ProcessError::Panicked { .. }));
    /// assert!(task.wait().is_err()); // still there to be taken
    /// ```
    pub fn error(&self) -> Option<ErrorRef<'_, R, ProcessError>> {
        self.state.error()
    }

    /// Runs `f` with this task once it finishes (with a result, an error,
    /// or cancelled), as Python's `Future.add_done_callback(fn)`: on the
    /// pool's driver thread that finishes it (or the thread that cancels
    /// it), or at once on this thread if the task is already done. Each
    /// callback runs exactly once, in the order added. It sees the task by
    /// reference: it can ask about it but not take its value. A callback
    /// that panics is reported on standard error and ignored.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use brigade::process::ProcessPool;
    ///
    /// fn double(n: u32) -> u32 { n * 2 }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// let task = pool.submit(double, (21,));
    /// task.add_done_callback(move |t| tx.send(t.error().is_none()).unwrap());
    /// assert!(rx.recv().unwrap());
    /// assert_eq!(task.wait().unwrap(), 42);
    /// ```
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: FnOnce(&PoolTask<R>) + Send + 'static,
    {
        State::on_done(
            &self.state,
            Callback::Future(Box::new(move |state| {
                f(&PoolTask {
                    state: state.clone(),
                })
            })),
        );
    }
}

impl<R> Future for PoolTask<R> {
    type Output = Result<R, ProcessError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.state.lock();
        if let Some(outcome) = take_finished(&mut slot) {
            return Poll::Ready(outcome);
        }
        if let Status::Taken = slot.status {
            // Polled again after it returned its value: a misuse of the
            // Future contract, answered without panicking.
            return Poll::Ready(Err(ProcessError::Cancelled));
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<R> crate::thread::wait::sealed::Sealed for PoolTask<R> {
    fn view(&self) -> &dyn crate::thread::wait::sealed::View {
        &self.state
    }
}

impl<R> crate::thread::Waitable for PoolTask<R> {}

impl<R> fmt::Debug for PoolTask<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state.lock().status {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Finished(Ok(_)) | Status::Taken => "finished",
            Status::Finished(Err(ProcessError::Cancelled)) => "cancelled",
            Status::Finished(Err(_)) => "failed",
        };
        write!(f, "PoolTask({state})")
    }
}

/// A chunk's values, decoded by the driver thread that received them
/// (or the chunk's error), tagged with the chunk's index. A panic of the
/// values' `Deserialize` is caught there and carried along, to continue in
/// the thread that takes the results (see [`received`]).
pub(crate) type ChunkReply<R> = (usize, std::thread::Result<Result<Vec<R>, ProcessError>>);

/// A chunk as it arrives: a panic caught while decoding it continues here,
/// in the caller's thread, as it would had the caller decoded the chunk.
fn received<R>((index, reply): ChunkReply<R>) -> (usize, Result<Vec<R>, ProcessError>) {
    match reply {
        Ok(values) => (index, values),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Results of [`ProcessPool::imap`](super::ProcessPool::imap) and [`ProcessPool::imap_unordered`](super::ProcessPool::imap_unordered).
///
/// A chunk's reply is decoded on the driver thread that received it, after
/// it has handed its worker the next chunk: the workers' replies are
/// decoded side by side, and whoever takes the results only puts the
/// chunks in order.
///
/// # Examples
/// ```
/// use brigade::process::ProcessPool;
///
/// fn double(n: u32) -> u32 {
///     n * 2
/// }
///
/// let pool = ProcessPool::new(2).unwrap();
/// let ordered: Vec<u32> = pool.imap(double, 1..=4).map(|r| r.unwrap()).collect();
/// assert_eq!(ordered, [2, 4, 6, 8]);
/// let mut any_order: Vec<u32> = pool.imap_unordered(double, 1..=4).map(|r| r.unwrap()).collect();
/// any_order.sort();
/// assert_eq!(any_order, [2, 4, 6, 8]);
/// ```
pub struct Imap<R> {
    rx: mpsc::Receiver<ChunkReply<R>>,
    ordered: bool,
    next_chunk: usize,
    chunks: usize,
    parked: BTreeMap<usize, Result<Vec<R>, ProcessError>>,
    ready: VecDeque<Result<R, ProcessError>>,
    items: usize,
}

impl<R> Imap<R> {
    /// Results of `chunks` chunks (`items` items in all), arriving on `rx`
    /// tagged with their chunk's index.
    pub(crate) fn new(
        rx: mpsc::Receiver<ChunkReply<R>>,
        ordered: bool,
        chunks: usize,
        items: usize,
    ) -> Imap<R> {
        Imap {
            rx,
            ordered,
            next_chunk: 0,
            chunks,
            parked: BTreeMap::new(),
            ready: VecDeque::with_capacity(items.min(1024)),
            items,
        }
    }

    /// Every result in order, or the first error in order (what
    /// collecting the ordered iterator gives), each chunk's values moved
    /// onto the end of the output as soon as the chunks before it are in.
    pub(crate) fn collect_ordered(mut self) -> Result<Vec<R>, ProcessError> {
        let mut out = Vec::with_capacity(self.items);
        let mut slots: Vec<Option<Result<Vec<R>, ProcessError>>> = Vec::new();
        slots.resize_with(self.chunks, || None);
        while self.next_chunk < self.chunks {
            // A chunk whose results never come (its pool went away) is an
            // error, not a short output.
            let (index, chunk) = received(self.rx.recv().map_err(|_| ProcessError::PoolClosed)?);
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(chunk);
            }
            while let Some(chunk) = slots.get_mut(self.next_chunk).and_then(Option::take) {
                out.append(&mut chunk?);
                self.next_chunk += 1;
            }
        }
        Ok(out)
    }
}

impl<R> Iterator for Imap<R> {
    type Item = Result<R, ProcessError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Some(r);
            }
            if self.next_chunk >= self.chunks {
                return None;
            }
            let chunk = if self.ordered {
                match self.parked.remove(&self.next_chunk) {
                    Some(c) => c,
                    None => {
                        let (index, c) = received(self.rx.recv().ok()?);
                        self.parked.insert(index, c);
                        continue;
                    }
                }
            } else {
                received(self.rx.recv().ok()?).1
            };
            self.next_chunk += 1;
            match chunk {
                Ok(values) => self.ready.extend(values.into_iter().map(Ok)),
                Err(e) => self.ready.push_back(Err(e)),
            }
        }
    }
}

impl<R> fmt::Debug for Imap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap").finish_non_exhaustive()
    }
}
