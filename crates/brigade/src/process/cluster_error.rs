//! What can go wrong when a pool's tasks travel through a broker, told
//! apart so that a caller can react to each: an unreachable broker, a
//! worker of another build, a task that keeps killing its workers.
//!
//! ```
//! use brigade::process::ClusterError;
//!
//! let e = ClusterError::Poisoned { attempts: 3, last: "signal 9 (SIGKILL)".into() };
//! assert_eq!(
//!     e.to_string(),
//!     "the task killed its worker on each of 3 attempts (the last: signal 9 (SIGKILL))"
//! );
//! ```

use std::fmt;
use std::time::Duration;

/// Why a task of a cluster pool (see [`cluster`](super::cluster)) got no
/// result, or why the pool or a worker could not start. It reaches a
/// caller inside [`ProcessError::Cluster`](super::ProcessError::Cluster)
/// or [`StartError::Cluster`](super::StartError::Cluster).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterError {
    /// The broker's address is not one the client understands (the URL
    /// itself is not repeated: it may hold a password).
    Url {
        /// What is wrong with it.
        reason: String,
    },
    /// The broker could not be reached, or failed every command, for
    /// `waited`: the bound the pool waits for it (see
    /// [`Cluster::broker_timeout`](super::Cluster::broker_timeout)).
    Broker {
        /// How long the pool tried.
        waited: Duration,
        /// The broker client's last error.
        reason: String,
    },
    /// The broker answered a command with an error (a full memory, a
    /// missing permission of the user in the URL, ...).
    Refused {
        /// The broker's error.
        reason: String,
    },
    /// The worker that took the task runs another build of the program:
    /// it refused to run it, since the same name could mean another
    /// function there.
    BuildMismatch {
        /// The worker's build identity.
        worker: String,
        /// The caller's build identity.
        client: String,
    },
    /// The task killed the worker process that ran it (or its whole
    /// machine stopped) on each of `attempts` attempts, the most the pool
    /// allows ([`Cluster::max_attempts`](super::Cluster::max_attempts)).
    Poisoned {
        /// How many times it was started.
        attempts: u32,
        /// How the last attempt ended.
        last: String,
    },
    /// No live worker took the task within the pool's
    /// [`pickup_timeout`](super::Cluster::pickup_timeout), while no worker
    /// answered any other of its tasks: it was withdrawn from the broker
    /// (a worker that took it and then went quiet past its lease may still
    /// run it; its result is dropped).
    NotTaken {
        /// How long the pool waited for a worker.
        waited: Duration,
    },
    /// A worker cannot serve: it could not start its local processes or
    /// a thread, or encode a result.
    Worker {
        /// What failed.
        reason: String,
    },
    /// The arguments hold a descriptor (a pipe, a queue, shared memory),
    /// which cannot travel to another machine.
    Descriptors,
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::Url { reason } => write!(f, "the broker's URL is not usable: {reason}"),
            ClusterError::Broker { waited, reason } => write!(
                f,
                "the broker was unreachable for {:.1} s: {reason}",
                waited.as_secs_f64()
            ),
            ClusterError::Refused { reason } => {
                write!(f, "the broker refused a command: {reason}")
            }
            ClusterError::BuildMismatch { worker, client } => write!(
                f,
                "the worker runs build {worker}, the caller build {client}: it refused to run \
                 the task (start workers from the caller's executable)"
            ),
            ClusterError::Poisoned { attempts, last } => write!(
                f,
                "the task killed its worker on each of {attempts} attempts (the last: {last})"
            ),
            ClusterError::NotTaken { waited } => write!(
                f,
                "no live worker took the task within {:.1} s: it was withdrawn from the broker \
                 (start a worker, or raise the cluster's pickup timeout)",
                waited.as_secs_f64()
            ),
            ClusterError::Worker { reason } => write!(f, "the worker cannot serve: {reason}"),
            ClusterError::Descriptors => f.write_str(
                "the arguments hold a descriptor (pipe, queue, shared memory), which cannot \
                 travel to another machine",
            ),
        }
    }
}

impl std::error::Error for ClusterError {}
