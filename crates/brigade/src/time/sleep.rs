//! [`sleep`]: suspend the current task until a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use super::wheel::TimerKey;
use crate::event_loop::alarm::Alarm;
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
// Inlined across crates, so that the caller's future builds the `Sleep` in
// its own state rather than copying it there from the callee's frame.
#[inline]
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
    timer: Option<Armed>,
    /// When the wait began, kept only while the loop is traced.
    traced_since: Option<Duration>,
    /// A zero sleep that has not yielded yet (`asyncio.sleep(0)`).
    yield_first: bool,
}

/// The timer a [`Sleep`] set: in which loop's wheel, under which key, and
/// the deadline's tick on that loop's clock. A sleep made on a virtual
/// clock knows its tick before its first poll and waits with the key
/// [`TimerKey::UNSET`] until then.
#[derive(Debug, Clone, Copy)]
struct Armed {
    loop_id: u64,
    key: TimerKey,
    tick: u64,
}

impl Sleep {
    /// A sleep of `duration` that never yields just because it is zero: the
    /// deadline timer of `timeout`, which must not cost its future a turn.
    #[inline]
    pub(crate) fn after(duration: Duration) -> Sleep {
        let (deadline, timer) = context::with(|core| match core {
            Some(core) => {
                let deadline = after(core.clock.now(), duration);
                // A virtual clock's tick is an integer sum; a real clock's
                // is computed from the deadline at the first poll.
                let timer = core.clock.virtual_tick_after(duration).map(|tick| Armed {
                    loop_id: core.shared.id,
                    key: TimerKey::UNSET,
                    tick,
                });
                (Some(deadline), timer)
            }
            None => (None, None),
        });
        Sleep {
            deadline,
            duration,
            timer,
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
        // Armed on a virtual clock, whose time is a whole number of ticks:
        // the deadline has come exactly when its tick has, a comparison of
        // two integers rather than of two `Instant`s.
        if let Some(armed) = self.timer {
            if armed.loop_id == core.shared.id && core.clock.is_virtual() {
                if core.clock.current_tick() >= armed.tick {
                    return self.finish(core);
                }
                return self.rearm(core, armed, cx);
            }
        }
        let now = core.clock.now();
        let duration = self.duration;
        let deadline = *self.deadline.get_or_insert_with(|| after(now, duration));
        if now >= deadline {
            return self.finish(core);
        }
        match self.timer {
            Some(armed) if armed.loop_id == core.shared.id => self.rearm(core, armed, cx),
            _ => {
                let Some(tick) = core.clock.deadline_tick(deadline) else {
                    // Beyond the horizon: it never comes, and no timer is
                    // set (nor could one fire without waking this for
                    // nothing, for ever).
                    return Poll::Pending;
                };
                let alarm = Alarm::new(core, cx.waker());
                let key = core.timers.borrow_mut().insert(tick, alarm);
                self.timer = Some(Armed {
                    loop_id: core.shared.id,
                    key,
                    tick,
                });
                self.trace_sleeping(core);
                Poll::Pending
            }
        }
    }

    /// The deadline has come: the timer goes (if it has not fired), and
    /// the wait is traced.
    fn finish(&mut self, core: &Core) -> Poll<()> {
        self.cancel(core);
        self.trace_wait(core);
        Poll::Ready(())
    }

    /// Still waiting on `armed`, a timer of this loop: the latest waker is
    /// the one to wake. A timer that fired meanwhile (the task was woken
    /// for something else first) is set again.
    fn rearm(&mut self, core: &Core, armed: Armed, cx: &mut Context<'_>) -> Poll<()> {
        let mut timers = core.timers.borrow_mut();
        let replaced = match timers.alarm_mut(armed.key) {
            Some(alarm) if alarm.will_wake(cx.waker()) => None,
            Some(alarm) => Some(std::mem::replace(alarm, Alarm::new(core, cx.waker()))),
            None => {
                let key = timers.insert(armed.tick, Alarm::new(core, cx.waker()));
                self.timer = Some(Armed { key, ..armed });
                if armed.key == TimerKey::UNSET {
                    self.trace_sleeping(core);
                }
                None
            }
        };
        // The old alarm is dropped only once the wheel is released.
        drop(timers);
        drop(replaced);
        Poll::Pending
    }

    /// Records that the wait began (its timer is set).
    fn trace_sleeping(&mut self, core: &Core) {
        if let Some(deadline) = self.deadline {
            crate::trace::emit::sleeping(deadline, core.clock.now());
        }
        if let Some(trace) = &core.trace {
            self.traced_since.get_or_insert(core.trace_now(trace));
        }
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
        if let Some(armed) = self.timer.take() {
            if armed.loop_id == core.shared.id {
                let alarm = core.timers.borrow_mut().cancel(armed.key);
                drop(alarm);
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        context::with(|core| match core {
            Some(core) => this.poll_at(core, cx),
            None => outside_a_loop(),
        })
    }
}

/// The panic of a sleep polled away from any loop (the message
/// `scheduler::current` gives), kept out of the poll's hot path.
#[cold]
#[inline(never)]
fn outside_a_loop() -> ! {
    drop(crate::event_loop::scheduler::current(
        "brigade::time::sleep",
    ));
    unreachable!("`current` panics outside of a loop")
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if self.timer.is_some_and(|armed| armed.key != TimerKey::UNSET) {
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

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use super::sleep;
    use crate::event_loop::scheduler::current;

    fn timers_set() -> usize {
        current("test").timers.borrow().len()
    }

    /// On a virtual clock a sleep knows its tick from the start but sets a
    /// timer only at its first pending poll, and its drop (or its end)
    /// takes the timer away again, whichever await point it stopped at.
    #[test]
    fn a_virtual_sleep_sets_its_timer_only_while_it_waits() {
        let rt = crate::Runtime::builder()
            .virtual_clock(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut cx = Context::from_waker(Waker::noop());
            // Made and dropped unpolled: no timer, ever.
            drop(sleep(Duration::from_secs(3)));
            assert_eq!(timers_set(), 0);
            // Polled once, then dropped while it waits.
            {
                let mut nap = pin!(sleep(Duration::from_secs(3)));
                assert_eq!(timers_set(), 0);
                assert!(nap.as_mut().poll(&mut cx).is_pending());
                assert!(nap.as_mut().poll(&mut cx).is_pending());
                assert_eq!(timers_set(), 1);
            }
            assert_eq!(timers_set(), 0);
            // Made, then polled only once its deadline has passed: ready
            // at once, and no timer was ever set for it.
            let mut late = pin!(sleep(Duration::from_secs(1)));
            sleep(Duration::from_secs(2)).await;
            assert_eq!(late.as_mut().poll(&mut cx), Poll::Ready(()));
            assert_eq!(timers_set(), 0);
        });
    }
}
