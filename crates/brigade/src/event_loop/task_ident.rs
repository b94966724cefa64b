//! A task's id and name in one word.
//!
//! Every task has an id; few have a name. Keeping an `Option<Box<str>>`
//! beside the id would make every task pay a word for the few, and a
//! million tiny tasks pay it a million times (the `spawn` benchmark's peak
//! memory). So the word holds either the id itself, shifted left and
//! tagged with a set low bit, or a pointer to a boxed id and name, whose
//! low bit is clear because the box is aligned to 8 bytes. This is the
//! tagged-pointer trick of many runtimes (V8's small integers, OCaml's
//! immediate values), applied to one field.

use std::ptr::NonNull;

use super::task::TaskId;

/// The id and name of a named task, boxed so that the word can point to it.
struct Named {
    id: TaskId,
    /// `None` only for an unnamed task whose id did not fit the word.
    name: Option<Box<str>>,
}

/// A task's id, and its name if it has one, in one pointer-sized word.
pub(crate) struct TaskIdent(NonNull<Named>);

/// Set in an unnamed task's word; clear in every pointer to a `Named`.
const TAG: usize = 1;

impl TaskIdent {
    #[inline]
    pub(crate) fn new(id: TaskId, name: Option<Box<str>>) -> TaskIdent {
        // Ids come from a 64-bit counter that would take centuries to pass
        // 2^63; one that did still works, boxed like a named task's.
        let fits = id.0 <= (usize::MAX >> 1) as u64;
        match name {
            None if fits => {
                let word = ((id.0 as usize) << 1) | TAG;
                // Never dereferenced: the tag says it is not a pointer.
                let word = NonNull::new(std::ptr::without_provenance_mut(word));
                TaskIdent(word.expect("an odd word is never null"))
            }
            name => TaskIdent(NonNull::from(Box::leak(Box::new(Named { id, name })))),
        }
    }

    #[inline]
    fn named(&self) -> Option<&Named> {
        if self.0.as_ptr().addr() & TAG != 0 {
            return None;
        }
        // SAFETY: a clear tag bit means the word came from `Box::leak` in
        // `new`, and the box lives until `drop`.
        Some(unsafe { self.0.as_ref() })
    }

    #[inline]
    pub(crate) fn id(&self) -> TaskId {
        match self.named() {
            Some(named) => named.id,
            None => TaskId((self.0.as_ptr().addr() >> 1) as u64),
        }
    }

    #[inline]
    pub(crate) fn name(&self) -> Option<&str> {
        self.named()?.name.as_deref()
    }
}

impl Drop for TaskIdent {
    fn drop(&mut self) {
        if self.named().is_some() {
            // SAFETY: the pointer came from `Box::leak` in `new` and is
            // released only here, once.
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        }
    }
}

// SAFETY: the word is either a plain integer or an owned `Box<Named>`,
// and `Named` (an id and a `Box<str>`) is `Send` and `Sync`; nothing in it
// is ever mutated after `new`.
unsafe impl Send for TaskIdent {}
// SAFETY: as above: shared access only reads.
unsafe impl Sync for TaskIdent {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unnamed_task_keeps_its_id_in_the_word() {
        for id in [0, 1, 2, 12345, (usize::MAX >> 1) as u64] {
            let ident = TaskIdent::new(TaskId(id), None);
            assert_eq!((ident.id(), ident.name()), (TaskId(id), None));
            assert!(ident.named().is_none());
        }
    }

    #[test]
    fn a_named_task_points_to_its_id_and_name() {
        let ident = TaskIdent::new(TaskId(7), Some("fetch".into()));
        assert_eq!((ident.id(), ident.name()), (TaskId(7), Some("fetch")));
        let empty = TaskIdent::new(TaskId(8), Some("".into()));
        assert_eq!(empty.name(), Some(""));
    }

    #[test]
    fn an_id_past_the_word_is_boxed_and_still_unnamed() {
        let id = TaskId(u64::MAX);
        let ident = TaskIdent::new(id, None);
        assert_eq!((ident.id(), ident.name()), (id, None));
    }

    #[test]
    fn the_ident_is_one_word() {
        assert_eq!(std::mem::size_of::<TaskIdent>(), 8);
    }
}
