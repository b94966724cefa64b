//! The event loop: brigade's executor, tasks and structured concurrency.
//!
//! In Python, `async def` makes a coroutine that does nothing until an event
//! loop runs it, and `await` suspends it without blocking the loop. Rust's
//! `async fn` already returns a lazy future; this module supplies the loop.
//!
//! - [`run`] drives a future to completion, like `asyncio.run`;
//!   [`Runtime`] does the same with options (a virtual clock, a seed).
//! - [`spawn`] starts a task that runs concurrently and returns a
//!   [`JoinHandle`], itself a future of the task's `Result<T, JoinError>`.
//! - [`gather`], [`try_gather`], [`race`], [`select`], [`as_completed`] and
//!   [`timeout`](crate::time::timeout) combine futures inside one task;
//!   [`task_group`] scopes child tasks so that none outlives its group.
//! - [`JoinSet`] holds spawned tasks and yields their results in the order
//!   they finish (tokio's `JoinSet`); [`wait`] waits on tasks until the
//!   first, the first failing or all have finished, handing back the ones
//!   still running (`asyncio.wait`); [`shield`] runs work that the
//!   cancellation of its waiter does not cancel (`asyncio.shield`).
//! - [`join!`](crate::join) and [`try_join!`](crate::try_join) await a fixed
//!   number of futures of different types inside one task, and
//!   [`AsCompleted::timeout`] gives [`as_completed`] a deadline.
//! - [`to_thread`] runs blocking code on a thread pool and awaits it.
//! - [`current_task`] and [`all_tasks`] take [`TaskInfo`] snapshots of the
//!   loop's tasks (`asyncio.current_task`, `asyncio.all_tasks`); other
//!   threads ask through [`Handle::all_tasks`].
//! - [`Handle::call_later`] and [`Handle::call_at`] run a callback on the
//!   loop at a time, returning a [`TimerHandle`] (asyncio's
//!   `loop.call_later`, `loop.call_at`).
//! - A poll that keeps the loop busy past
//!   [`Builder::slow_callback_duration`] (100 ms in debug builds) is
//!   reported, naming the task: see [`SlowPoll`].
//!
//! # One loop per thread
//! A loop polls its tasks on its own thread, as asyncio does, so tasks need
//! not be `Send`. Other threads reach a loop through a [`Handle`]
//! (`asyncio.run_coroutine_threadsafe`). To use several cores, run several
//! loops, one per thread; see [`Runtime`].
//!
//! ```
//! use std::time::Duration;
//!
//! async fn count(name: &'static str, log: std::rc::Rc<std::cell::RefCell<Vec<String>>>) {
//!     for i in 1..=2 {
//!         log.borrow_mut().push(format!("{name}{i}"));
//!         brigade::sleep(Duration::from_millis(10)).await;
//!     }
//! }
//!
//! let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
//! brigade::run(async {
//!     let a = brigade::spawn(count("a", log.clone()));
//!     let b = brigade::spawn(count("b", log.clone()));
//!     a.await.unwrap();
//!     b.await.unwrap();
//! });
//! // The two tasks took turns while they slept.
//! assert_eq!(*log.borrow(), ["a1", "b1", "a2", "b2"]);
//! ```

pub(crate) mod alarm;
pub(crate) mod blocking;
mod builder;
mod concurrent;
pub(crate) mod context;
#[doc(hidden)]
pub mod entry;
mod gather;
mod handle;
mod join;
#[doc(hidden)]
pub mod join_macro;
mod join_set;
mod join_set_ready;
mod runtime;
pub(crate) mod scheduler;
mod shield;
mod slow;
pub(crate) mod task;
mod task_group;
mod task_group_error;
mod task_ident;
mod task_info;
mod task_set;
mod task_stage;
mod timer_handle;
mod wait;
mod yield_now;

pub(crate) use blocking::{Inhibit, hold_clock};
pub use blocking::{MAX_BLOCKING_THREADS, ToThread, to_thread};
pub use builder::Builder;
pub use gather::{
    AsCompleted, AsCompletedTimeout, Either, TimedOut, as_completed, gather, race, select,
    try_gather,
};
pub use handle::{Handle, LoopClosed, RemoteHandle};
pub use join::{AbortHandle, JoinError, JoinHandle, Panic};
pub use join_set::JoinSet;
pub use runtime::{Runtime, RuntimeError, run, run_on_threads, spawn, spawn_named};
pub use shield::{Shield, shield};
pub use slow::SlowPoll;
pub use task::TaskId;
pub use task_group::{GroupTask, TaskGroup, task_group};
pub use task_group_error::{Failure, GroupError, Origin};
pub use task_info::{AllTasks, TaskInfo, TaskState, all_tasks, current_task};
pub use timer_handle::TimerHandle;
pub use wait::{Finished, ReturnWhen, try_wait, wait};
pub use yield_now::yield_now;

/// `asyncio.wait_for`: the same as [`crate::time::timeout`].
pub use crate::time::timeout as wait_for;
