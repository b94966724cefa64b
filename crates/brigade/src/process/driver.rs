//! The pool's drivers: one thread per worker slot, which takes a task
//! from the queue, sends it to its worker, waits for the reply, and
//! replaces the worker when it dies, times out, or has served its quota.
//!
//! Because a driver knows which task its worker runs, a death fails exactly
//! that task. A task whose send fails never reached a worker and goes to a
//! fresh one; a task that was sent is answered once, never run again.
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
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::child::{Call, Hello};
use super::error::{Exit, ProcessError, StartError};
use super::frame;
use super::function::FnRef;
use super::handle::decode_reply;
use super::socket::{Message, RecvError};
use super::spawn::{Child, StartMethod};
use super::transfer::Encoded;

/// Where a task's outcome goes: the pool's caller decodes it to its type.
pub(crate) type Reply = Box<dyn FnOnce(Result<(u32, Message), ProcessError>) + Send>;

/// One queued task.
pub(crate) struct Job {
    pub(crate) function: FnRef,
    pub(crate) args: Encoded,
    pub(crate) reply: Reply,
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

/// A worker and how many tasks it has run.
struct Worker {
    child: Arc<Child>,
    done: usize,
}

/// The driver thread of worker slot `index`.
pub(crate) fn drive(shared: &Shared, index: usize) {
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
