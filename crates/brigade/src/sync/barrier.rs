//! [`Barrier`]: let `n` tasks wait for each other (`asyncio.Barrier`).
//!
//! Each task calls [`wait`](Barrier::wait); the first `n - 1` park on the
//! waiter list (`waiters.rs`), and the `n`-th, the *leader*, releases
//! them all and starts a new generation, so the barrier can be used again
//! by the next round. As the release walks the list in arrival order, it
//! writes each waiter its arrival index (`0` for the first, `n - 1` for the
//! leader), the integer asyncio's `wait()` returns.
//!
//! The barrier can also be *broken*: [`abort`](Barrier::abort) fails every
//! waiting task and every later `wait` with [`BrokenBarrierError`] until
//! [`reset`](Barrier::reset), which fails the waiting tasks too but leaves
//! the barrier usable. Outcomes are handed to the parked waiters under the
//! barrier's lock, like every hand-off in this module.
//!
//! Cancellation: a task that stops waiting before the barrier trips gives
//! its place back (the generation then needs one more arrival); once
//! released, dropping the future changes nothing.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Barrier;
//!
//! brigade::run(async {
//!     let barrier = Arc::new(Barrier::new(3));
//!     let tasks: Vec<_> = (0..3)
//!         .map(|_| {
//!             let barrier = barrier.clone();
//!             brigade::spawn(async move { barrier.wait().await.unwrap().index() })
//!         })
//!         .collect();
//!     let mut indices = Vec::new();
//!     for t in tasks {
//!         indices.push(t.await.unwrap());
//!     }
//!     indices.sort();
//!     assert_eq!(indices, [0, 1, 2]);
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{WaitList, WakeList};
use crate::loom::sync::{Mutex, MutexGuard};

/// A reusable barrier for `n` tasks (`asyncio.Barrier`): the `n`-th task to
/// [`wait`](Self::wait) releases the others and is the generation's leader.
/// A task cancelled before the barrier trips gives its place back.
///
/// Differences from asyncio: [`abort`](Self::abort) and
/// [`reset`](Self::reset) are plain methods (asyncio's are coroutines, to
/// take the barrier's lock); a generation never *drains* (tasks that arrive
/// while the last one's are still waking up start the next generation at
/// once); and `Barrier::new(0)` makes a barrier of one instead of raising.
///
/// # Examples
///
/// ```
/// use brigade::sync::{Barrier, BrokenBarrierError};
///
/// brigade::run(async {
///     let barrier = Barrier::new(1);
///     assert_eq!(barrier.wait().await.unwrap().index(), 0);
///     barrier.abort();
///     assert_eq!(barrier.wait().await.unwrap_err(), BrokenBarrierError);
/// });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

struct State {
    /// Arrivals in the current generation.
    arrived: usize,
    generation: u64,
    /// Set by `abort`, cleared by `reset`.
    broken: bool,
    waiters: WaitList<Outcome>,
}

/// What a parked waiter was handed.
#[derive(Clone, Copy)]
enum Outcome {
    Waiting,
    /// Released, with this arrival index.
    Passed(usize),
    /// Aborted or reset while it waited.
    Broken,
}

/// What [`Barrier::wait`] returns.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let r = brigade::sync::Barrier::new(1).wait().await.unwrap();
///     assert!(r.is_leader());
///     assert_eq!((r.index(), r.generation()), (0, 0));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
    generation: u64,
}

impl BarrierWaitResult {
    /// Whether this task was the one that tripped the barrier (one per
    /// generation; its [`index`](Self::index) is `parties - 1`).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     assert!(brigade::sync::Barrier::new(1).wait().await.unwrap().is_leader());
    /// });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// This task's place in its generation's arrivals, from `0` to
    /// `parties - 1` (what asyncio's `wait()` returns). Each index is given
    /// to one task per generation; a task that gave up its place before the
    /// barrier tripped does not count.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     assert_eq!(brigade::sync::Barrier::new(1).wait().await.unwrap().index(), 0);
    /// });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// Which round of the barrier this was, counting from 0 (an abort or
    /// reset that fails waiting tasks ends their round too).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let barrier = brigade::sync::Barrier::new(1);
    ///     assert_eq!(barrier.wait().await.unwrap().generation(), 0);
    ///     assert_eq!(barrier.wait().await.unwrap().generation(), 1);
    /// });
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// The barrier was aborted, or reset while this task waited
/// (asyncio's `BrokenBarrierError`).
///
/// # Examples
///
/// ```
/// let barrier = brigade::sync::Barrier::new(2);
/// barrier.abort();
/// brigade::run(async move {
///     let err = barrier.wait().await.unwrap_err();
///     assert_eq!(err.to_string(), "the barrier is broken (aborted or reset)");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken (aborted or reset)")
    }
}

impl std::error::Error for BrokenBarrierError {}

impl Barrier {
    /// A barrier that trips when `n` tasks wait; `0` counts as `1`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(brigade::sync::Barrier::new(0).parties(), 1);
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            parties: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                generation: 0,
                broken: false,
                waiters: WaitList::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many tasks each generation waits for.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(brigade::sync::Barrier::new(3).parties(), 3);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks wait in the current generation.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(brigade::sync::Barrier::new(3).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state().arrived
    }

    /// Whether the barrier is broken ([`abort`](Self::abort) was called and
    /// [`reset`](Self::reset) was not since).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = brigade::sync::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state().broken
    }

    /// Waits until `n` tasks (this one included) have called `wait`. Fails
    /// with [`BrokenBarrierError`] if the barrier is broken, or is aborted
    /// or reset while this task waits.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a wait dropped before the barrier trips
    /// gives its place back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::Barrier;
    ///
    /// brigade::run(async {
    ///     let barrier = Arc::new(Barrier::new(2));
    ///     let other = brigade::spawn({
    ///         let barrier = barrier.clone();
    ///         async move { barrier.wait().await.unwrap() }
    ///     });
    ///     let me = barrier.wait().await.unwrap();
    ///     let other = other.await.unwrap();
    ///     assert!(me.is_leader() != other.is_leader());
    ///     assert_eq!(me.index() + other.index(), 1);
    /// });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            generation: 0,
        }
    }

    /// Breaks the barrier: the waiting tasks and every later
    /// [`wait`](Self::wait) fail with [`BrokenBarrierError`], until
    /// [`reset`](Self::reset) (asyncio's `abort()`, a coroutine there).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::{Barrier, BrokenBarrierError};
    ///
    /// brigade::run(async {
    ///     let barrier = Arc::new(Barrier::new(2));
    ///     let waiter = brigade::spawn({
    ///         let barrier = barrier.clone();
    ///         async move { barrier.wait().await }
    ///     });
    ///     brigade::yield_now().await;
    ///     barrier.abort();
    ///     assert_eq!(waiter.await.unwrap(), Err(BrokenBarrierError));
    /// });
    /// ```
    pub fn abort(&self) {
        self.break_waiters(true);
    }

    /// Returns the barrier to its empty state: the waiting tasks fail with
    /// [`BrokenBarrierError`], and a broken barrier is mended, so later
    /// waits start a new generation (asyncio's `reset()`, a coroutine
    /// there).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let barrier = brigade::sync::Barrier::new(1);
    ///     barrier.abort();
    ///     barrier.reset();
    ///     assert!(barrier.wait().await.is_ok());
    /// });
    /// ```
    pub fn reset(&self) {
        self.break_waiters(false);
    }

    /// Fails every waiter; leaves the barrier `broken` or not.
    fn break_waiters(&self, broken: bool) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            state.broken = broken;
            if state.arrived > 0 {
                state.arrived = 0;
                state.generation += 1;
            }
            while let Some(key) = state.waiters.pop_front() {
                *state.waiters.value_mut(key) = Outcome::Broken;
                wake.push(state.waiters.take_waker(key));
            }
        }
        wake.wake_all();
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("waiting", &state.arrived)
            .field("generation", &state.generation)
            .field("broken", &state.broken)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let barrier = brigade::sync::Barrier::new(1);
///     let wait: brigade::sync::BarrierWait<'_> = barrier.wait();
///     assert!(wait.await.unwrap().is_leader());
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
    generation: u64,
}

impl Future for BarrierWait<'_> {
    type Output = Result<BarrierWaitResult, BrokenBarrierError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let barrier = self.barrier;
        let mut state = barrier.state();
        if let Some(key) = self.key {
            let outcome = *state.waiters.value(key);
            if let Outcome::Waiting = outcome {
                state.waiters.register(key, cx.waker());
                return Poll::Pending;
            }
            state.waiters.remove(key);
            self.key = None;
            return Poll::Ready(match outcome {
                Outcome::Passed(index) => Ok(BarrierWaitResult {
                    index,
                    leader: false,
                    generation: self.generation,
                }),
                Outcome::Waiting | Outcome::Broken => Err(BrokenBarrierError),
            });
        }
        if state.broken {
            return Poll::Ready(Err(BrokenBarrierError));
        }
        state.arrived += 1;
        let generation = state.generation;
        if state.arrived < barrier.parties {
            self.generation = generation;
            self.key = Some(state.waiters.push_back(Outcome::Waiting, cx.waker()));
            return Poll::Pending;
        }
        state.arrived = 0;
        state.generation += 1;
        let mut wake = WakeList::new();
        let mut index = 0;
        while let Some(key) = state.waiters.pop_front() {
            *state.waiters.value_mut(key) = Outcome::Passed(index);
            index += 1;
            wake.push(state.waiters.take_waker(key));
        }
        drop(state);
        wake.wake_all();
        Poll::Ready(Ok(BarrierWaitResult {
            index,
            leader: true,
            generation,
        }))
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut state = self.barrier.state();
        if state.waiters.is_linked(key) {
            // Still waiting in the current generation: take the arrival back.
            state.arrived -= 1;
        }
        state.waiters.remove(key);
    }
}
