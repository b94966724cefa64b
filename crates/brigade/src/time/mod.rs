//! Time on the event loop: [`sleep`], [`timeout`], [`timeout_scope`],
//! [`interval`] and the loop's [`Instant`]. (The loop's own timed callbacks,
//! `call_later` and `call_at`, are on [`Handle`](crate::Handle).)
//!
//! `asyncio.sleep(1)` suspends a coroutine and lets the others run; so does
//! [`sleep`]. Timers live in a hierarchical timing wheel (see `wheel.rs`),
//! where setting and cancelling one costs O(1), so a million pending timers
//! cost a slab entry each.
//!
//! # Precision on the real clock
//! Deadlines are kept to the microsecond. The wheel counts microseconds, so
//! the next deadline it reports is the exact one (tokio's counts
//! milliseconds, and a 300 µs sleep there lasts at least a millisecond), and
//! the loop sleeps until it on a timerfd rather than with `epoll_wait`'s
//! millisecond timeout. A timerfd has no timer slack, the 50 µs by which
//! Linux may defer `nanosleep` (and so `std::thread::sleep`) to batch
//! wake-ups: a timer wakes its task about as soon as the scheduler lets the
//! loop's thread run. The `lateness` benchmark in `bench/` measures it.
//!
//! # The virtual clock
//! A runtime built with [`Builder::virtual_clock`](crate::event_loop::Builder::virtual_clock)
//! (or a `#[brigade::test(virtual)]` test) does not wait for time to pass:
//! when every task is waiting, the clock jumps to the next deadline. A
//! simulation of twelve hours finishes in milliseconds, and since the loop is
//! single-threaded and its queues are FIFO, the same program produces the
//! same order of events on every run.
//!
//! ```
//! use std::time::Duration;
//! use brigade::time::{Instant, sleep};
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     sleep(Duration::from_secs(12 * 3600)).await; // instant on the virtual clock
//!     assert_eq!(start.elapsed(), Duration::from_secs(12 * 3600));
//! });
//! ```

pub(crate) mod clock;
mod instant;
mod interval;
mod sleep;
mod timeout;
mod timeout_scope;
pub(crate) mod wheel;

pub use clock::HORIZON;
pub use instant::Instant;
pub use interval::{Interval, MissedTicks, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
pub use timeout_scope::{ScopedTimeout, TimeoutScope, timeout_scope, timeout_scope_at};
