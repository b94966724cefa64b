//! [`wait`]: block until some or all of many futures are done, Python's
//! `concurrent.futures.wait(fs, timeout, return_when)`.
//!
//! It works on a thread pool's [`Job`]s and a process pool's
//! [`PoolTask`](crate::process::PoolTask)s alike (both are [`Waitable`]),
//! and on references to them, so the caller can keep its futures and ask
//! again. Each future not yet done gets a done-callback that bumps a
//! counter under one mutex and signals one condition variable; the waiter
//! rechecks the futures whenever the counter moves, so no finish between a
//! check and the sleep is missed (the classic generation-counter wait).
//! The callbacks are removed before `wait` returns, so futures still
//! running keep nothing of it.
//!
//! ```
//! use std::sync::mpsc;
//! use brigade::thread::{ReturnWhen, ThreadPool, wait};
//!
//! let pool = ThreadPool::builder().workers(2).build().unwrap();
//! let (release, gate) = mpsc::channel::<()>();
//! let slow = pool.submit(move || gate.recv().unwrap()).unwrap();
//! let quick = pool.submit(|| ()).unwrap();
//! let (done, not_done) = wait([&slow, &quick], None, ReturnWhen::FirstCompleted);
//! assert_eq!(done.len(), 1);
//! assert!(std::ptr::eq(done[0], &quick));
//! assert!(std::ptr::eq(not_done[0], &slow)); // still running, not cancelled
//! release.send(()).unwrap();
//! let (done, not_done) = wait([slow, quick], None, ReturnWhen::AllCompleted);
//! assert_eq!((done.len(), not_done.len()), (2, 0));
//! ```

use std::time::{Duration, Instant};

use super::job::Job;
use super::slot::{Callback, Failure, State};
use crate::loom::sync::{Arc, Condvar, Mutex};

/// When [`wait`] returns: the one enum shared with the event loop's
/// [`wait`](crate::event_loop::wait). For pool jobs, `FirstException` means
/// a panic in a thread pool or a
/// [`ProcessError`](crate::process::ProcessError) in a process pool; a
/// cancellation is no failure.
pub use crate::event_loop::ReturnWhen;

pub(crate) mod sealed {
    /// How [`wait`](super::wait) sees a future: done or not, failed or
    /// not, and a way to be told when it finishes.
    pub trait View {
        /// (done, failed)
        fn status(&self) -> (bool, bool);
        /// Calls `notify` when the future finishes (now, if it has);
        /// returns an id while it waits.
        fn watch(&self, notify: Box<dyn FnOnce() + Send>) -> Option<u64>;
        /// Forgets a callback that has not run.
        fn unwatch(&self, id: u64);
    }

    /// Keeps [`Waitable`](super::Waitable) for brigade's futures.
    pub trait Sealed {
        fn view(&self) -> &dyn View;
    }
}

impl<T, E: Failure> sealed::View for Arc<State<T, E>> {
    fn status(&self) -> (bool, bool) {
        let slot = self.lock();
        (slot.status.is_done(), slot.status.is_failed())
    }

    fn watch(&self, notify: Box<dyn FnOnce() + Send>) -> Option<u64> {
        State::on_done(self, Callback::Notify(notify))
    }

    fn unwatch(&self, id: u64) {
        self.remove_callback(id);
    }
}

/// A future [`wait`] can wait for: a thread pool's [`Job`], a process
/// pool's [`PoolTask`](crate::process::PoolTask), or a reference to
/// either. (Sealed: brigade's futures only.)
///
/// ```
/// use brigade::thread::{ThreadPool, Waitable};
///
/// fn all_done<J: Waitable>(jobs: &[J]) -> bool {
///     jobs.iter().all(Waitable::is_done)
/// }
/// let pool = ThreadPool::new().unwrap();
/// let jobs = vec![pool.submit(|| 1).unwrap()];
/// pool.shutdown(true, false);
/// assert!(all_done(&jobs));
/// ```
pub trait Waitable: sealed::Sealed {
    /// Whether the future is done: finished, failed, or cancelled.
    ///
    /// ```
    /// use brigade::thread::{ThreadPool, Waitable};
    /// let pool = ThreadPool::new().unwrap();
    /// let job = pool.submit(|| 1).unwrap();
    /// pool.shutdown(true, false);
    /// assert!(Waitable::is_done(&job));
    /// ```
    fn is_done(&self) -> bool {
        self.view().status().0
    }
}

impl<T> sealed::Sealed for Job<T> {
    fn view(&self) -> &dyn sealed::View {
        &self.state
    }
}

impl<T> Waitable for Job<T> {}

impl<J: Waitable + ?Sized> sealed::Sealed for &J {
    fn view(&self) -> &dyn sealed::View {
        (**self).view()
    }
}

impl<J: Waitable + ?Sized> Waitable for &J {}

/// The waiter's side: a count of finishes, and a condition to sleep on.
struct Finishes {
    count: Mutex<u64>,
    moved: Condvar,
}

/// The callback that tells the waiter of a finish (made outside the
/// generic `wait`, whose closures would capture `J` and need `J: 'static`).
fn notifier(finishes: &Arc<Finishes>) -> Box<dyn FnOnce() + Send> {
    let finishes = finishes.clone();
    Box::new(move || {
        *finishes.count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        finishes.moved.notify_all();
    })
}

/// Waits until the futures meet `return_when`, or `timeout` passes (`None`:
/// no limit), and returns them split into `(done, not_done)`, each in the
/// order given, as `concurrent.futures.wait`. The futures not done are not
/// cancelled. With no futures it returns at once.
///
/// Differences from Python: the two groups are vectors in input order,
/// not sets; pass references (`&job`) to keep the futures. Blocks the
/// thread: from a task on an event loop, await the futures instead (or
/// call this through [`to_thread`](crate::to_thread)).
///
/// ```
/// use std::sync::mpsc;
/// use std::time::Duration;
/// use brigade::thread::{ReturnWhen, ThreadPool, wait};
///
/// let pool = ThreadPool::builder().workers(2).build().unwrap();
/// let (release, gate) = mpsc::channel::<()>();
/// let stuck = pool.submit(move || gate.recv().unwrap()).unwrap();
/// let fails = pool.submit(|| -> () { panic!("boom") }).unwrap();
/// // Returns at the failure, with the other still running.
/// let (done, not_done) = wait([&stuck, &fails], None, ReturnWhen::FirstException);
/// assert!(std::ptr::eq(done[0], &fails) && not_done.len() == 1);
/// // Times out with nothing more done.
/// let (done, not_done) = wait([&stuck], Some(Duration::from_millis(1)), ReturnWhen::AllCompleted);
/// assert!(done.is_empty() && not_done.len() == 1);
/// release.send(()).unwrap();
/// ```
pub fn wait<J: Waitable>(
    futures: impl IntoIterator<Item = J>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<J>, Vec<J>) {
    let futures: Vec<J> = futures.into_iter().collect();
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let finishes = Arc::new(Finishes {
        count: Mutex::new(0),
        moved: Condvar::new(),
    });
    let watches: Vec<Option<u64>> = futures
        .iter()
        .map(|f| f.view().watch(notifier(&finishes)))
        .collect();
    loop {
        let seen = *finishes.count.lock().unwrap_or_else(|e| e.into_inner());
        if met(&futures, return_when) {
            break;
        }
        let mut count = finishes.count.lock().unwrap_or_else(|e| e.into_inner());
        if *count != seen {
            continue; // something finished during the check
        }
        match deadline {
            None => {
                let _moved = finishes.moved.wait(count);
            }
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                count = finishes
                    .moved
                    .wait_timeout(count, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                drop(count);
            }
        }
    }
    for (future, watch) in futures.iter().zip(watches) {
        if let Some(id) = watch {
            future.view().unwatch(id);
        }
    }
    futures.into_iter().partition(|f| f.is_done())
}

/// Whether the futures meet the condition now.
fn met<J: Waitable>(futures: &[J], return_when: ReturnWhen) -> bool {
    let mut all_done = true;
    for future in futures {
        let (done, failed) = future.view().status();
        match return_when {
            ReturnWhen::FirstCompleted if done => return true,
            ReturnWhen::FirstException if failed => return true,
            _ => all_done &= done,
        }
    }
    all_done
}
