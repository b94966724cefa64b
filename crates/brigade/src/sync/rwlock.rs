//! [`RwLock`]: many readers or one writer, for tasks (tokio's
//! `sync::RwLock`; asyncio has none).
//!
//! # The idea
//! The whole lock is one atomic word: a writer bit, a "somebody queues" bit
//! and a reader count (the layout of the futex-based reader-writer locks in
//! Rust's standard library and in `parking_lot`). While nobody queues,
//! taking or releasing the lock is a single compare-and-swap on that word:
//! no lock, no allocation. A task that cannot get in takes the slow path: it
//! sets the queue bit and parks on a FIFO waiter list (`waiters.rs`) behind
//! a small mutex.
//!
//! # Fairness
//! Once the queue bit is set, the fast path is closed to everyone, so a
//! reader that arrives after a waiting writer queues behind it: writers are
//! never starved by a stream of readers (phase-fair FIFO, as tokio's lock,
//! which is built on its fair semaphore). Releasing hands the lock straight
//! to the head of the queue: a writer, or every reader up to the next
//! writer. A waiter cancelled after the hand-off releases what it was given
//! from its destructor, so cancellation never leaks the lock.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::RwLock;
//!
//! brigade::run(async {
//!     let config = Arc::new(RwLock::new(String::from("v1")));
//!     let reader = {
//!         let config = config.clone();
//!         brigade::spawn(async move { config.read().await.len() })
//!     };
//!     assert_eq!(reader.await.unwrap(), 2);
//!     config.write().await.push_str(".1");
//!     assert_eq!(*config.read().await, "v1.1");
//! });
//! ```

use std::cell::UnsafeCell;
use std::fmt;
use std::sync::Arc;

use super::TryLockError;
use super::rwlock_guard::{
    OwnedHold, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
use super::rwlock_wait::Waiting;
use super::rwlock_wait::{Read, Write};
use super::waiters::{WaitList, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};

/// A writer holds the lock.
pub(super) const WRITER: usize = 1;
/// The waiter list is not empty: the fast path is closed.
const QUEUED: usize = 2;
/// One reader, in the count that fills the rest of the word.
pub(super) const READER: usize = 4;
/// The most readers the word can count.
const MAX_READERS: usize = usize::MAX >> 3;

/// An async reader-writer lock (tokio's `RwLock`).
///
/// Any number of [`read`](Self::read) guards, or one
/// [`write`](Self::write) guard, at a time. Waiting is FIFO-fair: a reader
/// that arrives after a waiting writer waits behind it. Uncontended
/// acquisition and release are one atomic compare-and-swap.
///
/// Differences from tokio: the guards have no `map` projections;
/// [`with_max_readers`](Self::with_max_readers) clamps its argument into
/// range instead of panicking.
///
/// # Examples
///
/// ```
/// use brigade::sync::RwLock;
///
/// brigade::run(async {
///     let lock = RwLock::new(5);
///     {
///         let (a, b) = (lock.read().await, lock.read().await);
///         assert_eq!(*a + *b, 10);
///         assert!(lock.try_write().is_err());
///     }
///     *lock.write().await += 1;
///     assert_eq!(lock.into_inner(), 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    /// `WRITER | QUEUED | readers * READER`; see the module docs.
    pub(super) word: AtomicUsize,
    max_readers: usize,
    waiters: Mutex<WaitList<Waiter>>,
    pub(super) data: UnsafeCell<T>,
}

/// A parked acquirer: what it wants and whether it was given it.
pub(super) struct Waiter {
    pub(super) write: bool,
    pub(super) granted: bool,
}

// SAFETY: the lock hands `T` to guards on any thread, so it may move
// whenever `T` may.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: `&RwLock<T>` yields `&T` to many readers at once (needs `Sync`)
// or `&mut T` to one writer (needs `Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// A new, unlocked lock holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = brigade::sync::RwLock::new(vec![1]);
    /// assert_eq!(*lock.try_read().unwrap(), [1]);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READERS)
    }

    /// A lock that lets at most `max_readers` readers in at once; more
    /// wait. tokio panics on a maximum out of range; brigade clamps it to
    /// `1..=usize::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::RwLock;
    ///
    /// let lock = RwLock::with_max_readers((), 1);
    /// let _first = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_err());
    /// ```
    pub fn with_max_readers(value: T, max_readers: usize) -> RwLock<T> {
        RwLock {
            word: AtomicUsize::new(0),
            max_readers: max_readers.clamp(1, MAX_READERS),
            waiters: Mutex::new(WaitList::new()),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(brigade::sync::RwLock::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    pub(super) fn waiters(&self) -> MutexGuard<'_, WaitList<Waiter>> {
        // Critical sections cannot panic halfway: a poisoned lock is fine.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for shared access. Behind a waiting writer, a reader waits
    /// even while other readers hold the lock (no writer starvation).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropping the future gives up its place, and
    /// a lock handed to it meanwhile is released again.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let lock = brigade::sync::RwLock::new("shared");
    ///     let (a, b) = (lock.read().await, lock.read().await);
    ///     assert_eq!((*a, *b), ("shared", "shared"));
    /// });
    /// ```
    pub fn read(&self) -> Read<'_, T> {
        Read {
            wait: Waiting::new(self, false),
        }
    }

    /// Waits for exclusive access, in FIFO order with the readers.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let lock = brigade::sync::RwLock::new(0);
    ///     *lock.write().await += 1;
    ///     assert_eq!(*lock.read().await, 1);
    /// });
    /// ```
    pub fn write(&self) -> Write<'_, T> {
        Write {
            wait: Waiting::new(self, true),
        }
    }

    /// Like [`read`](Self::read), for a lock in an `Arc`: the guard owns a
    /// clone of the `Arc`, so it can move into a spawned task.
    ///
    /// # Cancel safety
    ///
    /// As [`read`](Self::read): dropping the future gives up its place, and a
    /// lock handed to it meanwhile is released again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// brigade::run(async {
    ///     let lock = Arc::new(brigade::sync::RwLock::new(7));
    ///     let guard = lock.clone().read_owned().await;
    ///     let n = brigade::spawn(async move { *guard }).await.unwrap();
    ///     assert_eq!(n, 7);
    /// });
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        // The owned guard takes over the reader that the borrowed one holds.
        std::mem::forget(self.read().await);
        OwnedRwLockReadGuard {
            hold: OwnedHold {
                lock: self,
                write: false,
            },
        }
    }

    /// Like [`write`](Self::write), with an owned guard; see
    /// [`read_owned`](Self::read_owned).
    ///
    /// # Cancel safety
    ///
    /// As [`write`](Self::write): dropping the future gives up its place, and a
    /// lock handed to it meanwhile is released again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// brigade::run(async {
    ///     let lock = Arc::new(brigade::sync::RwLock::new(7));
    ///     let mut guard = lock.clone().write_owned().await;
    ///     brigade::spawn(async move { *guard += 1 }).await.unwrap();
    ///     assert_eq!(*lock.read().await, 8);
    /// });
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        std::mem::forget(self.write().await);
        OwnedRwLockWriteGuard {
            hold: OwnedHold {
                lock: self,
                write: true,
            },
        }
    }

    /// Takes shared access if that is possible right now without jumping
    /// the queue.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock, anybody waits in the
    /// queue, or the readers are at their maximum.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = brigade::sync::RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert_eq!(*lock.try_read().unwrap(), 1);
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        if self.try_fast(false) {
            Ok(RwLockReadGuard { lock: self })
        } else {
            Err(TryLockError)
        }
    }

    /// Takes exclusive access if nobody holds the lock or waits for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if anybody holds the lock or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = brigade::sync::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// *lock.try_write().unwrap() = 2;
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        if self.try_fast(true) {
            Ok(RwLockWriteGuard { lock: self })
        } else {
            Err(TryLockError)
        }
    }

    /// Direct access to the data: `&mut self` proves nobody holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = brigade::sync::RwLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The fast path: one compare-and-swap while nobody queues.
    pub(super) fn try_fast(&self, write: bool) -> bool {
        let mut word = self.word.load(Ordering::Relaxed);
        loop {
            let Some(next) = self.acquired(word, write) else {
                return false;
            };
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
    }

    /// The word after taking the lock from `word` without queueing, if the
    /// lock is free for it and nobody queues.
    fn acquired(&self, word: usize, write: bool) -> Option<usize> {
        if word & (WRITER | QUEUED) != 0 {
            None
        } else if write {
            (word == 0).then_some(WRITER)
        } else {
            (word / READER < self.max_readers).then_some(word + READER)
        }
    }

    /// Under the waiter mutex: takes the lock, or sets the queue bit so
    /// that no release can slip by unseen. `true` if the lock was taken.
    pub(super) fn acquire_or_queue(&self, write: bool) -> bool {
        let mut word = self.word.load(Ordering::Relaxed);
        loop {
            let (next, taken) = match self.acquired(word, write) {
                Some(next) => (next, true),
                None if word & QUEUED != 0 => return false,
                None => (word | QUEUED, false),
            };
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return taken,
                Err(now) => word = now,
            }
        }
    }

    /// Under the waiter mutex: hands the lock to the head of the queue (a
    /// writer, or the run of readers before the next writer) as far as the
    /// word allows, and clears the queue bit once nobody waits.
    pub(super) fn hand_off(&self, list: &mut WaitList<Waiter>, wake: &mut WakeList) {
        // With the queue bit set, only releases change the word besides us.
        while let Some(key) = list.front() {
            let word = self.word.load(Ordering::Acquire);
            let write = list.value(key).write;
            let fits = if write {
                word & !QUEUED == 0
            } else {
                word & WRITER == 0 && word / READER < self.max_readers
            };
            if !fits {
                break;
            }
            self.word
                .fetch_add(if write { WRITER } else { READER }, Ordering::AcqRel);
            list.pop_front();
            list.value_mut(key).granted = true;
            wake.push(list.take_waker(key));
        }
        if list.is_empty() {
            self.word.fetch_and(!QUEUED, Ordering::Release);
        }
    }

    pub(super) fn release_read(&self) {
        let before = self.word.fetch_sub(READER, Ordering::Release);
        let readers = before / READER;
        // Only the last reader can let a writer in, and a reader at the
        // maximum let another reader in.
        if before & QUEUED != 0 && (readers == 1 || readers == self.max_readers) {
            self.release_slow(None);
        }
    }

    pub(super) fn release_write(&self) {
        if self
            .word
            .compare_exchange(WRITER, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.release_slow(Some(WRITER));
        }
    }

    /// Takes the waiter mutex, drops `held` from the word if given, and
    /// hands the lock on.
    fn release_slow(&self, held: Option<usize>) {
        let mut wake = WakeList::new();
        {
            let mut list = self.waiters();
            if let Some(held) = held {
                self.word.fetch_sub(held, Ordering::Release);
            }
            self.hand_off(&mut list, &mut wake);
        }
        wake.wake_all();
    }

    /// Turns a held write lock into a read lock and lets in the readers
    /// that queue at the head.
    pub(super) fn downgrade(&self) {
        if self
            .word
            .compare_exchange(WRITER, READER, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            let mut wake = WakeList::new();
            {
                let mut list = self.waiters();
                self.word.fetch_add(READER - WRITER, Ordering::AcqRel);
                self.hand_off(&mut list, &mut wake);
            }
            wake.wake_all();
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    use super::RwLock;
    use crate::loom::sync::Arc;
    use crate::loom::thread;
    use crate::sync::park::block_on;

    #[test]
    fn a_writer_and_a_reader_take_turns() {
        loom::model(|| {
            let lock = Arc::new(RwLock::new(0));
            let writer = {
                let lock = lock.clone();
                thread::spawn(move || *block_on(lock.write()) += 1)
            };
            let seen = *block_on(lock.read());
            assert!(seen == 0 || seen == 1);
            writer.join().unwrap();
            assert_eq!(*lock.try_read().unwrap(), 1);
            assert!(lock.try_write().is_ok());
        });
    }

    #[test]
    fn the_last_reader_hands_over_to_a_waiting_writer() {
        loom::model(|| {
            let lock = Arc::new(RwLock::new(0));
            let reader = lock.try_read().unwrap();
            let writer = {
                let lock = lock.clone();
                thread::spawn(move || *block_on(lock.write()) += 1)
            };
            drop(reader);
            writer.join().unwrap();
            assert_eq!(*lock.try_write().unwrap(), 1);
        });
    }

    #[test]
    fn a_waiter_dropped_during_the_hand_off_never_leaks_the_lock() {
        loom::model(|| {
            let lock = Arc::new(RwLock::new(()));
            let guard = lock.try_write().unwrap();
            let waiter = {
                let lock = lock.clone();
                thread::spawn(move || {
                    let mut write = pin!(lock.write());
                    let mut cx = Context::from_waker(Waker::noop());
                    drop(write.as_mut().poll(&mut cx));
                })
            };
            drop(guard);
            waiter.join().unwrap();
            assert!(lock.try_write().is_ok(), "the lock leaked");
        });
    }

    #[test]
    fn a_reader_and_a_writer_queue_while_the_holder_leaves() {
        loom::model(|| {
            let lock = Arc::new(RwLock::new(0));
            let held = lock.try_read().unwrap();
            let writer = {
                let lock = lock.clone();
                thread::spawn(move || *block_on(lock.write()) += 1)
            };
            let reader = {
                let lock = lock.clone();
                thread::spawn(move || *block_on(lock.read()))
            };
            drop(held);
            writer.join().unwrap();
            assert!(reader.join().unwrap() <= 1);
            assert_eq!(*lock.try_write().unwrap(), 1);
        });
    }

    #[test]
    fn downgrade_admits_a_waiting_reader() {
        loom::model(|| {
            let lock = Arc::new(RwLock::new(0));
            let mut w = lock.try_write().unwrap();
            let reader = {
                let lock = lock.clone();
                thread::spawn(move || *block_on(lock.read()))
            };
            *w = 1;
            let r = w.downgrade();
            assert_eq!(reader.join().unwrap(), 1);
            drop(r);
            assert!(lock.try_write().is_ok());
        });
    }
}
