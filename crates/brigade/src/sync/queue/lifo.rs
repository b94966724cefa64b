//! [`LifoQueue`]: the last item in is the first out
//! (`asyncio.LifoQueue`), a stack with a queue's waiting, accounting and
//! shutdown.
//!
//! ```
//! use brigade::sync::LifoQueue;
//!
//! let stack = LifoQueue::unbounded();
//! for n in [3, 1, 2] {
//!     stack.try_put(n).unwrap();
//! }
//! let out: Vec<i32> = std::iter::from_fn(|| stack.try_get().ok()).collect();
//! assert_eq!(out, [2, 1, 3]);
//! ```

use super::core::Core;
use super::items::Items;

/// An async LIFO queue (`asyncio.LifoQueue`): [`get`](Self::get) takes the
/// newest item. Otherwise it behaves as [`Queue`](super::Queue): bounded or
/// not, `task_done` / `join`, `close`; waiting putters and getters are
/// themselves served first come, first served.
///
/// Difference from asyncio: as for [`Queue`](super::Queue),
/// `bounded(0)` is a rendezvous rather than unbounded.
///
/// # Examples
///
/// ```
/// use brigade::sync::LifoQueue;
///
/// brigade::run(async {
///     let stack = LifoQueue::bounded(8);
///     stack.put("first").await.unwrap();
///     stack.put("second").await.unwrap();
///     assert_eq!(stack.get().await, Ok("second"));
///     assert_eq!(stack.get().await, Ok("first"));
/// });
/// ```
pub struct LifoQueue<T> {
    core: Core<T>,
}

super::queue_api!(LifoQueue, Items::lifo, []);
