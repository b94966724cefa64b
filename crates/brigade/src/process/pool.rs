//! [`ProcessPool`]: worker processes fed from one task queue; Python's
//! `multiprocessing.Pool` and `concurrent.futures.ProcessPoolExecutor` in
//! one.
//!
//! Each worker is a child serving calls one after another over its own
//! channel, driven by a thread of the parent (see `driver.rs`). Because the
//! driver knows which task its worker runs, a worker that dies (killed,
//! aborted, segfault, stack overflow) fails exactly that task, with
//! [`ProcessError::WorkerDied`] naming the pid and the cause; the driver
//! starts a new worker and goes on with the queue. A worker counts each
//! task it starts in a word of memory it shares with its driver (see
//! `progress.rs`), read only when the worker has died: a worker found dead
//! before it counted a task never ran it, and the task goes to a fresh
//! worker; a counted task is answered once, with its result or its error,
//! and never run again.
//!
//! `map` splits its input into chunks (Python's rule: about four chunks per
//! worker) so that small tasks do not pay a round trip each; while a worker
//! runs one chunk, its driver sends it the next, so the worker goes on
//! without waiting for the driver in between. A chunk cannot be cancelled,
//! so taking one early changes nothing a caller sees; a task from `submit`
//! is never taken early, so [`PoolTask::cancel`] reaches it while it is
//! queued.
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

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::driver::{Deliver, Job, Shared};
use super::error::{ProcessError, StartError};
use super::function::{Callable, FnRef};
use super::handle::prepare;
use super::join::decode_reply;
use super::pool_builder::PoolBuilder;
use super::spawn::Child;
use super::task::{BeforeDone, ChunkReply, Completer, Imap, PoolTask, pool_task};

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
/// A worker keeps up to 64 MiB of the memory its tasks free for the tasks
/// after them, where glibc by default gives back all but 128 KiB at once:
/// the next task of the same size then takes no page faults. The price is
/// that an idle worker may hold that much. Use
/// [`max_tasks_per_child`](super::PoolBuilder::max_tasks_per_child)
/// to bound what a long-lived worker holds.
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

impl ProcessPool {
    /// The pool that [`PoolBuilder::build`] has started.
    pub(super) fn from_parts(
        shared: Arc<Shared>,
        drivers: Mutex<Vec<JoinHandle<()>>>,
        size: usize,
    ) -> ProcessPool {
        ProcessPool {
            shared,
            drivers,
            size,
        }
    }

    /// A pool of `processes` workers with the default settings; zero
    /// workers is [`StartError::NoWorkers`].
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::process::ProcessPool::new(2).unwrap();
    /// assert_eq!(pool.size(), 2);
    /// ```
    ///
    /// # Errors
    /// [`StartError::NoWorkers`] for zero processes.
    pub fn new(processes: usize) -> Result<ProcessPool, StartError> {
        ProcessPool::builder().processes(processes).build()
    }

    /// Configures a pool.
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::process::ProcessPool::builder().processes(1).build().unwrap();
    /// assert_eq!(pool.size(), 1);
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder::new()
    }

    /// The number of workers (a cluster pool, cargo feature `cluster`,
    /// counts its `Cluster::window` as workers).
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::process::ProcessPool::new(4).unwrap();
    /// assert_eq!(pool.size(), 4);
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }

    /// Queues `f(args..)`; the returned [`PoolTask`] can be awaited on an
    /// event loop or waited for from plain code.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::ProcessPool;
    ///
    /// fn add(a: i32, b: i32) -> i32 {
    ///     a + b
    /// }
    ///
    /// let pool = ProcessPool::new(2).unwrap();
    /// let tasks: Vec<_> = (0..3).map(|i| pool.submit(add, (i, 10))).collect();
    /// let sums: Vec<i32> = tasks.into_iter().map(|t| t.wait().unwrap()).collect();
    /// assert_eq!(sums, [10, 11, 12]);
    /// ```
    pub fn submit<F, Args, R>(&self, f: F, args: Args) -> PoolTask<R>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit_with(f, args, None)
    }

    /// `f(args..)` in a worker, with callbacks (Python's
    /// `pool.apply_async(f, args, callback=.., error_callback=..)`):
    /// `callback` gets the result, `error_callback` the error, on the
    /// pool's thread that received it and before the returned
    /// [`PoolTask`] is done, so either has run once `wait` returns. Keep
    /// them short: they hold up that thread, as Python's hold up its result
    /// handler.
    ///
    /// Differences from Python: the callbacks see the value by reference
    /// (the task still hands it to whoever waits for it); a task cancelled
    /// before it ran (Python's `AsyncResult` cannot be) calls neither.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use brigade::process::ProcessPool;
    ///
    /// fn halve(n: u32) -> u32 {
    ///     assert!(n % 2 == 0, "odd");
    ///     n / 2
    /// }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// let (etx, erx) = mpsc::channel();
    /// let even = pool.apply_async(halve, (8,), move |v| tx.send(*v).unwrap(), |_| ());
    /// let odd = pool.apply_async(halve, (3,), |_| (), move |e| etx.send(e.to_string()).unwrap());
    /// assert_eq!(even.wait().unwrap(), 4);
    /// assert!(odd.wait().is_err());
    /// assert_eq!(rx.recv().unwrap(), 4);
    /// assert!(erx.recv().unwrap().contains("odd"));
    /// ```
    pub fn apply_async<F, Args, R, C, E>(
        &self,
        f: F,
        args: Args,
        callback: C,
        error_callback: E,
    ) -> PoolTask<R>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        C: FnOnce(&R) + Send + 'static,
        E: FnOnce(&ProcessError) + Send + 'static,
    {
        let before: BeforeDone<R> = Box::new(move |outcome| match outcome {
            Ok(value) => callback(value),
            Err(e) => error_callback(e),
        });
        self.submit_with(f, args, Some(before))
    }

    fn submit_with<F, Args, R>(
        &self,
        f: F,
        args: Args,
        before: Option<BeforeDone<R>>,
    ) -> PoolTask<R>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        // The function is named by its type (zero-sized): the value carries
        // nothing to send.
        let _ = f;
        let (task, completer, state) = pool_task(before);
        let deliver: Deliver = Box::new(move |r| {
            completer.complete(r.and_then(|(pid, m)| decode_reply::<R>(pid, m)));
        });
        match prepare(FnRef::single::<F, Args>(), &args) {
            Ok((function, args)) => self.enqueue(Job {
                function,
                args,
                deliver,
                claim: Some(Box::new(move || Completer::claim(&state))),
            }),
            Err(e) => deliver(Err(ProcessError::Start(e))),
        }
        task
    }

    /// `f(args..)` in a worker, waiting for the result (Python's `apply`).
    ///
    /// # Examples
    /// ```
    /// fn len(s: String) -> usize {
    ///     s.len()
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(1).unwrap();
    /// assert_eq!(pool.apply(len, ("four".to_string(),)).unwrap(), 4);
    /// ```
    ///
    /// # Errors
    /// The task's [`ProcessError`], as from [`PoolTask::wait`](super::PoolTask::wait).
    pub fn apply<F, Args, R>(&self, f: F, args: Args) -> Result<R, ProcessError>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.submit(f, args).wait()
    }

    /// `f(x)` for every item, in order; the first error is returned.
    ///
    /// # Examples
    /// ```
    /// fn square(n: u64) -> u64 {
    ///     n * n
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(2).unwrap();
    /// assert_eq!(pool.map(square, 1..=5).unwrap(), [1, 4, 9, 16, 25]);
    /// ```
    ///
    /// # Errors
    /// The first item's [`ProcessError`] (in input order): a panic, a worker's
    /// death, a time limit, or arguments refused.
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
    ///
    /// # Examples
    /// ```
    /// fn pow(base: u64, exp: u32) -> u64 {
    ///     base.pow(exp)
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(2).unwrap();
    /// assert_eq!(pool.starmap(pow, [(2, 10), (3, 2)]).unwrap(), [1024, 9]);
    /// ```
    ///
    /// # Errors
    /// As [`map`](Self::map).
    pub fn starmap<F, Args, R, I>(&self, f: F, items: I) -> Result<Vec<R>, ProcessError>
    where
        F: Callable<Args, Output = R>,
        Args: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = Args>,
    {
        let items: Vec<Args> = items.into_iter().collect();
        let chunk = items.len().div_ceil(4 * self.size).max(1);
        self.imap_chunks(f, items, chunk, true).collect_ordered()
    }

    /// `f(x)` for every item, yielded in order as results arrive
    /// (Python's `imap` with `chunksize=1`).
    ///
    /// # Examples
    /// ```
    /// fn len(s: String) -> usize {
    ///     s.len()
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(2).unwrap();
    /// let words = ["a", "bb", "ccc"].map(String::from);
    /// let lengths: Vec<usize> = pool.imap(len, words).map(Result::unwrap).collect();
    /// assert_eq!(lengths, [1, 2, 3]); // in input order
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// fn neg(n: i32) -> i32 {
    ///     -n
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(2).unwrap();
    /// let mut got: Vec<i32> = pool.imap_unordered(neg, [1, 2, 3]).map(Result::unwrap).collect();
    /// got.sort();
    /// assert_eq!(got, [-3, -2, -1]);
    /// ```
    pub fn imap_unordered<F, A, R, I>(&self, f: F, items: I) -> Imap<R>
    where
        F: Callable<(A,), Output = R>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.imap_chunks(f, items.into_iter().map(|a| (a,)).collect(), 1, false)
    }

    pub(crate) fn imap_chunks<F, Args, R>(
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
        // The function is named by its type (zero-sized): the value carries
        // nothing to send.
        let _ = f;
        let total = items.len();
        let (tx, rx) = mpsc::channel::<ChunkReply<R>>();
        let function = FnRef::batch::<F, Args>();
        let mut chunks = 0;
        // A slice encodes as the `Vec` the worker decodes: each chunk is
        // encoded in place, never copied into a `Vec` of its own.
        for batch in items.chunks(chunk.max(1)) {
            let index = chunks;
            chunks += 1;
            let tx = tx.clone();
            // Decoded by the driver that received it, once its worker has
            // the next chunk: the workers' replies are decoded side by side.
            // A panicking `Deserialize` is the caller's: it is caught here,
            // and continues where the results are taken.
            let deliver: Deliver = Box::new(move |r| {
                let values = catch_unwind(AssertUnwindSafe(|| {
                    r.and_then(|(pid, message)| decode_reply::<Vec<R>>(pid, message))
                }));
                let _ = tx.send((index, values));
            });
            match prepare(function, batch) {
                Ok((function, args)) => self.enqueue(Job {
                    function,
                    args,
                    deliver,
                    claim: None,
                }),
                Err(e) => deliver(Err(ProcessError::Start(e))),
            }
        }
        Imap::new(rx, ordered, chunks, total)
    }

    pub(crate) fn enqueue(&self, job: Job) {
        let mut state = self.shared.lock();
        if state.closed || state.terminated {
            drop(state);
            (job.deliver)(Err(ProcessError::PoolClosed));
            return;
        }
        state.queue.push_back(job);
        drop(state);
        self.shared.work.notify_one();
    }

    /// Accepts no more tasks; queued ones still run.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{ProcessError, ProcessPool};
    ///
    /// fn one() -> u8 {
    ///     1
    /// }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// let queued = pool.submit(one, ());
    /// pool.close();
    /// assert!(matches!(pool.apply(one, ()), Err(ProcessError::PoolClosed)));
    /// assert_eq!(queued.wait().unwrap(), 1); // queued before: still runs
    /// pool.join();
    /// ```
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }

    /// Waits for the workers to finish the queued tasks and exit. Call
    /// [`close`](Self::close) (or [`terminate`](Self::terminate)) first, as
    /// in Python; `join` closes the pool itself if needed.
    ///
    /// # Examples
    /// ```
    /// fn one() -> u8 {
    ///     1
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(2).unwrap();
    /// let task = pool.submit(one, ());
    /// pool.close();
    /// pool.join(); // the workers have finished and exited
    /// assert!(pool.pids().is_empty());
    /// assert_eq!(task.wait().unwrap(), 1);
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::process::{ProcessError, ProcessPool};
    ///
    /// fn hang() {
    ///     loop {
    ///         std::thread::sleep(Duration::from_secs(1));
    ///     }
    /// }
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// let running = pool.submit(hang, ());
    /// pool.terminate();
    /// assert!(matches!(running.wait(), Err(ProcessError::PoolClosed)));
    /// ```
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
            (job.deliver)(Err(ProcessError::PoolClosed));
        }
        self.join();
    }

    /// The pids of the workers running now.
    ///
    /// # Examples
    /// ```
    /// fn pid() -> u32 {
    ///     std::process::id()
    /// }
    ///
    /// let pool = brigade::process::ProcessPool::new(1).unwrap();
    /// assert!(pool.pids().is_empty()); // workers start with their first task
    /// let worker = pool.apply(pid, ()).unwrap();
    /// assert_eq!(pool.pids(), [worker]);
    /// ```
    pub fn pids(&self) -> Vec<u32> {
        self.shared
            .lock()
            .workers
            .iter()
            .flatten()
            .filter_map(|c| c.pid())
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
