//! [`Orphans`]: the bound on buffers the kernel still holds for operations
//! whose futures are gone.
//!
//! A file operation owns its buffers until the kernel completes it (see
//! [`crate::io`]). If its future is dropped first, the buffers move into
//! the driver, which asks the kernel to cancel and frees them at the
//! completion. Until then nobody can see or use that memory: a loop that
//! starts reads and drops them faster than the kernel answers (a
//! `timeout(Duration::ZERO, fs::read(..))` in a loop) would pile it up
//! without limit (100,000 dropped reads held 315 MB).
//!
//! So the driver counts what orphaned operations hold, each weighing its
//! buffers' size plus [`SLOT_COST`] for its own bookkeeping, and while the
//! total is at or above the limit
//! ([`Builder::orphaned_io_limit`](crate::event_loop::Builder::orphaned_io_limit),
//! [`DEFAULT_LIMIT`] by default), or [`MAX_OPS`] operations are orphaned,
//! a new operation waits, its task suspended, until completions bring both
//! under. (The count matters apart from the bytes: an orphaned `openat`
//! holds little memory, but the descriptor it opens stays open until its
//! completion is collected and the driver closes it.) Orphaned memory then
//! exceeds the limit by at most what was in flight, and still owned by a
//! future, when the limit was reached.
//!
//! ```text
//! let mut orphans = Orphans::new(1024);
//! orphans.adopt(4096);
//! assert!(!orphans.has_room());
//! ```

use std::task::Waker;

/// The weight of an orphaned operation beyond its buffers: its slot, the
/// box around its data, its cancellation request.
pub(crate) const SLOT_COST: usize = 256;

/// The default limit on orphaned buffers per loop: 64 MiB.
pub(crate) const DEFAULT_LIMIT: usize = 64 << 20;

/// The most operations orphaned at once per loop, whatever they hold.
pub(crate) const MAX_OPS: usize = 256;

/// What orphaned operations hold, and the operations waiting for room.
#[derive(Debug)]
pub(crate) struct Orphans {
    ops: usize,
    bytes: usize,
    limit: usize,
    waiters: Vec<Waker>,
}

impl Orphans {
    pub(crate) fn new(limit: usize) -> Orphans {
        Orphans {
            ops: 0,
            bytes: 0,
            limit,
            waiters: Vec::new(),
        }
    }

    /// Whether a new operation may start now.
    pub(crate) fn has_room(&self) -> bool {
        self.bytes < self.limit && self.ops < MAX_OPS
    }

    /// Whether a new operation may start now; if not, `waker` is woken once
    /// there is room.
    pub(crate) fn wait_for_room(&mut self, waker: &Waker) -> bool {
        if self.has_room() {
            return true;
        }
        if !self.waiters.iter().any(|w| w.will_wake(waker)) {
            self.waiters.push(waker.clone());
        }
        false
    }

    /// An operation holding `held` bytes of buffers was orphaned; returns
    /// its weight, to hand back to [`release`](Self::release).
    pub(crate) fn adopt(&mut self, held: usize) -> usize {
        let weight = held.saturating_add(SLOT_COST);
        self.ops += 1;
        self.bytes = self.bytes.saturating_add(weight);
        weight
    }

    /// An orphaned operation of `weight` completed and its buffers were
    /// freed; wakes the waiting operations if there is room now.
    pub(crate) fn release(&mut self, weight: usize, wake: &mut Vec<Waker>) {
        self.ops = self.ops.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(weight);
        if self.has_room() {
            wake.append(&mut self.waiters);
        }
    }

    /// What orphaned operations hold now (weights included).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_operations_wait_while_orphans_hold_the_limit() {
        let mut orphans = Orphans::new(10_000);
        assert!(orphans.has_room());
        let weights = [6_000, 6_000, 6_000].map(|held| orphans.adopt(held));
        assert!(!orphans.has_room());
        let waker = std::task::Waker::noop().clone();
        assert!(!orphans.wait_for_room(&waker));
        let mut wake = Vec::new();
        orphans.release(weights[0], &mut wake);
        assert_eq!(wake.len(), 0, "still full: nobody is woken");
        orphans.release(weights[1], &mut wake);
        assert_eq!(wake.len(), 1);
        orphans.release(weights[2], &mut wake);
        assert_eq!(orphans.bytes(), 0);
        // Many small orphans fill the count before the bytes.
        let mut orphans = Orphans::new(DEFAULT_LIMIT);
        let weights: Vec<usize> = (0..MAX_OPS).map(|_| orphans.adopt(0)).collect();
        assert!(!orphans.has_room());
        orphans.release(weights[0], &mut wake);
        assert!(orphans.has_room());
    }
}
