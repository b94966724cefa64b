//! The loop's clock: the real monotonic clock, or a virtual one that only
//! moves when the loop has nothing else to do.
//!
//! The timer wheel counts time in ticks of one microsecond from the clock's
//! start: fine enough that a deadline is honoured to the microsecond (a
//! 300 µs sleep is not rounded to a millisecond, as tokio's are), and coarse
//! enough that the [`HORIZON`] of 1000 years fits a `u64` with room to spare.

use std::cell::Cell;
use std::time::Duration;

use super::Instant;

pub(crate) struct Clock {
    is_virtual: bool,
    epoch: std::time::Instant,
    /// Virtual time elapsed since `epoch`, in ticks: virtual time only
    /// ever stands on a whole tick.
    virtual_tick: Cell<u64>,
    /// `epoch + virtual_tick`, kept so that reading a virtual clock (every
    /// `sleep` does, twice) costs no `Instant` arithmetic; it changes only
    /// when time jumps.
    virtual_now: Cell<std::time::Instant>,
}

impl Clock {
    pub(crate) fn new(is_virtual: bool) -> Clock {
        let epoch = std::time::Instant::now();
        Clock {
            is_virtual,
            epoch,
            virtual_tick: Cell::new(0),
            virtual_now: Cell::new(epoch),
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
            Instant(self.virtual_now.get())
        } else {
            Instant(std::time::Instant::now())
        }
    }

    /// The tick at or after `deadline` (a timer never fires early), or
    /// `None` if the deadline lies at or beyond the [`HORIZON`]: it never
    /// comes, and no timer is set for it.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> Option<u64> {
        let since = deadline.0.saturating_duration_since(self.epoch);
        if since >= HORIZON {
            return None;
        }
        // Below the horizon (about 3.2e16 µs), microseconds fit a u64.
        let us = since.as_micros() as u64;
        Some(if since > Duration::from_micros(us) {
            us + 1
        } else {
            us
        })
    }

    /// On a virtual clock, the tick of the deadline `duration` from now:
    /// virtual time stands on a whole tick, so that is the current tick
    /// plus `duration` rounded up, with no `Instant` arithmetic (the same
    /// tick as [`deadline_tick`](Self::deadline_tick) of `now + duration`).
    /// `None` on a real clock, and near the [`HORIZON`], where the caller
    /// takes the general path.
    pub(crate) fn virtual_tick_after(&self, duration: Duration) -> Option<u64> {
        if !self.is_virtual {
            return None;
        }
        // Whole microseconds, rounded up, in integer arithmetic: anything
        // that overflows a u64 is far beyond the horizon anyway.
        let us = duration
            .as_secs()
            .checked_mul(1_000_000)?
            .checked_add(u64::from(duration.subsec_nanos().div_ceil(1_000)))?;
        let tick = self.virtual_tick.get().checked_add(us)?;
        (tick < HORIZON_TICKS).then_some(tick)
    }

    /// The last tick that has fully begun at `now`.
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        now.0.saturating_duration_since(self.epoch).as_micros() as u64
    }

    pub(crate) fn instant_of_tick(&self, tick: u64) -> Instant {
        Instant(
            self.epoch
                .checked_add(Duration::from_micros(tick))
                .unwrap_or_else(|| far_future(self.epoch)),
        )
    }

    /// The tick now: [`now_tick`](Self::now_tick) of [`now`](Self::now).
    /// A virtual clock reads its offset directly, with no `Instant`
    /// arithmetic, since the loop asks at every turn.
    pub(crate) fn current_tick(&self) -> u64 {
        if self.is_virtual {
            self.virtual_tick.get()
        } else {
            self.now_tick(Instant(std::time::Instant::now()))
        }
    }

    /// Moves virtual time forward to the start of `tick` (never backward).
    /// Ticks are counted from the epoch, so this is an offset, and needs no
    /// `Instant` arithmetic.
    pub(crate) fn advance_to_tick(&self, tick: u64) {
        debug_assert!(self.is_virtual);
        if tick > self.virtual_tick.get() {
            self.virtual_tick.set(tick);
            self.virtual_now
                .set(self.epoch + Duration::from_micros(tick));
        }
    }
}

/// How far from its start a loop's clock sets timers: 1000 years (of 365
/// days). A deadline at or beyond it never comes: a sleep until then never
/// ends, and sets no timer; see [`sleep`](super::sleep).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{HORIZON, sleep, timeout};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     // Past the horizon: it never ends, and time does not jump to it.
///     let far = timeout(Duration::from_secs(60), sleep(HORIZON * 2)).await;
///     assert!(far.is_err());
/// });
/// ```
pub const HORIZON: Duration = Duration::from_secs(86_400 * 365 * 1000);

/// The [`HORIZON`] in ticks (microseconds).
const HORIZON_TICKS: u64 = HORIZON.as_secs() * 1_000_000;

/// A deadline that never comes, beyond the [`HORIZON`] of any clock that
/// started by `from`: for durations such as `Duration::MAX` ("forever"),
/// and sums that would overflow an `Instant`.
pub(crate) fn far_future(from: std::time::Instant) -> std::time::Instant {
    from + HORIZON + Duration::from_secs(86_400)
}

/// `from + duration`, or a deadline that never comes if that is beyond
/// what an `Instant` holds.
pub(crate) fn saturating_after(from: Instant, duration: Duration) -> Instant {
    from.checked_add(duration)
        .unwrap_or_else(|| Instant(far_future(from.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(true);
        let base = clock.now();
        assert_eq!(clock.deadline_tick(base), Some(0));
        assert_eq!(clock.deadline_tick(base + Duration::from_nanos(1)), Some(1));
        assert_eq!(
            clock.deadline_tick(base + Duration::from_micros(300)),
            Some(300)
        );
        assert_eq!(
            clock.deadline_tick(base + Duration::from_nanos(300_001)),
            Some(301)
        );
        assert_eq!(clock.now_tick(base + Duration::from_nanos(5_999)), 5);
        assert_eq!(
            clock.instant_of_tick(5_000_000_000_000),
            base + Duration::from_micros(5_000_000_000_000)
        );
    }

    #[test]
    fn deadlines_at_or_beyond_the_horizon_never_come() {
        let clock = Clock::new(true);
        let base = clock.now();
        let last = HORIZON - Duration::from_micros(1);
        assert_eq!(
            clock.deadline_tick(base + last),
            Some(last.as_micros() as u64)
        );
        assert_eq!(clock.deadline_tick(base + HORIZON), None);
        assert_eq!(
            clock.deadline_tick(base + Duration::from_secs(10u64.pow(16))),
            None
        );
        let never = saturating_after(base, Duration::MAX);
        assert_eq!(clock.deadline_tick(never), None);
    }

    #[test]
    fn a_virtual_tick_after_is_the_deadline_tick_of_now_plus() {
        let clock = Clock::new(true);
        clock.advance_to_tick(7_000_123);
        for nanos in [0, 1, 999, 1_000, 1_001, 5_000_000_000, 12_345_678_901] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(
                clock.virtual_tick_after(d),
                clock.deadline_tick(clock.now() + d),
                "{d:?}"
            );
        }
        assert_eq!(clock.virtual_tick_after(HORIZON), None);
        assert_eq!(Clock::new(false).virtual_tick_after(Duration::ZERO), None);
    }

    #[test]
    fn virtual_time_moves_only_forward() {
        let clock = Clock::new(true);
        let start = clock.now();
        clock.advance_to_tick(10_000_000);
        clock.advance_to_tick(3_000_000);
        assert_eq!(clock.current_tick(), 10_000_000);
        assert_eq!(clock.now() - start, Duration::from_secs(10));
    }
}
