//! [`Queue`]: a FIFO queue between tasks, with back-pressure, task
//! accounting and shutdown (`asyncio.Queue`).
//!
//! - [`Queue::bounded`] holds at most `n` items: `put` waits for space.
//!   `bounded(0)` is a rendezvous: each `put` waits for a `get` to take the
//!   item. [`Queue::unbounded`] never makes `put` wait.
//! - Every accepted item counts as an unfinished task until a consumer calls
//!   [`task_done`](Queue::task_done); [`join`](Queue::join) waits until that
//!   count is back to zero.
//! - [`close`](Queue::close) is Python 3.13's `Queue.shutdown()`: putters
//!   fail and get their item back, getters drain what is left and then fail.
//!   [`close_immediately`](Queue::close_immediately) also empties the queue,
//!   handing the items back and marking them done.
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
//! that was handed an item passes it to the next getter, or back to the
//! front of the buffer. (That return may leave the buffer one item over its
//! capacity for a moment; nothing is ever dropped to make room.)
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

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitList, WakeList};
use crate::loom::sync::{Mutex, MutexGuard};

/// An async FIFO queue (`asyncio.Queue`), bounded or not, with
/// [`task_done`](Self::task_done) / [`join`](Self::join) accounting and
/// Python 3.13's shutdown as [`close`](Self::close).
///
/// Waiting putters and getters are served FIFO, and items move between
/// them under one lock, so cancelling a `put` or a `get` never loses or
/// duplicates an item.
pub struct Queue<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    items: VecDeque<T>,
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
            self.items.push_back(item);
            self.unfinished += 1;
            return Ok(None);
        }
        Err(item)
    }

    /// Takes the oldest item, refilling the buffer from waiting putters.
    fn take(&mut self, wake: &mut WakeList) -> Option<T> {
        let item = self.items.pop_front().or_else(|| {
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
                self.items.push_back(next);
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

impl<T> Queue<T> {
    /// A queue that holds at most `capacity` items (`0`: rendezvous).
    pub fn bounded(capacity: usize) -> Queue<T> {
        Queue::with(Some(capacity))
    }

    /// A queue without a bound: `put` never waits.
    pub fn unbounded() -> Queue<T> {
        Queue::with(None)
    }

    fn with(capacity: Option<usize>) -> Queue<T> {
        // Reserve up front so that a bounded queue never allocates per item
        // (within reason: a huge bound should not reserve gigabytes).
        let reserve = capacity.unwrap_or(0).min(1024);
        Queue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(reserve),
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
    /// Cancel-safe: if the future is dropped, either the item was put
    /// (exactly once) or it was not and is dropped with the future.
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Puts `item` if it fits right now.
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
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
    /// Cancel-safe: a dropped `get` never takes an item with it.
    pub fn get(&self) -> Get<'_, T> {
        Get {
            queue: self,
            key: None,
        }
    }

    /// Takes the item at the front if there is one.
    pub fn try_get(&self) -> Result<T, TryGetError> {
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
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
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
    pub fn join(&self) -> Join<'_, T> {
        Join {
            queue: self,
            key: None,
        }
    }

    /// Shuts the queue down (Python's `Queue.shutdown()`): waiting and
    /// later puts fail and hand their item back; gets drain the items left
    /// and then fail with [`QueueClosed`].
    pub fn close(&self) {
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
    pub fn close_immediately(&self) -> Vec<T> {
        let mut wake = WakeList::new();
        let items = {
            let mut state = self.state();
            Self::close_locked(&mut state, &mut wake);
            let items: Vec<T> = state.items.drain(..).collect();
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
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Items in the queue.
    pub fn len(&self) -> usize {
        self.state().items.len()
    }

    /// Whether the queue holds no item.
    pub fn is_empty(&self) -> bool {
        self.state().items.is_empty()
    }

    /// Whether a `put` would wait now.
    pub fn is_full(&self) -> bool {
        !self.state().has_space()
    }

    /// The bound, or `None` for an unbounded queue.
    pub fn capacity(&self) -> Option<usize> {
        self.state().capacity
    }

    /// Items put and not yet marked done.
    pub fn unfinished_tasks(&self) -> usize {
        self.state().unfinished
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Queue")
            .field("len", &state.items.len())
            .field("capacity", &state.capacity)
            .field("unfinished", &state.unfinished)
            .field("closed", &state.closed)
            .finish()
    }
}

/// The future returned by [`Queue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T> {
    queue: &'a Queue<T>,
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

/// The future returned by [`Queue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T> {
    queue: &'a Queue<T>,
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
                        state.items.push_front(item);
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

/// The future returned by [`Queue::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T> {
    queue: &'a Queue<T>,
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

/// The queue was closed before the item could be put; here it is back.
#[derive(PartialEq, Eq)]
pub struct PutError<T>(pub T);

/// Why [`Queue::try_put`] did not put the item; the item is handed back.
#[derive(PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue is full.
    Full(T),
    /// The queue was closed.
    Closed(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::Closed(item) => item,
        }
    }
}

/// The queue was closed and is empty: no item will ever come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueClosed;

/// Why [`Queue::try_get`] returned no item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item right now.
    Empty,
    /// The queue was closed and is empty.
    Closed,
}

/// [`Queue::task_done`] was called more times than items were put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PutError(..)")
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed")
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("the queue is full"),
            TryPutError::Closed(_) => f.write_str("the queue is closed"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

impl fmt::Display for QueueClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed and empty")
    }
}

impl std::error::Error for QueueClosed {}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("the queue is empty"),
            TryGetError::Closed => QueueClosed.fmt(f),
        }
    }
}

impl std::error::Error for TryGetError {}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put")
    }
}

impl std::error::Error for TaskDoneError {}
