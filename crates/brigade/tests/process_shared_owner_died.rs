//! A process killed (`SIGKILL`, by `Process::kill`) while it holds a
//! cross-process lock: the next acquirer gets the lock together with
//! `LockError::OwnerDied`, and the lock works again afterwards. Python's
//! multiprocessing locks stay held for ever in this situation.
//!
//! Every test runs under a watchdog, so a hang fails it; the bound claims
//! nothing about speed.

use std::time::Duration;

use brigade::process::{
    Barrier, Condition, Event, Lock, LockError, Process, ProcessError, RLock, Semaphore, Value,
};

mod watchdog;
use watchdog::within;

/// Waits (in the child) to be killed.
fn forever() -> ! {
    loop {
        std::thread::park();
    }
}

/// Starts `p`, waits for it to say it holds the lock, kills it, and reaps
/// it, so that its death has happened when this returns.
fn kill_while_holding<R: serde::de::DeserializeOwned + std::fmt::Debug>(
    mut p: Process<R>,
    held: &Event,
) {
    p.start().unwrap();
    held.wait();
    p.kill().unwrap();
    assert!(matches!(p.join(), Err(ProcessError::Signaled { .. })));
}

fn hold_lock(l: Lock, held: Event) {
    let _g = l.acquire().unwrap();
    held.set();
    forever();
}

#[test]
fn lock_killed_holder_is_owner_died_then_usable() {
    within(|| {
        let l = Lock::new().unwrap();
        let held = Event::new().unwrap();
        kill_while_holding(Process::new(hold_lock, (l.clone(), held.clone())), &held);
        let g = match l.acquire() {
            Err(LockError::OwnerDied(g)) => g,
            other => panic!("expected OwnerDied, got {other:?}"),
        };
        // We hold it: no one else can take it.
        assert!(matches!(l.try_acquire(), Err(LockError::WouldDeadlock)));
        drop(g);
        // Said once; the lock is an ordinary lock again.
        let g = l.acquire().unwrap();
        drop(g);
    });
}

#[test]
fn lock_killed_holder_wakes_a_waiter_already_asleep() {
    fn take(l: Lock) -> bool {
        matches!(l.acquire(), Err(LockError::OwnerDied(_)))
    }
    within(|| {
        let l = Lock::new().unwrap();
        let held = Event::new().unwrap();
        let mut holder = Process::new(hold_lock, (l.clone(), held.clone()));
        holder.start().unwrap();
        held.wait();
        // A second child blocks on the lock before the holder dies.
        let mut waiter = Process::new(take, (l.clone(),));
        waiter.start().unwrap();
        holder.kill().unwrap();
        let _ = holder.join();
        assert!(waiter.join().unwrap(), "the sleeping waiter got OwnerDied");
        assert!(l.acquire().is_ok());
    });
}

fn hold_rlock(l: RLock, held: Event) {
    let _a = l.acquire().unwrap();
    let _b = l.acquire().unwrap();
    held.set();
    forever();
}

#[test]
fn rlock_killed_holder_is_owner_died_then_usable() {
    within(|| {
        let l = RLock::new().unwrap();
        let held = Event::new().unwrap();
        kill_while_holding(Process::new(hold_rlock, (l.clone(), held.clone())), &held);
        let g = l.acquire().unwrap_err().into_guard().expect("OwnerDied");
        // Ours now, recursively; the dead holder's two levels are gone.
        let again = l.acquire().unwrap();
        drop(again);
        drop(g);
        assert!(l.acquire().is_ok());
    });
}

fn hold_value(v: Value<u64>, held: Event) {
    let mut g = v.lock().unwrap();
    *g = 99;
    held.set();
    forever();
}

#[test]
fn value_killed_holder_hands_the_value_over() {
    within(|| {
        let v = Value::new(0u64).unwrap();
        let held = Event::new().unwrap();
        kill_while_holding(Process::new(hold_value, (v.clone(), held.clone())), &held);
        let mut g = match v.lock() {
            Err(LockError::OwnerDied(g)) => g,
            other => panic!("expected OwnerDied, got {other:?}"),
        };
        // What the dead holder wrote is there, for the taker to judge.
        assert_eq!(*g, 99);
        *g = 1;
        drop(g);
        assert_eq!(v.get().unwrap(), 1);
    });
}

fn hold_condition(c: Condition, held: Event) {
    let _g = c.acquire().unwrap();
    held.set();
    forever();
}

#[test]
fn condition_killed_holder_is_owner_died_then_usable() {
    within(|| {
        let c = Condition::new().unwrap();
        let held = Event::new().unwrap();
        kill_while_holding(
            Process::new(hold_condition, (c.clone(), held.clone())),
            &held,
        );
        let g = c.acquire().or_else(LockError::recover).unwrap();
        g.notify_all();
        drop(g);
        assert!(c.acquire().is_ok());
    });
}

/// Notifies the condition's waiters, then holds its lock until killed.
fn notify_then_hold(c: Condition, held: Event) {
    let g = c.acquire().unwrap();
    g.notify_all();
    held.set();
    std::mem::forget(g);
    forever();
}

#[test]
fn condition_waiter_re_acquiring_after_a_dead_holder_is_told() {
    fn wait_and_report(c: Condition, waiting: Event) -> bool {
        let mut g = c.acquire().unwrap();
        waiting.set();
        matches!(g.wait(), Err(LockError::OwnerDied(())))
    }
    within(|| {
        let c = Condition::new().unwrap();
        let waiting = Event::new().unwrap();
        let mut reporter = Process::new(wait_and_report, (c.clone(), waiting.clone()));
        reporter.start().unwrap();
        waiting.wait();
        // The reporter set `waiting` holding the lock and releases it only
        // inside `wait`: once we have had the lock, it waits.
        drop(c.acquire().unwrap());
        // Notified by a process that then keeps the lock, the reporter
        // cannot re-acquire it until that process dies.
        let held = Event::new().unwrap();
        kill_while_holding(
            Process::new(notify_then_hold, (c.clone(), held.clone())),
            &held,
        );
        assert!(
            reporter.join().unwrap(),
            "the waiter re-acquired with OwnerDied"
        );
        assert!(c.acquire().is_ok());
    });
}

fn take_permit(s: Semaphore, held: Event) {
    s.acquire().forget();
    held.set();
    forever();
}

#[test]
fn semaphore_permit_of_a_killed_holder_is_not_returned() {
    within(|| {
        let s = Semaphore::new(2).unwrap();
        let held = Event::new().unwrap();
        kill_while_holding(Process::new(take_permit, (s.clone(), held.clone())), &held);
        // As documented: a permit has no owner, so the dead one's stays
        // taken. The others go on with the rest.
        assert_eq!(s.available(), 1);
        let p = s.try_acquire().expect("one permit left");
        assert!(s.acquire_timeout(Duration::from_millis(5)).is_none());
        drop(p);
        assert_eq!(s.available(), 1);
    });
}

#[test]
fn a_thread_that_ends_holding_a_lock_is_owner_died_too() {
    within(|| {
        let l = Lock::new().unwrap();
        let l2 = l.clone();
        std::thread::spawn(move || std::mem::forget(l2.acquire().unwrap()))
            .join()
            .unwrap();
        assert!(l.acquire().unwrap_err().is_owner_died());
        assert!(l.acquire().is_ok());
    });
}

/// Whether the main thread of `pid` sleeps in a futex wait.
fn asleep_on_futex(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.starts_with("futex"))
}

fn wait_at(b: Barrier) -> bool {
    b.wait().is_ok()
}

#[test]
fn barrier_waiter_killed_while_waiting_still_counts() {
    within(|| {
        let b = Barrier::new(3).unwrap();
        let mut doomed = Process::new(wait_at, (b.clone(),));
        doomed.start().unwrap();
        // Arrived, and asleep in the kernel: the barrier's lock, taken
        // only around the count, is released by then. (The function runs
        // on the child's main thread, whose tid is its pid.)
        let pid = doomed.pid().unwrap();
        while b.n_waiting() < 1 || !asleep_on_futex(pid) {
            std::thread::yield_now();
        }
        // Now it dies waiting.
        doomed.kill().unwrap();
        assert!(doomed.join().is_err());
        let mut other = Process::new(wait_at, (b.clone(),));
        other.start().unwrap();
        assert!(b.wait().is_ok());
        assert!(other.join().unwrap());
        assert!(!b.broken());
    });
}

#[test]
fn forkserver_child_killed_holding_a_lock_is_owner_died() {
    within(|| {
        let l = Lock::new().unwrap();
        let held = Event::new().unwrap();
        // A child forked by the fork server: its robust list is the one
        // the C library registered again in the fork.
        let p = Process::new(hold_lock, (l.clone(), held.clone()))
            .start_method(brigade::process::StartMethod::Forkserver);
        kill_while_holding(p, &held);
        assert!(l.acquire().unwrap_err().is_owner_died());
        assert!(l.acquire().is_ok());
    });
}

/// A guard forgotten (safe code may `mem::forget` anything) leaves its
/// mutex on the thread's robust list, where the C library and the kernel
/// follow its links. Dropping the lock's last handle must then not unmap
/// that memory: locking and releasing other locks, and the thread's exit,
/// still walk through it.
#[test]
fn a_forgotten_guard_survives_dropping_its_lock() {
    within(|| {
        std::thread::spawn(|| {
            let others: Vec<Lock> = (0..4).map(|_| Lock::new().unwrap()).collect();
            let held: Vec<_> = others.iter().map(|l| l.acquire().unwrap()).collect();
            let l = Lock::new().unwrap();
            std::mem::forget(l.acquire().unwrap());
            drop(l);
            // Releasing the locks taken before it unlinks them from the list
            // next to the forgotten one: a write into its memory.
            drop(held);
            for l in &others {
                drop(l.acquire().unwrap());
            }
            // New mappings must not land where it is (and be written).
            let fresh: Vec<Lock> = (0..16).map(|_| Lock::new().unwrap()).collect();
            for l in &fresh {
                drop(l.acquire().unwrap());
            }
        })
        .join()
        .unwrap();
    });
}

#[test]
fn lock_a_child_forked_by_hand_is_not_the_holder() {
    within(|| {
        let l = Lock::new().unwrap();
        let g = l.acquire().unwrap();
        // SAFETY: the child touches only the lock (atomics, a read of
        // /proc) and leaves with _exit, running no destructor of the test
        // harness; glibc's fork keeps malloc usable in the child.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // The child's thread copied the holder's memory, not its
            // identity: the lock is someone else's, and dropping the copied
            // guard must not release it.
            let code = match l.try_acquire() {
                Err(LockError::Timeout) => 0,
                Err(LockError::WouldDeadlock) => 1,
                _ => 2,
            };
            drop(g);
            // SAFETY: ends the child at once, as a forked child must.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child, writing one int.
        let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(reaped, pid);
        assert!(libc::WIFEXITED(status));
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "the child took itself for the holder"
        );
        // Still held by us: another thread finds it busy.
        let other = l.clone();
        let busy =
            std::thread::spawn(move || matches!(other.try_acquire(), Err(LockError::Timeout)));
        assert!(
            busy.join().unwrap(),
            "the child's copied guard released the lock"
        );
        drop(g);
    });
}
