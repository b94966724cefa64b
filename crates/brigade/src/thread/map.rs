//! [`ThreadPool::map`], [`map_slice`](ThreadPool::map_slice) and
//! [`map_range`](ThreadPool::map_range): a function over many items, in
//! parallel, without a job per item, results in input order. (Results in
//! the order they finish come from
//! [`map_unordered`](ThreadPool::map_unordered), in `map_unordered.rs`.)
//!
//! `map` is Python's `executor.map(f, items)`, with results in input
//! order. It blocks until every item is done, which lets `f` and the items
//! borrow from the caller, and it puts the caller to work too. The items
//! are cut into chunks run by `batch.rs`; each chunk moves its inputs out
//! of the input buffer and writes its outputs straight into their final
//! places in the result vector, so an item costs no allocation, no lock and
//! no copy beyond its own move.
//!
//! ```
//! use brigade::thread::ThreadPool;
//!
//! let pool = ThreadPool::builder().workers(2).build().unwrap();
//! let words = vec!["bread", "cake", "pie"];
//! let offset = 10; // borrowed by the closure: `map` is scoped
//! assert_eq!(pool.map(|w: &str| w.len() + offset, words).unwrap(), [15, 14, 13]);
//!
//! let big: Vec<u64> = (0..10_000).collect();
//! let squares = pool.map_slice(|x| x * x, &big).unwrap();
//! assert_eq!(squares[9_999], 9_999 * 9_999);
//! ```
//!
//! A panic in `f` fails the whole `map` with a [`MapError`] naming the
//! first item that panicked; every other item still runs, and every value
//! already made is dropped.

use std::fmt;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::batch;
use super::pool::ThreadPool;
use crate::event_loop::Panic;

/// How many chunks each participating thread gets on average: enough for
/// a slow thread to fall behind without stalling the others.
pub(super) const CHUNKS_PER_THREAD: usize = 8;

/// How many threads can run at once: the cores this process may use.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// [`ThreadPool::map`] failed because `f` panicked.
///
/// # Examples
/// ```
/// let pool = brigade::thread::ThreadPool::new().unwrap();
/// let e = pool.map(|x: u32| if x == 3 { panic!("three") } else { x }, 0..6).unwrap_err();
/// assert_eq!((e.index(), e.panic_message()), (3, "three"));
/// ```
#[derive(Debug)]
pub struct MapError {
    index: usize,
    panic: Panic,
}

impl MapError {
    /// The position (in input order) of the first item whose call panicked.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let e = pool.map_slice(|s: &&str| s.parse::<u8>().unwrap(), &["1", "x", "3"]).unwrap_err();
    /// assert_eq!(e.index(), 1);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The panic's message.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let e = pool.map(|_: u8| -> u8 { panic!("always") }, [1]).unwrap_err();
    /// assert_eq!(e.panic_message(), "always");
    /// ```
    pub fn panic_message(&self) -> &str {
        self.panic.message()
    }

    /// The panic, to re-raise it with [`Panic::resume`].
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let e = pool.map(|_: u8| -> u8 { panic!("again") }, [1]).unwrap_err();
    /// let panic = e.into_panic();
    /// let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panic.resume()));
    /// assert!(caught.is_err()); // re-raised here
    /// ```
    pub fn into_panic(self) -> Panic {
        self.panic
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "map failed: the call on item {} panicked: {}",
            self.index,
            self.panic.message()
        )
    }
}

impl std::error::Error for MapError {}

/// Items read by index from many threads, each index exactly once.
///
/// Items are read through a `Base`, a plain pointer copied into each
/// chunk's loop, so that the loop keeps it in a register (a pointer read
/// through `&self` would be reloaded after every output write, which might
/// alias it as far as the compiler knows).
///
/// # Safety
/// Implementors hand out each index's item at most once across all
/// threads, given that callers respect the contract of each method.
unsafe trait Source: Sync {
    type Item;
    type Base: Copy;

    fn len(&self) -> usize;

    fn base(&self) -> Self::Base;

    /// The item at `index`.
    ///
    /// # Safety
    /// `base` comes from this source, `index < len()`, and no index is
    /// taken or discarded twice.
    unsafe fn take(base: Self::Base, index: usize) -> Self::Item;

    /// Drops the items of `range`, never to be taken.
    ///
    /// # Safety
    /// As for [`take`](Self::take), for every index of `range`.
    unsafe fn discard(base: Self::Base, range: Range<usize>);
}

/// The items of a vector whose length was set to zero: each is moved out
/// once, and the vector then frees only its buffer.
struct Owned<T> {
    ptr: *mut T,
    len: usize,
}

// SAFETY: items move to other threads (T: Send), each to exactly one thread
// (the trait's contract), so no item is shared.
unsafe impl<T: Send> Sync for Owned<T> {}

struct OwnedBase<T>(*mut T);

impl<T> Clone for OwnedBase<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for OwnedBase<T> {}

// SAFETY: `take` and `discard` move or drop distinct items, as the callers
// promise distinct indices.
unsafe impl<T: Send> Source for Owned<T> {
    type Item = T;
    type Base = OwnedBase<T>;

    fn len(&self) -> usize {
        self.len
    }

    fn base(&self) -> OwnedBase<T> {
        OwnedBase(self.ptr)
    }

    unsafe fn take(base: OwnedBase<T>, index: usize) -> T {
        // SAFETY: index < len, so the read is in bounds of the initialized
        // items, and it is the only read of this item (the contract).
        unsafe { base.0.add(index).read() }
    }

    unsafe fn discard(base: OwnedBase<T>, range: Range<usize>) {
        // SAFETY: the range lies within the items, none of them taken.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                base.0.add(range.start),
                range.len(),
            ))
        }
    }
}

/// The items of a slice, lent out by reference.
struct Borrowed<'a, T>(&'a [T]);

struct BorrowedBase<'a, T>(*const T, std::marker::PhantomData<&'a T>);

impl<T> Clone for BorrowedBase<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for BorrowedBase<'_, T> {}

// SAFETY: `take` hands out shared references, which any number of threads
// may hold; nothing is moved or dropped.
unsafe impl<'a, T: Sync> Source for Borrowed<'a, T> {
    type Item = &'a T;
    type Base = BorrowedBase<'a, T>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn base(&self) -> BorrowedBase<'a, T> {
        BorrowedBase(self.0.as_ptr(), std::marker::PhantomData)
    }

    unsafe fn take(base: BorrowedBase<'a, T>, index: usize) -> &'a T {
        // SAFETY: index < len, within the slice, which lives for 'a.
        unsafe { &*base.0.add(index) }
    }

    unsafe fn discard(_: BorrowedBase<'a, T>, _: Range<usize>) {}
}

/// The numbers of a range, made on the fly: nothing is stored or copied in.
struct Numbers(Range<u64>);

// SAFETY: items are plain numbers computed from the index; taking one twice
// or never would be harmless, and there is nothing to drop.
unsafe impl Source for Numbers {
    type Item = u64;
    type Base = u64;

    fn len(&self) -> usize {
        usize::try_from(self.0.end.saturating_sub(self.0.start)).unwrap_or(usize::MAX)
    }

    fn base(&self) -> u64 {
        self.0.start
    }

    unsafe fn take(base: u64, index: usize) -> u64 {
        base + index as u64
    }

    unsafe fn discard(_: u64, _: Range<usize>) {}
}

/// Where chunks write their outputs.
struct Output<R>(*mut R);

// SAFETY: each chunk writes a distinct range of slots, and the values are
// handed to the caller's thread afterwards (R: Send).
unsafe impl<R: Send> Sync for Output<R> {}

impl<R> Output<R> {
    /// The slot of item `index`. (A method, so that closures capture the
    /// whole `Sync` wrapper rather than its raw pointer field.)
    fn at(&self, index: usize) -> *mut R {
        self.0.wrapping_add(index)
    }
}

impl ThreadPool {
    /// Runs `f` over `items` on the pool's workers and the calling thread,
    /// and returns the results in input order, like `executor.map`. Blocks
    /// until all are done; `f` and the items may borrow from the caller.
    ///
    /// After [`shutdown`](Self::shutdown) the calling thread does all the
    /// work itself. Called from a task on an event loop it blocks the
    /// loop: wrap it in [`to_thread`](crate::to_thread) there.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let words = ["oven", "flour", "yeast"];
    /// let lengths = pool.map(|w: &str| w.len(), words).unwrap();
    /// assert_eq!(lengths, [4, 5, 5]); // input order
    /// ```
    ///
    /// # Errors
    /// [`MapError`] if `f` panicked: the first item (in input order) whose call
    /// panicked, with its panic. The other results are dropped.
    pub fn map<T, R, F>(&self, f: F, items: impl IntoIterator<Item = T>) -> Result<Vec<R>, MapError>
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        self.map_chunks(f, items, None)
    }

    /// [`map`](Self::map) with chunks of `chunk_len` items, or the pool's
    /// own choice.
    pub(super) fn map_chunks<T, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = T>,
        chunk_len: Option<usize>,
    ) -> Result<Vec<R>, MapError>
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        // A Vec passed in is reused as it is (collect's in-place path).
        let mut items: Vec<T> = items.into_iter().collect();
        let source = Owned {
            ptr: items.as_mut_ptr(),
            len: items.len(),
        };
        // SAFETY: the items now belong to `source`, which moves or drops
        // each exactly once; the vector keeps only its buffer, freed when
        // it drops after the map.
        unsafe { items.set_len(0) };
        self.map_source(&source, &f, chunk_len)
    }

    /// Like [`map`](Self::map) over a slice, lending `f` each item by
    /// reference, so nothing is copied in (`par_iter().map()` in rayon).
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let names = vec![String::from("ann"), String::from("bo")];
    /// let upper = pool.map_slice(|s: &String| s.to_uppercase(), &names).unwrap();
    /// assert_eq!(upper, ["ANN", "BO"]);
    /// assert_eq!(names.len(), 2); // still ours
    /// ```
    ///
    /// # Errors
    /// As [`map`](Self::map).
    pub fn map_slice<T, R, F>(&self, f: F, items: &[T]) -> Result<Vec<R>, MapError>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync,
    {
        self.map_source(&Borrowed(items), &f, None)
    }

    /// Like [`map`](Self::map) over the numbers of `range`, made on the fly
    /// (Python's `pool.map(f, range(n))`, rayon's `(a..b).into_par_iter()`):
    /// no input vector is built.
    ///
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let squares = pool.map_range(|n| n * n, 0..5).unwrap();
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// ```
    ///
    /// # Errors
    /// As [`map`](Self::map).
    pub fn map_range<R, F>(&self, f: F, range: Range<u64>) -> Result<Vec<R>, MapError>
    where
        R: Send,
        F: Fn(u64) -> R + Sync,
    {
        self.map_source(&Numbers(range), &f, None)
    }

    fn map_source<S, R, F>(
        &self,
        source: &S,
        f: &F,
        chunk_len: Option<usize>,
    ) -> Result<Vec<R>, MapError>
    where
        S: Source,
        R: Send,
        F: Fn(S::Item) -> R + Sync,
    {
        let n = source.len();
        let mut out: Vec<R> = Vec::with_capacity(n);
        if n == 0 {
            return Ok(out);
        }
        // The output stays on ordinary pages. Asking for transparent huge
        // pages (MADV_HUGEPAGE) made a fresh output fault in 2 MiB at a
        // time, which measured faster on a quiet machine but 1.4-2.4x
        // slower than rayon in the benchmark suite, where the memory had
        // just been churned by other runs: one huge-page fault then costs
        // the faulting thread the whole 2 MiB, and spikes.

        // The caller works too, so it invites one worker fewer than there
        // are cores: more threads than cores would leave a preempted
        // thread's chunk for last, costing a scheduler time slice.
        let helpers = self.workers().min(cores().saturating_sub(1));
        let chunk_len = match chunk_len {
            Some(len) => len.clamp(1, n),
            None => n.div_ceil(n.min((helpers + 1) * CHUNKS_PER_THREAD)),
        };
        let chunks = n.div_ceil(chunk_len);
        let dst = Output(out.as_mut_ptr());
        let finished: Vec<AtomicBool> = (0..chunks).map(|_| AtomicBool::new(false)).collect();
        let failures: Mutex<Vec<(usize, Panic)>> = Mutex::new(Vec::new());
        let run_chunk = |chunk: usize| {
            let start = chunk * chunk_len;
            let end = (start + chunk_len).min(n);
            let base = source.base();
            let out = dst.at(start);
            for i in start..end {
                // SAFETY: indices start..end belong to this chunk alone, and
                // the loop visits each once.
                let item = unsafe { S::take(base, i) };
                // Catching per item keeps the progress in a local (`i`): a
                // counter that survives unwinding would live in memory and
                // stop the loop from being vectorized. When `f` cannot
                // panic, the catch compiles to nothing.
                match catch_unwind(AssertUnwindSafe(|| f(item))) {
                    // SAFETY: i < n = the capacity of `out`; this chunk alone
                    // writes slot i, once.
                    Ok(value) => unsafe { out.add(i - start).write(value) },
                    Err(payload) => {
                        // `f` consumed item i. SAFETY: items i + 1..end were
                        // never taken, and slots start..i were written by
                        // this chunk only.
                        unsafe {
                            S::discard(base, i + 1..end);
                            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                                out,
                                i - start,
                            ));
                        }
                        let mut failures = failures.lock().unwrap_or_else(|e| e.into_inner());
                        failures.push((i, Panic::new(payload)));
                        return;
                    }
                }
            }
            finished[chunk].store(true, Ordering::Relaxed);
        };
        let helpers = helpers.min(chunks - 1);
        let escaped = batch::run(chunks, &run_chunk, |b| self.shared.invite(b, helpers));
        let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        if failures.is_empty() && escaped.is_ok() {
            // SAFETY: every chunk finished, so all n slots are written.
            unsafe { out.set_len(n) };
            return Ok(out);
        }
        for (chunk, done) in finished.iter().enumerate() {
            if done.load(Ordering::Relaxed) {
                let start = chunk * chunk_len;
                let end = (start + chunk_len).min(n);
                // SAFETY: a finished chunk wrote all its slots, and nothing
                // else owns them (`out` has length zero).
                unsafe {
                    std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                        out.as_mut_ptr().add(start),
                        end - start,
                    ))
                };
            }
        }
        failures.sort_by_key(|(index, _)| *index);
        let (index, panic) = match (failures.into_iter().next(), escaped) {
            (Some(first), _) => first,
            // Only a destructor panicking during clean-up gets here.
            (None, Err(panic)) => (n, panic),
            (None, Ok(())) => unreachable!("checked above"),
        };
        Err(MapError { index, panic })
    }
}
