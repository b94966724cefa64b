//! A chosen chunk size for a process pool's maps: Python's `chunksize`
//! argument of `Pool.map`, `starmap`, `imap` and `imap_unordered`.
//!
//! A pool sends a map's items to its workers in chunks, one round trip per
//! chunk rather than per item. [`ProcessPool::map`] picks the size itself
//! (Python's rule: about four chunks per worker) and `imap` sends one item
//! at a time; the `_chunked` methods here take the size from the caller,
//! which pays off for many small items in `imap` or few large ones in
//! `map`. A size of zero is refused with [`StartError::ZeroChunksize`]
//! before anything is sent.
//!
//! ```
//! use brigade::process::ProcessPool;
//!
//! fn square(n: u64) -> u64 { n * n }
//!
//! let pool = ProcessPool::new(2).unwrap();
//! assert_eq!(pool.map_chunked(square, 1..=6, 4).unwrap(), [1, 4, 9, 16, 25, 36]);
//! let lazy: Vec<u64> = pool.imap_chunked(square, 0..3, 2).unwrap().map(Result::unwrap).collect();
//! assert_eq!(lazy, [0, 1, 4]);
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{ProcessError, StartError};
use super::function::Callable;
use super::pool::ProcessPool;
use super::task::Imap;

impl ProcessPool {
    /// Like [`map`](Self::map), sending the items in chunks of `chunksize`
    /// (Python's `pool.map(f, items, chunksize)`); zero is
    /// [`StartError::ZeroChunksize`] (inside [`ProcessError::Start`]).
    ///
    /// ```
    /// use brigade::process::{ProcessError, ProcessPool, StartError};
    ///
    /// fn inc(n: i32) -> i32 { n + 1 }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// assert_eq!(pool.map_chunked(inc, [1, 2, 3], 1).unwrap(), [2, 3, 4]);
    /// let zero = pool.map_chunked(inc, [1], 0);
    /// assert!(matches!(zero, Err(ProcessError::Start(StartError::ZeroChunksize))));
    /// ```
    ///
    /// # Errors
    /// [`ProcessError::Start`] with [`StartError::ZeroChunksize`] for a
    /// `chunksize` of 0; else as the method without a chunk size.
    pub fn map_chunked<F, A, R, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> Result<Vec<R>, ProcessError>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.starmap_chunked(f, items.into_iter().map(|a| (a,)), chunksize)
    }

    /// Like [`starmap`](Self::starmap), in chunks of `chunksize` (Python's
    /// `pool.starmap(f, items, chunksize)`).
    ///
    /// ```
    /// use brigade::process::ProcessPool;
    ///
    /// fn add(a: u8, b: u8) -> u8 { a + b }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// assert_eq!(pool.starmap_chunked(add, [(1, 2), (3, 4)], 2).unwrap(), [3, 7]);
    /// ```
    ///
    /// # Errors
    /// [`ProcessError::Start`] with [`StartError::ZeroChunksize`] for a
    /// `chunksize` of 0; else as the method without a chunk size.
    pub fn starmap_chunked<F, Args, R, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> Result<Vec<R>, ProcessError>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = Args>,
    {
        if chunksize == 0 {
            return Err(ProcessError::Start(StartError::ZeroChunksize));
        }
        self.imap_chunks(f, items.into_iter().collect(), chunksize, true)
            .collect()
    }

    /// Like [`imap`](Self::imap), in chunks of `chunksize` (Python's
    /// `pool.imap(f, items, chunksize)`): results still come one at a
    /// time, in order, each chunk's as it arrives.
    ///
    /// ```
    /// use brigade::process::ProcessPool;
    ///
    /// fn neg(n: i64) -> i64 { -n }
    ///
    /// let pool = ProcessPool::new(2).unwrap();
    /// let out: Vec<i64> = pool.imap_chunked(neg, 1..=5, 2).unwrap().map(Result::unwrap).collect();
    /// assert_eq!(out, [-1, -2, -3, -4, -5]);
    /// ```
    ///
    /// # Errors
    /// [`ProcessError::Start`] with [`StartError::ZeroChunksize`] for a
    /// `chunksize` of 0; else as the method without a chunk size.
    pub fn imap_chunked<F, A, R, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> Result<Imap<R>, StartError>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.chunked(f, items, chunksize, true)
    }

    /// Like [`imap_unordered`](Self::imap_unordered), in chunks of
    /// `chunksize` (Python's `pool.imap_unordered(f, items, chunksize)`):
    /// a chunk's results come together, in the order the chunks finish.
    ///
    /// ```
    /// use brigade::process::ProcessPool;
    ///
    /// fn neg(n: i64) -> i64 { -n }
    ///
    /// let pool = ProcessPool::new(2).unwrap();
    /// let mut out: Vec<i64> =
    ///     pool.imap_unordered_chunked(neg, 1..=5, 3).unwrap().map(Result::unwrap).collect();
    /// out.sort();
    /// assert_eq!(out, [-5, -4, -3, -2, -1]);
    /// ```
    ///
    /// # Errors
    /// [`ProcessError::Start`] with [`StartError::ZeroChunksize`] for a
    /// `chunksize` of 0; else as the method without a chunk size.
    pub fn imap_unordered_chunked<F, A, R, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> Result<Imap<R>, StartError>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.chunked(f, items, chunksize, false)
    }

    fn chunked<F, A, R, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
        ordered: bool,
    ) -> Result<Imap<R>, StartError>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        if chunksize == 0 {
            return Err(StartError::ZeroChunksize);
        }
        let items = items.into_iter().map(|a| (a,)).collect();
        Ok(self.imap_chunks(f, items, chunksize, ordered))
    }
}
