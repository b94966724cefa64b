//! [`ThreadPool::map_unordered`] and its iterator [`MapUnordered`]:
//! Python's `imap_unordered`, results in the order they finish.
//!
//! Unlike the ordered [`map`](ThreadPool::map), which blocks until the
//! whole map is done and may borrow from the caller, `map_unordered`
//! returns at once: it cuts the items into chunks, queues each as a job on
//! the pool, and each finished chunk pushes its results, one `Result` per
//! item, onto a shared queue that the iterator drains, blocking while the
//! next chunk still runs. A panic is that item's own `Err` and the other
//! items carry on. A chunk the pool refuses (after
//! [`shutdown`](ThreadPool::shutdown)) runs on the calling thread, so no
//! item is lost.
//!
//! ```
//! use brigade::thread::ThreadPool;
//!
//! let pool = ThreadPool::builder().workers(2).build().unwrap();
//! let mut lens: Vec<usize> = pool
//!     .map_unordered(|w: String| w.len(), ["a".to_string(), "bb".to_string()])
//!     .map(Result::unwrap)
//!     .collect();
//! lens.sort(); // they come as they finish
//! assert_eq!(lens, [1, 2]);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};

use super::job::JobError;
use super::map::CHUNKS_PER_THREAD;
use super::pool::ThreadPool;
use crate::event_loop::Panic;

impl ThreadPool {
    /// Runs `f` over `items` on the workers and yields each result as its
    /// chunk finishes (Python's `imap_unordered`): a panic is that item's
    /// own `Err`. Items are queued as chunked jobs (subject to the queue
    /// bound), so `f` and the items must be `'static`.
    ///
    /// After [`shutdown`](Self::shutdown) the calling thread computes the
    /// items itself, before this returns.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let mut results: Vec<u32> = pool
    ///     .map_unordered(|x: u32| x + 1, vec![1, 2, 3])
    ///     .map(|r| r.unwrap())
    ///     .collect();
    /// results.sort(); // they come as they finish
    /// assert_eq!(results, [2, 3, 4]);
    /// ```
    pub fn map_unordered<T, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = T>,
    ) -> MapUnordered<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let items: Vec<T> = items.into_iter().collect();
        let n = items.len();
        let results = Arc::new(Results {
            chunks: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        });
        let f = Arc::new(f);
        let chunk_len = n.div_ceil(n.clamp(1, self.workers() * CHUNKS_PER_THREAD));
        let mut items = items.into_iter();
        while items.len() > 0 {
            let chunk = UnorderedChunk {
                items: items.by_ref().take(chunk_len).collect(),
                f: f.clone(),
                results: results.clone(),
            };
            let queued = self.shared.submit_with(chunk, true, |chunk| {
                Box::new(move || chunk.run()) as Box<dyn FnOnce() + Send>
            });
            if let Err(refused) = queued {
                refused.into_inner().run();
            }
        }
        MapUnordered {
            results,
            current: Vec::new().into_iter(),
            left: n,
        }
    }
}

/// Finished chunks of a [`map_unordered`](ThreadPool::map_unordered).
struct Results<R> {
    chunks: Mutex<VecDeque<Vec<Result<R, JobError>>>>,
    ready: Condvar,
}

impl<R> Results<R> {
    fn push(&self, chunk: Vec<Result<R, JobError>>) {
        self.chunks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(chunk);
        self.ready.notify_one();
    }
}

/// One chunk of a `map_unordered`; dropped unrun (its job cancelled), it
/// reports each of its items as cancelled, so the iterator never waits for
/// results that will not come.
struct UnorderedChunk<T, R, F> {
    items: Vec<T>,
    f: Arc<F>,
    results: Arc<Results<R>>,
}

impl<T, R, F: Fn(T) -> R> UnorderedChunk<T, R, F> {
    fn run(mut self) {
        let items = std::mem::take(&mut self.items);
        let f = &*self.f;
        let out = items
            .into_iter()
            .map(|item| {
                catch_unwind(AssertUnwindSafe(|| f(item)))
                    .map_err(|payload| JobError::Panicked(Panic::new(payload)))
            })
            .collect();
        self.results.push(out);
    }
}

impl<T, R, F> Drop for UnorderedChunk<T, R, F> {
    fn drop(&mut self) {
        if !self.items.is_empty() {
            let cancelled = self.items.drain(..).map(|_| Err(JobError::Cancelled));
            self.results.push(cancelled.collect());
        }
    }
}

/// The iterator of [`ThreadPool::map_unordered`]; blocks while the next
/// chunk is still running.
///
/// # Examples
/// A panic fails only its own item:
/// ```
/// use brigade::thread::ThreadPool;
///
/// let pool = ThreadPool::new().unwrap();
/// let results: Vec<_> = pool
///     .map_unordered(|x: u32| if x == 2 { panic!("two") } else { x }, 1..=3)
///     .collect();
/// assert_eq!(results.len(), 3);
/// assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
/// ```
pub struct MapUnordered<R> {
    results: Arc<Results<R>>,
    current: std::vec::IntoIter<Result<R, JobError>>,
    left: usize,
}

impl<R> Iterator for MapUnordered<R> {
    type Item = Result<R, JobError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.current.next() {
                self.left -= 1;
                return Some(item);
            }
            if self.left == 0 {
                return None;
            }
            let mut chunks = self
                .results
                .chunks
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(chunk) = chunks.pop_front() {
                    self.current = chunk.into_iter();
                    break;
                }
                chunks = self
                    .results
                    .ready
                    .wait(chunks)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<R> fmt::Debug for MapUnordered<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapUnordered")
            .field("left", &self.left)
            .finish()
    }
}
