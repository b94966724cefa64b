//! [`Semaphore`]: a counter of permits that tasks acquire and release
//! (`asyncio.Semaphore`), to bound how many do something at once.
//!
//! Waiters queue in strict FIFO order on a waiter list (`waiters.rs`).
//! Released permits go to the head of the queue first: while the head waits
//! for more permits than are free, they accumulate for it and later, smaller
//! requests wait behind it. A large request is therefore never starved by a
//! stream of small ones (the same policy as tokio's batch semaphore).
//!
//! Permits travel by hand-off: a releaser moves them into the waiter's node
//! before waking it. A waiter that is cancelled after being served returns
//! what it was given from its destructor, so no permit is ever lost.
//! The permits a holder keeps are in `semaphore_permit.rs`, the errors in
//! `semaphore_error.rs`.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use brigade::sync::Semaphore;
//!
//! brigade::run(async {
//!     let sem = Arc::new(Semaphore::new(2));
//!     let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
//!     let tasks: Vec<_> = (0..6)
//!         .map(|_| {
//!             let (sem, now, peak) = (sem.clone(), now.clone(), peak.clone());
//!             brigade::spawn(async move {
//!                 let _permit = sem.acquire().await.unwrap();
//!                 let n = now.fetch_add(1, Ordering::SeqCst) + 1;
//!                 peak.fetch_max(n, Ordering::SeqCst);
//!                 brigade::yield_now().await;
//!                 now.fetch_sub(1, Ordering::SeqCst);
//!             })
//!         })
//!         .collect();
//!     for t in tasks {
//!         t.await.unwrap();
//!     }
//!     assert_eq!(peak.load(Ordering::SeqCst), 2);
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::TryAcquireError;
use super::semaphore_error::AcquireError;
use super::semaphore_permit::{OwnedSemaphorePermit, SemaphorePermit};
use super::waiters::{WaitList, WakeList};
use crate::loom::sync::{Mutex, MutexGuard};

/// An async counting semaphore (`asyncio.Semaphore`).
///
/// Waiters are served in strict FIFO order: while the head of the queue
/// waits for more permits than are free, later requests wait behind it, so
/// a large request is never starved. Permits handed to a waiter that is
/// cancelled before it runs are given back.
///
/// # Examples
///
/// ```
/// use brigade::sync::Semaphore;
///
/// brigade::run(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await.unwrap();
///     let _b = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err()); // both permits are out
///     drop(a); // a permit goes back when its guard drops
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
pub struct Semaphore {
    state: Mutex<State>,
}

struct State {
    /// Free permits (those not handed to anybody).
    permits: usize,
    /// A [`BoundedSemaphore`](super::BoundedSemaphore)'s bound: releases
    /// never raise `permits` above it.
    bound: Option<usize>,
    closed: bool,
    waiters: WaitList<Waiter>,
}

/// What a parked acquirer wants and what it was given.
struct Waiter {
    wanted: usize,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    /// The permits were moved into this waiter.
    Granted,
    /// The semaphore was closed while it waited.
    Closed,
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore::with_bound(permits, None)
    }

    /// A semaphore whose free permits never pass `bound` (see
    /// `bounded_semaphore.rs`).
    pub(super) fn with_bound(permits: usize, bound: Option<usize>) -> Semaphore {
        Semaphore {
            state: Mutex::new(State {
                permits,
                bound,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Critical sections cannot panic halfway: a poisoned lock is fine.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for one permit.
    ///
    /// The future resolves to an [`AcquireError`] if the semaphore is or gets
    /// [closed](Self::close).
    ///
    /// # Cancel safety
    ///
    /// This method uses a queue to hand out permits in the order they were
    /// asked for. Dropping the future gives up its place in the queue; a permit
    /// already handed to it goes back to the semaphore (and on to the next
    /// waiter), so nothing leaks.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let sem = brigade::sync::Semaphore::new(1);
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, all at once. Requests are served in FIFO
    /// order: while this one waits at the head, newer ones wait behind it
    /// even if they would fit. Asking for zero permits succeeds at once.
    ///
    /// The future resolves to an [`AcquireError`] if the semaphore is or gets
    /// [closed](Self::close).
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire): dropping the future gives up its place in
    /// the queue, and permits already handed to it are given back.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let sem = brigade::sync::Semaphore::new(5);
    ///     let permit = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 3);
    ///     assert_eq!(sem.available_permits(), 2);
    /// });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            wanted: n,
            key: None,
        }
    }

    /// Like [`acquire`](Self::acquire), for a semaphore in an `Arc`: the
    /// permit owns a clone of the `Arc`, so it can move into a spawned task.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Closed`] if the semaphore is or gets
    /// [closed](Self::close).
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire): dropping the future gives up its place in
    /// the queue, and a permit already handed to it is given back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::Semaphore;
    ///
    /// brigade::run(async {
    ///     let sem = Arc::new(Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     let task = brigade::spawn(async move {
    ///         let _permit = permit; // released when the task ends
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`acquire_many`](Self::acquire_many), with an owned permit; see
    /// [`acquire_owned`](Self::acquire_owned).
    ///
    /// # Errors
    ///
    /// [`AcquireError::Closed`] if the semaphore is or gets
    /// [closed](Self::close).
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire): dropping the future gives up its place in
    /// the queue, and permits already handed to it are given back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::sync::Semaphore;
    ///
    /// brigade::run(async {
    ///     let sem = Arc::new(Semaphore::new(4));
    ///     let permit = sem.clone().acquire_many_owned(3).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 3);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permit = self.acquire_many(n).await?;
        // The owned permit takes over the permits.
        permit.forget();
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Takes one permit if one is free and nobody waits before us.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if no permit is free or others are
    /// waiting; [`TryAcquireError::Closed`] if the semaphore was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(permit);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits before us.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if fewer than `n` permits are free or
    /// others are waiting; [`TryAcquireError::Closed`] if the semaphore was
    /// closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(3);
    /// assert!(sem.try_acquire_many(4).is_err());
    /// let permit = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let mut state = self.state();
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        if state.waiters.is_empty() && state.permits >= n {
            state.permits -= n;
            return Ok(SemaphorePermit {
                sem: self,
                permits: n,
            });
        }
        Err(TryAcquireError::NoPermits)
    }

    /// Adds `n` permits, waking the waiters they satisfy (in order).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        if n == 0 {
            return;
        }
        let wake = {
            let mut state = self.state();
            state.permits = state.permits.saturating_add(n);
            if let Some(bound) = state.bound {
                // A guard of a bounded semaphore released by hand while
                // it was out has nowhere to go (as in `thread::BoundedSemaphore`).
                state.permits = state.permits.min(bound);
            }
            Self::dispatch(&mut state)
        };
        wake.wake_all();
    }

    /// Permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(2);
    /// let _permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state().permits
    }

    /// Closes the semaphore: waiting and future acquires fail with
    /// [`AcquireError::Closed`]. Permits already held stay valid, and
    /// releasing them still counts.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(1);
    /// let held = sem.try_acquire().unwrap();
    /// sem.close();
    /// assert!(sem.try_acquire().is_err());
    /// drop(held); // still goes back
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn close(&self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            state.closed = true;
            while let Some(key) = state.waiters.pop_front() {
                state.waiters.value_mut(key).outcome = Outcome::Closed;
                wake.push(state.waiters.take_waker(key));
            }
        }
        wake.wake_all();
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = brigade::sync::Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Serves waiters from the head while the free permits cover them.
    fn dispatch(state: &mut State) -> WakeList {
        let mut wake = WakeList::new();
        while let Some(key) = state.waiters.front() {
            let wanted = state.waiters.value(key).wanted;
            if wanted > state.permits {
                break;
            }
            state.permits -= wanted;
            state.waiters.unlink(key);
            state.waiters.value_mut(key).outcome = Outcome::Granted;
            wake.push(state.waiters.take_waker(key));
        }
        wake
    }

    pub(super) fn release(&self, n: usize) {
        self.add_permits(n);
    }

    /// Adds `n` permits unless the free ones would then pass `bound`; the
    /// check and the addition are one step under the lock. Returns whether
    /// the permits were added.
    pub(super) fn add_permits_within(&self, n: usize, bound: usize) -> bool {
        let wake = {
            let mut state = self.state();
            if state.permits.saturating_add(n) > bound {
                return false;
            }
            state.permits += n;
            Self::dispatch(&mut state)
        };
        wake.wake_all();
        true
    }
}

/// The future returned by [`Semaphore::acquire`] and
/// [`acquire_many`](Semaphore::acquire_many).
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let sem = brigade::sync::Semaphore::new(1);
///     let acquire: brigade::sync::Acquire<'_> = sem.acquire();
///     let permit = acquire.await.unwrap();
///     assert_eq!(permit.num_permits(), 1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    wanted: usize,
    key: Option<usize>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (sem, wanted) = (self.sem, self.wanted);
        // Built only on success: a permit dropped by mistake would release.
        let granted = || {
            Poll::Ready(Ok(SemaphorePermit {
                sem,
                permits: wanted,
            }))
        };
        let mut state = sem.state();
        let Some(key) = self.key else {
            if state.closed {
                return Poll::Ready(Err(AcquireError::Closed));
            }
            if wanted == 0 || (state.waiters.is_empty() && state.permits >= wanted) {
                state.permits -= wanted;
                return granted();
            }
            let waiter = Waiter {
                wanted,
                outcome: Outcome::Waiting,
            };
            self.key = Some(state.waiters.push_back(waiter, cx.waker()));
            return Poll::Pending;
        };
        match state.waiters.value(key).outcome {
            Outcome::Waiting => {
                state.waiters.register(key, cx.waker());
                Poll::Pending
            }
            Outcome::Granted => {
                state.waiters.remove(key);
                self.key = None;
                granted()
            }
            Outcome::Closed => {
                state.waiters.remove(key);
                self.key = None;
                Poll::Ready(Err(AcquireError::Closed))
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let wake = {
            let mut state = self.sem.state();
            let was_head = state.waiters.front() == Some(key);
            let waiter = state.waiters.remove(key);
            match waiter.outcome {
                // Served but never used: give the permits back.
                Outcome::Granted => {
                    state.permits = state.permits.saturating_add(waiter.wanted);
                    if let Some(bound) = state.bound {
                        state.permits = state.permits.min(bound);
                    }
                    Semaphore::dispatch(&mut state)
                }
                // A head that gave up may have been holding the others back.
                Outcome::Waiting if was_head => Semaphore::dispatch(&mut state),
                _ => WakeList::new(),
            }
        };
        wake.wake_all();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("waiters", &state.waiters.len())
            .field("closed", &state.closed)
            .finish()
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("wanted", &self.wanted)
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::Semaphore;
    use crate::loom::sync::Arc;
    use crate::loom::thread;
    use crate::sync::park::block_on;

    #[test]
    fn released_permits_reach_a_blocked_acquirer() {
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(1));
            let other = {
                let sem = sem.clone();
                thread::spawn(move || drop(block_on(sem.acquire()).unwrap()))
            };
            drop(block_on(sem.acquire()).unwrap());
            other.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
        });
    }

    #[test]
    fn permits_handed_to_a_dropped_waiter_come_back() {
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(0));
            let waiter = {
                let sem = sem.clone();
                thread::spawn(move || {
                    let mut acquire = pin!(sem.acquire_many(2));
                    let mut cx = Context::from_waker(Waker::noop());
                    if let Poll::Ready(permit) = acquire.as_mut().poll(&mut cx) {
                        drop(permit);
                    }
                })
            };
            sem.add_permits(1);
            sem.add_permits(1);
            waiter.join().unwrap();
            assert_eq!(sem.available_permits(), 2, "permits were lost");
        });
    }
}
