//! The state both async mutexes keep: whether the lock is held, and the
//! FIFO of tasks waiting for it (`waiters.rs`), with the rules that make
//! the lock fair and cancellation-safe. [`Mutex`](super::Mutex) keeps it
//! behind a thread lock, [`LocalMutex`](super::LocalMutex) in a `RefCell`;
//! the rules live here once, so that the two cannot drift apart.
//!
//! - **Direct hand-off.** Releasing the lock does not just clear the flag:
//!   it gives the lock to the first waiter and marks that waiter's node, so
//!   a task that arrives later can never barge in first. A free lock
//!   therefore means nobody waits, and taking it at once is fair.
//! - **Cancellation.** A waiter that gives up its place after the lock was
//!   handed to it, but before it ran, passes the lock on.
//!
//! Each operation returns the waker to wake, if any, so that the caller
//! wakes it after letting go of the state (a waker may run code that
//! touches the lock).

use std::task::Waker;

use super::waiters::WaitList;

/// A lock flag and its FIFO of waiters; see the module docs.
pub(super) struct LockState {
    locked: bool,
    /// `true` in a node once the lock has been handed to that waiter.
    waiters: WaitList<bool>,
}

impl LockState {
    pub(super) fn new() -> LockState {
        LockState {
            locked: false,
            waiters: WaitList::new(),
        }
    }

    /// Whether the lock is held (by a guard, or handed to a waiter that has
    /// not run yet).
    pub(super) fn is_locked(&self) -> bool {
        self.locked
    }

    /// Takes the lock if it is free.
    pub(super) fn try_take(&mut self) -> bool {
        if self.locked {
            return false;
        }
        self.locked = true;
        true
    }

    /// One poll of a lock future whose place in the queue is `key` (`None`
    /// before it queued, and again once it holds the lock): whether it now
    /// holds the lock. Otherwise it waits, to be woken with `waker`.
    pub(super) fn poll_take(&mut self, key: &mut Option<usize>, waker: &Waker) -> bool {
        match *key {
            None => {
                if self.try_take() {
                    return true;
                }
                *key = Some(self.waiters.push_back(false, waker));
                false
            }
            Some(place) => {
                if *self.waiters.value(place) {
                    self.waiters.remove(place);
                    *key = None;
                    return true;
                }
                self.waiters.register(place, waker);
                false
            }
        }
    }

    /// A lock future dropped while queued at `key` gives up its place, and
    /// passes on the lock if it had been handed to it.
    pub(super) fn give_up(&mut self, key: usize) -> Option<Waker> {
        let granted = self.waiters.remove(key);
        granted.then(|| self.hand_off()).flatten()
    }

    /// Releases the held lock: to the first waiter if there is one.
    pub(super) fn hand_off(&mut self) -> Option<Waker> {
        match self.waiters.pop_front() {
            Some(key) => {
                *self.waiters.value_mut(key) = true;
                self.waiters.take_waker(key)
            }
            None => {
                self.locked = false;
                None
            }
        }
    }
}
