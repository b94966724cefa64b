//! Robust process-shared mutexes: the C library's `pthread_mutex_t` with
//! `PTHREAD_PROCESS_SHARED` and `PTHREAD_MUTEX_ROBUST`, placed in shared
//! memory.
//!
//! A robust mutex survives the death of its holder. The C library keeps,
//! per thread, a list of the robust mutexes the thread holds and registers
//! its head with the kernel (`set_robust_list`, done by glibc for every
//! thread it starts, the main thread included, and again in a forked
//! child). When a thread ends, however it ends (`SIGKILL` included), the
//! kernel walks that list, sets `FUTEX_OWNER_DIED` in each held mutex's word
//! and wakes one sleeper (the kernel's `Documentation/locking/robust-futex-ABI`).
//! The next `lock` then returns `EOWNERDEAD` and holds the mutex;
//! `pthread_mutex_consistent` makes it usable again. brigade uses the C
//! library's list rather than a list of its own, because a thread has one
//! list head and the C library owns it.
//!
//! Uncontended, `lock` is one compare-and-swap in user space and `unlock`
//! one atomic exchange (plus the list bookkeeping in the thread's own
//! memory); only contention enters the kernel (`FUTEX_WAIT`/`FUTEX_WAKE`).
//!
//! ```ignore
//! let m: &RobustMutex = /* zeroed shared memory */;
//! unsafe { m.init(false) }?;
//! assert_eq!(m.lock(None)?, Locked::Acquired);
//! unsafe { m.unlock() };
//! ```

use std::cell::UnsafeCell;
use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How a lock attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    /// The caller holds the mutex.
    Acquired,
    /// The caller holds the mutex, taken over from a thread that died
    /// holding it; it has been made consistent (usable) again.
    OwnerDied,
    /// The calling thread already holds this (non-recursive) mutex.
    WouldDeadlock,
    /// The timeout passed, or (`try_lock`) another thread holds it.
    Busy,
}

/// A robust, process-shared mutex, living in shared memory.
#[repr(transparent)]
pub(crate) struct RobustMutex(UnsafeCell<libc::pthread_mutex_t>);

// SAFETY: a pthread mutex is made to be used from many threads (and, with
// PTHREAD_PROCESS_SHARED, many processes) at once through a pointer.
unsafe impl Sync for RobustMutex {}
// SAFETY: as above; it holds no thread-bound state outside itself.
unsafe impl Send for RobustMutex {}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

impl RobustMutex {
    /// Initializes the mutex in place: robust, process-shared, and either
    /// recursive or error-checking (a second `lock` by the holder is
    /// [`Locked::WouldDeadlock`], not a hang).
    ///
    /// # Safety
    /// No one else uses the mutex yet (it is in memory that has not been
    /// shared), and it is never moved while in use.
    pub(crate) unsafe fn init(&self, recursive: bool) -> io::Result<()> {
        let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: pthread_mutexattr_init initializes the attribute object.
        check(unsafe { libc::pthread_mutexattr_init(attr.as_mut_ptr()) })?;
        let kind = if recursive {
            libc::PTHREAD_MUTEX_RECURSIVE
        } else {
            libc::PTHREAD_MUTEX_ERRORCHECK
        };
        let attr = attr.as_mut_ptr();
        // SAFETY: `attr` was initialized above; these setters only write it,
        // and the mutex is ours alone (the caller's contract) while
        // pthread_mutex_init writes it.
        let rc = unsafe {
            check(libc::pthread_mutexattr_settype(attr, kind))
                .and_then(|()| {
                    check(libc::pthread_mutexattr_setpshared(
                        attr,
                        libc::PTHREAD_PROCESS_SHARED,
                    ))
                })
                .and_then(|()| {
                    check(libc::pthread_mutexattr_setrobust(
                        attr,
                        libc::PTHREAD_MUTEX_ROBUST,
                    ))
                })
                .and_then(|()| check(libc::pthread_mutex_init(self.0.get(), attr)))
        };
        // SAFETY: the attribute object was initialized and is not used again.
        unsafe { libc::pthread_mutexattr_destroy(attr) };
        rc
    }

    /// Locks, waiting at most `timeout` (forever with `None`).
    ///
    /// A timeout is measured on the realtime clock, as
    /// `pthread_mutex_timedlock` demands: a jump of the system clock moves
    /// the deadline.
    pub(crate) fn lock(&self, timeout: Option<Duration>) -> io::Result<Locked> {
        let rc = match timeout {
            // SAFETY: the mutex was initialized by `init` before its memory
            // was shared (the only way a RobustMutex comes to exist in use).
            None => unsafe { libc::pthread_mutex_lock(self.0.get()) },
            Some(t) => {
                let deadline = realtime_deadline(t);
                // SAFETY: as above; `deadline` lives for the call.
                unsafe { libc::pthread_mutex_timedlock(self.0.get(), &deadline) }
            }
        };
        self.outcome(rc)
    }

    /// Locks if no one holds the mutex.
    pub(crate) fn try_lock(&self) -> io::Result<Locked> {
        // SAFETY: the mutex was initialized by `init`.
        let rc = unsafe { libc::pthread_mutex_trylock(self.0.get()) };
        self.outcome(rc)
    }

    fn outcome(&self, rc: libc::c_int) -> io::Result<Locked> {
        match rc {
            0 => Ok(Locked::Acquired),
            libc::EOWNERDEAD => {
                // We hold it: make it usable again, so that releasing it
                // does not turn it unrecoverable for everyone.
                // SAFETY: the calling thread holds the mutex (EOWNERDEAD).
                check(unsafe { libc::pthread_mutex_consistent(self.0.get()) })?;
                Ok(Locked::OwnerDied)
            }
            libc::EDEADLK => Ok(Locked::WouldDeadlock),
            libc::EBUSY | libc::ETIMEDOUT => Ok(Locked::Busy),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    /// Whether a thread of this process holds the mutex: its futex word
    /// names one of our threads.
    ///
    /// The word is the robust-futex ABI's (the owner's thread id in the low
    /// 30 bits), and glibc keeps it first in `pthread_mutex_t` (`__lock`).
    /// A mutex held here sits on the holder's robust list, whose links the
    /// C library and the kernel follow, so its memory must stay mapped.
    pub(crate) fn held_in_this_process(&self) -> bool {
        // SAFETY: the first four bytes of the (8-aligned) pthread_mutex_t
        // are its futex word, which the C library only changes atomically;
        // reading it through an AtomicU32 is an atomic read of that word.
        let word = unsafe { &*self.0.get().cast::<AtomicU32>() };
        let tid = word.load(Ordering::Relaxed) & libc::FUTEX_TID_MASK;
        if tid == 0 {
            return false;
        }
        // SAFETY: getpid cannot fail; tgkill with signal 0 sends nothing,
        // it only says whether `tid` is a thread of process `pid`.
        unsafe { libc::tgkill(libc::getpid(), tid as libc::pid_t, 0) == 0 }
    }

    /// Unlocks.
    ///
    /// # Safety
    /// The calling thread holds the mutex (once per `unlock`).
    pub(crate) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the mutex; an error-checking or robust
        // mutex refuses (EPERM) rather than misbehaves otherwise.
        unsafe { libc::pthread_mutex_unlock(self.0.get()) };
    }
}

/// `now + timeout` on the realtime clock.
fn realtime_deadline(timeout: Duration) -> libc::timespec {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    let nanos = now.tv_nsec as u64 + u64::from(timeout.subsec_nanos());
    let secs = (now.tv_sec as u64)
        .saturating_add(timeout.as_secs())
        .saturating_add(nanos / 1_000_000_000)
        .min(i64::MAX as u64);
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
    }
}
