//! A [`ProcessPool`](super::ProcessPool) beyond one machine: its tasks
//! travel through a broker (Redis Streams) to workers on other machines,
//! as Python programs swap `multiprocessing.Pool` for
//! `ray.util.multiprocessing.Pool` or a Celery queue. Cargo feature
//! `cluster`.
//!
//! # The idea
//! No code travels. A worker is the *same program*, started on another
//! machine with one switch, the environment variable [`WORKER_ENV`] set to
//! the broker's URL; brigade takes it over before `main`, as it takes over
//! local children. A task names its function as a local pool does, by its
//! offset in the executable (see the notes on `function.rs`), and workers
//! and clients shake hands on a [`build_identity`](super::build_identity),
//! a hash of the executable's bytes: a worker of another build refuses the
//! task with [`ClusterError::BuildMismatch`] and never runs it.
//!
//! The broker carries the work; brigade builds no cluster of its own. One
//! Redis stream per namespace holds the tasks, read by the workers as one
//! consumer group (at-least-once delivery: an entry stays pending until a
//! worker acknowledges it, and an entry whose worker went quiet is
//! reclaimed); each client reads its results from a stream of its own.
//! The keys are listed in `cluster_wire.rs`. A second engine (NATS
//! JetStream, RabbitMQ) would fill the same two roles: a work queue with
//! acknowledgements and redelivery, and a per-client reply queue.
//!
//! On the caller's side nothing changes but one line:
//!
//! ```no_run
//! use brigade::process::ProcessPool;
//!
//! fn square(n: u64) -> u64 {
//!     n * n
//! }
//!
//! // Before: ProcessPool::new(8)
//! let pool = ProcessPool::builder().cluster("redis://broker:6379/0").build().unwrap();
//! assert_eq!(pool.map(square, 1..=4).unwrap(), [1, 4, 9, 16]);
//! ```
//!
//! and on each worker machine, the same executable:
//!
//! ```text
//! BRIGADE_WORKER=redis://broker:6379/0 BRIGADE_WORKER_PROCESSES=16 ./my-program
//! ```
//!
//! (or a call to [`Cluster::serve`] in the program). With
//! [`processes`](super::PoolBuilder::processes) as well, the pool also runs
//! local workers, which take tasks from the same queue.
//!
//! # Delivery
//! - **Crash isolation.** A worker serves tasks with N local processes (an
//!   ordinary local pool): a task that crashes kills only its own process.
//! - **Reclaiming.** A task whose process died is handed back at once; a
//!   task whose whole worker died (its machine, say) is reclaimed by
//!   another worker when its lease passes ([`Cluster::lease`], renewed
//!   while the task runs). Either way it runs again.
//! - **Exactly-once results.** A task may run more than once (redelivery
//!   is at-least-once), but the caller receives each result once: the pool
//!   keeps each task under a number and drops any second result for it.
//!   A task with side effects should tolerate a repeat, as with any
//!   at-least-once queue (Celery's `acks_late`, RQ).
//! - **Poison.** A task started [`Cluster::max_attempts`] times that
//!   killed its process each time fails with [`ClusterError::Poisoned`],
//!   which names the attempts and how the last one ended.
//! - **Limits.** Arguments and results have the local pool's limit
//!   ([`PoolBuilder::max_message_size`](super::PoolBuilder::max_message_size))
//!   and its errors: [`StartError::TooLarge`](super::StartError::TooLarge)
//!   before the broker sees the task,
//!   [`ProcessError::ResultTooLarge`](super::ProcessError::ResultTooLarge)
//!   said by the worker instead of sent. Arguments that hold descriptors
//!   (pipes, queues, shared memory) cannot travel:
//!   [`ClusterError::Descriptors`].
//! - **A broker that goes away.** Every command is retried on a fresh
//!   connection for at most [`Cluster::broker_timeout`]; then the waiting
//!   tasks fail with [`ClusterError::Broker`]. Never a wait without a bound
//!   on the broker. A broker that restarts within the bound is picked up
//!   again; with its persistence on (`appendonly yes`) the queued tasks
//!   survive the restart, and without it the pool queues again the tasks
//!   the restart lost.
//! - **A client that dies** leaves nothing behind for long: its keys have a
//!   time to live ([`Cluster::key_ttl`]) that only it renews, and workers
//!   drop the tasks of a client that is gone instead of running them.
//!
//! - **Time limit and initializer.** A task carries the pool's time limit
//!   ([`PoolBuilder::task_timeout`](super::PoolBuilder::task_timeout)) and
//!   its initializer ([`PoolBuilder::initializer`](super::PoolBuilder::initializer),
//!   a function of the same build named as tasks are, with its encoded
//!   arguments). The worker runs the task in a process that ran that
//!   initializer, and kills the process at the limit, as a local pool
//!   does: [`ProcessError::TimedOut`](super::ProcessError::TimedOut), or
//!   the initializer's [`ProcessError::Panicked`](super::ProcessError::Panicked),
//!   and no further attempt. A worker serving pools with different
//!   initializers or limits keeps a set of processes for each, and stops
//!   the idle sets when another is needed. An initializer whose arguments
//!   hold descriptors cannot travel: `build` fails with
//!   [`ClusterError::Descriptors`].
//!
//! # Waiting, and a cluster with no worker
//! A local pool waits for its queue when it is joined or dropped, as
//! Python's `Pool.join` and `shutdown(wait=True)` do; its workers are its
//! own, so the wait ends. A cluster pool's workers may never come, and
//! Celery and Ray would leave its tasks queued at the broker forever. A
//! brigade pool never waits without a bound on an empty cluster:
//!
//! - Tasks that a live worker holds (its lease renewed) are waited for,
//!   however long they run (a time limit bounds them).
//! - Once no worker has answered any of the pool's tasks for
//!   [`Cluster::pickup_timeout`] (60 s by default), each of its tasks that
//!   no live worker holds is withdrawn from the broker and fails with
//!   [`ClusterError::NotTaken`]: tasks no worker took, and tasks whose
//!   worker died with no other worker to reclaim them. So `map`, `apply`,
//!   `join` and dropping the pool on a cluster with no worker end with
//!   that error after about the pickup timeout, and the broker keeps
//!   nothing of them. On a busy cluster, a task may wait at the broker
//!   while results keep coming; raise the timeout (up to `Duration::MAX`,
//!   an explicit unbounded wait) when tasks run longer than it and
//!   outnumber the workers' processes.
//! - [`terminate`](super::ProcessPool::terminate) fails every waiting task
//!   at once with [`ProcessError::PoolClosed`](super::ProcessError::PoolClosed).
//!
//! A worker's pid in an error is a pid on the worker's machine.
//!
//! # Security
//! Use `rediss://` for TLS and put the password in the URL
//! (`redis://user:password@host/0`, Redis `AUTH`); a URL never appears in
//! an error. TLS needs the cargo feature `cluster-tls`.
//!
//! Only functions of the same build can run, and no code travels: a task
//! names a function of the executable the worker already runs, and a
//! worker checks the name against its own code before calling it. A party
//! that can write to the broker can therefore *not* make a worker run code
//! it does not contain. It *can* call any function of the program that a
//! pool could call, with arguments of its choosing (the build identity is
//! not a secret: it identifies a build, it does not authenticate anyone);
//! read, drop, reorder or forge tasks and results; and starve the pool.
//! Treat write access to the broker as the right to call the program's
//! pool functions: protect it with `AUTH`/ACLs and TLS, and keep the
//! broker off untrusted networks.
//!
//! The broker's user needs the stream, hash and string commands on the
//! keys listed in `cluster_wire.rs`, and `EVAL`: the pool withdraws
//! tasks with a short script, so that no worker takes one as it goes.
//!
//! ```
//! use std::time::Duration;
//! use brigade::process::Cluster;
//!
//! let cluster = Cluster::new("redis://127.0.0.1:6379/0")
//!     .namespace("thumbnails")
//!     .lease(Duration::from_secs(60))
//!     .max_attempts(5);
//! assert_eq!(cluster.max_attempts_value(), 5);
//! ```

use std::fmt;
use std::time::Duration;

use super::cluster_error::ClusterError;

/// The switch that makes a program a cluster worker: the broker's URL.
/// Set, the program serves the broker's tasks before `main` runs and never
/// reaches `main`.
pub const WORKER_ENV: &str = "BRIGADE_WORKER";
/// A worker's number of local processes (the default: the CPUs).
pub const WORKER_PROCESSES_ENV: &str = "BRIGADE_WORKER_PROCESSES";
/// A worker's namespace (the default: `brigade`).
pub const WORKER_NAMESPACE_ENV: &str = "BRIGADE_WORKER_NAMESPACE";
/// A worker's lease, in milliseconds (the default: 30000).
pub const WORKER_LEASE_ENV: &str = "BRIGADE_WORKER_LEASE_MS";

/// Where a pool's tasks go, and how they are delivered: the broker's URL
/// and the settings of the delivery. `&str` and `String` convert into it,
/// so `.cluster("redis://host/0")` takes the defaults.
///
/// ```
/// use std::time::Duration;
/// use brigade::process::Cluster;
///
/// let c: Cluster = "redis://127.0.0.1/".into();
/// assert_eq!(c.namespace_value(), "brigade");
/// let c = c.key_ttl(Duration::from_secs(60));
/// assert_eq!(c.key_ttl_value(), Duration::from_secs(60));
/// ```
#[derive(Clone)]
pub struct Cluster {
    url: String,
    namespace: String,
    window: usize,
    max_attempts: u32,
    key_ttl: Duration,
    broker_timeout: Duration,
    lease: Duration,
    pickup_timeout: Duration,
}

impl Cluster {
    /// The broker at `url`: `redis://[user:password@]host[:port][/db]`,
    /// `rediss://` for TLS, or `redis+unix:///path/to/socket`.
    ///
    /// ```
    /// let c = brigade::process::Cluster::new("redis://127.0.0.1:6379/0");
    /// assert_eq!(c.window_value(), 64);
    /// ```
    pub fn new(url: impl Into<String>) -> Cluster {
        Cluster {
            url: url.into(),
            namespace: "brigade".into(),
            window: 64,
            max_attempts: 3,
            key_ttl: Duration::from_secs(600),
            broker_timeout: Duration::from_secs(30),
            lease: Duration::from_secs(30),
            pickup_timeout: Duration::from_secs(60),
        }
    }

    /// The prefix of every key: workers serve one namespace, and clients
    /// and workers of one namespace must run one build (the default:
    /// `brigade`).
    ///
    /// ```
    /// let c = brigade::process::Cluster::new("redis://h/").namespace("jobs");
    /// assert_eq!(c.namespace_value(), "jobs");
    /// ```
    pub fn namespace(mut self, namespace: impl Into<String>) -> Cluster {
        self.namespace = namespace.into();
        self
    }

    /// How many tasks a pool keeps at the broker at once (the default:
    /// 64, at least 1). More queued tasks wait in the pool, where local
    /// workers can take them. `map` counts the window as workers when it
    /// splits its input into chunks.
    ///
    /// ```
    /// let c = brigade::process::Cluster::new("redis://h/").window(0);
    /// assert_eq!(c.window_value(), 1);
    /// ```
    pub fn window(mut self, tasks: usize) -> Cluster {
        self.window = tasks.max(1);
        self
    }

    /// How many times a task may be taken by a worker before it fails with
    /// [`ClusterError::Poisoned`] (the default: 3, at least 1). A take
    /// ends in a result, or in the death of the process that ran the task,
    /// or of the whole worker (which counts even if the task was still
    /// queued there): only the deaths lead to another attempt.
    ///
    /// ```
    /// let c = brigade::process::Cluster::new("redis://h/").max_attempts(1);
    /// assert_eq!(c.max_attempts_value(), 1);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Cluster {
        self.max_attempts = attempts.max(1);
        self
    }

    /// How long the keys of a client outlive it (the default: 10 minutes;
    /// at least 1 s). The client renews them every third of it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/").key_ttl(Duration::ZERO);
    /// assert_eq!(c.key_ttl_value(), Duration::from_secs(1));
    /// ```
    pub fn key_ttl(mut self, ttl: Duration) -> Cluster {
        self.key_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// How long a command waits for an unreachable broker before the
    /// tasks waiting on it fail with [`ClusterError::Broker`] (the
    /// default: 30 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/").broker_timeout(Duration::from_secs(5));
    /// assert_eq!(c.broker_timeout_value(), Duration::from_secs(5));
    /// ```
    pub fn broker_timeout(mut self, bound: Duration) -> Cluster {
        self.broker_timeout = bound;
        self
    }

    /// A worker's lease on the tasks it holds (the default: 30 s; at least
    /// 100 ms): renewed every third of it while they run; a task whose
    /// worker stopped renewing is taken by another worker when it passes.
    /// A setting of workers ([`serve`](Self::serve), [`WORKER_LEASE_ENV`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/").lease(Duration::from_secs(5));
    /// assert_eq!(c.lease_value(), Duration::from_secs(5));
    /// ```
    pub fn lease(mut self, lease: Duration) -> Cluster {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// How long the pool's tasks may wait at the broker with no worker to
    /// take them (the default: 60 s; at least 100 ms). Once no worker has
    /// answered any of the pool's tasks for this long, each task still at
    /// the broker that no live worker holds is withdrawn from it and fails
    /// with [`ClusterError::NotTaken`]: a task no worker ever took, and a
    /// task whose worker stopped renewing its lease with no other worker
    /// there to reclaim it. Tasks a live worker holds are waited for. This
    /// bounds every wait of the pool on an empty cluster: `map`, `apply`,
    /// `join` and dropping the pool. Keep it above twice the workers'
    /// [`lease`](Self::lease), so that a task between two workers is not
    /// taken for one without a worker; `Duration::MAX` waits without a
    /// bound, as Celery and Ray leave queued work at the broker.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/").pickup_timeout(Duration::from_secs(5));
    /// assert_eq!(c.pickup_timeout_value(), Duration::from_secs(5));
    /// ```
    pub fn pickup_timeout(mut self, bound: Duration) -> Cluster {
        self.pickup_timeout = bound.max(Duration::from_millis(100));
        self
    }

    /// The bound on a task's wait for a worker.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/");
    /// assert_eq!(c.pickup_timeout_value(), Duration::from_secs(60));
    /// ```
    pub fn pickup_timeout_value(&self) -> Duration {
        self.pickup_timeout
    }

    /// The namespace.
    ///
    /// ```
    /// assert_eq!(brigade::process::Cluster::new("redis://h/").namespace_value(), "brigade");
    /// ```
    pub fn namespace_value(&self) -> &str {
        &self.namespace
    }

    /// The window.
    ///
    /// ```
    /// assert_eq!(brigade::process::Cluster::new("redis://h/").window(8).window_value(), 8);
    /// ```
    pub fn window_value(&self) -> usize {
        self.window
    }

    /// The most attempts of a task.
    ///
    /// ```
    /// assert_eq!(brigade::process::Cluster::new("redis://h/").max_attempts_value(), 3);
    /// ```
    pub fn max_attempts_value(&self) -> u32 {
        self.max_attempts
    }

    /// The keys' time to live.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/");
    /// assert_eq!(c.key_ttl_value(), Duration::from_secs(600));
    /// ```
    pub fn key_ttl_value(&self) -> Duration {
        self.key_ttl
    }

    /// The bound on waiting for the broker.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/");
    /// assert_eq!(c.broker_timeout_value(), Duration::from_secs(30));
    /// ```
    pub fn broker_timeout_value(&self) -> Duration {
        self.broker_timeout
    }

    /// The workers' lease.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Cluster::new("redis://h/");
    /// assert_eq!(c.lease_value(), Duration::from_secs(30));
    /// ```
    pub fn lease_value(&self) -> Duration {
        self.lease
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Serves this broker's tasks with `processes` local processes, as a
    /// program started with [`WORKER_ENV`] does; returns only when the
    /// broker stays unreachable past [`broker_timeout`](Self::broker_timeout)
    /// (or cannot be reached at the start), with that error.
    ///
    /// # Errors
    /// [`ClusterError::Broker`] for a broker unreachable past the bound,
    /// [`ClusterError::Url`] for a URL the client does not understand,
    /// [`ClusterError::Refused`] for a command the broker refused (a wrong
    /// password), [`ClusterError::Worker`] if the local processes cannot
    /// start.
    ///
    /// ```no_run
    /// use brigade::process::Cluster;
    ///
    /// fn main() {
    ///     if std::env::args().any(|a| a == "--worker") {
    ///         let err = Cluster::new("redis://broker/0").serve(8).unwrap_err();
    ///         eprintln!("{err}");
    ///         return;
    ///     }
    ///     // ... the program, using ProcessPool::builder().cluster(..)
    /// }
    /// ```
    pub fn serve(&self, processes: usize) -> Result<(), ClusterError> {
        super::cluster_worker::serve(self, processes)
    }
}

impl From<&str> for Cluster {
    fn from(url: &str) -> Cluster {
        Cluster::new(url)
    }
}

impl From<String> for Cluster {
    fn from(url: String) -> Cluster {
        Cluster::new(url)
    }
}

impl fmt::Debug for Cluster {
    /// Everything but the URL, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("namespace", &self.namespace)
            .field("window", &self.window)
            .field("max_attempts", &self.max_attempts)
            .field("key_ttl", &self.key_ttl)
            .field("broker_timeout", &self.broker_timeout)
            .field("lease", &self.lease)
            .field("pickup_timeout", &self.pickup_timeout)
            .finish_non_exhaustive()
    }
}

/// Called before `main` (and by `init`): with [`WORKER_ENV`] set, serves
/// the broker and exits; a worker whose broker stays away past its bound
/// keeps trying, as a daemon should, saying so on stderr.
pub(crate) fn take_over() {
    let Ok(url) = std::env::var(WORKER_ENV) else {
        return;
    };
    let processes = std::env::var(WORKER_PROCESSES_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut cluster = Cluster::new(url);
    if let Ok(ns) = std::env::var(WORKER_NAMESPACE_ENV) {
        cluster = cluster.namespace(ns);
    }
    if let Some(ms) = std::env::var(WORKER_LEASE_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
    {
        cluster = cluster.lease(Duration::from_millis(ms));
    }
    loop {
        if let Err(e) = cluster.serve(processes) {
            eprintln!("brigade worker: {e}; trying again");
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}
