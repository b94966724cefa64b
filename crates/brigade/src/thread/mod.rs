//! Threads: Python's `threading` (and `concurrent.futures`' thread pool)
//! for Rust.
//!
//! The event loop runs many tasks on one thread, which is right for work
//! that waits on I/O; work that blocks (a C library call, a slow file
//! system, a long computation) needs threads of its own. This module gives
//! them Python's shape:
//!
//! - [`Thread`] is `threading.Thread`: made from a target and its
//!   arguments, started once, joined for its result (or its panic, as a
//!   typed [`ThreadError`]), and awaitable from an event loop without
//!   blocking it. Each has a name (`Thread-N (target)`), an
//!   [`ident`](Thread::ident), a [`native_id`](Thread::native_id) and a
//!   [`daemon`](Builder::daemon) flag.
//! - [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`],
//!   [`get_ident`] and [`get_native_id`] tell who is running.
//! - **Exit as in Python**: when the body of `#[brigade::main]` returns,
//!   the program waits for the non-daemon brigade threads and abandons the
//!   daemons. A plain `fn main` gets the same by calling
//!   [`wait_for_non_daemon`] last.
//! - [`ThreadPool`] is `concurrent.futures.ThreadPoolExecutor`:
//!   [`submit`](ThreadPool::submit) returns a [`Job`] to wait for or
//!   await, [`map`](ThreadPool::map) runs a function over many items in
//!   parallel (in chunks, as fast as rayon), [`as_completed`] and
//!   [`map_unordered`](ThreadPool::map_unordered) yield results as they
//!   finish.
//! - A [`Job`] is a `concurrent.futures.Future`: `cancel`, `done`,
//!   `running`, [`error`](Job::error) (Python's `exception()`) and
//!   [`add_done_callback`](Job::add_done_callback); [`wait`] with a
//!   [`ReturnWhen`] (`FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`)
//!   waits for jobs and process-pool tasks alike, and
//!   [`map_timeout`](ThreadPool::map_timeout) is `executor.map(...,
//!   timeout=)`; [`map_chunked`](ThreadPool::map_chunked) takes a
//!   `chunksize`.
//!
//! ```
//! use brigade::thread::{self, Thread};
//!
//! fn func2(n: u64) -> Vec<u64> {
//!     println!("Threading id: {}", thread::get_ident());
//!     (1..=n).map(|i| i.pow(2)).collect()
//! }
//!
//! let mut thread1 = Thread::new(func2, (5,));
//! let mut thread2 = Thread::new(func2, (10,));
//! thread1.start().unwrap();
//! thread2.start().unwrap();
//! assert!(!thread1.is_daemon());
//! assert!(thread1.name().ends_with(" (func2)")); // 'Thread-26 (func2)'
//! assert_eq!(thread1.join().unwrap(), [1, 4, 9, 16, 25]);
//! assert_eq!(thread2.join().unwrap().len(), 10);
//! assert!(!thread1.is_alive());
//! ```
//!
//! A thread's result can also be awaited on an event loop, which keeps
//! running meanwhile (the blocking waits, [`Thread::join`] and
//! [`Job::result`], panic on a loop's thread rather than freeze it), and a
//! pool spreads a map over the cores:
//!
//! ```
//! use brigade::thread::{self, ThreadPool};
//!
//! let from_thread = brigade::run(async {
//!     let t = thread::spawn(|| "blocking work done").unwrap();
//!     t.await.unwrap() // suspends this task only
//! });
//! assert_eq!(from_thread, "blocking work done");
//!
//! let pool = ThreadPool::new().unwrap();
//! let squares = pool.map(|x: u64| x * x, 0..1000).unwrap();
//! assert_eq!(squares[999], 998_001);
//! ```
//!
//! # Blocking primitives, not async ones
//! The synchronization types here block the calling *thread* while they
//! wait. They are for threads; a task on an event loop must not use them
//! (it would freeze every task of its loop) and uses [`crate::sync`]
//! instead, whose primitives suspend only the task. Python draws the same
//! line between `threading.Event` and `asyncio.Event`.
//!
//! The standard library's [`Mutex`], [`Condvar`] and [`RwLock`] are
//! re-exported as they are. Brigade adds what Python has and `std` lacks:
//!
//! | brigade | Python |
//! | --- | --- |
//! | [`Lock`], [`RLock`] (with [`lock_timeout`](Lock::lock_timeout); deadlocks detected, see [`detect_deadlocks`]) | `Lock`, `RLock` |
//! | [`Condition`] (with a [`Lock`]; FIFO wake-ups) | `Condition` |
//! | [`Event`] | `Event` |
//! | [`Semaphore`], [`BoundedSemaphore`] | `Semaphore`, `BoundedSemaphore` |
//! | [`Barrier`] (breakable: [`BrokenBarrierError`]) | `Barrier` |
//! | [`Timer`] | `Timer` |
//! | [`set_excepthook`], [`take_excepthook`] ([`ExceptHookArgs`]) | `excepthook` |
//!
//! **Breaking change**: [`Barrier`] used to be a re-export of
//! [`std::sync::Barrier`]; it is now Python's, whose `wait` returns the
//! arrival index or a [`BrokenBarrierError`].
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use brigade::thread::{Event, Lock, Semaphore, Timer};
//!
//! let ready = Arc::new(Event::new());
//! let mut alarm = Timer::new(Duration::from_millis(1), {
//!     let ready = ready.clone();
//!     move || ready.set()
//! });
//! alarm.start().unwrap();
//! ready.wait(); // set by the timer's thread
//!
//! let stoves = Semaphore::new(2);
//! let _one = stoves.acquire();
//! assert_eq!(stoves.available(), 1);
//!
//! let tally = Lock::named("tally", 0);
//! *tally.lock().unwrap() += 1; // Err(DeadlockError) instead of a hang,
//!                              // with detection on
//! assert_eq!(alarm.join().unwrap(), Some(()));
//! ```

mod as_completed;
mod barrier;
mod batch;
mod builder;
mod chunksize;
mod completion;
mod condition;
mod deadlock;
mod error;
mod event;
mod excepthook;
mod exit;
mod handle;
mod job;
mod join;
mod lock;
mod map;
mod map_unordered;
mod pool;
mod registry;
mod rlock;
mod semaphore;
pub(crate) mod slot;
mod target;
mod thread_ref;
mod timed_map;
mod timer;
pub(crate) mod wait;

pub use as_completed::{AsCompleted, as_completed};
pub use barrier::{Barrier, BrokenBarrierError};
pub use builder::{Builder, spawn};
pub use chunksize::MapChunkedError;
pub use condition::Condition;
pub use deadlock::{DeadlockError, deadlock_detection_enabled, detect_deadlocks};
pub use error::ThreadError;
pub use event::Event;
pub use excepthook::{ExceptHook, ExceptHookArgs, set_excepthook, take_excepthook};
pub use handle::Thread;
pub use job::{Job, JobError, ResultTimeoutError};
pub use join::{JoinAsync, ThreadJoin};
pub use lock::{Lock, LockGuard};
pub use map::MapError;
pub use map_unordered::MapUnordered;
pub use pool::{PoolBuilder, PoolError, SubmitError, ThreadPool};
pub use registry::{
    active_count, current_thread, enumerate, get_ident, get_native_id, main_thread,
    wait_for_non_daemon, wait_for_non_daemon_timeout,
};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Permit, ReleaseError, Semaphore};
pub use slot::ErrorRef;
pub use std::sync::{Condvar, Mutex, RwLock};
pub use target::Target;
pub use thread_ref::ThreadRef;
pub use timed_map::{MapTimeout, MapTimeoutError};
pub use timer::Timer;
pub use wait::{ReturnWhen, Waitable, wait};
