//! [`sleep`]: suspend the current task until a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use super::wheel::TimerKey;
use crate::event_loop::context;
use crate::event_loop::scheduler::Core;
use crate::trace::Track;

/// Waits until `duration` has passed on the loop's clock, letting other
/// tasks run meanwhile (`asyncio.sleep`).
///
/// The time is counted from the first poll if the future is created outside
/// of a loop, and from the call otherwise. Timers have a resolution of one
/// microsecond and never fire early; on the real clock the loop sleeps
/// until the exact deadline (see [`crate::time`]), where tokio rounds a
/// sleep up to the next millisecond.
///
/// # `sleep(Duration::ZERO)`
/// A zero sleep yields exactly once, as `await asyncio.sleep(0)` does: the
/// task goes to the back of the run queue, every other ready task runs, and
/// the sleep is ready at its next poll (it is the same as
/// [`yield_now`](crate::yield_now)). A positive sleep whose deadline has
/// already passed when it is polled (and [`sleep_until`] a past instant)
/// is ready at once without yielding, as in tokio.
///
/// # Far deadlines
/// A deadline at or beyond the loop clock's [`HORIZON`](super::HORIZON)
/// (1000 years after the loop's clock started; `Duration::MAX` among them)
/// never comes: the sleep stays pending for ever and sets no timer, like
/// `std::future::pending()`. On a virtual clock, time does not jump towards
/// it: a loop with nothing else to wait for waits (asleep, not spinning)
/// for I/O or a wake-up from another thread. asyncio behaves alike (its
/// selector waits at most a day at a time for a far timer); tokio instead
/// caps a far deadline at about 30 years, which its paused clock then
/// reaches.
///
/// # Panics
/// When polled outside of a brigade event loop.
///
/// # Cancel safety
///
/// Dropping the future removes its timer from the loop's wheel; nothing
/// else is held, so nothing is lost.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// brigade::run(async {
///     brigade::sleep(Duration::from_millis(5)).await;
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let mut sleep = Sleep::after(duration);
    sleep.yield_first = duration.is_zero();
    sleep
}

/// `now + duration`, saturating at a deadline that never comes, so that
/// `sleep(Duration::MAX)` means "forever" instead of overflowing.
fn after(now: Instant, duration: Duration) -> Instant {
    crate::time::clock::saturating_after(now, duration)
}

/// Waits until `deadline` on the loop's clock.
///
/// # Cancel safety
///
/// As [`sleep`]: dropping the future removes its timer, and nothing is lost.
///
/// # Panics
///
/// When polled outside of a brigade event loop, as [`sleep`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, sleep_until};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_secs(3);
///     sleep_until(deadline).await;
///     assert_eq!(Instant::now(), deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Some(deadline),
        duration: Duration::ZERO,
        timer: None,
        traced_since: None,
        yield_first: false,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It is `Send`: it holds only its deadline and a key into the loop's timing
/// wheel, so futures that sleep can be handed to another loop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let nap: brigade::time::Sleep = brigade::sleep(Duration::from_secs(1));
///     assert!(!nap.is_elapsed());
///     nap.await;
/// });
/// ```
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    deadline: Option<Instant>,
    duration: Duration,
    timer: Option<(u64, TimerKey)>,
    /// When the wait began, kept only while the loop is traced.
    traced_since: Option<Duration>,
    /// A zero sleep that has not yielded yet (`asyncio.sleep(0)`).
    yield_first: bool,
}

impl Sleep {
    /// A sleep of `duration` that never yields just because it is zero: the
    /// deadline timer of `timeout`, which must not cost its future a turn.
    pub(crate) fn after(duration: Duration) -> Sleep {
        let deadline = context::with(|core| core.map(|core| after(core.clock.now(), duration)));
        Sleep {
            deadline,
            duration,
            timer: None,
            traced_since: None,
            yield_first: false,
        }
    }

    /// The deadline, once known (it is fixed at the first poll for a sleep
    /// created outside of a loop).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, sleep};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let nap = sleep(Duration::from_secs(2));
    ///     assert_eq!(nap.deadline(), Some(Instant::now() + Duration::from_secs(2)));
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the deadline has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, sleep, sleep_until};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let nap = sleep_until(Instant::now() + Duration::from_secs(1));
    ///     sleep(Duration::from_secs(2)).await;
    ///     assert!(nap.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Moves the deadline, keeping the sleep reusable (as for an interval).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, sleep};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut nap = sleep(Duration::from_secs(60));
    ///     nap.reset(start + Duration::from_secs(5)); // wake earlier
    ///     nap.await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(5));
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
        self.yield_first = false;
        context::with(|core| match core {
            Some(core) => self.cancel(core),
            // Away from the loop the old entry cannot be removed; forget it
            // (it fires later and wakes nobody) so the new deadline counts.
            None => self.timer = None,
        });
    }

    pub(crate) fn poll_at(&mut self, core: &Core, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::take(&mut self.yield_first) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let now = core.clock.now();
        let deadline = *self.deadline.get_or_insert(after(now, self.duration));
        if now >= deadline {
            self.cancel(core);
            self.trace_wait(core);
            return Poll::Ready(());
        }
        let mut timers = core.timers.borrow_mut();
        let updated = match self.timer {
            Some((loop_id, key)) if loop_id == core.shared.id => {
                timers.update_waker(key, cx.waker())
            }
            _ => Err(()),
        };
        let replaced = match updated {
            Ok(old) => old,
            Err(()) => {
                let Some(tick) = core.clock.deadline_tick(deadline) else {
                    // Beyond the horizon: it never comes, and no timer is
                    // set (nor could one fire without waking this for
                    // nothing, for ever).
                    return Poll::Pending;
                };
                let key = timers.insert(tick, cx.waker().clone());
                self.timer = Some((core.shared.id, key));
                crate::trace::emit::sleeping(deadline, now);
                if let Some(trace) = &core.trace {
                    self.traced_since.get_or_insert(core.trace_now(trace));
                }
                None
            }
        };
        // The old waker is dropped only once the wheel is released.
        drop(timers);
        drop(replaced);
        Poll::Pending
    }

    /// Records the finished wait as a span on the task's track.
    fn trace_wait(&mut self, core: &Core) {
        let (Some(trace), Some(since)) = (&core.trace, self.traced_since.take()) else {
            return;
        };
        let track = match core.current_task() {
            Some(task) => Track::Task {
                loop_id: core.shared.id,
                task: task.0,
            },
            None => Track::Main(core.shared.id),
        };
        trace.span(
            track,
            "timer",
            "sleep",
            since,
            core.trace_now(trace) - since,
        );
    }

    fn cancel(&mut self, core: &Core) {
        if let Some((loop_id, key)) = self.timer.take() {
            if loop_id == core.shared.id {
                let waker = core.timers.borrow_mut().cancel(key);
                drop(waker);
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let core = crate::event_loop::scheduler::current("brigade::time::sleep");
        this.poll_at(&core, cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if self.timer.is_some() {
            // Dropped away from its loop (another thread, or after the loop
            // ended), the entry simply fires later and wakes nobody useful.
            context::with(|core| {
                if let Some(core) = core {
                    self.cancel(core);
                }
            });
        }
    }
}
