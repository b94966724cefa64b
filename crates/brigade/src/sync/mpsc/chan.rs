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
//!
//! A *reservation* (tokio's `Permit`) counts as an occupied slot without a
//! message yet: `reserved` is added to the buffer's length wherever room is
//! checked. Reservers park in the same FIFO as senders, so neither can
//! overtake the other, and whoever frees room (a receive, a permit dropped
//! unused, a rendezvous receiver starting to wait) serves the head of that
//! FIFO through [`State::dispatch`]. A reservation handed to a waiter that is
//! cancelled before it runs goes back the same way.

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

/// A parked sender or reserver.
pub(super) enum Waiter<T> {
    /// A send waiting for room, with its message.
    Send(T),
    /// A reserve waiting for a slot.
    Reserve,
    /// Served: the message went into the buffer, or the slot was reserved.
    /// A waiter unlinked while still `Send` or `Reserve` was refused by a
    /// close.
    Done,
}

struct State<T> {
    buffer: VecDeque<T>,
    capacity: Option<usize>,
    /// Slots promised to permits that have not sent yet.
    reserved: usize,
    /// Set while the receiver waits for a message.
    rx_waker: Option<Waker>,
    /// The receiver closed the channel or is gone: sends fail.
    rx_closed: bool,
    /// The receiver is gone: a permit's message has nowhere to go.
    rx_gone: bool,
    /// Every sender is gone: once the buffer is drained, `recv` ends.
    tx_closed: bool,
    /// Senders and reservers waiting for room, FIFO.
    senders: WaitList<Waiter<T>>,
    /// Tasks in `Sender::closed`, woken when the receiver closes.
    closed_waiters: WaitList<()>,
}

impl<T> State<T> {
    fn has_space(&self) -> bool {
        match self.capacity {
            None => true,
            Some(0) => self.buffer.is_empty() && self.reserved == 0 && self.rx_waker.is_some(),
            Some(cap) => self.buffer.len() + self.reserved < cap,
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

    /// Serves parked senders and reservers from the head while there is
    /// room: a message moves into the buffer, a reservation takes a slot.
    fn dispatch(&mut self, wake: &mut WakeList) {
        while self.has_space() {
            let Some(key) = self.senders.pop_front() else {
                break;
            };
            match std::mem::replace(self.senders.value_mut(key), Waiter::Done) {
                Waiter::Send(message) => {
                    self.buffer.push_back(message);
                    wake.push(self.rx_waker.take());
                }
                Waiter::Reserve => self.reserved += 1,
                Waiter::Done => {}
            }
            wake.push(self.senders.take_waker(key));
        }
    }

    /// Whether `recv` has nothing more to wait for.
    fn finished(&self) -> bool {
        (self.tx_closed || self.rx_closed) && self.reserved == 0
    }

    /// Takes the next message, then serves the room it freed. For a
    /// rendezvous whose slot nobody reserved, a parked sender at the head
    /// hands its message over directly.
    fn take(&mut self, wake: &mut WakeList) -> Option<T> {
        if let Some(message) = self.buffer.pop_front() {
            self.dispatch(wake);
            return Some(message);
        }
        if self.capacity != Some(0) || self.reserved > 0 {
            return None;
        }
        let key = self.senders.front()?;
        if !matches!(self.senders.value(key), Waiter::Send(_)) {
            return None;
        }
        self.senders.unlink(key);
        let Waiter::Send(message) = std::mem::replace(self.senders.value_mut(key), Waiter::Done)
        else {
            unreachable!("checked above");
        };
        wake.push(self.senders.take_waker(key));
        Some(message)
    }

    fn close(&mut self, wake: &mut WakeList) {
        self.rx_closed = true;
        self.rx_waker = None;
        while let Some(key) = self.senders.pop_front() {
            wake.push(self.senders.take_waker(key));
        }
        while let Some(key) = self.closed_waiters.pop_front() {
            wake.push(self.closed_waiters.take_waker(key));
        }
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
                reserved: 0,
                rx_waker: None,
                rx_closed: false,
                rx_gone: false,
                tx_closed: false,
                senders: WaitList::new(),
                closed_waiters: WaitList::new(),
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

    /// Slots neither holding a message nor reserved (`None`: unbounded).
    pub(super) fn free_slots(&self) -> Option<usize> {
        let state = self.state();
        let cap = state.capacity?;
        Some(cap.saturating_sub(state.buffer.len() + state.reserved))
    }

    pub(super) fn len(&self) -> usize {
        self.state().buffer.len()
    }

    // ---- senders ----

    pub(super) fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one more sender unless every sender is already gone (the
    /// upgrade of a weak sender).
    pub(super) fn try_add_sender(&self) -> bool {
        let mut n = self.senders.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return false;
            }
            match self
                .senders
                .compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => n = actual,
            }
        }
    }

    pub(super) fn sender_count(&self) -> usize {
        self.senders.load(Ordering::Relaxed)
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
                Waiter::Send(refused) => Err(SendError(refused)),
                Waiter::Reserve | Waiter::Done => Ok(()),
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
                // buffer, which has room unless it is all reserved, and
                // then a permit's send will wake it.
                *key = Some(state.senders.push_back(Waiter::Send(msg), cx.waker()));
                Poll::Pending
            }
        }
    }

    /// Takes a parked send's message back out of the channel: `None` if it
    /// was already accepted (the send happened).
    pub(super) fn withdraw_send(&self, key: usize) -> Option<T> {
        match self.state().senders.remove(key) {
            Waiter::Send(message) => Some(message),
            Waiter::Reserve | Waiter::Done => None,
        }
    }

    /// A send future dropped while parked: its message, if still there,
    /// is dropped with it (after unlocking); the send did not happen.
    pub(super) fn cancel_send(&self, key: usize) {
        let unsent = self.withdraw_send(key);
        drop(unsent);
    }

    // ---- reservations ----

    /// Reserves a slot if one is free and nobody waits before us.
    pub(super) fn try_reserve(&self) -> Result<(), TrySendError<()>> {
        let mut state = self.state();
        if state.rx_closed {
            return Err(TrySendError::Closed(()));
        }
        if !state.senders.is_empty() || !state.has_space() {
            return Err(TrySendError::Full(()));
        }
        state.reserved += 1;
        Ok(())
    }

    /// One poll of a reserve; `key` is the parked reserver's node.
    pub(super) fn poll_reserve(
        &self,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<()>>> {
        let mut state = self.state();
        if let Some(k) = *key {
            if state.senders.is_linked(k) {
                state.senders.register(k, cx.waker());
                return Poll::Pending;
            }
            *key = None;
            return Poll::Ready(match state.senders.remove(k) {
                Waiter::Done => Ok(()),
                Waiter::Send(_) | Waiter::Reserve => Err(SendError(())),
            });
        }
        if state.rx_closed {
            return Poll::Ready(Err(SendError(())));
        }
        if state.senders.is_empty() && state.has_space() {
            state.reserved += 1;
            return Poll::Ready(Ok(()));
        }
        *key = Some(state.senders.push_back(Waiter::Reserve, cx.waker()));
        Poll::Pending
    }

    /// A reserve future dropped while parked: a slot handed to it goes to
    /// the next waiter.
    pub(super) fn cancel_reserve(&self, key: usize) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            if let Waiter::Done = state.senders.remove(key) {
                state.reserved -= 1;
                state.dispatch(&mut wake);
            }
        }
        wake.wake_all();
    }

    /// A permit's message fills its slot. If the receiver is gone the
    /// message is returned, to be dropped after unlocking.
    pub(super) fn send_reserved(&self, message: T) -> Option<T> {
        let waker = {
            let mut state = self.state();
            state.reserved -= 1;
            if state.rx_gone {
                return Some(message);
            }
            state.buffer.push_back(message);
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        None
    }

    /// A permit dropped unused: its slot goes to the next waiter, and a
    /// closed channel's receiver may now be done.
    pub(super) fn release_reserved(&self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state();
            state.reserved -= 1;
            state.dispatch(&mut wake);
            if state.finished() {
                wake.push(state.rx_waker.take());
            }
        }
        wake.wake_all();
    }

    /// One poll of `Sender::closed`; `key` is the waiting node.
    pub(super) fn poll_closed(&self, key: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state();
        if let Some(k) = *key {
            if state.closed_waiters.is_linked(k) {
                state.closed_waiters.register(k, cx.waker());
                return Poll::Pending;
            }
            state.closed_waiters.remove(k);
            *key = None;
            return Poll::Ready(());
        }
        if state.rx_closed {
            return Poll::Ready(());
        }
        *key = Some(state.closed_waiters.push_back((), cx.waker()));
        Poll::Pending
    }

    pub(super) fn cancel_closed(&self, key: usize) {
        self.state().closed_waiters.remove(key);
    }

    // ---- the receiver ----

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = None;
        match self.poll_take(cx, 1, |message| slot = Some(message)) {
            Poll::Ready(_) => Poll::Ready(slot),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Takes up to `limit` messages into `out`, waiting while there is
    /// none; `0` once the channel is closed and drained.
    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.poll_take(cx, limit, |message| out.push(message))
    }

    /// Hands up to `limit` messages to `deliver` (under the lock: it must
    /// only store them), waiting while there is none. Ready with how many,
    /// `0` once the channel is closed and drained (or `limit` is 0).
    fn poll_take(
        &self,
        cx: &mut Context<'_>,
        limit: usize,
        mut deliver: impl FnMut(T),
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let mut wake = WakeList::new();
        let mut state = self.state();
        let mut got = 0;
        while got < limit {
            let Some(message) = state.take(&mut wake) else {
                break;
            };
            deliver(message);
            got += 1;
        }
        if got == 0 && !state.finished() {
            match &state.rx_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => state.rx_waker = Some(cx.waker().clone()),
            }
            // A rendezvous has room now that the receiver waits: a parked
            // reservation at the head may take it.
            state.dispatch(&mut wake);
        }
        let done = got > 0 || state.finished();
        drop(state);
        wake.wake_all();
        if done {
            Poll::Ready(got)
        } else {
            Poll::Pending
        }
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut wake = WakeList::new();
        let result = {
            let mut state = self.state();
            match state.take(&mut wake) {
                Some(message) => Ok(message),
                None if state.finished() => Err(TryRecvError::Closed),
                None => Err(TryRecvError::Empty),
            }
        };
        wake.wake_all();
        result
    }

    /// Refuses further sends and reservations; parked senders get their
    /// message back. Buffered messages stay for the receiver, and permits
    /// already granted may still send.
    pub(super) fn close(&self) {
        let mut wake = WakeList::new();
        self.state().close(&mut wake);
        wake.wake_all();
    }

    /// The receiver is gone: close, and drop the buffer after unlocking.
    pub(super) fn drop_receiver(&self) {
        let mut wake = WakeList::new();
        let buffered = {
            let mut state = self.state();
            state.close(&mut wake);
            state.rx_gone = true;
            std::mem::take(&mut state.buffer)
        };
        wake.wake_all();
        drop(buffered);
    }
}
