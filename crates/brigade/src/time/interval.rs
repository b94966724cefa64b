//! [`interval`]: a tick every period.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep_until};

/// What an [`Interval`] does when ticks were missed because the task was
/// busy for longer than one period.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, MissedTicks, interval};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut ticks = interval(Duration::from_secs(1));
///     ticks.set_missed_ticks(MissedTicks::Skip);
///     ticks.tick().await; // at 0 s
///     brigade::sleep(Duration::from_millis(3500)).await; // busy: 1 s, 2 s and 3 s are missed
///     ticks.tick().await; // late, at 3.5 s
///     assert_eq!(ticks.tick().await - start, Duration::from_secs(4)); // back on schedule
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTicks {
    /// Fire the missed ticks back to back until caught up, keeping the
    /// original schedule (`start + k * period`).
    #[default]
    Burst,
    /// Start a new schedule one period after the late tick.
    Delay,
    /// Drop the missed ticks and fire at the next point of the original
    /// schedule.
    Skip,
}

/// A stream of ticks, the first at once, then every `period`.
///
/// # Panics
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, interval};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut every_second = interval(Duration::from_secs(1));
///     for _ in 0..3 {
///         every_second.tick().await;
///     }
///     assert_eq!(start.elapsed(), Duration::from_secs(2));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, interval_at};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now() + Duration::from_secs(10);
///     let mut ticks = interval_at(start, Duration::from_secs(1));
///     assert_eq!(ticks.tick().await, start); // the first tick waits for `start`
///     assert_eq!(ticks.tick().await, start + Duration::from_secs(1));
/// });
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "an interval's period must be greater than zero"
    );
    Interval {
        next: start,
        period,
        missed: MissedTicks::default(),
        sleep: sleep_until(start),
    }
}

/// Ticks at a fixed period; see [`interval`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let mut heartbeat: brigade::time::Interval = brigade::time::interval(Duration::from_secs(5));
///     let mut beats = 0;
///     while beats < 3 {
///         heartbeat.tick().await;
///         beats += 1;
///     }
///     assert_eq!(beats, 3);
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
    missed: MissedTicks,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a tick is consumed only by the poll that
    /// returns it, so if the future is dropped (another branch of a
    /// [`select`](crate::event_loop::select) won, say), no tick is lost.
    ///
    /// # Panics
    ///
    /// Outside of a brigade event loop (the ticks are the loop's timers).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, interval};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticks = interval(Duration::from_millis(100));
    ///     assert_eq!(ticks.tick().await, start); // the first tick is at once
    ///     assert_eq!(ticks.tick().await, start + Duration::from_millis(100));
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut ticks = brigade::time::interval(Duration::from_secs(1));
    ///     let first = poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     let second = poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     assert_eq!(second - first, Duration::from_secs(1));
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let tick = self.next;
        let now = Instant::now();
        // Sums that would overflow an Instant saturate at a deadline that
        // never comes (see `sleep`'s far deadlines), rather than panic.
        let after = super::clock::saturating_after;
        let following = after(tick, self.period);
        self.next = match self.missed {
            MissedTicks::Burst => following,
            MissedTicks::Delay if now > following => after(now, self.period),
            MissedTicks::Delay => following,
            MissedTicks::Skip if now >= following => {
                // The first tick of the schedule after `now`.
                let behind = (now - tick).as_nanos() / self.period.as_nanos();
                let skip = self.period.as_nanos().saturating_mul(behind + 1);
                let skip = u64::try_from(skip).map_or(Duration::MAX, Duration::from_nanos);
                after(tick, skip)
            }
            MissedTicks::Skip => following,
        };
        self.sleep.reset(self.next);
        Poll::Ready(tick)
    }

    /// Sets what happens to missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, MissedTicks, interval};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut ticks = interval(Duration::from_secs(1));
    ///     ticks.set_missed_ticks(MissedTicks::Delay);
    ///     ticks.tick().await;
    ///     brigade::sleep(Duration::from_millis(2500)).await; // two ticks late
    ///     ticks.tick().await; // fires at once, at 2.5 s...
    ///     let late = Instant::now();
    ///     ticks.tick().await; // ...and starts a new schedule from there
    ///     assert_eq!(late.elapsed(), Duration::from_secs(1));
    /// });
    /// ```
    pub fn set_missed_ticks(&mut self, behavior: MissedTicks) {
        self.missed = behavior;
    }

    /// The period.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// brigade::run(async {
    ///     let ticks = brigade::time::interval(Duration::from_millis(20));
    ///     assert_eq!(ticks.period(), Duration::from_millis(20));
    /// });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick comes one period from now, and
    /// the following ones every period after it (tokio's `Interval::reset`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, interval, sleep};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticker = interval(Duration::from_secs(10));
    ///     ticker.tick().await; // at once
    ///     sleep(Duration::from_secs(4)).await;
    ///     ticker.reset();
    ///     assert_eq!(ticker.tick().await - start, Duration::from_secs(14));
    ///     assert_eq!(ticker.tick().await - start, Duration::from_secs(24));
    /// });
    /// ```
    pub fn reset(&mut self) {
        self.reset_after(self.period);
    }

    /// Restarts the schedule with a tick right away (tokio's
    /// `Interval::reset_immediately`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, interval};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticker = interval(Duration::from_secs(10));
    ///     ticker.tick().await;
    ///     ticker.reset_immediately();
    ///     assert_eq!(ticker.tick().await, start);
    ///     assert_eq!(ticker.tick().await - start, Duration::from_secs(10));
    /// });
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule with the next tick `after` from now (tokio's
    /// `Interval::reset_after`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, interval};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticker = interval(Duration::from_secs(10));
    ///     ticker.reset_after(Duration::from_secs(3));
    ///     assert_eq!(ticker.tick().await - start, Duration::from_secs(3));
    ///     assert_eq!(ticker.tick().await - start, Duration::from_secs(13));
    /// });
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(super::clock::saturating_after(Instant::now(), after));
    }

    /// Restarts the schedule with the next tick at `deadline` (tokio's
    /// `Interval::reset_at`); a deadline in the past ticks at once, and the
    /// [`MissedTicks`] behaviour then decides what follows.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, interval};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticker = interval(Duration::from_secs(10));
    ///     ticker.reset_at(start + Duration::from_secs(25));
    ///     assert_eq!(ticker.tick().await - start, Duration::from_secs(25));
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.next = deadline;
        self.sleep.reset(deadline);
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

use std::future::Future;
