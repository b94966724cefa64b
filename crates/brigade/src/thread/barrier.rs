//! [`Barrier`]: Python's `threading.Barrier`, a meeting point for a fixed
//! number of threads.
//!
//! Each of `parties` threads calls [`wait`](Barrier::wait); the first ones
//! block, and when the last arrives all are released together, each with
//! its arrival index (`0..parties`). The barrier then fills again for the
//! next round. An optional action runs on the last thread to arrive,
//! before any is released.
//!
//! Unlike `std`'s barrier, it can *break*: a wait that times out, an
//! action that panics, [`abort`](Barrier::abort) or
//! [`reset`](Barrier::reset) send every waiting thread a
//! [`BrokenBarrierError`], so no thread waits forever for a party that
//! will not come. A broken barrier fails every `wait` until it is `reset`.
//!
//! ```
//! use std::sync::Arc;
//! use brigade::thread::{self, Barrier};
//!
//! let start_line = Arc::new(Barrier::new(3));
//! let runners: Vec<_> = (0..3)
//!     .map(|_| {
//!         let start_line = start_line.clone();
//!         thread::spawn(move || start_line.wait().unwrap()).unwrap()
//!     })
//!     .collect();
//! let mut indices: Vec<usize> = runners.into_iter().map(|r| r.into_result().unwrap()).collect();
//! indices.sort();
//! assert_eq!(indices, [0, 1, 2]);
//! ```
//!
//! # The algorithm
//! It is CPython's: a count of arrived threads and a phase, under one
//! mutex with a condition variable. The barrier *fills* until the last
//! party arrives, then *drains*: the released threads leave one by one, and
//! the last to leave sets it filling again. A thread that arrives while it
//! drains waits for the next round, so rounds never mix. Breaking sets the
//! phase to *broken*; `reset` with threads inside sets it *resetting*, which
//! fails them, and the last to leave sets it filling again.
//!
//! **Breaking change**: `brigade::thread::Barrier` used to re-export
//! [`std::sync::Barrier`], whose `wait` returns a `BarrierWaitResult`;
//! this one returns `Result<usize, BrokenBarrierError>` (the leader is the
//! thread with index `parties - 1`, the last to arrive).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::event_loop::Panic;
use crate::loom::sync::{Condvar, Mutex, MutexGuard};

type Action = Box<dyn Fn() + Send + Sync>;

/// A meeting point for `parties` threads, Python's `threading.Barrier`.
///
/// Each of `parties` threads calls [`wait`](Self::wait); when the last
/// arrives, all are released with their arrival indices and the barrier
/// fills again for the next round. It can break (a timeout, a panicking
/// action, [`abort`](Self::abort), [`reset`](Self::reset)): every waiter
/// then gets a [`BrokenBarrierError`] rather than waiting forever.
///
/// **Breaking change**: `brigade::thread::Barrier` used to re-export
/// [`std::sync::Barrier`]; this one's `wait` returns
/// `Result<usize, BrokenBarrierError>` (the leader is the last to arrive,
/// index `parties - 1`).
///
/// # Differences from Python
/// - `Barrier::new(0)` acts as `new(1)`, as `std`'s does (Python raises
///   `ValueError`).
/// - The action runs without the barrier's mutex held, so it may call
///   [`n_waiting`](Barrier::n_waiting) or [`abort`](Barrier::abort); an
///   `abort` or `reset` made meanwhile fails the round.
/// - The error says why the barrier broke for the calling thread: its own
///   timeout, its action's panic (handed back), or anything else.
///
/// ```
/// use brigade::thread::Barrier;
///
/// let alone = Barrier::new(1);
/// assert_eq!(alone.wait().unwrap(), 0); // the only party: never blocks
/// assert_eq!(alone.parties(), 1);
/// ```
pub struct Barrier {
    parties: usize,
    action: Option<Action>,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Filling,
    /// The last party runs the action; nobody may enter or leave.
    Acting,
    Draining,
    Resetting,
    Broken,
}

struct State {
    phase: Phase,
    /// Threads inside `wait`: arrived this round, or leaving it.
    count: usize,
}

/// Why a [`Barrier`] wait failed. The barrier is broken in every case
/// (until [`reset`](Barrier::reset)); the variant says what broke it, as
/// far as the calling thread knows.
///
/// ```
/// use brigade::thread::{Barrier, BrokenBarrierError};
///
/// let barrier = Barrier::new(2);
/// barrier.abort();
/// let err = barrier.wait().unwrap_err();
/// assert!(matches!(err, BrokenBarrierError::Broken));
/// assert_eq!(err.to_string(), "the barrier is broken");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BrokenBarrierError {
    /// The barrier was broken, or broke while this thread waited: by
    /// [`abort`](Barrier::abort), [`reset`](Barrier::reset), or another
    /// thread's timeout or action.
    Broken,
    /// This thread's [`wait_timeout`](Barrier::wait_timeout) ran out, and
    /// it broke the barrier, as Python's does.
    Timeout,
    /// This thread ran the barrier's action, which panicked; the panic
    /// is handed back to read or re-raise.
    ActionPanicked(Panic),
}

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokenBarrierError::Broken => f.write_str("the barrier is broken"),
            BrokenBarrierError::Timeout => {
                f.write_str("timed out waiting at the barrier, which is now broken")
            }
            BrokenBarrierError::ActionPanicked(panic) => write!(
                f,
                "the barrier's action panicked ({}); the barrier is now broken",
                panic.message()
            ),
        }
    }
}

impl std::error::Error for BrokenBarrierError {}

impl Barrier {
    /// A barrier for `parties` threads (0 counts as 1).
    ///
    /// ```
    /// let barrier = brigade::thread::Barrier::new(4);
    /// assert_eq!((barrier.parties(), barrier.n_waiting()), (4, 0));
    /// ```
    pub fn new(parties: usize) -> Barrier {
        Barrier::make(parties, None)
    }

    /// A barrier whose `action` runs once per round, on the last thread to
    /// arrive, before any thread is released (Python's
    /// `Barrier(parties, action)`). If it panics, the barrier breaks: that
    /// thread gets [`BrokenBarrierError::ActionPanicked`], the others
    /// [`BrokenBarrierError::Broken`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use brigade::thread::Barrier;
    ///
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let barrier = Barrier::with_action(1, {
    ///     let rounds = rounds.clone();
    ///     move || {
    ///         rounds.fetch_add(1, Ordering::SeqCst);
    ///     }
    /// });
    /// barrier.wait().unwrap();
    /// barrier.wait().unwrap();
    /// assert_eq!(rounds.load(Ordering::SeqCst), 2);
    /// ```
    pub fn with_action(parties: usize, action: impl Fn() + Send + Sync + 'static) -> Barrier {
        Barrier::make(parties, Some(Box::new(action)))
    }

    fn make(parties: usize, action: Option<Action>) -> Barrier {
        Barrier {
            parties: parties.max(1),
            action,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A phase and a count, each assigned whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep<'a>(&'a self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(state).unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until all parties have called `wait`, and returns this
    /// thread's arrival index, from 0 to `parties - 1` (Python's
    /// `wait()`); fails if the barrier is or becomes broken.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::thread::{self, Barrier};
    ///
    /// let barrier = Arc::new(Barrier::new(2));
    /// let other = thread::spawn({
    ///     let barrier = barrier.clone();
    ///     move || barrier.wait().unwrap()
    /// })
    /// .unwrap();
    /// let mine = barrier.wait().unwrap();
    /// assert_eq!(mine + other.into_result().unwrap(), 1); // 0 and 1
    /// ```
    ///
    /// # Errors
    /// [`BrokenBarrierError::Broken`] if the barrier is broken (by
    /// [`abort`](Self::abort), [`reset`](Self::reset) or another waiter's
    /// time-out) before or while this thread waits;
    /// [`BrokenBarrierError::ActionPanicked`] if this thread ran the action
    /// and it panicked.
    pub fn wait(&self) -> Result<usize, BrokenBarrierError> {
        self.wait_until(None)
    }

    /// Like [`wait`](Self::wait), for at most `timeout`. If the time runs
    /// out first, this thread breaks the barrier (every other waiter gets
    /// [`BrokenBarrierError::Broken`]) and gets
    /// [`BrokenBarrierError::Timeout`], as in Python.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::thread::{Barrier, BrokenBarrierError};
    ///
    /// let barrier = Barrier::new(2);
    /// let err = barrier.wait_timeout(Duration::from_millis(1)).unwrap_err();
    /// assert!(matches!(err, BrokenBarrierError::Timeout));
    /// assert!(barrier.broken());
    /// ```
    ///
    /// # Errors
    /// [`BrokenBarrierError::Timeout`] when the time runs out (the barrier is
    /// then broken); else as [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        // A deadline too far off to represent is no deadline.
        self.wait_until(Instant::now().checked_add(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<usize, BrokenBarrierError> {
        let mut state = self.lock();
        // Wait for an earlier round to drain (or a reset to finish).
        loop {
            match state.phase {
                Phase::Filling => break,
                Phase::Broken => return Err(BrokenBarrierError::Broken),
                Phase::Acting | Phase::Draining | Phase::Resetting => state = self.sleep(state),
            }
        }
        let index = state.count;
        state.count += 1;
        let (mut state, outcome) = if index + 1 == self.parties {
            self.release(state)
        } else {
            self.await_release(state, deadline)
        };
        // Leaving: the last one out lets the next round in.
        state.count -= 1;
        if state.count == 0 && matches!(state.phase, Phase::Draining | Phase::Resetting) {
            state.phase = Phase::Filling;
            self.changed.notify_all();
        }
        outcome.map(|()| index)
    }

    /// The last party: runs the action, then releases the round.
    fn release<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
    ) -> (MutexGuard<'a, State>, Result<(), BrokenBarrierError>) {
        if let Some(action) = &self.action {
            state.phase = Phase::Acting;
            drop(state);
            let ran = catch_unwind(AssertUnwindSafe(action));
            state = self.lock();
            if let Err(payload) = ran {
                self.break_now(&mut state);
                return (
                    state,
                    Err(BrokenBarrierError::ActionPanicked(Panic::new(payload))),
                );
            }
            if state.phase != Phase::Acting {
                // Aborted or reset while the action ran.
                return (state, Err(BrokenBarrierError::Broken));
            }
        }
        state.phase = Phase::Draining;
        self.changed.notify_all();
        (state, Ok(()))
    }

    /// Any other party: waits for the round's release.
    fn await_release<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, State>, Result<(), BrokenBarrierError>) {
        loop {
            match state.phase {
                Phase::Draining => return (state, Ok(())),
                Phase::Broken | Phase::Resetting => {
                    return (state, Err(BrokenBarrierError::Broken));
                }
                // Python's waiters cannot time out while the action runs
                // (it holds the lock they must retake); nor do these.
                Phase::Acting => state = self.sleep(state),
                Phase::Filling => {
                    let Some(deadline) = deadline else {
                        state = self.sleep(state);
                        continue;
                    };
                    let now = Instant::now();
                    if now >= deadline {
                        self.break_now(&mut state);
                        return (state, Err(BrokenBarrierError::Timeout));
                    }
                    state = self
                        .changed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    fn break_now(&self, state: &mut State) {
        state.phase = Phase::Broken;
        self.changed.notify_all();
    }

    /// Breaks the barrier: every thread waiting now, and every later
    /// `wait` until a [`reset`](Self::reset), fails with
    /// [`BrokenBarrierError::Broken`] (Python's `abort()`).
    ///
    /// ```
    /// let barrier = brigade::thread::Barrier::new(3);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// assert!(barrier.wait().is_err());
    /// ```
    pub fn abort(&self) {
        self.break_now(&mut self.lock());
    }

    /// Sets the barrier back to empty and unbroken. Threads waiting in it
    /// now fail with [`BrokenBarrierError::Broken`]; once they have left,
    /// new waits start a fresh round (Python's `reset()`).
    ///
    /// ```
    /// let barrier = brigade::thread::Barrier::new(1);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// assert_eq!(barrier.wait().unwrap(), 0);
    /// ```
    pub fn reset(&self) {
        let mut state = self.lock();
        if state.count > 0 {
            // A round that is draining has already released its threads:
            // it finishes as it is.
            if matches!(state.phase, Phase::Filling | Phase::Acting | Phase::Broken) {
                state.phase = Phase::Resetting;
            }
        } else {
            state.phase = Phase::Filling;
        }
        self.changed.notify_all();
    }

    /// Whether the barrier is broken (Python's `broken`).
    ///
    /// ```
    /// let barrier = brigade::thread::Barrier::new(2);
    /// assert!(!barrier.broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.lock().phase == Phase::Broken
    }

    /// How many threads the barrier needs to release a round (Python's
    /// `parties`).
    ///
    /// ```
    /// assert_eq!(brigade::thread::Barrier::new(5).parties(), 5);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many threads wait in the current round (Python's `n_waiting`):
    /// 0 while a released round drains out or a reset finishes.
    ///
    /// ```
    /// let barrier = brigade::thread::Barrier::new(2);
    /// assert_eq!(barrier.n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let state = self.lock();
        match state.phase {
            Phase::Filling | Phase::Acting => state.count,
            _ => 0,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_action_runs_once_before_anyone_leaves() {
        loom::model(|| {
            let acted = Arc::new(AtomicUsize::new(0));
            let barrier = Arc::new(Barrier::with_action(2, {
                let acted = acted.clone();
                move || {
                    acted.fetch_add(1, Ordering::SeqCst);
                }
            }));
            let other = {
                let (barrier, acted) = (barrier.clone(), acted.clone());
                loom::thread::spawn(move || {
                    let index = barrier.wait().unwrap();
                    assert_eq!(acted.load(Ordering::SeqCst), 1);
                    index
                })
            };
            let mine = barrier.wait().unwrap();
            assert_eq!(acted.load(Ordering::SeqCst), 1);
            assert_eq!(mine + other.join().unwrap(), 1);
        });
    }

    #[test]
    fn abort_fails_a_waiter() {
        loom::model(|| {
            let barrier = Arc::new(Barrier::new(2));
            let waiter = {
                let barrier = barrier.clone();
                loom::thread::spawn(move || barrier.wait())
            };
            barrier.abort();
            assert!(waiter.join().unwrap().is_err());
            assert!(barrier.broken());
        });
    }
}
