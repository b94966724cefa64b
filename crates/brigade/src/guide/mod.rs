//! The guide: brigade explained chapter by chapter, for people who know
//! Python's `asyncio`, `threading` and `multiprocessing`, or tokio.
//!
//! The API documentation says what each item does; this guide says which
//! item to reach for, and why brigade is built the way it is. Each chapter
//! explains an idea first and then shows it working. Every example in it is
//! a doctest (the chapter on tokio-based crates runs its examples in the
//! `brigade-interop` test crate, which has tokio among its dependencies), so
//! the guide cannot drift from the code.
//!
//! | chapter | what it answers |
//! | --- | --- |
//! | [From asyncio, threading and multiprocessing to brigade](from_python) | I know Python's (or tokio's) name for it: what is brigade's, and what is different? |
//! | [Servers on every core](servers) | How do I serve one port from every core, and why one loop per core rather than a work-stealing pool? |
//! | [Processes and pools](processes) | When is work a process's job, and what happens when one crashes? |
//! | [From one machine to many](cluster) | My pool has outgrown one machine: how do its tasks reach workers on others, and what happens when one dies? |
//! | [Testing with the virtual clock](testing) | How do I test code that sleeps for hours, deterministically and at once? |
//! | [Traces and timelines](traces) | What did the runtime actually do, and when? |
//! | [Using tokio-based crates](tokio_crates) | How do I call reqwest (or any tokio-based crate) from a brigade task, and what is the catch? |
//!
//! The chapters can be read in any order. One program to begin with, the
//! shape that every chapter builds on: an `async fn` does nothing until a loop
//! runs it, tasks take turns on the loop while they wait, and the loop's
//! clock can be virtual.
//!
//! ```
//! use std::time::Duration;
//! use brigade::time::{Instant, sleep};
//!
//! async fn course(name: &str, minutes: u64) -> String {
//!     sleep(Duration::from_secs(60 * minutes)).await;
//!     format!("{name} is ready")
//! }
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let courses = brigade::gather([course("soup", 20), course("roast", 90), course("tart", 45)]).await;
//!     assert_eq!(courses, ["soup is ready", "roast is ready", "tart is ready"]);
//!     // Cooked side by side: as long as the longest, not the sum.
//!     assert_eq!(start.elapsed(), Duration::from_secs(90 * 60));
//! });
//! ```

#[doc = include_str!("from_python.md")]
pub mod from_python {}

#[doc = include_str!("servers.md")]
pub mod servers {}

#[doc = include_str!("processes.md")]
pub mod processes {}

// Its example needs the `cluster` feature (and a broker, so it is only
// compiled): without the feature the doctest build gets a stand-in line.
#[cfg_attr(any(not(doctest), feature = "cluster"), doc = include_str!("cluster.md"))]
#[cfg_attr(
    all(doctest, not(feature = "cluster")),
    doc = "From one machine to many (its example is compiled with the `cluster` feature)."
)]
pub mod cluster {}

#[doc = include_str!("testing.md")]
pub mod testing {}

#[doc = include_str!("traces.md")]
pub mod traces {}

// Its examples need tokio, reqwest and async-compat, which brigade does not
// depend on: the `brigade-interop` crate runs them as its own doctests.
#[cfg_attr(not(doctest), doc = include_str!("tokio_crates.md"))]
#[cfg_attr(
    doctest,
    doc = "Using tokio-based crates (examples tested in brigade-interop)."
)]
pub mod tokio_crates {}
