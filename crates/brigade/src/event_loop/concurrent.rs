//! A set of futures polled concurrently inside one task: the engine of
//! [`gather`](super::gather), [`race`](super::race),
//! [`as_completed`](super::as_completed) and task groups.
//!
//! Each member gets a waker of its own that records its index in a ready
//! list, so one wake-up polls one member: n members finishing one by one
//! cost O(n) polls in all, not O(n²).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Futures polled together; yields `(index, output)` as each finishes.
pub(crate) struct Concurrent<F: Future> {
    members: Vec<Option<Pin<Box<F>>>>,
    wakers: Vec<Waker>,
    ready: Arc<Ready>,
    pending: usize,
}

struct Ready {
    inner: Mutex<ReadyInner>,
}

struct ReadyInner {
    list: VecDeque<usize>,
    queued: Vec<bool>,
    parent: Option<Waker>,
}

struct MemberWaker {
    index: usize,
    ready: Arc<Ready>,
}

impl Wake for MemberWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut inner = self.ready.inner.lock().unwrap_or_else(|e| e.into_inner());
            if inner.queued[self.index] {
                return;
            }
            inner.queued[self.index] = true;
            inner.list.push_back(self.index);
            inner.parent.clone()
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl<F: Future> Concurrent<F> {
    pub(crate) fn new() -> Concurrent<F> {
        let inner = ReadyInner {
            list: VecDeque::new(),
            queued: Vec::new(),
            parent: None,
        };
        Concurrent {
            members: Vec::new(),
            wakers: Vec::new(),
            ready: Arc::new(Ready {
                inner: Mutex::new(inner),
            }),
            pending: 0,
        }
    }

    /// Adds a member; returns its index.
    pub(crate) fn push(&mut self, future: F) -> usize {
        let index = self.members.len();
        self.members.push(Some(Box::pin(future)));
        self.wakers.push(Waker::from(Arc::new(MemberWaker {
            index,
            ready: self.ready.clone(),
        })));
        let mut inner = self.ready.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.queued.push(true);
        inner.list.push_back(index);
        self.pending += 1;
        index
    }

    /// Members not finished yet.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Total members ever pushed.
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// Hands back the members that have not finished, with their indices,
    /// in the order they were pushed. Their wakers may still fire later;
    /// they then reach a list nobody reads, and wake nobody.
    pub(crate) fn into_pending(self) -> Vec<(usize, Pin<Box<F>>)> {
        let parent = {
            let mut inner = self.ready.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.parent.take()
        };
        drop(parent);
        self.members
            .into_iter()
            .enumerate()
            .filter_map(|(index, member)| member.map(|m| (index, m)))
            .collect()
    }

    /// Polls the members that were woken; returns the next one to finish.
    /// `Ready(None)` when no member is pending.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        loop {
            if self.pending == 0 {
                return Poll::Ready(None);
            }
            let next = {
                let mut inner = self.ready.inner.lock().unwrap_or_else(|e| e.into_inner());
                match inner.list.pop_front() {
                    Some(index) => {
                        inner.queued[index] = false;
                        Some(index)
                    }
                    None => {
                        match &inner.parent {
                            Some(w) if w.will_wake(cx.waker()) => {}
                            _ => inner.parent = Some(cx.waker().clone()),
                        }
                        None
                    }
                }
            };
            let Some(index) = next else {
                return Poll::Pending;
            };
            let Some(member) = self.members[index].as_mut() else {
                continue;
            };
            let mut member_cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(output) = member.as_mut().poll(&mut member_cx) {
                self.members[index] = None;
                self.pending -= 1;
                return Poll::Ready(Some((index, output)));
            }
        }
    }
}
