//! A cluster worker: the program, started with the worker switch on a
//! machine, serving the broker's tasks with N local processes.
//!
//! The worker itself runs no task: it is a small dispatcher in front of an
//! ordinary local [`ProcessPool`](super::ProcessPool), so a task that
//! crashes kills only its own process, as on one machine. Two threads
//! talk to the broker:
//!
//! - the *reader* takes tasks (new ones with `XREADGROUP`, and those whose
//!   lease ran out with `XAUTOCLAIM`), checks them, counts the attempt, and
//!   queues them in the local pool, keeping at most twice as many as it
//!   has processes;
//! - the *writer* gets each finished task back, writes its result to the
//!   client's result stream and acknowledges and deletes the task entry
//!   in one transaction (`MULTI`), and renews the lease of the tasks still
//!   held (`XCLAIM ... JUSTID`, which resets their idle time).
//!
//! A task whose process died is handed back at once for another attempt
//! (its idle time is set past the lease, so the next reclaim by any worker
//! takes it); one whose worker machine died is taken by another worker
//! when its lease passes. The attempt count lives at the broker, so a
//! task that kills every worker that runs it ends as
//! [`ClusterError::Poisoned`](super::ClusterError::Poisoned) after
//! [`Cluster::max_attempts`](super::Cluster::max_attempts) attempts.
//!
//! ```
//! // Started by `BRIGADE_WORKER=redis://... ./program` or `Cluster::serve`.
//! # let _ = brigade::process::WORKER_ENV;
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::child::{Call, Reply};
use super::cluster::Cluster;
use super::cluster_broker::{Broker, Failure};
use super::cluster_error::ClusterError;
use super::cluster_wire::{
    self as wire, FIELD, GROUP, Outcome, ResultEntry, TaskEntry, attempts_key, client_key,
    results_key, tasks_key,
};
use super::driver::{Deliver, Job};
use super::error::ProcessError;
use super::frame;
use super::pool::ProcessPool;
use super::socket::Message;
use super::transfer::Encoded;

/// A task taken from the stream, while it runs.
struct Taken {
    id: String,
    entry: TaskEntry,
}

/// A task that ran locally (or could not), and how.
type Finished = (Taken, Result<(u32, Message), ProcessError>);

/// The tasks held (queued or running locally), for their leases.
struct Held {
    ids: Mutex<HashSet<String>>,
    room: Condvar,
    capacity: usize,
}

/// What a client asks of the processes that run its tasks: its
/// initializer (a `Call` frame and arguments) and its time limit.
type Profile = (Option<Vec<u8>>, Option<u64>);

/// The worker's local pools, one for each profile its clients ask for.
/// Most workers serve one profile; when another comes, the pools with no
/// task left are stopped, so that the processes stay about `processes`.
struct Pools {
    processes: usize,
    pools: HashMap<Profile, (ProcessPool, Arc<AtomicUsize>)>,
}

impl Pools {
    /// The pool for `profile` and its count of tasks, started if needed.
    fn get(&mut self, profile: &Profile) -> Result<(&ProcessPool, Arc<AtomicUsize>), String> {
        if !self.pools.contains_key(profile) {
            self.pools
                .retain(|_, (_, busy)| busy.load(Ordering::Acquire) > 0);
            let mut builder = ProcessPool::builder()
                .processes(self.processes)
                .max_message_size(frame::MAX_PAYLOAD);
            if let Some(ms) = profile.1 {
                builder = builder.task_timeout(Duration::from_millis(ms));
            }
            if let Some(init) = &profile.0 {
                let (call, args) = frame::take_from_payload::<Call>(init)
                    .map_err(|_| "the pool's initializer frame is malformed".to_owned())?;
                let args = Encoded {
                    bytes: args.to_vec(),
                    fds: Vec::new(),
                };
                builder = builder.encoded_initializer((call.function, args));
            }
            let pool = builder
                .build()
                .map_err(|e| format!("cannot start the local processes: {e}"))?;
            self.pools
                .insert(profile.clone(), (pool, Arc::new(AtomicUsize::new(0))));
        }
        let (pool, busy) = &self.pools[profile];
        Ok((pool, busy.clone()))
    }
}

/// Serves tasks until the broker stays unreachable past the bound.
pub(crate) fn serve(cluster: &Cluster, processes: usize) -> Result<(), ClusterError> {
    let mut pools = Pools {
        processes: processes.max(1),
        pools: HashMap::new(),
    };
    // The plain profile starts now, so that a worker that cannot start
    // processes says so before it takes any task.
    pools
        .get(&(None, None))
        .map_err(|reason| ClusterError::Worker { reason })?;
    let open = || Broker::open(cluster.url(), cluster.broker_timeout_value());
    let mut reader = open()?;
    let writer = open()?;
    let consumer = consumer_name();
    let build = super::cluster_build::build_identity();
    let held = Arc::new(Held {
        ids: Mutex::new(HashSet::new()),
        room: Condvar::new(),
        capacity: 2 * processes.max(1),
    });
    let (done_tx, done_rx) = mpsc::channel::<Finished>();
    let write = {
        let (cluster, consumer, held) = (cluster.clone(), consumer.clone(), held.clone());
        std::thread::Builder::new()
            .name("brigade-worker-write".into())
            .spawn(move || write_results(&cluster, &consumer, &held, writer, &done_rx))
            .map_err(|e| ClusterError::Worker {
                reason: format!("cannot start a thread: {e}"),
            })?
    };
    let ns = cluster.namespace_value();
    let key = tasks_key(ns);
    let lease = cluster.lease_value();
    let mut reclaimed = Instant::now() - lease;
    let outcome = loop {
        let room = {
            let mut ids = held.ids.lock().unwrap_or_else(|e| e.into_inner());
            while ids.len() >= held.capacity {
                ids = held.room.wait(ids).unwrap_or_else(|e| e.into_inner());
            }
            held.capacity - ids.len()
        };
        let mut got = Vec::new();
        if reclaimed.elapsed() >= lease / 2 {
            reclaimed = Instant::now();
            match read(&mut reader, ns, cluster.key_ttl_value(), |c| {
                redis::cmd("XAUTOCLAIM")
                    .arg(&key)
                    .arg(GROUP)
                    .arg(&consumer)
                    .arg(lease.as_millis() as u64)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(room)
                    .query::<redis::Value>(c)
            }) {
                Ok(redis::Value::Array(parts)) if parts.len() >= 2 => {
                    got = wire::entries(&parts[1]);
                }
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        }
        if got.is_empty() {
            match read(&mut reader, ns, cluster.key_ttl_value(), |c| {
                redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg(GROUP)
                    .arg(&consumer)
                    .arg("COUNT")
                    .arg(room)
                    .arg("BLOCK")
                    .arg((lease / 2).as_millis().max(1) as u64)
                    .arg("STREAMS")
                    .arg(&key)
                    .arg(">")
                    .query::<redis::Value>(c)
            }) {
                Ok(reply) => got = wire::read_entries(&reply),
                Err(e) => break Err(e),
            }
        }
        for (id, data) in got {
            if let Err(e) = take(
                &mut reader,
                ns,
                &mut pools,
                &held,
                &build,
                &done_tx,
                id,
                data,
            ) {
                eprintln!("brigade worker: {e}");
            }
        }
    };
    drop(done_tx);
    for (pool, _) in pools.pools.values() {
        pool.terminate();
    }
    let _ = write.join();
    outcome
}

/// A command of the reader; a stream or group that vanished (expired, or
/// a broker that restarted empty) is made again.
fn read(
    broker: &mut Broker,
    ns: &str,
    ttl: Duration,
    command: impl Fn(&mut redis::Connection) -> redis::RedisResult<redis::Value>,
) -> Result<redis::Value, ClusterError> {
    match broker.try_run(&command) {
        Ok(v) => Ok(v),
        // The stream expired or the broker restarted empty (a blocked read
        // of a stream that vanished is `UNBLOCKED`).
        Err(Failure::Refused(e)) if matches!(e.code(), Some("NOGROUP" | "UNBLOCKED")) => {
            broker.run(|c| {
                let made = redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(tasks_key(ns))
                    .arg(GROUP)
                    .arg("0")
                    .arg("MKSTREAM")
                    .query::<()>(c);
                match made {
                    Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
                    Err(e) => Err(e),
                    // Like every key, it expires unless clients use it
                    // (they renew it with their own time to live).
                    Ok(()) => redis::cmd("PEXPIRE")
                        .arg(tasks_key(ns))
                        .arg(ttl.as_millis().max(1) as u64)
                        .query::<()>(c),
                }
            })?;
            Ok(redis::Value::Nil)
        }
        Err(f) => Err(f.into()),
    }
}

/// This worker's name in the consumer group: host and pid.
fn consumer_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{}-{}", host.trim(), std::process::id())
}

/// Checks one task and queues it locally, or answers it at once.
#[allow(clippy::too_many_arguments)]
fn take(
    broker: &mut Broker,
    ns: &str,
    pools: &mut Pools,
    held: &Arc<Held>,
    build: &str,
    done: &mpsc::Sender<Finished>,
    id: String,
    data: Option<Vec<u8>>,
) -> Result<(), ClusterError> {
    let Some(entry) = data.and_then(|d| postcard::from_bytes::<TaskEntry>(&d).ok()) else {
        // Deleted meanwhile, or not ours to read: nothing to run.
        return finish(broker, ns, &id, None);
    };
    if entry.build != build {
        let outcome = Outcome::Mismatch {
            worker: build.to_owned(),
        };
        return finish(broker, ns, &id, Some((&entry, outcome)));
    }
    let (alive, attempts): (bool, u32) = broker.run(|c| {
        redis::pipe()
            .cmd("EXISTS")
            .arg(client_key(ns, &entry.client))
            .cmd("HINCRBY")
            .arg(attempts_key(ns, &entry.client))
            .arg(entry.seq)
            .arg(1)
            .cmd("PEXPIRE")
            .arg(attempts_key(ns, &entry.client))
            .arg(entry.ttl_ms)
            .ignore()
            .query(c)
    })?;
    if !alive {
        // Its client is gone: nobody would read the result.
        return finish(broker, ns, &id, None);
    }
    if attempts > entry.max_attempts {
        let last: Option<String> = broker.run(|c| {
            redis::cmd("HGET")
                .arg(attempts_key(ns, &entry.client))
                .arg(format!("{}:why", entry.seq))
                .query(c)
        })?;
        let outcome = Outcome::Poisoned {
            attempts: entry.max_attempts,
            last: last.unwrap_or_else(|| "unknown".into()),
        };
        return finish(broker, ns, &id, Some((&entry, outcome)));
    }
    let Ok((call, args)) = frame::take_from_payload::<Call>(&entry.payload) else {
        let outcome = Outcome::Failed("the task's call frame is malformed".into());
        return finish(broker, ns, &id, Some((&entry, outcome)));
    };
    let job_args = Encoded {
        bytes: args.to_vec(),
        fds: Vec::new(),
    };
    let profile = (entry.initializer.clone(), entry.timeout_ms);
    let (pool, busy) = match pools.get(&profile) {
        Ok(found) => found,
        Err(reason) => return finish(broker, ns, &id, Some((&entry, Outcome::Failed(reason)))),
    };
    busy.fetch_add(1, Ordering::AcqRel);
    held.ids
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone());
    let done = done.clone();
    let taken = Taken { id, entry };
    let deliver: Deliver = Box::new(move |r| {
        busy.fetch_sub(1, Ordering::AcqRel);
        let _ = done.send((taken, r));
    });
    pool.enqueue(Job {
        function: call.function,
        args: job_args,
        deliver,
        claim: None,
    });
    Ok(())
}

/// Answers a task (if there is an answer) and removes it from the stream,
/// in one transaction: a result is never written for a task that stays,
/// nor a task removed without its result. `None` drops a task nobody
/// waits for.
fn finish(
    broker: &mut Broker,
    ns: &str,
    id: &str,
    answer: Option<(&TaskEntry, Outcome)>,
) -> Result<(), ClusterError> {
    let result = match &answer {
        Some((entry, outcome)) => {
            let r = ResultEntry {
                seq: entry.seq,
                outcome: outcome.clone(),
            };
            Some(postcard::to_allocvec(&r).map_err(|e| ClusterError::Worker {
                reason: format!("cannot encode a result: {e}"),
            })?)
        }
        None => None,
    };
    let tasks = tasks_key(ns);
    broker.run(|c| {
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let (Some((entry, _)), Some(bytes)) = (&answer, &result) {
            let results = results_key(ns, &entry.client);
            let attempts = attempts_key(ns, &entry.client);
            pipe.cmd("XADD")
                .arg(&results)
                .arg("*")
                .arg(FIELD)
                .arg(bytes.as_slice())
                .ignore()
                .cmd("PEXPIRE")
                .arg(&results)
                .arg(entry.ttl_ms)
                .ignore()
                .cmd("HDEL")
                .arg(&attempts)
                .arg(entry.seq)
                .arg(format!("{}:why", entry.seq))
                .ignore();
        }
        pipe.cmd("XACK")
            .arg(&tasks)
            .arg(GROUP)
            .arg(id)
            .ignore()
            .cmd("XDEL")
            .arg(&tasks)
            .arg(id)
            .ignore()
            .query::<()>(c)
    })
}

/// The writer thread: results out, leases renewed.
fn write_results(
    cluster: &Cluster,
    consumer: &str,
    held: &Held,
    mut broker: Broker,
    done: &mpsc::Receiver<Finished>,
) {
    let ns = cluster.namespace_value();
    let lease = cluster.lease_value();
    let mut renewed = Instant::now();
    loop {
        match done.recv_timeout(lease / 3) {
            Ok((taken, result)) => {
                if let Err(e) = answer(&mut broker, ns, consumer, lease, &taken, result) {
                    eprintln!("brigade worker: cannot answer a task: {e}");
                }
                let mut ids = held.ids.lock().unwrap_or_else(|e| e.into_inner());
                ids.remove(&taken.id);
                drop(ids);
                held.room.notify_all();
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if renewed.elapsed() >= lease / 3 {
            renewed = Instant::now();
            let ids: Vec<String> = held
                .ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned()
                .collect();
            if !ids.is_empty() {
                let _ = broker.run(|c| {
                    redis::cmd("XCLAIM")
                        .arg(tasks_key(ns))
                        .arg(GROUP)
                        .arg(consumer)
                        .arg(0)
                        .arg(&ids)
                        .arg("JUSTID")
                        .query::<redis::Value>(c)
                });
            }
        }
    }
}

/// Turns a local outcome into the task's answer, or hands the task back
/// for another attempt if its process died.
fn answer(
    broker: &mut Broker,
    ns: &str,
    consumer: &str,
    lease: Duration,
    taken: &Taken,
    result: Result<(u32, Message), ProcessError>,
) -> Result<(), ClusterError> {
    let entry = &taken.entry;
    let outcome = match result {
        Ok((pid, message)) => {
            if !message.fds.is_empty() {
                Outcome::Failed(
                    "the result holds a descriptor (pipe, queue, shared memory), which cannot \
                     travel to another machine"
                        .into(),
                )
            } else if message.payload.len() as u64 > entry.max_message {
                let too_large = Reply::TooLarge {
                    len: message.payload.len(),
                    max: entry.max_message as usize,
                };
                Outcome::Reply {
                    pid,
                    payload: frame::to_payload(&too_large).unwrap_or_default(),
                }
            } else {
                Outcome::Reply {
                    pid,
                    payload: message.payload,
                }
            }
        }
        Err(
            e @ (ProcessError::WorkerDied { .. }
            | ProcessError::Exited { .. }
            | ProcessError::Start(_)
            | ProcessError::PoolClosed),
        ) => {
            // Its process died (or could not start): hand it back at once,
            // idle past the lease, for the next reclaim by any worker; the
            // attempt was counted when it was taken.
            let why = e.to_string();
            return broker.run(|c| {
                redis::pipe()
                    .cmd("HSET")
                    .arg(attempts_key(ns, &entry.client))
                    .arg(format!("{}:why", entry.seq))
                    .arg(&why)
                    .ignore()
                    .cmd("XCLAIM")
                    .arg(tasks_key(ns))
                    .arg(GROUP)
                    .arg(consumer)
                    .arg(0)
                    .arg(&taken.id)
                    .arg("IDLE")
                    .arg(lease.as_millis() as u64)
                    .arg("JUSTID")
                    .ignore()
                    .query::<()>(c)
            });
        }
        // The pool's time limit and initializer, enforced here as a local
        // pool enforces them: typed errors, no further attempt.
        Err(ProcessError::TimedOut { pid }) => Outcome::TimedOut { pid },
        Err(ProcessError::Panicked { pid, message }) => Outcome::Panicked { pid, message },
        Err(e) => Outcome::Failed(e.to_string()),
    };
    finish(broker, ns, &taken.id, Some((entry, outcome)))
}
