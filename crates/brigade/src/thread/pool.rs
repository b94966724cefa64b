//! [`ThreadPool`]: Python's `concurrent.futures.ThreadPoolExecutor`.
//!
//! A fixed set of worker threads takes jobs from one FIFO queue (a
//! `VecDeque` behind a mutex, with a condition variable for idle workers
//! and one for submitters waiting for room). [`submit`](ThreadPool::submit)
//! queues one function and returns its [`Job`]; [`map`](ThreadPool::map)
//! runs a function over many items in parallel, in chunks and without a
//! job per item (see `batch.rs`), and returns the results in input order;
//! [`map_unordered`](ThreadPool::map_unordered) yields them as they
//! finish.
//!
//! ```
//! use brigade::thread::ThreadPool;
//!
//! let pool = ThreadPool::new().unwrap(); // one worker per core
//! let squares = pool.map(|x: u64| x * x, 1..=5).unwrap();
//! assert_eq!(squares, [1, 4, 9, 16, 25]);
//!
//! let job = pool.submit(|| "from a worker").unwrap();
//! assert_eq!(job.result().unwrap(), "from a worker");
//! pool.shutdown(true, false);
//! assert!(pool.submit(|| ()).is_err());
//! ```
//!
//! A job that panics fails its own [`Job`] only; its worker catches the
//! panic and takes the next job. With a
//! [queue bound](PoolBuilder::queue_bound), `submit` blocks while the queue
//! is full (backpressure) and [`try_submit`](ThreadPool::try_submit) hands
//! the function back instead.
//!
//! Workers are daemon [`Thread`]s named `ThreadPool-K_I` (Python:
//! `ThreadPoolExecutor-K_I`): the program's exit does not wait for an idle
//! pool. Dropping the pool shuts it down and waits for the queued jobs, as
//! leaving Python's `with ThreadPoolExecutor() as pool:` block does.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
// The queue is shared with `'static` worker threads built by brigade's
// Thread, which loom cannot run; its protocol is modelled through `job.rs`
// and `batch.rs`, whose loom tests cover the cross-thread hand-offs.
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::batch::Batch;
use super::builder::Builder;
use super::error::ThreadError;
use super::handle::Thread;
use super::job::{self, Job};
use super::registry;

type Task = Box<dyn FnOnce() + Send>;

struct Queue {
    tasks: VecDeque<(Task, bool)>,
    /// Queued tasks that count against the bound (jobs, not invitations).
    jobs: usize,
    idle: usize,
    shutdown: bool,
}

pub(crate) struct Shared {
    queue: Mutex<Queue>,
    work: Condvar,
    space: Condvar,
    bound: Option<usize>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Critical sections push, pop or flip a flag; none can panic midway.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn work_loop(&self) {
        let mut queue = self.lock();
        loop {
            if let Some((task, counted)) = queue.tasks.pop_front() {
                if counted {
                    queue.jobs -= 1;
                    if self.bound.is_some() {
                        self.space.notify_one();
                    }
                }
                drop(queue);
                // Jobs and invitations catch their own panics.
                task();
                queue = self.lock();
                continue;
            }
            if queue.shutdown {
                return;
            }
            queue.idle += 1;
            queue = self.work.wait(queue).unwrap_or_else(|e| e.into_inner());
            queue.idle -= 1;
        }
    }

    fn push(&self, mut queue: MutexGuard<'_, Queue>, task: Task, counted: bool) {
        queue.tasks.push_back((task, counted));
        queue.jobs += usize::from(counted);
        let wake = queue.idle > 0;
        drop(queue);
        if wake {
            self.work.notify_one();
        }
    }

    /// Queues a counted job, waiting for room if `block`; hands `f` back
    /// if the pool is shut down or (not blocking) full.
    pub(crate) fn submit_with<F>(
        &self,
        f: F,
        block: bool,
        make: impl FnOnce(F) -> Task,
    ) -> Result<(), SubmitError<F>> {
        let mut queue = self.lock();
        loop {
            if queue.shutdown {
                return Err(SubmitError::Shutdown(f));
            }
            match self.bound {
                Some(bound) if queue.jobs >= bound => {
                    if !block {
                        return Err(SubmitError::Full(f));
                    }
                    queue = self.space.wait(queue).unwrap_or_else(|e| e.into_inner());
                }
                _ => break,
            }
        }
        self.push(queue, make(f), true);
        Ok(())
    }

    /// Invites up to `helpers` idle or soon-idle workers into `batch`.
    /// Invitations bypass the bound: they are not jobs, and a late one
    /// costs a worker two atomic operations.
    pub(crate) fn invite(&self, batch: &crate::loom::sync::Arc<Batch>, helpers: usize) {
        let mut queue = self.lock();
        if queue.shutdown {
            return;
        }
        for _ in 0..helpers {
            let batch = batch.clone();
            queue
                .tasks
                .push_back((Box::new(move || batch.help()), false));
        }
        let wake = queue.idle.min(helpers);
        drop(queue);
        for _ in 0..wake {
            self.work.notify_one();
        }
    }
}

/// Why [`ThreadPool::submit`] or [`try_submit`](ThreadPool::try_submit)
/// did not queue a job; the function is handed back.
///
/// # Examples
/// ```
/// use brigade::thread::{SubmitError, ThreadPool};
///
/// let pool = ThreadPool::new().unwrap();
/// pool.shutdown(true, false);
/// match pool.submit(|| 42) {
///     Err(SubmitError::Shutdown(f)) => assert_eq!(f(), 42), // handed back
///     _ => unreachable!(),
/// }
/// ```
pub enum SubmitError<F> {
    /// The pool was shut down (Python: "cannot schedule new futures after
    /// shutdown").
    Shutdown(F),
    /// The queue is at its bound (only from `try_submit`).
    Full(F),
}

impl<F> SubmitError<F> {
    /// The function that was not queued.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// pool.shutdown(true, false);
    /// let f = pool.submit(|| "not lost").unwrap_err().into_inner();
    /// assert_eq!(f(), "not lost");
    /// ```
    pub fn into_inner(self) -> F {
        match self {
            SubmitError::Shutdown(f) | SubmitError::Full(f) => f,
        }
    }
}

impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Shutdown(_) => f.write_str("Shutdown(..)"),
            SubmitError::Full(_) => f.write_str("Full(..)"),
        }
    }
}

impl<F> fmt::Display for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Shutdown(_) => f.write_str("cannot submit a job: the pool is shut down"),
            SubmitError::Full(_) => f.write_str("cannot submit a job: the pool's queue is full"),
        }
    }
}

impl<F> std::error::Error for SubmitError<F> {}

/// Why a [`ThreadPool`] could not be built.
///
/// # Examples
/// ```
/// use brigade::thread::{PoolError, ThreadPool};
///
/// assert!(matches!(ThreadPool::builder().workers(0).build(), Err(PoolError::NoWorkers)));
/// assert!(matches!(ThreadPool::builder().queue_bound(0).build(), Err(PoolError::ZeroBound)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum PoolError {
    /// `workers(0)`: a pool needs at least one worker.
    NoWorkers,
    /// `queue_bound(0)`: a queue that holds nothing would never run a job.
    ZeroBound,
    /// A worker thread could not be started.
    Spawn(ThreadError),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::NoWorkers => f.write_str("a thread pool needs at least one worker"),
            PoolError::ZeroBound => f.write_str("a thread pool's queue bound must be at least 1"),
            PoolError::Spawn(e) => write!(f, "cannot start a pool worker: {e}"),
        }
    }
}

impl std::error::Error for PoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PoolError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// Options for a [`ThreadPool`].
///
/// # Examples
/// ```
/// let pool = brigade::thread::ThreadPool::builder()
///     .workers(2)
///     .queue_bound(16)
///     .name_prefix("baker")
///     .stack_size(1 << 20)
///     .build()
///     .unwrap();
/// let name = pool.submit(|| brigade::thread::current_thread().name().to_string()).unwrap();
/// assert!(name.result().unwrap().starts_with("baker_"));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until build is called"]
pub struct PoolBuilder {
    workers: Option<usize>,
    bound: Option<usize>,
    prefix: Option<String>,
    stack_size: Option<usize>,
}

impl PoolBuilder {
    /// How many worker threads (Python's `max_workers`). The default is
    /// the available parallelism (the number of cores this process may use).
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::builder().workers(3).build().unwrap();
    /// assert_eq!(pool.workers(), 3);
    /// ```
    pub fn workers(mut self, workers: usize) -> PoolBuilder {
        self.workers = Some(workers);
        self
    }

    /// Bounds the queue of submitted jobs not yet started: `submit` then
    /// blocks while `bound` jobs wait. Unbounded by default. (A job that
    /// submits to its own full pool waits for a worker to free a place; if
    /// every worker does that at once, none ever will.)
    ///
    /// # Examples
    /// ```
    /// use std::sync::mpsc;
    /// use brigade::thread::{SubmitError, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().workers(1).queue_bound(1).build().unwrap();
    /// let (go, gate) = mpsc::channel::<()>();
    /// let (started, running) = mpsc::channel();
    /// let busy = pool.submit(move || { started.send(()).unwrap(); gate.recv().unwrap() }).unwrap();
    /// running.recv().unwrap(); // the worker is busy now
    /// let queued = pool.submit(|| ()).unwrap(); // the one place in the queue
    /// assert!(matches!(pool.try_submit(|| ()), Err(SubmitError::Full(_))));
    /// go.send(()).unwrap();
    /// busy.result().unwrap();
    /// queued.result().unwrap();
    /// ```
    pub fn queue_bound(mut self, bound: usize) -> PoolBuilder {
        self.bound = Some(bound);
        self
    }

    /// The workers' name prefix (Python's `thread_name_prefix`): workers
    /// are named `prefix_0`, `prefix_1`, ...
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::builder().workers(1).name_prefix("io").build().unwrap();
    /// let job = pool.submit(|| brigade::thread::current_thread().name().to_string()).unwrap();
    /// assert_eq!(job.result().unwrap(), "io_0");
    /// ```
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> PoolBuilder {
        self.prefix = Some(prefix.into());
        self
    }

    /// The workers' stack size in bytes.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::builder().stack_size(8 << 20).build().unwrap();
    /// let job = pool.submit(|| [1u8; 4 << 20].iter().map(|&b| b as usize).sum::<usize>()).unwrap();
    /// assert_eq!(job.result().unwrap(), 4 << 20);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> PoolBuilder {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts the workers.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::builder().workers(1).build().unwrap();
    /// assert_eq!(pool.submit(|| 1).unwrap().result().unwrap(), 1);
    /// ```
    ///
    /// # Errors
    /// [`PoolError::NoWorkers`] for `workers(0)`, [`PoolError::ZeroBound`] for
    /// `queue_bound(0)`, [`PoolError::Spawn`] if a worker thread cannot start
    /// (the workers already started are stopped).
    pub fn build(self) -> Result<ThreadPool, PoolError> {
        let workers = match self.workers {
            Some(0) => return Err(PoolError::NoWorkers),
            Some(n) => n,
            None => default_workers(),
        };
        if self.bound == Some(0) {
            return Err(PoolError::ZeroBound);
        }
        static POOLS: AtomicUsize = AtomicUsize::new(0);
        let prefix = self
            .prefix
            .unwrap_or_else(|| format!("ThreadPool-{}", POOLS.fetch_add(1, Ordering::Relaxed)));
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                jobs: 0,
                idle: 0,
                shutdown: false,
            }),
            work: Condvar::new(),
            space: Condvar::new(),
            bound: self.bound,
        });
        let pool = ThreadPool {
            shared: shared.clone(),
            workers: Mutex::new(Vec::with_capacity(workers)),
            size: workers,
        };
        for i in 0..workers {
            let mut builder = Builder::new().name(format!("{prefix}_{i}")).daemon(true);
            if let Some(bytes) = self.stack_size {
                builder = builder.stack_size(bytes);
            }
            let shared = shared.clone();
            // On failure, dropping `pool` stops the workers already started.
            let worker = builder
                .spawn(move || shared.work_loop())
                .map_err(PoolError::Spawn)?;
            pool.lock_workers().push(worker);
        }
        Ok(pool)
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// A pool of worker threads, Python's `ThreadPoolExecutor`: `submit` one
/// function for a [`Job`], or `map` one over many items.
///
/// ```
/// let pool = brigade::thread::ThreadPool::builder().workers(2).build().unwrap();
/// assert_eq!(pool.submit(|| 1 + 1).unwrap().result().unwrap(), 2);
/// assert_eq!(pool.map(|x: u32| x * 10, [1, 2, 3]).unwrap(), [10, 20, 30]);
/// ```
pub struct ThreadPool {
    pub(crate) shared: Arc<Shared>,
    workers: Mutex<Vec<Thread<()>>>,
    size: usize,
}

impl ThreadPool {
    /// A pool with one worker per available core and an unbounded queue.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// assert!(pool.workers() >= 1);
    /// ```
    ///
    /// # Errors
    /// [`PoolError::Spawn`] if a worker thread cannot start.
    pub fn new() -> Result<ThreadPool, PoolError> {
        PoolBuilder::default().build()
    }

    /// Options for a pool.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::builder().workers(2).build().unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }

    /// How many workers the pool started with.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::builder().workers(4).build().unwrap();
    /// assert_eq!(pool.workers(), 4);
    /// ```
    pub fn workers(&self) -> usize {
        self.size
    }

    fn lock_workers(&self) -> MutexGuard<'_, Vec<Thread<()>>> {
        self.workers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `f` and returns its [`Job`], like `executor.submit(f)`.
    /// Blocks while a bounded queue is full. Fails, handing `f` back, once
    /// the pool is shut down.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// let jobs: Vec<_> = (1..=3).map(|n| pool.submit(move || n * 100).unwrap()).collect();
    /// let results: Vec<u32> = jobs.into_iter().map(|j| j.result().unwrap()).collect();
    /// assert_eq!(results, [100, 200, 300]);
    /// ```
    ///
    /// # Errors
    /// [`SubmitError::Shutdown`], holding `f`, once the pool is shut down.
    pub fn submit<F, T>(&self, f: F) -> Result<Job<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.queue_job(f, true)
    }

    /// Like [`submit`](Self::submit), but never blocks: a full queue hands
    /// `f` back as [`SubmitError::Full`].
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap(); // unbounded: never full
    /// let job = pool.try_submit(|| "queued").unwrap();
    /// assert_eq!(job.result().unwrap(), "queued");
    /// ```
    ///
    /// # Errors
    /// [`SubmitError::Full`] while a bounded queue is full,
    /// [`SubmitError::Shutdown`] once the pool is shut down; both hold `f`.
    pub fn try_submit<F, T>(&self, f: F) -> Result<Job<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.queue_job(f, false)
    }

    fn queue_job<F, T>(&self, f: F, block: bool) -> Result<Job<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let mut handle = None;
        self.shared.submit_with(f, block, |f| {
            let (job, runner) = job::job();
            handle = Some(job);
            Box::new(move || runner.run(f))
        })?;
        Ok(handle.expect("submit_with makes the task on success"))
    }

    /// Stops the pool, like `executor.shutdown(wait, cancel_futures)`: no
    /// new job is accepted; with `cancel_pending`, the jobs still queued
    /// are cancelled (their [`Job`]s report [`JobError::Cancelled`](super::JobError::Cancelled)),
    /// otherwise the workers finish them; with `wait`, returns once the
    /// workers have ended. Shutting down twice is harmless.
    ///
    /// Called from one of the pool's own workers with `wait`, it waits for
    /// the others only.
    ///
    /// # Examples
    /// ```
    /// use std::sync::mpsc;
    /// use brigade::thread::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).build().unwrap();
    /// let (go, gate) = mpsc::channel::<()>();
    /// let (started, running) = mpsc::channel();
    /// let busy = pool.submit(move || { started.send(()).unwrap(); gate.recv().unwrap() }).unwrap();
    /// running.recv().unwrap();
    /// let queued = pool.submit(|| ()).unwrap();
    /// pool.shutdown(false, true); // cancel what is queued; do not wait
    /// go.send(()).unwrap();
    /// assert!(busy.result().is_ok());
    /// assert!(queued.result().unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_pending: bool) {
        let cancelled: Vec<(Task, bool)> = {
            let mut queue = self.shared.lock();
            queue.shutdown = true;
            if cancel_pending {
                queue.jobs = 0;
                queue.tasks.drain(..).collect()
            } else {
                Vec::new()
            }
        };
        self.shared.work.notify_all();
        self.shared.space.notify_all();
        // Dropping an unrun job outside the lock reports its cancellation.
        drop(cancelled);
        if wait {
            let me = registry::get_ident();
            let workers = std::mem::take(&mut *self.lock_workers());
            for mut worker in workers {
                if worker.ident() != Some(me) {
                    // A worker never panics: its jobs catch their panics.
                    let _ = worker.join_blocking();
                }
            }
        }
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::thread::ThreadPool::new().unwrap();
    /// assert!(!pool.is_shutdown());
    /// pool.shutdown(false, false);
    /// assert!(pool.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shared.lock().shutdown
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.shared.lock();
        f.debug_struct("ThreadPool")
            .field("workers", &self.size)
            .field("queued", &queue.jobs)
            .field("shutdown", &queue.shutdown)
            .finish()
    }
}
