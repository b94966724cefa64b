//! What a timer of the loop's wheel wakes when it fires: one of the loop's
//! own tasks, named by address, or any other waker.
//!
//! Nearly every timer is set by a task of the loop that owns the wheel
//! (`sleep` awaited in a spawned task). Keeping that task's `Waker` in the
//! wheel would cost two atomic operations per timer: a reference taken when
//! the timer is set, released when it fires. A timer lives and dies on the
//! loop's thread, though, as does the loop's registry, which holds a
//! reference to every unfinished task. So the wheel names such a task by its
//! address and *pins* it: an owner-only count in the task's header. A task
//! that finishes while pinned parks the registry's reference instead of
//! dropping it, and the last pin to go releases it (`task.rs`, "Two run
//! queues, one without atomics"). Anything else (a waker of another loop's
//! task, of another executor, of a `TimerHandle`'s callback) is kept as a
//! `Waker`, as is a task whose pin count is full.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Waker;

use super::scheduler::Core;
use super::task::{Header, TaskRef};

/// What a timer wakes.
pub(crate) enum Alarm {
    /// A task of the loop that owns the wheel.
    Task(Pinned),
    /// Anything else.
    Waker(Waker),
}

impl Alarm {
    /// The alarm for a timer set on `core` by a future polled with `waker`.
    pub(crate) fn new(core: &Core, waker: &Waker) -> Alarm {
        match TaskRef::of_waker(waker) {
            Some(task) if core.owns(&task) => match Pinned::new(&task) {
                Some(pinned) => Alarm::Task(pinned),
                None => Alarm::Waker(waker.clone()),
            },
            _ => Alarm::Waker(waker.clone()),
        }
    }

    /// Whether it wakes what `waker` wakes, so that a timer polled again
    /// by the same task keeps its alarm.
    pub(crate) fn will_wake(&self, waker: &Waker) -> bool {
        match self {
            Alarm::Task(pinned) => {
                TaskRef::of_waker(waker).is_some_and(|task| task.as_ptr() == pinned.0)
            }
            Alarm::Waker(w) => w.will_wake(waker),
        }
    }
}

/// One of the loop's tasks, named by address without a reference: while
/// it lives, the task's memory stays (see the module docs). Made, woken and
/// dropped on the loop's thread only (it is neither `Send` nor `Sync`, and
/// lives in the loop's wheel).
pub(crate) struct Pinned(NonNull<Header>);

impl Pinned {
    /// Pins `task`; `None` if its pin count is full.
    fn new(task: &TaskRef) -> Option<Pinned> {
        let pins = &task.header().pins;
        let count = pins.get().checked_add(1)?;
        pins.set(count);
        Some(Pinned(task.as_ptr()))
    }

    /// The task, borrowed (its reference is not this pin's to drop).
    pub(crate) fn task(&self) -> ManuallyDrop<TaskRef> {
        // SAFETY: a pinned task is alive (module docs); the `ManuallyDrop`
        // keeps the borrowed reference from being released.
        ManuallyDrop::new(unsafe { TaskRef::from_raw(self.0) })
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: the task is alive while this pin exists, which is now.
        let pins = unsafe { &self.0.as_ref().pins };
        pins.set(pins.get() - 1);
        // SAFETY: pinned until now.
        unsafe { TaskRef::unparked(self.0) };
    }
}
