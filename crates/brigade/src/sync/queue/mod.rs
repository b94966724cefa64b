//! Async queues between tasks, with back-pressure, task accounting and
//! shutdown: [`Queue`] (FIFO, `asyncio.Queue`), [`LifoQueue`]
//! (`asyncio.LifoQueue`) and [`PriorityQueue`] (`asyncio.PriorityQueue`).
//!
//! The three share everything but the order items come out in:
//! - `bounded(n)` holds at most `n` items: `put` waits for space.
//!   `bounded(0)` is a rendezvous: each `put` waits for a `get` to take the
//!   item. `unbounded()` never makes `put` wait.
//! - Every accepted item counts as an unfinished task until a consumer calls
//!   `task_done`; `join` waits until that count is back to zero.
//! - `close` is Python 3.13's `Queue.shutdown()`: putters fail and get their
//!   item back, getters drain what is left and then fail.
//!   `close_immediately` also empties the queue, handing the items back and
//!   marking them done.
//!
//! As in crossbeam's channel flavours, one engine (`core.rs`: waiter lists,
//! hand-off, unfinished count, close) runs over a storage that is the only
//! difference (`items.rs`: a ring, a stack, a binary heap). Each public
//! queue wraps the engine (`fifo.rs`, `lifo.rs`, `priority.rs`), and the
//! futures [`Put`], [`Get`] and [`Join`] serve all three.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Queue;
//!
//! brigade::run(async {
//!     let queue = Arc::new(Queue::bounded(2));
//!     let worker = brigade::spawn({
//!         let queue = queue.clone();
//!         async move {
//!             let mut sum = 0;
//!             while let Ok(n) = queue.get().await {
//!                 sum += n;
//!                 queue.task_done().unwrap();
//!             }
//!             sum
//!         }
//!     });
//!     for n in 1..=10 {
//!         queue.put(n).await.unwrap(); // waits while two items are queued
//!     }
//!     queue.join().await; // every item was processed
//!     queue.close();
//!     assert_eq!(worker.await.unwrap(), 55);
//! });
//! ```

mod core;
mod error;
mod fifo;
mod items;
mod lifo;
mod priority;

pub use self::core::{Get, Join, Put};
pub use self::error::{PutError, QueueClosed, TaskDoneError, TryGetError, TryPutError};
pub use self::fifo::Queue;
pub use self::lifo::LifoQueue;
pub use self::priority::PriorityQueue;

/// The methods every queue has, delegated to its [`core::Core`]; `$new`
/// makes its storage. Documented once here, with examples that hold for
/// each flavour (one item in, one out).
macro_rules! queue_api {
    ($queue:ident, $new:path, [$($bounds:tt)*]) => {
        impl<T $($bounds)*> $queue<T> {
            /// A queue that holds at most `capacity` items (`0`: every put
            /// waits for a get to take its item).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::bounded(1);")]
            /// queue.try_put(1).unwrap();
            /// assert!(queue.is_full());
            /// ```
            pub fn bounded(capacity: usize) -> $queue<T> {
                $queue {
                    core: $crate::sync::queue::core::Core::new($new(Some(capacity)), Some(capacity)),
                }
            }

            /// A queue without a bound: `put` never waits.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            /// for n in 0..1000 {
            ///     queue.try_put(n).unwrap();
            /// }
            /// assert_eq!(queue.len(), 1000);
            /// ```
            pub fn unbounded() -> $queue<T> {
                $queue {
                    core: $crate::sync::queue::core::Core::new($new(None), None),
                }
            }

            /// Puts `item` in, waiting for room if the queue is full. Fails,
            /// handing the item back, if the queue is or gets closed.
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe: if the future is dropped, either the
            /// item was put (exactly once) or it was not and is dropped with
            /// the future.
            ///
            /// # Examples
            ///
            /// ```
            /// brigade::run(async {
            #[doc = concat!("    let queue = brigade::sync::", stringify!($queue), "::bounded(1);")]
            ///     queue.put(7).await.unwrap();
            ///     assert_eq!(queue.get().await, Ok(7));
            /// });
            /// ```
            pub fn put(&self, item: T) -> $crate::sync::Put<'_, T> {
                self.core.put(item)
            }

            /// Puts `item` in if it fits right now.
            ///
            /// # Errors
            ///
            /// [`TryPutError::Full`]($crate::sync::TryPutError::Full) if
            /// the queue is full (a rendezvous queue: if no getter waits);
            /// [`TryPutError::Closed`]($crate::sync::TryPutError::Closed)
            /// if it was closed. Both hand the item back.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::bounded(1);")]
            /// queue.try_put(1).unwrap();
            /// assert_eq!(queue.try_put(2).unwrap_err().into_inner(), 2);
            /// ```
            pub fn try_put(&self, item: T) -> Result<(), $crate::sync::TryPutError<T>> {
                self.core.try_put(item)
            }

            /// Takes the next item out, waiting for one if the queue is
            /// empty. After [`close`](Self::close), returns the remaining
            /// items and then [`QueueClosed`]($crate::sync::QueueClosed).
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe: a dropped `get` never takes an item
            /// with it.
            ///
            /// # Examples
            ///
            /// ```
            /// brigade::run(async {
            #[doc = concat!("    let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            ///     queue.put("job").await.unwrap();
            ///     queue.close();
            ///     assert_eq!(queue.get().await, Ok("job"));
            ///     assert!(queue.get().await.is_err());
            /// });
            /// ```
            pub fn get(&self) -> $crate::sync::Get<'_, T> {
                self.core.get()
            }

            /// Takes the next item out if there is one.
            ///
            /// # Errors
            ///
            /// [`TryGetError::Empty`]($crate::sync::TryGetError::Empty) if
            /// no item is there right now;
            /// [`TryGetError::Closed`]($crate::sync::TryGetError::Closed)
            /// if the queue was closed and is empty.
            ///
            /// # Examples
            ///
            /// ```
            /// use brigade::sync::TryGetError;
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            /// assert_eq!(queue.try_get(), Err(TryGetError::Empty));
            /// queue.try_put(1).unwrap();
            /// assert_eq!(queue.try_get(), Ok(1));
            /// ```
            pub fn try_get(&self) -> Result<T, $crate::sync::TryGetError> {
                self.core.try_get()
            }

            /// Marks one item taken by a consumer as processed. Errs if
            /// called more times than items were put.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`]($crate::sync::TaskDoneError) if no item
            /// is unfinished (the count stays at zero).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            /// queue.try_put(1).unwrap();
            /// queue.try_get().unwrap();
            /// assert!(queue.task_done().is_ok());
            /// assert!(queue.task_done().is_err());
            /// ```
            pub fn task_done(&self) -> Result<(), $crate::sync::TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put so far was marked done with
            /// [`task_done`](Self::task_done).
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe: waiting consumes nothing.
            ///
            /// # Examples
            ///
            /// ```
            /// brigade::run(async {
            #[doc = concat!("    let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            ///     queue.put(1).await.unwrap();
            ///     queue.get().await.unwrap();
            ///     queue.task_done().unwrap();
            ///     queue.join().await; // nothing unfinished: at once
            /// });
            /// ```
            pub fn join(&self) -> $crate::sync::Join<'_, T> {
                self.core.join()
            }

            /// Shuts the queue down (Python's `Queue.shutdown()`): waiting
            /// and later puts fail and hand their item back; gets drain the
            /// items left and then fail.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            /// queue.try_put(1).unwrap();
            /// queue.close();
            /// assert!(queue.try_put(2).is_err());
            /// assert_eq!(queue.try_get(), Ok(1));
            /// ```
            pub fn close(&self) {
                self.core.close()
            }

            /// Closes the queue and takes every item out of it, in the order
            /// gets would have, marking each done (Python's
            /// `shutdown(immediate=True)`, except that the items are handed
            /// back rather than discarded).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            /// queue.try_put(1).unwrap();
            /// assert_eq!(queue.close_immediately(), [1]);
            /// assert_eq!(queue.unfinished_tasks(), 0);
            /// ```
            pub fn close_immediately(&self) -> Vec<T> {
                self.core.close_immediately()
            }

            /// Whether the queue was closed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::<u8>::unbounded();")]
            /// queue.close();
            /// assert!(queue.is_closed());
            /// ```
            pub fn is_closed(&self) -> bool {
                self.core.is_closed()
            }

            /// Items in the queue (asyncio's `qsize()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            /// queue.try_put(1).unwrap();
            /// assert_eq!(queue.len(), 1);
            /// ```
            pub fn len(&self) -> usize {
                self.core.len()
            }

            /// Whether the queue holds no item (asyncio's `empty()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::<u8>::unbounded();")]
            /// assert!(queue.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.core.is_empty()
            }

            /// Whether a `put` would wait now (asyncio's `full()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::bounded(1);")]
            /// assert!(!queue.is_full());
            /// queue.try_put(1).unwrap();
            /// assert!(queue.is_full());
            /// ```
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            /// The bound (asyncio's `maxsize`), or `None` for an unbounded
            /// queue.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::<u8>::bounded(3);")]
            /// assert_eq!(queue.capacity(), Some(3));
            /// ```
            pub fn capacity(&self) -> Option<usize> {
                self.core.capacity()
            }

            /// Items put and not yet marked done.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = brigade::sync::", stringify!($queue), "::unbounded();")]
            /// queue.try_put(1).unwrap();
            /// queue.try_get().unwrap();
            /// assert_eq!(queue.unfinished_tasks(), 1); // taken, not done
            /// ```
            pub fn unfinished_tasks(&self) -> usize {
                self.core.unfinished_tasks()
            }
        }

        impl<T> std::fmt::Debug for $queue<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.core.debug(stringify!($queue), f)
            }
        }
    };
}

use queue_api;
