//! One connection to the broker that survives the broker's restarts: a
//! command that fails for want of a connection is retried on a fresh one,
//! with a growing pause, until a bound passes; then the caller gets
//! [`ClusterError::Broker`]. Never a wait without a bound.
//!
//! A reconnection compares the server's `run_id` with the one seen before:
//! a change means the broker restarted, which the owner checks with
//! [`Broker::take_restart`] (a client then re-queues the tasks the restart
//! lost).
//!
//! ```
//! // Internal; see `Cluster::broker_timeout` for the bound.
//! # let _ = brigade::process::Cluster::new("redis://127.0.0.1/");
//! ```

use std::time::{Duration, Instant};

use super::cluster_error::ClusterError;

/// How a command failed.
pub(crate) enum Failure {
    /// No connection for the whole bound.
    Unreachable(ClusterError),
    /// The broker answered with an error (the command was refused, not
    /// lost): the caller decides.
    Refused(redis::RedisError),
}

impl From<Failure> for ClusterError {
    fn from(f: Failure) -> ClusterError {
        match f {
            Failure::Unreachable(e) => e,
            Failure::Refused(e) => ClusterError::Refused {
                reason: e.to_string(),
            },
        }
    }
}

/// The longest pause between two attempts to reconnect.
const MAX_PAUSE: Duration = Duration::from_millis(500);
/// How long a command waits for its answer beyond its own blocking time.
const READ_SLACK: Duration = Duration::from_secs(10);

pub(crate) struct Broker {
    client: redis::Client,
    connection: Option<redis::Connection>,
    bound: Duration,
    run_id: Option<String>,
    restarted: bool,
}

impl Broker {
    /// Connects, waiting at most `bound` for the broker.
    pub(crate) fn open(url: &str, bound: Duration) -> Result<Broker, ClusterError> {
        let client = redis::Client::open(url).map_err(|e| ClusterError::Url {
            reason: e.to_string(),
        })?;
        let mut broker = Broker {
            client,
            connection: None,
            bound,
            run_id: None,
            restarted: false,
        };
        broker.run(|c| redis::cmd("PING").query::<()>(c))?;
        Ok(broker)
    }

    /// Whether the broker restarted since the last call.
    pub(crate) fn take_restart(&mut self) -> bool {
        std::mem::take(&mut self.restarted)
    }

    /// Runs `command`, reconnecting and retrying while the broker cannot
    /// be reached (or is loading its data after a restart), for at most
    /// the bound.
    pub(crate) fn run<T>(
        &mut self,
        mut command: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, ClusterError> {
        self.try_run(&mut command).map_err(ClusterError::from)
    }

    /// As [`run`](Self::run), but an error answer is handed back apart.
    pub(crate) fn try_run<T>(
        &mut self,
        mut command: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, Failure> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let last = match self.connection() {
                Ok(connection) => match command(connection) {
                    Ok(v) => return Ok(v),
                    Err(e) if lost(&e) => {
                        self.connection = None;
                        e.to_string()
                    }
                    Err(e) => return Err(Failure::Refused(e)),
                },
                // A wrong password, a TLS handshake refused: no retry mends it.
                Err(e) if !lost(&e) => return Err(Failure::Refused(e)),
                Err(e) => e.to_string(),
            };
            let waited = start.elapsed();
            if waited >= self.bound {
                return Err(Failure::Unreachable(ClusterError::Broker {
                    waited,
                    reason: last,
                }));
            }
            std::thread::sleep(pause.min(self.bound - waited));
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    fn connection(&mut self) -> redis::RedisResult<&mut redis::Connection> {
        if self.connection.is_none() {
            let timeout = self.bound.clamp(Duration::from_millis(100), READ_SLACK);
            let mut c = self.client.get_connection_with_timeout(timeout)?;
            c.set_read_timeout(Some(READ_SLACK))?;
            c.set_write_timeout(Some(READ_SLACK))?;
            let info: String = redis::cmd("INFO").arg("server").query(&mut c)?;
            let run_id = info
                .lines()
                .find_map(|l| l.strip_prefix("run_id:"))
                .map(|s| s.trim().to_owned());
            if self.run_id.is_some() && run_id != self.run_id {
                self.restarted = true;
            }
            self.run_id = run_id;
            self.connection = Some(c);
        }
        Ok(self.connection.as_mut().expect("set above"))
    }
}

/// Whether the command may not have reached a live broker: the connection
/// broke, or the broker is still loading its data.
fn lost(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.code() == Some("LOADING")
        || e.code() == Some("MASTERDOWN")
}
