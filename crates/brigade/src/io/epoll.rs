//! The epoll backend: readiness from `epoll_wait`, edge-triggered.
//!
//! Each descriptor is added once, for reading and writing, when its
//! [`Source`](super::source::Source) is created, and removed when it is
//! dropped. The loop's eventfd is added level-triggered under a token of its
//! own, so a wake-up from another thread ends the wait.
//!
//! The io_uring driver uses this backend too: for sockets, and as the place
//! where the loop sleeps, with the ring's descriptor in the set (see
//! `uring.rs`).
//!
//! A sleep until a timer's deadline does not use `epoll_wait`'s timeout,
//! which counts whole milliseconds: a timerfd in the set, armed for the
//! deadline, ends the wait (see `sys/timerfd.rs` for why it is more precise
//! than any timeout argument). It is re-armed only when the deadline
//! changes, so a loop that parks again for the same timer makes no extra
//! system call. Where no timerfd can be had, the millisecond timeout,
//! rounded up, is the fallback.

use std::io;
use std::os::fd::RawFd;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::registry::{READ, READ_CLOSED, Registry, Token, WRITE, WRITE_CLOSED};
use super::unpark::Unparker;
use crate::sys::epoll::{self, Epoll};
use crate::sys::timerfd::TimerFd;

/// The token of the loop's own eventfd; never a registry token, whose
/// generation has its top bits clear.
const UNPARK: u64 = u64::MAX;
/// The token of the io_uring driver's ring; its completions are reaped by
/// the driver after every wait.
const RING: u64 = u64::MAX - 1;
/// The token of the timerfd that ends a sleep at a timer's deadline.
const TIMER: u64 = u64::MAX - 2;

/// How long a park may sleep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Not at all: look at what is ready and return.
    Now,
    /// Until this instant, at the latest.
    At(Instant),
    /// Until something happens.
    Never,
}

pub(crate) struct EpollBackend {
    epoll: Epoll,
    events: Vec<epoll::Event>,
    /// `None` where the kernel would not give one.
    timer: Option<TimerFd>,
    /// The deadline `timer` is armed for, if it has not passed yet.
    armed: Option<Instant>,
}

impl EpollBackend {
    pub(crate) fn new(unparker: &Unparker) -> io::Result<EpollBackend> {
        let epoll = Epoll::new()?;
        epoll.add_level_readable(unparker.raw_fd(), UNPARK)?;
        // Edge-triggered: each expiry is reported once, and the count it
        // leaves need not be read (re-arming clears it).
        let timer = TimerFd::new()
            .ok()
            .filter(|t| epoll.add(t.raw_fd(), TIMER).is_ok());
        Ok(EpollBackend {
            epoll,
            events: Vec::with_capacity(1024),
            timer,
            armed: None,
        })
    }

    /// Watches the io_uring driver's ring descriptor (readable while
    /// completions wait), so that they end the loop's sleep.
    pub(crate) fn watch_ring(&self, ring_fd: RawFd) -> io::Result<()> {
        self.epoll.add_level_readable(ring_fd, RING)
    }

    pub(crate) fn register(&self, fd: RawFd, token: Token) -> io::Result<()> {
        self.epoll.add(fd, token.to_u64())
    }

    pub(crate) fn deregister(&self, fd: RawFd) {
        // ENOENT/EBADF only mean the descriptor is already gone, which is
        // the goal.
        let _ = self.epoll.delete(fd);
    }

    /// The timeout to give `epoll_wait` for a sleep until `deadline`,
    /// arming the timerfd where it takes the timeout's place.
    fn timeout(&mut self, deadline: Deadline) -> Option<Duration> {
        let at = match deadline {
            Deadline::Now => return Some(Duration::ZERO),
            Deadline::Never => return None,
            Deadline::At(at) => at,
        };
        // Checked on every park, armed or not: an expired deadline must
        // not wait for an expiry that was already reported.
        let now = Instant::now();
        if at <= now {
            self.armed = None;
            return Some(Duration::ZERO);
        }
        let wait = at - now;
        match &self.timer {
            Some(_) if self.armed == Some(at) => None,
            Some(timer) => match timer.set(wait) {
                Ok(()) => {
                    self.armed = Some(at);
                    None
                }
                Err(_) => Some(wait),
            },
            None => Some(wait),
        }
    }

    /// Waits for readiness until `deadline`, records it in `registry` and
    /// collects wakers. Returns how many events arrived (the timer's expiry
    /// is not one).
    pub(crate) fn park(
        &mut self,
        deadline: Deadline,
        registry: &mut Registry,
        unparker: &Unparker,
        wake: &mut Vec<Waker>,
    ) -> io::Result<usize> {
        let timeout = self.timeout(deadline);
        self.epoll.wait(&mut self.events, timeout)?;
        let mut count = self.events.len();
        for event in &self.events {
            let (token, bits) = (event.u64, event.events);
            if token == UNPARK {
                unparker.consume();
                continue;
            }
            if token == RING {
                continue;
            }
            if token == TIMER {
                self.armed = None;
                count -= 1;
                continue;
            }
            let mut ready = 0;
            if bits & epoll::READABLE != 0 {
                ready |= READ;
            }
            if bits & epoll::WRITABLE != 0 {
                ready |= WRITE;
            }
            if bits & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32 != 0 {
                ready |= READ_CLOSED;
            }
            if bits & (libc::EPOLLHUP | libc::EPOLLERR) as u32 != 0 {
                ready |= WRITE_CLOSED;
            }
            registry.set_ready(Token::from_u64(token), ready, wake);
        }
        Ok(count)
    }
}
