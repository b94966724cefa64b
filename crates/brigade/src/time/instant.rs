//! The loop's notion of "now".

use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::event_loop::context;

/// A point in time on the current event loop's clock.
///
/// On a real clock it is [`std::time::Instant`]; on a virtual clock it moves
/// only when the loop jumps to a timer's deadline. Outside of any loop,
/// [`Instant::now`] reads the real clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::Instant;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     brigade::sleep(Duration::from_secs(90)).await;
///     assert_eq!(Instant::now() - start, Duration::from_secs(90));
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub(crate) std::time::Instant);

impl Instant {
    /// The current time on this thread's event loop clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::Instant;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let a = Instant::now();
    ///     assert_eq!(Instant::now(), a); // the virtual clock stands still...
    ///     brigade::sleep(Duration::from_secs(1)).await;
    ///     assert_eq!(Instant::now(), a + Duration::from_secs(1)); // ...until it jumps
    /// });
    /// ```
    pub fn now() -> Instant {
        context::with(|core| match core {
            Some(core) => core.clock.now(),
            None => Instant(std::time::Instant::now()),
        })
    }

    /// The time elapsed since `self` on the loop's clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::Instant;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     brigade::sleep(Duration::from_millis(250)).await;
    ///     assert_eq!(start.elapsed(), Duration::from_millis(250));
    /// });
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::Instant;
    ///
    /// let a = Instant::now();
    /// let b = a + Duration::from_secs(1);
    /// assert_eq!(b.saturating_duration_since(a), Duration::from_secs(1));
    /// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// `self + duration`, or `None` on overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::Instant;
    ///
    /// let now = Instant::now();
    /// assert!(now.checked_add(Duration::from_secs(1)).is_some());
    /// assert!(now.checked_add(Duration::MAX).is_none());
    /// ```
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// The underlying standard instant.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = brigade::time::Instant::now();
    /// let std_now: std::time::Instant = now.into_std();
    /// assert_eq!(brigade::time::Instant::from_std(std_now), now);
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Wraps a standard instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::time::Instant;
    ///
    /// let std_now = std::time::Instant::now();
    /// assert_eq!(Instant::from_std(std_now).into_std(), std_now);
    /// ```
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
