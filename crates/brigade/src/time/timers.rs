//! A loop's timers: the hierarchical wheel on a real clock, the heap on a
//! virtual one (`heap.rs` tells why), behind one interface.

use super::heap::Heap;
use super::wheel::{TimerKey, Wheel};

/// The timers of one loop, each carrying a `T` to hand back when it fires.
#[allow(
    clippy::large_enum_variant,
    reason = "one per loop, inside the loop's core: boxing the wheel would save \
              nothing and add a pointer to chase on every timer operation"
)]
pub(crate) enum Timers<T> {
    /// A clock that moves on its own passes through every slot.
    Wheel(Wheel<T>),
    /// A virtual clock jumps from deadline to deadline.
    Heap(Heap<T>),
}

impl<T> Timers<T> {
    /// The structure for a real clock, or a virtual one.
    pub(crate) fn new(is_virtual: bool) -> Timers<T> {
        if is_virtual {
            Timers::Heap(Heap::new())
        } else {
            Timers::Wheel(Wheel::new())
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match self {
            Timers::Wheel(w) => w.len(),
            Timers::Heap(h) => h.len(),
        }
    }

    /// Adds a timer that hands back `alarm` at `tick`.
    pub(crate) fn insert(&mut self, tick: u64, alarm: T) -> TimerKey {
        match self {
            Timers::Wheel(w) => w.insert(tick, alarm),
            Timers::Heap(h) => h.insert(tick, alarm),
        }
    }

    /// The alarm of a pending timer; `None` once it fired or was cancelled.
    pub(crate) fn alarm_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        match self {
            Timers::Wheel(w) => w.alarm_mut(key),
            Timers::Heap(h) => h.alarm_mut(key),
        }
    }

    /// Removes a pending timer, handing back its alarm.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<T> {
        match self {
            Timers::Wheel(w) => w.cancel(key),
            Timers::Heap(h) => h.cancel(key),
        }
    }

    /// When the timers next need attention, if any is set.
    pub(crate) fn next_tick(&self) -> Option<u64> {
        match self {
            Timers::Wheel(w) => w.next_tick(),
            Timers::Heap(h) => h.next_tick(),
        }
    }

    /// Whether nothing is due by `now`.
    pub(crate) fn skip_quiet(&mut self, now: u64) -> bool {
        match self {
            Timers::Wheel(w) => w.skip_quiet(now),
            Timers::Heap(h) => h.skip_quiet(now),
        }
    }

    /// Appends the alarms due by `now` to `fired`, in deadline order.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<T>) {
        match self {
            Timers::Wheel(w) => w.advance(now, fired),
            Timers::Heap(h) => h.advance(now, fired),
        }
    }

    /// Removes every timer, returning their alarms.
    pub(crate) fn clear(&mut self) -> Vec<T> {
        match self {
            Timers::Wheel(w) => w.clear(),
            Timers::Heap(h) => h.clear(),
        }
    }
}
