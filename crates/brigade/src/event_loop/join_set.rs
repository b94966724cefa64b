//! [`JoinSet`]: a collection of spawned tasks whose results come back in
//! the order the tasks finish (tokio's `JoinSet`; in asyncio, a set of tasks
//! drained with `asyncio.as_completed` or `asyncio.wait(FIRST_COMPLETED)`).
//!
//! # How completion order costs O(1) per task
//! Members live in a slab (stable indices, O(1) insert and remove). Each
//! member's task gets, in the slot where a `JoinHandle` keeps the waker of
//! whoever awaits it, a *member waker* that knows the member's index. When
//! the task finishes, the loop wakes that waker once, which appends the
//! index to the set's ready list (a FIFO) and wakes the task awaiting
//! [`JoinSet::join_next`]. `join_next` pops an index, removes that member
//! and takes its output. No step scans the members, so spawning and joining
//! n tasks costs O(n) in all, and the only allocation per member beyond the
//! task itself is its small member waker.
//!
//! The member wakers are not thread-safe (they share the ready list through
//! an `Rc`), which is sound because a task's join-waker slot is only ever
//! touched by the task's own loop thread (see the `event_loop::task` module
//! docs): the loop takes and wakes it on completion, and the member's
//! handle, which lives on that thread, clears it when dropped. The ready
//! list and the member wakers are in `join_set_ready.rs`.
//!
//! ```
//! use std::time::Duration;
//! use brigade::JoinSet;
//! use brigade::time::sleep;
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let mut set = JoinSet::new();
//!     for secs in [3u64, 1, 2] {
//!         set.spawn(async move {
//!             sleep(Duration::from_secs(secs)).await;
//!             secs
//!         });
//!     }
//!     let mut order = Vec::new();
//!     while let Some(result) = set.join_next().await {
//!         order.push(result.unwrap());
//!     }
//!     assert_eq!(order, [1, 2, 3]);
//! });
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::task::{Context, Poll};

use super::join::{AbortHandle, JoinError, JoinHandle};
use super::join_set_ready::{Ready, member_waker};
use super::task::TaskId;
use crate::slab::Slab;

/// A set of tasks on the current loop, joined in the order they finish.
///
/// Differences from tokio's `JoinSet`:
/// - [`join_all`](Self::join_all) returns the first [`JoinError`] (after
///   aborting the other members) instead of panicking;
/// - tasks need not be `Send` (a brigade loop is single-threaded), and the
///   set itself is not `Send`;
/// - there is no `spawn_blocking`: spawn a [`to_thread`](super::to_thread)
///   future instead.
///
/// Dropping the set aborts every member still in it (use
/// [`detach_all`](Self::detach_all) first to let them run on); as for
/// [`JoinHandle::abort`], each member's future is dropped the next time the
/// loop turns.
///
/// # Examples
///
/// ```
/// use brigade::JoinSet;
///
/// brigade::run(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move { i * i });
///     }
///     let mut total = 0;
///     while let Some(square) = set.join_next().await {
///         total += square.unwrap();
///     }
///     assert_eq!(total, 285);
///     assert!(set.is_empty());
/// });
/// ```
pub struct JoinSet<T> {
    members: Slab<JoinHandle<T>>,
    ready: Rc<Ready>,
}

impl<T> JoinSet<T> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set: brigade::JoinSet<u8> = brigade::JoinSet::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            members: Slab::new(),
            ready: Rc::new(Ready {
                list: RefCell::new(VecDeque::new()),
                waiter: RefCell::new(None),
            }),
        }
    }

    /// How many members the set holds: running, or finished and not joined
    /// yet.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.len(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set holds no member.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     set.spawn(async {});
    ///     assert!(!set.is_empty());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.members.len() == 0
    }

    /// Spawns `future` as a task on the current loop and adds it to the set.
    /// The returned [`AbortHandle`] cancels that one member; its result (a
    /// [`JoinError::Cancelled`]) still comes out of
    /// [`join_next`](Self::join_next).
    ///
    /// # Panics
    /// Outside of a running event loop, as [`spawn`](super::spawn) does.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     let forever = set.spawn(std::future::pending::<u8>());
    ///     forever.abort();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(super::spawn(future))
    }

    /// Like [`spawn`](Self::spawn), with a name that shows in traces and in
    /// [`JoinHandle::name`].
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     set.spawn_named("fetch", async { "page" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "page");
    /// });
    /// ```
    pub fn spawn_named<F>(&mut self, name: impl Into<String>, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(super::spawn_named(name, future))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let finished = handle.is_finished();
        let index = self.members.insert(handle);
        if finished {
            // Spawned while the loop shuts down: already complete, and its
            // completion woke nobody.
            self.ready.push(index);
        } else if let Some(handle) = self.members.get(index) {
            handle.set_join_waker(member_waker(index, &self.ready));
        }
        abort
    }

    /// Waits for the next member to finish and returns its result, in the
    /// order the members finish; `None` once the set is empty.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if the returned future is dropped before it
    /// is ready, no result is lost; the next call returns it.
    ///
    /// # Errors
    ///
    /// `Some(Err(`[`JoinError`]`))` for a member that panicked or was
    /// aborted; the set goes on with the others.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::sleep;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     set.spawn(async { sleep(Duration::from_secs(2)).await; "slow" });
    ///     set.spawn(async { sleep(Duration::from_secs(1)).await; "fast" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "fast");
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "slow");
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`join_next`](Self::join_next), with the finished task's id.
    ///
    /// # Errors
    ///
    /// `Some(Err(`[`JoinError`]`))` for a member that panicked or was
    /// aborted; the error carries the member's id.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as [`join_next`](Self::join_next): no result
    /// is lost; the next call returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     let id = brigade::spawn(async {}).id();
    ///     set.spawn(async { 5 });
    ///     let (task, five) = set.join_next_with_id().await.unwrap().unwrap();
    ///     assert_eq!(five, 5);
    ///     assert!(task > id);
    /// });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// The polling form of [`join_next`](Self::join_next), for hand-written
    /// futures: `Ready(None)` when the set is empty, `Pending` (with `cx`
    /// registered) while every member runs.
    ///
    /// # Errors
    ///
    /// `Ready(Some(Err(`[`JoinError`]`)))` for a member that panicked or was
    /// aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     set.spawn(async { 'x' });
    ///     let out = poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(out.unwrap().unwrap(), 'x');
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|out| out.map(|result| result.map(|(_, value)| value)))
    }

    /// The polling form of [`join_next_with_id`](Self::join_next_with_id).
    ///
    /// # Errors
    ///
    /// `Ready(Some(Err(`[`JoinError`]`)))` for a member that panicked or was
    /// aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::<()>::new();
    ///     assert!(poll_fn(|cx| set.poll_join_next_with_id(cx)).await.is_none());
    /// });
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(TaskId, T), JoinError>>> {
        if let Some(out) = self.try_join_next_with_id() {
            return Poll::Ready(Some(out));
        }
        if self.is_empty() {
            return Poll::Ready(None);
        }
        let mut waiter = self.ready.waiter.borrow_mut();
        match &*waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *waiter = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The result of a member that has already finished, without waiting;
    /// `None` if every member still runs (or the set is empty).
    ///
    /// # Errors
    ///
    /// `Some(Err(`[`JoinError`]`))` for a finished member that panicked or was
    /// aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     set.spawn(async { 3 });
    ///     assert!(set.try_join_next().is_none(), "not started yet");
    ///     brigade::yield_now().await;
    ///     assert_eq!(set.try_join_next().unwrap().unwrap(), 3);
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, value)| value))
    }

    /// Like [`try_join_next`](Self::try_join_next), with the task's id.
    ///
    /// # Errors
    ///
    /// `Some(Err(`[`JoinError`]`))` for a finished member that panicked or was
    /// aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::<u8>::new();
    ///     assert!(set.try_join_next_with_id().is_none());
    /// });
    /// ```
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        loop {
            let index = self.ready.list.borrow_mut().pop_front()?;
            // Every index in the list names a finished member that is still
            // in the set; the check only guards against a stray wake-up.
            let finished = self.members.get(index).is_some_and(|h| h.is_finished());
            if !finished {
                continue;
            }
            let Some(mut handle) = self.members.remove(index) else {
                continue;
            };
            let id = handle.id();
            if let Some(result) = handle.take_finished() {
                return Some(result.map(|value| (id, value)));
            }
        }
    }

    /// Waits for every member and returns their values in the order they
    /// finished (tokio's `JoinSet::join_all`).
    ///
    /// Unlike tokio, which panics, the first member that fails makes this
    /// return its [`JoinError`] at once, after aborting the others (a panic
    /// can be re-raised with [`Panic::resume`](super::Panic::resume)).
    ///
    /// # Errors
    ///
    /// The [`JoinError`] of the first member to fail (panic or abort); the
    /// other members are aborted then.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the set is moved into the future, so dropping it aborts
    /// every member still running, and the values already collected are lost.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     for i in 0..3 {
    ///         set.spawn(async move { i });
    ///     }
    ///     let mut all = set.join_all().await.unwrap();
    ///     all.sort();
    ///     assert_eq!(all, [0, 1, 2]);
    /// });
    /// ```
    pub async fn join_all(mut self) -> Result<Vec<T>, JoinError> {
        let mut values = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            values.push(result?);
        }
        Ok(values)
    }

    /// Requests cancellation of every member. They stay in the set: their
    /// results (mostly [`JoinError::Cancelled`], or the value of a member
    /// that had already finished) still come out of
    /// [`join_next`](Self::join_next).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.abort_all();
    ///     assert_eq!(set.len(), 3);
    ///     while let Some(result) = set.join_next().await {
    ///         assert!(result.unwrap_err().is_cancelled());
    ///     }
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        for handle in self.members.iter() {
            handle.abort();
        }
    }

    /// Aborts every member and waits until all have stopped, dropping their
    /// results. The set is empty afterwards and can be reused.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the set holding the members not yet reaped;
    /// they were all aborted already, and the set can be shut down again.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut set = brigade::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every member without cancelling it: the tasks run on, and
    /// their results are dropped when they finish (as when a
    /// [`JoinHandle`] is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// brigade::run(async {
    ///     let ran = Rc::new(Cell::new(false));
    ///     let mut set = brigade::JoinSet::new();
    ///     let flag = ran.clone();
    ///     set.spawn(async move { flag.set(true) });
    ///     set.detach_all();
    ///     drop(set);
    ///     brigade::yield_now().await;
    ///     assert!(ran.get(), "the detached task still ran");
    /// });
    /// ```
    pub fn detach_all(&mut self) {
        // Dropping a handle clears its task's member waker, so no stale
        // index can reach the ready list afterwards.
        drop(self.members.drain());
        self.ready.list.borrow_mut().clear();
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
        self.detach_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T: 'static, F: Future<Output = T> + 'static> Extend<F> for JoinSet<T> {
    /// Spawns every future into the set.
    fn extend<I: IntoIterator<Item = F>>(&mut self, futures: I) {
        for future in futures {
            self.spawn(future);
        }
    }
}

impl<T: 'static, F: Future<Output = T> + 'static> FromIterator<F> for JoinSet<T> {
    /// Spawns every future into a new set.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let set: brigade::JoinSet<u32> = (1..=4).map(|n| async move { n }).collect();
    ///     assert_eq!(set.join_all().await.unwrap().iter().sum::<u32>(), 10);
    /// });
    /// ```
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(futures);
        set
    }
}
