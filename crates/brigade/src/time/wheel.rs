//! A hierarchical timing wheel: insert, cancel and expire timers in O(1).
//!
//! This is the structure of Varghese and Lauck, "Hashed and Hierarchical
//! Timing Wheels" (SOSP 1987), in the form Linux and tokio use, with ticks
//! of one microsecond (tokio's are milliseconds): eight levels of 64 slots;
//! a slot of level `l` spans `64^l` ticks, so the wheel covers a block of
//! 64^8 µs (about 8.9 years). Deadlines beyond the current block wait in an
//! overflow list (linear to cancel, but only timers years away land there)
//! until time enters their block. A timer goes into the level of the
//! highest 6-bit digit in which its deadline differs from the wheel's
//! current tick; as time reaches a slot of a higher level, the slot's timers
//! cascade into lower levels, and those of level 0 fire.
//!
//! Microsecond ticks are what make real-clock timers precise: a level-0
//! slot holds one deadline, so the tick the wheel reports next is the exact
//! earliest deadline (rounded up to the microsecond), and the loop sleeps
//! until then rather than to the next millisecond. The price is two more
//! levels, and so at most two more cascades in a timer's life (a timer
//! cascades once per level it descends: a 1 s sleep starts at level 3);
//! each cascade moves an entry in O(1), with no allocation, and all of a
//! timer's cascades happen in the one [`Wheel::advance`] that fires it.
//!
//! Each level keeps a 64-bit occupancy mask, so finding the next slot is a
//! rotate and a count of trailing zeros per level. Each slot also keeps the
//! earliest deadline linked into it (a `min` per insert; a cancel leaves it
//! as it was, early but never late), so the wheel reports when its next
//! timer is due rather than when its slot cascades: the loop sleeps (or the
//! virtual clock jumps) once per deadline, and [`Wheel::advance`] does the
//! cascades on its way there. Entries live in a slab
//! and form doubly linked lists by index: cancelling unlinks in O(1), and
//! timers that fire in the same tick fire in the order they were set.
//!
//! The earliest deadline also spares most cascades. Nothing in the wheel is
//! due before the first slot's earliest deadline, so [`Wheel::advance`]
//! moves its notion of time straight there rather than to the slot's start:
//! the timers due at that deadline fire from the slot where they were set,
//! however high its level, and only the slot's other timers cascade, as far
//! down as their distance from that deadline asks. A timer alone in its
//! slot (on a virtual clock, where a few distinct deadlines are pending at
//! once, most are) is linked once and never moves. And the wheel keeps a
//! lower bound on the tick at which its first slot begins, so an advance to
//! an earlier tick (most turns of a busy loop) costs one comparison.

use crate::slab::Slab;

const LEVELS: usize = 8;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// Ticks covered by the wheel: one block of the top level.
const BLOCK_BITS: u32 = SLOT_BITS * LEVELS as u32;
#[cfg(test)]
const MAX_SPAN: u64 = 1 << BLOCK_BITS;
const NIL: usize = usize::MAX;
/// The `level` of an entry waiting in the overflow list.
const OVERFLOW: usize = usize::MAX;

/// Names one timer; stale once it fired or was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    pub(super) index: usize,
    pub(super) generation: u64,
}

impl TimerKey {
    /// A key that names no timer, stale from the start: for a timer that is
    /// yet to be set.
    pub(crate) const UNSET: TimerKey = TimerKey {
        index: NIL,
        generation: u64::MAX,
    };
}

struct Entry<T> {
    tick: u64,
    /// What the timer wakes (the loop's `Alarm`: a task or a waker).
    alarm: T,
    generation: u64,
    level: usize,
    slot: usize,
    prev: usize,
    next: usize,
}

/// One slot of a level: its list of entries, and a bound on their earliest
/// deadline, side by side so that linking an entry touches one cache line.
#[derive(Clone, Copy)]
struct Slot {
    head: usize,
    tail: usize,
    /// While the slot is occupied: no later than its earliest deadline.
    earliest: u64,
}

const EMPTY_SLOT: Slot = Slot {
    head: NIL,
    tail: NIL,
    earliest: 0,
};

/// The timers of one loop, each carrying a `T` to hand back when it fires
/// (the wheel does not look inside: it is whatever wakes the waiter).
pub(crate) struct Wheel<T> {
    /// The tick up to which time has been processed.
    elapsed: u64,
    entries: Slab<Entry<T>>,
    /// Per level, bit `s` is set while slot `s` holds a timer. The eight
    /// masks fill one cache line, which every turn of the loop reads.
    occupied: [u64; LEVELS],
    levels: [[Slot; SLOTS]; LEVELS],
    /// Bit `l` is set while level `l` holds a timer: finding the lowest
    /// occupied level is one count of trailing zeros, not a walk over the
    /// levels' masks (eight cache lines).
    occupied_levels: u8,
    /// Entries whose deadline lies beyond the current block.
    overflow: Vec<usize>,
    next_generation: u64,
    /// No later than the tick at which the first occupied slot (or the
    /// overflow's block) begins: an advance to an earlier tick has nothing
    /// to do, and returns after one comparison. `u64::MAX` when empty.
    quiet_until: u64,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Wheel<T> {
        Wheel {
            elapsed: 0,
            entries: Slab::new(),
            occupied: [0; LEVELS],
            levels: [[EMPTY_SLOT; SLOTS]; LEVELS],
            occupied_levels: 0,
            overflow: Vec::new(),
            next_generation: 0,
            quiet_until: u64::MAX,
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
        let entry = Entry {
            tick,
            alarm,
            generation,
            level: 0,
            slot: 0,
            prev: NIL,
            next: NIL,
        };
        let index = self.entries.insert(entry);
        self.link(index);
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
                self.unlink(key.index);
                self.entries.remove(key.index).map(|e| e.alarm)
            }
            _ => None,
        }
    }

    /// The tick at which the wheel next needs attention, if any timer is set:
    /// the earliest deadline, or earlier if the timer that had it was
    /// cancelled (then nothing fires, and the next call tells more).
    pub(crate) fn next_tick(&self) -> Option<u64> {
        // The first occupied slot of the lowest occupied level holds the
        // earliest deadline: lower levels lie wholly before higher ones.
        let in_wheel = self
            .first_slot()
            .map(|(level, slot, start)| start.max(self.levels[level][slot].earliest));
        match (in_wheel, self.overflow_start()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When time enters the block of the earliest overflowed deadline.
    fn overflow_start(&self) -> Option<u64> {
        let earliest = self
            .overflow
            .iter()
            .filter_map(|&i| self.entries.get(i))
            .map(|e| e.tick)
            .min()?;
        Some(earliest >> BLOCK_BITS << BLOCK_BITS)
    }

    /// Advances to `now` if no timer is due by then (one comparison; see
    /// `quiet_until`), and says whether it did: [`advance`](Self::advance)
    /// would have nothing to fire.
    pub(crate) fn skip_quiet(&mut self, now: u64) -> bool {
        let quiet = now < self.quiet_until;
        if quiet {
            self.elapsed = self.elapsed.max(now);
        }
        quiet
    }

    /// Processes time up to `now`: appends the alarms of the timers due to
    /// `fired`, in deadline order (and insertion order within a tick). The
    /// caller owns the vector so that one buffer serves every advance.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<T>) {
        if self.skip_quiet(now) {
            return;
        }
        loop {
            let Some((level, slot, tick)) = self.first_slot() else {
                match self.overflow_start() {
                    Some(start) if start <= now => {
                        self.elapsed = self.elapsed.max(start);
                        for index in std::mem::take(&mut self.overflow) {
                            self.link(index);
                        }
                        continue;
                    }
                    next => {
                        self.quiet_until = next.unwrap_or(u64::MAX);
                        break;
                    }
                }
            };
            if tick > now {
                self.quiet_until = tick;
                break;
            }
            // Nothing in the wheel is due before the slot's earliest
            // deadline (lower levels are empty, later slots come later), so
            // time may jump straight there: the timers due then fire from
            // this slot without cascading, and the rest cascade only as far
            // down as their distance from that deadline asks.
            let earliest = self.levels[level][slot].earliest;
            self.elapsed = self.elapsed.max(tick).max(earliest.min(now));
            let mut index = self.take_slot(level, slot);
            while index != NIL {
                let next = self.entries.get(index).map_or(NIL, |e| e.next);
                let due = self
                    .entries
                    .get(index)
                    .is_some_and(|e| e.tick <= self.elapsed);
                if due {
                    if let Some(entry) = self.entries.remove(index) {
                        fired.push(entry.alarm);
                    }
                } else {
                    self.link(index);
                }
                index = next;
            }
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Removes every timer, returning their alarms.
    pub(crate) fn clear(&mut self) -> Vec<T> {
        self.overflow.clear();
        self.quiet_until = u64::MAX;
        self.occupied_levels = 0;
        self.occupied = [0; LEVELS];
        self.levels = [[EMPTY_SLOT; SLOTS]; LEVELS];
        self.entries.drain().into_iter().map(|e| e.alarm).collect()
    }

    /// The first occupied slot of the lowest occupied level (see
    /// [`next_in_level`](Self::next_in_level)).
    fn first_slot(&self) -> Option<(usize, usize, u64)> {
        if self.occupied_levels == 0 {
            return None;
        }
        self.next_in_level(self.occupied_levels.trailing_zeros() as usize)
    }

    /// The first occupied slot of `level` at or after the current tick, and
    /// the tick at which that slot begins.
    fn next_in_level(&self, level: usize) -> Option<(usize, usize, u64)> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        // Spans are powers of two: shifts and masks, no division.
        let shift = SLOT_BITS as usize * level;
        let slot_span = 1u64 << shift;
        let level_span = slot_span << SLOT_BITS;
        let now_slot = (self.elapsed >> shift) & (SLOTS as u64 - 1);
        let distance = occupied.rotate_right(now_slot as u32).trailing_zeros() as u64;
        let slot = (now_slot + distance) & (SLOTS as u64 - 1);
        let level_start = self.elapsed & !(level_span - 1);
        let mut tick = level_start + slot * slot_span;
        if slot < now_slot {
            tick += level_span;
        }
        Some((level, slot as usize, tick))
    }

    /// Puts entry `index` into the slot its deadline belongs to now.
    fn link(&mut self, index: usize) {
        let elapsed = self.elapsed;
        let entry = self.entries.get_mut(index).expect("linking a live entry");
        // Past deadlines go to the current slot.
        let placed = entry.tick.max(elapsed);
        if placed >> BLOCK_BITS != elapsed >> BLOCK_BITS {
            entry.level = OVERFLOW;
            self.overflow.push(index);
            self.quiet_until = self.quiet_until.min(placed >> BLOCK_BITS << BLOCK_BITS);
            return;
        }
        let masked = (elapsed ^ placed) | (SLOTS as u64 - 1);
        let level = ((63 - masked.leading_zeros()) / SLOT_BITS) as usize;
        let shift = SLOT_BITS as usize * level;
        let slot = ((placed >> shift) % SLOTS as u64) as usize;
        // The slot begins where `placed` does with its lower digits cleared.
        self.quiet_until = self.quiet_until.min(placed >> shift << shift);
        let tail = self.levels[level][slot].tail;
        let earliest = &mut self.levels[level][slot].earliest;
        *earliest = if tail == NIL {
            placed
        } else {
            (*earliest).min(placed)
        };
        entry.level = level;
        entry.slot = slot;
        entry.prev = tail;
        entry.next = NIL;
        if tail == NIL {
            self.levels[level][slot].head = index;
        } else if let Some(t) = self.entries.get_mut(tail) {
            t.next = index;
        }
        self.levels[level][slot].tail = index;
        self.occupied[level] |= 1 << slot;
        self.occupied_levels |= 1 << level;
    }

    fn unlink(&mut self, index: usize) {
        let Some(entry) = self.entries.get(index) else {
            return;
        };
        let (level, slot, prev, next) = (entry.level, entry.slot, entry.prev, entry.next);
        if level == OVERFLOW {
            self.overflow.retain(|&i| i != index);
            return;
        }
        match self.entries.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.levels[level][slot].head = next,
        }
        match self.entries.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.levels[level][slot].tail = prev,
        }
        if self.levels[level][slot].head == NIL {
            self.occupied[level] &= !(1 << slot);
            if self.occupied[level] == 0 {
                self.occupied_levels &= !(1 << level);
            }
        }
    }

    /// Detaches a whole slot's list and returns its head.
    fn take_slot(&mut self, level: usize, slot: usize) -> usize {
        let head = self.levels[level][slot].head;
        self.levels[level][slot].head = NIL;
        self.levels[level][slot].tail = NIL;
        self.occupied[level] &= !(1 << slot);
        if self.occupied[level] == 0 {
            self.occupied_levels &= !(1 << level);
        }
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::task::{Wake, Waker};

    /// A waker that records its label when woken.
    struct Label(u64, Arc<Mutex<Vec<u64>>>);
    impl Wake for Label {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    fn advanced(wheel: &mut Wheel<Waker>, now: u64) -> Vec<Waker> {
        let mut fired = Vec::new();
        wheel.advance(now, &mut fired);
        fired
    }

    fn waker(label: u64, log: &Arc<Mutex<Vec<u64>>>) -> Waker {
        Arc::new(Label(label, log.clone())).into()
    }

    #[test]
    fn fires_in_deadline_order_across_levels() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::<Waker>::new();
        let deadlines = [5_000u64, 1, 64, 63, 4_096, 262_144, 70, 70, 3_600_000, 0];
        for (i, &d) in deadlines.iter().enumerate() {
            wheel.insert(d, waker(i as u64, &log));
        }
        let mut order = Vec::new();
        while let Some(tick) = wheel.next_tick() {
            for w in advanced(&mut wheel, tick) {
                w.wake();
            }
            let fired: Vec<u64> = log.lock().unwrap().drain(..).collect();
            for label in fired {
                assert!(deadlines[label as usize] <= tick, "fired early");
                order.push(label);
            }
        }
        let mut expected: Vec<u64> = (0..deadlines.len() as u64).collect();
        expected.sort_by_key(|&i| (deadlines[i as usize], i));
        assert_eq!(order, expected);
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn nothing_fires_before_its_tick_and_cancel_unlinks() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::<Waker>::new();
        let a = wheel.insert(100, waker(1, &log));
        let _b = wheel.insert(100, waker(2, &log));
        let c = wheel.insert(150, waker(3, &log));
        assert!(advanced(&mut wheel, 99).is_empty());
        assert!(wheel.cancel(a).is_some());
        assert!(wheel.cancel(a).is_none(), "a cancelled key is stale");
        for w in advanced(&mut wheel, 100) {
            w.wake();
        }
        assert_eq!(*log.lock().unwrap(), vec![2]);
        assert!(wheel.alarm_mut(a).is_none(), "a cancelled key is stale");
        *wheel.alarm_mut(c).expect("pending") = waker(4, &log);
        for w in advanced(&mut wheel, 1_000) {
            w.wake();
        }
        assert_eq!(*log.lock().unwrap(), vec![2, 4]);
    }

    #[test]
    fn far_deadlines_wait_at_the_top_level() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::<Waker>::new();
        let far = MAX_SPAN * 3 + 17;
        let _ = advanced(&mut wheel, 5);
        wheel.insert(far, waker(7, &log));
        let cancelled = wheel.insert(far + 1, waker(8, &log));
        wheel.insert(MAX_SPAN + 2, waker(6, &log));
        assert!(wheel.cancel(cancelled).is_some());
        let mut steps = 0;
        while let Some(tick) = wheel.next_tick() {
            assert!(tick <= far);
            for w in advanced(&mut wheel, tick) {
                w.wake();
            }
            steps += 1;
            assert!(steps < 100, "too many cascades");
        }
        assert_eq!(*log.lock().unwrap(), vec![6, 7]);
    }

    #[test]
    fn the_next_tick_is_the_earliest_deadline_not_a_cascade() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::<Waker>::new();
        // Both in one slot of level 2 (4,096 ticks wide), which begins at
        // 4,096: the wheel reports the first deadline, not the slot.
        let a = wheel.insert(4_100, waker(1, &log));
        wheel.insert(4_200, waker(2, &log));
        wheel.insert(5_000_000, waker(3, &log));
        assert_eq!(wheel.next_tick(), Some(4_100));
        // A cancelled earliest leaves the report early, never late.
        assert!(wheel.cancel(a).is_some());
        assert_eq!(wheel.next_tick(), Some(4_100));
        assert!(advanced(&mut wheel, 4_100).is_empty());
        assert_eq!(wheel.next_tick(), Some(4_200));
        // One advance does every cascade on the way to a deadline.
        assert_eq!(advanced(&mut wheel, 4_200).len(), 1);
        assert_eq!(wheel.next_tick(), Some(5_000_000));
        assert_eq!(advanced(&mut wheel, 5_000_000).len(), 1);
        assert_eq!(wheel.next_tick(), None);
    }

    #[test]
    fn emptying_a_level_uncovers_the_next_one() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::<Waker>::new();
        // Level 0 (tick 3), level 1 (tick 100), level 3 (tick 300,000).
        let low = wheel.insert(3, waker(1, &log));
        let mid = wheel.insert(100, waker(2, &log));
        wheel.insert(300_000, waker(3, &log));
        assert_eq!(wheel.next_tick(), Some(3));
        assert!(wheel.cancel(low).is_some());
        assert!(wheel.cancel(mid).is_some());
        // Both lower levels are empty now: the report comes from level 3.
        assert_eq!(wheel.next_tick(), Some(300_000));
        assert!(advanced(&mut wheel, 299_999).is_empty());
        assert_eq!(advanced(&mut wheel, 300_000).len(), 1);
        assert_eq!(wheel.next_tick(), None);
        // A cleared wheel reports nothing, and takes timers again.
        wheel.insert(400_000, waker(4, &log));
        assert_eq!(wheel.clear().len(), 1);
        assert_eq!(wheel.next_tick(), None);
        wheel.insert(400_001, waker(5, &log));
        assert_eq!(wheel.next_tick(), Some(400_001));
    }

    /// Random inserts, cancels and advances against a plain model (every
    /// live timer, fired once its tick has come): the wheel fires exactly
    /// the due timers, in deadline order and then in insertion order, over
    /// jumps that skip quiet stretches, land on deadlines, and cross levels.
    #[test]
    fn agrees_with_a_model_over_random_operations() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::<Waker>::new();
        // (tick, label, key) of every live timer, in insertion order.
        let mut model: Vec<(u64, u64, TimerKey)> = Vec::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut now = 0u64;
        for label in 0..20_000u64 {
            match next() % 8 {
                0..=3 => {
                    // Deadlines cluster (as a virtual clock's do) or spread
                    // across every level.
                    let span = [5_000_000, 64, 4_096 * 64, 1 << 40][(next() % 4) as usize];
                    let tick = now + next() % span;
                    model.push((tick, label, wheel.insert(tick, waker(label, &log))));
                }
                4 if !model.is_empty() => {
                    let (_, _, key) = model.remove((next() % model.len() as u64) as usize);
                    assert!(wheel.cancel(key).is_some());
                }
                _ => {
                    // Either to the wheel's own next tick, or anywhere.
                    now = match (next() % 2, wheel.next_tick()) {
                        (0, Some(tick)) => tick.max(now),
                        _ => now + next() % 10_000_000,
                    };
                    for w in advanced(&mut wheel, now) {
                        w.wake();
                    }
                    let mut due: Vec<(u64, u64)> = model
                        .iter()
                        .filter(|t| t.0 <= now)
                        .map(|t| (t.0, t.1))
                        .collect();
                    due.sort_by_key(|&(tick, label)| (tick, label));
                    model.retain(|t| t.0 > now);
                    let fired: Vec<u64> = log.lock().unwrap().drain(..).collect();
                    let expected: Vec<u64> = due.iter().map(|&(_, label)| label).collect();
                    assert_eq!(fired, expected, "at tick {now}");
                    if let (Some(tick), Some(first)) =
                        (wheel.next_tick(), model.iter().map(|t| t.0).min())
                    {
                        assert!(tick <= first, "reported {tick}, first due {first}");
                    }
                }
            }
            assert_eq!(wheel.len(), model.len());
        }
    }

    #[test]
    fn a_past_deadline_fires_at_the_next_advance() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut wheel = Wheel::<Waker>::new();
        let _ = advanced(&mut wheel, 500);
        wheel.insert(10, waker(1, &log));
        assert_eq!(wheel.next_tick(), Some(500));
        assert_eq!(advanced(&mut wheel, 500).len(), 1);
    }
}
