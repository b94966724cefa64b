//! The loop's notion of "now".

use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::event_loop::context;

/// A point in time on the current event loop's clock.
///
/// On a real clock it is [`std::time::Instant`]; on a virtual clock it moves
/// only when the loop jumps to a timer's deadline. Outside of any loop,
/// [`Instant::now`] reads the real clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub(crate) std::time::Instant);

impl Instant {
    /// The current time on this thread's event loop clock.
    pub fn now() -> Instant {
        context::with(|core| match core {
            Some(core) => core.clock.now(),
            None => Instant(std::time::Instant::now()),
        })
    }

    /// The time elapsed since `self` on the loop's clock.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// `self + duration`, or `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// The underlying standard instant.
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Wraps a standard instant.
    pub fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0 + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0 - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        self.0 -= rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}
