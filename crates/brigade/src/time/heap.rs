//! The timers of a loop on a virtual clock: a binary min-heap of deadlines,
//! with lazy deletion.
//!
//! # Why not the wheel
//! A hierarchical wheel (`wheel.rs`) suits a clock that moves forward on
//! its own: a timer is linked in O(1) and cascades towards level 0 as time
//! passes through its slots. A virtual clock does not pass through time; it
//! jumps straight to the next deadline. There the wheel's cascades are pure
//! cost, paid again at every jump, and finding the next deadline is a walk
//! over the levels. A heap's root *is* the next deadline: the jump reads
//! it, and firing is a pop, O(log n) for the few timers a simulation
//! usually has in flight (the exhibition has a dozen).
//!
//! # The structure
//! The heap is a binary min-heap in a vector (Williams, 1964): node `i`'s
//! children are `2i + 1` and `2i + 2`, and no node is larger than its
//! children, so the root is the smallest. Nodes are ordered by `(tick,
//! sequence)`, compared as one 128-bit number; the sequence number (the
//! timer's generation, counting up) keeps timers due at the same tick in
//! the order they were set, as the wheel does. What a timer wakes lives in
//! a [`Slab`], where its key points. (`std`'s `BinaryHeap` does the same
//! job; this one sifts with one comparison per level and no `Reverse`
//! wrapper, which the profile of a simulation showed worth its few lines.)
//!
//! Cancelling removes the slab entry and leaves the heap node behind,
//! stale (lazy deletion, as in Dijkstra's algorithm with a binary heap
//! that has no decrease-key): a pop skips a node whose slab entry has gone
//! or been reused. Stale nodes at the root are popped at once, so that the
//! root is always a live deadline, and when stale nodes outnumber live ones
//! the heap is rebuilt from the live ones in O(n), so that a loop that sets
//! and cancels timeouts for ever does not grow.

use super::wheel::TimerKey;
use crate::slab::Slab;

/// Stale nodes tolerated before a rebuild is considered.
const STALE_SLACK: usize = 64;

/// A deadline in the heap; `generation` both orders equal ticks and tells
/// a live node from a stale one.
#[derive(Clone, Copy)]
struct Node {
    tick: u64,
    generation: u64,
    index: usize,
}

impl Node {
    /// The order of the heap: by tick, then by the order set.
    fn key(&self) -> u128 {
        (u128::from(self.tick) << 64) | u128::from(self.generation)
    }
}

struct Entry<T> {
    alarm: T,
    generation: u64,
}

/// The timers of one virtual-clock loop, each carrying a `T` to hand back
/// when it fires; the same interface as the wheel's.
pub(crate) struct Heap<T> {
    /// The min-heap (see the module docs).
    nodes: Vec<Node>,
    entries: Slab<Entry<T>>,
    next_generation: u64,
}

impl<T> Heap<T> {
    pub(crate) fn new() -> Heap<T> {
        Heap {
            nodes: Vec::new(),
            entries: Slab::new(),
            next_generation: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds a timer that hands back `alarm` at `tick`.
    pub(crate) fn insert(&mut self, tick: u64, alarm: T) -> TimerKey {
        let generation = self.next_generation;
        self.next_generation += 1;
        let index = self.entries.insert(Entry { alarm, generation });
        self.push(Node {
            tick,
            generation,
            index,
        });
        TimerKey { index, generation }
    }

    /// The alarm of a pending timer, to replace it; `None` if the key is
    /// stale (the timer fired or was cancelled).
    pub(crate) fn alarm_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        match self.entries.get_mut(key.index) {
            Some(entry) if entry.generation == key.generation => Some(&mut entry.alarm),
            _ => None,
        }
    }

    /// Removes a pending timer, handing back its alarm; a stale key is
    /// ignored.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<T> {
        match self.entries.get(key.index) {
            Some(entry) if entry.generation == key.generation => {
                let alarm = self.entries.remove(key.index).map(|e| e.alarm);
                self.drop_stale_root();
                if self.nodes.len() > 2 * self.entries.len() + STALE_SLACK {
                    self.rebuild();
                }
                alarm
            }
            _ => None,
        }
    }

    /// The earliest deadline, if any timer is set.
    pub(crate) fn next_tick(&self) -> Option<u64> {
        self.nodes.first().map(|node| node.tick)
    }

    /// Whether no timer is due by `now`: [`advance`](Self::advance) would
    /// have nothing to fire.
    pub(crate) fn skip_quiet(&mut self, now: u64) -> bool {
        self.next_tick().is_none_or(|tick| tick > now)
    }

    /// Appends the alarms of the timers due by `now` to `fired`, in
    /// deadline order (and the order they were set within a tick).
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<T>) {
        while let Some(&node) = self.nodes.first() {
            if node.tick > now {
                break;
            }
            self.pop_root();
            if let Some(entry) = self.take_live(node) {
                fired.push(entry.alarm);
            }
        }
        self.drop_stale_root();
    }

    /// Removes every timer, returning their alarms.
    pub(crate) fn clear(&mut self) -> Vec<T> {
        self.nodes.clear();
        self.entries.drain().into_iter().map(|e| e.alarm).collect()
    }

    /// The entry `node` stands for, removed, if the node is live.
    fn take_live(&mut self, node: Node) -> Option<Entry<T>> {
        if self.is_live(&node) {
            self.entries.remove(node.index)
        } else {
            None
        }
    }

    fn is_live(&self, node: &Node) -> bool {
        self.entries
            .get(node.index)
            .is_some_and(|e| e.generation == node.generation)
    }

    /// Pops stale nodes off the root, so that the root is a live deadline.
    fn drop_stale_root(&mut self) {
        while let Some(node) = self.nodes.first() {
            if self.is_live(node) {
                break;
            }
            self.pop_root();
        }
    }

    /// Keeps only the live nodes, then restores the heap bottom-up in O(n)
    /// (Floyd, 1964).
    fn rebuild(&mut self) {
        let mut nodes = std::mem::take(&mut self.nodes);
        nodes.retain(|node| self.is_live(node));
        self.nodes = nodes;
        for i in (0..self.nodes.len() / 2).rev() {
            self.sift_down(i, self.nodes[i]);
        }
    }

    /// Adds `node`, moving it up past every larger parent.
    fn push(&mut self, node: Node) {
        let mut i = self.nodes.len();
        self.nodes.push(node);
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.nodes[parent].key() <= node.key() {
                break;
            }
            self.nodes[i] = self.nodes[parent];
            i = parent;
        }
        self.nodes[i] = node;
    }

    /// Removes the root: the last node takes its place and sinks.
    fn pop_root(&mut self) {
        if let Some(last) = self.nodes.pop() {
            if !self.nodes.is_empty() {
                self.sift_down(0, last);
            }
        }
    }

    /// Puts `node` at `i`, or below it past every smaller child.
    fn sift_down(&mut self, mut i: usize, node: Node) {
        let len = self.nodes.len();
        loop {
            let left = 2 * i + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.nodes[right].key() < self.nodes[left].key() {
                right
            } else {
                left
            };
            if node.key() <= self.nodes[child].key() {
                break;
            }
            self.nodes[i] = self.nodes[child];
            i = child;
        }
        self.nodes[i] = node;
    }
}

#[cfg(test)]
mod tests {
    use super::Heap;

    fn advanced(heap: &mut Heap<u32>, now: u64) -> Vec<u32> {
        let mut fired = Vec::new();
        heap.advance(now, &mut fired);
        fired
    }

    #[test]
    fn fires_in_deadline_order_then_in_the_order_set() {
        let mut heap = Heap::new();
        for (label, tick) in [(0, 50), (1, 10), (2, 50), (3, 10), (4, 7)] {
            heap.insert(tick, label);
        }
        assert_eq!(heap.next_tick(), Some(7));
        assert!(heap.skip_quiet(6));
        assert!(advanced(&mut heap, 6).is_empty());
        assert_eq!(advanced(&mut heap, 10), [4, 1, 3]);
        assert_eq!(advanced(&mut heap, 1_000), [0, 2]);
        assert_eq!(heap.next_tick(), None);
    }

    #[test]
    fn a_cancelled_timer_never_fires_and_its_key_goes_stale() {
        let mut heap = Heap::new();
        let first = heap.insert(5, 1);
        let second = heap.insert(9, 2);
        assert_eq!(heap.cancel(first), Some(1));
        assert_eq!(heap.cancel(first), None, "a cancelled key is stale");
        assert!(heap.alarm_mut(first).is_none());
        // The root is the live deadline, not the cancelled one.
        assert_eq!(heap.next_tick(), Some(9));
        *heap.alarm_mut(second).unwrap() = 3;
        assert_eq!(advanced(&mut heap, 9), [3]);
        assert!(heap.alarm_mut(second).is_none(), "a fired key is stale");
        // A slot reused by a later timer is not mistaken for the old one.
        let third = heap.insert(20, 4);
        assert_eq!(heap.cancel(second), None);
        assert_eq!(heap.cancel(third), Some(4));
    }

    #[test]
    fn setting_and_cancelling_for_ever_does_not_grow_the_heap() {
        let mut heap = Heap::new();
        heap.insert(u64::MAX, 0); // one timer that stays
        for i in 0..100_000u64 {
            let key = heap.insert(1_000 + i % 7, 1);
            heap.cancel(key);
        }
        assert!(heap.nodes.len() <= 2 + super::STALE_SLACK + 2);
        assert_eq!(heap.len(), 1);
    }

    #[test]
    fn a_rebuild_keeps_the_live_timers_in_order() {
        let mut heap = Heap::new();
        // Live timers at the root's end of the heap, and many cancelled
        // ones behind them: only a rebuild can drop those.
        for label in 0..10 {
            heap.insert(100 - u64::from(label), label);
        }
        for i in 0..1_000u64 {
            let key = heap.insert(1_000 + i, 99);
            heap.cancel(key);
        }
        assert!(heap.nodes.len() <= 2 * 10 + super::STALE_SLACK + 1);
        assert_eq!(
            advanced(&mut heap, 2_000),
            (0..10).rev().collect::<Vec<_>>()
        );
        assert_eq!(heap.next_tick(), None);
    }

    /// Random inserts, cancels and advances against a plain model: every
    /// timer fires exactly once, at the first advance at or past its tick,
    /// in (tick, order set) order; none that was cancelled fires.
    #[test]
    fn agrees_with_a_model_over_random_operations() {
        let mut heap = Heap::new();
        let mut model: Vec<(u64, u32)> = Vec::new();
        let mut keys = Vec::new();
        let mut now = 0u64;
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for label in 0..20_000u32 {
            match next() % 4 {
                0 | 1 => {
                    let tick = now + next() % 5_000;
                    keys.push((heap.insert(tick, label), tick, label));
                    model.push((tick, label));
                }
                2 if !keys.is_empty() => {
                    let (key, _, label) = keys.swap_remove((next() as usize) % keys.len());
                    let expected = model.iter().position(|&(_, l)| l == label);
                    assert_eq!(heap.cancel(key), expected.map(|i| model.remove(i).1));
                }
                _ => {
                    now += next() % 2_000;
                    let mut due: Vec<(u64, u32)> =
                        model.iter().copied().filter(|&(t, _)| t <= now).collect();
                    due.sort();
                    model.retain(|&(t, _)| t > now);
                    let fired = advanced(&mut heap, now);
                    assert_eq!(fired, due.iter().map(|&(_, l)| l).collect::<Vec<_>>());
                }
            }
            assert_eq!(heap.len(), model.len());
            assert_eq!(heap.next_tick(), model.iter().map(|&(t, _)| t).min());
        }
    }
}
