//! [`ThreadPool::map_timeout`]: `executor.map(f, items, timeout=t)`, whose
//! results must all come within one time limit counted from the call.
//!
//! Unlike [`map`](ThreadPool::map), which blocks until every item is done,
//! this submits one [`Job`] per item, as Python does, and returns an
//! iterator that waits for them in input order. Every wait is bounded by
//! the same deadline (the call's instant plus the timeout); the first
//! result not ready by then ends the iteration with
//! [`MapTimeoutError::Timeout`] and cancels the jobs not yet started, as
//! Python's iterator cancels its remaining futures when it raises
//! `TimeoutError`.
//!
//! ```
//! use std::time::Duration;
//! use brigade::thread::ThreadPool;
//!
//! let pool = ThreadPool::builder().workers(2).build().unwrap();
//! let doubled: Result<Vec<u32>, _> =
//!     pool.map_timeout(|x: u32| x * 2, [1, 2, 3], Duration::from_secs(60)).collect();
//! assert_eq!(doubled.unwrap(), [2, 4, 6]);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::job::{self, Job, JobError, ResultTimeoutError};
use super::pool::ThreadPool;

/// Why an item of [`ThreadPool::map_timeout`] has no value.
///
/// ```
/// use std::time::Duration;
/// use brigade::thread::{MapTimeoutError, ThreadPool};
///
/// let pool = ThreadPool::builder().workers(1).build().unwrap();
/// let mut results = pool.map_timeout(|x: u8| if x == 0 { panic!("zero") } else { x }, [0, 1], Duration::from_secs(60));
/// assert!(matches!(results.next(), Some(Err(MapTimeoutError::Failed(_)))));
/// assert_eq!(results.next().unwrap().unwrap(), 1);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum MapTimeoutError {
    /// The time limit passed before this item's result came (Python's
    /// `TimeoutError`). The iteration ends here; the items not started
    /// were cancelled.
    Timeout,
    /// The call on this item panicked (or was cancelled); later items
    /// still come.
    Failed(JobError),
}

impl fmt::Display for MapTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapTimeoutError::Timeout => f.write_str("the map's results did not come in time"),
            MapTimeoutError::Failed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for MapTimeoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MapTimeoutError::Failed(e) => Some(e),
            MapTimeoutError::Timeout => None,
        }
    }
}

impl ThreadPool {
    /// Runs `f` over `items`, one job per item, and returns an iterator of
    /// the results in input order, each within `timeout` of this call
    /// (Python's `executor.map(f, items, timeout=timeout)`).
    ///
    /// The iterator yields `Ok(value)` or `Err(MapTimeoutError::Failed)`
    /// per item; the first result not ready by the deadline yields
    /// `Err(MapTimeoutError::Timeout)`, cancels the jobs not yet started
    /// (the running ones finish, their values dropped), and ends the
    /// iteration. Dropping the iterator early cancels the jobs not yet
    /// started too, as Python does when its iterator is closed.
    ///
    /// Differences from Python: a failed item yields its error and the
    /// iteration goes on (Python raises it and stops); after
    /// [`shutdown`](Self::shutdown) the calling thread computes the items
    /// itself (Python raises `RuntimeError`). `f` and the items must be
    /// `'static`: the jobs may outlive the call.
    ///
    /// ```
    /// use std::sync::{Arc, Barrier, Mutex, mpsc};
    /// use std::time::Duration;
    /// use brigade::thread::{MapTimeoutError, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let gate = Arc::new(Barrier::new(2));
    /// let held = gate.clone();
    /// let (tx, started) = mpsc::channel();
    /// let tx = Mutex::new(tx);
    /// let mut results = pool.map_timeout(
    ///     move |x: u32| {
    ///         if x == 0 {
    ///             tx.lock().unwrap().send(()).unwrap();
    ///             held.wait(); // blocks until the end of this example
    ///         }
    ///         x
    ///     },
    ///     [0, 1],
    ///     Duration::from_millis(1),
    /// );
    /// started.recv().unwrap(); // the first call runs, and blocks
    /// assert!(matches!(results.next(), Some(Err(MapTimeoutError::Timeout))));
    /// assert!(results.next().is_none()); // the second was cancelled
    /// gate.wait(); // let the first call end
    /// ```
    pub fn map_timeout<T, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = T>,
        timeout: Duration,
    ) -> MapTimeout<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let deadline = Instant::now().checked_add(timeout);
        let f = Arc::new(f);
        let jobs = items
            .into_iter()
            .map(|item| {
                let f = f.clone();
                match self.submit(move || f(item)) {
                    Ok(job) => job,
                    Err(refused) => {
                        let (job, runner) = job::job();
                        runner.run(refused.into_inner());
                        job
                    }
                }
            })
            .collect();
        MapTimeout { jobs, deadline }
    }
}

/// The iterator of [`ThreadPool::map_timeout`]; blocks, at most until the
/// deadline, while the next result is not ready. Dropping it cancels the
/// jobs not yet started.
///
/// ```
/// use std::time::Duration;
/// use brigade::thread::{MapTimeout, ThreadPool};
///
/// let pool = ThreadPool::new().unwrap();
/// let results: MapTimeout<u32> = pool.map_timeout(|x: u32| x + 1, [1, 2], Duration::from_secs(60));
/// assert_eq!(results.map(Result::unwrap).collect::<Vec<_>>(), [2, 3]);
/// ```
pub struct MapTimeout<R> {
    jobs: VecDeque<Job<R>>,
    /// `None`: so far away that it cannot be represented.
    deadline: Option<Instant>,
}

impl<R> MapTimeout<R> {
    fn cancel_rest(&mut self) {
        for job in self.jobs.drain(..) {
            job.cancel();
        }
    }
}

impl<R> Iterator for MapTimeout<R> {
    type Item = Result<R, MapTimeoutError>;

    fn next(&mut self) -> Option<Self::Item> {
        let job = self.jobs.pop_front()?;
        let outcome = match self.deadline {
            None => job.result().map_err(MapTimeoutError::Failed),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                job.result_timeout(left).map_err(|e| match e {
                    ResultTimeoutError::Failed(e) => MapTimeoutError::Failed(e),
                    ResultTimeoutError::Timeout(job) => {
                        job.cancel();
                        MapTimeoutError::Timeout
                    }
                })
            }
        };
        if matches!(outcome, Err(MapTimeoutError::Timeout)) {
            self.cancel_rest();
        }
        Some(outcome)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.jobs.len()))
    }
}

impl<R> Drop for MapTimeout<R> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<R> fmt::Debug for MapTimeout<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapTimeout")
            .field("left", &self.jobs.len())
            .finish()
    }
}
