//! Slow polls: a task that keeps its loop busy too long is reported, as
//! asyncio's debug mode reports a slow callback.
//!
//! A loop runs one task at a time; a task that computes, or calls something
//! blocking, between two `.await`s holds every other task of its loop (and
//! its timers) until it returns. Such a poll is easy to miss and hard to
//! find afterwards. So a loop measures each poll (of a task, and of the
//! future `block_on` drives) on the real clock, and one that lasts longer
//! than [`Builder::slow_callback_duration`] is reported once, naming the
//! task ([`spawn_named`](crate::spawn_named)'s name, else its id) and the
//! time it took: to standard error by default, or to a hook set with
//! [`Builder::on_slow_poll`]. As in asyncio (`loop.slow_callback_duration`,
//! 0.1 s, reported in debug mode) the threshold is 100 ms, and reports are
//! on by default in debug builds only; measuring costs two clock reads per
//! poll.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//!
//! let reports = Arc::new(Mutex::new(Vec::new()));
//! let sink = reports.clone();
//! let rt = brigade::Runtime::builder()
//!     .slow_callback_duration(Some(Duration::from_millis(5)))
//!     .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.task.clone()))
//!     .build()
//!     .unwrap();
//! rt.block_on(async {
//!     let cruncher = brigade::spawn_named("cruncher", async {
//!         std::thread::sleep(Duration::from_millis(20)); // blocks the loop
//!     });
//!     cruncher.await.unwrap();
//! });
//! assert!(reports.lock().unwrap().contains(&"cruncher".to_string()));
//! ```
//!
//! [`Builder::slow_callback_duration`]: super::Builder::slow_callback_duration
//! [`Builder::on_slow_poll`]: super::Builder::on_slow_poll

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One poll that kept its loop busy past the threshold set with
/// [`Builder::slow_callback_duration`](super::Builder::slow_callback_duration),
/// as a hook set with [`Builder::on_slow_poll`](super::Builder::on_slow_poll)
/// receives it; its `Display` is the warning printed without a hook.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::event_loop::SlowPoll;
///
/// fn log(slow: &SlowPoll) {
///     assert!(slow.duration >= slow.threshold);
///     eprintln!("{slow}");
/// }
/// # let _ = log;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SlowPoll {
    /// The task: the name given to [`spawn_named`](crate::spawn_named),
    /// `task N` otherwise, or `the main future` for `block_on`'s own.
    pub task: String,
    /// How long the poll took, on the real clock.
    pub duration: Duration,
    /// The threshold it passed.
    pub threshold: Duration,
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "brigade: {} blocked the event loop for {:.3?} (slow_callback_duration is {:?})",
            self.task, self.duration, self.threshold
        )
    }
}

/// Where a loop's reports of slow polls go.
pub(crate) type SlowPollHook = Arc<dyn Fn(&SlowPoll) + Send + Sync>;

/// A loop's watch over its polls.
pub(crate) struct SlowPolls {
    threshold: Option<Duration>,
    hook: Option<SlowPollHook>,
}

/// The threshold in debug builds when none is set: asyncio's.
pub(crate) const DEFAULT_THRESHOLD: Duration = Duration::from_millis(100);

impl SlowPolls {
    /// `threshold`: `None` for the default (on in debug builds only),
    /// `Some(None)` for off.
    pub(crate) fn new(
        threshold: Option<Option<Duration>>,
        hook: Option<SlowPollHook>,
    ) -> SlowPolls {
        let default = cfg!(debug_assertions).then_some(DEFAULT_THRESHOLD);
        SlowPolls {
            threshold: threshold.unwrap_or(default),
            hook,
        }
    }

    /// Runs one poll, `poll`, and reports it if it was slow; `task` names
    /// what was polled, and is only called then.
    #[inline]
    pub(crate) fn watch<R>(&self, task: impl FnOnce() -> String, poll: impl FnOnce() -> R) -> R {
        let Some(threshold) = self.threshold else {
            return poll();
        };
        let start = Instant::now();
        let result = poll();
        let duration = start.elapsed();
        if duration > threshold {
            let slow = SlowPoll {
                task: task(),
                duration,
                threshold,
            };
            match &self.hook {
                // A hook that panics must not unwind through the loop.
                Some(hook) => {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&slow)));
                }
                None => eprintln!("{slow}"),
            }
        }
        result
    }
}
