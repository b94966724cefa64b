//! [`as_completed`]: the results of many [`Job`]s in the order they
//! finish, like `concurrent.futures.as_completed`.
//!
//! Each job is given a done-callback that pushes the job's position onto a
//! shared queue (a mutex-protected `VecDeque` with a condition variable);
//! the iterator, [`AsCompleted`], pops positions from it, blocking while it
//! is empty, and takes each job's result. A job that already finished runs
//! its callback at once, so it comes first. Every job is yielded exactly
//! once, cancelled ones as `Err(JobError::Cancelled)`.
//!
//! ```
//! use brigade::thread::{JobError, ThreadPool, as_completed};
//!
//! let pool = ThreadPool::builder().workers(2).build().unwrap();
//! let jobs: Vec<_> = (0..4u64).map(|i| pool.submit(move || i * i).unwrap()).collect();
//! let mut squares: Vec<u64> = as_completed(jobs).map(|(_, r)| r.unwrap()).collect();
//! squares.sort();
//! assert_eq!(squares, [0, 1, 4, 9]);
//!
//! let failing = pool.submit(|| -> u8 { panic!("burnt") }).unwrap();
//! let (index, result) = as_completed([failing]).next().unwrap();
//! assert!(index == 0 && matches!(result, Err(JobError::Panicked(_))));
//! ```

use std::collections::VecDeque;
use std::fmt;

use super::job::{Job, JobError};
use super::slot::{Callback, State, take_finished};
use crate::loom::sync::{Arc, Condvar, Mutex};

/// The indexes of finished jobs, in the order they finished.
struct Completions {
    done: Mutex<VecDeque<usize>>,
    ready: Condvar,
}

impl Completions {
    fn push(&self, index: usize) {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(index);
        self.ready.notify_one();
    }

    fn pop(&self) -> usize {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(index) = done.pop_front() {
                return index;
            }
            done = self.ready.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A notification that job `index` finished. (Not a closure inside the
/// generic `as_completed`, which would capture `T` and need `T: 'static`.)
fn report(completions: &Arc<Completions>, index: usize) -> Box<dyn FnOnce() + Send> {
    let completions = completions.clone();
    Box::new(move || completions.push(index))
}

/// Yields the jobs' results as the jobs finish, each with the job's
/// position in `jobs`, like `concurrent.futures.as_completed`. Blocks while
/// waiting; jobs that already finished come first.
///
/// # Examples
/// ```
/// use brigade::thread::{ThreadPool, as_completed};
///
/// let pool = ThreadPool::new().unwrap();
/// let jobs: Vec<_> = (0..4).map(|i| pool.submit(move || i * i).unwrap()).collect();
/// let mut squares: Vec<(usize, u32)> = as_completed(jobs)
///     .map(|(index, result)| (index, result.unwrap()))
///     .collect();
/// squares.sort();
/// assert_eq!(squares, [(0, 0), (1, 1), (2, 4), (3, 9)]);
/// ```
pub fn as_completed<T>(jobs: impl IntoIterator<Item = Job<T>>) -> AsCompleted<T> {
    let completions = Arc::new(Completions {
        done: Mutex::new(VecDeque::new()),
        ready: Condvar::new(),
    });
    let jobs: Vec<Option<Job<T>>> = jobs.into_iter().map(Some).collect();
    for (index, job) in jobs.iter().enumerate() {
        let Some(job) = job else { continue };
        State::on_done(&job.state, Callback::Notify(report(&completions, index)));
    }
    AsCompleted {
        left: jobs.len(),
        jobs,
        completions,
    }
}

/// The iterator of [`as_completed`].
///
/// # Examples
/// ```
/// use std::sync::mpsc;
/// use brigade::thread::{ThreadPool, as_completed};
///
/// let pool = ThreadPool::builder().workers(2).build().unwrap();
/// let (go, gate) = mpsc::channel::<()>();
/// let slow = pool.submit(move || gate.recv().map(|_| "slow").unwrap()).unwrap();
/// let fast = pool.submit(|| "fast").unwrap();
/// let mut done = as_completed([slow, fast]);
/// let (index, result) = done.next().unwrap(); // the first to finish
/// assert_eq!((index, result.unwrap()), (1, "fast"));
/// go.send(()).unwrap();
/// let (index, result) = done.next().unwrap();
/// assert_eq!((index, result.unwrap()), (0, "slow"));
/// assert!(done.next().is_none());
/// ```
pub struct AsCompleted<T> {
    jobs: Vec<Option<Job<T>>>,
    completions: Arc<Completions>,
    left: usize,
}

impl<T> Iterator for AsCompleted<T> {
    type Item = (usize, Result<T, JobError>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let index = self.completions.pop();
        let job = self.jobs[index].take()?;
        let outcome = take_finished(&mut job.state.lock()).unwrap_or(Err(JobError::Cancelled));
        Some((index, outcome))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("left", &self.left)
            .finish()
    }
}
