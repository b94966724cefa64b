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
//! and its own stdout and stderr; the server forks, the worker takes those
//! descriptors (and closes every other one) and serves the parent exactly
//! as a spawned child does. Its stdin is the server's: `/dev/null`. The server answers with the worker's pid, a
//! pidfd for it, and the read end of a pipe on which it will write the
//! worker's exit status when it reaps it: a forked worker is the server's
//! child, so only the server can `waitpid` it.
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
use crate::sys::epoll::Epoll;
use crate::sys::process as sys_process;
use crate::sys::process::Forked;

/// A forked worker as the server reports it.
pub(crate) struct Worker {
    pub(crate) pid: libc::pid_t,
    pub(crate) pidfd: OwnedFd,
    pub(crate) status: OwnedFd,
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
    let hello = Hello::new(true, true)?;
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
    Ok((!server.dropped.remove(&seq)).then_some((seq, worker)))
}

fn died() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the forkserver died")
}

fn parse_reply(reply: super::socket::Message) -> io::Result<Worker> {
    let result: Result<i32, String> =
        frame::from_payload(&reply.payload).map_err(io::Error::other)?;
    let pid = result.map_err(io::Error::other)?;
    let mut fds = reply.fds.into_iter();
    match (fds.next(), fds.next()) {
        (Some(pidfd), Some(status)) => Ok(Worker { pid, pidfd, status }),
        _ => Err(io::Error::other("the forkserver's reply lacks descriptors")),
    }
}

/// A worker the server has handed out and not yet reaped.
struct Forked1 {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    status: OwnedFd,
}

/// A worker forked ahead of demand, waiting for its channel: the fork is
/// off the critical path of a request.
struct Spare {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    status_read: OwnedFd,
    status_write: OwnedFd,
    control: Socket,
}

/// The server's loop (in the server process, from the start-up code).
pub(crate) fn serve(channel: OwnedFd) -> ! {
    sys_process::ignore_sigpipe();
    // A parent that ignores SIGCHLD passes that on through exec; the server
    // must reap its workers itself to report their exit status.
    sys_process::default_sigchld();
    let socket = Socket::from_fd(channel);
    let hello_ok = match socket.recv(None) {
        Ok(m) => frame::from_payload::<Hello>(&m.payload).is_ok(),
        Err(_) => false,
    };
    if !hello_ok {
        sys_process::exit_now(child::PROTOCOL_EXIT);
    }
    let mut workers = match Workers::new(&socket) {
        Ok(w) => w,
        Err(_) => sys_process::exit_now(child::PROTOCOL_EXIT),
    };
    let mut spare = fork_spare().ok();
    let mut events = Vec::with_capacity(64);
    loop {
        if workers.epoll.wait(&mut events, None).is_err() {
            sys_process::exit_now(child::PROTOCOL_EXIT);
        }
        let mut requests = false;
        for event in &events {
            match event.u64 {
                SOCKET => requests = true,
                token => workers.reap(token),
            }
        }
        if !requests {
            continue;
        }
        // Every request queued so far, one after the other: the parent
        // pipelines them.
        loop {
            let message = match socket.recv(Some(std::time::Duration::ZERO)) {
                Ok(m) => m,
                Err(RecvError::Timeout) => break,
                // The parent is gone: so are we (and the spare, which sees
                // its control socket close). Workers run on; daemon workers
                // end when they see their parent's channel close.
                Err(_) => sys_process::exit_now(0),
            };
            let reply = hand_off(spare.take(), &message.fds, &mut workers);
            let (bytes, fds) = match reply {
                Ok((pid, pidfd, status)) => (
                    frame::to_payload(&Ok::<i32, String>(pid)).unwrap_or_default(),
                    vec![pidfd, status],
                ),
                Err(e) => (
                    frame::to_payload(&Err::<i32, String>(e.to_string())).unwrap_or_default(),
                    Vec::new(),
                ),
            };
            drop(message);
            let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
            if socket.send(&bytes, &raw).is_err() {
                sys_process::exit_now(0);
            }
            drop(fds);
            // Ready the next worker while the parent talks to this one.
            spare = fork_spare().ok();
        }
    }
}

/// The epoll token of the server's channel; workers use their pidfd's
/// number.
const SOCKET: u64 = u64::MAX;

/// The workers the server has handed out and not yet reaped, watched
/// through one epoll set with the channel: a wake-up costs the same with
/// one worker alive or a thousand.
struct Workers {
    epoll: Epoll,
    live: HashMap<u64, Forked1>,
}

impl Workers {
    fn new(socket: &Socket) -> io::Result<Workers> {
        let epoll = Epoll::new()?;
        epoll.add_level_readable(socket.as_fd().as_raw_fd(), SOCKET)?;
        Ok(Workers {
            epoll,
            live: HashMap::new(),
        })
    }

    /// Watches a worker; if it cannot be watched, it is killed and reaped
    /// now rather than left as a zombie nobody reports.
    fn add(&mut self, worker: Forked1) -> io::Result<()> {
        let fd = worker.pidfd.as_raw_fd();
        if let Err(e) = self.epoll.add_level_readable(fd, fd as u64) {
            let _ = sys_process::pidfd_kill(worker.pidfd.as_fd(), libc::SIGKILL);
            let _ = sys_process::wait_raw(worker.pid);
            return Err(e);
        }
        self.live.insert(fd as u64, worker);
        Ok(())
    }

    /// Reaps the worker whose pidfd became readable and reports its status.
    fn reap(&mut self, token: u64) {
        let Some(worker) = self.live.remove(&token) else {
            return;
        };
        // The parent holds a copy of the pidfd, so closing ours would not
        // end the registration.
        let _ = self.epoll.delete(worker.pidfd.as_raw_fd());
        if let Ok(Some(status)) = sys_process::wait_raw(worker.pid) {
            let _ = sys_process::write_all(worker.status.as_fd(), &status.to_ne_bytes());
        }
    }
}

/// Gives the parent's descriptors (channel, stdout, stderr) to a spare
/// (forking one if there is none, or if the spare has died).
fn hand_off(
    spare: Option<Spare>,
    fds: &[OwnedFd],
    workers: &mut Workers,
) -> io::Result<(i32, OwnedFd, OwnedFd)> {
    if fds.is_empty() {
        return Err(io::Error::other("a fork request without a channel"));
    }
    let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let mut spare = spare;
    for _ in 0..2 {
        let s = match spare.take() {
            Some(s) => s,
            None => fork_spare()?,
        };
        if s.control.send(&[], &raw).is_err() {
            // It died waiting; reap it and fork another.
            let _ = sys_process::wait_raw(s.pid);
            continue;
        }
        let reported = sys_process::dup(s.pidfd.as_fd())?;
        workers.add(Forked1 {
            pid: s.pid,
            pidfd: s.pidfd,
            status: s.status_write,
        })?;
        return Ok((s.pid, reported, s.status_read));
    }
    Err(io::Error::other("cannot fork a worker"))
}

fn fork_spare() -> io::Result<Spare> {
    let (control, theirs) = Socket::pair()?;
    let (status_read, status_write) = sys_process::pipe()?;
    // SAFETY: the server runs on its single thread: it is started by
    // exec and never leaves brigade's start-up code, which starts no thread
    // here (a forkserver is never a daemon child with a watch thread).
    match unsafe { sys_process::fork() }? {
        Forked::Child => {
            // The spare keeps only its control socket, as descriptor 3;
            // every other descriptor, the server's included, is closed.
            // No OwnedFd of this frame is ever dropped (the spare never
            // returns from here), so none closes a reused number.
            std::mem::forget((control, status_read, status_write));
            if sys_process::keep_only(theirs.into_fd(), child::CHILD_FD).is_err() {
                sys_process::exit_now(child::PROTOCOL_EXIT);
            }
            wait_for_channel()
        }
        Forked::Parent(pid) => {
            drop(theirs);
            let pidfd = sys_process::pidfd_open(pid)?;
            Ok(Spare {
                pid,
                pidfd,
                status_read,
                status_write,
                control,
            })
        }
    }
}

/// In a spare: waits for the parent's descriptors, takes them, and serves.
fn wait_for_channel() -> ! {
    let control = Socket::from_fd(child::take_channel());
    let message = match control.recv(None) {
        Ok(m) => m,
        Err(_) => sys_process::exit_now(0),
    };
    let mut fds = message.fds.into_iter();
    let Some(channel) = fds.next() else {
        sys_process::exit_now(child::PROTOCOL_EXIT)
    };
    if let Some(out) = fds.next() {
        let _ = sys_process::dup_onto(out.as_fd(), 1);
    }
    if let Some(err) = fds.next() {
        let _ = sys_process::dup_onto(err.as_fd(), 2);
    }
    // The channel replaces the control socket as descriptor 3, and the
    // received copies above it are closed.
    std::mem::forget(control.into_fd());
    for fd in fds {
        std::mem::forget(fd);
    }
    if sys_process::keep_only(channel, child::CHILD_FD).is_err() {
        sys_process::exit_now(child::PROTOCOL_EXIT);
    }
    child::serve_inherited()
}
