//! The io_uring backend: one ring per loop.
//!
//! - **Sockets** use readiness, as on epoll: each registered descriptor has a
//!   multishot `POLL_ADD` armed on the ring, whose completions set the same
//!   readiness bits that epoll's events do. Reads and writes then run as
//!   plain non-blocking system calls into the caller's buffer, so
//!   `AsyncRead` keeps its borrowed-buffer contract and a socket waiting for
//!   a peer is not "outside work" for a virtual clock.
//! - **Files** use completions: `openat`, `read`, `write`, `statx`, `fsync`
//!   are submitted as operations that own their buffers (see [`super::op`]
//!   and the buffer-ownership rule in [`crate::io`]).
//! - The loop's eventfd has a multishot poll of its own, so a wake-up from
//!   another thread ends `io_uring_enter`'s wait.
//!
//! `user_data` says what a completion is for: the top bit marks an
//! operation (the low bits are its slot), `UNPARK` the eventfd's poll,
//! `IGNORE` a cancellation request's own completion, anything else a
//! readiness slot's [`Token`].

use std::any::Any;
use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::task::Waker;
use std::time::Duration;

use io_uring::{IoUring, cqueue, opcode, squeue, types};

use super::registry::{READ, READ_CLOSED, Registry, Token, WRITE, WRITE_CLOSED};
use super::unpark::Unparker;
use crate::event_loop::blocking::Inhibit;
use crate::slab::Slab;

const UNPARK: u64 = u64::MAX;
const IGNORE: u64 = u64::MAX - 1;
const OP: u64 = 1 << 63;

/// How long a loop that shuts down waits for its in-flight operations
/// before it leaks their buffers rather than free memory the kernel may
/// still write.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// The state of one submitted operation.
pub(crate) enum OpState {
    /// In flight; the future waits with this waker.
    Waiting(Option<Waker>),
    /// The kernel's result (`-errno` on failure), not yet taken.
    Done(i32),
    /// The future was dropped while in flight: the driver keeps the
    /// buffers until the kernel's completion arrives.
    Abandoned(#[allow(dead_code)] Box<dyn Any>),
}

struct OpSlot {
    state: OpState,
    /// Holds a virtual clock still while the kernel works.
    _inhibit: Option<Inhibit>,
}

pub(crate) struct UringBackend {
    ring: IoUring,
    ops: Slab<OpSlot>,
    /// Entries that did not fit in a full submission queue.
    backlog: VecDeque<squeue::Entry>,
    unpark_armed: bool,
    unpark_fd: RawFd,
}

impl UringBackend {
    pub(crate) fn new(unparker: &Unparker) -> io::Result<UringBackend> {
        let ring = IoUring::builder()
            .setup_coop_taskrun()
            .setup_taskrun_flag()
            .setup_cqsize(4096)
            .build(256)
            .or_else(|_| IoUring::new(256))?;
        if !ring.params().is_feature_ext_arg() || !ring.params().is_feature_nodrop() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this kernel's io_uring lacks timed waits or overflow buffering (Linux 5.11+)",
            ));
        }
        let mut probe = io_uring::Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        let needed = [
            opcode::PollAdd::CODE,
            opcode::PollRemove::CODE,
            opcode::AsyncCancel::CODE,
            opcode::OpenAt::CODE,
            opcode::Read::CODE,
            opcode::Write::CODE,
            opcode::Statx::CODE,
            opcode::Fsync::CODE,
        ];
        if let Some(code) = needed.iter().find(|c| !probe.is_supported(**c)) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("this kernel's io_uring lacks opcode {code}"),
            ));
        }
        Ok(UringBackend {
            ring,
            ops: Slab::new(),
            backlog: VecDeque::new(),
            unpark_armed: false,
            unpark_fd: unparker.raw_fd(),
        })
    }

    /// Queues `entry`, flushing the submission queue to the kernel if full.
    fn push(&mut self, entry: squeue::Entry) {
        if self.backlog.is_empty() {
            // SAFETY: every entry brigade builds points only at memory that
            // stays valid until its completion: buffers owned by an op slot
            // or future (see `crate::io`), or nothing at all.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return;
            }
            let _ = self.ring.submit();
            // SAFETY: as above.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return;
            }
        }
        self.backlog.push_back(entry);
    }

    fn flush_backlog(&mut self) {
        while let Some(entry) = self.backlog.front() {
            // SAFETY: as in `push`.
            if unsafe { self.ring.submission().push(entry) }.is_err() {
                let _ = self.ring.submit();
                // SAFETY: as in `push`.
                if unsafe { self.ring.submission().push(entry) }.is_err() {
                    return;
                }
            }
            self.backlog.pop_front();
        }
    }

    fn arm_poll(&mut self, fd: RawFd, token: Token) {
        let events = (libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP | libc::POLLPRI) as u32;
        let entry = opcode::PollAdd::new(types::Fd(fd), events)
            .multi(true)
            .build()
            .user_data(token.to_u64());
        self.push(entry);
    }

    pub(crate) fn register(
        &mut self,
        fd: RawFd,
        token: Token,
        registry: &mut Registry,
    ) -> io::Result<()> {
        self.arm_poll(fd, token);
        if let Some(slot) = registry.get_mut(token) {
            slot.polling[0] = true;
        }
        Ok(())
    }

    /// Re-arms the poll of a slot whose multishot poll ended.
    pub(crate) fn rearm(&mut self, token: Token, registry: &mut Registry) {
        if let Some(slot) = registry.get_mut(token) {
            if !slot.polling[0] && !slot.closing {
                slot.polling[0] = true;
                let fd = slot.fd;
                self.arm_poll(fd, token);
            }
        }
    }

    /// Removes the poll of `token`; the slot is freed when the poll's last
    /// completion arrives. Submits at once, because the armed poll holds a
    /// reference to the file: until it is gone, closing the descriptor
    /// would not close the socket.
    pub(crate) fn deregister(&mut self, token: Token, registry: &mut Registry) {
        let Some(slot) = registry.get_mut(token) else {
            return;
        };
        if slot.polling[0] {
            slot.closing = true;
            let entry = opcode::PollRemove::new(token.to_u64())
                .build()
                .user_data(IGNORE);
            self.push(entry);
            self.flush_backlog();
            let _ = self.ring.submit();
        } else {
            registry.remove(token);
        }
    }

    /// Submits an operation; `data` owns the memory `entry` points at and
    /// is kept until the completion even if the future goes away.
    pub(crate) fn submit_op(&mut self, entry: squeue::Entry, inhibit: Option<Inhibit>) -> usize {
        let key = self.ops.insert(OpSlot {
            state: OpState::Waiting(None),
            _inhibit: inhibit,
        });
        self.push(entry.user_data(OP | key as u64));
        key
    }

    /// The result of operation `key` if it completed (and frees its slot),
    /// or registers `waker`.
    pub(crate) fn poll_op(&mut self, key: usize, waker: &Waker) -> Option<i32> {
        let slot = self.ops.get_mut(key)?;
        match &mut slot.state {
            OpState::Done(result) => {
                let result = *result;
                self.ops.remove(key);
                Some(result)
            }
            OpState::Waiting(w) => {
                if !w.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    *w = Some(waker.clone());
                }
                None
            }
            OpState::Abandoned(_) => None,
        }
    }

    /// The future of operation `key` was dropped. A completed operation is
    /// freed; an operation in flight keeps `data` (its buffers) in the
    /// driver until its completion, and is asked to cancel.
    pub(crate) fn abandon_op(&mut self, key: usize, data: Box<dyn Any>, cancel: bool) {
        let Some(slot) = self.ops.get_mut(key) else {
            return;
        };
        match slot.state {
            OpState::Done(_) => {
                self.ops.remove(key);
            }
            _ => {
                slot.state = OpState::Abandoned(data);
                if !cancel {
                    return;
                }
                let entry = opcode::AsyncCancel::new(OP | key as u64)
                    .build()
                    .user_data(IGNORE);
                self.push(entry);
            }
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.ops.len()
    }

    pub(crate) fn park(
        &mut self,
        timeout: Option<Duration>,
        registry: &mut Registry,
        unparker: &Unparker,
        wake: &mut Vec<Waker>,
    ) -> io::Result<usize> {
        if !self.unpark_armed {
            let entry = opcode::PollAdd::new(types::Fd(self.unpark_fd), libc::POLLIN as u32)
                .multi(true)
                .build()
                .user_data(UNPARK);
            self.push(entry);
            self.unpark_armed = true;
        }
        self.flush_backlog();
        let ready = !self.ring.completion().is_empty();
        let result = match timeout {
            _ if ready => self.ring.submit(),
            Some(d) if d.is_zero() => self.ring.submit(),
            None => self.ring.submit_and_wait(1),
            Some(d) => {
                let ts = types::Timespec::from(d);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(1, &args)
            }
        };
        match result {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME) | Some(libc::EINTR) | Some(libc::EBUSY) | Some(libc::EAGAIN)
                ) => {}
            Err(e) => return Err(e),
        }
        Ok(self.reap(registry, Some(unparker), wake))
    }

    fn reap(
        &mut self,
        registry: &mut Registry,
        unparker: Option<&Unparker>,
        wake: &mut Vec<Waker>,
    ) -> usize {
        let mut n = 0;
        let mut rearm = Vec::new();
        for cqe in self.ring.completion() {
            n += 1;
            let (data, result, flags) = (cqe.user_data(), cqe.result(), cqe.flags());
            match data {
                IGNORE => {}
                UNPARK => {
                    if let Some(u) = unparker {
                        u.consume();
                    }
                    if !cqueue::more(flags) {
                        self.unpark_armed = false;
                    }
                }
                d if d & OP != 0 => {
                    let key = (d & !OP) as usize;
                    let Some(slot) = self.ops.get_mut(key) else {
                        continue;
                    };
                    match &mut slot.state {
                        OpState::Waiting(w) => {
                            if let Some(w) = w.take() {
                                wake.push(w);
                            }
                            slot.state = OpState::Done(result);
                        }
                        // The buffers go only now that the kernel is done.
                        OpState::Abandoned(_) => drop(self.ops.remove(key)),
                        OpState::Done(_) => {}
                    }
                }
                d => {
                    let token = Token::from_u64(d);
                    let more = cqueue::more(flags);
                    let Some(slot) = registry.get_mut(token) else {
                        continue;
                    };
                    if !more {
                        slot.polling[0] = false;
                        if slot.closing {
                            registry.remove(token);
                            continue;
                        }
                    }
                    let ready = if result < 0 {
                        // An error of the poll itself: let the operations
                        // run (once) so they report the descriptor's state.
                        READ | WRITE
                    } else {
                        let ev = result as i16;
                        let mut r = 0;
                        if ev
                            & (libc::POLLIN
                                | libc::POLLRDHUP
                                | libc::POLLHUP
                                | libc::POLLERR
                                | libc::POLLPRI)
                            != 0
                        {
                            r |= READ;
                        }
                        if ev & (libc::POLLOUT | libc::POLLHUP | libc::POLLERR) != 0 {
                            r |= WRITE;
                        }
                        if ev & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0 {
                            r |= READ_CLOSED;
                        }
                        if ev & (libc::POLLHUP | libc::POLLERR) != 0 {
                            r |= WRITE_CLOSED;
                        }
                        r
                    };
                    registry.set_ready(token, ready, wake);
                    if !more && result >= 0 {
                        rearm.push(token);
                    }
                }
            }
        }
        // A multishot poll that ended normally (e.g. on CQ overflow) is
        // armed again; one that failed is re-armed when a task next waits.
        for token in rearm {
            self.rearm(token, registry);
        }
        n
    }

    /// Cancels every operation and waits for their completions, so that no
    /// buffer is freed while the kernel may still write into it. After
    /// [`DRAIN_LIMIT`] the remaining buffers are leaked instead.
    pub(crate) fn shutdown(&mut self) {
        let keys: Vec<usize> = (0..self.ops_capacity_hint())
            .filter(|k| matches!(self.ops.get(*k), Some(s) if !matches!(s.state, OpState::Done(_))))
            .collect();
        for key in keys {
            let entry = opcode::AsyncCancel::new(OP | key as u64)
                .build()
                .user_data(IGNORE);
            self.push(entry);
        }
        let deadline = std::time::Instant::now() + DRAIN_LIMIT;
        let mut registry = Registry::new();
        let mut wake = Vec::new();
        while self.pending_ops() > 0 {
            let now = std::time::Instant::now();
            if now >= deadline {
                // Leak: the kernel may still write into these buffers.
                for key in 0..self.ops_capacity_hint() {
                    if let Some(slot) = self.ops.remove(key) {
                        std::mem::forget(slot);
                    }
                }
                break;
            }
            self.flush_backlog();
            let ts = types::Timespec::from(deadline - now);
            let args = types::SubmitArgs::new().timespec(&ts);
            let _ = self.ring.submitter().submit_with_args(1, &args);
            self.reap(&mut registry, None, &mut wake);
        }
        // Completed but never collected: nothing refers to the kernel.
        for key in 0..self.ops_capacity_hint() {
            self.ops.remove(key);
        }
        drop(wake);
    }

    fn pending_ops(&self) -> usize {
        (0..self.ops_capacity_hint())
            .filter(|k| matches!(self.ops.get(*k), Some(s) if !matches!(s.state, OpState::Done(_))))
            .count()
    }

    fn ops_capacity_hint(&self) -> usize {
        self.ops.capacity()
    }
}

impl Drop for UringBackend {
    fn drop(&mut self) {
        if self.pending_ops() > 0 {
            self.shutdown();
        }
    }
}
