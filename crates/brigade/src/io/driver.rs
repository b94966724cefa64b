//! [`Driver`]: the I/O half of a loop. The loop parks in it; it reports
//! readiness and completions to the tasks that wait for them.
//!
//! The driver is chosen when the loop is built: io_uring if the kernel
//! allows it, epoll otherwise, or whichever `BRIGADE_DRIVER=uring|epoll` (or
//! [`Builder::io_driver`](crate::event_loop::Builder::io_driver)) asks for.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::epoll::EpollBackend;
use super::registry::{Direction, Registry, Token};
use super::unpark::Unparker;
use super::uring::UringBackend;
use crate::event_loop::scheduler::Shared;

/// Which kernel interface an event loop uses for I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DriverKind {
    /// `epoll(7)` readiness, with file operations on the blocking pool.
    Epoll,
    /// `io_uring(7)`: socket readiness through multishot polls, file
    /// operations as native asynchronous operations.
    Uring,
}

impl DriverKind {
    /// The driver `BRIGADE_DRIVER` asks for: `Some` for `uring`/`io_uring`
    /// or `epoll`, `None` when unset or empty, an error for anything else.
    pub fn from_env() -> io::Result<Option<DriverKind>> {
        match std::env::var("BRIGADE_DRIVER") {
            Err(_) => Ok(None),
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" | "auto" => Ok(None),
                "uring" | "io_uring" | "io-uring" => Ok(Some(DriverKind::Uring)),
                "epoll" => Ok(Some(DriverKind::Epoll)),
                other => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("BRIGADE_DRIVER={other:?} is not a driver: use `uring` or `epoll`"),
                )),
            },
        }
    }
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriverKind::Epoll => "epoll",
            DriverKind::Uring => "io_uring",
        })
    }
}

/// A snapshot of a loop's I/O driver; see
/// [`Runtime::io_stats`](crate::Runtime::io_stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct IoStats {
    /// Descriptors registered for readiness (open sockets, pipes, signal
    /// descriptors), including ones closing while the kernel lets go.
    pub registered: usize,
    /// io_uring operations submitted and not yet completed, including ones
    /// whose futures were dropped (their buffers are held by the driver).
    pub in_flight: usize,
}

enum Backend {
    Epoll(EpollBackend),
    Uring(Box<UringBackend>),
}

/// The driver of one loop, shared (by `Rc`) with the loop's I/O objects.
pub(crate) struct Driver {
    kind: DriverKind,
    backend: RefCell<Backend>,
    pub(crate) registry: RefCell<Registry>,
    unparker: Arc<Unparker>,
    pub(crate) shared: Arc<Shared>,
}

impl Driver {
    /// Builds the driver `requested` (or the environment) asks for.
    /// Without a request, io_uring is tried first and epoll is the fallback.
    pub(crate) fn new(
        requested: Option<DriverKind>,
        unparker: Arc<Unparker>,
        shared: Arc<Shared>,
    ) -> io::Result<Rc<Driver>> {
        let requested = match requested {
            Some(kind) => Some(kind),
            None => DriverKind::from_env()?,
        };
        let (kind, backend) = match requested {
            Some(DriverKind::Epoll) => (
                DriverKind::Epoll,
                Backend::Epoll(EpollBackend::new(&unparker)?),
            ),
            Some(DriverKind::Uring) => (
                DriverKind::Uring,
                Backend::Uring(Box::new(UringBackend::new(&unparker).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot start io_uring (BRIGADE_DRIVER=uring): {e}"),
                    )
                })?)),
            ),
            None => match UringBackend::new(&unparker) {
                Ok(ring) => (DriverKind::Uring, Backend::Uring(Box::new(ring))),
                Err(_) => (
                    DriverKind::Epoll,
                    Backend::Epoll(EpollBackend::new(&unparker)?),
                ),
            },
        };
        Ok(Rc::new(Driver {
            kind,
            backend: RefCell::new(backend),
            registry: RefCell::new(Registry::new()),
            unparker,
            shared,
        }))
    }

    pub(crate) fn kind(&self) -> DriverKind {
        self.kind
    }

    /// Waits up to `timeout` (`None`: until something happens) for I/O or a
    /// wake-up from another thread, and wakes the tasks whose I/O is ready.
    /// Returns whether any event arrived.
    pub(crate) fn park(&self, timeout: Option<Duration>) -> bool {
        let mut wake = Vec::new();
        let events = {
            let mut backend = self.backend.borrow_mut();
            let mut registry = self.registry.borrow_mut();
            match &mut *backend {
                Backend::Epoll(b) => b.park(timeout, &mut registry, &self.unparker, &mut wake),
                Backend::Uring(b) => b.park(timeout, &mut registry, &self.unparker, &mut wake),
            }
        };
        // Wakers run with no borrow held: they may touch the driver.
        let woke = !wake.is_empty();
        for waker in wake {
            waker.wake();
        }
        // An error here is a bug in the driver (EBADF, EFAULT), never bad
        // input; report it as "something happened" so the loop re-checks.
        events.map_or(true, |n| n > 0) || woke
    }

    /// Registers `fd` for readiness reports.
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<Token> {
        let token = self.registry.borrow_mut().insert(fd);
        let result = match &mut *self.backend.borrow_mut() {
            Backend::Epoll(b) => b.register(fd, token),
            Backend::Uring(b) => b.register(fd, token, &mut self.registry.borrow_mut()),
        };
        if let Err(e) = result {
            self.registry.borrow_mut().remove(token);
            return Err(e);
        }
        Ok(token)
    }

    /// Forgets `token`; call before closing its descriptor. Tasks still
    /// waiting on it are woken (they see the closed descriptor's error).
    pub(crate) fn deregister(&self, token: Token) {
        let mut wake = Vec::new();
        {
            let mut registry = self.registry.borrow_mut();
            let Some(slot) = registry.get_mut(token) else {
                return;
            };
            slot.take_all_waiters(&mut wake);
            let fd = slot.fd;
            match &mut *self.backend.borrow_mut() {
                Backend::Epoll(b) => {
                    b.deregister(fd);
                    registry.remove(token);
                }
                Backend::Uring(b) => b.deregister(token, &mut registry),
            }
        }
        for waker in wake {
            waker.wake();
        }
    }

    /// Ready when `token` is ready for `dir` (or its descriptor reported an
    /// error, which the next operation surfaces).
    pub(crate) fn poll_ready(
        &self,
        token: Token,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let mut registry = self.registry.borrow_mut();
        let Some(slot) = registry.get_mut(token) else {
            // Deregistered: let the operation run and report the error.
            return Poll::Ready(());
        };
        if slot.is_ready(dir) {
            return Poll::Ready(());
        }
        slot.add_waiter(dir, cx.waker());
        let armed = slot.polling[0];
        if !armed {
            if let Backend::Uring(b) = &mut *self.backend.borrow_mut() {
                b.rearm(token, &mut registry);
            }
        }
        Poll::Pending
    }

    /// Forgets the readiness of `token` for `dir` after an operation found
    /// it not ready (`WouldBlock`).
    pub(crate) fn clear_ready(&self, token: Token, dir: Direction) {
        if let Some(slot) = self.registry.borrow_mut().get_mut(token) {
            slot.clear(dir);
        }
    }

    /// The io_uring backend, for native file operations; `None` on epoll.
    pub(crate) fn with_uring<R>(&self, f: impl FnOnce(&mut UringBackend) -> R) -> Option<R> {
        match &mut *self.backend.borrow_mut() {
            Backend::Uring(b) => Some(f(b)),
            Backend::Epoll(_) => None,
        }
    }

    /// Whether any descriptor is registered or any operation in flight:
    /// when not, polling the kernel cannot report anything.
    pub(crate) fn has_io(&self) -> bool {
        let stats = self.stats();
        stats.registered > 0 || stats.in_flight > 0
    }

    /// What the driver holds right now.
    pub(crate) fn stats(&self) -> IoStats {
        let in_flight = match &*self.backend.borrow() {
            Backend::Uring(b) => b.in_flight(),
            Backend::Epoll(_) => 0,
        };
        IoStats {
            registered: self.registry.borrow().len(),
            in_flight,
        }
    }

    /// Wakes every task still waiting on I/O, so that their futures can be
    /// dropped; called when the loop shuts down.
    pub(crate) fn shutdown(&self) {
        if let Backend::Uring(b) = &mut *self.backend.borrow_mut() {
            b.shutdown();
        }
    }
}
