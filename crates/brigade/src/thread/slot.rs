//! The shared state of a future: one outcome, the threads and the task
//! waiting for it, and the callbacks to run when it comes.
//!
//! A thread pool's [`Job`](super::Job) and a process pool's
//! [`PoolTask`](crate::process::PoolTask) are both this state behind an
//! `Arc`, as every `concurrent.futures.Future` is one `_state` under one
//! condition variable. The outcome moves through pending, running and
//! finished (with a value, an error, or cancelled), then is taken once by
//! whoever consumes the future. It is a monitor (a mutex-protected slot
//! with a condition variable for blocked threads and a waker for an
//! awaiting task), like [`oneshot`](crate::sync::oneshot), plus the states
//! a pool needs and Python's done-callbacks.
//!
//! Callbacks run on the thread that finishes the future, after the lock is
//! released, so a callback may look at the future again; a callback added
//! to a finished future runs at once on the adding thread. A callback that
//! panics is reported on standard error and the others still run, as
//! Python logs an exception raised by a callback and goes on.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use brigade::thread::ThreadPool;
//!
//! let pool = ThreadPool::builder().workers(1).build().unwrap();
//! let calls = Arc::new(AtomicUsize::new(0));
//! let job = pool.submit(|| 5).unwrap();
//! let seen = calls.clone();
//! job.add_done_callback(move |job| {
//!     assert!(job.done());
//!     seen.fetch_add(1, Ordering::SeqCst);
//! });
//! assert_eq!(job.result().unwrap(), 5);
//! pool.shutdown(true, false); // the callback has run by now
//! assert_eq!(calls.load(Ordering::SeqCst), 1);
//! ```

use std::fmt;
use std::ops::Deref;
use std::task::Waker;

use crate::loom::sync::{Arc, Condvar, Mutex, MutexGuard};

/// An error type that can say "cancelled": the outcome of a future that
/// was cancelled before it ran.
pub(crate) trait Failure {
    /// The error of a cancelled future.
    fn cancelled() -> Self;
    /// Whether this error is a cancellation.
    fn is_cancellation(&self) -> bool;
}

pub(crate) enum Status<T, E> {
    Pending,
    Running,
    Finished(Result<T, E>),
    Taken,
}

impl<T, E: Failure> Status<T, E> {
    pub(crate) fn is_done(&self) -> bool {
        matches!(self, Status::Finished(_) | Status::Taken)
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        matches!(self, Status::Finished(Err(e)) if e.is_cancellation())
    }

    /// Finished with an error that is not a cancellation (Python: "raised
    /// an exception").
    pub(crate) fn is_failed(&self) -> bool {
        matches!(self, Status::Finished(Err(e)) if !e.is_cancellation())
    }
}

/// A callback that is handed the finished future.
pub(crate) type SeesFuture<T, E> = Box<dyn FnOnce(&Arc<State<T, E>>) + Send>;

/// A callback waiting for the outcome: one that sees the future, or a
/// plain notification (which, being no closure over `T`, needs no
/// `T: 'static`).
pub(crate) enum Callback<T, E> {
    Future(SeesFuture<T, E>),
    Notify(Box<dyn FnOnce() + Send>),
}

pub(crate) struct Slot<T, E> {
    pub(crate) status: Status<T, E>,
    pub(crate) waker: Option<Waker>,
    callbacks: Vec<(u64, Callback<T, E>)>,
    next_callback: u64,
}

pub(crate) struct State<T, E> {
    slot: Mutex<Slot<T, E>>,
    pub(crate) finished: Condvar,
}

impl<T, E: Failure> State<T, E> {
    /// A pending future's state.
    pub(crate) fn new() -> Arc<State<T, E>> {
        Arc::new(State {
            slot: Mutex::new(Slot {
                status: Status::Pending,
                waker: None,
                callbacks: Vec::new(),
                next_callback: 0,
            }),
            finished: Condvar::new(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Slot<T, E>> {
        // Each critical section moves one value in or out of the slot.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves a pending future to running; false if it was cancelled (or
    /// already started), and must not run.
    pub(crate) fn start(&self) -> bool {
        let mut slot = self.lock();
        if !matches!(slot.status, Status::Pending) {
            return false;
        }
        slot.status = Status::Running;
        true
    }

    /// Stores the outcome unless the future already has one; wakes everyone
    /// waiting for it and runs the callbacks.
    pub(crate) fn finish(this: &Arc<Self>, outcome: Result<T, E>) {
        State::finish_locked(this, this.lock(), outcome);
    }

    /// [`finish`](Self::finish) with the slot already locked, so that a
    /// check and the finish are one step.
    pub(crate) fn finish_locked(
        this: &Arc<Self>,
        mut slot: MutexGuard<'_, Slot<T, E>>,
        outcome: Result<T, E>,
    ) {
        if slot.status.is_done() {
            return;
        }
        slot.status = Status::Finished(outcome);
        let waker = slot.waker.take();
        let callbacks = std::mem::take(&mut slot.callbacks);
        drop(slot);
        this.finished.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
        for (_, callback) in callbacks {
            run_callback(this, callback);
        }
    }

    /// Cancels a pending future; true if it is cancelled now.
    pub(crate) fn cancel(this: &Arc<Self>) -> bool {
        let slot = this.lock();
        match slot.status {
            Status::Pending => {
                State::finish_locked(this, slot, Err(E::cancelled()));
                true
            }
            ref status => status.is_cancelled(),
        }
    }

    /// Runs `callback` when the future finishes, or now if it has; returns
    /// the callback's id while it waits, for [`remove_callback`](Self::remove_callback).
    pub(crate) fn on_done(this: &Arc<Self>, callback: Callback<T, E>) -> Option<u64> {
        let mut slot = this.lock();
        if slot.status.is_done() {
            drop(slot);
            run_callback(this, callback);
            return None;
        }
        let id = slot.next_callback;
        slot.next_callback += 1;
        slot.callbacks.push((id, callback));
        Some(id)
    }

    /// Forgets a callback that has not run.
    pub(crate) fn remove_callback(&self, id: u64) {
        self.lock().callbacks.retain(|(i, _)| *i != id);
    }

    /// The error, if the future finished with one: a guard that keeps the
    /// state locked while it is read.
    pub(crate) fn error(&self) -> Option<ErrorRef<'_, T, E>> {
        let slot = self.lock();
        matches!(slot.status, Status::Finished(Err(_))).then_some(ErrorRef { slot })
    }
}

fn run_callback<T, E>(state: &Arc<State<T, E>>, callback: Callback<T, E>) {
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match callback {
        Callback::Future(f) => f(state),
        Callback::Notify(f) => f(),
    }));
    if let Err(payload) = ran {
        // Python logs "exception calling callback" and goes on: a callback
        // must not take down the worker that finished the future.
        let panic = crate::event_loop::Panic::new(payload);
        eprintln!("brigade: a done-callback panicked: {}", panic.message());
    }
}

/// Takes the outcome of a finished future, leaving it taken.
pub(crate) fn take_finished<T, E>(slot: &mut Slot<T, E>) -> Option<Result<T, E>> {
    match std::mem::replace(&mut slot.status, Status::Taken) {
        Status::Finished(outcome) => Some(outcome),
        other => {
            slot.status = other;
            None
        }
    }
}

/// The error of a finished job or pool task, read in place (Python's
/// `Future.exception()`), from [`Job::error`](super::Job::error) or
/// [`PoolTask::error`](crate::process::PoolTask::error).
///
/// The future's state stays locked while this lives, so that the error
/// cannot be taken meanwhile: read it and drop the reference before calling
/// any other method of the same future (which would wait for the lock).
///
/// ```
/// use brigade::thread::ThreadPool;
///
/// let pool = ThreadPool::builder().workers(1).build().unwrap();
/// let job = pool.submit(|| -> u8 { panic!("no bread") }).unwrap();
/// while !job.done() {
///     std::thread::yield_now();
/// }
/// let message = job.error().map(|e| e.panic_message().unwrap_or("").to_owned());
/// assert_eq!(message.as_deref(), Some("no bread"));
/// assert!(job.result().is_err()); // still there to be taken
/// ```
pub struct ErrorRef<'a, T, E> {
    slot: MutexGuard<'a, Slot<T, E>>,
}

impl<T, E> Deref for ErrorRef<'_, T, E> {
    type Target = E;

    fn deref(&self) -> &E {
        match &self.slot.status {
            Status::Finished(Err(e)) => e,
            // An ErrorRef is made only over a finished error, and the
            // status cannot change while the guard holds the lock.
            _ => unreachable!("ErrorRef over a future without an error"),
        }
    }
}

impl<T, E: fmt::Debug> fmt::Debug for ErrorRef<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T, E: fmt::Display> fmt::Display for ErrorRef<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering};

    impl Failure for () {
        fn cancelled() {}
        fn is_cancellation(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_callback_added_while_the_future_finishes_runs_once() {
        loom::model(|| {
            let state = State::<u32, ()>::new();
            let calls = Arc::new(AtomicUsize::new(0));
            let finisher = {
                let state = state.clone();
                loom::thread::spawn(move || State::finish(&state, Ok(1)))
            };
            let seen = calls.clone();
            State::on_done(
                &state,
                Callback::Notify(Box::new(move || {
                    seen.fetch_add(1, Ordering::SeqCst);
                })),
            );
            finisher.join().unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn cancel_and_finish_race_to_one_outcome_and_one_callback_run() {
        loom::model(|| {
            let state = State::<u32, ()>::new();
            let calls = Arc::new(AtomicUsize::new(0));
            let seen = calls.clone();
            State::on_done(
                &state,
                Callback::Notify(Box::new(move || {
                    seen.fetch_add(1, Ordering::SeqCst);
                })),
            );
            let runner = {
                let state = state.clone();
                loom::thread::spawn(move || {
                    if state.start() {
                        State::finish(&state, Ok(1));
                    }
                })
            };
            let cancelled = State::cancel(&state);
            runner.join().unwrap();
            let outcome = take_finished(&mut state.lock());
            assert_eq!(cancelled, matches!(outcome, Some(Err(()))));
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        });
    }
}
