//! Processes: Rust functions in child processes, for CPU-bound and
//! crash-prone work, as Python's `multiprocessing`.
//!
//! A [`Process`] runs one function in a child and hands back its result; a
//! [`ProcessPool`] keeps workers and feeds them tasks; [`run`] awaits one
//! function on the event loop without blocking it. Children talk to their
//! parent over [`pipe`]s and [`Queue`]s, and share bulk data through a
//! [`SharedArray`].
//!
//! ```
//! use brigade::process::Process;
//!
//! fn square(n: i64) -> i64 {
//!     n * n
//! }
//!
//! let mut p1 = Process::new(square, (2,));
//! let mut p2 = Process::new(square, (4,));
//! p1.start().unwrap();
//! p2.start().unwrap();
//! assert_eq!(p1.join().unwrap(), 4);
//! assert_eq!(p2.join().unwrap(), 16);
//! assert_ne!(p1.pid(), p2.pid());
//! ```
//!
//! # Tour
//! - [`Process`]: `start`, `join` (the result, or a [`ProcessError`]),
//!   `join_timeout`, `is_alive`, `exitcode` (and `exit_status`, an
//!   [`Exit`]), `terminate`, `kill`, daemons.
//! - [`run`]: one function in a child, awaited on the event loop.
//! - [`ProcessPool`]: `map`, `starmap`, `imap`, `imap_unordered`, `submit`
//!   (a [`PoolTask`] to await or wait for), initializer, recycling, time
//!   limits, and crash isolation.
//! - A [`PoolTask`] is a `concurrent.futures.Future` (`cancel`, `done`,
//!   `running`, `error`, `add_done_callback`), and [`wait`] takes tasks
//!   and thread-pool jobs alike; [`ProcessPool::apply_async`] has
//!   Python's `callback` and `error_callback`; `map_chunked`,
//!   `imap_chunked` and friends take a `chunksize`.
//! - [`current_process`], [`parent_process`], [`active_children`]: who
//!   is running; [`Process::close`] releases a finished child.
//! - [`pipe`] and [`Queue`]: typed messages between processes, blocking
//!   (`send`/`recv`, `put`/`get`, with timeouts) or awaited on the event
//!   loop (`send_async`/`recv_async`, `put_async`/`get_async`);
//!   [`SharedArray`]: bulk data in shared memory.
//! - [`Value`]: one value in shared memory with its own lock; [`Lock`],
//!   [`RLock`], [`Semaphore`], [`BoundedSemaphore`], [`Event`],
//!   [`Condition`] and [`Barrier`]: synchronization across processes, on
//!   futexes in shared memory. The locks are robust: a holder's death is
//!   [`LockError::OwnerDied`] for the next acquirer, never a hang.
//!   [`JoinableQueue`]: a [`Queue`] with `task_done` and `join`.
//! - [`StartMethod`]: `Spawn` (exec a fresh copy, the default) or
//!   `Forkserver` (fork a single-threaded server, faster); see
//!   [`forkserver`].
//! - [`frame`]: the wire format, and how it refuses bad bytes.
//! - `cluster` (cargo feature `cluster`): the same pool beyond one
//!   machine, through Redis Streams: `ProcessPool::builder().cluster(url)`,
//!   and workers started with `BRIGADE_WORKER=url`.
//! - [`Manager`]: a server process holding shared objects, used through
//!   typed proxies from many processes at once: [`DictProxy`],
//!   [`ListProxy`], [`NamespaceProxy`] (errors: [`ManagerError`]).
//!
//! # What a program needs
//! Nothing. A child is a fresh copy of the running executable, and brigade
//! takes it over before `main` runs (see [`child`]'s notes), so this works
//! the same in binaries, examples and `cargo test` binaries, with a plain
//! `fn main`, `#[brigade::main]` or `#[brigade::test]`.
//!
//! The function must be a fn item (or a closure that captures nothing),
//! called with a tuple of serde-serializable arguments; its result is
//! serializable too. A function that captures state is refused at
//! [`Process::start`] with a clear [`StartError`]; there is no way to make a
//! child jump to code it does not have.
//!
//! # Errors
//! [`Process::join`] tells apart a panic in the child (with its message), a
//! non-zero exit, death by a signal, and a broken channel; see
//! [`ProcessError`]. A child that exits inside the function
//! (`std::process::exit`, with any code, 0 included) is
//! [`ProcessError::Exited`], from a `Process` and a pool alike.
//!
//! # Limits
//! One message between a parent and its child, either way, is at most
//! `max_message_size` bytes ([`Process::max_message_size`],
//! [`PoolBuilder::max_message_size`]; 256 MiB by default, see
//! [`frame::DEFAULT_MAX_MESSAGE`]). Arguments above it are
//! [`StartError::TooLarge`] before any child sees them; a result above it
//! is [`ProcessError::ResultTooLarge`], said by the child instead of sent.
//! Whatever size a child announces is checked against the limit before
//! anything is allocated, and a large message's memory file must store
//! every byte it announces (a sparse file is refused unread).
//!
//! # Async waiting
//! [`Connection::recv_async`], [`Connection::send_async`],
//! [`Queue::get_async`] and [`Queue::put_async`] wait on the loop's I/O
//! driver, like brigade's sockets: the task waits, the loop runs other
//! tasks. The blocking methods keep working on the same object (the socket
//! stays blocking; each async attempt is one non-blocking system call).
//! They are cancel-safe: a message is taken or sent whole by one system
//! call, inside one poll, so a future dropped while it waits (a
//! [`timeout`](crate::time::timeout), a lost race) has taken or sent
//! nothing. A closed peer is [`RecvError::Closed`] (or
//! [`SendError::Closed`]), never a hang.
//!
//! ```
//! use std::time::Duration;
//! use brigade::process::pipe;
//!
//! let (a, b) = pipe::<u32>().unwrap();
//! brigade::run(async move {
//!     // Nothing yet: the timeout cancels the wait, and takes nothing.
//!     let waited = brigade::timeout(Duration::from_millis(10), b.recv_async()).await;
//!     assert!(waited.is_err());
//!     a.send(&1).unwrap();
//!     assert_eq!(b.recv_async().await.unwrap(), 1);
//!     drop(a);
//!     assert!(matches!(b.recv_async().await, Err(brigade::process::RecvError::Closed)));
//! });
//! ```
//!
//! # Hygiene
//! Channels are private socketpairs created with `CLOEXEC`; a child
//! inherits its parent's stdout and stderr and its one channel, and nothing
//! else. Its stdin is `/dev/null` (as in CPython's multiprocessing), for
//! every start method and for pool workers: a child that reads stdin sees
//! the end at once, instead of taking input meant for the parent. No named file
//! or socket is created anywhere: shared memory is an anonymous memory file.
//! Every child is reaped: by `join`, or, if its `Process` is dropped
//! unjoined, by brigade's one process-wide reaper thread, which also reaps
//! dropped [`subprocess`](crate::subprocess) children (daemon children are
//! killed first). Children are waited for by pidfd (`waitid(P_PIDFD)`), never by a pid that could have
//! been recycled.
//!
//! A program that ignores `SIGCHLD` (`SIG_IGN`, which makes the kernel reap
//! children at exit and discard their status) loses nothing but, on
//! kernels before Linux 6.15, the exit status: `join` still returns the
//! function's result (it comes over the channel), pools work, and the
//! status is read from the copy the kernel keeps for the pidfd, or is
//! reported as [`Exit::Unknown`] where there is none. The same holds for
//! forkserver workers: the server forks them as its siblings, so they are
//! the program's own children too.
//!
//! [`child`]: self#what-a-program-needs

mod barrier;
mod child;
mod chunksize;
#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(feature = "cluster")]
mod cluster_broker;
#[cfg(feature = "cluster")]
mod cluster_build;
#[cfg(feature = "cluster")]
mod cluster_client;
#[cfg(feature = "cluster")]
mod cluster_error;
#[cfg(feature = "cluster")]
mod cluster_wire;
#[cfg(feature = "cluster")]
mod cluster_worker;
mod condition;
mod driver;
mod encoder;
mod error;
mod event;
pub mod forkserver;
pub mod frame;
mod function;
mod futex_lock;
mod handle;
mod identity;
mod join;
mod joinable;
mod kill;
mod lock;
mod lock_error;
mod manager;
mod manager_dict;
mod manager_error;
mod manager_link;
mod manager_list;
mod manager_namespace;
mod manager_refs;
mod manager_server;
mod manager_slot;
mod manager_store;
mod manager_wire;
mod pipe;
mod pool;
mod pool_builder;
mod progress;
mod queue;
mod readiness;
mod region;
mod semaphore;
mod shared;
mod socket;
mod spawn;
mod task;
mod transfer;
mod value;

pub use barrier::{Barrier, BrokenBarrierError};
// `wait` works on pool tasks and thread-pool jobs alike.
pub use crate::thread::{ErrorRef, ReturnWhen, Waitable, wait};
pub use child::{CHILD_ENV, is_child};
#[cfg(feature = "cluster")]
pub use cluster::{
    Cluster, WORKER_ENV, WORKER_LEASE_ENV, WORKER_NAMESPACE_ENV, WORKER_PROCESSES_ENV,
};
#[cfg(feature = "cluster")]
pub use cluster_build::{BUILD_SALT_ENV, build_identity};
#[cfg(feature = "cluster")]
pub use cluster_error::ClusterError;
pub use condition::{Condition, ConditionGuard};
pub use error::{Exit, ProcessError, StartError, signal_name};
pub use event::Event;
pub use function::Callable;
pub use handle::Process;
pub use identity::{ProcessRef, active_children, current_process, parent_process};
pub use joinable::{JoinableQueue, TaskDoneError};
pub use lock::{Lock, LockGuard, RLock, RLockGuard};
pub use lock_error::LockError;
pub use manager::Manager;
pub use manager_dict::DictProxy;
pub use manager_error::ManagerError;
pub use manager_list::ListProxy;
pub use manager_namespace::NamespaceProxy;
pub use pipe::{Connection, RecvError, SendError, pipe};
pub use pool::ProcessPool;
pub use pool_builder::PoolBuilder;
pub use queue::Queue;
pub use semaphore::{BoundedSemaphore, Permit, ReleaseError, Semaphore};
pub use shared::{Pod, ReadGuard, SharedArray, WriteGuard};
pub use spawn::StartMethod;
pub use task::{Imap, PoolTask};
pub use value::{Value, ValueGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Runs `f(args..)` in a child process and awaits its result without
/// blocking the event loop (the waiting happens on a
/// [`to_thread`](crate::to_thread) thread). If the returned future is
/// dropped before it finishes (a timeout, a cancelled task), the child is
/// killed.
///
/// ```
/// fn cube(n: u32) -> u32 { n * n * n }
///
/// let r = brigade::run(brigade::process::run(cube, (3,)));
/// assert_eq!(r.unwrap(), 27);
/// ```
///
/// # Errors
/// As [`Process::join`]: a [`ProcessError`] for each way the function
/// gave no result, or [`ProcessError::Start`] if the child could not
/// start.
///
/// # Cancel safety
/// A dropped future kills the child: its work is abandoned, and nothing
/// is left running.
pub async fn run<F, Args, R>(f: F, args: Args) -> Result<R, ProcessError>
where
    F: Callable<Args, Output = R>,
    Args: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    let mut process = Process::new(f, args).daemon(true);
    process.start()?;
    let mut cancel = process.killer();
    let waited = crate::to_thread(move || process.join()).await;
    // Finished: nothing to kill any more.
    cancel.disarm();
    match waited {
        Ok(result) => result,
        // The waiting thread cannot panic short of a bug; report it as a
        // broken channel rather than unwinding into the caller's task.
        Err(e) => Err(ProcessError::Start(StartError::Io(std::io::Error::other(
            e.to_string(),
        )))),
    }
}

/// Optional: call it first thing in `main` to state where a child takes
/// over. brigade's start-up entry (in `.init_array`) already does this
/// before `main` on Linux, so `init` normally returns at once; it serves a
/// child only if that entry did not run (a linker that dropped it).
///
/// ```
/// fn main() {
///     brigade::process::init();
///     // ... the program
/// }
/// # main();
/// ```
pub fn init() {
    child::ensure_linked();
    child::take_over_late();
    #[cfg(feature = "cluster")]
    cluster::take_over();
}
