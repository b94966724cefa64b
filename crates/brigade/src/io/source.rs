//! [`Source`]: a descriptor registered with the current loop's driver, and
//! the retry loop every non-blocking operation goes through (smol's `Async`
//! and tokio's `PollEvented` are the same idea).
//!
//! An operation is tried at once; if the kernel says `WouldBlock`, the
//! readiness bit is cleared and the task waits for the driver to report the
//! descriptor ready again, then retries. The descriptor is deregistered
//! before it is closed, so the driver never watches a recycled number.

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use super::driver::Driver;
use super::registry::{Direction, Token};
use crate::event_loop::context;

/// The current loop's driver, or an error naming `what` outside a loop.
pub(crate) fn current_driver(what: &str) -> io::Result<Rc<Driver>> {
    context::with(|core| core.map(|core| core.driver.clone())).ok_or_else(|| {
        io::Error::other(format!(
            "{what} must be called from a task on a brigade event loop \
             (inside brigade::run, Runtime::block_on, #[brigade::main] or #[brigade::test])"
        ))
    })
}

/// A non-blocking I/O object registered with a loop.
pub(crate) struct Source<T: AsRawFd> {
    io: T,
    token: Token,
    driver: Rc<Driver>,
}

impl<T: AsRawFd> Source<T> {
    /// Registers `io` (already non-blocking) with the current loop.
    pub(crate) fn new(io: T, what: &str) -> io::Result<Source<T>> {
        let driver = current_driver(what)?;
        let token = driver.register(io.as_raw_fd())?;
        Ok(Source { io, token, driver })
    }

    pub(crate) fn get_ref(&self) -> &T {
        &self.io
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }

    /// Waits until the descriptor is reported ready for `dir`.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<()> {
        self.driver.poll_ready(self.token, dir, cx)
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for
    /// readiness in between.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            ready!(self.poll_ready(cx, dir));
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.driver.clear_ready(self.token, dir);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return Poll::Ready(other),
            }
        }
    }

    /// Forgets the readiness for `dir`: the caller learned that the
    /// descriptor is drained (a read that returned less than asked for) or
    /// full (a partial write), so the next attempt waits for the driver
    /// instead of costing a system call that would fail with `WouldBlock`
    /// (as tokio does). Safe because the kernel reports any later change
    /// as a new event, and events are only dispatched while the loop parks.
    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.driver.clear_ready(self.token, dir);
    }

    /// The async form of [`poll_io`](Self::poll_io).
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, dir, &mut op)).await
    }
}

impl<T: AsRawFd> Drop for Source<T> {
    fn drop(&mut self) {
        // Runs before `io` closes the descriptor.
        self.driver.deregister(self.token);
    }
}
