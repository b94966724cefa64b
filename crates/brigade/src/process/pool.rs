//! [`ProcessPool`]: worker processes fed from one task queue; Python's
//! `multiprocessing.Pool` and `concurrent.futures.ProcessPoolExecutor` in
//! one.
//!
//! Each worker is a child serving calls one after another over its own
//! channel, driven by a thread of the parent that takes a task from the
//! queue, sends it, and waits for the reply. Because the driver knows which
//! task its worker runs, a worker that dies (killed, aborted, segfault,
//! stack overflow) fails exactly that task, with
//! [`ProcessError::WorkerDied`] naming the pid and the cause; the driver
//! starts a new worker and goes on with the queue. A task is handed to a
//! worker once: if the send itself fails the worker never saw it, and it
//! goes to a new worker; once sent, it is answered with its result or its
//! error, never run again.
//!
//! `map` splits its input into chunks (Python's rule: about four chunks per
//! worker) so that small tasks do not pay a round trip each.
//!
//! ```
//! use brigade::process::ProcessPool;
//!
//! fn square(n: u64) -> u64 {
//!     n * n
//! }
//!
//! let pool = ProcessPool::new(2).unwrap();
//! assert_eq!(pool.map(square, 1..=5).unwrap(), [1, 4, 9, 16, 25]);
//! let task = pool.submit(square, (7,));
//! assert_eq!(task.wait().unwrap(), 49);
//! pool.close();
//! pool.join();
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::child::{Call, Hello};
use super::error::{Exit, ProcessError, StartError};
use super::frame;
use super::function::{Callable, FnRef};
use super::handle::{decode_reply, prepare};
use super::socket::{Message, RecvError};
use super::spawn::{Child, StartMethod};
use super::transfer::Encoded;
use crate::sync::oneshot;

type Reply = Box<dyn FnOnce(Result<(u32, Message), ProcessError>) + Send>;

/// One queued task.
struct Job {
    function: FnRef,
    args: Encoded,
    reply: Reply,
}

/// A pool of worker processes fed from one task queue (Python's `Pool` and
/// `ProcessPoolExecutor`).
///
/// A worker that dies (killed, aborted, segfault, stack overflow) fails
/// only the task it was running, with [`ProcessError::WorkerDied`] naming
/// its pid and the cause; the pool starts a replacement and runs the rest.
/// No task is lost or run twice. `map` and `starmap` split their input into
/// about four chunks per worker. Dropping the pool finishes the queued
/// tasks first (as `shutdown(wait=True)`); [`terminate`](Self::terminate)
/// stops at once.
///
/// ```
/// use brigade::process::{ProcessError, ProcessPool};
///
/// fn risky(n: i32) -> i32 {
///     if n == 2 {
///         std::process::abort();
///     }
///     n * 10
/// }
///
/// let pool = ProcessPool::new(2).unwrap();
/// let tasks: Vec<_> = (1..=3).map(|n| pool.submit(risky, (n,))).collect();
/// let results: Vec<_> = tasks.into_iter().map(|t| t.wait()).collect();
/// assert_eq!(results[0].as_ref().unwrap(), &10);
/// assert!(matches!(results[1], Err(ProcessError::WorkerDied { .. })));
/// assert_eq!(results[2].as_ref().unwrap(), &30);
/// ```
pub struct ProcessPool {
    shared: Arc<Shared>,
    drivers: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    config: Config,
}

struct State {
    queue: VecDeque<Job>,
    closed: bool,
    terminated: bool,
    /// The worker each driver runs, so `terminate` can kill it.
    workers: Vec<Option<Arc<Child>>>,
}

struct Config {
    method: StartMethod,
    max_tasks_per_child: Option<usize>,
    task_timeout: Option<Duration>,
    initializer: Option<(FnRef, Encoded)>,
}

/// Configures a [`ProcessPool`].
pub struct PoolBuilder {
    processes: usize,
    config: Config,
    error: Option<StartError>,
}

impl PoolBuilder {
    /// The number of workers (at least one; the default is the number of
    /// CPUs).
    pub fn processes(mut self, n: usize) -> PoolBuilder {
        self.processes = n.max(1);
        self
    }

    /// The start method of the workers.
    pub fn start_method(mut self, method: StartMethod) -> PoolBuilder {
        self.config.method = method;
        self
    }

    /// Replaces a worker after it has run `n` tasks (Python's
    /// `maxtasksperchild`).
    pub fn max_tasks_per_child(mut self, n: usize) -> PoolBuilder {
        self.config.max_tasks_per_child = Some(n.max(1));
        self
    }

    /// Fails a task that runs longer than `limit` with
    /// [`ProcessError::TimedOut`], killing its worker (which is replaced).
    pub fn task_timeout(mut self, limit: Duration) -> PoolBuilder {
        self.config.task_timeout = Some(limit);
        self
    }

    /// Runs `f(args..)` in each worker when it starts. If it fails, the
    /// task the worker was started for fails with the initializer's error.
    pub fn initializer<F, Args>(mut self, f: F, args: Args) -> PoolBuilder
    where
        F: Callable<Args, Output = ()>,
        Args: Serialize + DeserializeOwned,
    {
        let _ = f;
        match prepare(FnRef::single::<F, Args>(), &args) {
            Ok(init) => self.config.initializer = Some(init),
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// Starts the pool's drivers (workers start with their first task).
    pub fn build(self) -> Result<ProcessPool, StartError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
                terminated: false,
                workers: vec![None; self.processes],
            }),
            work: Condvar::new(),
            config: self.config,
        });
        let mut drivers = Vec::with_capacity(self.processes);
        for index in 0..self.processes {
            let shared = shared.clone();
            let driver = std::thread::Builder::new()
                .name(format!("brigade-pool-{index}"))
                .spawn(move || drive(&shared, index))
                .map_err(StartError::Io)?;
            drivers.push(driver);
        }
        Ok(ProcessPool {
            shared,
            drivers: Mutex::new(drivers),
            size: self.processes,
        })
    }
}

impl ProcessPool {
    /// A pool of `processes` workers with the default settings.
    pub fn new(processes: usize) -> Result<ProcessPool, StartError> {
        ProcessPool::builder().processes(processes).build()
    }

    /// Configures a pool.
    pub fn builder() -> PoolBuilder {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        PoolBuilder {
            processes: cpus,
            config: Config {
                method: StartMethod::default(),
                max_tasks_per_child: None,
                task_timeout: None,
                initializer: None,
            },
            error: None,
        }
    }

    /// The number of workers.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Queues `f(args..)`; the returned [`PoolTask`] can be awaited on an
    /// event loop or waited for from plain code.
    pub fn submit<F, Args, R>(&self, f: F, args: Args) -> PoolTask<R>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let _ = f;
        let (tx, rx) = oneshot::channel();
        let reply: Reply = Box::new(move |r| {
            let _ = tx.send(r.and_then(|(pid, m)| decode_reply::<R>(pid, m)));
        });
        match prepare(FnRef::single::<F, Args>(), &args) {
            Ok((function, args)) => self.enqueue(Job {
                function,
                args,
                reply,
            }),
            Err(e) => reply(Err(ProcessError::Start(e))),
        }
        PoolTask { rx }
    }

    /// `f(args..)` in a worker, waiting for the result (Python's `apply`).
    pub fn apply<F, Args, R>(&self, f: F, args: Args) -> Result<R, ProcessError>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit(f, args).wait()
    }

    /// `f(x)` for every item, in order; the first error is returned.
    pub fn map<F, A, R, I>(&self, f: F, items: I) -> Result<Vec<R>, ProcessError>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.starmap(f, items.into_iter().map(|a| (a,)))
    }

    /// `f(a, b, ..)` for every argument tuple, in order (Python's
    /// `starmap`); the first error is returned.
    pub fn starmap<F, Args, R, I>(&self, f: F, items: I) -> Result<Vec<R>, ProcessError>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = Args>,
    {
        let items: Vec<Args> = items.into_iter().collect();
        let chunk = items.len().div_ceil(4 * self.size).max(1);
        self.imap_chunks(f, items, chunk, true).collect()
    }

    /// `f(x)` for every item, yielded in order as results arrive
    /// (Python's `imap` with `chunksize=1`).
    pub fn imap<F, A, R, I>(&self, f: F, items: I) -> Imap<R>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.imap_chunks(f, items.into_iter().map(|a| (a,)).collect(), 1, true)
    }

    /// `f(x)` for every item, yielded in the order they finish.
    pub fn imap_unordered<F, A, R, I>(&self, f: F, items: I) -> Imap<R>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.imap_chunks(f, items.into_iter().map(|a| (a,)).collect(), 1, false)
    }

    fn imap_chunks<F, Args, R>(
        &self,
        f: F,
        items: Vec<Args>,
        chunk: usize,
        ordered: bool,
    ) -> Imap<R>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let _ = f;
        let total = items.len();
        let (tx, rx) = mpsc::channel::<(usize, Result<Vec<R>, ProcessError>)>();
        let function = FnRef::batch::<F, Args>();
        let mut chunks = 0;
        let mut iter = items.into_iter().peekable();
        while iter.peek().is_some() {
            let batch: Vec<Args> = iter.by_ref().take(chunk).collect();
            let index = chunks;
            chunks += 1;
            let tx = tx.clone();
            let reply: Reply = Box::new(move |r| {
                let decoded = r.and_then(|(pid, m)| decode_reply::<Vec<R>>(pid, m));
                let _ = tx.send((index, decoded));
            });
            match prepare(function, &batch) {
                Ok((function, args)) => self.enqueue(Job {
                    function,
                    args,
                    reply,
                }),
                Err(e) => reply(Err(ProcessError::Start(e))),
            }
        }
        Imap {
            rx,
            ordered,
            next_chunk: 0,
            chunks,
            parked: Default::default(),
            ready: VecDeque::with_capacity(total.min(1024)),
        }
    }

    fn enqueue(&self, job: Job) {
        let mut state = self.shared.lock();
        if state.closed || state.terminated {
            drop(state);
            (job.reply)(Err(ProcessError::PoolClosed));
            return;
        }
        state.queue.push_back(job);
        drop(state);
        self.shared.work.notify_one();
    }

    /// Accepts no more tasks; queued ones still run.
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }

    /// Waits for the workers to finish the queued tasks and exit. Call
    /// [`close`](Self::close) (or [`terminate`](Self::terminate)) first, as
    /// in Python; `join` closes the pool itself if needed.
    pub fn join(&self) {
        self.close();
        let drivers: Vec<_> =
            std::mem::take(&mut *self.drivers.lock().unwrap_or_else(|e| e.into_inner()));
        for d in drivers {
            let _ = d.join();
        }
    }

    /// Kills the workers now; queued and running tasks fail with
    /// [`ProcessError::PoolClosed`].
    pub fn terminate(&self) {
        let (jobs, workers) = {
            let mut state = self.shared.lock();
            state.terminated = true;
            state.closed = true;
            let jobs: Vec<Job> = state.queue.drain(..).collect();
            let workers: Vec<Arc<Child>> = state.workers.iter().flatten().cloned().collect();
            (jobs, workers)
        };
        self.shared.work.notify_all();
        for w in workers {
            let _ = w.signal(libc::SIGKILL);
        }
        for job in jobs {
            (job.reply)(Err(ProcessError::PoolClosed));
        }
        self.join();
    }

    /// The pids of the workers running now.
    pub fn pids(&self) -> Vec<u32> {
        self.shared
            .lock()
            .workers
            .iter()
            .flatten()
            .map(|c| c.pid())
            .collect()
    }
}

impl Drop for ProcessPool {
    /// Finishes the queued tasks, then stops the workers (as
    /// `ProcessPoolExecutor.shutdown(wait=True)`).
    fn drop(&mut self) {
        self.join();
    }
}

impl fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPool")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next job, or `None` when the driver should stop.
    fn next_job(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if state.terminated {
                return None;
            }
            if let Some(job) = state.queue.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state = self.work.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn set_worker(&self, index: usize, child: Option<Arc<Child>>) {
        self.lock().workers[index] = child;
    }

    fn terminated(&self) -> bool {
        self.lock().terminated
    }
}

/// A worker and how many tasks it has run.
struct Worker {
    child: Arc<Child>,
    done: usize,
}

/// The driver thread of worker slot `index`.
fn drive(shared: &Shared, index: usize) {
    let mut worker: Option<Worker> = None;
    while let Some(job) = shared.next_job() {
        let (result, keep) = run_job(shared, index, &mut worker, &job);
        (job.reply)(result);
        if !keep {
            if let Some(w) = worker.take() {
                retire(&w.child);
            }
            shared.set_worker(index, None);
        }
    }
    if let Some(w) = worker.take() {
        retire(&w.child);
    }
    shared.set_worker(index, None);
}

/// Runs one job; returns its result and whether the worker may be kept.
fn run_job(
    shared: &Shared,
    index: usize,
    worker: &mut Option<Worker>,
    job: &Job,
) -> (Result<(u32, Message), ProcessError>, bool) {
    let config = &shared.config;
    let mut payload = match frame::to_payload(&Call {
        function: job.function,
    }) {
        Ok(p) => p,
        Err(e) => return (Err(ProcessError::Start(StartError::Encode(e))), true),
    };
    payload.extend_from_slice(&job.args.bytes);
    let fds = job.args.raw_fds();
    // A send that fails reached no worker: retry once on a fresh one.
    for attempt in 0..2 {
        if worker.is_none() {
            match start_worker(config) {
                Ok(w) => {
                    shared.set_worker(index, Some(w.child.clone()));
                    *worker = Some(w);
                }
                Err(e) => return (Err(e), false),
            }
            if shared.terminated() {
                return (Err(ProcessError::PoolClosed), false);
            }
        }
        let w = worker.as_mut().expect("started above");
        if let Err(e) = w.child.socket.send(&payload, &fds) {
            let pid = w.child.pid();
            retire(&w.child);
            *worker = None;
            shared.set_worker(index, None);
            if attempt == 1 {
                return (
                    Err(ProcessError::Channel {
                        pid,
                        source: frame::FrameError::Io(e),
                    }),
                    false,
                );
            }
            continue;
        }
        break;
    }
    let w = worker.as_mut().expect("sent above");
    let pid = w.child.pid();
    match w.child.socket.recv(config.task_timeout) {
        Ok(message) => {
            w.done += 1;
            let keep = config.max_tasks_per_child.is_none_or(|max| w.done < max);
            (Ok((pid, message)), keep)
        }
        Err(RecvError::Timeout) => {
            w.child.kill();
            (Err(ProcessError::TimedOut { pid }), false)
        }
        Err(RecvError::Closed) => {
            let status = w.child.wait(None).ok().flatten();
            if shared.terminated() {
                return (Err(ProcessError::PoolClosed), false);
            }
            let cause = status.map_or(Exit::Code(-1), Exit::from);
            (Err(ProcessError::WorkerDied { pid, cause }), false)
        }
        Err(RecvError::Frame(source)) => {
            w.child.kill();
            (Err(ProcessError::Channel { pid, source }), false)
        }
    }
}

/// Starts a worker and runs the initializer in it.
fn start_worker(config: &Config) -> Result<Worker, ProcessError> {
    let hello = Hello::new(true, true).map_err(|e| ProcessError::Start(StartError::Io(e)))?;
    let child =
        Child::start(config.method, &hello).map_err(|e| ProcessError::Start(StartError::Io(e)))?;
    let child = Arc::new(child);
    if let Some((function, args)) = &config.initializer {
        let pid = child.pid();
        let mut payload = frame::to_payload(&Call {
            function: *function,
        })
        .map_err(|e| ProcessError::Start(StartError::Encode(e)))?;
        payload.extend_from_slice(&args.bytes);
        let sent = child.socket.send(&payload, &args.raw_fds());
        let reply = match sent {
            Ok(()) => child.socket.recv(None),
            Err(e) => Err(RecvError::Frame(frame::FrameError::Io(e))),
        };
        let result = match reply {
            Ok(message) => decode_reply::<()>(pid, message),
            Err(_) => Err(ProcessError::WorkerDied {
                pid,
                cause: child.kill().map_or(Exit::Code(-1), Exit::from),
            }),
        };
        if let Err(e) = result {
            child.kill();
            return Err(match e {
                ProcessError::Panicked { pid, message } => ProcessError::Panicked {
                    pid,
                    message: format!("the pool's initializer panicked: {message}"),
                },
                other => other,
            });
        }
    }
    Ok(Worker { child, done: 0 })
}

/// Stops a worker: closing its channel makes it exit; then reap it.
fn retire(child: &Child) {
    child.shutdown();
    if child
        .wait(Some(Duration::from_secs(5)))
        .ok()
        .flatten()
        .is_none()
    {
        child.kill();
    }
}

/// A task submitted to a [`ProcessPool`]: `.await` it on an event loop,
/// or [`wait`](Self::wait) for it from plain code.
pub struct PoolTask<R> {
    rx: oneshot::Receiver<Result<R, ProcessError>>,
}

impl<R> PoolTask<R> {
    /// Blocks until the task finishes. Do not call it from a task on an
    /// event loop: await the `PoolTask` instead.
    pub fn wait(self) -> Result<R, ProcessError> {
        self.rx
            .recv_blocking()
            .unwrap_or(Err(ProcessError::PoolClosed))
    }

    /// Waits at most `timeout`; on time-out the task is handed back.
    pub fn wait_timeout(self, timeout: Duration) -> Result<Result<R, ProcessError>, PoolTask<R>> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(oneshot::RecvTimeoutError::Closed) => Ok(Err(ProcessError::PoolClosed)),
            Err(oneshot::RecvTimeoutError::Timeout(rx)) => Err(PoolTask { rx }),
        }
    }

    /// Whether the result is in.
    pub fn is_done(&self) -> bool {
        self.rx.is_ready()
    }
}

impl<R> Future for PoolTask<R> {
    type Output = Result<R, ProcessError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(ProcessError::PoolClosed)))
    }
}

impl<R> fmt::Debug for PoolTask<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolTask").finish_non_exhaustive()
    }
}

/// Results of [`ProcessPool::imap`] and [`ProcessPool::imap_unordered`].
pub struct Imap<R> {
    rx: mpsc::Receiver<(usize, Result<Vec<R>, ProcessError>)>,
    ordered: bool,
    next_chunk: usize,
    chunks: usize,
    parked: std::collections::BTreeMap<usize, Result<Vec<R>, ProcessError>>,
    ready: VecDeque<Result<R, ProcessError>>,
}

impl<R> Iterator for Imap<R> {
    type Item = Result<R, ProcessError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Some(r);
            }
            if self.next_chunk >= self.chunks {
                return None;
            }
            let chunk = if self.ordered {
                match self.parked.remove(&self.next_chunk) {
                    Some(c) => c,
                    None => {
                        let (index, c) = self.rx.recv().ok()?;
                        self.parked.insert(index, c);
                        continue;
                    }
                }
            } else {
                self.rx.recv().ok()?.1
            };
            self.next_chunk += 1;
            match chunk {
                Ok(values) => self.ready.extend(values.into_iter().map(Ok)),
                Err(e) => self.ready.push_back(Err(e)),
            }
        }
    }
}

impl<R> fmt::Debug for Imap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap").finish_non_exhaustive()
    }
}
