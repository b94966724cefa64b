//! [`Condition`]: Python's `threading.Condition`, a queue of threads
//! waiting for a [`Lock`](super::Lock)'s data to change.
//!
//! A thread holding the lock checks the data; if it is not what it needs,
//! it [`wait`](Condition::wait)s, which lets go of the lock while it
//! sleeps and takes it again before returning. Another thread changes the
//! data and calls [`notify`](Condition::notify) to wake a waiter, or
//! [`notify_all`](Condition::notify_all) to wake them all.
//!
//! # The algorithm
//! It is CPython's: each waiter puts a wake-up slot of its own at the back
//! of a queue *before* it lets go of the lock, then sleeps on that slot;
//! `notify(n)` takes the first `n` slots from the front and fills them. So
//! waiters wake in the order they started waiting (FIFO), and a `notify`
//! wakes only threads that were already waiting when it ran: one that
//! comes later finds its own, empty, slot. `std`'s [`Condvar`] promises
//! neither. A waiter whose time runs out takes its slot out of the queue
//! under the queue's mutex, so a `notify` is never spent on it (CPython
//! can spend one that way).
//!
//! ```
//! use std::sync::Arc;
//! use brigade::thread::{self, Condition, Lock};
//!
//! let orders = Arc::new((Lock::new(Vec::<&str>::new()), Condition::new()));
//! let cook = thread::spawn({
//!     let orders = orders.clone();
//!     move || {
//!         let (lock, ready) = &*orders;
//!         let mut queue = ready.wait_for(lock.lock().unwrap(), |q| !q.is_empty());
//!         queue.remove(0)
//!     }
//! })
//! .unwrap();
//! let (lock, ready) = &*orders;
//! lock.lock().unwrap().push("soup");
//! ready.notify(1);
//! assert_eq!(cook.into_result().unwrap(), "soup");
//! ```
//!
//! [`Condvar`]: std::sync::Condvar

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::lock::LockGuard;
use crate::loom::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A queue of threads waiting for a change to a [`Lock`](super::Lock)'s
/// data, Python's `threading.Condition`.
///
/// As in CPython, waiters wake in the order they started waiting (FIFO),
/// and [`notify`](Self::notify) wakes only threads already waiting then;
/// `std`'s [`Condvar`](std::sync::Condvar) promises neither. A waiter
/// whose time runs out leaves the queue, so a `notify` is never spent on
/// it.
///
/// # Differences from Python
/// - `wait` takes the lock's guard and hands it back, so it cannot be
///   called without holding the lock (Python raises `RuntimeError`).
/// - `notify` does not need the lock (Python raises `RuntimeError` if it
///   is not held); holding it while changing the data is still what makes
///   the waiters' checks sound.
/// - It works with [`Lock`](super::Lock), not `RLock` (Python's default
///   lock): a condition's data is changed under the lock, and an `RLock`
///   lends its data by shared reference only.
/// - Taking the lock again after a wait is not checked for deadlocks: the
///   wait has no way to report one and still hand back the guard.
///
/// ```
/// use brigade::thread::{Condition, Lock};
///
/// let lock = Lock::new(0);
/// let changed = Condition::new();
/// *lock.lock().unwrap() += 1;
/// assert_eq!(changed.notify_all(), 0); // nobody was waiting
/// ```
pub struct Condition {
    waiters: Mutex<VecDeque<Arc<Slot>>>,
}

/// One waiter's wake-up: filled once by `notify`.
struct Slot {
    woken: Mutex<bool>,
    filled: Condvar,
}

impl Slot {
    fn woken(&self) -> MutexGuard<'_, bool> {
        // A bool cannot be left half-written by a panic.
        self.woken.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        *self.woken() = true;
        self.filled.notify_one();
    }

    /// Sleeps until woken or past `deadline`; returns whether woken.
    fn sleep(&self, deadline: Option<Instant>) -> bool {
        let mut woken = self.woken();
        while !*woken {
            woken = match deadline {
                None => self.filled.wait(woken).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.filled
                        .wait_timeout(woken, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        true
    }
}

impl Condition {
    /// A condition with no waiters.
    ///
    /// ```
    /// let ready = brigade::thread::Condition::new();
    /// assert_eq!(ready.waiters(), 0);
    /// ```
    pub fn new() -> Condition {
        Condition {
            waiters: Mutex::new(VecDeque::new()),
        }
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Arc<Slot>>> {
        // Each critical section is one push, pop or removal.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn enqueue(&self) -> Arc<Slot> {
        let slot = Arc::new(Slot {
            woken: Mutex::new(false),
            filled: Condvar::new(),
        });
        self.queue().push_back(slot.clone());
        slot
    }

    /// Takes a waiter whose time ran out out of the queue. `false` if a
    /// `notify` took it first: the waiter was woken after all.
    fn withdraw(&self, slot: &Arc<Slot>) -> bool {
        let mut queue = self.queue();
        match queue.iter().position(|s| Arc::ptr_eq(s, slot)) {
            Some(at) => {
                queue.remove(at);
                true
            }
            None => false,
        }
    }

    /// Lets go of the lock, sleeps until a [`notify`](Self::notify) wakes
    /// this thread, and takes the lock again: Python's `wait()`. As with
    /// any condition variable, check the data again after it returns (or
    /// use [`wait_for`](Self::wait_for)): another thread may have changed
    /// it in between.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::thread::{self, Condition, Lock};
    ///
    /// let state = Arc::new((Lock::new(false), Condition::new()));
    /// let waiter = thread::spawn({
    ///     let state = state.clone();
    ///     move || {
    ///         let (lock, cond) = &*state;
    ///         let mut done = lock.lock().unwrap();
    ///         while !*done {
    ///             done = cond.wait(done);
    ///         }
    ///     }
    /// })
    /// .unwrap();
    /// let (lock, cond) = &*state;
    /// *lock.lock().unwrap() = true;
    /// cond.notify_all();
    /// waiter.into_result().unwrap();
    /// ```
    pub fn wait<'a, T: ?Sized>(&self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        // In the queue before the lock opens: a notify made under the lock
        // after this point finds this waiter.
        let slot = self.enqueue();
        let lock = guard.unlock();
        slot.sleep(None);
        lock.relock()
    }

    /// Like [`wait`](Self::wait), for at most `timeout`; also returns
    /// whether a `notify` woke this thread (`false`: the time ran out), as
    /// Python's `wait(timeout)` does. The lock is held again either way.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::thread::{Condition, Lock};
    ///
    /// let lock = Lock::new(0);
    /// let cond = Condition::new();
    /// let (guard, notified) = cond.wait_timeout(lock.lock().unwrap(), Duration::from_millis(1));
    /// assert!(!notified);
    /// assert_eq!(*guard, 0); // the lock is held again
    /// ```
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: LockGuard<'a, T>,
        timeout: Duration,
    ) -> (LockGuard<'a, T>, bool) {
        let deadline = Instant::now().checked_add(timeout);
        let slot = self.enqueue();
        let lock = guard.unlock();
        let notified = slot.sleep(deadline) || !self.withdraw(&slot);
        (lock.relock(), notified)
    }

    /// Waits until `predicate` holds for the lock's data, checking it first
    /// and again after every wake-up: Python's `wait_for(predicate)`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use brigade::thread::{self, Condition, Lock};
    ///
    /// let state = Arc::new((Lock::new(0), Condition::new()));
    /// let waiter = thread::spawn({
    ///     let state = state.clone();
    ///     move || {
    ///         let (lock, cond) = &*state;
    ///         *cond.wait_for(lock.lock().unwrap(), |n| *n >= 3)
    ///     }
    /// })
    /// .unwrap();
    /// let (lock, cond) = &*state;
    /// for _ in 0..3 {
    ///     *lock.lock().unwrap() += 1;
    ///     cond.notify_all();
    /// }
    /// assert_eq!(waiter.into_result().unwrap(), 3);
    /// ```
    pub fn wait_for<'a, T: ?Sized>(
        &self,
        mut guard: LockGuard<'a, T>,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> LockGuard<'a, T> {
        while !predicate(&mut guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Like [`wait_for`](Self::wait_for), for at most `timeout` in all;
    /// also returns the predicate's last answer (`false`: the time ran out
    /// first), as Python's `wait_for(predicate, timeout)` does.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::thread::{Condition, Lock};
    ///
    /// let lock = Lock::new(0);
    /// let cond = Condition::new();
    /// let (guard, ok) = cond.wait_for_timeout(lock.lock().unwrap(), Duration::ZERO, |n| *n > 0);
    /// assert!(!ok);
    /// drop(guard);
    /// *lock.lock().unwrap() = 1;
    /// let (_, ok) = cond.wait_for_timeout(lock.lock().unwrap(), Duration::ZERO, |n| *n > 0);
    /// assert!(ok);
    /// ```
    pub fn wait_for_timeout<'a, T: ?Sized>(
        &self,
        mut guard: LockGuard<'a, T>,
        timeout: Duration,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> (LockGuard<'a, T>, bool) {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if predicate(&mut guard) {
                return (guard, true);
            }
            guard = match deadline {
                None => self.wait(guard),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return (guard, false);
                    }
                    self.wait_timeout(guard, deadline - now).0
                }
            };
        }
    }

    /// Wakes the `n` threads that have waited longest, or all of them if
    /// fewer wait; returns how many it woke (Python's `notify(n)` returns
    /// nothing). Threads that start waiting later are not woken by it.
    ///
    /// ```
    /// use brigade::thread::Condition;
    ///
    /// let cond = Condition::new();
    /// assert_eq!(cond.notify(1), 0); // nobody waits: the call is forgotten
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        let woken: Vec<Arc<Slot>> = {
            let mut queue = self.queue();
            let n = n.min(queue.len());
            queue.drain(..n).collect()
        };
        // Outside the queue's mutex: a woken waiter need not wait for it.
        woken.iter().for_each(|slot| slot.wake());
        woken.len()
    }

    /// Wakes every waiting thread; returns how many it woke (Python's
    /// `notify_all()`).
    ///
    /// ```
    /// let cond = brigade::thread::Condition::new();
    /// assert_eq!(cond.notify_all(), 0);
    /// ```
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// How many threads wait now: not woken by a `notify` and not timed
    /// out. Python keeps this private (`len(cond._waiters)`).
    ///
    /// ```
    /// let cond = brigade::thread::Condition::new();
    /// assert_eq!(cond.waiters(), 0);
    /// ```
    pub fn waiters(&self) -> usize {
        self.queue().len()
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters())
            .finish()
    }
}
