//! Deadlock detection for brigade's [`Lock`](super::Lock) and
//! [`RLock`](super::RLock): a cycle of threads, each waiting for a lock
//! that the next one holds, is reported as a [`DeadlockError`] naming the
//! threads and the locks, instead of hanging silently.
//!
//! It is off by default, since it funnels every lock operation through one
//! global table; turn it on with [`detect_deadlocks`], or for the whole
//! program with the cargo feature `deadlock-detection`.
//!
//! # The wait-for graph
//! The detector keeps the wait-for graph of the operating-systems books
//! (Holt, 1972): which thread holds each lock, and which lock each blocked
//! thread waits for. A thread about to block on a held lock follows the
//! chain from that lock's owner (the lock the owner waits for, that lock's
//! owner, and so on); if the chain comes back to the thread itself, blocking
//! would close a cycle, and `lock` returns the error instead. Every thread
//! records what it holds before it asks for anything else, and checks
//! happen under the table's mutex, so of the threads that form a cycle the
//! last one to arrive sees all of it. Owners are forgotten just before a
//! lock is released, so a stale owner never causes a false report.
//!
//! A thread in a timed wait ([`Lock::lock_timeout`](super::Lock::lock_timeout))
//! counts as waiting: a wait that would close a cycle fails at once, timed
//! or not, since only a timeout could end it.
//!
//! ```
//! use std::sync::{Arc, Barrier};
//! use brigade::thread::{self, Lock, Thread};
//!
//! thread::detect_deadlocks(true);
//! let flour = Arc::new(Lock::named("flour", ()));
//! let sugar = Arc::new(Lock::named("sugar", ()));
//! let both_hold_one = Arc::new(Barrier::new(2));
//! let cook = |first: Arc<Lock>, second: Arc<Lock>, barrier: Arc<Barrier>| {
//!     move || {
//!         let _a = first.lock().unwrap();
//!         barrier.wait();
//!         // Dropping the error drops `_a`, which lets the other cook on.
//!         second.lock().map(drop).map_err(|e| e.to_string())
//!     }
//! };
//! let mut one = Thread::from_fn(cook(flour.clone(), sugar.clone(), both_hold_one.clone()));
//! let mut two = Thread::from_fn(cook(sugar, flour, both_hold_one));
//! one.start().unwrap();
//! two.start().unwrap();
//! let outcomes = [one.join().unwrap(), two.join().unwrap()];
//! // Exactly one of the two saw the cycle; the other then got its lock.
//! let report = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
//! assert!(report.starts_with("deadlock: Thread-"), "{report}");
//! assert!(outcomes.iter().any(|o| o.is_ok()));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
// A global table: loom's types cannot live in statics.
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::registry;
use super::thread_ref::ThreadRef;

static ENABLED: AtomicBool = AtomicBool::new(cfg!(feature = "deadlock-detection"));

/// Turns deadlock detection for [`Lock`](super::Lock) and
/// [`RLock`](super::RLock) on or off, for the whole process. Locks taken
/// while it was off are unknown to the detector until released.
///
/// # Examples
/// Two threads take two locks in opposite orders; the one whose wait would
/// close the cycle gets an error instead of hanging:
/// ```
/// use std::sync::{Arc, Barrier};
/// use brigade::thread::{self, Lock};
///
/// thread::detect_deadlocks(true); // for the whole process, from now on
/// let a = Arc::new(Lock::named("a", ()));
/// let b = Arc::new(Lock::named("b", ()));
/// let both_hold = Arc::new(Barrier::new(2));
/// let side = |first: Arc<Lock>, second: Arc<Lock>, both: Arc<Barrier>| {
///     move || {
///         let _held = first.lock().unwrap();
///         both.wait();
///         second.lock().err().map(|e| e.to_string()) // None: it got the lock
///     }
/// };
/// let other = thread::spawn(side(a.clone(), b.clone(), both_hold.clone())).unwrap();
/// let mine = side(b, a, both_hold)();
/// let theirs = other.into_result().unwrap();
/// assert!(mine.is_some() != theirs.is_some()); // exactly one was refused
/// ```
pub fn detect_deadlocks(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether deadlock detection is on.
///
/// # Examples
/// ```
/// brigade::thread::detect_deadlocks(true);
/// assert!(brigade::thread::deadlock_detection_enabled());
/// ```
pub fn deadlock_detection_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A lock's identity in the wait-for graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LockId(u64);

impl LockId {
    pub(crate) fn next() -> LockId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        LockId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn number(self) -> u64 {
        self.0
    }
}

struct Held {
    lock_name: Box<str>,
    owner: ThreadRef,
}

#[derive(Default)]
struct Graph {
    held: HashMap<LockId, Held>,
    /// Thread ident to the lock it is blocked on.
    waiting: HashMap<u64, LockId>,
}

fn graph() -> MutexGuard<'static, Graph> {
    static GRAPH: OnceLock<Mutex<Graph>> = OnceLock::new();
    GRAPH
        .get_or_init(Mutex::default)
        .lock()
        // Updates are single map insertions and removals.
        .unwrap_or_else(|e| e.into_inner())
}

/// Records that the calling thread holds `lock`; returns the token that
/// forgets it at release. `None` when detection is off.
pub(crate) fn acquired(lock: LockId, name: &str) -> Option<Tracked> {
    if !deadlock_detection_enabled() {
        return None;
    }
    let me = registry::current_thread();
    let mut graph = graph();
    graph.waiting.remove(&me.raw_ident());
    graph.held.insert(
        lock,
        Held {
            lock_name: name.into(),
            owner: me,
        },
    );
    Some(Tracked(lock))
}

/// Before the calling thread blocks on `lock`: fails if blocking would close
/// a cycle; otherwise records the wait. Does nothing when detection is off.
pub(crate) fn before_wait(lock: LockId, name: &str) -> Result<(), DeadlockError> {
    if !deadlock_detection_enabled() {
        return Ok(());
    }
    let me = registry::current_thread();
    let mut graph = graph();
    let mut edges = vec![Edge {
        thread: me.name().into(),
        waits_for: name.into(),
    }];
    let mut next = lock;
    // A chain longer than the number of waiting threads has looped without
    // passing through us: no cycle of ours.
    for _ in 0..=graph.waiting.len() {
        let Some(held) = graph.held.get(&next) else {
            break;
        };
        if held.owner == me {
            return Err(DeadlockError { edges });
        }
        let Some(&wanted) = graph.waiting.get(&held.owner.raw_ident()) else {
            break;
        };
        let wanted_name = graph.held.get(&wanted).map_or_else(
            || format!("lock #{}", wanted.0).into(),
            |h| h.lock_name.clone(),
        );
        edges.push(Edge {
            thread: held.owner.name().into(),
            waits_for: wanted_name,
        });
        next = wanted;
    }
    graph.waiting.insert(me.raw_ident(), lock);
    Ok(())
}

/// After a timed wait ran out: the calling thread waits for no lock now.
pub(crate) fn gave_up() {
    if !deadlock_detection_enabled() {
        return;
    }
    let me = registry::get_ident();
    graph().waiting.remove(&me);
}

/// A lock known to the detector as held; forgets it when released.
#[derive(Debug)]
pub(crate) struct Tracked(LockId);

impl Tracked {
    /// Forgets the owner; called just before the lock is released.
    pub(crate) fn release(self) {
        graph().held.remove(&self.0);
    }
}

#[derive(Debug, Clone)]
struct Edge {
    thread: Box<str>,
    waits_for: Box<str>,
}

/// Taking the lock would have closed a cycle of threads waiting for each
/// other. Its message names each thread, the
/// lock it waits for, and who holds that lock.
///
/// The thread that gets it should let go of its locks (drop its guards):
/// the others of the cycle are blocked until it does.
///
/// # Examples
/// ```
/// use std::sync::{Arc, Barrier};
/// use brigade::thread::{self, DeadlockError, Lock};
///
/// thread::detect_deadlocks(true);
/// let a = Arc::new(Lock::named("knives", ()));
/// let b = Arc::new(Lock::named("forks", ()));
/// let both_hold = Arc::new(Barrier::new(2));
/// let side = |first: Arc<Lock>, second: Arc<Lock>, both: Arc<Barrier>| {
///     move || -> Option<DeadlockError> {
///         let _held = first.lock().unwrap();
///         both.wait();
///         second.lock().err()
///     }
/// };
/// let other = thread::spawn(side(a.clone(), b.clone(), both_hold.clone())).unwrap();
/// let refused = side(b, a, both_hold)().or(other.into_result().unwrap()).unwrap();
/// assert_eq!(refused.threads().len(), 2);
/// let mut locks = refused.locks();
/// locks.sort();
/// assert_eq!(locks, ["forks", "knives"]);
/// println!("{refused}"); // who waits for what, held by whom
/// ```
#[derive(Debug, Clone)]
pub struct DeadlockError {
    /// `edges[0]` is the calling thread; `edges[i]` waits for a lock held by
    /// the thread of `edges[i + 1]`, and the last waits for one held by the
    /// first.
    edges: Vec<Edge>,
}

impl DeadlockError {
    /// The threads of the cycle, the calling thread first.
    ///
    /// # Examples
    /// ```
    /// # use std::sync::{Arc, Barrier};
    /// # use brigade::thread::{self, DeadlockError, Lock};
    /// # thread::detect_deadlocks(true);
    /// # let a = Arc::new(Lock::named("la", ()));
    /// # let b = Arc::new(Lock::named("lb", ()));
    /// # let both_hold = Arc::new(Barrier::new(2));
    /// # let side = |first: Arc<Lock>, second: Arc<Lock>, both: Arc<Barrier>| {
    /// #     move || -> Option<DeadlockError> {
    /// #         let _held = first.lock().unwrap();
    /// #         both.wait();
    /// #         second.lock().err()
    /// #     }
    /// # };
    /// let other = thread::Thread::builder()
    ///     .name("other")
    ///     .spawn(side(a.clone(), b.clone(), both_hold.clone()))
    ///     .unwrap();
    /// let refused = side(b, a, both_hold)().or(other.into_result().unwrap()).unwrap();
    /// // The refused thread first, then the one it waits for.
    /// assert!(refused.threads().contains(&"other"));
    /// ```
    pub fn threads(&self) -> Vec<&str> {
        self.edges.iter().map(|e| &*e.thread).collect()
    }

    /// The locks of the cycle: the one each thread of
    /// [`threads`](Self::threads) waits for, in the same order.
    ///
    /// # Examples
    /// ```
    /// # use std::sync::{Arc, Barrier};
    /// # use brigade::thread::{self, DeadlockError, Lock};
    /// # thread::detect_deadlocks(true);
    /// # let a = Arc::new(Lock::named("salt", ()));
    /// # let b = Arc::new(Lock::named("pepper", ()));
    /// # let both_hold = Arc::new(Barrier::new(2));
    /// # let side = |first: Arc<Lock>, second: Arc<Lock>, both: Arc<Barrier>| {
    /// #     move || -> Option<DeadlockError> {
    /// #         let _held = first.lock().unwrap();
    /// #         both.wait();
    /// #         second.lock().err()
    /// #     }
    /// # };
    /// # let other = thread::spawn(side(a.clone(), b.clone(), both_hold.clone())).unwrap();
    /// let refused = side(b, a, both_hold)().or(other.into_result().unwrap()).unwrap();
    /// let locks = refused.locks();
    /// assert!(locks.contains(&"salt") && locks.contains(&"pepper"));
    /// ```
    pub fn locks(&self) -> Vec<&str> {
        self.edges.iter().map(|e| &*e.waits_for).collect()
    }
}

impl fmt::Display for DeadlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "deadlock: T0 holds Lk and waits for L0, held by T1, which waits
        // for L1, held by T2, ..., which waits for Lk"
        let first = &self.edges[0];
        let last = &self.edges[self.edges.len() - 1];
        if self.edges.len() == 1 {
            return write!(
                f,
                "deadlock: {} waits for {}, which it holds itself",
                first.thread, first.waits_for
            );
        }
        write!(
            f,
            "deadlock: {} holds {} and waits for {}",
            first.thread, last.waits_for, first.waits_for
        )?;
        for edge in &self.edges[1..] {
            write!(
                f,
                ", held by {}, which waits for {}",
                edge.thread, edge.waits_for
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for DeadlockError {}
