//! Introspection: which tasks a loop holds and what each is doing
//! ([`current_task`], [`all_tasks`], `asyncio.current_task` and
//! `asyncio.all_tasks` in Python, a task dump in tokio).
//!
//! A loop already keeps every live task in a registry (a slab, so that it
//! can cancel them all at shutdown). Introspection walks that registry and
//! copies what it finds into [`TaskInfo`] snapshots: the id, the name given
//! to [`spawn_named`](crate::spawn_named), and a [`TaskState`] read from the
//! task's state word. Spawning pays nothing for it: no list to join, no
//! lock, no allocation beyond the task itself.
//!
//! A snapshot is a copy: it does not change as the tasks move on. It is
//! taken on the loop's own thread, between two polls or (for the task
//! asking) during its own poll, so it is consistent: every task appears
//! once, in one state. Other threads ask through [`Handle::all_tasks`],
//! which the loop answers at its next turn.
//!
//! ```
//! use brigade::event_loop::{TaskState, all_tasks, current_task};
//!
//! brigade::run(async {
//!     let worker = brigade::spawn_named("worker", async {
//!         let me = current_task().unwrap();
//!         assert_eq!(me.name(), Some("worker"));
//!         assert_eq!(me.state(), TaskState::Running);
//!     });
//!     let tasks = all_tasks();
//!     assert_eq!(tasks.len(), 1);
//!     assert_eq!(tasks[0].name(), Some("worker"));
//!     assert_eq!(tasks[0].state(), TaskState::Ready); // spawned, not yet polled
//!     worker.await.unwrap();
//!     assert!(all_tasks().is_empty());
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::handle::{Handle, LoopClosed};
use super::runtime::Runtime;
use super::task::{CANCELLED, SCHEDULED, TaskId, TaskRef};
use super::{context, scheduler};
use crate::sync::oneshot;

/// What a live task is doing when the snapshot is taken.
///
/// asyncio distinguishes only pending and done tasks (and
/// `Task.cancelling()`); a finished task never appears here, because the
/// loop forgets it as it finishes (`asyncio.all_tasks` lists only tasks not
/// yet done, too).
///
/// # Examples
///
/// ```
/// use brigade::event_loop::{TaskState, current_task};
///
/// brigade::run(async {
///     let task = brigade::spawn(async { current_task().unwrap().state() });
///     assert_eq!(task.await.unwrap(), TaskState::Running);
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Being polled right now: the task that asked.
    Running,
    /// Woken and waiting in the run queue for its turn.
    Ready,
    /// Suspended at an `.await`, waiting to be woken (by a timer, I/O,
    /// a channel, another task).
    Waiting,
    /// Cancellation was requested ([`JoinHandle::abort`](crate::JoinHandle::abort));
    /// the loop drops its future at its next turn.
    Cancelling,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Running => "running",
            TaskState::Ready => "ready",
            TaskState::Waiting => "waiting",
            TaskState::Cancelling => "cancelling",
        })
    }
}

/// A snapshot of one live task: its id, name and state at the moment it
/// was taken, from [`current_task`], [`all_tasks`] or [`Handle::all_tasks`].
///
/// A snapshot is a copy: it does not change as the task moves on. It is
/// taken on the loop's own thread, between two polls or (for the task
/// asking) during its own poll, so a list of them is consistent: every
/// live task appears once, in one state. The loop gets them by walking the
/// registry of live tasks it keeps anyway (to cancel them at shutdown), so
/// spawning pays nothing for introspection.
///
/// # Examples
///
/// ```
/// use brigade::event_loop::all_tasks;
///
/// brigade::run(async {
///     let task = brigade::spawn_named("indexer", std::future::pending::<()>());
///     let info = &all_tasks()[0];
///     assert_eq!(info.id(), task.id());
///     assert_eq!(info.to_string(), format!("task {} \"indexer\" (ready)", task.id()));
/// });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<String>,
    state: TaskState,
}

impl TaskInfo {
    /// Reads a task's header on its owner thread.
    pub(crate) fn of(task: &TaskRef, running: bool) -> TaskInfo {
        let header = task.header();
        let bits = task.state();
        let state = if running {
            TaskState::Running
        } else if bits & CANCELLED != 0 {
            TaskState::Cancelling
        } else if bits & SCHEDULED != 0 || header.local_queued.get() {
            TaskState::Ready
        } else {
            TaskState::Waiting
        };
        TaskInfo {
            id: header.id(),
            name: header.name().map(str::to_string),
            state,
        }
    }

    /// The task's id, as [`JoinHandle::id`](crate::JoinHandle::id) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn(async { brigade::event_loop::current_task().unwrap().id() });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The name given to [`spawn_named`](crate::spawn_named) (or to
    /// [`TaskGroup::spawn_named`](crate::TaskGroup::spawn_named)), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn_named("fetch", async {
    ///         brigade::event_loop::current_task().unwrap().name().map(String::from)
    ///     });
    ///     assert_eq!(task.await.unwrap().as_deref(), Some("fetch"));
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// What the task was doing when the snapshot was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::event_loop::{TaskState, all_tasks};
    ///
    /// brigade::run(async {
    ///     let idle = brigade::spawn(std::future::pending::<()>());
    ///     brigade::yield_now().await; // it runs once and suspends
    ///     assert_eq!(all_tasks()[0].state(), TaskState::Waiting);
    ///     idle.abort();
    ///     assert_eq!(all_tasks()[0].state(), TaskState::Cancelling);
    /// });
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        write!(f, " ({})", self.state)
    }
}

/// The task being polled on this thread, as `asyncio.current_task()`.
///
/// `None` outside of a task: outside of any loop, in callbacks
/// ([`Handle::call_soon`], [`Handle::call_later`]), and in the future given
/// to [`run`](crate::run) or [`Runtime::block_on`], which brigade polls
/// directly rather than as a task (asyncio wraps the main coroutine in a
/// task; spawn it to see it here). Each call takes a new snapshot, whose
/// state is [`TaskState::Running`].
///
/// # Examples
///
/// ```
/// use brigade::event_loop::current_task;
///
/// brigade::run(async {
///     assert!(current_task().is_none()); // the main future is not a task
///     let outer = brigade::spawn_named("outer", async {
///         let inner = brigade::spawn_named("inner", async { current_task().unwrap() });
///         (current_task().unwrap(), inner.await.unwrap())
///     });
///     let (outer, inner) = outer.await.unwrap();
///     assert_eq!((outer.name(), inner.name()), (Some("outer"), Some("inner")));
/// });
/// ```
pub fn current_task() -> Option<TaskInfo> {
    context::with(|core| core.and_then(|core| core.current_task_info()))
}

/// A snapshot of every live task of the current loop, in spawn order, as
/// `asyncio.all_tasks()`: each spawned and not yet finished (a cancelled
/// task is listed, as [`TaskState::Cancelling`], until the loop has dropped
/// its future). The calling task appears as [`TaskState::Running`]; the
/// main future is not a task and does not appear.
///
/// # Panics
/// Outside of a running event loop (as `asyncio.all_tasks` raises without
/// a running loop); other threads use [`Handle::all_tasks`].
///
/// # Examples
///
/// ```
/// use brigade::event_loop::all_tasks;
///
/// brigade::run(async {
///     let a = brigade::spawn_named("a", std::future::pending::<()>());
///     let b = brigade::spawn_named("b", std::future::pending::<()>());
///     let names: Vec<_> = all_tasks().iter().map(|t| t.name().unwrap().to_string()).collect();
///     assert_eq!(names, ["a", "b"]);
///     a.abort();
///     b.abort();
/// });
/// ```
pub fn all_tasks() -> Vec<TaskInfo> {
    scheduler::current("brigade::event_loop::all_tasks").all_tasks()
}

impl Runtime {
    /// A snapshot of the loop's live tasks, as [`all_tasks`] gives it from
    /// inside: here from the thread that owns the runtime, between runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let task = rt.spawn(async {});
    /// assert_eq!(rt.all_tasks()[0].id(), task.id());
    /// rt.block_on(task).unwrap();
    /// assert!(rt.all_tasks().is_empty());
    /// ```
    pub fn all_tasks(&self) -> Vec<TaskInfo> {
        self.core.all_tasks()
    }
}

impl Handle {
    /// A snapshot of the loop's live tasks, asked from any thread: await it
    /// on another loop, or [`wait`](AllTasks::wait) for it from plain code.
    ///
    /// On the loop's own thread, while it runs, the snapshot is taken at
    /// once, as [`all_tasks`]. From elsewhere the request travels through
    /// the loop's remote queue and the loop answers at its next turn,
    /// between two polls (so no task is [`TaskState::Running`] in it). A
    /// loop that has shut down, or shuts down before answering, gives
    /// [`LoopClosed`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the [`AllTasks`] answer before it arrives loses nothing but the
    /// answer: the loop still takes its snapshot, and the snapshot is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let asker = std::thread::spawn(move || handle.all_tasks().wait().unwrap());
    /// rt.block_on(async {
    ///     let worker = brigade::spawn_named("worker", std::future::pending::<()>());
    ///     // Keep the loop turning until the other thread has its answer.
    ///     while !asker.is_finished() {
    ///         brigade::yield_now().await;
    ///     }
    ///     worker.abort();
    /// });
    /// let tasks = asker.join().unwrap();
    /// assert!(tasks.iter().all(|t| t.name() == Some("worker")));
    /// ```
    pub fn all_tasks(&self) -> AllTasks {
        if context::is_current(&self.shared) == Some(true) {
            let now = scheduler::current("Handle::all_tasks").all_tasks();
            return AllTasks {
                answer: Answer::Ready(Some(now)),
            };
        }
        let (tx, rx) = oneshot::channel();
        let ask = move || {
            let _ = tx.send(scheduler::current("Handle::all_tasks").all_tasks());
        };
        // A closed loop drops `ask`, and with it `tx`: the receiver then
        // reports the loop closed.
        let _ = scheduler::call_soon(&self.shared, Box::new(ask));
        AllTasks {
            answer: Answer::Asked(rx),
        }
    }
}

/// The answer of [`Handle::all_tasks`]: a future, or [`wait`](Self::wait)
/// for it from a thread that runs no loop.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let handle = brigade::Handle::current();
///     let tasks: Vec<_> = handle.all_tasks().await.unwrap();
///     assert!(tasks.is_empty());
/// });
/// ```
#[must_use = "the answer comes only if awaited or waited for"]
pub struct AllTasks {
    answer: Answer,
}

enum Answer {
    Ready(Option<Vec<TaskInfo>>),
    Asked(oneshot::Receiver<Vec<TaskInfo>>),
}

impl AllTasks {
    /// Blocks the current thread until the loop answers. Never call this on
    /// a loop's thread for another loop (it would stop the calling loop,
    /// and two loops asking each other would wait for ever): await instead.
    ///
    /// # Errors
    ///
    /// [`LoopClosed`] if the loop shut down before it answered.
    ///
    /// # Panics
    ///
    /// On an event loop's thread, if the answer has to be waited for (asking a
    /// loop about itself is answered at once, anywhere).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// drop(rt);
    /// assert!(handle.all_tasks().wait().is_err()); // the loop has shut down
    /// ```
    pub fn wait(self) -> Result<Vec<TaskInfo>, LoopClosed<()>> {
        match self.answer {
            Answer::Ready(tasks) => tasks.ok_or(LoopClosed(())),
            Answer::Asked(rx) => rx.recv_blocking().map_err(|_| LoopClosed(())),
        }
    }
}

impl Future for AllTasks {
    type Output = Result<Vec<TaskInfo>, LoopClosed<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.answer {
            Answer::Ready(tasks) => Poll::Ready(tasks.take().ok_or(LoopClosed(()))),
            Answer::Asked(rx) => Pin::new(rx).poll(cx).map(|r| r.map_err(|_| LoopClosed(()))),
        }
    }
}

impl fmt::Debug for AllTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllTasks(..)")
    }
}
