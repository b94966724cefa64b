//! The cross-process [`Lock`](super::Lock)'s mutex: one futex word that
//! names its holder, so that a holder's death can be noticed by those who
//! wait for it.
//!
//! The algorithm is the third mutex of Ulrich Drepper's "Futexes Are
//! Tricky" (2011), with the holder's thread id in the word instead of the
//! state `1`, in the layout of the kernel's robust futexes
//! (`Documentation/locking/robust-futex-ABI`):
//!
//! | word | meaning |
//! | --- | --- |
//! | `0` | free |
//! | `tid` | held by thread `tid`, no one asleep on it |
//! | `tid \| WAITERS` | held by `tid`, and someone may be asleep on it |
//!
//! Uncontended, acquiring is one compare-and-swap (`0 → tid`) and
//! releasing another (`tid → 0`), with no system call. A contender spins
//! briefly, then sets `WAITERS` and sleeps on the word (`FUTEX_WAIT`); a
//! release that finds `WAITERS` wakes one sleeper, and a sleeper that woke
//! takes the lock with `WAITERS` set, since others may sleep still (the
//! rule that makes Drepper's third mutex lose no wake-up).
//!
//! **A holder's death.** glibc's robust mutexes learn of it from the
//! kernel, which walks a per-thread list of held mutexes when a thread
//! ends; that list belongs to glibc (one head per thread), and keeping it
//! costs more than the lock itself. Here a contender finds out instead: its
//! sleep is bounded ([`CHECK_EVERY`]), and when it times out (or a
//! `try_lock` finds the lock busy), it asks whether the thread named in the
//! word still lives ([`life`]). If it does not, the contender takes the
//! lock over with one compare-and-swap from exactly the word it judged, and
//! reports [`Locked::OwnerDied`]. This is sound:
//!
//! - *Only a dead holder is taken over.* The word names the thread that
//!   set it; a live thread is never judged dead (a zombie or a missing id
//!   is dead; a live one is alive). A dead thread's id may be given to a
//!   new thread; the holder therefore writes its identity (id and start
//!   time) beside the word after each acquire, and a living thread whose
//!   start time differs from that identity is a new thread with a reused
//!   id: the holder died.
//! - *Exactly one contender takes over*, and only from the judged word: if
//!   the word changed in between (a release, another take-over), the
//!   compare-and-swap fails and the contender looks again. Once taken
//!   over, the word names a live thread, so the death is reported once.
//! - *No one sleeps for ever.* A release that dies between clearing the
//!   word and waking (or a holder that dies asleep on nothing) only delays
//!   a sleeper to the end of its bounded sleep.
//!
//! A holder that dies is noticed within about [`CHECK_EVERY`] by a
//! contender already asleep, where the kernel wakes a glibc waiter at
//! once: the price of a fast path with no bookkeeping.
//!
//! ```
//! // The lock behind brigade::process::Lock.
//! let l = brigade::process::Lock::new().unwrap();
//! drop(l.acquire().unwrap());
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::lock_error::Wait;
use crate::sys::futex;
use crate::sys::robust::Locked;
use crate::sys::thread_life::{self, Identity, Life, life};

/// Set in the word while someone may sleep on it.
const WAITERS: u32 = 1 << 31;
/// The holder's thread id (the robust-futex ABI's `FUTEX_TID_MASK`).
const TID: u32 = 0x3fff_ffff;
/// How long a contender sleeps before it checks that the holder lives.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(20);
/// Spins (re-reads of the word) before a contender sleeps: a holder on
/// another core usually releases within them.
const SPINS: u32 = 100;

/// A mutex shared between processes whose holder's death is reported to
/// the next acquirer. All zeroes is a free lock.
#[repr(C)]
pub(crate) struct FutexLock {
    word: AtomicU32,
    /// The identity of the latest holder, written after each acquire.
    holder: AtomicU64,
}

impl FutexLock {
    /// Locks, waiting as `wait` says; never fails ([`Locked::Busy`] when
    /// the wait ends first).
    #[inline]
    pub(crate) fn lock(&self, wait: Wait) -> Locked {
        let me = thread_life::current();
        if self
            .word
            .compare_exchange(0, me.tid(), Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            self.holder.store(me.0, Ordering::Relaxed);
            return Locked::Acquired;
        }
        self.lock_contended(me, wait)
    }

    #[cold]
    fn lock_contended(&self, me: Identity, wait: Wait) -> Locked {
        let deadline = match wait {
            Wait::Forever => None,
            Wait::For(t) => Instant::now().checked_add(t),
            Wait::Never => Some(Instant::now()),
        };
        // Once this thread has slept (or marked the word), it takes the
        // lock with WAITERS set: other sleepers may still be waiting.
        let mut marked = 0;
        let mut spins = if matches!(wait, Wait::Never) {
            SPINS
        } else {
            0
        };
        loop {
            let c = self.word.load(Ordering::Relaxed);
            if c == 0 {
                if self.take(0, me, marked) {
                    return Locked::Acquired;
                }
                continue;
            }
            if c & TID == me.tid() {
                return Locked::WouldDeadlock;
            }
            if spins < SPINS {
                spins += 1;
                std::hint::spin_loop();
                continue;
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                // The wait is over: one last look at the holder.
                return match self.take_from_dead(c, me) {
                    Some(outcome) => outcome,
                    None if self.word.load(Ordering::Relaxed) == 0 => continue,
                    None => Locked::Busy,
                };
            }
            if c & WAITERS == 0
                && self
                    .word
                    .compare_exchange(c, c | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            marked = WAITERS;
            let nap = deadline.map_or(CHECK_EVERY, |d| (d - now).min(CHECK_EVERY));
            if !futex::wait(&self.word, c | WAITERS, Some(nap)) {
                if let Some(outcome) = self.take_from_dead(c | WAITERS, me) {
                    return outcome;
                }
            }
        }
    }

    /// Takes the lock from `from` (0, or a dead holder's word).
    fn take(&self, from: u32, me: Identity, marked: u32) -> bool {
        let won = self
            .word
            .compare_exchange(
                from,
                me.tid() | marked,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok();
        if won {
            self.holder.store(me.0, Ordering::Relaxed);
        }
        won
    }

    /// If the word still is `c` and its holder is dead, takes the lock
    /// over ([`Locked::OwnerDied`]).
    fn take_from_dead(&self, c: u32, me: Identity) -> Option<Locked> {
        let tid = c & TID;
        if tid == 0 || self.holder_lives(tid) {
            return None;
        }
        // WAITERS stays set: others may sleep on the dead holder's word.
        self.take(c, me, WAITERS).then_some(Locked::OwnerDied)
    }

    fn holder_lives(&self, tid: u32) -> bool {
        match life(tid) {
            Life::Gone => false,
            Life::Alive { start: None } => true,
            Life::Alive { start: Some(start) } => {
                // The identity beside the word is the holder's once it has
                // written it; until then (or if it died first) it names an
                // earlier holder, and the id alone must do.
                let holder = Identity(self.holder.load(Ordering::Relaxed));
                holder.tid() != tid || holder.start() == start
            }
        }
    }

    /// Releases the lock if the calling thread holds it; does nothing
    /// otherwise (a guard copied into a forked child, whose thread is not
    /// the holder).
    #[inline]
    pub(crate) fn unlock(&self) {
        let me = thread_life::current().tid();
        if self
            .word
            .compare_exchange(me, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_contended(me);
        }
    }

    #[cold]
    fn unlock_contended(&self, me: u32) {
        if self.word.load(Ordering::Relaxed) & TID != me {
            return;
        }
        // Only this thread changes a word naming it (contenders only set
        // WAITERS, which is already set), so the swap releases our hold.
        let old = self.word.swap(0, Ordering::Release);
        if old & WAITERS != 0 {
            futex::wake(&self.word, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free() -> FutexLock {
        FutexLock {
            word: AtomicU32::new(0),
            holder: AtomicU64::new(0),
        }
    }

    #[test]
    fn uncontended_acquire_names_the_holder_and_release_frees() {
        let l = free();
        assert_eq!(l.lock(Wait::Never), Locked::Acquired);
        assert_eq!(l.word.load(Ordering::Relaxed), thread_life::current().tid());
        assert_eq!(l.lock(Wait::Never), Locked::WouldDeadlock);
        l.unlock();
        assert_eq!(l.word.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_word_naming_an_ended_thread_is_taken_over_once() {
        let l = free();
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(l.lock(Wait::Forever), Locked::Acquired));
        });
        assert_eq!(l.lock(Wait::Forever), Locked::OwnerDied);
        assert_eq!(l.lock(Wait::Never), Locked::WouldDeadlock);
        l.unlock();
        assert_eq!(l.lock(Wait::Never), Locked::Acquired);
        l.unlock();
    }

    #[test]
    fn a_reused_thread_id_is_a_dead_holder() {
        // The word names this (live) thread, but the identity beside it
        // has another start time: an earlier thread with our id died.
        let l = free();
        let me = thread_life::current();
        l.word.store(me.tid(), Ordering::Relaxed);
        l.holder.store(me.0 ^ 1, Ordering::Relaxed);
        assert!(!l.holder_lives(me.tid()));
        l.holder.store(me.0, Ordering::Relaxed);
        assert!(l.holder_lives(me.tid()));
    }

    #[test]
    fn a_release_by_another_thread_leaves_the_lock_held() {
        let l = free();
        assert_eq!(l.lock(Wait::Never), Locked::Acquired);
        std::thread::scope(|s| {
            s.spawn(|| l.unlock());
        });
        assert_eq!(l.word.load(Ordering::Relaxed), thread_life::current().tid());
        l.unlock();
        assert_eq!(l.word.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_busy_lock_times_out_and_a_sleeper_is_woken() {
        let l = free();
        assert_eq!(l.lock(Wait::Never), Locked::Acquired);
        std::thread::scope(|s| {
            let busy = s.spawn(|| l.lock(Wait::For(Duration::from_millis(1))));
            assert_eq!(busy.join().unwrap(), Locked::Busy);
            let waiter = s.spawn(|| {
                let got = l.lock(Wait::Forever);
                l.unlock();
                got
            });
            // Wait until the waiter marks the word, then release.
            while l.word.load(Ordering::Relaxed) & WAITERS == 0 {
                std::thread::yield_now();
            }
            l.unlock();
            assert_eq!(waiter.join().unwrap(), Locked::Acquired);
        });
        assert_eq!(l.word.load(Ordering::Relaxed), 0);
    }
}
