//! [`Queue`]: the first item in is the first out (`asyncio.Queue`).
//!
//! ```
//! use brigade::sync::Queue;
//!
//! let queue = Queue::unbounded();
//! for n in [3, 1, 2] {
//!     queue.try_put(n).unwrap();
//! }
//! let out: Vec<i32> = std::iter::from_fn(|| queue.try_get().ok()).collect();
//! assert_eq!(out, [3, 1, 2]);
//! ```

use super::core::Core;
use super::items::Items;

/// An async FIFO queue (`asyncio.Queue`), bounded or not, with
/// [`task_done`](Self::task_done) / [`join`](Self::join) accounting and
/// Python 3.13's shutdown as [`close`](Self::close).
///
/// Waiting putters and getters are served FIFO, and items move between
/// them under one lock, so cancelling a `put` or a `get` never loses or
/// duplicates an item.
///
/// Difference from asyncio: `Queue(maxsize=0)` is unbounded in Python;
/// here [`Queue::bounded(0)`](Self::bounded) is a rendezvous and
/// [`Queue::unbounded`] the unbounded queue.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use brigade::sync::Queue;
///
/// brigade::run(async {
///     let queue = Arc::new(Queue::bounded(1));
///     let producer = brigade::spawn({
///         let queue = queue.clone();
///         async move {
///             for n in 0..3 {
///                 queue.put(n).await.unwrap();
///             }
///         }
///     });
///     for n in 0..3 {
///         assert_eq!(queue.get().await, Ok(n));
///     }
///     producer.await.unwrap();
/// });
/// ```
pub struct Queue<T> {
    core: Core<T>,
}

super::queue_api!(Queue, Items::fifo, []);
