//! The io_uring backend: one ring per loop, for file operations.
//!
//! - **Files** are native operations: `openat`, `read`, `write`, `statx`,
//!   `fsync`, and where the kernel has them (the probe says) `unlinkat`,
//!   `mkdirat` (5.15) and `ftruncate` (6.9), each owning its buffers until
//!   the completion (see [`super::op`] and the buffer-ownership rule in
//!   [`crate::io`]).
//! - **Sockets** keep their readiness in the loop's epoll instance, and the
//!   loop sleeps in `epoll_wait`, where the ring's descriptor is registered
//!   (it is readable while completions wait). Socket reads and writes are
//!   plain non-blocking calls into the caller's buffers (`AsyncRead` lends
//!   its buffer; it cannot give it), so the ring would only add a readiness
//!   path. We measured two: a multishot `POLL_ADD` per socket, and one on
//!   the epoll descriptor with the loop sleeping in `io_uring_enter`. Both
//!   cost 6-10% more CPU than plain epoll on the echo benchmark: every
//!   socket wake-up becomes io_uring task work, which the kernel runs at
//!   the next system call's exit. Sends could gain: a prototype (not kept
//!   in the repository) that copied each write into an owned buffer and
//!   queued a ring `SEND` with the loop's next batch, returning at once,
//!   used ~4% less server CPU per request on the `http` benchmark (one
//!   `writev` fewer each). It is not done, because it changes what a
//!   finished write means: its error would come with a later call, one
//!   send per socket may be in flight (or writes could overtake each
//!   other), `shutdown` and `flush` must wait for it, and the descriptor
//!   must stay open until the kernel is done with it. Moving both
//!   directions onto the ring does not gain on the echo benchmark either:
//!   `uring-bare` in `bench/` (one thread, one ring, no runtime, a `RECV`
//!   per message and every send a `SEND` flagged `CQE_SKIP_SUCCESS`, one
//!   `io_uring_enter` per turn) is no faster than this epoll path at 10,
//!   100 or 1,000 connections: nearly all the time is the kernel's TCP
//!   work, which the ring does not shorten. (An earlier stand-alone
//!   prototype, not kept, had seemed to use 15-30% less CPU; the benchmark
//!   row, which anyone can rerun, does not show it.)
//!
//! `user_data` says what a completion is for: the top bit marks an
//! operation (the low bits are its slot), `IGNORE` a cancellation
//! request's own completion.
//!
//! An operation whose result is a resource (`openat`: a descriptor, or a
//! slot of the ring's direct table, see [`super::direct`]) says so when it
//! is submitted ([`Outcome`]): if its future is dropped before taking the
//! result, the driver closes what the kernel opened, so that cancelling an
//! open never leaks a descriptor.

use std::any::Any;
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::Waker;
use std::time::Duration;

use io_uring::{IoUring, opcode, squeue, types};

use super::direct::{DirectFile, DirectTable};
use super::orphans::Orphans;
use crate::event_loop::blocking::Inhibit;
use crate::slab::Slab;

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

/// What a successful result of an operation holds, so that the driver can
/// release it when nobody takes it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Outcome {
    /// A count or nothing: no resource.
    Plain,
    /// A new descriptor in the process's table (`openat`).
    Fd,
    /// A file opened into this slot of the ring's direct table (`openat`
    /// into a slot the table handed out).
    Direct(u32),
    /// The `CLOSE` of this direct slot, submitted by the driver itself.
    DirectClose(u32),
}

struct OpSlot {
    state: OpState,
    outcome: Outcome,
    /// What the operation weighs among the orphans once its future
    /// dropped it (0: not counted, as the driver's own closes).
    weight: usize,
    /// Holds a virtual clock still while the kernel works.
    _inhibit: Option<Inhibit>,
}

/// Entries that go to the kernel together, waiting in the backlog for
/// room in the submission queue.
enum Chain {
    One(squeue::Entry),
    /// Each is linked to the next: they must be in one submission, or the
    /// kernel would run the first ones alone and the rest unlinked.
    Linked(Vec<squeue::Entry>),
}

pub(crate) struct UringBackend {
    ring: IoUring,
    /// What this kernel's ring supports, for operations newer than the
    /// required set (`mkdirat`, `ftruncate`, ...): without them the file
    /// functions use the blocking pool.
    probe: io_uring::Probe,
    ops: Slab<OpSlot>,
    /// Entries that did not fit in a full submission queue.
    backlog: VecDeque<Chain>,
    direct: DirectTable,
    /// The bound on buffers held for operations whose futures are gone.
    orphans: Orphans,
    _counted: super::direct::RingCount,
}

impl UringBackend {
    /// A ring whose orphaned operations may hold up to `orphan_limit`
    /// bytes before new operations wait (see `io/orphans.rs`).
    pub(crate) fn new(orphan_limit: usize) -> io::Result<UringBackend> {
        // No COOP_TASKRUN: completions of operations punted to the kernel's
        // workers must interrupt the loop's epoll_wait, which deferred task
        // work would not do.
        let ring = IoUring::builder()
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
            probe,
            ops: Slab::new(),
            backlog: VecDeque::new(),
            direct: DirectTable::new(),
            orphans: Orphans::new(orphan_limit),
            _counted: super::direct::RingCount::new(),
        })
    }

    /// Whether the kernel knows operation `code` (an `opcode::*::CODE`).
    pub(crate) fn supports(&self, code: u8) -> bool {
        self.probe.is_supported(code)
    }

    /// Queues `entries` (one, or a linked chain that must reach the kernel
    /// in the same submission), flushing the submission queue to the
    /// kernel if full. Only entries that still do not fit are copied, into
    /// the backlog.
    fn push_entries<'a, I>(&mut self, entries: impl Fn() -> I)
    where
        I: Iterator<Item = &'a squeue::Entry>,
    {
        let n = entries().count();
        if self.backlog.is_empty() {
            if self.try_push(n, entries()) {
                return;
            }
            let _ = self.ring.submit();
            if self.try_push(n, entries()) {
                return;
            }
        }
        let mut entries = entries().cloned();
        self.backlog.push_back(match (entries.next(), n) {
            (Some(entry), 1) => Chain::One(entry),
            (first, _) => Chain::Linked(first.into_iter().chain(entries).collect()),
        });
    }

    fn push(&mut self, entry: squeue::Entry) {
        self.push_entries(|| std::iter::once(&entry));
    }

    /// Pushes the `n` entries into the submission queue, or none when
    /// there is no room for all.
    fn try_push<'a>(&mut self, n: usize, entries: impl Iterator<Item = &'a squeue::Entry>) -> bool {
        let mut sq = self.ring.submission();
        if sq.capacity() - sq.len() < n {
            return false;
        }
        for entry in entries {
            // SAFETY: every entry brigade builds points only at memory that
            // stays valid until its completion: buffers owned by an op slot
            // or future (see `crate::io`), or nothing at all.
            let pushed = unsafe { sq.push(entry) };
            debug_assert!(pushed.is_ok(), "room for the chain was checked");
        }
        true
    }

    fn flush_backlog(&mut self) {
        while let Some(chain) = self.backlog.pop_front() {
            let entries = match &chain {
                Chain::One(entry) => std::slice::from_ref(entry),
                Chain::Linked(entries) => entries.as_slice(),
            };
            if !self.try_push(entries.len(), entries.iter()) {
                let _ = self.ring.submit();
                if !self.try_push(entries.len(), entries.iter()) {
                    self.backlog.push_front(chain);
                    return;
                }
            }
        }
    }

    /// Submits an operation; `data` owns the memory `entry` points at and
    /// is kept until the completion even if the future goes away.
    /// A successful result holding `outcome` is released by the driver if
    /// the future is dropped before taking it.
    pub(crate) fn submit_op(
        &mut self,
        entry: squeue::Entry,
        inhibit: Option<Inhibit>,
        outcome: Outcome,
    ) -> usize {
        let key = self.ops.insert(OpSlot {
            state: OpState::Waiting(None),
            outcome,
            weight: 0,
            _inhibit: inhibit,
        });
        self.push(entry.user_data(OP | key as u64));
        key
    }

    /// Whether a new operation may start now: orphaned operations hold less
    /// than the limit. If not, `waker` is woken once they do.
    pub(crate) fn wait_for_room(&mut self, waker: &Waker) -> bool {
        self.orphans.wait_for_room(waker)
    }

    /// Whether a new operation may start now (see
    /// [`wait_for_room`](Self::wait_for_room)).
    pub(crate) fn has_room(&self) -> bool {
        self.orphans.has_room()
    }

    /// What orphaned operations hold now, in bytes (with their bookkeeping).
    pub(crate) fn orphaned_bytes(&self) -> usize {
        self.orphans.bytes()
    }

    /// Submits operations as one chain: each entry's flags (`IO_LINK`: the
    /// next starts only once this one completed in full, and fails with
    /// `ECANCELED` otherwise; `IO_HARDLINK`: the next starts whatever this
    /// one's result) are set by the caller, and the last has none. Each
    /// entry comes with what its result holds. Returns the keys of the
    /// heads and of the last. Nothing is allocated unless the submission
    /// queue is full.
    pub(crate) fn submit_chain_ops<const H: usize>(
        &mut self,
        heads: [(squeue::Entry, Outcome); H],
        last: (squeue::Entry, Outcome),
        inhibit: Option<Inhibit>,
    ) -> ([usize; H], usize) {
        let mut insert = |(entry, outcome): (squeue::Entry, Outcome), inhibit| {
            let key = self.ops.insert(OpSlot {
                state: OpState::Waiting(None),
                outcome,
                weight: 0,
                _inhibit: inhibit,
            });
            (key, entry.user_data(OP | key as u64))
        };
        let heads = heads.map(|head| insert(head, None));
        // The clock is held by the last, which completes last.
        let (last_key, last) = insert(last, inhibit);
        self.push_entries(|| {
            heads
                .iter()
                .map(|(_, entry)| entry)
                .chain(std::iter::once(&last))
        });
        (heads.map(|(key, _)| key), last_key)
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
    /// freed; an operation in flight keeps `data` (its buffers, `held`
    /// bytes) in the driver until its completion, counted among the
    /// orphans, and is asked to cancel.
    pub(crate) fn abandon_op(&mut self, key: usize, data: Box<dyn Any>, held: usize, cancel: bool) {
        let Some(slot) = self.ops.get_mut(key) else {
            return;
        };
        match slot.state {
            OpState::Done(result) => {
                let outcome = slot.outcome;
                self.ops.remove(key);
                release(&self.direct, outcome, result);
            }
            _ => {
                slot.state = OpState::Abandoned(data);
                slot.weight = self.orphans.adopt(held);
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

    /// Operations in flight, counting the direct closes queued for the
    /// next batch.
    pub(crate) fn in_flight(&self) -> usize {
        self.ops.len() + self.direct.closing()
    }

    /// Whether files can be opened into the ring's direct table (it is
    /// registered on the first call).
    pub(crate) fn direct_available(&mut self) -> bool {
        self.direct.available(self.ring.submitter())
    }

    /// Opens no more files into the direct table: the kernel cannot.
    pub(crate) fn disable_direct(&mut self) {
        self.direct.disable();
    }

    /// A free slot of the direct table, to open a file into; `None` when
    /// all are taken (or there is no table).
    pub(crate) fn acquire_direct(&mut self) -> Option<u32> {
        self.direct.acquire()
    }

    /// The owner of `slot`, into which an open has just succeeded.
    pub(crate) fn direct_file(&self, slot: u32) -> DirectFile {
        self.direct.file(slot)
    }

    /// Slots of the direct table that hold a file.
    pub(crate) fn direct_files(&self) -> usize {
        self.direct.in_use()
    }

    /// Submits the `CLOSE`s of the slots whose owners let go. Nobody awaits
    /// them: each is an abandoned operation from the start.
    fn close_released(&mut self) {
        for slot in self.direct.take_closing() {
            let entry = opcode::Close::new(types::Fixed(slot)).build();
            let key = self.submit_op(entry, None, Outcome::DirectClose(slot));
            if let Some(op) = self.ops.get_mut(key) {
                op.state = OpState::Abandoned(Box::new(()));
            }
        }
    }

    /// Closes `fd` with a ring `CLOSE` in the next batch instead of a
    /// `close` system call now. Nobody awaits it; the number stays taken
    /// until the kernel runs it, so nothing can reuse it early, and a loop
    /// that shuts down waits for it like any operation in flight.
    pub(crate) fn close_later(&mut self, fd: std::os::fd::OwnedFd) {
        use std::os::fd::IntoRawFd;
        if !self.probe.is_supported(opcode::Close::CODE) {
            return;
        }
        let entry = opcode::Close::new(types::Fd(fd.into_raw_fd())).build();
        let key = self.submit_op(entry, None, Outcome::Plain);
        if let Some(op) = self.ops.get_mut(key) {
            op.state = OpState::Abandoned(Box::new(()));
        }
    }

    /// The ring's descriptor: readable while completions wait.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.ring.as_raw_fd()
    }

    /// Hands queued operations to the kernel (a system call only when
    /// there are some, or when the kernel holds overflowed completions).
    /// Returns whether completions are waiting to be reaped.
    pub(crate) fn submit(&mut self) -> bool {
        self.close_released();
        self.flush_backlog();
        let pending = {
            let sq = self.ring.submission();
            !sq.is_empty() || sq.cq_overflow()
        };
        if pending {
            // EBUSY/EAGAIN: the kernel is short of room; the next turn
            // retries. Nothing is lost: the entries stay queued.
            let _ = self.ring.submit();
        }
        !self.ring.completion().is_empty()
    }

    /// Collects finished operations; returns how many completions there were.
    pub(crate) fn reap(&mut self, wake: &mut Vec<Waker>) -> usize {
        let mut n = 0;
        for cqe in self.ring.completion() {
            n += 1;
            let (data, result) = (cqe.user_data(), cqe.result());
            match data {
                IGNORE => {}
                d if d & OP != 0 => {
                    let key = (d & !OP) as usize;
                    let Some(slot) = self.ops.get_mut(key) else {
                        continue;
                    };
                    let outcome = slot.outcome;
                    match outcome {
                        Outcome::Direct(_) if result >= 0 => self.direct.opened(),
                        // The open failed: the slot stayed empty.
                        Outcome::Direct(slot) => self.direct.freed(slot),
                        // A failed close (EBADF) found the slot empty.
                        Outcome::DirectClose(slot) => self.direct.closed(slot),
                        _ => {}
                    }
                    match &mut slot.state {
                        OpState::Waiting(w) => {
                            if let Some(w) = w.take() {
                                wake.push(w);
                            }
                            slot.state = OpState::Done(result);
                        }
                        // The buffers go only now that the kernel is done
                        // (a direct file among them queues its close).
                        OpState::Abandoned(_) => {
                            let weight = slot.weight;
                            drop(self.ops.remove(key));
                            // (The driver's own closes were never counted.)
                            if weight > 0 {
                                self.orphans.release(weight, wake);
                            }
                            release(&self.direct, outcome, result);
                        }
                        OpState::Done(_) => {}
                    }
                }
                _ => {}
            }
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
            self.close_released();
            self.flush_backlog();
            let ts = types::Timespec::from(deadline - now);
            let args = types::SubmitArgs::new().timespec(&ts);
            let _ = self.ring.submitter().submit_with_args(1, &args);
            self.reap(&mut wake);
        }
        // Completed but never collected: nothing refers to the kernel.
        // Descriptors they opened are closed; direct slots go with the ring.
        for key in 0..self.ops_capacity_hint() {
            if let Some(OpSlot {
                state: OpState::Done(result),
                outcome,
                ..
            }) = self.ops.remove(key)
            {
                release(&self.direct, outcome, result);
            }
        }
        self.direct.take_closing();
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

/// Closes what a successful result of an operation nobody collected holds.
fn release(direct: &DirectTable, outcome: Outcome, result: i32) {
    if result < 0 {
        return;
    }
    match outcome {
        Outcome::Fd => crate::sys::fd::close_owned(result),
        Outcome::Direct(slot) => direct.release(slot),
        Outcome::Plain | Outcome::DirectClose(_) => {}
    }
}

impl Drop for UringBackend {
    fn drop(&mut self) {
        if self.pending_ops() > 0 {
            self.shutdown();
        }
    }
}
