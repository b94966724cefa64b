//! [`PoolBuilder`]: the settings of a [`ProcessPool`] before it starts,
//! and the start itself.
//!
//! A pool's settings (how many workers, how they start, when one is
//! replaced, how large a message may be, what each runs first) are fixed
//! for its life: every driver thread reads them, unlocked, from the state
//! they share. So they are gathered here first, checked once, and
//! [`build`](PoolBuilder::build) turns them into that shared state and
//! starts one driver thread per worker (see `driver.rs`); the workers
//! themselves start with their first task. An initializer refused while
//! the settings are gathered is kept and returned by `build`, so the chain
//! of settings reads straight through.
//!
//! ```
//! use brigade::process::{ProcessPool, StartError};
//!
//! fn triple(n: u32) -> u32 {
//!     n * 3
//! }
//!
//! let pool = ProcessPool::builder().processes(2).max_tasks_per_child(10).build().unwrap();
//! assert_eq!(pool.map(triple, [1, 2]).unwrap(), [3, 6]);
//! assert!(matches!(ProcessPool::builder().processes(0).build(), Err(StartError::NoWorkers)));
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::driver::{Config, Shared, State, drive};
use super::error::StartError;
use super::function::{Callable, FnRef};
use super::handle::prepare;
use super::pool::ProcessPool;
use super::spawn::StartMethod;

/// Configures a [`ProcessPool`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use brigade::process::{ProcessPool, StartMethod};
///
/// fn double(n: u32) -> u32 {
///     n * 2
/// }
///
/// let pool = ProcessPool::builder()
///     .processes(2)
///     .start_method(StartMethod::Spawn)
///     .max_tasks_per_child(100)
///     .task_timeout(Duration::from_secs(60))
///     .build()
///     .unwrap();
/// assert_eq!(pool.map(double, [1, 2, 3]).unwrap(), [2, 4, 6]);
/// ```
pub struct PoolBuilder {
    processes: usize,
    config: Config,
    error: Option<StartError>,
    /// Whether `processes` was set (a cluster pool has no local workers
    /// unless asked).
    processes_set: bool,
    #[cfg(feature = "cluster")]
    cluster: Option<super::Cluster>,
}

impl PoolBuilder {
    /// The default settings: one worker per CPU, the default start
    /// method, no limits but the default message size, no initializer.
    pub(super) fn new() -> PoolBuilder {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        PoolBuilder {
            processes: cpus,
            config: Config {
                method: StartMethod::default(),
                max_tasks_per_child: None,
                task_timeout: None,
                initializer: None,
                max_message: super::frame::DEFAULT_MAX_MESSAGE,
            },
            error: None,
            processes_set: false,
            #[cfg(feature = "cluster")]
            cluster: None,
        }
    }

    /// The number of workers (the default is the number of CPUs). Zero
    /// makes [`build`](Self::build) fail with [`StartError::NoWorkers`].
    ///
    /// # Examples
    /// ```
    /// let pool = brigade::process::ProcessPool::builder().processes(3).build().unwrap();
    /// assert_eq!(pool.size(), 3);
    /// ```
    pub fn processes(mut self, n: usize) -> PoolBuilder {
        self.processes = n;
        self.processes_set = true;
        self
    }

    /// Sends the pool's tasks through a broker to workers on other
    /// machines (cargo feature `cluster`; see
    /// [`cluster`](super::cluster)): a URL such as `"redis://host:6379/0"`,
    /// or a [`Cluster`](super::Cluster) with settings. The pool has no
    /// local workers then, unless [`processes`](Self::processes) asks for
    /// some, which take tasks from the same queue. The rest of the API is
    /// the same. [`build`](Self::build) connects to the broker, waiting at
    /// most its [`broker_timeout`](super::Cluster::broker_timeout).
    ///
    /// ```no_run
    /// use brigade::process::ProcessPool;
    ///
    /// fn square(n: u64) -> u64 { n * n }
    ///
    /// let pool = ProcessPool::builder().cluster("redis://127.0.0.1:6379/0").build().unwrap();
    /// assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
    /// ```
    #[cfg(feature = "cluster")]
    pub fn cluster(mut self, cluster: impl Into<super::Cluster>) -> PoolBuilder {
        self.cluster = Some(cluster.into());
        self
    }

    /// The start method of the workers.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{ProcessPool, StartMethod};
    ///
    /// fn pid() -> u32 {
    ///     std::process::id()
    /// }
    ///
    /// let pool = ProcessPool::builder().processes(1).start_method(StartMethod::Forkserver).build().unwrap();
    /// assert_ne!(pool.apply(pid, ()).unwrap(), std::process::id());
    /// ```
    pub fn start_method(mut self, method: StartMethod) -> PoolBuilder {
        self.config.method = method;
        self
    }

    /// Replaces a worker after it has run `n` tasks (Python's
    /// `maxtasksperchild`).
    ///
    /// # Examples
    /// A fresh worker for every task:
    /// ```
    /// use brigade::process::ProcessPool;
    ///
    /// fn pid() -> u32 {
    ///     std::process::id()
    /// }
    ///
    /// let pool = ProcessPool::builder().processes(1).max_tasks_per_child(1).build().unwrap();
    /// let first = pool.apply(pid, ()).unwrap();
    /// let second = pool.apply(pid, ()).unwrap();
    /// assert_ne!(first, second);
    /// ```
    pub fn max_tasks_per_child(mut self, n: usize) -> PoolBuilder {
        self.config.max_tasks_per_child = Some(n.max(1));
        self
    }

    /// Fails a task that runs longer than `limit` with
    /// [`ProcessError::TimedOut`](super::ProcessError::TimedOut), killing
    /// its worker (which is replaced).
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
    /// fn one() -> u8 {
    ///     1
    /// }
    ///
    /// let pool = ProcessPool::builder().processes(1).task_timeout(Duration::from_millis(200)).build().unwrap();
    /// assert!(matches!(pool.apply(hang, ()), Err(ProcessError::TimedOut { .. })));
    /// assert_eq!(pool.apply(one, ()).unwrap(), 1); // a new worker took over
    /// ```
    pub fn task_timeout(mut self, limit: Duration) -> PoolBuilder {
        self.config.task_timeout = Some(limit);
        self
    }

    /// The limit on one message between the pool and a worker, either way:
    /// a task's encoded arguments, and its encoded result (the default is
    /// [`DEFAULT_MAX_MESSAGE`](super::frame::DEFAULT_MAX_MESSAGE), 256 MiB;
    /// at most [`MAX_PAYLOAD`](super::frame::MAX_PAYLOAD), 1 GiB).
    /// Arguments above it fail their task with [`StartError::TooLarge`]
    /// (inside [`ProcessError::Start`](super::ProcessError::Start)) before
    /// any worker sees them; a result above it is
    /// [`ProcessError::ResultTooLarge`](super::ProcessError::ResultTooLarge).
    /// Either way the worker stays. Any size a worker announces is checked
    /// against it before anything is allocated.
    ///
    /// ```
    /// use brigade::process::{ProcessError, ProcessPool, StartError};
    ///
    /// fn len(bytes: Vec<u8>) -> usize {
    ///     bytes.len()
    /// }
    ///
    /// let pool = ProcessPool::builder().processes(1).max_message_size(1024).build().unwrap();
    /// let big = pool.apply(len, (vec![0u8; 4096],));
    /// assert!(matches!(big, Err(ProcessError::Start(StartError::TooLarge { max: 1024, .. }))));
    /// assert_eq!(pool.apply(len, (vec![0u8; 10],)).unwrap(), 10);
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> PoolBuilder {
        self.config.max_message = bytes.min(super::frame::MAX_PAYLOAD);
        self
    }

    /// Runs `f(args..)` in each worker when it starts. If it fails, the
    /// task the worker was started for fails with the initializer's error.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use brigade::process::ProcessPool;
    ///
    /// static SCALE: AtomicU32 = AtomicU32::new(0);
    ///
    /// fn set_scale(scale: u32) {
    ///     SCALE.store(scale, Ordering::Relaxed); // in the worker
    /// }
    ///
    /// fn scaled(n: u32) -> u32 {
    ///     n * SCALE.load(Ordering::Relaxed)
    /// }
    ///
    /// let pool = ProcessPool::builder().processes(1).initializer(set_scale, (10,)).build().unwrap();
    /// assert_eq!(pool.apply(scaled, (4,)).unwrap(), 40);
    /// ```
    pub fn initializer<F, Args>(mut self, f: F, args: Args) -> PoolBuilder
    where
        F: Callable<Args, Output = ()>,
        Args: Serialize + DeserializeOwned,
    {
        // The function is named by its type (zero-sized): the value carries
        // nothing to send.
        let _ = f;
        match prepare(FnRef::single::<F, Args>(), &args) {
            Ok(init) => self.config.initializer = Some(init),
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// The initializer as it travels (a cluster worker's pools run their
    /// clients' initializers).
    #[cfg(feature = "cluster")]
    pub(crate) fn encoded_initializer(
        mut self,
        init: (FnRef, super::transfer::Encoded),
    ) -> PoolBuilder {
        self.config.initializer = Some(init);
        self
    }

    /// Starts the pool's drivers (workers start with their first task).
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{ProcessPool, StartError};
    ///
    /// assert!(ProcessPool::builder().processes(1).build().is_ok());
    /// assert!(matches!(ProcessPool::builder().processes(0).build(), Err(StartError::NoWorkers)));
    /// ```
    ///
    /// # Errors
    /// [`StartError::NoWorkers`] for zero processes; an initializer refused
    /// as [`Process::start`](super::Process::start) refuses a function
    /// ([`StartError::Captures`], [`StartError::Encode`], ...); an error
    /// starting the pool's threads. A cluster pool (cargo feature
    /// `cluster`): `StartError::Cluster` for a broker unreachable within
    /// its bound, or an initializer whose arguments hold descriptors.
    pub fn build(self) -> Result<ProcessPool, StartError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        #[cfg(feature = "cluster")]
        let (processes, remote) = match &self.cluster {
            Some(c) if !self.processes_set => (0, c.window_value()),
            Some(c) => (self.processes, c.window_value()),
            None => (self.processes, 0),
        };
        #[cfg(not(feature = "cluster"))]
        let (processes, remote) = (self.processes, 0);
        if processes + remote == 0 {
            return Err(StartError::NoWorkers);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
                terminated: false,
                workers: vec![None; processes],
            }),
            work: Condvar::new(),
            config: self.config,
        });
        let mut drivers = Vec::with_capacity(processes);
        #[cfg(feature = "cluster")]
        if let Some(cluster) = self.cluster {
            drivers.extend(super::cluster_client::start(shared.clone(), cluster)?);
        }
        for index in 0..processes {
            let shared = shared.clone();
            let driver = std::thread::Builder::new()
                .name(format!("brigade-pool-{index}"))
                .spawn(move || drive(&shared, index))
                .map_err(StartError::Io)?;
            drivers.push(driver);
        }
        Ok(ProcessPool::from_parts(
            shared,
            Mutex::new(drivers),
            processes + remote,
        ))
    }
}
