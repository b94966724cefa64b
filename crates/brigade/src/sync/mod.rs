//! Synchronization for tasks: wait without blocking the event loop.
//!
//! Python's `asyncio` gives coroutines their own `Lock`, `Event`,
//! `Semaphore` and `Queue`, because a thread lock would freeze the whole
//! loop. These are brigade's. They are `Send + Sync`, so tasks on several
//! loops (and plain threads, through the channels' blocking calls) may share
//! them.
//!
//! ```
//! use brigade::sync::oneshot;
//!
//! brigade::run(async {
//!     let (tx, rx) = oneshot::channel();
//!     brigade::spawn(async move { tx.send("done").unwrap() });
//!     assert_eq!(rx.await, Ok("done"));
//! });
//! ```

pub mod oneshot;
