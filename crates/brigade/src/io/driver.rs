//! [`Driver`]: the I/O half of a loop. The loop parks in it; it reports
//! readiness and completions to the tasks that wait for them.
//!
//! The driver is chosen when the loop is built: io_uring if the kernel
//! allows it, epoll otherwise, or whichever `BRIGADE_DRIVER=uring|epoll` (or
//! [`Builder::io_driver`](crate::event_loop::Builder::io_driver)) asks for.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::epoll::{Deadline, EpollBackend};
use super::registry::{Direction, Registry, Token};
use super::unpark::Unparker;
use super::uring::UringBackend;
use crate::event_loop::scheduler::Shared;

/// Which kernel interface an event loop uses for I/O.
///
/// # Examples
/// ```
/// use brigade::io::DriverKind;
///
/// let rt = brigade::Runtime::builder().io_driver(DriverKind::Epoll).build().unwrap();
/// assert_eq!(rt.io_driver(), DriverKind::Epoll);
/// assert_eq!(DriverKind::Uring.to_string(), "io_uring");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DriverKind {
    /// `epoll(7)` readiness, with file operations on the blocking pool.
    Epoll,
    /// `io_uring(7)` for file operations (native asynchronous
    /// operations), epoll for socket readiness.
    Uring,
}

impl DriverKind {
    /// The driver `BRIGADE_DRIVER` asks for: `Some` for `uring`/`io_uring`
    /// or `epoll`, `None` when unset or empty, an error for anything else.
    ///
    /// # Examples
    /// ```
    /// use brigade::io::DriverKind;
    ///
    /// let rt = brigade::Runtime::builder().build().unwrap();
    /// match DriverKind::from_env().unwrap() {
    ///     Some(forced) => assert_eq!(rt.io_driver(), forced),
    ///     None => println!("the default: {}", rt.io_driver()),
    /// }
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` if `BRIGADE_DRIVER` names no driver (the message says
    /// what it holds).
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
///
/// # Examples
/// ```
/// let rt = brigade::Runtime::builder().build().unwrap();
/// let before = rt.io_stats().registered;
/// let (a, b) = rt.block_on(async { brigade::net::UnixStream::pair().unwrap() });
/// assert_eq!(rt.io_stats().registered, before + 2);
/// drop((a, b));
/// rt.block_on(brigade::yield_now());
/// assert_eq!(rt.io_stats().in_flight, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct IoStats {
    /// Descriptors registered for readiness (open sockets, pipes, signal
    /// descriptors), including ones closing while the kernel lets go.
    pub registered: usize,
    /// io_uring operations submitted and not yet completed, including ones
    /// whose futures were dropped (their buffers are held by the driver)
    /// and the ring's closes of files [`fs::read`](crate::fs::read) is
    /// done with.
    pub in_flight: usize,
    /// Files open in the ring's table of direct descriptors (where
    /// [`fs::read`](crate::fs::read) opens them; see `io/direct.rs`),
    /// including ones whose close is still in flight.
    pub direct_files: usize,
    /// Bytes held for io_uring operations whose futures were dropped
    /// before the kernel completed them (buffers, plus a little
    /// bookkeeping each), freed as the completions arrive. New operations
    /// wait while this is at the loop's limit; see
    /// [`Builder::orphaned_io_limit`](crate::event_loop::Builder::orphaned_io_limit).
    pub orphaned_bytes: usize,
}

/// The driver of one loop, shared (by `Rc`) with the loop's I/O objects.
///
/// Socket readiness always comes from epoll, where the loop sleeps; with
/// io_uring, the ring runs the file operations and its descriptor sits in
/// the epoll set (see `uring.rs` for why).
pub(crate) struct Driver {
    kind: DriverKind,
    epoll: RefCell<EpollBackend>,
    ring: Option<RefCell<Box<UringBackend>>>,
    pub(crate) registry: RefCell<Registry>,
    unparker: Arc<Unparker>,
    pub(crate) shared: Arc<Shared>,
    /// Whether `fs::read` may read a file already in memory on the loop
    /// (`Builder::read_files_in_place`).
    pub(crate) read_in_place: Cell<bool>,
}

impl Driver {
    /// Builds the driver `requested` (or the environment) asks for.
    /// Without a request, io_uring is tried first and epoll is the fallback.
    pub(crate) fn new(
        requested: Option<DriverKind>,
        orphan_limit: usize,
        unparker: Arc<Unparker>,
        shared: Arc<Shared>,
    ) -> io::Result<Rc<Driver>> {
        let requested = match requested {
            Some(kind) => Some(kind),
            None => DriverKind::from_env()?,
        };
        let epoll = EpollBackend::new(&unparker)?;
        let ring = match requested {
            Some(DriverKind::Epoll) => None,
            Some(DriverKind::Uring) => Some(UringBackend::new(orphan_limit).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot start io_uring (BRIGADE_DRIVER=uring): {e}"),
                )
            })?),
            None => UringBackend::new(orphan_limit).ok(),
        };
        if let Some(ring) = &ring {
            epoll.watch_ring(ring.raw_fd())?;
        }
        let kind = if ring.is_some() {
            DriverKind::Uring
        } else {
            DriverKind::Epoll
        };
        Ok(Rc::new(Driver {
            kind,
            epoll: RefCell::new(epoll),
            ring: ring.map(|r| RefCell::new(Box::new(r))),
            registry: RefCell::new(Registry::new()),
            unparker,
            shared,
            read_in_place: Cell::new(true),
        }))
    }

    pub(crate) fn kind(&self) -> DriverKind {
        self.kind
    }

    /// Waits until `deadline` for I/O or a wake-up from another thread, and
    /// wakes the tasks whose I/O is ready. Returns whether any event arrived
    /// (the deadline passing is not one).
    pub(crate) fn park(&self, deadline: Deadline) -> bool {
        let mut wake = Vec::new();
        let events = {
            let mut epoll = self.epoll.borrow_mut();
            let mut registry = self.registry.borrow_mut();
            match &self.ring {
                None => epoll.park(deadline, &mut registry, &self.unparker, &mut wake),
                Some(ring) => {
                    let mut ring = ring.borrow_mut();
                    // Completions already waiting: look, don't sleep.
                    let deadline = if ring.submit() {
                        Deadline::Now
                    } else {
                        deadline
                    };
                    let sockets = epoll.park(deadline, &mut registry, &self.unparker, &mut wake);
                    let files = ring.reap(&mut wake);
                    sockets.map(|n| n + files)
                }
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
        if let Err(e) = self.epoll.borrow().register(fd, token) {
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
            let Some(mut slot) = registry.remove(token) else {
                return;
            };
            slot.take_all_waiters(&mut wake);
            self.epoll.borrow().deregister(slot.fd);
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
        Poll::Pending
    }

    /// Forgets the readiness of `token` for `dir` after an operation found
    /// it not ready (`WouldBlock`).
    pub(crate) fn clear_ready(&self, token: Token, dir: Direction) {
        if let Some(slot) = self.registry.borrow_mut().get_mut(token) {
            slot.clear(dir);
        }
    }

    /// Like [`clear_ready`](Self::clear_ready), and forgets a closed or
    /// error report for `dir` as well (datagram sockets).
    pub(crate) fn clear_ready_and_closed(&self, token: Token, dir: Direction) {
        if let Some(slot) = self.registry.borrow_mut().get_mut(token) {
            slot.clear_closed(dir);
        }
    }

    /// The io_uring backend, for native file operations; `None` on epoll.
    pub(crate) fn with_uring<R>(&self, f: impl FnOnce(&mut UringBackend) -> R) -> Option<R> {
        self.ring.as_ref().map(|ring| f(&mut ring.borrow_mut()))
    }

    /// Whether this driver runs io_uring operation `code` natively: false
    /// on epoll, and on kernels whose ring lacks it.
    pub(crate) fn supports(&self, code: u8) -> bool {
        self.ring
            .as_ref()
            .is_some_and(|ring| ring.borrow().supports(code))
    }

    /// Whether any descriptor is registered or any operation in flight:
    /// when not, polling the kernel cannot report anything.
    pub(crate) fn has_io(&self) -> bool {
        // Asked at every time jump of a virtual clock: two counts, not the
        // whole of `stats`.
        self.registry.borrow().len() > 0
            || self
                .ring
                .as_ref()
                .is_some_and(|ring| ring.borrow().in_flight() > 0)
    }

    /// What the driver holds right now.
    pub(crate) fn stats(&self) -> IoStats {
        let (in_flight, direct_files, orphaned_bytes) = self.ring.as_ref().map_or((0, 0, 0), |r| {
            let ring = r.borrow();
            (ring.in_flight(), ring.direct_files(), ring.orphaned_bytes())
        });
        IoStats {
            registered: self.registry.borrow().len(),
            in_flight,
            direct_files,
            orphaned_bytes,
        }
    }

    /// Wakes every task still waiting on I/O, so that their futures can be
    /// dropped; called when the loop shuts down.
    pub(crate) fn shutdown(&self) {
        if let Some(ring) = &self.ring {
            ring.borrow_mut().shutdown();
        }
    }
}
