//! The pool's side of a cluster: two threads that carry tasks from the
//! pool's queue to the broker and results back.
//!
//! The *sender* takes jobs from the same queue the local drivers take
//! from (so local and remote workers share the work, each taking what it
//! can), writes each as an entry of the namespace's task stream, and keeps
//! it in the *flight table* under its sequence number, at most
//! [`Cluster::window`](super::Cluster::window) at a time. The *receiver*
//! blocks on the client's own result stream; each result finishes the
//! flight of its number, and a second result for the same number (a
//! redelivered task that ran twice) finds no flight and is dropped: each
//! result reaches the caller exactly once.
//!
//! The receiver also renews the client's keys (its liveness key, its result
//! stream, its attempt counts) so that they live as long as the client and
//! expire after it. After a broker restart it re-queues the flights whose
//! task entries the restart lost (a broker without persistence).
//!
//! ```
//! // Internal: reached through `PoolBuilder::cluster`.
//! # let _ = brigade::process::Cluster::new("redis://127.0.0.1/");
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::child::Call;
use super::cluster::Cluster;
use super::cluster_broker::Broker;
use super::cluster_error::ClusterError;
use super::cluster_wire::{
    self as wire, FIELD, Outcome, ResultEntry, TaskEntry, attempts_key, client_key, results_key,
    tasks_key,
};
use super::driver::{Deliver, Job, Shared};
use super::error::{ProcessError, StartError};
use super::frame;
use super::socket::Message;

/// A task at the broker, waiting for its result.
struct Flight {
    deliver: Deliver,
    /// The encoded entry, to queue again if a restart loses it.
    entry: Vec<u8>,
    /// Its id in the task stream.
    id: String,
}

struct Table {
    flights: HashMap<u64, Flight>,
    /// The sender has stopped: no flight will be added.
    sender_done: bool,
}

/// What the two threads share.
struct Link {
    table: Mutex<Table>,
    room: Condvar,
    cluster: Cluster,
    client: String,
    build: String,
    max_message: usize,
    /// The pool's time limit, for the worker to enforce.
    timeout_ms: Option<u64>,
    /// The pool's initializer as a worker runs it (a `Call` frame and
    /// its arguments).
    initializer: Option<Vec<u8>>,
}

impl Link {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Connects to the broker and starts the sender and the receiver.
pub(crate) fn start(
    shared: Arc<Shared>,
    cluster: Cluster,
) -> Result<Vec<JoinHandle<()>>, StartError> {
    let initializer = match &shared.config.initializer {
        None => None,
        // Descriptors cannot travel: the pool cannot start its remote
        // workers as it was asked to.
        Some((_, args)) if !args.fds.is_empty() => {
            return Err(StartError::Cluster(ClusterError::Descriptors));
        }
        Some((function, args)) => {
            let mut payload = frame::to_payload(&Call {
                function: *function,
            })
            .map_err(StartError::Encode)?;
            payload.extend_from_slice(&args.bytes);
            Some(payload)
        }
    };
    let timeout_ms = shared
        .config
        .task_timeout
        .map(|t| t.as_millis().clamp(1, u128::from(u64::MAX)) as u64);
    let open = || Broker::open(cluster.url(), cluster.broker_timeout_value());
    let mut sending = open().map_err(StartError::Cluster)?;
    let receiving = open().map_err(StartError::Cluster)?;
    let link = Arc::new(Link {
        table: Mutex::new(Table {
            flights: HashMap::new(),
            sender_done: false,
        }),
        room: Condvar::new(),
        client: client_id(),
        build: super::cluster_build::build_identity(),
        max_message: shared.config.max_message,
        timeout_ms,
        initializer,
        cluster,
    });
    renew(&mut sending, &link).map_err(StartError::Cluster)?;
    let mut threads = Vec::new();
    let (s, l) = (shared.clone(), link.clone());
    threads.push(
        std::thread::Builder::new()
            .name("brigade-cluster-send".into())
            .spawn(move || send(&s, &l, sending))
            .map_err(StartError::Io)?,
    );
    threads.push(
        std::thread::Builder::new()
            .name("brigade-cluster-receive".into())
            .spawn(move || receive(&shared, &link, receiving))
            .map_err(StartError::Io)?,
    );
    Ok(threads)
}

/// A client's id: unique across machines and restarts (host name, pid,
/// time and a counter).
fn client_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{}-{}-{nanos:x}-{n}", host.trim(), std::process::id())
}

/// Renews the time to live of the client's keys.
fn renew(broker: &mut Broker, link: &Link) -> Result<(), ClusterError> {
    let ns = link.cluster.namespace_value();
    let ttl = ttl_ms(&link.cluster);
    broker.run(|c| {
        redis::pipe()
            .cmd("SET")
            .arg(client_key(ns, &link.client))
            .arg(&link.build)
            .arg("PX")
            .arg(ttl)
            .ignore()
            .cmd("PEXPIRE")
            .arg(results_key(ns, &link.client))
            .arg(ttl)
            .ignore()
            .cmd("PEXPIRE")
            .arg(attempts_key(ns, &link.client))
            .arg(ttl)
            .ignore()
            .cmd("PEXPIRE")
            .arg(tasks_key(ns))
            .arg(ttl)
            .ignore()
            .query::<()>(c)
    })
}

fn ttl_ms(cluster: &Cluster) -> u64 {
    cluster.key_ttl_value().as_millis().max(1) as u64
}

/// The sender thread.
fn send(shared: &Shared, link: &Link, mut broker: Broker) {
    let mut seq: u64 = 0;
    let window = link.cluster.window_value();
    loop {
        // Room in the window first, then work: a job is only taken when it
        // can go out at once (otherwise a local driver should have it).
        {
            let mut table = link.lock();
            while table.flights.len() >= window && !shared.terminated() {
                table = link
                    .room
                    .wait_timeout(table, Duration::from_millis(200))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        let Some(first) = shared.next_job() else {
            break;
        };
        let mut jobs = vec![first];
        {
            let room = window.saturating_sub(link.lock().flights.len() + 1);
            let mut state = shared.lock();
            while jobs.len() <= room {
                match state.queue.pop_front() {
                    Some(job) => jobs.push(job),
                    None => break,
                }
            }
        }
        let mut batch = Vec::new();
        for mut job in jobs {
            if job.claim.take().is_some_and(|claim| !claim()) {
                continue;
            }
            match entry_for(link, &job, seq + 1) {
                Ok(entry) => {
                    seq += 1;
                    batch.push((seq, entry, job.deliver));
                }
                Err(e) => (job.deliver)(Err(e)),
            }
        }
        if batch.is_empty() {
            continue;
        }
        // In the table before the broker has them: a result cannot
        // arrive before its flight.
        let seqs: Vec<u64> = batch.iter().map(|(s, _, _)| *s).collect();
        let entries: Vec<Vec<u8>> = batch.iter().map(|(_, e, _)| e.clone()).collect();
        {
            let mut table = link.lock();
            for (seq, entry, deliver) in batch {
                table.flights.insert(
                    seq,
                    Flight {
                        deliver,
                        entry,
                        id: String::new(),
                    },
                );
            }
        }
        let key = tasks_key(link.cluster.namespace_value());
        let ttl = ttl_ms(&link.cluster);
        let added = broker.run(|c| {
            let mut pipe = redis::pipe();
            for e in &entries {
                pipe.cmd("XADD")
                    .arg(&key)
                    .arg("*")
                    .arg(FIELD)
                    .arg(e.as_slice());
            }
            pipe.cmd("PEXPIRE").arg(&key).arg(ttl).ignore();
            pipe.query::<Vec<String>>(c)
        });
        let mut table = link.lock();
        match added {
            Ok(ids) => {
                for (seq, id) in seqs.iter().zip(ids) {
                    if let Some(f) = table.flights.get_mut(seq) {
                        f.id = id;
                    }
                }
            }
            Err(e) => {
                let failed: Vec<Flight> = seqs
                    .iter()
                    .filter_map(|s| table.flights.remove(s))
                    .collect();
                drop(table);
                for f in failed {
                    (f.deliver)(Err(ProcessError::Cluster(e.clone())));
                }
                link.room.notify_all();
            }
        }
    }
    link.lock().sender_done = true;
    link.room.notify_all();
}

/// A job as a task entry; a job that cannot travel fails here, before the
/// broker sees it, with the local pool's errors.
fn entry_for(link: &Link, job: &Job, seq: u64) -> Result<Vec<u8>, ProcessError> {
    if !job.args.fds.is_empty() {
        return Err(ProcessError::Cluster(ClusterError::Descriptors));
    }
    let mut payload = frame::to_payload(&Call {
        function: job.function,
    })
    .map_err(|e| ProcessError::Start(StartError::Encode(e)))?;
    payload.extend_from_slice(&job.args.bytes);
    if payload.len() > link.max_message {
        return Err(ProcessError::Start(StartError::TooLarge {
            len: payload.len(),
            max: link.max_message,
        }));
    }
    let entry = TaskEntry {
        client: link.client.clone(),
        seq,
        build: link.build.clone(),
        max_attempts: link.cluster.max_attempts_value(),
        max_message: link.max_message as u64,
        ttl_ms: ttl_ms(&link.cluster),
        payload,
        timeout_ms: link.timeout_ms,
        initializer: link.initializer.clone(),
    };
    postcard::to_allocvec(&entry).map_err(|e| {
        ProcessError::Start(StartError::Encode(frame::FrameError::Encode(e.to_string())))
    })
}

/// The receiver thread.
fn receive(shared: &Shared, link: &Link, mut broker: Broker) {
    let ns = link.cluster.namespace_value().to_owned();
    let results = results_key(&ns, &link.client);
    let renew_every = link.cluster.key_ttl_value() / 3;
    let mut renewed = Instant::now();
    let mut last = "0-0".to_string();
    let pickup = link.cluster.pickup_timeout_value();
    // The last sign of a worker: a result, or a table with nothing to wait
    // for (the wait for a worker starts with the first task).
    let mut progress = Instant::now();
    let mut checked = Instant::now();
    loop {
        if shared.terminated() {
            fail_all(link, || ProcessError::PoolClosed);
            break;
        }
        {
            let table = link.lock();
            if table.flights.is_empty() {
                if table.sender_done {
                    break;
                }
                progress = Instant::now();
            }
        }
        if progress.elapsed() >= pickup && checked.elapsed() >= (pickup / 4).min(SECOND) {
            checked = Instant::now();
            withdraw_untaken(link, &mut broker, pickup);
        }
        if renewed.elapsed() >= renew_every {
            renewed = Instant::now();
            if let Err(e) = renew(&mut broker, link) {
                fail_all(link, || ProcessError::Cluster(e.clone()));
                continue;
            }
        }
        let read = broker.run(|c| {
            redis::cmd("XREAD")
                .arg("COUNT")
                .arg(1024)
                .arg("BLOCK")
                .arg(200)
                .arg("STREAMS")
                .arg(&results)
                .arg(&last)
                .query::<redis::Value>(c)
        });
        let reply = match read {
            Ok(reply) => reply,
            Err(e) => {
                fail_all(link, || ProcessError::Cluster(e.clone()));
                continue;
            }
        };
        if broker.take_restart() {
            requeue_lost(link, &mut broker);
        }
        let got = wire::read_entries(&reply);
        if got.is_empty() {
            continue;
        }
        progress = Instant::now();
        let mut done = Vec::new();
        {
            let mut table = link.lock();
            for (_, data) in &got {
                let Some(result) = data
                    .as_deref()
                    .and_then(|d| postcard::from_bytes::<ResultEntry>(d).ok())
                else {
                    continue;
                };
                // A duplicate (the task ran twice) finds no flight.
                if let Some(flight) = table.flights.remove(&result.seq) {
                    done.push((flight, result.outcome));
                }
            }
        }
        if let Some((id, _)) = got.last() {
            last = id.clone();
        }
        link.room.notify_all();
        for (flight, outcome) in done {
            (flight.deliver)(deliverable(link, outcome));
        }
        // Read results need not stay: the stream holds only what is unread.
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        let _ = broker.run(|c| {
            redis::cmd("XDEL")
                .arg(&results)
                .arg(&ids)
                .query::<redis::Value>(c)
        });
    }
    // Nothing of this client need stay at the broker.
    let _ = broker.run(|c| {
        redis::cmd("DEL")
            .arg(client_key(&ns, &link.client))
            .arg(&results)
            .arg(attempts_key(&ns, &link.client))
            .query::<redis::Value>(c)
    });
}

/// A worker's outcome as the local drivers hand theirs to a task.
fn deliverable(link: &Link, outcome: Outcome) -> Result<(u32, Message), ProcessError> {
    match outcome {
        Outcome::Reply { pid, payload } => Ok((
            pid,
            Message {
                payload,
                fds: Vec::new(),
            },
        )),
        Outcome::TimedOut { pid } => Err(ProcessError::TimedOut { pid }),
        Outcome::Panicked { pid, message } => Err(ProcessError::Panicked { pid, message }),
        Outcome::Poisoned { attempts, last } => {
            Err(ProcessError::Cluster(ClusterError::Poisoned {
                attempts,
                last,
            }))
        }
        Outcome::Mismatch { worker } => Err(ProcessError::Cluster(ClusterError::BuildMismatch {
            worker,
            client: link.build.clone(),
        })),
        Outcome::Failed(reason) => Err(ProcessError::Refused { pid: 0, reason }),
    }
}

/// Fails every flight (the broker is gone past the bound, or the pool was
/// terminated).
fn fail_all(link: &Link, error: impl Fn() -> ProcessError) {
    let flights: Vec<Flight> = link.lock().flights.drain().map(|(_, f)| f).collect();
    link.room.notify_all();
    for f in flights {
        (f.deliver)(Err(error()));
    }
}

const SECOND: Duration = Duration::from_secs(1);

/// Takes back from the broker, in one step per task, each flight that no
/// live worker holds: not delivered to any worker, or delivered and idle
/// past the bound (its worker stopped renewing the lease, and no other
/// worker reclaimed it). A task that a worker holds is left alone; a script
/// runs atomically, so a worker cannot take a task as it is withdrawn.
const WITHDRAW: &str = r"
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  local pending = type(p) == 'table' and p.err == nil and #p > 0
  if pending and p[1][3] < tonumber(ARGV[2]) then
    out[#out + 1] = 0
  else
    if pending then
      redis.call('XACK', KEYS[1], ARGV[1], id)
    end
    out[#out + 1] = redis.call('XDEL', KEYS[1], id)
  end
end
return out
";

/// No worker has answered for `pickup`: fails the flights no live worker
/// holds with [`ClusterError::NotTaken`], withdrawn from the broker first.
fn withdraw_untaken(link: &Link, broker: &mut Broker, pickup: Duration) {
    let key = tasks_key(link.cluster.namespace_value());
    let flights: Vec<(u64, String)> = link
        .lock()
        .flights
        .iter()
        .filter(|(_, f)| !f.id.is_empty())
        .map(|(s, f)| (*s, f.id.clone()))
        .collect();
    if flights.is_empty() {
        return;
    }
    let idle = pickup.as_millis().min(u128::from(u64::MAX)) as u64;
    let withdrawn = broker.run(|c| {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(WITHDRAW)
            .arg(1)
            .arg(&key)
            .arg(wire::GROUP)
            .arg(idle);
        for (_, id) in &flights {
            cmd.arg(id);
        }
        cmd.query::<Vec<i64>>(c)
    });
    // A broker that refuses the script (a user without `EVAL`) or is
    // away past its bound still ends the wait: the flights fail with its
    // error (a worker that takes one later is answered by nobody).
    let error = withdrawn.as_ref().err().cloned();
    let verdicts = withdrawn.unwrap_or_else(|_| vec![1; flights.len()]);
    let failed: Vec<Flight> = {
        let mut table = link.lock();
        flights
            .iter()
            .zip(verdicts)
            .filter(|(_, n)| *n == 1)
            .filter_map(|((seq, _), _)| table.flights.remove(seq))
            .collect()
    };
    if failed.is_empty() {
        return;
    }
    link.room.notify_all();
    for f in failed {
        let e = error
            .clone()
            .unwrap_or(ClusterError::NotTaken { waited: pickup });
        (f.deliver)(Err(ProcessError::Cluster(e)));
    }
}

/// After a broker restart: queues again each flight whose task entry is
/// gone from the stream (a broker that kept no data). A task that had run
/// and whose result the restart kept is answered by that result, and the
/// second run's result is dropped as a duplicate.
fn requeue_lost(link: &Link, broker: &mut Broker) {
    let key = tasks_key(link.cluster.namespace_value());
    let flights: Vec<(u64, String, Vec<u8>)> = link
        .lock()
        .flights
        .iter()
        .map(|(s, f)| (*s, f.id.clone(), f.entry.clone()))
        .collect();
    for (seq, id, entry) in flights {
        let kept = !id.is_empty()
            && broker
                .run(|c| {
                    redis::cmd("XRANGE")
                        .arg(&key)
                        .arg(&id)
                        .arg(&id)
                        .query::<redis::Value>(c)
                })
                .is_ok_and(|v| !wire::entries(&v).is_empty());
        if kept {
            continue;
        }
        if let Ok(new_id) = broker.run(|c| {
            redis::cmd("XADD")
                .arg(&key)
                .arg("*")
                .arg(FIELD)
                .arg(entry.as_slice())
                .query::<String>(c)
        }) {
            if let Some(f) = link.lock().flights.get_mut(&seq) {
                f.id = new_id;
            }
        }
    }
}
