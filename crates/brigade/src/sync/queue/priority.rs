//! [`PriorityQueue`]: the smallest item is the first out
//! (`asyncio.PriorityQueue`), kept in a binary heap as Python's `heapq`
//! does (`items.rs`).
//!
//! Python code puts `(priority, data)` tuples; in Rust a tuple works the
//! same when both parts are `Ord`, and [`std::cmp::Reverse`] turns the
//! order around (largest first).
//!
//! ```
//! use std::cmp::Reverse;
//! use brigade::sync::PriorityQueue;
//!
//! let jobs = PriorityQueue::unbounded();
//! jobs.try_put((2, "later")).unwrap();
//! jobs.try_put((1, "urgent")).unwrap();
//! assert_eq!(jobs.try_get(), Ok((1, "urgent")));
//!
//! let largest_first = PriorityQueue::unbounded();
//! for n in [1, 3, 2] {
//!     largest_first.try_put(Reverse(n)).unwrap();
//! }
//! assert_eq!(largest_first.try_get(), Ok(Reverse(3)));
//! ```

use super::core::Core;
use super::items::Items;

/// An async priority queue (`asyncio.PriorityQueue`): [`get`](Self::get)
/// takes the smallest item (by `Ord`). Otherwise it behaves as
/// [`Queue`](super::Queue): bounded or not, `task_done` / `join`, `close`;
/// waiting putters and getters are themselves served first come, first
/// served.
///
/// Equal items come out in no promised order, as with `heapq`. Difference
/// from asyncio: as for [`Queue`](super::Queue), `bounded(0)` is a
/// rendezvous rather than unbounded (and a rendezvous hands each item over
/// as it comes, so there is nothing to order).
///
/// # Examples
///
/// ```
/// use brigade::sync::PriorityQueue;
///
/// brigade::run(async {
///     let queue = PriorityQueue::bounded(8);
///     for n in [5, 1, 3] {
///         queue.put(n).await.unwrap();
///     }
///     assert_eq!(queue.get().await, Ok(1));
///     assert_eq!(queue.get().await, Ok(3));
///     assert_eq!(queue.get().await, Ok(5));
/// });
/// ```
pub struct PriorityQueue<T> {
    core: Core<T>,
}

super::queue_api!(PriorityQueue, Items::heap, [: Ord]);
