//! [`Condition`]: waiting for a notification across processes, under a
//! lock, as Python's `multiprocessing.Condition`.
//!
//! A condition is a robust lock (see [`Lock`](super::Lock)) and three
//! counters in one anonymous memory file: `seq`, the futex word that every
//! notification changes; `sleepers`, waiters not yet chosen by a
//! notification; and `signals`, notifications given but not yet taken.
//! [`notify_n`](ConditionGuard::notify_n)`(n)`, under the lock, moves up to
//! `n` sleepers into `signals`, bumps `seq` and wakes the sleepers; each
//! woken waiter takes one signal or sleeps again. So `notify_n(n)` lets at
//! most `n` waiters return, as in Python (a futex-word condition alone, as
//! in POSIX, may let more return). Waiting is `FUTEX_WAIT` on `seq`, read
//! before the lock is released, so a notification between the release and
//! the sleep is never missed.
//!
//! The lock is robust: a process killed while holding it leaves it to the
//! next acquirer with [`LockError::OwnerDied`], including a waiter that
//! re-acquires it on its way out of [`wait`](ConditionGuard::wait).
//!
//! ```
//! let c = brigade::process::Condition::new().unwrap();
//! let mut g = c.acquire().unwrap();
//! assert!(!g.wait_timeout(std::time::Duration::from_millis(1)).unwrap());
//! ```

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::lock_error::{LockError, Wait, acquire};
use super::region::{Region, SharedState};
use crate::sys::futex;
use crate::sys::robust::{Locked, RobustMutex};

#[repr(C)]
pub(crate) struct ConditionState {
    mutex: RobustMutex,
    /// Changed by every notification: the futex word waiters sleep on.
    seq: AtomicU32,
    /// Waiters not yet chosen by a notification (changed under the lock).
    sleepers: AtomicU32,
    /// Notifications given and not yet taken by a waiter.
    signals: AtomicU32,
}

// SAFETY: a pthread mutex (plain bytes changed by the C library's atomic
// operations) and atomics: any bit pattern is a state, nothing points
// anywhere.
unsafe impl SharedState for ConditionState {
    fn held_in_this_process(&self) -> bool {
        self.mutex.held_in_this_process()
    }
}

impl ConditionState {
    /// Takes one notification, if there is one.
    fn take_signal(&self) -> bool {
        let mut n = self.signals.load(Ordering::SeqCst);
        while n > 0 {
            match self
                .signals
                .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }
}

/// A condition variable with its lock, shared between processes (Python's
/// `multiprocessing.Condition`). The lock is robust, as a
/// [`Lock`](super::Lock) is: a holder's death is [`LockError::OwnerDied`]
/// for the next acquirer, a waiter re-acquiring included. `notify_n(n)`
/// lets at most `n` waiters return.
///
/// ```
/// use brigade::process::{Condition, Process, Value};
///
/// fn produce(cond: Condition, ready: Value<u32>) {
///     let g = cond.acquire().unwrap();
///     ready.set(1).unwrap();
///     g.notify_all();
/// }
///
/// let cond = Condition::new().unwrap();
/// let ready = Value::new(0u32).unwrap();
/// let mut g = cond.acquire().unwrap();
/// let mut p = Process::new(produce, (cond.clone(), ready.clone()));
/// p.start().unwrap();
/// g.wait_for(|| ready.get().unwrap() == 1).unwrap();
/// drop(g);
/// p.join().unwrap();
/// ```
///
/// # Differences from Python
/// - The lock is the condition's own, non-recursive (Python's default is
///   an `RLock`, and any lock may be passed in).
/// - `wait`, `notify` and `notify_all` are methods of the guard, so they
///   cannot be called without the lock (Python raises `RuntimeError`).
/// - Which waiters a notification wakes is unspecified, and a waiter that
///   starts waiting just after a notification may take it in place of an
///   earlier one (the count is what is kept). A waiter killed while it
///   waits stays counted; a notification meant for it later wakes another
///   waiter once without cause, so loop on the predicate
///   ([`wait_for`](ConditionGuard::wait_for)).
pub struct Condition {
    region: Region<ConditionState>,
}

impl Condition {
    /// A new condition with its own lock.
    ///
    /// ```
    /// let c = brigade::process::Condition::new().unwrap();
    /// # drop(c);
    /// ```
    ///
    /// # Errors
    /// The error of creating the shared memory it lives in (`ENOMEM`,
    /// `EMFILE`).
    pub fn new() -> io::Result<Condition> {
        // SAFETY: the region is fresh, seen by no one else yet.
        let region = Region::new(c"brigade-condition", |s: &ConditionState| unsafe {
            s.mutex.init(false)
        })?;
        Ok(Condition { region })
    }

    /// Acquires the condition's lock (Python: `with cond:`).
    ///
    /// ```
    /// let c = brigade::process::Condition::new().unwrap();
    /// let g = c.acquire().unwrap();
    /// g.notify(); // no one waits: nothing happens
    /// ```
    ///
    /// # Errors
    /// [`LockError::OwnerDied`], holding the guard, if the previous holder
    /// died holding the lock (what it protects may be half-updated); [`LockError::WouldDeadlock`] if this thread holds it
    /// already; [`LockError::Io`] if the system refuses.
    pub fn acquire(&self) -> Result<ConditionGuard<'_>, LockError<ConditionGuard<'_>>> {
        self.acquire_with(Wait::Forever)
    }

    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Condition::new().unwrap();
    /// assert!(c.acquire_timeout(Duration::from_millis(5)).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] when the time runs out; else as `acquire`.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ConditionGuard<'_>, LockError<ConditionGuard<'_>>> {
        self.acquire_with(Wait::For(timeout))
    }

    /// Acquires the lock if no one holds it.
    ///
    /// ```
    /// let c = brigade::process::Condition::new().unwrap();
    /// assert!(c.try_acquire().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] if another thread or process holds it; else as
    /// `acquire`.
    pub fn try_acquire(&self) -> Result<ConditionGuard<'_>, LockError<ConditionGuard<'_>>> {
        self.acquire_with(Wait::Never)
    }

    fn acquire_with(
        &self,
        wait: Wait,
    ) -> Result<ConditionGuard<'_>, LockError<ConditionGuard<'_>>> {
        let state = self.region.state();
        acquire(&state.mutex, wait, || ConditionGuard {
            state,
            _thread_bound: PhantomData,
        })
    }
}

/// The held lock of a [`Condition`]: wait and notify through it; dropping
/// it releases the lock.
///
/// ```
/// use std::time::Duration;
/// let c = brigade::process::Condition::new().unwrap();
/// let mut g: brigade::process::ConditionGuard<'_> = c.acquire().unwrap();
/// assert_eq!(g.wait_timeout(Duration::from_millis(5)).unwrap(), false);
/// ```
pub struct ConditionGuard<'a> {
    state: &'a ConditionState,
    _thread_bound: PhantomData<*const ()>,
}

impl ConditionGuard<'_> {
    /// Releases the lock, waits for a notification, and re-acquires the
    /// lock. If a process died holding the lock meanwhile, the lock is
    /// still re-acquired, and the error says so.
    ///
    /// ```
    /// use brigade::process::{Condition, Process};
    ///
    /// fn wake(c: Condition) {
    ///     c.acquire().unwrap().notify();
    /// }
    ///
    /// let c = Condition::new().unwrap();
    /// let mut g = c.acquire().unwrap();
    /// let mut p = Process::new(wake, (c.clone(),));
    /// p.start().unwrap();
    /// // The child needs the lock to notify, so it cannot before we wait.
    /// g.wait().unwrap();
    /// drop(g);
    /// p.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// [`LockError::OwnerDied`] if, while this thread waited, a holder of
    /// the lock died holding it (this thread holds it again now);
    /// [`LockError::Io`] if the system refuses.
    pub fn wait(&mut self) -> Result<(), LockError<()>> {
        self.wait_until(None).map(drop).map_err(|e| e.map(drop))
    }

    /// As [`wait`](Self::wait), at most `timeout`; `true` if notified,
    /// `false` if the time ran out (Python's `wait(timeout)`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Condition::new().unwrap();
    /// let mut g = c.acquire().unwrap();
    /// assert!(!g.wait_timeout(Duration::from_millis(5)).unwrap());
    /// ```
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<bool, LockError<bool>> {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// Waits until `predicate` holds, checking it under the lock before
    /// each wait (Python's `wait_for`).
    ///
    /// ```
    /// let c = brigade::process::Condition::new().unwrap();
    /// let mut g = c.acquire().unwrap();
    /// g.wait_for(|| true).unwrap(); // already true: no wait
    /// ```
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    pub fn wait_for(&mut self, mut predicate: impl FnMut() -> bool) -> Result<(), LockError<()>> {
        while !predicate() {
            self.wait()?;
        }
        Ok(())
    }

    /// As [`wait_for`](Self::wait_for), at most `timeout`; returns the
    /// predicate's last value.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = brigade::process::Condition::new().unwrap();
    /// let mut g = c.acquire().unwrap();
    /// assert!(!g.wait_for_timeout(|| false, Duration::from_millis(5)).unwrap());
    /// ```
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    pub fn wait_for_timeout(
        &mut self,
        mut predicate: impl FnMut() -> bool,
        timeout: Duration,
    ) -> Result<bool, LockError<bool>> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if predicate() {
                return Ok(true);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            if let Err(e) = self.wait_until(deadline) {
                return Err(e.map(|_| predicate()));
            }
        }
    }

    fn wait_until(&mut self, deadline: Option<Instant>) -> Result<bool, LockError<bool>> {
        let s = self.state;
        s.sleepers.fetch_add(1, Ordering::SeqCst);
        let mut seq = s.seq.load(Ordering::SeqCst);
        // SAFETY: this guard holds the lock; it is taken again below before
        // the guard is used or dropped.
        unsafe { s.mutex.unlock() };
        let mut notified = false;
        loop {
            if s.take_signal() {
                notified = true;
                break;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                break;
            }
            futex::wait(&s.seq, seq, left);
            seq = s.seq.load(Ordering::SeqCst);
        }
        let relocked = s.mutex.lock(None);
        if !notified {
            // Under the lock again: a notification that chose us after we
            // stopped waiting is taken now; otherwise we leave the count.
            if s.take_signal() {
                notified = true;
            } else {
                s.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
        }
        match relocked {
            Ok(Locked::Acquired) => Ok(notified),
            Ok(Locked::OwnerDied) => Err(LockError::OwnerDied(notified)),
            Ok(Locked::WouldDeadlock | Locked::Busy) => Err(LockError::Io(io::Error::other(
                "the condition's lock could not be re-acquired",
            ))),
            Err(e) => Err(LockError::Io(e)),
        }
    }

    /// Wakes one waiter, if any waits (Python's `notify()`).
    ///
    /// ```
    /// let c = brigade::process::Condition::new().unwrap();
    /// c.acquire().unwrap().notify();
    /// ```
    pub fn notify(&self) {
        self.notify_n(1);
    }

    /// Wakes at most `n` waiters (Python's `notify(n)`).
    ///
    /// ```
    /// let c = brigade::process::Condition::new().unwrap();
    /// c.acquire().unwrap().notify_n(3);
    /// ```
    pub fn notify_n(&self, n: u32) {
        let s = self.state;
        // The lock is held: no waiter registers or leaves meanwhile.
        let sleepers = s.sleepers.load(Ordering::SeqCst);
        let k = n.min(sleepers);
        if k == 0 {
            return;
        }
        s.sleepers.fetch_sub(k, Ordering::SeqCst);
        s.signals.fetch_add(k, Ordering::SeqCst);
        s.seq.fetch_add(1, Ordering::SeqCst);
        // Every sleeper wakes and races for the `k` signals: the kernel
        // cannot tell which sleepers are the chosen ones.
        futex::wake(&s.seq, u32::MAX);
    }

    /// Wakes every waiter (Python's `notify_all()`).
    ///
    /// ```
    /// let c = brigade::process::Condition::new().unwrap();
    /// c.acquire().unwrap().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.notify_n(u32::MAX);
    }
}

impl Drop for ConditionGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the guard exists only while this thread holds the mutex
        // (it is !Send; `wait` re-acquires before returning), and releases
        // once.
        unsafe { self.state.mutex.unlock() };
    }
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard").finish_non_exhaustive()
    }
}

super::lock::shared_handle!(Condition);
