//! Start methods, and [`Child`]: a started process as its parent sees it.
//!
//! - [`StartMethod::Spawn`] (the default) starts a fresh copy of the running
//!   executable (`/proc/self/exe`) with `posix_spawn`, handing it one end of
//!   a private socketpair as descriptor 3 and closing every other descriptor
//!   above 2. Safe from any thread; costs one `exec`.
//! - [`StartMethod::Forkserver`] asks a server process to `fork` a worker.
//!   The server is itself a spawned copy that never leaves its start-up
//!   code, so it has a single thread and almost no state, and forking it is
//!   both safe and cheap. See [`forkserver`](super::forkserver).
//!
//! Forking the parent itself is not offered: after `fork` in a multithreaded
//! program the child may only call async-signal-safe functions, which rules
//! out running Rust code.
//!
//! ```
//! use brigade::process::StartMethod;
//! assert_eq!(StartMethod::default(), StartMethod::Spawn);
//! ```

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::child::{self, Hello};
use super::forkserver;
use super::frame;
use super::socket::Socket;
use crate::sys::process::Status;
use crate::sys::{process as sys_process, socket as sys_socket};

/// How a child process is started.
///
/// # Examples
/// ```
/// use brigade::process::{ProcessPool, StartMethod};
///
/// fn one() -> u8 {
///     1
/// }
///
/// assert_eq!(StartMethod::default(), StartMethod::Spawn);
/// let pool = ProcessPool::builder()
///     .processes(1)
///     .start_method(StartMethod::Forkserver)
///     .build()
///     .unwrap();
/// assert_eq!(pool.apply(one, ()).unwrap(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartMethod {
    /// A fresh `exec` of the same executable: safe from any thread.
    #[default]
    Spawn,
    /// A `fork` of a single-threaded server process: faster.
    Forkserver,
}

/// A started child process and its channel.
#[derive(Debug)]
pub(crate) struct Child {
    /// Who the child is; for a forkserver child, known once the server's
    /// answer is collected (on first need: see [`forkserver::Ticket`]).
    ids: OnceLock<Result<Ids, (io::ErrorKind, String)>>,
    ticket: Mutex<Option<forkserver::Ticket>>,
    pub(crate) socket: Socket,
    status: Mutex<Option<Status>>,
}

#[derive(Debug)]
struct Ids {
    pid: libc::pid_t,
    pidfd: OwnedFd,
}

impl Child {
    /// Starts a child and greets it with `hello`. A forkserver child's
    /// fork is only requested here: the first call that needs its pid
    /// waits for the server's answer, and a failed fork shows there.
    ///
    /// A one-shot child's call can ride in the hello's packet (`call`: its
    /// bytes and descriptors), which saves a message each way.
    pub(crate) fn start(
        method: StartMethod,
        hello: &Hello,
        call: Option<(&[u8], &[RawFd])>,
    ) -> io::Result<Child> {
        child::ensure_linked();
        let (ours, theirs) = Socket::pair()?;
        let child = match method {
            StartMethod::Spawn => {
                let pid = spawn_self(theirs.as_fd(), "spawn")?;
                drop(theirs);
                // Normally no one else reaps our children, so `pid` names
                // this child until we wait for it: the pidfd cannot be a
                // stranger. (If the program ignores SIGCHLD, the kernel
                // reaps a child the moment it dies; but the child is
                // waiting for our hello, so only a kill from outside in
                // this short window, followed by the reuse of its pid,
                // could make the pidfd name another process.)
                let pidfd = match sys_process::pidfd_open(pid) {
                    Ok(fd) => fd,
                    Err(e) => {
                        let _ = sys_process::wait(pid, true);
                        return Err(e);
                    }
                };
                let ids = OnceLock::new();
                let _ = ids.set(Ok(Ids { pid, pidfd }));
                Child {
                    ids,
                    ticket: Mutex::new(None),
                    socket: ours,
                    status: Mutex::new(None),
                }
            }
            StartMethod::Forkserver => Child {
                ids: OnceLock::new(),
                ticket: Mutex::new(Some(forkserver::request(theirs.into_fd())?)),
                socket: ours,
                status: Mutex::new(None),
            },
        };
        let mut bytes = frame::to_payload(hello).map_err(io::Error::other)?;
        let (call, fds) = call.unwrap_or_default();
        bytes.extend_from_slice(call);
        if let Err(e) = child.socket.send(&bytes, fds) {
            child.kill();
            return Err(e);
        }
        Ok(child)
    }

    /// Who the child is, waiting for the forkserver's answer if needed.
    fn ids(&self) -> io::Result<&Ids> {
        let ids = self.ids.get_or_init(|| {
            let ticket = self.ticket.lock().unwrap_or_else(|e| e.into_inner()).take();
            let worker = match ticket {
                Some(ticket) => forkserver::collect(ticket),
                None => Err(io::Error::other("the child was never started")),
            };
            worker
                .map(|w| Ids {
                    pid: w.pid,
                    pidfd: w.pidfd,
                })
                .map_err(|e| (e.kind(), format!("cannot fork a worker: {e}")))
        });
        ids.as_ref()
            .map_err(|(kind, message)| io::Error::new(*kind, message.clone()))
    }

    /// Waits until the child exists (for a forkserver child, until the
    /// server has answered), so that a failed start shows now.
    pub(crate) fn started(self) -> io::Result<Child> {
        self.ids()?;
        Ok(self)
    }

    /// Another pidfd for the child (for a [`Killer`](super::kill::Killer)).
    pub(crate) fn pidfd_dup(&self) -> Option<OwnedFd> {
        sys_process::dup(self.ids().ok()?.pidfd.as_fd()).ok()
    }

    /// The child's pid, or why there is none (the forkserver could not
    /// fork it).
    pub(crate) fn known_pid(&self) -> io::Result<u32> {
        self.ids().map(|ids| ids.pid as u32)
    }

    /// The child's pid; `None` if the forkserver could not fork it.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.ids().ok().map(|ids| ids.pid as u32)
    }

    /// The exit status if the child has ended, without waiting.
    pub(crate) fn try_status(&self) -> Option<Status> {
        self.wait(Some(Duration::ZERO)).ok().flatten()
    }

    /// Waits at most `timeout` (`None`: for ever) for the child to end.
    /// The lock on the status is not held while waiting, so that another
    /// thread can signal the child meanwhile.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> io::Result<Option<Status>> {
        if let Some(s) = *self.lock_status() {
            return Ok(Some(s));
        }
        let ids = self.ids()?;
        if !sys_socket::poll_readable(ids.pidfd.as_fd(), timeout)? {
            return Ok(None);
        }
        let mut status = self.lock_status();
        if let Some(s) = *status {
            // Another thread reaped it while we waited.
            return Ok(Some(s));
        }
        // It has ended: this does not wait for long.
        let found = sys_process::wait_pidfd(ids.pidfd.as_fd(), true)?;
        *status = found;
        Ok(found)
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, Option<Status>> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `signal` unless the child has already been reaped.
    pub(crate) fn signal(&self, signal: i32) -> io::Result<()> {
        let status = self.lock_status();
        if status.is_some() {
            return Ok(());
        }
        match sys_process::pidfd_kill(self.ids()?.pidfd.as_fd(), signal) {
            // ESRCH: it has exited and awaits reaping; nothing to do.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }

    /// Closes the channel both ways: a child waiting for a call sees the
    /// end and exits.
    pub(crate) fn shutdown(&self) {
        sys_socket::shutdown(self.socket.as_fd());
    }

    /// Kills the child and reaps it.
    pub(crate) fn kill(&self) -> Option<Status> {
        let _ = self.signal(libc::SIGKILL);
        self.wait(None).ok().flatten()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.try_status().is_some() {
            return;
        }
        // Still running: the process-wide reaper reaps it when it ends, so
        // it never lingers as a zombie.
        if let Some(Ok(ids)) = self.ids.take() {
            crate::reaper::reap(ids.pidfd);
        }
    }
}

/// Starts `/proc/self/exe` with `channel` as descriptor 3 and
/// `BRIGADE_CHILD=<mode>`.
pub(crate) fn spawn_self(channel: BorrowedFd<'_>, mode: &str) -> io::Result<i32> {
    let exe = CString::new("/proc/self/exe").expect("no nul");
    let arg0 = std::env::args_os()
        .next()
        .and_then(|a| CString::new(a.as_bytes()).ok())
        .unwrap_or_else(|| CString::new("brigade-child").expect("no nul"));
    let env = child::child_env(mode);
    sys_process::spawn(&exe, &[arg0], &env, channel)
}

/// The time left until `deadline`, for a wait.
pub(crate) fn left(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}
