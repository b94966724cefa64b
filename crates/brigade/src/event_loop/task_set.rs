//! The loop's registry of live tasks: a slab of task references, one word
//! per slot.
//!
//! The general slab (`crate::slab`) keeps an enum per slot, a value or the
//! index of the next free slot, and its tag doubles a pointer's slot to 16
//! bytes. Every live task has a slot here, so a million tasks would pay
//! 8 MB for tags. Instead a slot is one word: either a task's address,
//! whose low bit is clear because a task is aligned to 8 bytes, or a link
//! in the free list, `(next << 1) | 1`. The free list is the classic one of
//! a slab allocator (Bonwick's, and the `slab` crate's): the most recently
//! freed slot is reused first, and keys stay stable while a task lives.

use std::ptr::NonNull;

use super::task::{Header, TaskRef};

/// Every live task's registry reference, by the slot in its header.
pub(crate) struct TaskSet {
    slots: Vec<Slot>,
    /// The first free slot; `slots.len()` when none is free.
    next_free: usize,
    len: usize,
}

/// A task's address (the registry's counted reference) or a free link.
#[repr(transparent)]
struct Slot(*mut Header);

/// Set in a free link; clear in every task's address.
const FREE: usize = 1;

impl Slot {
    #[inline]
    fn free(next: usize) -> Slot {
        Slot(std::ptr::without_provenance_mut((next << 1) | FREE))
    }

    #[inline]
    fn is_free(&self) -> bool {
        self.0.addr() & FREE != 0
    }

    #[inline]
    fn next_free(&self) -> usize {
        debug_assert!(self.is_free());
        self.0.addr() >> 1
    }

    #[inline]
    fn task(&self) -> Option<&TaskRef> {
        if self.is_free() {
            return None;
        }
        // SAFETY: a slot that is not a free link holds the address of a
        // task whose registry reference this set owns (`insert`), so it is
        // non-null and alive; `TaskRef` is a transparent wrapper of that
        // same pointer, so a `&Slot` may be read as a `&TaskRef`, which
        // lives no longer than the borrow of the set.
        Some(unsafe { &*(self as *const Slot).cast::<TaskRef>() })
    }
}

impl TaskSet {
    pub(crate) const fn new() -> TaskSet {
        TaskSet {
            slots: Vec::new(),
            next_free: 0,
            len: 0,
        }
    }

    /// Number of tasks held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The slot the next `insert` will use.
    pub(crate) fn vacant_key(&self) -> usize {
        self.next_free
    }

    /// Keeps `task` (a reference the set now owns); returns its slot.
    #[inline]
    pub(crate) fn insert(&mut self, task: TaskRef) -> usize {
        let key = self.next_free;
        let slot = Slot(task.into_raw().as_ptr());
        if key == self.slots.len() {
            self.slots.push(slot);
            self.next_free = key + 1;
        } else {
            self.next_free = self.slots[key].next_free();
            self.slots[key] = slot;
        }
        self.len += 1;
        key
    }

    /// Gives back the reference in slot `key`, if one is there.
    #[inline]
    pub(crate) fn remove(&mut self, key: usize) -> Option<TaskRef> {
        let slot = self.slots.get_mut(key)?;
        if slot.is_free() {
            return None;
        }
        let ptr = std::mem::replace(slot, Slot::free(self.next_free)).0;
        self.next_free = key;
        self.len -= 1;
        // SAFETY: the slot held a task's address with the reference the set
        // owned; the slot is now a free link, so the reference is handed
        // back exactly once. The address is not null (its slot was not a
        // free link, and `insert` stored a `NonNull`).
        Some(unsafe { TaskRef::from_raw(NonNull::new_unchecked(ptr)) })
    }

    /// The task in slot `key`, if any.
    #[inline]
    pub(crate) fn get(&self, key: usize) -> Option<&TaskRef> {
        self.slots.get(key)?.task()
    }

    /// The tasks, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &TaskRef> {
        self.slots.iter().filter_map(Slot::task)
    }

    /// Removes and returns every task's reference.
    pub(crate) fn drain(&mut self) -> Vec<TaskRef> {
        let mut tasks = Vec::with_capacity(self.len);
        for key in 0..self.slots.len() {
            tasks.extend(self.remove(key));
        }
        self.slots = Vec::new();
        self.next_free = 0;
        tasks
    }
}

impl Drop for TaskSet {
    fn drop(&mut self) {
        drop(self.drain());
    }
}

#[cfg(test)]
mod tests {
    use crate::event_loop::all_tasks;

    fn names() -> Vec<String> {
        let mut names: Vec<_> = all_tasks()
            .iter()
            .filter_map(|t| t.name().map(String::from))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn freed_slots_are_reused_and_every_live_task_is_listed() {
        crate::run(async {
            let spawn = |name: &str| crate::spawn_named(name, std::future::pending::<()>());
            let (a, b, c) = (spawn("a"), spawn("b"), spawn("c"));
            crate::yield_now().await;
            b.abort();
            a.abort();
            crate::yield_now().await;
            assert_eq!(names(), ["c"]);
            // The two freed slots are taken again, then a new one.
            let (d, e, f) = (spawn("d"), spawn("e"), spawn("f"));
            assert_eq!(names(), ["c", "d", "e", "f"]);
            for task in [c, d, e, f] {
                task.abort();
            }
            crate::yield_now().await;
            assert!(names().is_empty());
        });
    }

    #[test]
    fn a_loop_dropped_with_live_tasks_releases_them() {
        let rt = crate::event_loop::Runtime::new().unwrap();
        let dropped = std::rc::Rc::new(std::cell::Cell::new(0));
        rt.block_on(async {
            for _ in 0..100 {
                let guard = Guard(dropped.clone());
                crate::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
            }
            crate::yield_now().await;
        });
        drop(rt);
        assert_eq!(dropped.get(), 100);
    }

    struct Guard(std::rc::Rc<std::cell::Cell<usize>>);

    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
}
