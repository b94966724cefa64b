//! # brigade
//!
//! A concurrency toolkit that gives every kind of work the right cook, as a
//! kitchen brigade does: an **event loop** for I/O-bound work, **threads** for
//! blocking work and **processes** for CPU-bound and crash-prone work, under
//! one roof and one API. It is Python's `asyncio`, `threading` and
//! `multiprocessing`, done in Rust.
//!
//! ```
//! use std::time::Duration;
//!
//! async fn greet() -> &'static str {
//!     brigade::sleep(Duration::from_millis(1)).await;
//!     "world"
//! }
//!
//! // Like `asyncio.run(main())`: an `async fn` does nothing until a loop runs it.
//! let word = brigade::run(async {
//!     let task = brigade::spawn(greet());
//!     task.await.unwrap()
//! });
//! assert_eq!(word, "world");
//! ```
//!
//! The crate is laid out as its architecture:
//! - [`event_loop`]: the executor, tasks, structured concurrency and combinators;
//! - [`time`]: timers on a hierarchical timing wheel, real or virtual clock;
//! - [`sync`]: async mutex, semaphore, event, queue and channels;
//! - [`process`]: Rust functions in child processes, pools, pipes, queues and
//!   shared memory;
//! - [`thread`]: Python's `threading`: threads, a thread pool, blocking locks;
//! - [`trace`]: a record of what ran when, as a Perfetto timeline;
//! - [`io`], [`net`], [`fs`], [`subprocess`], [`signal`]: non-blocking I/O
//!   on the loop's driver (io_uring or epoll);
//! - `sys`: the one place where brigade talks to the operating system;
//! - [`names`]: every asyncio, threading, multiprocessing, concurrent.futures
//!   and tokio name, and brigade's.
//! - [`guide`]: the guide, chapter by chapter, every example a doctest.
//!
//! brigade runs on Linux only (it is built on epoll, io_uring, eventfd,
//! pidfds and robust futexes; elsewhere the build's first error says so),
//! with Rust 1.85 or later. Cargo features: `macros` (on by
//! default) for `#[brigade::main]` and `#[brigade::test]`; `hyper` for the
//! `brigade::hyper` adapters, which run hyper 1.x on brigade;
//! `deadlock-detection` to detect deadlocks of [`thread::Lock`] and
//! [`thread::RLock`] from the start.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
// On docs.rs (which passes `--cfg docsrs`, see Cargo.toml), every item behind
// a feature carries a badge naming it. Nightly's `doc_cfg` does this on its
// own now; the older `doc_auto_cfg` was folded into it.
#![cfg_attr(docsrs, feature(doc_cfg))]

// brigade is built on Linux system interfaces throughout (epoll, io_uring,
// eventfd, pidfd, robust futexes, /proc), so on any other system the
// build's first error says so in one line, before the errors of the `sys`
// layer that follow it (checked with `--target x86_64-apple-darwin`).
#[cfg(not(target_os = "linux"))]
compile_error!(
    "brigade supports Linux only: it is built on epoll, io_uring, eventfd and other Linux \
     system interfaces, and has no port to this target's operating system"
);

// The crate README's examples run as doctests, so the README cannot drift.
// The file is inside the crate, so this holds in the published package too.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod event_loop;
pub mod fs;
pub mod guide;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
mod loom;
pub mod names;
pub mod net;
pub mod process;
mod reaper;
pub mod signal;
mod slab;
pub mod subprocess;
pub mod sync;
pub(crate) mod sys;
pub mod thread;
pub mod time;
pub mod trace;

pub use event_loop::{
    Handle, JoinError, JoinHandle, Runtime, TaskGroup, gather, race, run, spawn, spawn_named,
    task_group, to_thread, try_gather, yield_now,
};
pub use event_loop::{JoinSet, ReturnWhen, shield, wait};
pub use time::{sleep, timeout};

#[cfg(feature = "macros")]
pub use brigade_macros::{main, test};

/// Support for the attribute macros; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::event_loop::entry::{Config, run_main, run_test};
    pub use crate::event_loop::join_macro::MaybeDone;
}
