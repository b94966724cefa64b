//! Which event loop runs on this thread right now.
//!
//! A loop installs itself in a thread-local while it runs. Wakers use it to
//! tell a local wake-up (push onto the run queue directly) from a foreign one
//! (go through the loop's thread-safe remote queue); `spawn`, `sleep` and the
//! other free functions use it to find their loop.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::scheduler::{Core, Shared};

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Runs `f` with the current loop, if any.
pub(crate) fn with<R>(f: impl FnOnce(Option<&Rc<Core>>) -> R) -> R {
    // During thread-local teardown there is no loop any more: a waker fired
    // from a destructor then takes the foreign path instead of aborting.
    let mut f = Some(f);
    let out =
        CURRENT.try_with(|current| (f.take().expect("called once"))(current.borrow().as_ref()));
    match out {
        Ok(out) => out,
        Err(_) => (f.take().expect("not called yet"))(None),
    }
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

/// Installs `core` as the current loop until the guard drops.
pub(crate) struct Enter {
    previous: Option<Rc<Core>>,
}

/// Makes `core` current. With `nested = false` this fails if another loop is
/// already current, which is how `run` inside `run` is refused.
pub(crate) fn enter(core: Rc<Core>, nested: bool) -> Option<Enter> {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        if current.is_some() && !nested {
            return None;
        }
        let previous = current.replace(core);
        Some(Enter { previous })
    })
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let leaving =
            CURRENT.with(|current| std::mem::replace(&mut *current.borrow_mut(), previous));
        drop(leaving);
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
