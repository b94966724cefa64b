//! [`Barrier`]: a meeting point for a fixed number of processes, as
//! Python's `multiprocessing.Barrier`.
//!
//! The state sits in an anonymous memory file under a robust lock (see
//! [`Lock`](super::Lock)): the arrivals of the current generation, the
//! generation number (the futex word waiters sleep on), a broken flag, and
//! one bit per recent generation saying how it ended: released, or broken
//! (by [`abort`](Barrier::abort), [`reset`](Barrier::reset) or a timeout).
//! The last of `parties` arrivals records "released", bumps the generation
//! and wakes everyone; a waiter that sees the generation move reads its
//! own generation's bit, so a release followed at once by an abort still
//! releases the waiters of the first.
//!
//! An action (Python's `action=`) is kept as a function name that every
//! process of the same build can resolve (see `function.rs`): the last
//! arrival, whichever process it is, calls it before the release.
//!
//! ```
//! let b = brigade::process::Barrier::new(1).unwrap();
//! assert_eq!(b.wait().unwrap(), 0);
//! ```

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::function::{Callable, FnRef, Unnameable};
use super::region::{Region, SharedState};
use crate::sys::futex;
use crate::sys::robust::{Locked, RobustMutex};

#[repr(C)]
pub(crate) struct BarrierState {
    mutex: RobustMutex,
    /// The generation: bumped when one ends; the futex word.
    generation: AtomicU32,
    /// Arrivals in this generation.
    count: AtomicU32,
    parties: AtomicU32,
    /// 1 when broken, until `reset`.
    broken: AtomicU32,
    /// Bit `g % 32`: 1 if generation `g` ended released, 0 if broken.
    outcomes: AtomicU32,
    /// 1 when the barrier has an action, named by the next two words.
    has_action: AtomicU32,
    action_offset: AtomicI64,
    action_hash: AtomicU64,
}

// SAFETY: a pthread mutex (plain bytes changed by the C library's atomic
// operations) and atomics: any bit pattern is a state, nothing points
// anywhere.
unsafe impl SharedState for BarrierState {
    fn held_in_this_process(&self) -> bool {
        self.mutex.held_in_this_process()
    }
}

impl BarrierState {
    /// Takes the lock; a dead holder (or a failing lock) breaks the barrier.
    fn lock(&self) -> Result<Held<'_>, BrokenBarrierError> {
        match self.mutex.lock(None) {
            Ok(Locked::Acquired) => Ok(Held(self)),
            Ok(Locked::OwnerDied) => {
                let held = Held(self);
                held.break_generation();
                Err(BrokenBarrierError)
            }
            _ => Err(BrokenBarrierError),
        }
    }
}

/// The barrier's lock, held.
struct Held<'a>(&'a BarrierState);

impl Held<'_> {
    /// Ends the current generation as `released` (or broken) and wakes
    /// its waiters.
    fn end_generation(&self, released: bool) {
        let s = self.0;
        let g = s.generation.load(Ordering::SeqCst);
        let bit = 1u32 << (g % 32);
        if released {
            s.outcomes.fetch_or(bit, Ordering::SeqCst);
        } else {
            s.outcomes.fetch_and(!bit, Ordering::SeqCst);
        }
        s.count.store(0, Ordering::SeqCst);
        s.generation.store(g.wrapping_add(1), Ordering::SeqCst);
        futex::wake(&s.generation, u32::MAX);
    }

    fn break_generation(&self) {
        self.0.broken.store(1, Ordering::SeqCst);
        self.end_generation(false);
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // SAFETY: a Held exists only while this thread holds the mutex
        // (made right after a successful lock, never sent elsewhere).
        unsafe { self.0.mutex.unlock() };
    }
}

/// A barrier shared between processes (Python's
/// `multiprocessing.Barrier`).
///
/// ```
/// use brigade::process::{Barrier, Process};
///
/// fn meet(b: Barrier) -> u32 {
///     b.wait().unwrap()
/// }
///
/// let b = Barrier::new(3).unwrap();
/// let mut p1 = Process::new(meet, (b.clone(),));
/// let mut p2 = Process::new(meet, (b.clone(),));
/// p1.start().unwrap();
/// p2.start().unwrap();
/// let mut indices = vec![b.wait().unwrap(), p1.join().unwrap(), p2.join().unwrap()];
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
///
/// # Differences from Python
/// - The `action` ([`with_action`](Barrier::with_action)) must be a fn item
///   or a closure without captures, as any function a child runs (Python
///   requires it to pickle). It runs in whichever process arrives last,
///   under the barrier's lock, as in Python: it must not call this
///   barrier's `wait`, `abort` or `reset` (Python would deadlock; here
///   they see the lock held by their own thread: `wait` returns
///   [`BrokenBarrierError`] at once, without breaking the barrier, and
///   `abort` and `reset` do nothing).
/// - A process killed while it holds the barrier's internal lock (a few
///   instructions of each call) breaks the barrier: everyone waiting, and
///   every later caller until [`reset`](Barrier::reset), gets
///   [`BrokenBarrierError`], instead of hanging as in Python. A process
///   killed while *waiting* has arrived and still counts; one killed
///   before arriving is waited for, as in Python (bound it with
///   [`wait_timeout`](Barrier::wait_timeout)).
/// - A waiter that sleeps through 32 later generations before it runs
///   again may read the wrong outcome; that needs 32 × `parties` arrivals
///   by other processes while it sleeps, which a barrier used by exactly
///   `parties` processes cannot have.
pub struct Barrier {
    region: Region<BarrierState>,
}

impl Barrier {
    /// A barrier for `parties` processes (or threads); at least one.
    ///
    /// ```
    /// let b = brigade::process::Barrier::new(2).unwrap();
    /// assert_eq!(b.parties(), 2);
    /// assert!(brigade::process::Barrier::new(0).is_err());
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` for zero parties; else the error of creating the
    /// shared memory (`ENOMEM`, `EMFILE`).
    pub fn new(parties: u32) -> io::Result<Barrier> {
        Barrier::make(parties, None)
    }

    /// A barrier for `parties` processes whose `action` runs once per
    /// round, in the process that arrives last, before anyone is released
    /// (Python's `multiprocessing.Barrier(parties, action)`). If the action
    /// panics, the barrier breaks: the other waiters get
    /// [`BrokenBarrierError`] and the panic continues in the caller that
    /// ran it, as Python raises the action's exception there.
    ///
    /// ```
    /// use brigade::process::{Barrier, Process};
    ///
    /// fn arrive(b: Barrier) {
    ///     b.wait().unwrap();
    /// }
    ///
    /// // Runs in whichever process arrives last.
    /// fn announce() {
    ///     eprintln!("everyone is here");
    /// }
    ///
    /// let b = Barrier::with_action(2, announce).unwrap();
    /// let mut child = Process::new(arrive, (b.clone(),));
    /// child.start().unwrap();
    /// b.wait().unwrap();
    /// child.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` for zero parties, or an action that captures state
    /// or lives outside the executable (a child could not find it); else
    /// the error of creating the shared memory.
    pub fn with_action<F>(parties: u32, action: F) -> io::Result<Barrier>
    where
        F: Callable<(), Output = ()>,
    {
        let _ = action;
        let name = FnRef::single::<F, ()>().map_err(|why| {
            let (function, reason) = match why {
                Unnameable::Captures(f) => (f, "captures state"),
                Unnameable::NotInExecutable(f) => (f, "lives in a shared library"),
            };
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a barrier's action must be a fn item or a closure without \
                     captures in the executable, and `{function}` {reason}"
                ),
            )
        })?;
        Barrier::make(parties, Some(name))
    }

    fn make(parties: u32, action: Option<FnRef>) -> io::Result<Barrier> {
        if parties == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a barrier needs at least one party",
            ));
        }
        // SAFETY: the region is fresh, seen by no one else yet.
        let region = Region::new(c"brigade-barrier", |s: &BarrierState| unsafe {
            s.parties.store(parties, Ordering::Relaxed);
            if let Some(action) = action {
                let (offset, hash) = action.to_parts();
                s.action_offset.store(offset, Ordering::Relaxed);
                s.action_hash.store(hash, Ordering::Relaxed);
                s.has_action.store(1, Ordering::Relaxed);
            }
            s.mutex.init(false)
        })?;
        Ok(Barrier { region })
    }

    /// Waits until `parties` callers have arrived; returns this caller's
    /// arrival index, `0..parties` (Python's `wait()`).
    ///
    /// ```
    /// let b = brigade::process::Barrier::new(1).unwrap();
    /// assert_eq!(b.wait().unwrap(), 0);
    /// ```
    ///
    /// # Errors
    /// [`BrokenBarrierError`] if the barrier is broken (by
    /// [`abort`](Self::abort), [`reset`](Self::reset), another waiter's
    /// time-out, or a waiter's death) before or while this thread waits.
    pub fn wait(&self) -> Result<u32, BrokenBarrierError> {
        self.wait_until(None)
    }

    /// As [`wait`](Self::wait), at most `timeout`; when it passes, the
    /// barrier breaks (for everyone, as in Python).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = brigade::process::Barrier::new(2).unwrap();
    /// assert!(b.wait_timeout(Duration::from_millis(5)).is_err());
    /// assert!(b.broken());
    /// ```
    ///
    /// # Errors
    /// [`BrokenBarrierError`] when the time runs out (the barrier is then
    /// broken, as in Python), or as for [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u32, BrokenBarrierError> {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<u32, BrokenBarrierError> {
        let s = self.region.state();
        let held = s.lock()?;
        if s.broken.load(Ordering::SeqCst) != 0 {
            return Err(BrokenBarrierError);
        }
        let index = s.count.fetch_add(1, Ordering::SeqCst);
        if index + 1 >= s.parties.load(Ordering::SeqCst) {
            if let Err(panic) = run_action(s) {
                held.break_generation();
                drop(held);
                resume_unwind(panic);
            }
            held.end_generation(true);
            return Ok(index);
        }
        let mine = s.generation.load(Ordering::SeqCst);
        drop(held);
        loop {
            if s.generation.load(Ordering::SeqCst) != mine {
                return released(s, mine, index);
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                break;
            }
            futex::wait(&s.generation, mine, left);
        }
        // Timed out: break the barrier, unless it moved on meanwhile.
        let held = s.lock()?;
        if s.generation.load(Ordering::SeqCst) != mine {
            return released(s, mine, index);
        }
        held.break_generation();
        Err(BrokenBarrierError)
    }

    /// Breaks the barrier: everyone waiting, and everyone who comes until
    /// [`reset`](Self::reset), gets [`BrokenBarrierError`].
    ///
    /// ```
    /// let b = brigade::process::Barrier::new(2).unwrap();
    /// b.abort();
    /// assert!(b.wait().is_err());
    /// ```
    pub fn abort(&self) {
        let s = self.region.state();
        if let Ok(held) = s.lock() {
            held.break_generation();
        }
    }

    /// Returns the barrier to its empty, unbroken state; those waiting get
    /// [`BrokenBarrierError`].
    ///
    /// ```
    /// let b = brigade::process::Barrier::new(1).unwrap();
    /// b.abort();
    /// b.reset();
    /// assert_eq!(b.wait().unwrap(), 0);
    /// ```
    pub fn reset(&self) {
        let s = self.region.state();
        // A dead holder has broken the barrier already; take the lock anyway.
        let held = match s.lock() {
            Ok(held) => held,
            Err(_) => match s.lock() {
                Ok(held) => held,
                Err(_) => return,
            },
        };
        if s.count.load(Ordering::SeqCst) > 0 {
            held.end_generation(false);
        }
        s.broken.store(0, Ordering::SeqCst);
    }

    /// The number of parties the barrier waits for.
    ///
    /// ```
    /// assert_eq!(brigade::process::Barrier::new(3).unwrap().parties(), 3);
    /// ```
    pub fn parties(&self) -> u32 {
        self.region.state().parties.load(Ordering::Relaxed)
    }

    /// How many wait now (Python's `n_waiting`).
    ///
    /// ```
    /// assert_eq!(brigade::process::Barrier::new(3).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> u32 {
        self.region.state().count.load(Ordering::Relaxed)
    }

    /// Whether the barrier is broken.
    ///
    /// ```
    /// assert!(!brigade::process::Barrier::new(3).unwrap().broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.region.state().broken.load(Ordering::Relaxed) != 0
    }
}

/// Runs the barrier's action, if it has one, catching its panic.
fn run_action(s: &BarrierState) -> std::thread::Result<()> {
    if s.has_action.load(Ordering::Relaxed) == 0 {
        return Ok(());
    }
    let action = FnRef::from_parts(
        s.action_offset.load(Ordering::Relaxed),
        s.action_hash.load(Ordering::Relaxed),
    );
    // The arguments are `()`, which encodes to no bytes.
    match catch_unwind(AssertUnwindSafe(|| action.call(&[], Vec::new()))) {
        Ok(Ok(_)) => Ok(()),
        // The name did not resolve to the action in this process (another
        // build mapped the memory): treat it as the action failing.
        Ok(Err(why)) => Err(Box::new(format!(
            "the barrier's action cannot run here: {why}"
        ))),
        Err(panic) => Err(panic),
    }
}

/// How the generation `mine` ended, for a waiter in it.
fn released(s: &BarrierState, mine: u32, index: u32) -> Result<u32, BrokenBarrierError> {
    if s.outcomes.load(Ordering::SeqCst) & (1 << (mine % 32)) != 0 {
        Ok(index)
    } else {
        Err(BrokenBarrierError)
    }
}

/// The barrier is broken, or was broken or reset while waiting (Python's
/// `BrokenBarrierError`).
///
/// ```
/// let b = brigade::process::Barrier::new(2).unwrap();
/// b.abort();
/// assert_eq!(b.wait().unwrap_err().to_string(), "the barrier is broken");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken")
    }
}

impl std::error::Error for BrokenBarrierError {}

super::lock::shared_handle!(Barrier);
