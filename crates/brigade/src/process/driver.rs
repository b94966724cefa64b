//! The pool's drivers: one thread per worker slot, which takes a task
//! from the queue, sends it to its worker, waits for the reply, and
//! replaces the worker when it dies, times out, or has served its quota.
//!
//! Because a driver knows which task its worker runs, a death fails exactly
//! that task. A task the worker never started (its send failed, or the
//! worker died before it counted the task in its
//! [`Progress`](super::progress) word) goes to a fresh worker; a task it
//! started is answered once, never run again. The driver reads that word
//! only when the worker has died, so a call costs one message each way
//! and one wake-up of the driver, for the reply.
//!
//! ```
//! use brigade::process::ProcessPool;
//!
//! fn die() { std::process::abort() }
//! fn one() -> u8 { 1 }
//!
//! let pool = ProcessPool::new(1).unwrap();
//! assert!(pool.apply(die, ()).is_err());
//! // The same slot, a new worker.
//! assert_eq!(pool.apply(one, ()).unwrap(), 1);
//! ```

use std::collections::VecDeque;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::child::{Call, Hello, Reply};
use super::error::{Exit, ProcessError, StartError};
use super::frame::{self, FrameError};
use super::function::FnRef;
use super::join::decode_reply;
use super::progress::Progress;
use super::socket::{Message, Packet, RecvError};
use super::spawn::{Child, StartMethod, left};
use super::transfer::Encoded;
use crate::sys::process::Status;

/// Where a task's outcome goes: the pool's caller decodes it to its type.
pub(crate) type Deliver = Box<dyn FnOnce(Result<(u32, Message), ProcessError>) + Send>;

/// Asked when a driver takes a task: false if the task was cancelled
/// meanwhile and must not run (it was answered when it was cancelled).
pub(crate) type Claim = Box<dyn FnOnce() -> bool + Send>;

/// One queued task.
pub(crate) struct Job {
    pub(crate) function: FnRef,
    pub(crate) args: Encoded,
    pub(crate) deliver: Deliver,
    pub(crate) claim: Option<Claim>,
}

/// What the pool and its drivers share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) work: Condvar,
    pub(crate) config: Config,
}

/// The queue and the pool's life cycle, under one lock.
pub(crate) struct State {
    pub(crate) queue: VecDeque<Job>,
    pub(crate) closed: bool,
    pub(crate) terminated: bool,
    /// The worker each driver runs, so `terminate` can kill it.
    pub(crate) workers: Vec<Option<Arc<Child>>>,
}

/// The pool's settings, fixed when it is built.
pub(crate) struct Config {
    pub(crate) method: StartMethod,
    pub(crate) max_tasks_per_child: Option<usize>,
    pub(crate) task_timeout: Option<Duration>,
    pub(crate) initializer: Option<(FnRef, Encoded)>,
    /// The limit on one message, either way.
    pub(crate) max_message: usize,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next job, or `None` when the driver should stop.
    pub(crate) fn next_job(&self) -> Option<Job> {
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

    pub(crate) fn set_worker(&self, index: usize, child: Option<Arc<Child>>) {
        self.lock().workers[index] = child;
    }

    pub(crate) fn terminated(&self) -> bool {
        self.lock().terminated
    }
}

/// A worker, how many tasks it has run, and how many calls it was sent
/// (which its progress word is compared with when it dies).
struct Worker {
    child: Arc<Child>,
    done: usize,
    progress: Progress,
    sent: u64,
}

/// A job taken from the queue while the worker runs another, and sent
/// behind it (as its `seq`th call), so that the worker finds it waiting
/// when it replies instead of idling until this thread has woken up,
/// delivered the reply and sent the next call. Only jobs that cannot be
/// cancelled (a map's chunks) are taken early, and one at a time, as
/// Python's `ProcessPoolExecutor` moves one call beyond its workers onto
/// its call queue, where cancelling no longer reaches it.
struct Ahead {
    job: Job,
    packet: Packet,
    /// Its number among the calls of the current worker, once sent.
    seq: Option<u64>,
}

/// The driver thread of worker slot `index`.
pub(crate) fn drive(shared: &Shared, index: usize) {
    let mut worker: Option<Worker> = None;
    let mut ahead: Option<Ahead> = None;
    loop {
        let (mut job, early) = match ahead.take() {
            Some(a) => (a.job, Some((a.packet, a.seq))),
            None => match shared.next_job() {
                Some(job) => (job, None),
                None => break,
            },
        };
        if job.claim.take().is_some_and(|claim| !claim()) {
            continue;
        }
        let (result, keep) = run_job(shared, index, &mut worker, &mut job, early, &mut ahead);
        (job.deliver)(result);
        if !keep {
            if let Some(w) = worker.take() {
                retire(&w.child);
                release_ahead(&mut ahead, &w, shared.terminated());
            }
            shared.set_worker(index, None);
        }
    }
    if let Some(w) = worker.take() {
        retire(&w.child);
    }
    shared.set_worker(index, None);
}

/// How many fresh workers a task is offered to before the pool gives up on
/// it (workers that die before they take any task, such as at start-up).
const OFFERS: usize = 3;

/// The packet of a job's call, or the job's answer if it cannot be sent
/// (the caller's error, found before any worker sees it: no worker is
/// killed for it, and it is not offered to fresh ones).
fn packet_of(config: &Config, job: &mut Job) -> Result<Packet, ProcessError> {
    let call_bytes = frame::to_payload(&Call {
        function: job.function,
    })
    .map_err(|e| ProcessError::Start(StartError::Encode(e)))?;
    let len = call_bytes.len() + job.args.bytes.len();
    if len > config.max_message {
        let too_large = StartError::TooLarge {
            len,
            max: config.max_message,
        };
        return Err(ProcessError::Start(too_large));
    }
    // The call's name goes into the packet's head, and the arguments'
    // encoding becomes its body, moved rather than copied (the packet is
    // what is sent, to this worker or the next; the descriptors stay with
    // the job, open until it is done).
    let fds = job.args.raw_fds();
    Packet::framed(&[&call_bytes], std::mem::take(&mut job.args.bytes), &fds)
        .map_err(|e| ProcessError::Start(StartError::Io(e)))
}

/// Runs one job (whose packet, if it was taken early, is `early`, with its
/// number if it was sent); returns its result and whether the worker may
/// be kept.
fn run_job(
    shared: &Shared,
    index: usize,
    worker: &mut Option<Worker>,
    job: &mut Job,
    early: Option<(Packet, Option<u64>)>,
    ahead: &mut Option<Ahead>,
) -> (Result<(u32, Message), ProcessError>, bool) {
    let config = &shared.config;
    let (packet, mut sent) = match early {
        Some(early) => early,
        None => match packet_of(config, job) {
            Ok(packet) => (packet, None),
            Err(e) => return (Err(e), true),
        },
    };
    let mut last_death = None;
    for _ in 0..OFFERS {
        if worker.is_none() {
            match start_worker(config) {
                Ok(w) => {
                    shared.set_worker(index, Some(w.child.clone()));
                    *worker = Some(w);
                }
                Err(e) => return (Err(e), false),
            }
        }
        if shared.terminated() {
            return (Err(ProcessError::PoolClosed), false);
        }
        let w = worker.as_mut().expect("started above");
        let pid = w.child.pid().unwrap_or(0); // known: `started`
        let seq = match sent.take() {
            Some(seq) => Ok(seq),
            None => send_call(w, &packet),
        };
        let reply = seq.and_then(|seq| {
            if ahead.is_none() {
                *ahead = send_ahead(shared, w);
            }
            wait_reply(w, seq, config.task_timeout, config.max_message)
        });
        match reply {
            Ok(message) => {
                w.done += 1;
                let keep = config.max_tasks_per_child.is_none_or(|max| w.done < max);
                return (Ok((pid, message)), keep);
            }
            Err(Failure::NotTaken) => {
                // The worker died idle, before it took the task: the task
                // never ran, so a fresh worker may run it (and the one
                // sent behind it, which it never took either).
                let status = w.child.kill();
                last_death = Some((pid, status.map_or(Exit::Unknown, Exit::from)));
                release_ahead(ahead, w, shared.terminated());
                *worker = None;
                shared.set_worker(index, None);
            }
            Err(Failure::Timeout) => {
                w.child.kill();
                return (Err(ProcessError::TimedOut { pid }), false);
            }
            Err(Failure::Died) => {
                let status = end_of(&w.child);
                if shared.terminated() {
                    return (Err(ProcessError::PoolClosed), false);
                }
                return match status.map_or(Exit::Unknown, Exit::from) {
                    // It exited by itself inside the task: as a Process
                    // reports it.
                    Exit::Code(code) => (Err(ProcessError::Exited { pid, code }), false),
                    cause => (Err(ProcessError::WorkerDied { pid, cause }), false),
                };
            }
            Err(Failure::Channel(source)) => {
                w.child.kill();
                return (Err(ProcessError::Channel { pid, source }), false);
            }
        }
    }
    if shared.terminated() {
        return (Err(ProcessError::PoolClosed), false);
    }
    let (pid, cause) = last_death.unwrap_or((0, Exit::Unknown));
    (Err(ProcessError::WorkerDied { pid, cause }), false)
}

/// Takes the next job early and sends it to `w` behind the call it runs,
/// if the queue's next job is a chunk (it cannot be cancelled) and `w`
/// will still serve after its current call. The send does not wait: with
/// no room in the channel, the job is sent after the reply, as usual.
fn send_ahead(shared: &Shared, w: &mut Worker) -> Option<Ahead> {
    let config = &shared.config;
    if config
        .max_tasks_per_child
        .is_some_and(|max| w.done + 2 > max)
    {
        return None;
    }
    let mut job = {
        let mut state = shared.lock();
        if state.terminated || state.queue.front().is_none_or(|job| job.claim.is_some()) {
            return None;
        }
        state.queue.pop_front()?
    };
    match packet_of(config, &mut job) {
        Ok(packet) => {
            let seq = match w.child.socket.send_packet(&packet, true) {
                Ok(()) => {
                    w.sent += 1;
                    Some(w.sent)
                }
                // No room, or the worker is gone (which the wait for the
                // current call finds out): sent later, to whichever worker.
                Err(_) => None,
            };
            Some(Ahead { job, packet, seq })
        }
        Err(e) => {
            (job.deliver)(Err(e));
            None
        }
    }
}

/// `w` has ended and been reaped, so its progress word is final: a job
/// sent ahead to it that it never started goes to the next worker; one it
/// started fails with its death, as the job it was running does (or as
/// every running task does once the pool is `terminated`).
fn release_ahead(ahead: &mut Option<Ahead>, w: &Worker, terminated: bool) {
    let Some(seq) = ahead.as_ref().and_then(|a| a.seq) else {
        return;
    };
    if w.progress.started() < seq {
        if let Some(a) = ahead.as_mut() {
            a.seq = None;
        }
        return;
    }
    if let Some(a) = ahead.take() {
        let pid = w.child.pid().unwrap_or(0);
        let cause = w.child.try_status().map_or(Exit::Unknown, Exit::from);
        (a.job.deliver)(Err(if terminated {
            ProcessError::PoolClosed
        } else {
            ProcessError::WorkerDied { pid, cause }
        }));
    }
}

/// Why a call to a worker gave no reply.
enum Failure {
    /// The worker was gone before it took the call: the call did not run.
    NotTaken,
    /// The worker took the call and died.
    Died,
    /// The time limit passed.
    Timeout,
    /// The worker sent something that is not a valid reply.
    Channel(FrameError),
}

/// Sends a call; returns its number among the worker's calls.
fn send_call(worker: &mut Worker, packet: &Packet) -> Result<u64, Failure> {
    if worker.child.socket.send_packet(packet, false).is_err() {
        return Err(Failure::NotTaken);
    }
    worker.sent += 1;
    Ok(worker.sent)
}

/// Waits for the reply to call number `seq` (the time limit counts from
/// now: for a call sent ahead, from when the worker could start it). A
/// worker whose channel closes before the reply has died; its progress
/// word, final then, tells a call it never started (safe to offer to
/// another worker) from one it ran.
fn wait_reply(
    worker: &Worker,
    seq: u64,
    timeout: Option<Duration>,
    max: usize,
) -> Result<Message, Failure> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let message = worker
        .child
        .socket
        .recv_max(left(deadline), max)
        .map_err(|e| match e {
            // Every descriptor of the worker's end is closed, so the
            // worker has exited (its memory went before its descriptors)
            // and can no longer count: this is its last word.
            RecvError::Closed if worker.progress.started() < seq => Failure::NotTaken,
            other => failure(other),
        })?;
    match frame::take_from_payload::<Reply>(&message.payload) {
        Ok(_) => Ok(message),
        Err(_) => Err(Failure::Channel(unexpected("a reply"))),
    }
}

fn failure(e: RecvError) -> Failure {
    match e {
        RecvError::Closed => Failure::Died,
        RecvError::Timeout => Failure::Timeout,
        RecvError::Frame(f) => Failure::Channel(f),
    }
}

fn unexpected(what: &str) -> FrameError {
    FrameError::Malformed(format!("the worker sent something other than {what}"))
}

/// A worker's name, as Python's (`SpawnPoolWorker-N`,
/// `ForkServerPoolWorker-N`), numbered across the program's pools.
fn worker_name(method: StartMethod) -> String {
    static WORKERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let n = WORKERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match method {
        StartMethod::Spawn => format!("SpawnPoolWorker-{n}"),
        StartMethod::Forkserver => format!("ForkServerPoolWorker-{n}"),
    }
}

/// Starts a worker and runs the initializer in it.
fn start_worker(config: &Config) -> Result<Worker, ProcessError> {
    let start = |e| ProcessError::Start(StartError::Io(e));
    let mut hello = Hello::new(true, true, config.max_message).map_err(start)?;
    hello.name = worker_name(config.method);
    hello.progress = true;
    let progress = Progress::new().map_err(start)?;
    let word = [progress.as_fd().as_raw_fd()];
    // A pool needs its worker now: a fork that failed is the pool's error.
    let child = Arc::new(
        Child::start(config.method, &hello, Some((&[], &word)))
            .and_then(Child::started)
            .map_err(start)?,
    );
    let mut worker = Worker {
        child,
        done: 0,
        progress,
        sent: 0,
    };
    if let Some((function, args)) = &config.initializer {
        let child = worker.child.clone();
        let pid = child.pid().unwrap_or(0); // known: `started`
        let call_bytes = frame::to_payload(&Call {
            function: *function,
        })
        .map_err(|e| ProcessError::Start(StartError::Encode(e)))?;
        let packet =
            Packet::from_parts(&[&call_bytes, &args.bytes], &args.raw_fds()).map_err(start)?;
        // The initializer has no time limit.
        let reply = send_call(&mut worker, &packet)
            .and_then(|seq| wait_reply(&worker, seq, None, config.max_message));
        let result = match reply {
            Ok(message) => decode_reply::<()>(pid, message),
            Err(Failure::Channel(source)) => Err(ProcessError::Channel { pid, source }),
            Err(_) => Err(ProcessError::WorkerDied {
                pid,
                cause: child.kill().map_or(Exit::Unknown, Exit::from),
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
    Ok(worker)
}

/// How long a worker whose channel closed, or that was asked to stop, may
/// take to exit before it is killed. No path of the pool waits for a
/// worker without a bound: after this grace it is killed, and a killed
/// process ends.
const GRACE: Duration = Duration::from_secs(5);

/// The exit status of a worker whose channel closed: it normally ends at
/// once; one that lives on (it closed its channel itself) is killed after
/// [`GRACE`].
fn end_of(child: &Child) -> Option<Status> {
    match child.wait(Some(GRACE)) {
        Ok(Some(status)) => Some(status),
        _ => child.kill(),
    }
}

/// Stops a worker: closing its channel makes it exit; then reap it.
fn retire(child: &Child) {
    child.shutdown();
    end_of(child);
}
