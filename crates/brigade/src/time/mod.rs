//! Time on the event loop: [`sleep`], [`timeout`], [`timeout_scope`],
//! [`interval`] and the loop's [`Instant`]. (The loop's own timed callbacks,
//! `call_later` and `call_at`, are on [`Handle`](crate::Handle).)
//!
//! `asyncio.sleep(1)` suspends a coroutine and lets the others run; so does
//! [`sleep`]. On the real clock, timers live in a hierarchical timing wheel
//! (see `wheel.rs`), where setting and cancelling one costs O(1), so a
//! million pending timers cost a slab entry each. On a virtual clock, which
//! jumps from deadline to deadline instead of passing through every slot,
//! they live in a binary heap whose root is the next deadline (`heap.rs`).
//!
//! # Precision on the real clock
//! Deadlines are kept to the microsecond. The wheel counts microseconds, so
//! the next deadline it reports is the exact one (tokio's counts
//! milliseconds, and a 300 µs sleep there lasts at least a millisecond), and
//! the loop sleeps until it on a timerfd rather than with `epoll_wait`'s
//! millisecond timeout. A timerfd has no timer slack, the 50 µs by which
//! Linux may defer `nanosleep` (and so `std::thread::sleep`) to batch
//! wake-ups. Even so, the kernel runs a woken thread some tens of
//! microseconds after its timer expires (about 25 µs on the machine in
//! `BENCHMARKS.md`), so the loop sets the timerfd 50 µs early and spins
//! the rest, watching for I/O and work from other threads, as the `spin_sleep`
//! crate does for threads: a timer then wakes its task within a few
//! microseconds of its deadline. The spin costs at most 50 µs of processor
//! time per wake-up, usually about half; [`Builder::timer_spin`] changes it,
//! and `Duration::ZERO` turns it off. The `lateness` benchmark in `bench/`
//! measures the result.
//!
//! [`Builder::timer_spin`]: crate::event_loop::Builder::timer_spin
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
mod heap;
mod instant;
mod interval;
mod sleep;
mod timeout;
mod timeout_scope;
pub(crate) mod timers;
pub(crate) mod wheel;

pub use clock::HORIZON;

/// How long before a real-clock deadline a loop stops sleeping and spins,
/// unless [`Builder::timer_spin`](crate::event_loop::Builder::timer_spin)
/// says otherwise.
pub(crate) const DEFAULT_TIMER_SPIN: std::time::Duration = std::time::Duration::from_micros(50);
pub use instant::Instant;
pub use interval::{Interval, MissedTicks, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
pub use timeout_scope::{ScopedTimeout, TimeoutScope, timeout_scope, timeout_scope_at};
