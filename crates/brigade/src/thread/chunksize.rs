//! [`ThreadPool::map_chunked`]: a thread pool's `map` with the chunk size
//! chosen by the caller, as `multiprocessing.pool.ThreadPool.map(f, items,
//! chunksize)`.
//!
//! [`map`](ThreadPool::map) cuts its items into about eight chunks per
//! thread, which balances the load when items cost about the same. When
//! a few items cost far more than the rest, or when each item is so
//! cheap that even that many chunks cost more to hand out than to run, the
//! caller knows better: `map_chunked` takes the number of items per chunk.
//! A chunk size of zero is refused with [`MapChunkedError::ZeroChunksize`].
//!
//! ```
//! use brigade::thread::ThreadPool;
//!
//! let pool = ThreadPool::builder().workers(2).build().unwrap();
//! // One item per chunk: each slow item can go to its own thread.
//! let out = pool.map_chunked(|x: u32| x + 1, [1, 2, 3], 1).unwrap();
//! assert_eq!(out, [2, 3, 4]);
//! ```

use std::fmt;

use super::map::MapError;
use super::pool::ThreadPool;

/// Why [`ThreadPool::map_chunked`] returned no results.
///
/// ```
/// use brigade::thread::{MapChunkedError, ThreadPool};
///
/// let pool = ThreadPool::new().unwrap();
/// let zero = pool.map_chunked(|x: u8| x, [1], 0);
/// assert!(matches!(zero, Err(MapChunkedError::ZeroChunksize)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum MapChunkedError {
    /// A chunk size of zero (Python's `ValueError: Chunksize must be 1+`).
    ZeroChunksize,
    /// A call panicked, as [`map`](ThreadPool::map) reports it.
    Panicked(MapError),
}

impl fmt::Display for MapChunkedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapChunkedError::ZeroChunksize => f.write_str("a chunk size must be at least 1"),
            MapChunkedError::Panicked(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for MapChunkedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MapChunkedError::Panicked(e) => Some(e),
            MapChunkedError::ZeroChunksize => None,
        }
    }
}

impl ThreadPool {
    /// Like [`map`](Self::map), in chunks of `chunksize` items (the last
    /// may be shorter; a size above the number of items makes one chunk,
    /// run by the calling thread). Results come in input order.
    ///
    /// Python's `concurrent.futures.ThreadPoolExecutor.map` accepts a
    /// `chunksize` and ignores it; this honours it, as
    /// `multiprocessing.pool.ThreadPool.map` does.
    ///
    /// ```
    /// use brigade::thread::{MapChunkedError, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().workers(2).build().unwrap();
    /// let squares = pool.map_chunked(|x: u64| x * x, 0..10, 3).unwrap();
    /// assert_eq!(squares[9], 81);
    /// let failed = pool.map_chunked(|x: u64| if x == 4 { panic!("four") } else { x }, 0..10, 3);
    /// assert!(matches!(failed, Err(MapChunkedError::Panicked(e)) if e.index() == 4));
    /// ```
    ///
    /// # Errors
    /// [`MapChunkedError::ZeroChunksize`] for a `chunksize` of 0 (nothing
    /// runs); [`MapChunkedError::Panicked`] with the first item (in input
    /// order) whose call panicked.
    pub fn map_chunked<T, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = T>,
        chunksize: usize,
    ) -> Result<Vec<R>, MapChunkedError>
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        if chunksize == 0 {
            return Err(MapChunkedError::ZeroChunksize);
        }
        self.map_chunks(f, items, Some(chunksize))
            .map_err(MapChunkedError::Panicked)
    }
}
