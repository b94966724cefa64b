//! The cell through which a [`Thread`](super::Thread) hands its outcome to
//! whoever joins it: blocking, with a time limit, or awaiting on a loop.
//!
//! It is a [`oneshot`](crate::sync::oneshot) channel trimmed to this use:
//! the finishing thread fills it from its last thread-local destructor
//! (see `exit.rs`), notifies the condition variable only when a joiner is
//! asleep on it, and wakes a task only if one registered.

use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::loom::sync::{Arc, Condvar, Mutex, MutexGuard};

struct Slot<T> {
    value: Option<T>,
    done: bool,
    waker: Option<Waker>,
    sleepers: usize,
    /// Virtual clocks held still until the outcome arrives.
    holds: Vec<crate::event_loop::Inhibit>,
}

pub(crate) struct Completion<T> {
    slot: Mutex<Slot<T>>,
    done: Condvar,
}

impl<T> Completion<T> {
    pub(crate) fn new() -> Arc<Completion<T>> {
        Arc::new(Completion {
            slot: Mutex::new(Slot {
                value: None,
                done: false,
                waker: None,
                sleepers: 0,
                holds: Vec::new(),
            }),
            done: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        // Critical sections move one value or flip one flag.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `hold` (a virtual clock held still) until the outcome arrives:
    /// time must not jump while the thread still works, and must be free
    /// to move as soon as it is done, whether or not anyone awaits it yet.
    pub(crate) fn hold_until_done(&self, hold: crate::event_loop::Inhibit) {
        let mut slot = self.lock();
        if !slot.done {
            slot.holds.push(hold);
        }
    }

    /// Marks the cell done, with the outcome or (when the thread ended
    /// without one) without, and wakes whoever waits for it.
    pub(crate) fn finish(&self, value: Option<T>) {
        let mut slot = self.lock();
        slot.value = value;
        slot.done = true;
        let waker = slot.waker.take();
        let sleepers = slot.sleepers > 0;
        let holds = std::mem::take(&mut slot.holds);
        drop(slot);
        if sleepers {
            self.done.notify_all();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
        // Released last: a virtual loop that sees the clock free must also
        // see the joiner woken, or, finding nothing to run, it would let
        // time jump past the work it was waiting for.
        drop(holds);
    }

    /// Takes the outcome if it is there; `Err(())` if it is not yet.
    pub(crate) fn try_take(&self) -> Result<Option<T>, ()> {
        let mut slot = self.lock();
        if slot.done {
            Ok(slot.value.take())
        } else {
            Err(())
        }
    }

    /// Waits at most `timeout` for the outcome; `Err(())` on time-out.
    pub(crate) fn take_timeout(&self, timeout: Duration) -> Result<Option<T>, ()> {
        let deadline = Instant::now().checked_add(timeout);
        let mut slot = self.lock();
        slot.sleepers += 1;
        while !slot.done {
            let now = Instant::now();
            match deadline {
                Some(deadline) if now >= deadline => break,
                Some(deadline) => {
                    slot = self
                        .done
                        .wait_timeout(slot, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                None => slot = self.done.wait(slot).unwrap_or_else(|e| e.into_inner()),
            }
        }
        slot.sleepers -= 1;
        if slot.done {
            Ok(slot.value.take())
        } else {
            Err(())
        }
    }

    /// The outcome if it is there, or registers the task to be woken.
    pub(crate) fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.lock();
        if slot.done {
            return Poll::Ready(slot.value.take());
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    #[test]
    fn a_timed_joiner_never_misses_the_completion() {
        loom::model(|| {
            let cell = Completion::new();
            let t = {
                let cell = cell.clone();
                loom::thread::spawn(move || cell.finish(Some(5)))
            };
            // Loom treats timed waits as waits that may also time out.
            let got = loop {
                if let Ok(v) = cell.take_timeout(Duration::from_secs(1)) {
                    break v;
                }
            };
            assert_eq!(got, Some(5));
            t.join().unwrap();
        });
    }
}
