//! The machinery the three queues share: the waiter lists, the hand-off
//! between putters and getters, the unfinished-task count and close. Only
//! the storage differs between the flavours ([`Items`]): a ring for
//! [`Queue`](super::Queue), a stack for [`LifoQueue`](super::LifoQueue), a
//! binary heap for [`PriorityQueue`](super::PriorityQueue). The futures
//! ([`Put`], [`Get`], [`Join`]) are the same for all three.
//!
//! # Hand-off and cancellation
//! Waiting putters and getters queue FIFO on waiter lists (`waiters.rs`),
//! and items move under the queue's lock, directly between them: a `get`
//! that frees a slot moves the first waiting putter's item into the buffer;
//! a `put` that finds a getter waiting moves the item into that getter's
//! node. An item is therefore always in exactly one place (a put future, the
//! buffer, a getter's node) and cancelling either side cannot lose or
//! duplicate it: a dropped `put` that was not served still owns its item
//! (and drops it with the future: the put did not happen); a dropped `get`
//! that was handed an item passes it to the next getter, or back into the
//! buffer, where it is next out again. (That return may leave the buffer one
//! item over its capacity for a moment; nothing is ever dropped to make
//! room.)
//!
//! ```
//! use brigade::sync::{LifoQueue, PriorityQueue, Queue};
//!
//! brigade::run(async {
//!     let (fifo, lifo, prio) = (Queue::unbounded(), LifoQueue::unbounded(), PriorityQueue::unbounded());
//!     for n in [2, 3, 1] {
//!         fifo.put(n).await.unwrap();
//!         lifo.put(n).await.unwrap();
//!         prio.put(n).await.unwrap();
//!     }
//!     assert_eq!(fifo.get().await, Ok(2)); // oldest
//!     assert_eq!(lifo.get().await, Ok(1)); // newest
//!     assert_eq!(prio.get().await, Ok(1)); // smallest
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::error::{PutError, QueueClosed, TaskDoneError, TryGetError, TryPutError};
use super::items::Items;
use crate::loom::sync::{Mutex, MutexGuard};
use crate::sync::waiters::{WaitList, WakeList};

/// A queue's shared state, whatever its storage; the public queues wrap
/// one and delegate to it.
pub(crate) struct Core<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    items: Items<T>,
    capacity: Option<usize>,
    closed: bool,
    /// Accepted items not yet marked done.
    unfinished: usize,
    /// `Some(item)` once an item was handed to that getter; a served getter
    /// with `None` was released by `close`.
    getters: WaitList<Option<T>>,
    /// `Some(item)` while waiting; `None` once the item was accepted. A
    /// served putter still holding its item was refused by `close`.
    putters: WaitList<Option<T>>,
    joiners: WaitList<()>,
}

impl<T> State<T> {
    fn has_space(&self) -> bool {
        self.capacity.is_none_or(|c| self.items.len() < c)
    }

    /// Accepts `item` without waiting, if a getter waits or there is room.
    fn offer(&mut self, item: T) -> Result<Option<Waker>, T> {
        if let Some(key) = self.getters.pop_front() {
            *self.getters.value_mut(key) = Some(item);
            self.unfinished += 1;
            return Ok(self.getters.take_waker(key));
        }
        if self.has_space() {
            self.items.push(item);
            self.unfinished += 1;
            return Ok(None);
        }
        Err(item)
    }

    /// Takes the next item (by the storage's order), refilling the buffer
    /// from waiting putters.
    fn take(&mut self, wake: &mut WakeList) -> Option<T> {
        let item = self.items.pop().or_else(|| {
            // Rendezvous (or a buffer emptied by `close_immediately`): take
            // straight from the first putter.
            let key = self.putters.pop_front()?;
            let item = self.putters.value_mut(key).take();
            self.unfinished += 1;
            wake.push(self.putters.take_waker(key));
            item
        })?;
        while self.has_space() {
            let Some(key) = self.putters.pop_front() else {
                break;
            };
            if let Some(next) = self.putters.value_mut(key).take() {
                self.items.push(next);
                self.unfinished += 1;
            }
            wake.push(self.putters.take_waker(key));
        }
        Some(item)
    }

    fn release_joiners(&mut self, wake: &mut WakeList) {
        while let Some(key) = self.joiners.pop_front() {
            wake.push(self.joiners.take_waker(key));
        }
    }
}

impl<T> Core<T> {
    /// A queue over `items` holding at most `capacity` of them.
    pub(crate) fn new(items: Items<T>, capacity: Option<usize>) -> Core<T> {
        Core {
            state: Mutex::new(State {
                items,
                capacity,
                closed: false,
                unfinished: 0,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        // No critical section can panic halfway (item destructors run after
        // the lock is released), so a poisoned lock still guards a
        // consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts `item` at the back, waiting for room if the queue is full.
    /// Fails, handing the item back, if the queue is or gets closed.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if the future is dropped, either the item
    /// was put (exactly once) or it was not and is dropped with the future.
    pub(crate) fn put(&self, item: T) -> Put<'_, T> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Puts `item` if it fits right now.
    pub(crate) fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let waker = {
            let mut state = self.state();
            if state.closed {
                return Err(TryPutError::Closed(item));
            }
            state.offer(item).map_err(TryPutError::Full)?
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Takes the item at the front, waiting for one if the queue is empty.
    /// After [`close`](Self::close), returns the remaining items and then
    /// [`QueueClosed`].
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a dropped `get` never takes an item with it.
    pub(crate) fn get(&self) -> Get<'_, T> {
        Get {
            queue: self,
            key: None,
        }
    }

    /// Takes the item at the front if there is one.
    pub(crate) fn try_get(&self) -> Result<T, TryGetError> {
        let mut wake = WakeList::new();
        let result = {
            let mut state = self.state();
            match state.take(&mut wake) {
                Some(item) => Ok(item),
                None if state.closed => Err(TryGetError::Closed),
                None => Err(TryGetError::Empty),
            }
        };
        wake.wake_all();
        result
    }

    /// Marks one item taken by a consumer as processed. Errs if called more
    /// times than items were put.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            if state.unfinished == 0 {
                return Err(TaskDoneError);
            }
            state.unfinished -= 1;
            if state.unfinished == 0 {
                state.release_joiners(&mut wake);
            }
        }
        wake.wake_all();
        Ok(())
    }

    /// Waits until every item put so far was marked done with
    /// [`task_done`](Self::task_done).
    pub(crate) fn join(&self) -> Join<'_, T> {
        Join {
            queue: self,
            key: None,
        }
    }

    /// Shuts the queue down (Python's `Queue.shutdown()`): waiting and
    /// later puts fail and hand their item back; gets drain the items left
    /// and then fail with [`QueueClosed`].
    pub(crate) fn close(&self) {
        let mut wake = WakeList::new();
        Self::close_locked(&mut self.state(), &mut wake);
        wake.wake_all();
    }

    fn close_locked(state: &mut State<T>, wake: &mut WakeList) {
        state.closed = true;
        while let Some(key) = state.getters.pop_front() {
            wake.push(state.getters.take_waker(key));
        }
        while let Some(key) = state.putters.pop_front() {
            wake.push(state.putters.take_waker(key));
        }
    }

    /// Closes the queue and takes every item out of it, marking each done
    /// (Python's `shutdown(immediate=True)`, except that the items are
    /// handed back rather than discarded).
    pub(crate) fn close_immediately(&self) -> Vec<T> {
        let mut wake = WakeList::new();
        let items = {
            let mut state = self.state();
            Self::close_locked(&mut state, &mut wake);
            let items: Vec<T> = std::iter::from_fn(|| state.items.pop()).collect();
            // `task_done` may run ahead of `get`: never count below zero.
            state.unfinished = state.unfinished.saturating_sub(items.len());
            if state.unfinished == 0 {
                state.release_joiners(&mut wake);
            }
            items
        };
        wake.wake_all();
        items
    }

    /// Whether the queue was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Items in the queue.
    pub(crate) fn len(&self) -> usize {
        self.state().items.len()
    }

    /// Whether the queue holds no item.
    pub(crate) fn is_empty(&self) -> bool {
        self.state().items.is_empty()
    }

    /// Whether a `put` would wait now.
    pub(crate) fn is_full(&self) -> bool {
        !self.state().has_space()
    }

    /// The bound, or `None` for an unbounded queue.
    pub(crate) fn capacity(&self) -> Option<usize> {
        self.state().capacity
    }

    /// Items put and not yet marked done.
    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.state().unfinished
    }
}

impl<T> Core<T> {
    /// Writes the queue's state as `name { .. }`.
    pub(crate) fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct(name)
            .field("len", &state.items.len())
            .field("capacity", &state.capacity)
            .field("unfinished", &state.unfinished)
            .field("closed", &state.closed)
            .finish()
    }
}

/// The future returned by `put` ([`Queue::put`](super::Queue::put) and
/// the other queues').
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let queue = brigade::sync::Queue::bounded(1);
///     let put: brigade::sync::Put<'_, i32> = queue.put(1);
///     put.await.unwrap();
///     assert_eq!(queue.len(), 1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T> {
    queue: &'a Core<T>,
    item: Option<T>,
    key: Option<usize>,
}

// The item is moved, never pinned.
impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = this.queue.state();
        if let Some(key) = this.key {
            if state.putters.is_linked(key) {
                state.putters.register(key, cx.waker());
                return Poll::Pending;
            }
            this.key = None;
            return Poll::Ready(match state.putters.remove(key) {
                None => Ok(()),
                Some(item) => Err(PutError(item)),
            });
        }
        let item = this.item.take().expect("Put polled after completion");
        if state.closed {
            return Poll::Ready(Err(PutError(item)));
        }
        match state.offer(item) {
            Ok(waker) => {
                drop(state);
                if let Some(w) = waker {
                    w.wake();
                }
                Poll::Ready(Ok(()))
            }
            Err(item) => {
                this.key = Some(state.putters.push_back(Some(item), cx.waker()));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        // An item not accepted is dropped after the lock is released.
        let unsent = self.queue.state().putters.remove(key);
        drop(unsent);
    }
}

/// The future returned by `get` ([`Queue::get`](super::Queue::get) and
/// the other queues').
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let queue = brigade::sync::LifoQueue::unbounded();
///     queue.put(1).await.unwrap();
///     let get: brigade::sync::Get<'_, i32> = queue.get();
///     assert_eq!(get.await, Ok(1));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T> {
    queue: &'a Core<T>,
    key: Option<usize>,
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, QueueClosed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.queue.state();
        if let Some(key) = self.key {
            if state.getters.is_linked(key) {
                state.getters.register(key, cx.waker());
                return Poll::Pending;
            }
            self.key = None;
            return Poll::Ready(state.getters.remove(key).ok_or(QueueClosed));
        }
        let mut wake = WakeList::new();
        if let Some(item) = state.take(&mut wake) {
            drop(state);
            wake.wake_all();
            return Poll::Ready(Ok(item));
        }
        if state.closed {
            return Poll::Ready(Err(QueueClosed));
        }
        self.key = Some(state.getters.push_back(None, cx.waker()));
        Poll::Pending
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            let mut state = self.queue.state();
            match state.getters.remove(key) {
                // Handed an item we will never return: pass it on.
                Some(item) => match state.getters.pop_front() {
                    Some(next) => {
                        *state.getters.value_mut(next) = Some(item);
                        state.getters.take_waker(next)
                    }
                    None => {
                        state.items.give_back(item);
                        None
                    }
                },
                None => None,
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The future returned by `join` ([`Queue::join`](super::Queue::join)
/// and the other queues').
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let queue = brigade::sync::PriorityQueue::<u8>::unbounded();
///     let join: brigade::sync::Join<'_, u8> = queue.join();
///     join.await; // nothing was put: done at once
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T> {
    queue: &'a Core<T>,
    key: Option<usize>,
}

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.queue.state();
        match self.key {
            None if state.unfinished == 0 => Poll::Ready(()),
            None => {
                self.key = Some(state.joiners.push_back((), cx.waker()));
                Poll::Pending
            }
            Some(key) if state.joiners.is_linked(key) => {
                state.joiners.register(key, cx.waker());
                Poll::Pending
            }
            Some(key) => {
                state.joiners.remove(key);
                self.key = None;
                Poll::Ready(())
            }
        }
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.state().joiners.remove(key);
        }
    }
}
