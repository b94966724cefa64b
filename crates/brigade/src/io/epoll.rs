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

use std::io;
use std::os::fd::RawFd;
use std::task::Waker;
use std::time::Duration;

use super::registry::{READ, READ_CLOSED, Registry, Token, WRITE, WRITE_CLOSED};
use super::unpark::Unparker;
use crate::sys::epoll::{self, Epoll};

/// The token of the loop's own eventfd; never a registry token, whose
/// generation has its top bits clear.
const UNPARK: u64 = u64::MAX;
/// The token of the io_uring driver's ring; its completions are reaped by
/// the driver after every wait.
const RING: u64 = u64::MAX - 1;

pub(crate) struct EpollBackend {
    epoll: Epoll,
    events: Vec<epoll::Event>,
}

impl EpollBackend {
    pub(crate) fn new(unparker: &Unparker) -> io::Result<EpollBackend> {
        let epoll = Epoll::new()?;
        epoll.add_level_readable(unparker.raw_fd(), UNPARK)?;
        Ok(EpollBackend {
            epoll,
            events: Vec::with_capacity(1024),
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

    /// Waits for readiness, records it in `registry` and collects wakers.
    /// Returns how many events arrived.
    pub(crate) fn park(
        &mut self,
        timeout: Option<Duration>,
        registry: &mut Registry,
        unparker: &Unparker,
        wake: &mut Vec<Waker>,
    ) -> io::Result<usize> {
        self.epoll.wait(&mut self.events, timeout)?;
        for event in &self.events {
            let (token, bits) = (event.u64, event.events);
            if token == UNPARK {
                unparker.consume();
                continue;
            }
            if token == RING {
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
        Ok(self.events.len())
    }
}
