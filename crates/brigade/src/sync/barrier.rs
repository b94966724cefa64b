//! [`Barrier`]: let `n` tasks wait for each other (`asyncio.Barrier`).
//!
//! Each task calls [`wait`](Barrier::wait); the first `n - 1` park on the
//! waiter list (`waiters.rs`), and the `n`-th, the *leader*, releases
//! them all and starts a new generation, so the barrier can be used again
//! by the next round. Exactly one task per generation gets
//! [`is_leader`](BarrierWaitResult::is_leader) `true`.
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
//!             brigade::spawn(async move { barrier.wait().await.is_leader() })
//!         })
//!         .collect();
//!     let mut leaders = 0;
//!     for t in tasks {
//!         leaders += t.await.unwrap() as usize;
//!     }
//!     assert_eq!(leaders, 1);
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
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

struct State {
    /// Arrivals in the current generation.
    arrived: usize,
    generation: u64,
    waiters: WaitList<()>,
}

/// What [`Barrier::wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
    generation: u64,
}

impl BarrierWaitResult {
    /// Whether this task was the one that tripped the barrier (one per
    /// generation).
    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// Which round of the barrier this was, counting from 0.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl Barrier {
    /// A barrier that trips when `n` tasks wait; `0` counts as `1`.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            parties: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                generation: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many tasks each generation waits for.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks wait in the current generation.
    pub fn n_waiting(&self) -> usize {
        self.state().arrived
    }

    /// Waits until `n` tasks (this one included) have called `wait`.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            generation: 0,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("waiting", &state.arrived)
            .field("generation", &state.generation)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
    generation: u64,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let barrier = self.barrier;
        let mut state = barrier.state();
        if let Some(key) = self.key {
            if state.waiters.is_linked(key) {
                state.waiters.register(key, cx.waker());
                return Poll::Pending;
            }
            state.waiters.remove(key);
            self.key = None;
            return Poll::Ready(BarrierWaitResult {
                leader: false,
                generation: self.generation,
            });
        }
        state.arrived += 1;
        let generation = state.generation;
        if state.arrived < barrier.parties {
            self.generation = generation;
            self.key = Some(state.waiters.push_back((), cx.waker()));
            return Poll::Pending;
        }
        state.arrived = 0;
        state.generation += 1;
        let mut wake = WakeList::new();
        while let Some(key) = state.waiters.pop_front() {
            wake.push(state.waiters.take_waker(key));
        }
        drop(state);
        wake.wake_all();
        Poll::Ready(BarrierWaitResult {
            leader: true,
            generation,
        })
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
