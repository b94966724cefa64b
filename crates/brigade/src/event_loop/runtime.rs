//! [`Runtime`]: one event loop, and the free functions that find it.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use super::context;
use super::join::{JoinError, JoinHandle};
use super::scheduler::{self, Core, Shared, next_task_id};
use super::slow::{SlowPollHook, SlowPolls};
use super::task::TaskId;
use crate::io::DriverKind;
use crate::sync::oneshot;
use crate::time::clock::Clock;
use crate::trace::Trace;

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

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::builder().virtual_clock(true).seed(7).build().unwrap();
/// assert!(rt.is_virtual());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    virtual_clock: bool,
    seed: Option<u64>,
    trace: Option<Arc<Trace>>,
    driver: Option<DriverKind>,
    orphaned_io_limit: Option<usize>,
    slow_callback_duration: Option<Option<Duration>>,
    on_slow_poll: Option<SlowPollSink>,
}

/// A [`Builder::on_slow_poll`] hook, in a form the builder can derive
/// `Debug` and `Clone` through.
#[derive(Clone)]
struct SlowPollSink(SlowPollHook);

impl fmt::Debug for SlowPollSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SlowPollSink(..)")
    }
}

impl Builder {
    /// Runs on a virtual clock: whenever every task waits, time jumps to the
    /// next timer's deadline instead of passing for real. See [`crate::time`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = brigade::time::Instant::now();
    ///     brigade::sleep(Duration::from_secs(3600)).await; // returns at once
    ///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
    /// });
    /// ```
    pub fn virtual_clock(mut self, on: bool) -> Builder {
        self.virtual_clock = on;
        self
    }

    /// Seeds the order of simultaneous events: timers that fire in the same
    /// tick are woken in an order shuffled by this seed. The same seed gives
    /// the same order on every run; without a seed the order is the order in
    /// which the timers were set.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // Two timers due at the same tick: the seed fixes their order.
    /// let order = |seed| {
    ///     let rt = brigade::Runtime::builder().virtual_clock(true).seed(seed).build().unwrap();
    ///     rt.block_on(async {
    ///         let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    ///         let tasks: Vec<_> = (0..4)
    ///             .map(|i| {
    ///                 let log = log.clone();
    ///                 brigade::spawn(async move {
    ///                     brigade::sleep(Duration::from_millis(5)).await;
    ///                     log.borrow_mut().push(i);
    ///                 })
    ///             })
    ///             .collect();
    ///         for t in tasks {
    ///             t.await.unwrap();
    ///         }
    ///         log.take()
    ///     })
    /// };
    /// assert_eq!(order(1), order(1));
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// Records the loop's events (spawns, polls, timer waits) into `trace`;
    /// see [`crate::trace`].
    ///
    /// # Examples
    ///
    /// ```
    /// let trace = brigade::trace::Trace::new();
    /// let rt = brigade::Runtime::builder().trace(&trace).build().unwrap();
    /// rt.block_on(async { brigade::spawn(async {}).await.unwrap() });
    /// assert!(!trace.events().is_empty());
    /// ```
    pub fn trace(mut self, trace: &Arc<Trace>) -> Builder {
        self.trace = Some(trace.clone());
        self
    }

    /// Chooses the I/O driver, overriding `BRIGADE_DRIVER` and the default
    /// (io_uring when the kernel allows it, epoll otherwise); see
    /// [`crate::io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::io::DriverKind;
    ///
    /// let rt = brigade::Runtime::builder().io_driver(DriverKind::Epoll).build().unwrap();
    /// assert_eq!(rt.io_driver(), DriverKind::Epoll);
    /// ```
    pub fn io_driver(mut self, kind: DriverKind) -> Builder {
        self.driver = Some(kind);
        self
    }

    /// Bounds the memory the loop's io_uring driver holds for file
    /// operations whose futures were dropped before the kernel completed
    /// them (the default is 64 MiB). Such buffers cannot be freed until the
    /// kernel is done with them; while they hold `bytes`, a new file
    /// operation waits (its task suspended) until completions free some.
    /// They may then exceed `bytes` by at most what operations still owned
    /// by their futures held when the limit was reached. Each orphaned
    /// operation counts its buffers plus 256 bytes of bookkeeping.
    /// [`Runtime::io_stats`] shows the current amount. The epoll driver
    /// holds no such buffers (its file operations run on threads).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().orphaned_io_limit(1 << 20).build().unwrap();
    /// rt.block_on(async {
    ///     for _ in 0..1000 {
    ///         // Started, then dropped at once while the kernel reads.
    ///         let _ = brigade::timeout(Duration::ZERO, brigade::fs::read("Cargo.toml")).await;
    ///     }
    /// });
    /// assert!(rt.io_stats().orphaned_bytes < 2 << 20);
    /// ```
    pub fn orphaned_io_limit(mut self, bytes: usize) -> Builder {
        self.orphaned_io_limit = Some(bytes);
        self
    }

    /// Reports a poll that keeps the loop busy longer than `threshold`
    /// (asyncio's `slow_callback_duration`): one warning naming the task
    /// (its [`spawn_named`](crate::spawn_named) name, else its id) and the
    /// time, to standard error or to [`on_slow_poll`](Self::on_slow_poll).
    /// `None` turns reports off. The default is 100 ms in debug builds and
    /// off in release builds, as asyncio reports slow callbacks only in
    /// debug mode. Polls are timed on the real clock, virtual clock or not.
    /// See [`SlowPoll`](crate::event_loop::SlowPoll).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder()
    ///     .slow_callback_duration(Some(Duration::from_millis(50)))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // Would print a warning naming the main future, after 60 ms.
    ///     // std::thread::sleep(Duration::from_millis(60));
    /// });
    /// ```
    pub fn slow_callback_duration(mut self, threshold: Option<Duration>) -> Builder {
        self.slow_callback_duration = Some(threshold);
        self
    }

    /// Sends reports of slow polls (see
    /// [`slow_callback_duration`](Self::slow_callback_duration)) to `hook`
    /// instead of standard error. It runs on the loop's thread, right after
    /// the slow poll; a panic in it is caught and ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::builder()
    ///     .on_slow_poll(|slow| eprintln!("{} took {:?}", slow.task, slow.duration))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_slow_poll(
        mut self,
        hook: impl Fn(&crate::event_loop::SlowPoll) + Send + Sync + 'static,
    ) -> Builder {
        self.on_slow_poll = Some(SlowPollSink(Arc::new(hook)));
        self
    }

    /// Builds the runtime on the current thread.
    ///
    /// # Errors
    /// When the I/O driver cannot be created: the forced driver is not
    /// available, `BRIGADE_DRIVER` holds an unknown name, or the process is
    /// out of file descriptors.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::builder().build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn build(self) -> std::io::Result<Runtime> {
        let core = Core::new(
            Clock::new(self.virtual_clock),
            self.seed,
            self.trace,
            self.driver,
            self.orphaned_io_limit
                .unwrap_or(crate::io::orphans::DEFAULT_LIMIT),
            SlowPolls::new(
                self.slow_callback_duration,
                self.on_slow_poll.map(|sink| sink.0),
            ),
        )?;
        Ok(Runtime {
            core: Rc::new(core),
        })
    }
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
            if shared.main_woken.swap(false, Ordering::AcqRel) {
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

/// A `Send + Sync` handle to an event loop: lets any thread submit work to
/// it, as asyncio's `call_soon_threadsafe` and `run_coroutine_threadsafe` do.
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let handle: brigade::Handle = rt.handle();
/// let worker = std::thread::spawn(move || {
///     handle.call_soon(|| println!("on the loop's thread")).unwrap();
///     handle.spawn(async { 2 + 2 })
/// });
/// let remote = worker.join().unwrap();
/// assert_eq!(rt.block_on(remote).unwrap(), 4);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(super) shared: Arc<Shared>,
}

/// The loop behind a [`Handle`] has shut down; the work is handed back.
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let handle = rt.handle();
/// drop(rt);
/// let err: brigade::event_loop::LoopClosed<()> = handle.call_soon(|| {}).unwrap_err();
/// assert_eq!(err.0, ());
/// ```
pub struct LoopClosed<T>(pub T);

impl<T> fmt::Debug for LoopClosed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoopClosed(..)")
    }
}

impl<T> fmt::Display for LoopClosed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the event loop has shut down")
    }
}

impl<T> std::error::Error for LoopClosed<T> {}

impl Handle {
    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    /// Outside of a running event loop; see [`try_current`](Self::try_current).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let handle = brigade::Handle::current();
    ///     std::thread::spawn(move || handle.call_soon(|| {}).unwrap()).join().unwrap();
    /// });
    /// ```
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|| {
            panic!("Handle::current must be called from a task on a brigade event loop")
        })
    }

    /// The handle of the loop running on this thread, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(brigade::Handle::try_current().is_none());
    /// brigade::run(async { assert!(brigade::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with(|core| {
            core.map(|core| Handle {
                shared: core.shared.clone(),
            })
        })
    }

    /// Runs `f` on the loop's thread at its next turn.
    ///
    /// # Errors
    ///
    /// [`LoopClosed`] if the loop has shut down (its runtime was dropped); `f`
    /// is dropped without running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// let rt = brigade::Runtime::new().unwrap();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let flag = ran.clone();
    /// rt.handle().call_soon(move || flag.store(true, Ordering::SeqCst)).unwrap();
    /// rt.block_on(brigade::yield_now());
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    pub fn call_soon<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<(), LoopClosed<()>> {
        if scheduler::call_soon(&self.shared, Box::new(f)) {
            Ok(())
        } else {
            Err(LoopClosed(()))
        }
    }

    /// Spawns `future` on the loop from any thread. The returned
    /// [`RemoteHandle`] can be awaited on any loop or waited for from plain
    /// code. If the loop has shut down, the handle reports cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let remote = handle.spawn(async { "from any thread" });
    /// assert_eq!(rt.block_on(remote).unwrap(), "from any thread");
    /// ```
    pub fn spawn<F>(&self, future: F) -> RemoteHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = next_task_id();
        let (tx, rx) = oneshot::channel();
        let start = move || {
            let core = scheduler::current("Handle::spawn");
            let task = core.spawn(future, id, None);
            // Forwarding through a second task keeps panics and cancellation
            // reported as the task's own JoinError.
            let forward = async move {
                let _ = tx.send(task.await);
            };
            drop(core.spawn(forward, next_task_id(), None));
        };
        let _ = scheduler::call_soon(&self.shared, Box::new(start));
        RemoteHandle { rx, id }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("loop", &self.shared.id)
            .finish()
    }
}

/// The result of [`Handle::spawn`]: await it, or [`join`](Self::join) it
/// from plain code.
///
/// # Examples
///
/// ```
/// let (tx, rx) = std::sync::mpsc::channel();
/// let (stop_tx, stop_rx) = brigade::sync::oneshot::channel::<()>();
/// let server = std::thread::spawn(move || {
///     brigade::run(async move {
///         tx.send(brigade::Handle::current()).unwrap();
///         let _ = stop_rx.await; // serve until told to stop
///     })
/// });
/// let loop_handle = rx.recv().unwrap();
/// let remote: brigade::event_loop::RemoteHandle<u32> = loop_handle.spawn(async { 9 });
/// assert_eq!(remote.join().unwrap(), 9); // blocks this thread, not the loop
/// stop_tx.send(()).unwrap();
/// server.join().unwrap();
/// ```
pub struct RemoteHandle<T> {
    rx: oneshot::Receiver<Result<T, JoinError>>,
    id: TaskId,
}

impl<T> RemoteHandle<T> {
    /// Blocks the current thread until the task finishes. Never call this on
    /// an event loop's thread (it would stop that loop): await instead.
    ///
    /// # Panics
    /// On an event loop's thread, where it would block every task of the
    /// loop: await the handle there.
    ///
    /// # Errors
    ///
    /// [`JoinError::Panicked`] if the task panicked; [`JoinError::Cancelled`] if
    /// it was cancelled, or its loop shut down before it finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let remote = rt.handle().spawn(async { 1 });
    /// drop(rt); // the loop shuts down before the task ever ran
    /// assert!(remote.join().unwrap_err().is_cancelled());
    /// ```
    #[track_caller]
    pub fn join(self) -> Result<T, JoinError> {
        super::context::assert_not_on_loop("RemoteHandle::join", "handle.await");
        let id = self.id;
        self.rx
            .recv_blocking()
            .unwrap_or(Err(JoinError::Cancelled(id)))
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let a = rt.handle().spawn(async {});
    /// let b = rt.handle().spawn(async {});
    /// assert_ne!(a.id(), b.id());
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }
}

impl<T> Future for RemoteHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        std::pin::Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(JoinError::Cancelled(id))))
    }
}

impl<T> fmt::Debug for RemoteHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteHandle")
            .field("id", &self.id)
            .finish()
    }
}
