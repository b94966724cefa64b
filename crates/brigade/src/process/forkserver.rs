//! The forkserver start method: a small server process that forks workers
//! on request, as CPython's `forkserver`.
//!
//! The server is a spawned copy of the program that never leaves brigade's
//! start-up code (see [what a program needs](super#what-a-program-needs)): it
//! has one thread, no locks
//! held, and little memory, so `fork` is safe in it and fast (no `exec`,
//! no dynamic loading, no start-up of the Rust runtime). It is started on
//! first use, from any thread, and ends when its parent ends (it sees its
//! channel close).
//!
//! For each worker the parent sends the worker's end of a fresh socketpair
//! and its own stdout and stderr; the server forks, and the worker takes
//! those descriptors (closing every other one) and serves the parent
//! exactly as a spawned child does. Its stdin is the server's: `/dev/null`.
//! The server answers with the worker's pid and a pidfd for it.
//!
//! The worker is forked as the server's sibling (`clone` with
//! `CLONE_PARENT`): it is the parent program's own child, which waits for
//! it and reads its exit status exactly as for a spawned child. The server
//! keeps nothing of its workers, so it stays as small as it started, and
//! every fork copies the same few descriptors and pages. (glibc's `fork`
//! takes no flags; brigade's `sys::process::fork_sibling`
//! does what glibc's `fork` does for the worker's thread id and robust
//! futex list. On a kernel without `PR_GET_TID_ADDRESS`, the one thing it
//! cannot do is update glibc's cached thread id, which only the `pthread_*`
//! calls that name the main thread by its id would see.)
//!
//! Requests are pipelined: starting a process sends its request and
//! returns a ticket, and the server's answer is read when the process is
//! first needed. A parent that starts many processes therefore waits for
//! no fork: the server forks back to back while the parent sends the
//! next requests, and the workers run meanwhile on the other cores. At most
//! 32 requests go unanswered before the next one reads ahead, so
//! that the socket's buffers can never fill both ways.
//!
//! ```
//! use brigade::process::{Process, StartMethod};
//!
//! fn double(n: i32) -> i32 { 2 * n }
//!
//! let mut p = Process::new(double, (21,)).start_method(StartMethod::Forkserver);
//! p.start().unwrap();
//! assert_eq!(p.join().unwrap(), 42);
//! ```

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Mutex;

use super::child::{self, Hello};
use super::frame;
use super::socket::{RecvError, Socket};
use super::spawn::spawn_self;
use crate::sys::process as sys_process;
use crate::sys::process::Sibling;

/// A forked worker as the server reports it.
pub(crate) struct Worker {
    pub(crate) pid: libc::pid_t,
    pub(crate) pidfd: OwnedFd,
}

struct Server {
    pid: libc::pid_t,
    socket: Socket,
    /// Which server this is: tickets of an earlier one that died fail.
    generation: u64,
    /// The sequence number the next request gets.
    next_request: u64,
    /// The sequence number of the next reply to read (replies come in
    /// request order).
    next_reply: u64,
    /// Replies read while looking for another one, by sequence number.
    early: HashMap<u64, io::Result<Worker>>,
    /// Requests whose ticket was dropped unread: their replies are
    /// discarded (closing the descriptors) when they arrive.
    dropped: HashSet<u64>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing the channel ends the server; reap it.
        let (a, _b) = match Socket::pair() {
            Ok(p) => p,
            Err(_) => return,
        };
        drop(std::mem::replace(&mut self.socket, a));
        let _ = sys_process::wait(self.pid, true);
    }
}

/// The server, and how many servers have been started (for generations).
struct State {
    server: Option<Server>,
    launched: u64,
}

static SERVER: Mutex<State> = Mutex::new(State {
    server: None,
    launched: 0,
});

fn lock() -> std::sync::MutexGuard<'static, State> {
    SERVER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the forkserver now rather than at first use.
///
/// # Examples
/// Pay the server's start-up before the first child needs it:
/// ```
/// use brigade::process::{Process, StartMethod, forkserver};
///
/// fn one() -> u8 {
///     1
/// }
///
/// forkserver::start().unwrap();
/// forkserver::start().unwrap(); // already running: nothing to do
/// let mut p = Process::new(one, ()).start_method(StartMethod::Forkserver);
/// p.start().unwrap();
/// assert_eq!(p.join().unwrap(), 1);
/// ```
///
/// # Errors
/// The error of starting the server process (out of processes or
/// descriptors).
pub fn start() -> io::Result<()> {
    let mut state = lock();
    if state.server.is_none() {
        launch(&mut state)?;
    }
    Ok(())
}

fn launch(state: &mut State) -> io::Result<()> {
    child::ensure_linked();
    let (ours, theirs) = Socket::pair()?;
    let pid = spawn_self(theirs.as_fd(), "forkserver")?;
    drop(theirs);
    state.launched += 1;
    let server = Server {
        pid,
        socket: ours,
        generation: state.launched,
        next_request: 0,
        next_reply: 0,
        early: HashMap::new(),
        dropped: HashSet::new(),
    };
    let hello = Hello::new(true, true, frame::MAX_PAYLOAD)?;
    server
        .socket
        .send(&frame::to_payload(&hello).map_err(io::Error::other)?, &[])?;
    state.server = Some(server);
    Ok(())
}

/// A fork requested and not yet answered: [`collect`] it for the worker.
///
/// Requests are pipelined: [`request`] only sends, so a parent starting
/// many processes keeps the server forking back to back instead of waiting
/// a round trip (and a fork) per process. The server answers in request
/// order; whoever collects reads the replies up to its own and keeps the
/// others for their tickets.
#[derive(Debug)]
pub(crate) struct Ticket {
    generation: u64,
    seq: u64,
    collected: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.collected {
            return;
        }
        let mut state = lock();
        if let Some(server) = state
            .server
            .as_mut()
            .filter(|s| s.generation == self.generation)
        {
            if server.early.remove(&self.seq).is_none() {
                server.dropped.insert(self.seq);
            }
        }
    }
}

/// Asks the server to fork a worker that serves `channel`, without waiting
/// for the answer.
pub(crate) fn request(channel: OwnedFd) -> io::Result<Ticket> {
    let mut state = lock();
    // One retry: a server that died (killed by someone) is replaced.
    for attempt in 0..2 {
        if state.server.is_none() {
            launch(&mut state)?;
        }
        let server = state.server.as_mut().expect("set above");
        match make_room(server).and_then(|()| send_request(server, channel.as_fd())) {
            Ok(()) => {
                let seq = server.next_request;
                server.next_request += 1;
                return Ok(Ticket {
                    generation: server.generation,
                    seq,
                    collected: false,
                });
            }
            Err(e) if attempt == 0 => {
                state.server = None;
                let _ = e;
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// Requests the server may have unanswered before the next one waits for
/// a reply. Unread replies and unread requests fill the socket's buffers;
/// with both full, each side would wait for the other for ever.
const PIPELINE: u64 = 32;

/// Reads replies ahead until fewer than [`PIPELINE`] are outstanding.
fn make_room(server: &mut Server) -> io::Result<()> {
    while server.next_request - server.next_reply >= PIPELINE {
        if let Some((seq, worker)) = read_reply(server)? {
            server.early.insert(seq, worker);
        }
    }
    Ok(())
}

fn send_request(server: &Server, channel: BorrowedFd<'_>) -> io::Result<()> {
    let with_stdio = [channel.as_raw_fd(), 1, 2];
    let empty = frame::to_payload(&()).map_err(io::Error::other)?;
    if server.socket.send(&empty, &with_stdio).is_err() {
        // Our stdout or stderr is closed: the worker keeps the server's.
        server.socket.send(&empty, &with_stdio[..1])?;
    }
    Ok(())
}

/// Waits for the server's answer to `ticket`: the worker, or why there is
/// none.
pub(crate) fn collect(mut ticket: Ticket) -> io::Result<Worker> {
    ticket.collected = true;
    let mut state = lock();
    let Some(server) = state
        .server
        .as_mut()
        .filter(|s| s.generation == ticket.generation)
    else {
        return Err(died());
    };
    if let Some(early) = server.early.remove(&ticket.seq) {
        return early;
    }
    loop {
        match read_reply(server) {
            Ok(Some((seq, worker))) if seq == ticket.seq => return worker,
            Ok(Some((seq, worker))) => {
                server.early.insert(seq, worker);
            }
            Ok(None) => {}
            Err(e) => {
                // Every ticket of this server fails; the next request
                // starts a new one.
                state.server = None;
                return Err(e);
            }
        }
    }
}

/// Reads the next reply: its sequence number and worker, or `None` for a
/// reply nobody waits for any more (its descriptors are closed here).
fn read_reply(server: &mut Server) -> io::Result<Option<(u64, io::Result<Worker>)>> {
    let reply = server.socket.recv(None).map_err(|e| match e {
        RecvError::Closed => died(),
        other => io::Error::other(format!("bad reply from the forkserver: {other:?}")),
    })?;
    let seq = server.next_reply;
    server.next_reply += 1;
    let worker = parse_reply(reply);
    if !server.dropped.remove(&seq) {
        return Ok(Some((seq, worker)));
    }
    // Nobody waits for this worker; its channel is closed, so it ends at
    // once: it is our child, so reap it.
    if let Ok(worker) = worker {
        crate::reaper::reap(worker.pidfd);
    }
    Ok(None)
}

fn died() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the forkserver died")
}

fn parse_reply(reply: super::socket::Message) -> io::Result<Worker> {
    let result: Result<i32, String> =
        frame::from_payload(&reply.payload).map_err(io::Error::other)?;
    let pid = result.map_err(io::Error::other)?;
    match reply.fds.into_iter().next() {
        Some(pidfd) => Ok(Worker { pid, pidfd }),
        None => Err(io::Error::other("the forkserver's reply lacks the pidfd")),
    }
}

/// The server's loop (in the server process, from the start-up code).
pub(crate) fn serve(channel: OwnedFd) -> ! {
    sys_process::ignore_sigpipe();
    let socket = Socket::from_fd(channel);
    // The server checks once that it runs its parent's program; its forks
    // are copies of it and need not check again. A server that cannot run
    // the parent's functions says why to every request.
    let refused = match socket.recv(None) {
        Ok(m) => match frame::from_payload::<Hello>(&m.payload) {
            Ok(hello) => hello.check().err(),
            Err(_) => sys_process::exit_now(child::PROTOCOL_EXIT),
        },
        Err(_) => sys_process::exit_now(child::PROTOCOL_EXIT),
    };
    child::prepare_for_forks();
    loop {
        let message = match socket.recv(None) {
            Ok(m) => m,
            // The parent is gone: so are we. Workers run on; daemon
            // workers end when they see their parent's channel close.
            Err(_) => sys_process::exit_now(0),
        };
        let forked = match &refused {
            Some(why) => Err(io::Error::other(why.clone())),
            None => fork_worker(message.fds),
        };
        let (bytes, pidfd) = match forked {
            Ok((pid, pidfd)) => (
                frame::to_payload(&Ok::<i32, String>(pid)).unwrap_or_default(),
                Some(pidfd),
            ),
            Err(e) => (
                frame::to_payload(&Err::<i32, String>(e.to_string())).unwrap_or_default(),
                None,
            ),
        };
        let raw: Vec<i32> = pidfd.iter().map(|f| f.as_raw_fd()).collect();
        if socket.send(&bytes, &raw).is_err() {
            sys_process::exit_now(0);
        }
    }
}

/// Forks a worker that serves the channel in `fds` (with the parent's
/// stdout and stderr after it, if sent) and returns its pid and a pidfd.
///
/// The worker is forked as the server's sibling (`CLONE_PARENT`): the
/// parent program is its parent, reaps it and reads its exit status as it
/// does for a spawned child. The server keeps nothing of it, so each fork
/// copies the same handful of descriptors however many workers are alive.
fn fork_worker(fds: Vec<OwnedFd>) -> io::Result<(i32, OwnedFd)> {
    if fds.is_empty() {
        return Err(io::Error::other("a fork request without a channel"));
    }
    // SAFETY: the server runs on its single thread: it is started by exec
    // and never leaves brigade's start-up code, which starts no thread
    // here (a forkserver is never a daemon child with a watch thread).
    match unsafe { sys_process::fork_sibling() }? {
        // The server's copies of the descriptors close here.
        Sibling::Parent { pid, pidfd } => Ok((pid, pidfd)),
        Sibling::Child => become_worker(fds),
    }
}

/// In a fresh worker: takes the parent's descriptors and serves.
fn become_worker(fds: Vec<OwnedFd>) -> ! {
    let mut fds = fds.into_iter();
    let channel = fds.next().expect("checked by the caller");
    for (stdio, fd) in (1..=2).zip(fds) {
        let _ = sys_process::dup_onto(fd.as_fd(), stdio);
        // Closed below with every other descriptor above 3.
        std::mem::forget(fd);
    }
    // The channel becomes descriptor 3 and every other descriptor above it,
    // the server's own channel included, is closed. Nothing here returns,
    // so no `OwnedFd` of the server is dropped onto a reused number.
    match sys_process::keep_only(channel, child::CHILD_FD) {
        Ok(channel) => child::serve(channel, child::Identity::Inherited),
        Err(_) => sys_process::exit_now(child::PROTOCOL_EXIT),
    }
}
