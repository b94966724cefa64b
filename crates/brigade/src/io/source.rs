//! [`Source`]: a descriptor registered with the current loop's driver, and
//! the retry loop every non-blocking operation goes through (smol's `Async`
//! and tokio's `PollEvented` are the same idea).
//!
//! An operation is tried at once; if the kernel says `WouldBlock`, the
//! readiness bit is cleared and the task waits for the driver to report the
//! descriptor ready again, then retries. The descriptor is deregistered
//! before it is closed, so the driver never watches a recycled number.
//!
//! Streams and datagram sockets differ in what a hang-up or error report
//! means. On a stream it is a state: the end of the stream stays readable
//! forever, so the "closed" bit is never cleared. On a datagram socket it
//! is an event: an ICMP error or a vanished peer is reported once, by the
//! next `recv` or `send`, after which the socket blocks like any other.
//! A datagram source ([`Source::datagram`]) therefore clears the closed bit
//! with the ready bit on `WouldBlock`; a stream source doing so would miss
//! the end of its stream, and a datagram source keeping it would spin.

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use super::driver::Driver;
use super::registry::{Direction, Token};
use crate::event_loop::context;
use crate::trace::Track;

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
    /// Set when the loop is traced: when each direction's current wait for
    /// readiness began (read, write).
    traced: Option<[Cell<Option<Duration>>; 2]>,
    /// A datagram socket: `WouldBlock` clears the closed bits too.
    datagram: bool,
}

impl<T: AsRawFd> Source<T> {
    /// Registers `io` (already non-blocking) with the current loop.
    pub(crate) fn new(io: T, what: &str) -> io::Result<Source<T>> {
        Source::register(io, what, false)
    }

    /// Registers a non-blocking datagram socket with the current loop (see
    /// the module documentation for how it differs).
    pub(crate) fn datagram(io: T, what: &str) -> io::Result<Source<T>> {
        Source::register(io, what, true)
    }

    fn register(io: T, what: &str, datagram: bool) -> io::Result<Source<T>> {
        let driver = current_driver(what)?;
        let token = driver.register(io.as_raw_fd())?;
        let traced = context::with(|core| core.is_some_and(|core| core.trace.is_some()))
            .then(|| [Cell::new(None), Cell::new(None)]);
        Ok(Source {
            io,
            token,
            driver,
            traced,
            datagram,
        })
    }

    pub(crate) fn get_ref(&self) -> &T {
        &self.io
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }

    /// Waits until the descriptor is reported ready for `dir`.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<()> {
        let poll = self.driver.poll_ready(self.token, dir, cx);
        if poll.is_pending() {
            crate::trace::emit::waiting_for_io(dir == Direction::Write);
        }
        if self.traced.is_some() {
            self.trace_wait(dir, poll.is_ready());
        }
        poll
    }

    /// Records a wait for readiness as a span on the waiting task's track:
    /// it begins at the first `Pending` and ends when the descriptor is ready.
    fn trace_wait(&self, dir: Direction, ready: bool) {
        let Some(slots) = &self.traced else { return };
        let slot = &slots[usize::from(dir == Direction::Write)];
        context::with(|core| {
            let Some((core, trace)) = core.and_then(|c| c.trace.as_ref().map(|t| (c, t))) else {
                return;
            };
            let now = core.trace_now(trace);
            match (ready, slot.get()) {
                (false, None) => slot.set(Some(now)),
                (true, Some(since)) => {
                    slot.set(None);
                    let track = match core.current_task() {
                        Some(task) => Track::Task {
                            loop_id: core.shared.id,
                            task: task.0,
                        },
                        None => Track::Main(core.shared.id),
                    };
                    let name = if dir == Direction::Write {
                        "wait to write"
                    } else {
                        "wait to read"
                    };
                    trace.span(track, "io", name, since, now - since);
                }
                _ => {}
            }
        });
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
                    if self.datagram {
                        self.driver.clear_ready_and_closed(self.token, dir);
                    } else {
                        self.driver.clear_ready(self.token, dir);
                    }
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
