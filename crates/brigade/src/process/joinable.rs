//! [`JoinableQueue`]: a [`Queue`] that also counts unfinished tasks, so
//! that a producer can wait until consumers in any process have finished
//! every item, as Python's `multiprocessing.JoinableQueue`.
//!
//! Next to the queue's socketpair, an anonymous memory file holds the
//! count of unfinished tasks, a 32-bit futex word, and the number of
//! processes in [`join`](JoinableQueue::join). [`put`](JoinableQueue::put)
//! adds one before the item is sent (so `join` cannot miss it);
//! [`task_done`](JoinableQueue::task_done) takes one away and, on reaching
//! zero, wakes the joiners. No lock is involved: a process killed at any
//! point leaves nothing held (though a task it took and never finished
//! keeps `join` waiting, as in Python; bound that with
//! [`join_timeout`](JoinableQueue::join_timeout)).
//!
//! ```
//! let q = brigade::process::JoinableQueue::new().unwrap();
//! q.put(&1u8).unwrap();
//! q.get().unwrap();
//! q.task_done().unwrap();
//! q.join();
//! ```

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::pipe::{RecvError, SendError};
use super::queue::Queue;
use super::region::{Region, SharedState};
use crate::sys::futex;

#[repr(C)]
pub(crate) struct TaskCount {
    /// Items put and not yet marked done: the futex word.
    unfinished: AtomicU32,
    /// Callers asleep (or about to sleep) in `join`.
    joiners: AtomicU32,
}

// SAFETY: two atomics: any bit pattern is a state, nothing points anywhere.
unsafe impl SharedState for TaskCount {}

impl TaskCount {
    fn add(&self) -> bool {
        self.unfinished
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_add(1))
            .is_ok()
    }

    fn done(&self) -> Result<(), TaskDoneError> {
        let before = self
            .unfinished
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        if before == 1 && self.joiners.load(Ordering::SeqCst) > 0 {
            futex::wake(&self.unfinished, u32::MAX);
        }
        Ok(())
    }
}

/// A [`Queue`] with a count of unfinished tasks (Python's
/// `multiprocessing.JoinableQueue`). Clone it to share it among
/// threads, pass it to a child to share it there.
///
/// ```
/// use brigade::process::{JoinableQueue, Process};
///
/// fn consume(q: JoinableQueue<u32>) {
///     while let Ok(n) = q.get() {
///         let _ = n * 2; // the work
///         q.task_done().unwrap();
///         if n == 2 {
///             break;
///         }
///     }
/// }
///
/// let q = JoinableQueue::new().unwrap();
/// let mut p = Process::new(consume, (q.clone(),));
/// p.start().unwrap();
/// for n in 0..3 {
///     q.put(&n).unwrap();
/// }
/// q.join(); // every item got its task_done
/// p.join().unwrap();
/// ```
///
/// # Differences from Python
/// - At most `u32::MAX` tasks may be unfinished at once; a `put` beyond
///   that is refused with [`SendError::Full`].
/// - A `put` that fails gives its count back: only items that went into
///   the queue wait for a `task_done`.
pub struct JoinableQueue<T> {
    queue: Queue<T>,
    tasks: Region<TaskCount>,
}

impl<T: Serialize + DeserializeOwned> JoinableQueue<T> {
    /// An empty queue with no unfinished tasks.
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::<u8>::new().unwrap();
    /// assert_eq!(q.unfinished(), 0);
    /// ```
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE`, or the error of creating the shared counter.
    pub fn new() -> io::Result<JoinableQueue<T>> {
        Ok(JoinableQueue {
            queue: Queue::new()?,
            tasks: Region::new(c"brigade-joinable-queue", |_: &TaskCount| Ok(()))?,
        })
    }

    /// Puts `value` at the back, counting one more unfinished task; waits
    /// while the queue is full.
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::new().unwrap();
    /// q.put(&5u8).unwrap();
    /// assert_eq!(q.unfinished(), 1);
    /// ```
    ///
    /// # Errors
    /// As [`Queue::put`](super::Queue::put), and [`SendError::Full`] if
    /// the count of unfinished values is at its limit.
    pub fn put(&self, value: &T) -> Result<(), SendError<()>> {
        self.counted(|| self.queue.put(value))
    }

    /// As [`put`](Self::put), waiting at most `timeout` for room.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = brigade::process::JoinableQueue::new().unwrap();
    /// q.put_timeout(&5u8, Duration::from_millis(5)).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Queue::put_timeout`](super::Queue::put_timeout), and [`SendError::Full`] if
    /// the count of unfinished values is at its limit.
    pub fn put_timeout(&self, value: &T, timeout: Duration) -> Result<(), SendError<()>> {
        self.counted(|| self.queue.put_timeout(value, timeout))
    }

    /// As [`put`](Self::put), on the event loop (see
    /// [`Queue::put_async`]). A future dropped before it finished has put
    /// nothing and counted nothing.
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::new().unwrap();
    /// brigade::run(async {
    ///     q.put_async(&1u8).await.unwrap();
    /// });
    /// assert_eq!(q.unfinished(), 1);
    /// ```
    ///
    /// # Errors
    /// As [`Queue::put_async`](super::Queue::put_async), and
    /// [`SendError::Full`] if the count of unfinished values is at its
    /// limit.
    ///
    /// # Cancel safety
    /// Cancel-safe: a future dropped before it finished has put nothing (and
    /// counted nothing).
    pub async fn put_async(&self, value: &T) -> Result<(), SendError<()>> {
        let tasks = self.tasks.state();
        if !tasks.add() {
            return Err(SendError::Full(()));
        }
        // Gives the count back unless the put completes.
        struct Uncount<'a>(Option<&'a TaskCount>);
        impl Drop for Uncount<'_> {
            fn drop(&mut self) {
                if let Some(t) = self.0 {
                    let _ = t.done();
                }
            }
        }
        let mut uncount = Uncount(Some(tasks));
        let sent = self.queue.put_async(value).await;
        if sent.is_ok() {
            uncount.0 = None;
        }
        sent
    }

    fn counted(
        &self,
        put: impl FnOnce() -> Result<(), SendError<()>>,
    ) -> Result<(), SendError<()>> {
        let tasks = self.tasks.state();
        if !tasks.add() {
            return Err(SendError::Full(()));
        }
        let sent = put();
        if sent.is_err() {
            let _ = tasks.done();
        }
        sent
    }

    /// Takes the value at the front, waiting for one (see [`Queue::get`]).
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::new().unwrap();
    /// q.put(&7u8).unwrap();
    /// assert_eq!(q.get().unwrap(), 7);
    /// ```
    ///
    /// # Errors
    /// As [`Queue::get`](super::Queue::get).
    pub fn get(&self) -> Result<T, RecvError> {
        self.queue.get()
    }

    /// Takes the value at the front, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = brigade::process::JoinableQueue::<u8>::new().unwrap();
    /// assert!(q.get_timeout(Duration::from_millis(5)).is_err());
    /// ```
    ///
    /// # Errors
    /// As [`Queue::get_timeout`](super::Queue::get_timeout).
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, RecvError> {
        self.queue.get_timeout(timeout)
    }

    /// Takes the value at the front if there is one.
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::<u8>::new().unwrap();
    /// assert!(q.try_get().is_err());
    /// ```
    ///
    /// # Errors
    /// As [`Queue::try_get`](super::Queue::try_get).
    pub fn try_get(&self) -> Result<T, RecvError> {
        self.queue.try_get()
    }

    /// Takes the value at the front on the event loop (see
    /// [`Queue::get_async`]).
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::new().unwrap();
    /// q.put(&3u8).unwrap();
    /// assert_eq!(brigade::run(async { q.get_async().await.unwrap() }), 3);
    /// ```
    ///
    /// # Errors
    /// As [`Queue::get_async`](super::Queue::get_async).
    ///
    /// # Cancel safety
    /// Cancel-safe: a future dropped before it finished has taken nothing.
    pub async fn get_async(&self) -> Result<T, RecvError> {
        self.queue.get_async().await
    }
}

impl<T> JoinableQueue<T> {
    /// Marks one task taken from the queue as finished (Python's
    /// `task_done`). More calls than puts is a [`TaskDoneError`] (Python's
    /// `ValueError`), and counts nothing.
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::new().unwrap();
    /// q.put(&1u8).unwrap();
    /// q.get().unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.task_done().is_err());
    /// ```
    ///
    /// # Errors
    /// [`TaskDoneError`] if called more times than values were put.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.tasks.state().done()
    }

    /// Waits until every item put (by any process) has been marked done.
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::<u8>::new().unwrap();
    /// q.join(); // nothing unfinished: returns at once
    /// ```
    pub fn join(&self) {
        self.join_until(None);
    }

    /// As [`join`](Self::join), at most `timeout`; returns whether every
    /// task was done.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = brigade::process::JoinableQueue::new().unwrap();
    /// q.put(&1u8).unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(5)));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.join_until(Instant::now().checked_add(timeout))
    }

    fn join_until(&self, deadline: Option<Instant>) -> bool {
        let s = self.tasks.state();
        loop {
            let n = s.unfinished.load(Ordering::SeqCst);
            if n == 0 {
                return true;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return false;
            }
            s.joiners.fetch_add(1, Ordering::SeqCst);
            // Sleeps only while the count is still `n`: a task_done in
            // between changed it, and the kernel returns at once.
            if s.unfinished.load(Ordering::SeqCst) == n {
                futex::wait(&s.unfinished, n, left);
            }
            s.joiners.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Tasks put and not yet marked done, across all processes.
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::<u8>::new().unwrap();
    /// assert_eq!(q.unfinished(), 0);
    /// ```
    pub fn unfinished(&self) -> u32 {
        self.tasks.state().unfinished.load(Ordering::SeqCst)
    }

    /// This process will put no more values (see [`Queue::close`]).
    ///
    /// ```
    /// let q = brigade::process::JoinableQueue::<u8>::new().unwrap();
    /// q.close();
    /// assert!(q.put(&1).is_err());
    /// assert_eq!(q.unfinished(), 0);
    /// ```
    pub fn close(&self) {
        self.queue.close();
    }
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> JoinableQueue<T> {
        JoinableQueue {
            queue: self.queue.clone(),
            tasks: self.tasks.clone(),
        }
    }
}

impl<T> Serialize for JoinableQueue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.queue, &self.tasks).serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for JoinableQueue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (queue, tasks) = <(Queue<T>, Region<TaskCount>)>::deserialize(d)?;
        Ok(JoinableQueue { queue, tasks })
    }
}

impl<T> fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinableQueue")
            .field("unfinished", &self.unfinished())
            .finish_non_exhaustive()
    }
}

/// [`JoinableQueue::task_done`] called more times than items were put
/// (Python's `ValueError: task_done() called too many times`).
///
/// ```
/// let q = brigade::process::JoinableQueue::<u8>::new().unwrap();
/// let e = q.task_done().unwrap_err();
/// assert_eq!(e.to_string(), "task_done called more times than items were put");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done called more times than items were put")
    }
}

impl std::error::Error for TaskDoneError {}
