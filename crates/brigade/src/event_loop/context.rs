//! Which event loop runs on this thread right now.
//!
//! A loop installs itself in a thread-local while it runs. Wakers use it to
//! tell a local wake-up (push onto the run queue directly) from a foreign one
//! (go through the loop's thread-safe remote queue); `spawn`, `sleep` and the
//! other free functions use it to find their loop.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use super::scheduler::{Core, Shared};

thread_local! {
    /// The current loop: a pointer to the `Rc` that its [`Enter`] guard
    /// keeps in a box, or null. A plain pointer rather than a
    /// `RefCell<Option<Rc<Core>>>`: every `sleep`, `spawn` and local wake
    /// asks for the loop, and a `Cell` of a pointer has no destructor, so
    /// the thread-local is one load, with no borrow flag to set and no
    /// registration state to check.
    static CURRENT: Cell<*const Rc<Core>> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with the current loop, if any.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(Option<&Rc<Core>>) -> R) -> R {
    let current = CURRENT.with(Cell::get);
    // SAFETY: a non-null pointer was set by `enter` and points into the box
    // of a live `Enter` guard: the guard puts the previous value back before
    // it frees the box, and guards are dropped in the reverse order of
    // their creation (each is a local of the `block_on` frame that made
    // it), so the pointer is cleared or restored before the box goes. The
    // reference does not outlive `f`, and `f` cannot drop that guard: it
    // lives in a frame below this call on the same thread.
    f(unsafe { current.as_ref() })
}

/// The current loop; panics with `what` in the message outside of one.
pub(crate) fn expect(what: &str) -> Rc<Core> {
    with(|core| core.cloned()).unwrap_or_else(|| {
        panic!(
            "{what} must be called from a task on a brigade event loop \
             (inside brigade::run, Runtime::block_on, #[brigade::main] or #[brigade::test])"
        )
    })
}

/// `Some(true)` if the loop owning `shared` runs on this thread right now,
/// `Some(false)` if another loop does, `None` outside of any loop.
pub(crate) fn is_current(shared: &Arc<Shared>) -> Option<bool> {
    with(|core| core.map(|core| Arc::ptr_eq(&core.shared, shared)))
}

/// Installs a loop as the current one until the guard drops.
pub(crate) struct Enter {
    /// The loop, boxed so that the thread-local's pointer to it stays
    /// valid however the guard moves (the box is the `Rc`'s fixed address,
    /// which is what `with` lends out; it is not a second owner).
    #[allow(clippy::redundant_allocation)]
    core: Box<Rc<Core>>,
    previous: *const Rc<Core>,
}

/// Makes `core` current. With `nested = false` this fails if another loop is
/// already current, which is how `run` inside `run` is refused.
pub(crate) fn enter(core: Rc<Core>, nested: bool) -> Option<Enter> {
    let previous = CURRENT.with(Cell::get);
    if !previous.is_null() && !nested {
        return None;
    }
    let core = Box::new(core);
    CURRENT.with(|current| current.set(&*core));
    Some(Enter { core, previous })
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|current| {
            debug_assert!(
                std::ptr::eq(current.get(), &*self.core),
                "loop guards are dropped in reverse order"
            );
            current.set(self.previous);
        });
    }
}

/// Whether this thread is running a brigade event loop right now.
pub(crate) fn on_loop() -> bool {
    with(|core| core.is_some())
}

/// Panics if this thread runs an event loop: `call` would put the thread to
/// sleep, and with it every task of the loop (for good, if what it waits for
/// needs the loop). `instead` names the async form to use. Blocking calls
/// check this before they sleep, so that the mistake is a clear panic at the
/// call site rather than a silent deadlock.
#[track_caller]
pub(crate) fn assert_not_on_loop(call: &str, instead: &str) {
    if on_loop() {
        panic!(
            "brigade: `{call}` called on an event loop's thread would block every task \
             of the loop (and deadlock if what it waits for needs the loop); use `{instead}`"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::{enter, with};

    fn current_id() -> Option<u64> {
        with(|core| core.map(|core| core.shared.id))
    }

    /// Guards nest: an inner loop is current while its guard lives, and
    /// dropping the guard brings back the outer one, then none; a second
    /// loop is refused unless nesting is asked for. A guard moved after it
    /// was made (returned, stored) still lends a valid loop.
    #[test]
    fn guards_nest_and_restore_the_loop_before_them() {
        let outer = crate::Runtime::new().unwrap();
        let inner = crate::Runtime::new().unwrap();
        let (outer_id, inner_id) = (outer.core.shared.id, inner.core.shared.id);
        assert_eq!(current_id(), None);
        let guards = vec![enter(outer.core.clone(), false).unwrap()];
        assert_eq!(current_id(), Some(outer_id));
        assert!(enter(inner.core.clone(), false).is_none());
        {
            let _inner = enter(inner.core.clone(), true).unwrap();
            assert_eq!(current_id(), Some(inner_id));
            assert!(with(|core| core.is_some_and(|c| Rc::ptr_eq(c, &inner.core))));
        }
        assert_eq!(current_id(), Some(outer_id));
        drop(guards);
        assert_eq!(current_id(), None);
    }
}
