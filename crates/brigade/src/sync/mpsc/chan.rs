//! The channel's shared state and its wake-up protocol, for both flavors.
//!
//! One mutex guards everything: the ring buffer (a `VecDeque` that a
//! bounded channel reserves once, so messages never allocate), the
//! receiver's waker, the FIFO of senders waiting for room, and the flags.
//! An uncontended send or receive is one uncontended lock, and a waker is
//! touched only when somebody actually waits:
//! - the receiver stores its waker only when it finds the buffer empty; a
//!   sender takes it (leaving `None`) when it adds a message, so the next
//!   sends do not wake anybody;
//! - a sender that finds the buffer full parks on a waiter
//!   list (`waiters.rs`) *with its message*; the receiver, after
//!   taking a message, moves the first parked message into the freed slot
//!   and wakes its sender. Messages keep their order, waiting senders are
//!   served FIFO, and a message is always in exactly one place, so a
//!   cancelled send can neither lose nor duplicate it.
//!
//! Capacity 0 is a rendezvous: a sender parks until the receiver takes its
//! message straight from the waiter list, or, if the receiver is already
//! waiting, drops it into the empty buffer and wakes it.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use super::{SendError, TryRecvError, TrySendError};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::sync::waiters::{WaitList, WakeList};

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    /// Live `Sender`s; the last one to go closes the sending side.
    senders: AtomicUsize,
}

struct State<T> {
    buffer: VecDeque<T>,
    capacity: Option<usize>,
    /// Set while the receiver waits for a message.
    rx_waker: Option<Waker>,
    /// The receiver closed the channel or is gone: sends fail.
    rx_closed: bool,
    /// Every sender is gone: once the buffer is drained, `recv` ends.
    tx_closed: bool,
    /// `Some(message)` while a sender waits; `None` once it was taken. A
    /// served sender still holding its message was refused by a close.
    senders: WaitList<Option<T>>,
}

impl<T> State<T> {
    fn has_space(&self) -> bool {
        match self.capacity {
            None => true,
            Some(0) => self.buffer.is_empty() && self.rx_waker.is_some(),
            Some(cap) => self.buffer.len() < cap,
        }
    }

    /// Appends `message` if it fits; returns the receiver's waker to wake.
    fn push(&mut self, message: T) -> Result<Option<Waker>, T> {
        if !self.has_space() {
            return Err(message);
        }
        self.buffer.push_back(message);
        Ok(self.rx_waker.take())
    }
}

impl<T> Chan<T> {
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        // A bounded buffer is reserved once, up to a sane limit.
        let reserve = capacity.map_or(16, |c| c.min(4096));
        Chan {
            state: Mutex::new(State {
                buffer: VecDeque::with_capacity(reserve),
                capacity,
                rx_waker: None,
                rx_closed: false,
                tx_closed: false,
                senders: WaitList::new(),
            }),
            senders: AtomicUsize::new(1),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        // Critical sections never run user code (messages are dropped after
        // unlocking), so a poisoned lock still guards a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn capacity(&self) -> Option<usize> {
        self.state().capacity
    }

    pub(super) fn len(&self) -> usize {
        self.state().buffer.len()
    }

    // ---- senders ----

    pub(super) fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut state = self.state();
            state.tx_closed = true;
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.state().rx_closed
    }

    pub(super) fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut state = self.state();
            if state.rx_closed {
                return Err(TrySendError::Closed(message));
            }
            // Parked senders imply a full buffer, so this cannot barge.
            state.push(message).map_err(TrySendError::Full)?
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// One poll of a send: `message` is `Some` until it left the future,
    /// `key` is the parked sender's node.
    pub(super) fn poll_send(
        &self,
        message: &mut Option<T>,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        let mut state = self.state();
        if let Some(k) = *key {
            if state.senders.is_linked(k) {
                state.senders.register(k, cx.waker());
                return Poll::Pending;
            }
            *key = None;
            return Poll::Ready(match state.senders.remove(k) {
                None => Ok(()),
                Some(refused) => Err(SendError(refused)),
            });
        }
        let msg = message.take().expect("Send polled after completion");
        if state.rx_closed {
            return Poll::Ready(Err(SendError(msg)));
        }
        match state.push(msg) {
            Ok(waker) => {
                drop(state);
                if let Some(w) = waker {
                    w.wake();
                }
                Poll::Ready(Ok(()))
            }
            Err(msg) => {
                // No receiver to wake: a waiting receiver means an empty
                // buffer, which always has room (see `has_space`). It will
                // find this message when it next takes one.
                *key = Some(state.senders.push_back(Some(msg), cx.waker()));
                Poll::Pending
            }
        }
    }

    /// A send future dropped while parked: its message, if still there,
    /// is dropped with it (after unlocking); the send did not happen.
    pub(super) fn cancel_send(&self, key: usize) {
        let unsent = self.state().senders.remove(key);
        drop(unsent);
    }

    // ---- the receiver ----

    /// Takes the next message and, if a sender is parked, moves its message
    /// into the freed slot (or, for a rendezvous, takes it directly). One
    /// message frees one slot, so at most one sender needs waking.
    fn take(state: &mut State<T>) -> Option<(T, Option<Waker>)> {
        if let Some(message) = state.buffer.pop_front() {
            let mut waker = None;
            // (A rendezvous buffer holds a message only for a receiver that
            // was waiting; parked senders stay parked until taken directly.)
            let room = state.buffer.len() < state.capacity.unwrap_or(usize::MAX);
            if let Some(key) = state.senders.front().filter(|_| room) {
                state.senders.unlink(key);
                if let Some(next) = state.senders.value_mut(key).take() {
                    state.buffer.push_back(next);
                }
                waker = state.senders.take_waker(key);
            }
            return Some((message, waker));
        }
        let key = state.senders.pop_front()?;
        let message = state.senders.value_mut(key).take()?;
        Some((message, state.senders.take_waker(key)))
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.state();
        if let Some((message, waker)) = Self::take(&mut state) {
            drop(state);
            if let Some(w) = waker {
                w.wake();
            }
            return Poll::Ready(Some(message));
        }
        if state.tx_closed || state.rx_closed {
            return Poll::Ready(None);
        }
        match &state.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.rx_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let (message, waker) = {
            let mut state = self.state();
            match Self::take(&mut state) {
                Some(taken) => taken,
                None if state.tx_closed || state.rx_closed => return Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(message)
    }

    /// Refuses further sends; parked senders get their message back.
    /// Buffered messages stay for the receiver.
    pub(super) fn close(&self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            Self::close_locked(&mut state, &mut wake);
        }
        wake.wake_all();
    }

    fn close_locked(state: &mut State<T>, wake: &mut WakeList) {
        state.rx_closed = true;
        state.rx_waker = None;
        while let Some(key) = state.senders.pop_front() {
            wake.push(state.senders.take_waker(key));
        }
    }

    /// The receiver is gone: close, and drop the buffer after unlocking.
    pub(super) fn drop_receiver(&self) {
        let mut wake = WakeList::new();
        let buffered = {
            let mut state = self.state();
            Self::close_locked(&mut state, &mut wake);
            std::mem::take(&mut state.buffer)
        };
        wake.wake_all();
        drop(buffered);
    }
}
