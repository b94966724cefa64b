//! The loop's clock: the real monotonic clock, or a virtual one that only
//! moves when the loop has nothing else to do.

use std::cell::Cell;
use std::time::Duration;

use super::Instant;

pub(crate) struct Clock {
    is_virtual: bool,
    epoch: std::time::Instant,
    /// Virtual time elapsed since `epoch`.
    offset: Cell<Duration>,
}

impl Clock {
    pub(crate) fn new(is_virtual: bool) -> Clock {
        Clock {
            is_virtual,
            epoch: std::time::Instant::now(),
            offset: Cell::new(Duration::ZERO),
        }
    }

    pub(crate) fn is_virtual(&self) -> bool {
        self.is_virtual
    }

    /// When the clock started: time zero of a virtual clock.
    pub(crate) fn start(&self) -> Instant {
        Instant(self.epoch)
    }

    pub(crate) fn now(&self) -> Instant {
        if self.is_virtual {
            Instant(self.epoch + self.offset.get())
        } else {
            Instant(std::time::Instant::now())
        }
    }

    /// The tick at or after `deadline` (a timer never fires early).
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.0.saturating_duration_since(self.epoch);
        // Deadlines beyond u64 milliseconds (half a billion years) saturate.
        let ms = u64::try_from(since.as_millis()).unwrap_or(u64::MAX - 1);
        if since > Duration::from_millis(ms) {
            ms + 1
        } else {
            ms
        }
    }

    /// The last tick that has fully begun at `now`.
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        now.0.saturating_duration_since(self.epoch).as_millis() as u64
    }

    pub(crate) fn instant_of_tick(&self, tick: u64) -> Instant {
        Instant(
            self.epoch
                .checked_add(Duration::from_millis(tick))
                .unwrap_or_else(|| far_future(self.epoch)),
        )
    }

    /// Moves virtual time forward to `to` (never backward).
    pub(crate) fn advance_to(&self, to: Instant) {
        debug_assert!(self.is_virtual);
        let offset = to.0.saturating_duration_since(self.epoch);
        if offset > self.offset.get() {
            self.offset.set(offset);
        }
    }
}

/// As far ahead of `from` as an `Instant` can comfortably reach: a deadline
/// that never comes, for durations such as `Duration::MAX` ("forever").
pub(crate) fn far_future(from: std::time::Instant) -> std::time::Instant {
    from + Duration::from_secs(86_400 * 365 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(true);
        let base = clock.now();
        assert_eq!(clock.deadline_tick(base), 0);
        assert_eq!(clock.deadline_tick(base + Duration::from_micros(1)), 1);
        assert_eq!(clock.deadline_tick(base + Duration::from_millis(5)), 5);
        assert_eq!(clock.now_tick(base + Duration::from_micros(5_999)), 5);
        assert_eq!(
            clock.instant_of_tick(5_000_000_000),
            base + Duration::from_millis(5_000_000_000)
        );
    }

    #[test]
    fn virtual_time_moves_only_forward() {
        let clock = Clock::new(true);
        let start = clock.now();
        clock.advance_to(start + Duration::from_secs(10));
        clock.advance_to(start + Duration::from_secs(3));
        assert_eq!(clock.now() - start, Duration::from_secs(10));
    }
}
