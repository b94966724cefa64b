//! The waiter list every primitive parks its futures on: a FIFO of wakers,
//! each node carrying what its waiter is owed (a lock, permits, an item).
//!
//! # The structure
//! An intrusive doubly linked list is the classic way to queue waiters
//! (tokio's `linked_list`, the Linux wait queue), but it needs pinned nodes
//! and unsafe pointer surgery. Here the nodes live in a [`Slab`] and link to
//! each other by index, so that every operation is O(1) and safe:
//! - `push_back` inserts a node at the tail and hands the waiter its key;
//! - `pop_front` *unlinks* the head, which is how a releaser picks the next
//!   waiter, but leaves its node in the slab;
//! - `remove` frees a node by key, wherever it is.
//!
//! # Who frees a node
//! Only the waiting future frees its node: when it completes, or in its
//! destructor when it is cancelled. A releaser merely unlinks the node and
//! writes the outcome into it (the lock is yours, here are your permits,
//! here is your item). So a key never dangles and is never reused while its
//! future lives, and a future dropped after being served finds out what it
//! was given and can pass it on. That is the whole of cancellation safety.
//!
//! # Locking
//! The list is not synchronized: each primitive keeps it inside its own
//! [`crate::loom::sync::Mutex`], next to the state it guards (the lock flag,
//! the permit count, the buffer), so that checking the state and parking are
//! one atomic step. Wakers are collected in a [`WakeList`] and woken only
//! after that mutex is released.
//!
//! Seen from the public API, the list is what makes waiting FIFO:
//!
//! ```
//! use std::sync::Arc;
//! use brigade::sync::Semaphore;
//!
//! brigade::run(async {
//!     let sem = Arc::new(Semaphore::new(0));
//!     let order = Arc::new(std::sync::Mutex::new(Vec::new()));
//!     let tasks: Vec<_> = (0..3)
//!         .map(|i| {
//!             let (sem, order) = (sem.clone(), order.clone());
//!             brigade::spawn(async move {
//!                 sem.acquire().await.unwrap().forget();
//!                 order.lock().unwrap().push(i);
//!             })
//!         })
//!         .collect();
//!     brigade::yield_now().await; // let all three park, in order
//!     sem.add_permits(3);
//!     for t in tasks {
//!         t.await.unwrap();
//!     }
//!     assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
//! });
//! ```

use std::task::Waker;

use crate::slab::Slab;

/// No neighbour.
const NIL: usize = usize::MAX;

/// A FIFO of parked waiters; see the module docs.
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: usize,
    tail: usize,
    /// Linked nodes only: those still waiting to be served.
    linked: usize,
}

struct Node<T> {
    prev: usize,
    next: usize,
    linked: bool,
    waker: Option<Waker>,
    value: T,
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            linked: 0,
        }
    }

    /// How many waiters are still waiting (linked).
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Queues a waiter at the tail and returns its key.
    pub(crate) fn push_back(&mut self, value: T, waker: &Waker) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: NIL,
            linked: true,
            waker: Some(waker.clone()),
            value,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.node_mut(tail).next = key,
        }
        self.tail = key;
        self.linked += 1;
        key
    }

    /// The key of the longest-waiting waiter.
    pub(crate) fn front(&self) -> Option<usize> {
        (self.head != NIL).then_some(self.head)
    }

    /// Unlinks the longest-waiting waiter and returns its key. Its node stays
    /// in place for the waiter to read what it was given and then remove.
    pub(crate) fn pop_front(&mut self) -> Option<usize> {
        let key = self.front()?;
        self.unlink(key);
        Some(key)
    }

    /// Takes `key` out of the FIFO (O(1)); a no-op if it is not in it.
    pub(crate) fn unlink(&mut self, key: usize) {
        let node = self.node_mut(key);
        if !node.linked {
            return;
        }
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        node.prev = NIL;
        node.next = NIL;
        match prev {
            NIL => self.head = next,
            prev => self.node_mut(prev).next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.node_mut(next).prev = prev,
        }
        self.linked -= 1;
    }

    /// Whether `key` still waits in the FIFO (it has not been served).
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.node(key).linked
    }

    pub(crate) fn value(&self, key: usize) -> &T {
        &self.node(key).value
    }

    pub(crate) fn value_mut(&mut self, key: usize) -> &mut T {
        &mut self.node_mut(key).value
    }

    /// Records the waker to use for `key`, cloning only if it changed.
    pub(crate) fn register(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.node_mut(key).waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Takes the waker of `key`, to wake it once the lock is released.
    pub(crate) fn take_waker(&mut self, key: usize) -> Option<Waker> {
        self.node_mut(key).waker.take()
    }

    /// Unlinks `key` if needed and frees its node, returning its value.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        self.unlink(key);
        match self.nodes.remove(key) {
            Some(node) => node.value,
            None => unreachable!("a waiter key is removed once, by its owner"),
        }
    }

    fn node(&self, key: usize) -> &Node<T> {
        match self.nodes.get(key) {
            Some(node) => node,
            None => unreachable!("a waiter key stays valid until its owner removes it"),
        }
    }

    fn node_mut(&mut self, key: usize) -> &mut Node<T> {
        match self.nodes.get_mut(key) {
            Some(node) => node,
            None => unreachable!("a waiter key stays valid until its owner removes it"),
        }
    }
}

/// Wakers collected under a lock, to be woken after it is released (a
/// waker may run arbitrary code, even take the same lock). Holding one
/// waker does not allocate.
#[derive(Default)]
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> WakeList {
        WakeList::default()
    }

    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    pub(crate) fn wake_all(self) {
        if let Some(w) = self.first {
            w.wake();
        }
        for w in self.rest {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WaitList;
    use std::task::Waker;

    fn drain_order(list: &mut WaitList<char>) -> Vec<char> {
        let mut out = Vec::new();
        while let Some(key) = list.pop_front() {
            out.push(list.remove(key));
        }
        out
    }

    #[test]
    fn pops_in_fifo_order_and_removes_from_the_middle() {
        let w = Waker::noop();
        let mut list = WaitList::new();
        let a = list.push_back('a', w);
        let b = list.push_back('b', w);
        let c = list.push_back('c', w);
        let d = list.push_back('d', w);
        assert_eq!(list.len(), 4);
        assert_eq!(list.remove(b), 'b');
        assert_eq!(list.remove(d), 'd');
        assert_eq!(list.front(), Some(a));
        let e = list.push_back('e', w);
        assert_eq!(list.len(), 3);
        let _ = (c, e);
        assert_eq!(drain_order(&mut list), ['a', 'c', 'e']);
        assert!(list.is_empty());
    }

    #[test]
    fn a_popped_node_stays_until_its_owner_removes_it() {
        let w = Waker::noop();
        let mut list = WaitList::new();
        let a = list.push_back(1, w);
        let b = list.push_back(2, w);
        assert_eq!(list.pop_front(), Some(a));
        assert!(!list.is_linked(a));
        assert!(list.is_linked(b));
        *list.value_mut(a) = 10;
        // The key is not reused while `a` still holds it.
        let c = list.push_back(3, w);
        assert_ne!(c, a);
        assert_eq!(list.remove(a), 10);
        assert_eq!(list.len(), 2);
        list.unlink(c);
        list.unlink(c);
        assert_eq!(list.len(), 1);
        assert_eq!(list.pop_front(), Some(b));
        assert_eq!(list.pop_front(), None);
        assert_eq!(list.remove(b), 2);
        assert_eq!(list.remove(c), 3);
    }

    #[test]
    fn unlinking_head_and_tail_keeps_the_links_consistent() {
        let w = Waker::noop();
        let mut list = WaitList::new();
        let keys: Vec<usize> = (0..5).map(|i| list.push_back(i, w)).collect();
        list.unlink(keys[0]);
        list.unlink(keys[4]);
        list.unlink(keys[2]);
        let mut out = Vec::new();
        while let Some(k) = list.pop_front() {
            out.push(*list.value(k));
        }
        assert_eq!(out, [1, 3]);
        let k = list.push_back(9, w);
        assert_eq!(list.front(), Some(k));
    }
}
