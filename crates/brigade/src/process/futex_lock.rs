//! The cross-process [`Lock`](super::Lock)'s mutex: one futex word that
//! names its holder, so that a holder's death can be noticed by those who
//! wait for it.
//!
//! The algorithm is the third mutex of Ulrich Drepper's "Futexes Are
//! Tricky" (2011), with the holder's identity in the word instead of the
//! state `1`, laid out as the kernel's robust futexes are
//! (`Documentation/locking/robust-futex-ABI`: the owner in the low 30
//! bits, bit 31 for waiters). The identity is the holder's thread id and
//! an 8-bit tag from its start time (`sys/thread_life.rs`):
//!
//! | word | meaning |
//! | --- | --- |
//! | `0` | free |
//! | `id` | held by the thread with identity `id`, no one asleep on it |
//! | `id \| WAITERS` | held by `id`, and someone may be asleep on it |
//!
//! Uncontended, acquiring is one compare-and-swap (`0 → id`) and
//! releasing another (`id → 0`), with no system call. A contender spins
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
//!   set it, by id and tag, in one atomic write: there is no moment when
//!   the lock is held and the word names someone else. A thread with that
//!   id that is missing or a zombie is dead. A live thread with that id
//!   but another tag is a new thread that reuses a dead holder's id (a
//!   thread's tag never changes): the holder died. A live thread with that
//!   id and tag is taken for the holder, which it is unless a reused id
//!   also drew the same tag (1 in 256): then the contender waits for that
//!   thread to end, later than it should, but never takes a live lock.
//! - *Exactly one contender takes over*, and only from the judged word: if
//!   the word changed in between (a release, another take-over), the
//!   compare-and-swap fails and the contender looks again. A word judged
//!   dead cannot come back naming a live holder: only its dead holder
//!   could release it, and a new holder writes its own identity, which
//!   differs in id or tag (short of the same 1-in-256 coincidence within
//!   the microseconds between the judgement and the compare-and-swap).
//!   Once taken over, the word names a live thread, so the death is
//!   reported once.
//! - *No one sleeps for ever.* A release that dies between clearing the
//!   word and waking (or a holder that dies asleep on nothing) only delays
//!   a sleeper to the end of its bounded sleep.
//!
//! Without `/proc` (not mounted, or other users' entries hidden), tags are
//! not compared and a zombie holder (a killed process its parent has not
//! reaped) counts as alive until reaped.
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

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::lock_error::Wait;
use crate::sys::futex;
use crate::sys::robust::Locked;
use crate::sys::thread_life::{self, IDENTITY_BITS, Identity, Life, life};

/// Set in the word while someone may sleep on it.
const WAITERS: u32 = 1 << 31;
/// The holder's identity.
const HOLDER: u32 = IDENTITY_BITS;
/// How long a contender sleeps before it checks that the holder lives.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(20);
/// Spins (re-reads of the word) before a contender sleeps: a holder on
/// another core usually releases within them.
const SPINS: u32 = 100;

/// A mutex shared between processes whose holder's death is reported to
/// the next acquirer. Zero is a free lock.
#[repr(C)]
pub(crate) struct FutexLock {
    word: AtomicU32,
}

impl FutexLock {
    /// Locks, waiting as `wait` says; never fails ([`Locked::Busy`] when
    /// the wait ends first).
    #[inline]
    pub(crate) fn lock(&self, wait: Wait) -> Locked {
        let me = thread_life::current();
        if self
            .word
            .compare_exchange(0, me.0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
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
            if c & HOLDER == me.0 {
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
        self.word
            .compare_exchange(from, me.0 | marked, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// If the word still is `c` and its holder is dead, takes the lock
    /// over ([`Locked::OwnerDied`]).
    fn take_from_dead(&self, c: u32, me: Identity) -> Option<Locked> {
        if c & HOLDER == 0 || holder_lives(Identity(c & HOLDER)) {
            return None;
        }
        // WAITERS stays set: others may sleep on the dead holder's word.
        self.take(c, me, WAITERS).then_some(Locked::OwnerDied)
    }

    /// Releases the lock if the calling thread holds it; does nothing
    /// otherwise (a guard copied into a forked child, whose thread is not
    /// the holder).
    #[inline]
    pub(crate) fn unlock(&self) {
        let me = thread_life::current().0;
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
        if self.word.load(Ordering::Relaxed) & HOLDER != me {
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

/// Whether the thread that wrote `holder` into a word still lives.
fn holder_lives(holder: Identity) -> bool {
    match life(holder.tid()) {
        Life::Gone => false,
        Life::Alive { tag: None } => true,
        // Another tag: a new thread that reuses a dead holder's id.
        Life::Alive { tag: Some(tag) } => tag == holder.tag(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free() -> FutexLock {
        FutexLock {
            word: AtomicU32::new(0),
        }
    }

    #[test]
    fn uncontended_acquire_names_the_holder_and_release_frees() {
        let l = free();
        assert_eq!(l.lock(Wait::Never), Locked::Acquired);
        assert_eq!(l.word.load(Ordering::Relaxed), thread_life::current().0);
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
        // The word names this thread's id with another tag: an earlier
        // thread with our id, which died holding the lock.
        let me = thread_life::current();
        let earlier = Identity(me.0 ^ (1 << 22));
        assert!(holder_lives(me));
        assert!(!holder_lives(earlier));
        let l = free();
        l.word.store(earlier.0 | WAITERS, Ordering::Relaxed);
        assert_eq!(l.lock(Wait::Never), Locked::OwnerDied);
        assert_eq!(l.word.load(Ordering::Relaxed), me.0 | WAITERS);
        l.unlock();
        assert_eq!(l.word.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_release_by_another_thread_leaves_the_lock_held() {
        let l = free();
        assert_eq!(l.lock(Wait::Never), Locked::Acquired);
        std::thread::scope(|s| {
            s.spawn(|| l.unlock());
        });
        assert_eq!(l.word.load(Ordering::Relaxed), thread_life::current().0);
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

/// An exhaustive model of the protocol above: every interleaving of a few
/// threads' steps (each atomic operation, futex call and liveness check
/// one step), with sleeps that may time out and holders that may die
/// anywhere. Checked in every reachable state: a live holder is the one
/// the word names, and at most one live thread holds the lock; in every
/// final state (no step possible), every live thread has finished. Without
/// deaths, sleeps time out only on a dead holder's word, so a final state
/// with a sleeper would be a lost wake-up.
#[cfg(test)]
mod model {
    use std::collections::HashSet;

    const W: u8 = 0x80;
    const T: u8 = 0x7f;

    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    enum Pc {
        Start,
        Load,
        TakeFree,
        Mark,
        Sleep,
        Asleep,
        Check,
        TakeOver,
        Held,
        Release,
        ReleaseLook,
        Swap,
        Wake,
        Done,
    }

    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    struct Thread {
        pc: Pc,
        /// The word last read (what a sleep or a take-over expects).
        c: u8,
        marked: u8,
        alive: bool,
        rounds: u8,
    }

    #[derive(Clone, PartialEq, Eq, Hash, Debug)]
    struct State {
        word: u8,
        threads: Vec<Thread>,
        deaths: u8,
    }

    fn tid(i: usize) -> u8 {
        i as u8 + 1
    }

    impl State {
        fn holder_dead(&self, word: u8) -> bool {
            let t = word & T;
            t != 0 && !self.threads[t as usize - 1].alive
        }

        /// Every state one step from here.
        fn next(&self, max_deaths: u8) -> Vec<State> {
            let mut out = Vec::new();
            for i in 0..self.threads.len() {
                let th = self.threads[i];
                if !th.alive || th.pc == Pc::Done {
                    continue;
                }
                if self.deaths < max_deaths {
                    let mut s = self.clone();
                    s.threads[i].alive = false;
                    s.deaths += 1;
                    out.push(s);
                }
                out.extend(self.step(i));
            }
            out
        }

        fn step(&self, i: usize) -> Vec<State> {
            let me = tid(i);
            let mut s = self.clone();
            let th = &mut s.threads[i];
            match th.pc {
                Pc::Start => {
                    if s.word == 0 {
                        s.word = me;
                        th.pc = Pc::Held;
                    } else {
                        th.marked = 0;
                        th.pc = Pc::Load;
                    }
                }
                Pc::Load => {
                    th.c = s.word;
                    assert_ne!(th.c & T, me, "a thread waits for itself");
                    th.pc = if th.c == 0 {
                        Pc::TakeFree
                    } else if th.c & W == 0 {
                        Pc::Mark
                    } else {
                        Pc::Sleep
                    };
                }
                Pc::TakeFree => {
                    if s.word == 0 {
                        s.word = me | th.marked;
                        th.pc = Pc::Held;
                    } else {
                        th.pc = Pc::Load;
                    }
                }
                Pc::Mark => {
                    if s.word == th.c {
                        s.word |= W;
                        th.c |= W;
                        th.pc = Pc::Sleep;
                    } else {
                        th.pc = Pc::Load;
                    }
                }
                Pc::Sleep => {
                    th.marked = W;
                    th.pc = if s.word == th.c { Pc::Asleep } else { Pc::Load };
                }
                Pc::Asleep => {
                    // Only a timeout moves a sleeper itself, and only when
                    // someone died: otherwise it must be woken.
                    if s.deaths == 0 {
                        return Vec::new();
                    }
                    th.pc = Pc::Check;
                }
                Pc::Check => {
                    let c = th.c;
                    let dead = s.holder_dead(c);
                    s.threads[i].pc = if dead { Pc::TakeOver } else { Pc::Load };
                }
                Pc::TakeOver => {
                    if s.word == th.c {
                        s.word = me | W;
                        th.pc = Pc::Held;
                    } else {
                        th.pc = Pc::Load;
                    }
                }
                Pc::Held => th.pc = Pc::Release,
                Pc::Release => {
                    if s.word == me {
                        s.word = 0;
                        th.pc = Pc::Done;
                    } else {
                        th.pc = Pc::ReleaseLook;
                    }
                }
                Pc::ReleaseLook => {
                    th.pc = if s.word & T == me { Pc::Swap } else { Pc::Done };
                }
                Pc::Swap => {
                    let old = s.word;
                    s.word = 0;
                    th.pc = if old & W != 0 { Pc::Wake } else { Pc::Done };
                }
                Pc::Wake => {
                    th.pc = Pc::Done;
                    let sleepers: Vec<usize> = (0..s.threads.len())
                        .filter(|&j| s.threads[j].alive && s.threads[j].pc == Pc::Asleep)
                        .collect();
                    if sleepers.is_empty() {
                        return vec![s.finish_round(i)];
                    }
                    return sleepers
                        .into_iter()
                        .map(|j| {
                            let mut w = s.clone();
                            w.threads[j].pc = Pc::Load;
                            w.finish_round(i)
                        })
                        .collect();
                }
                Pc::Done => unreachable!(),
            }
            vec![s.finish_round(i)]
        }

        /// A thread that finished a round starts the next, if any.
        fn finish_round(mut self, i: usize) -> State {
            let th = &mut self.threads[i];
            if th.pc == Pc::Done && th.rounds > 1 {
                th.rounds -= 1;
                th.pc = Pc::Start;
            }
            self
        }

        fn check(&self) {
            let holders: Vec<usize> = (0..self.threads.len())
                .filter(|&i| self.threads[i].alive && self.threads[i].pc == Pc::Held)
                .collect();
            assert!(holders.len() <= 1, "two live holders: {self:?}");
            if let Some(&i) = holders.first() {
                assert_eq!(self.word & T, tid(i), "a live holder not named: {self:?}");
            }
        }
    }

    /// Explores every state; returns how many there are.
    fn explore(rounds: &[u8], max_deaths: u8) -> usize {
        let start = State {
            word: 0,
            threads: rounds
                .iter()
                .map(|&r| Thread {
                    pc: Pc::Start,
                    c: 0,
                    marked: 0,
                    alive: true,
                    rounds: r,
                })
                .collect(),
            deaths: 0,
        };
        let mut seen = HashSet::new();
        let mut todo = vec![start];
        while let Some(s) = todo.pop() {
            if !seen.insert(s.clone()) {
                continue;
            }
            s.check();
            let next = s.next(max_deaths);
            let stuck = next.iter().all(|n| n == &s);
            if stuck {
                assert!(
                    s.threads.iter().all(|t| !t.alive || t.pc == Pc::Done),
                    "a live thread can never finish: {s:?}"
                );
            }
            todo.extend(next);
        }
        seen.len()
    }

    #[test]
    fn three_threads_lose_no_wake_up() {
        assert!(explore(&[1, 1, 1], 0) > 100);
    }

    #[test]
    fn two_threads_twice_lose_no_wake_up() {
        assert!(explore(&[2, 2], 0) > 50);
    }

    #[test]
    fn a_death_anywhere_is_survived() {
        assert!(explore(&[1, 1, 1], 1) > 100);
        assert!(explore(&[2, 2], 1) > 50);
    }
}
