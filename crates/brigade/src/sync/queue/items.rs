//! Where a queue keeps its items: the one thing its flavours differ in.
//!
//! - FIFO ([`Queue`](super::Queue)): a ring buffer (`VecDeque`), out from
//!   the front.
//! - LIFO ([`LifoQueue`](super::LifoQueue)): a stack (`Vec`), out from the
//!   top.
//! - Priority ([`PriorityQueue`](super::PriorityQueue)): a binary min-heap
//!   (J. W. J. Williams, "Algorithm 232: Heapsort", CACM 7(6), 1964), the
//!   structure of Python's `heapq`, out smallest first. The heap compares
//!   through a function pointer chosen where `T: Ord` is known, so the
//!   shared queue code needs no `Ord` bound.
//!
//! An enum rather than a trait keeps the futures ([`Put`](super::Put) and
//! the others) one type for all three queues; a `match` per operation is
//! the price.
//!
//! ```
//! use brigade::sync::PriorityQueue;
//!
//! let queue = PriorityQueue::unbounded();
//! for n in [5, 1, 4, 2, 3] {
//!     queue.try_put(n).unwrap();
//! }
//! let out: Vec<i32> = std::iter::from_fn(|| queue.try_get().ok()).collect();
//! assert_eq!(out, [1, 2, 3, 4, 5]);
//! ```

use std::collections::VecDeque;

/// A queue's storage; see the module docs.
pub(crate) enum Items<T> {
    Fifo(VecDeque<T>),
    Lifo(Vec<T>),
    Heap(Heap<T>),
}

impl<T> Items<T> {
    /// Room for `capacity` items up front, so that a bounded queue never
    /// allocates per item (within reason: a huge bound reserves 1024).
    fn reserve(capacity: Option<usize>) -> usize {
        capacity.unwrap_or(0).min(1024)
    }

    pub(crate) fn fifo(capacity: Option<usize>) -> Items<T> {
        Items::Fifo(VecDeque::with_capacity(Self::reserve(capacity)))
    }

    pub(crate) fn lifo(capacity: Option<usize>) -> Items<T> {
        Items::Lifo(Vec::with_capacity(Self::reserve(capacity)))
    }

    pub(crate) fn heap(capacity: Option<usize>) -> Items<T>
    where
        T: Ord,
    {
        Items::Heap(Heap {
            items: Vec::with_capacity(Self::reserve(capacity)),
            less: |a, b| a < b,
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Items::Fifo(ring) => ring.len(),
            Items::Lifo(stack) => stack.len(),
            Items::Heap(heap) => heap.items.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn push(&mut self, item: T) {
        match self {
            Items::Fifo(ring) => ring.push_back(item),
            Items::Lifo(stack) => stack.push(item),
            Items::Heap(heap) => heap.push(item),
        }
    }

    /// The next item out: the oldest, the newest, or the smallest.
    pub(crate) fn pop(&mut self) -> Option<T> {
        match self {
            Items::Fifo(ring) => ring.pop_front(),
            Items::Lifo(stack) => stack.pop(),
            Items::Heap(heap) => heap.pop(),
        }
    }

    /// Puts back an item that was popped but not delivered, so that it is
    /// the next out again (unless, in a heap, a smaller one came meanwhile).
    pub(crate) fn give_back(&mut self, item: T) {
        match self {
            Items::Fifo(ring) => ring.push_front(item),
            Items::Lifo(stack) => stack.push(item),
            Items::Heap(heap) => heap.push(item),
        }
    }
}

/// A binary min-heap in a `Vec`: the children of slot `i` are `2i + 1` and
/// `2i + 2`, and no item is smaller than its parent. Push and pop are
/// O(log n). Equal items come out in no promised order, as in `heapq`.
pub(crate) struct Heap<T> {
    items: Vec<T>,
    /// `a < b`, fixed when the heap is made (where `T: Ord` holds).
    less: fn(&T, &T) -> bool,
}

impl<T> Heap<T> {
    fn push(&mut self, item: T) {
        self.items.push(item);
        // Sift up: swap with the parent while smaller than it.
        let mut i = self.items.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if !(self.less)(&self.items[i], &self.items[parent]) {
                break;
            }
            self.items.swap(i, parent);
            i = parent;
        }
    }

    fn pop(&mut self) -> Option<T> {
        if self.items.is_empty() {
            return None;
        }
        let smallest = self.items.swap_remove(0);
        // Sift down: the former last item, now at the root, swaps with its
        // smaller child while that child is smaller than it.
        let len = self.items.len();
        let mut i = 0;
        loop {
            let (left, right) = (2 * i + 1, 2 * i + 2);
            let mut min = i;
            if left < len && (self.less)(&self.items[left], &self.items[min]) {
                min = left;
            }
            if right < len && (self.less)(&self.items[right], &self.items[min]) {
                min = right;
            }
            if min == i {
                break;
            }
            self.items.swap(i, min);
            i = min;
        }
        Some(smallest)
    }
}

#[cfg(test)]
mod tests {
    use super::Items;

    fn drain(items: &mut Items<u32>) -> Vec<u32> {
        std::iter::from_fn(|| items.pop()).collect()
    }

    #[test]
    fn each_flavour_pops_in_its_order() {
        let input = [5, 3, 9, 1, 7, 3, 0, 8];
        let mut fifo = Items::fifo(None);
        let mut lifo = Items::lifo(None);
        let mut heap = Items::heap(None);
        for n in input {
            fifo.push(n);
            lifo.push(n);
            heap.push(n);
        }
        assert_eq!(drain(&mut fifo), input);
        let mut reversed = input;
        reversed.reverse();
        assert_eq!(drain(&mut lifo), reversed);
        let mut sorted = input;
        sorted.sort();
        assert_eq!(drain(&mut heap), sorted);
    }

    #[test]
    fn the_heap_sorts_any_interleaving_of_pushes_and_pops() {
        // A small deterministic generator: no dependency, same run each time.
        let mut x: u32 = 12345;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % 1000
        };
        let mut heap = Items::heap(None);
        let mut model = Vec::new();
        for round in 0..2000 {
            if round % 3 == 2 {
                model.sort_unstable_by(|a: &u32, b| b.cmp(a));
                assert_eq!(heap.pop(), model.pop());
            } else {
                let n = next();
                heap.push(n);
                model.push(n);
            }
            assert_eq!(heap.len(), model.len());
        }
        model.sort_unstable();
        assert_eq!(drain(&mut heap), model);
    }

    #[test]
    fn a_given_back_item_is_next_out() {
        for mut items in [Items::fifo(None), Items::lifo(None), Items::heap(None)] {
            items.push(1);
            items.push(2);
            let first = items.pop().unwrap();
            items.give_back(first);
            assert_eq!(items.pop(), Some(first));
        }
    }
}
