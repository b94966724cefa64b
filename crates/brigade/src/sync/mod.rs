//! Synchronization for tasks: wait without blocking the event loop.
//!
//! Python's `asyncio` gives coroutines their own `Lock`, `Event`,
//! `Semaphore` and `Queue`, because a thread lock would freeze the whole
//! loop. These are brigade's. They are `Send + Sync`, so tasks on several
//! loops (and plain threads, through the channels' blocking calls) may share
//! them, usually behind an `Arc`. The one exception is [`LocalMutex`],
//! which, like asyncio's own `Lock`, serves the tasks of one loop only and
//! skips the thread lock that sharing across threads needs.
//!
//! # A tour
//! | brigade | asyncio | for |
//! | --- | --- | --- |
//! | [`Mutex`] | `Lock` | exclusive access to data, FIFO-fair |
//! | [`LocalMutex`] | `Lock` (not thread-safe, as asyncio's is not) | the same for the tasks of one loop, with no thread lock inside |
//! | [`Semaphore`] | `Semaphore` | at most `n` at once; `acquire_many` for weights |
//! | [`BoundedSemaphore`] | `BoundedSemaphore` | a semaphore whose extra `release` is an error |
//! | [`RwLock`] | — (tokio `RwLock`) | many readers or one writer, FIFO-fair |
//! | [`Event`] | `Event` | a flag to wait for |
//! | [`Notify`] | — | wake one or all waiters, no data |
//! | [`Condition`] | `Condition` | wait for state behind a [`Mutex`] to change |
//! | [`Barrier`] | `Barrier` | `n` tasks meet, then all go on; `abort` / `reset` |
//! | [`Queue`] | `Queue` | producers and consumers, `task_done` / `join`, `close` |
//! | [`PriorityQueue`] | `PriorityQueue` | a [`Queue`] that gives the smallest item first |
//! | [`LifoQueue`] | `LifoQueue` | a [`Queue`] that gives the newest item first |
//! | [`mpsc`] | — | fast channels, across tasks, loops and threads |
//! | [`oneshot`] | `Future` | exactly one value, once |
//! | [`watch`] | — (tokio `watch`) | the latest value, to many observers |
//! | [`broadcast`] | — (tokio `broadcast`) | every value to every receiver, bounded |
//!
//! Every waiting operation is a future that queues on a FIFO waiter
//! list (`waiters.rs`) and removes itself when dropped. Whatever was handed to
//! a waiter before it was cancelled (a lock, permits, an item, a
//! notification) is passed on: cancelling a wait, for example with
//! [`timeout`](crate::time::timeout) or [`JoinHandle::abort`](crate::JoinHandle::abort),
//! never leaks or loses anything.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use brigade::sync::{Mutex, oneshot};
//!
//! brigade::run(async {
//!     let (tx, rx) = oneshot::channel();
//!     brigade::spawn(async move { tx.send("done").unwrap() });
//!     assert_eq!(rx.await, Ok("done"));
//!
//!     // A lock wait that times out gives up its place; nothing is leaked.
//!     let m = Arc::new(Mutex::new(0));
//!     let held = m.lock().await;
//!     assert!(brigade::timeout(Duration::from_millis(1), m.lock()).await.is_err());
//!     drop(held);
//!     *m.lock().await += 1;
//! });
//! ```

mod barrier;
mod bounded_semaphore;
pub mod broadcast;
mod condition;
mod event;
mod local_mutex;
mod lock_state;
pub mod mpsc;
mod mutex;
mod mutex_guard;
mod notify;
pub mod oneshot;
mod park;
mod queue;
mod rwlock;
mod rwlock_guard;
mod rwlock_wait;
mod semaphore;
mod semaphore_error;
mod semaphore_permit;
mod waiters;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult, BrokenBarrierError};
pub use bounded_semaphore::{BoundedSemaphore, ReleaseError};
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use local_mutex::{LocalLock, LocalMutex, LocalMutexGuard};
pub use mutex::{Lock, Mutex, TryLockError};
pub use mutex_guard::{MutexGuard, OwnedMutexGuard};
pub use notify::{Notified, Notify};
pub use queue::{
    Get, Join, LifoQueue, PriorityQueue, Put, PutError, Queue, QueueClosed, TaskDoneError,
    TryGetError, TryPutError,
};
pub use rwlock::RwLock;
pub use rwlock_guard::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use rwlock_wait::{Read, Write};
pub use semaphore::{Acquire, Semaphore};
pub use semaphore_error::{AcquireError, TryAcquireError};
pub use semaphore_permit::{OwnedSemaphorePermit, SemaphorePermit};
