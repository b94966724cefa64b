//! Which threads are alive, who the current and main threads are, and the
//! exit rule: Python's `threading.enumerate`, `active_count`,
//! `current_thread`, `main_thread`, `get_ident`, `get_native_id` and the
//! wait for non-daemon threads that ends a Python program.
//!
//! Every thread gets a [`ThreadRef`] (its identity, `thread_ref.rs`):
//! brigade threads when they are made, the main thread on first use (it is
//! called `MainThread`), and any other thread (one started by
//! `std::thread::spawn`, a test harness, another library) on its first call
//! to [`current_thread`], as a "dummy" that stays in [`enumerate`] until its
//! thread ends, as Python's `_DummyThread` does.
//!
//! A dummy keeps the name the operating system knows it by, so that every
//! report (a deadlock's included) names it as `ps`, `top` and debuggers
//! do; it is `Dummy-N`, as in Python, only when there is nothing better
//! (the rules are at [`current_thread`]).
//!
//! The registry is one process-wide map behind a mutex, touched twice per
//! brigade thread (start and finish); queries copy it out.
//!
//! ```
//! use brigade::thread::{self, Thread};
//!
//! let me = thread::current_thread();
//! assert_eq!(me.ident(), Some(thread::get_ident()));
//! assert_eq!(thread::main_thread().name(), "MainThread");
//!
//! let mut t = Thread::from_fn(|| thread::current_thread().name().to_string());
//! t.start().unwrap();
//! assert!(t.name().starts_with("Thread-"));
//! assert_eq!(t.join().unwrap(), t.name());
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
// The registry is a global static; loom's types cannot live in statics, and
// its few critical sections are simple insertions and removals.
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::thread_ref::{Kind, Status, ThreadRef, next_ident};
use crate::sys;

/// The live brigade and dummy threads, and how many of them the program's
/// exit must wait for.
pub(super) struct Registry {
    live: Mutex<Live>,
    non_daemon_done: Condvar,
}

struct Live {
    /// Keyed by ident. A hash map keeps its capacity when it empties, so
    /// a start and finish cost no allocation.
    threads: HashMap<u64, ThreadRef>,
    non_daemon: usize,
    /// Threads inside `wait_for_non_daemon`: only with some is a finishing
    /// thread's wake-up call (a system call) worth making.
    waiters: usize,
}

pub(super) fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        live: Mutex::new(Live {
            threads: HashMap::new(),
            non_daemon: 0,
            waiters: 0,
        }),
        non_daemon_done: Condvar::new(),
    })
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn insert(&self, thread: &ThreadRef) {
        let mut live = self.lock();
        if live
            .threads
            .insert(thread.0.ident, thread.clone())
            .is_none()
            && thread.0.kind == Kind::Brigade
            && !thread.is_daemon()
        {
            live.non_daemon += 1;
        }
    }

    pub(super) fn remove(&self, thread: &ThreadRef) {
        let mut live = self.lock();
        if live.threads.remove(&thread.0.ident).is_some()
            && thread.0.kind == Kind::Brigade
            && !thread.is_daemon()
        {
            live.non_daemon -= 1;
            // Not only at zero: a non-daemon thread waiting for the others
            // waits for a count of one (itself).
            if live.waiters > 0 {
                self.non_daemon_done.notify_all();
            }
        }
    }
}

/// The thread-local record of who this thread is. Dropping a dummy's slot
/// (its thread is ending) takes it out of the registry.
pub(super) struct Slot(pub(super) ThreadRef);

impl Drop for Slot {
    fn drop(&mut self) {
        if self.0.0.kind == Kind::Dummy {
            self.0.life().status = Status::Finished;
            registry().remove(&self.0);
        }
    }
}

thread_local! {
    pub(super) static IDENT: Cell<u64> = const { Cell::new(0) };
    pub(super) static CURRENT: RefCell<Option<Slot>> = const { RefCell::new(None) };
}

fn main_ref() -> &'static ThreadRef {
    static MAIN: OnceLock<ThreadRef> = OnceLock::new();
    MAIN.get_or_init(|| ThreadRef::new("MainThread".to_string(), Kind::Main, false))
}

fn dummy_ref() -> ThreadRef {
    // The thread keeps the ident an earlier get_ident() gave it.
    let ident = match IDENT.with(Cell::get) {
        0 => next_ident(),
        known => known,
    };
    let me = ThreadRef::with_ident(ident, foreign_name(), Kind::Dummy, true);
    registry().insert(&me);
    me
}

/// The name of a thread brigade did not start; see [`current_thread`].
fn foreign_name() -> String {
    // std's handle may be gone while thread-locals are destroyed (so may
    // ours: then skip it).
    if CURRENT.try_with(|_| ()).is_ok() {
        if let Some(name) = std::thread::current().name() {
            return name.to_string();
        }
    }
    static DUMMIES: AtomicU64 = AtomicU64::new(1);
    let n = DUMMIES.fetch_add(1, Ordering::Relaxed);
    match (sys::thread::get_name(), sys::thread::process_name()) {
        (Ok(own), Ok(process)) if !own.is_empty() && own != process => {
            format!("Dummy-{n} ({own})")
        }
        _ => format!("Dummy-{n}"),
    }
}

/// The calling thread's [`ThreadRef`], like `threading.current_thread()`.
///
/// On a thread that brigade did not start, the first call registers it as
/// a daemon "dummy", named after its OS name. Python calls every dummy
/// `Dummy-N`; brigade does so only when it has nothing better:
///
/// - a thread named through `std` ([`std::thread::Builder::name`]) keeps
///   that name whole;
/// - otherwise, if the kernel's name of the thread differs from the
///   process's, it is `Dummy-N (kernel name)`: the kernel copies a
///   creating thread's name into each new one, so that name may be its
///   creator's, and `Dummy-N` keeps the two apart;
/// - otherwise it is `Dummy-N`.
///
/// ```
/// use brigade::thread;
///
/// let name = std::thread::Builder::new()
///     .name("std-worker".into())
///     .spawn(|| thread::current_thread().name().to_string())
///     .unwrap()
///     .join()
///     .unwrap();
/// assert_eq!(name, "std-worker");
/// ```
pub fn current_thread() -> ThreadRef {
    let known = CURRENT.with(|current| current.borrow().as_ref().map(|slot| slot.0.clone()));
    if let Some(me) = known {
        return me;
    }
    let me = if sys::thread::is_main_thread() {
        main_ref().clone()
    } else {
        dummy_ref()
    };
    IDENT.with(|id| id.set(me.0.ident));
    // During thread-local destruction the slot may be gone; the caller still
    // gets a correct answer, it is just not remembered.
    let _ = CURRENT.try_with(|current| *current.borrow_mut() = Some(Slot(me.clone())));
    me
}

/// The process's main thread, like `threading.main_thread()`.
///
/// # Examples
/// ```
/// let main = brigade::thread::main_thread();
/// assert!(main.is_main() && main.name() == "MainThread");
/// ```
pub fn main_thread() -> ThreadRef {
    main_ref().clone()
}

/// Python's `threading.get_ident()`: the calling thread's ident, a nonzero
/// number unique within the process. Faster than
/// `current_thread().ident()`, and it registers no dummy thread.
///
/// # Examples
/// ```
/// let mine = brigade::thread::get_ident();
/// let theirs = brigade::thread::spawn(brigade::thread::get_ident).unwrap();
/// assert_ne!(mine, theirs.into_result().unwrap());
/// ```
pub fn get_ident() -> u64 {
    let known = IDENT.with(Cell::get);
    if known != 0 {
        return known;
    }
    let ident = if sys::thread::is_main_thread() {
        main_ref().0.ident
    } else {
        next_ident()
    };
    IDENT.with(|id| id.set(ident));
    ident
}

/// The kernel's id of the calling thread, like `threading.get_native_id()`.
///
/// # Examples
/// ```
/// let tid = brigade::thread::get_native_id();
/// assert!(std::path::Path::new(&format!("/proc/self/task/{tid}")).exists());
/// ```
pub fn get_native_id() -> u64 {
    sys::thread::gettid()
}

/// Every thread alive now, like `threading.enumerate()`: the main thread
/// first, then the brigade threads and dummies in the order they were made.
///
/// # Examples
/// ```
/// let me = brigade::thread::current_thread();
/// let all = brigade::thread::enumerate();
/// assert!(all[0].is_main());
/// assert!(all.iter().any(|t| t.ident() == me.ident()));
/// ```
pub fn enumerate() -> Vec<ThreadRef> {
    let mut others: Vec<ThreadRef> = registry().lock().threads.values().cloned().collect();
    // Idents grow with each thread made, so this is the order of making.
    others.sort_by_key(|t| t.0.ident);
    let mut all = Vec::with_capacity(others.len() + 1);
    all.push(main_ref().clone());
    all.extend(others);
    all
}

/// How many threads are alive, like `threading.active_count()`: the length
/// of [`enumerate`].
///
/// # Examples
/// ```
/// let (go, gate) = std::sync::mpsc::channel::<()>();
/// let t = brigade::thread::spawn(move || gate.recv().unwrap()).unwrap();
/// assert!(brigade::thread::active_count() >= 2); // the main thread and `t`
/// go.send(()).unwrap();
/// t.into_result().unwrap();
/// ```
pub fn active_count() -> usize {
    registry().lock().threads.len() + 1
}

/// Blocks until every non-daemon brigade thread has finished, and returns
/// how many were running when it was called (0 if none: it returns at once).
///
/// This is what a Python program does when its main module ends: it waits
/// for the non-daemon threads and abandons the daemons, which die with the
/// process. `#[brigade::main]` calls it after `main`'s body returns. A plain
/// `fn main` that starts brigade threads gets the same rule by calling it
/// last:
///
/// ```
/// use brigade::thread::{self, Thread};
///
/// fn main() {
///     let mut worker = Thread::from_fn(|| println!("finished before exit"));
///     worker.start().unwrap();
///     // Not joined: the program waits for it anyway, as Python would.
///     thread::wait_for_non_daemon();
/// }
/// ```
///
/// Threads started while it waits are waited for too. Called from a
/// non-daemon brigade thread, it would wait for itself; it waits for the
/// others only. If `main` panics, `#[brigade::main]` does not wait: the
/// panic ends the program as it would without brigade.
pub fn wait_for_non_daemon() -> usize {
    wait_inner(None).0
}

/// Like [`wait_for_non_daemon`], for at most `timeout`. Returns whether no
/// non-daemon thread is left.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// let mut t = brigade::thread::Thread::from_fn(|| ());
/// t.start().unwrap();
/// // Not joined: waited for, with every other non-daemon brigade thread.
/// assert!(brigade::thread::wait_for_non_daemon_timeout(Duration::from_secs(60)));
/// assert!(!t.is_alive());
/// ```
pub fn wait_for_non_daemon_timeout(timeout: Duration) -> bool {
    wait_inner(Some(Instant::now() + timeout)).1
}

fn wait_inner(deadline: Option<Instant>) -> (usize, bool) {
    // A non-daemon brigade thread waiting here must not wait for itself.
    let me = CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .is_some_and(|slot| slot.0.0.kind == Kind::Brigade && !slot.0.is_daemon())
    });
    let own = usize::from(me);
    let reg = registry();
    let mut live = reg.lock();
    let first = live.non_daemon.saturating_sub(own);
    live.waiters += 1;
    let all_done = loop {
        if live.non_daemon <= own {
            break true;
        }
        live = match deadline {
            None => reg
                .non_daemon_done
                .wait(live)
                .unwrap_or_else(|e| e.into_inner()),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    break false;
                }
                reg.non_daemon_done
                    .wait_timeout(live, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    };
    live.waiters -= 1;
    (first, all_done)
}
