//! [`Runtime`]: one event loop, and the free functions that find it.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Wake, Waker};

use super::builder::Builder;
use super::context;
use super::handle::Handle;
use super::join::JoinHandle;
use super::scheduler::{self, Core, Shared, next_task_id};
use crate::io::DriverKind;

/// Runs `future` to completion on a new event loop and returns its output,
/// as `asyncio.run(main())` does. Tasks still running when it returns are
/// cancelled (their destructors run) before `run` returns.
///
/// # Panics
/// If called from inside a running event loop (await the future instead,
/// or [`spawn`] it), or if `future` panics.
///
/// # Examples
///
/// ```
/// let answer = brigade::run(async { 40 + 2 });
/// assert_eq!(answer, 42);
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = Runtime::new().unwrap_or_else(|e| panic!("cannot start the event loop: {e}"));
    runtime.block_on(future)
}

/// Runs `loops` event loops, one per thread, each driving the future that
/// `make` returns for its index, and returns their outputs in index order:
/// the way to use several cores (a loop is single-threaded by design).
/// Servers give each loop its own listener on one port with
/// `ListenOptions::reuse_port` (`SO_REUSEPORT`), and the kernel spreads the
/// connections.
///
/// `make` may borrow from the caller: the threads are scoped and all are
/// joined before this returns. A panic in a loop is re-raised here once
/// every loop has ended.
///
/// # Examples
///
/// ```
/// let sums = brigade::event_loop::run_on_threads(2, |i| async move {
///     let tasks: Vec<_> = (0..100u64).map(|j| brigade::spawn(async move { j })).collect();
///     let mut sum = i as u64 * 1000;
///     for t in tasks {
///         sum += t.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sums, [4950, 5950]);
/// ```
pub fn run_on_threads<T, F, Fut>(loops: usize, make: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> Fut + Sync,
    Fut: Future<Output = T>,
{
    let make = &make;
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..loops)
            .map(|i| {
                std::thread::Builder::new()
                    .name(format!("brigade-loop-{i}"))
                    .spawn_scoped(scope, move || run(make(i)))
                    .unwrap_or_else(|e| panic!("cannot start the thread of loop {i}: {e}"))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Spawns `future` as a task on the current event loop. The task starts
/// running at the loop's next turn, concurrently with the caller; the
/// returned [`JoinHandle`] awaits its output.
///
/// The future need not be `Send`: a task never leaves its loop's thread.
///
/// # Panics
/// Outside of a running event loop.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let task = brigade::spawn(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    scheduler::current("brigade::spawn").spawn(future, next_task_id(), None)
}

/// Like [`spawn`], with a name that shows in traces and in
/// [`JoinHandle::name`].
///
/// # Panics
///
/// Outside of a running event loop, as [`spawn`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let task = brigade::spawn_named("fetch", async { "page" });
///     assert_eq!(task.name(), Some("fetch"));
///     assert_eq!(task.await.unwrap(), "page");
/// });
/// ```
pub fn spawn_named<F>(name: impl Into<String>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    let name = name.into().into_boxed_str();
    scheduler::current("brigade::spawn_named").spawn(future, next_task_id(), Some(name))
}

/// An event loop: a single-threaded executor with its timers.
///
/// A runtime belongs to the thread that built it (it is not `Send`). To use
/// several cores, run one loop per thread ([`run_on_threads`] does it) and
/// pass work between them with [`Handle`]s and channels.
///
/// Dropping a runtime cancels the tasks it still holds.
///
/// # Examples
///
/// ```
/// let results = brigade::event_loop::run_on_threads(2, |i| async move { i * 10 });
/// assert_eq!(results, [0, 10]);
/// ```
pub struct Runtime {
    pub(super) core: Rc<Core>,
}

/// A misuse of [`Runtime::try_block_on`].
///
/// # Examples
///
/// ```
/// use brigade::event_loop::RuntimeError;
///
/// let outer = brigade::Runtime::new().unwrap();
/// let inner = brigade::Runtime::new().unwrap();
/// outer.block_on(async {
///     assert_eq!(inner.try_block_on(async { 1 }), Err(RuntimeError::Nested));
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeError {
    /// `block_on` was called while an event loop was already running on
    /// this thread.
    Nested,
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Nested => f.write_str(
                "cannot run an event loop inside a running event loop: \
                 await the future, or brigade::spawn it, instead of running it",
            ),
        }
    }
}

impl std::error::Error for RuntimeError {}

impl Runtime {
    /// A runtime with the real clock.
    ///
    /// # Errors
    ///
    /// When the I/O driver cannot be created; see [`Builder::build`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// assert!(!rt.is_virtual());
    /// ```
    pub fn new() -> std::io::Result<Runtime> {
        Builder::default().build()
    }

    /// Configures a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// assert!(rt.is_virtual());
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Runs `future` to completion, running the loop's tasks meanwhile.
    /// Tasks that are still alive when it returns stay on the loop and
    /// run again at the next `block_on`, or are cancelled when the runtime
    /// is dropped.
    ///
    /// # Panics
    /// If an event loop is already running on this thread, or if `future`
    /// panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let n = rt.block_on(async {
    ///     let task = brigade::spawn(async { 20 });
    ///     task.await.unwrap() + 1
    /// });
    /// assert_eq!(n, 21);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.try_block_on(future).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`block_on`](Self::block_on), but reports a nested call as an
    /// error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`RuntimeError::Nested`] if an event loop already runs on this thread;
    /// `future` is then dropped without being polled.
    ///
    /// # Panics
    ///
    /// If `future` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// assert_eq!(rt.try_block_on(async { 5 }), Ok(5));
    /// ```
    pub fn try_block_on<F: Future>(&self, future: F) -> Result<F::Output, RuntimeError> {
        let _enter = context::enter(self.core.clone(), false).ok_or(RuntimeError::Nested)?;
        let core = &self.core;
        let shared = &core.shared;
        let waker = Waker::from(Arc::new(MainWaker(shared.clone())));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        shared.main_woken.store(true, Ordering::Release);
        loop {
            if super::scheduler::claim(&shared.main_woken) {
                let polled = core.slow.watch(
                    || "the main future".to_string(),
                    || future.as_mut().poll(&mut cx),
                );
                if let Poll::Ready(output) = polled {
                    return Ok(output);
                }
            }
            core.run_batch();
            core.fire_timers();
            if core.is_idle() {
                core.park();
                core.fire_timers();
            } else {
                core.poll_io_if_due();
            }
        }
    }

    /// Spawns a task on this loop; it runs during `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let task = rt.spawn(async { "spawned before the loop runs" });
    /// let out = rt.block_on(task).unwrap();
    /// assert_eq!(out, "spawned before the loop runs");
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        self.core.spawn(future, next_task_id(), None)
    }

    /// A handle through which any thread can reach this loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let remote = std::thread::spawn(move || handle.spawn(async { 3 })).join().unwrap();
    /// assert_eq!(rt.block_on(remote).unwrap(), 3);
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.core.shared.clone(),
        }
    }

    /// Whether the loop runs on the virtual clock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!brigade::Runtime::new().unwrap().is_virtual());
    /// ```
    pub fn is_virtual(&self) -> bool {
        self.core.clock.is_virtual()
    }

    /// The I/O driver this loop uses.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::io::DriverKind;
    ///
    /// let rt = brigade::Runtime::new().unwrap();
    /// assert!(matches!(rt.io_driver(), DriverKind::Epoll | DriverKind::Uring));
    /// ```
    pub fn io_driver(&self) -> DriverKind {
        self.core.driver.kind()
    }

    /// What the loop's I/O driver holds: registered descriptors and
    /// io_uring operations in flight (for leak checks and monitoring).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// assert_eq!(rt.io_stats().in_flight, 0);
    /// ```
    pub fn io_stats(&self) -> crate::io::IoStats {
        self.core.driver.stats()
    }

    /// How many tasks are alive (spawned and not finished).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let task = rt.spawn(async {});
    /// assert_eq!(rt.live_tasks(), 1);
    /// rt.block_on(task).unwrap();
    /// assert_eq!(rt.live_tasks(), 0);
    /// ```
    pub fn live_tasks(&self) -> usize {
        self.core.live_tasks()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Destructors of cancelled futures may use the loop (cancel timers,
        // spawn), so it is current while they run, even inside another loop.
        let _enter = context::enter(self.core.clone(), true);
        self.core.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("virtual_clock", &self.is_virtual())
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

/// Wakes the future given to `block_on`.
struct MainWaker(Arc<Shared>);

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.main_woken.store(true, Ordering::Release);
        if context::is_current(&self.0) != Some(true) {
            self.0.unpark();
        }
    }
}
