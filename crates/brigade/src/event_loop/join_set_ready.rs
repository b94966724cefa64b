//! The ready list of a [`JoinSet`](super::JoinSet) and the *member
//! wakers* that feed it: how a set learns which member finished without
//! scanning its members.
//!
//! Each member's task gets, as the waker of whoever awaits it, a member
//! waker holding the member's slab index and an `Rc` of the set's [`Ready`]
//! list. The loop wakes it once when the task finishes; waking appends the
//! index to the list (a FIFO) and wakes the task waiting in `join_next`.
//! So a finished member costs O(1) to find, and the only allocation per
//! member is its small member waker.
//!
//! The wakers are built by hand on a [`RawWakerVTable`] rather than from
//! `std::task::Wake`, because that trait needs `Arc` and `Send + Sync`: the
//! ready list is `Rc` and `RefCell`, which is sound because a member waker
//! never leaves its loop's thread (see `join_set.rs`).
//!
//! ```
//! brigade::run(async {
//!     let mut set = brigade::JoinSet::new();
//!     set.spawn(async { brigade::yield_now().await; "second" });
//!     set.spawn(async { "first" }); // finishes first, so it is ready first
//!     assert_eq!(set.join_next().await.unwrap().unwrap(), "first");
//!     assert_eq!(set.join_next().await.unwrap().unwrap(), "second");
//! });
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// Indices of finished members, and who waits for one.
pub(super) struct Ready {
    pub(super) list: RefCell<VecDeque<usize>>,
    pub(super) waiter: RefCell<Option<Waker>>,
}

impl Ready {
    pub(super) fn push(&self, index: usize) {
        self.list.borrow_mut().push_back(index);
        let waiter = self.waiter.borrow_mut().take();
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}
/// What a member waker points to: the member's index and the set's list.
struct MemberNode {
    index: usize,
    ready: Rc<Ready>,
}

/// A waker that appends `index` to `ready` when woken.
///
/// It is not thread-safe (`Rc`), and is only ever stored in the join-waker
/// slot of a member's task, which its own loop thread alone touches (module
/// docs); it never reaches user code, which could send it elsewhere.
pub(super) fn member_waker(index: usize, ready: &Rc<Ready>) -> Waker {
    let node = Box::new(MemberNode {
        index,
        ready: ready.clone(),
    });
    let raw = RawWaker::new(Box::into_raw(node) as *const (), &MEMBER_WAKER);
    // SAFETY: the vtable's functions treat the data pointer as the owned
    // `Box<MemberNode>` made here, and the waker never leaves the loop's
    // thread (see above), so the `Rc` inside is never shared across threads.
    unsafe { Waker::from_raw(raw) }
}

static MEMBER_WAKER: RawWakerVTable = RawWakerVTable::new(
    member_waker_clone,
    member_waker_wake,
    member_waker_wake_by_ref,
    member_waker_drop,
);

unsafe fn member_waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is the live `MemberNode` this waker owns.
    let node = unsafe { &*(data as *const MemberNode) };
    let clone = Box::new(MemberNode {
        index: node.index,
        ready: node.ready.clone(),
    });
    RawWaker::new(Box::into_raw(clone) as *const (), &MEMBER_WAKER)
}

unsafe fn member_waker_wake(data: *const ()) {
    // SAFETY: waking by value consumes the waker, so we take back the box it
    // owned; nothing uses `data` afterwards.
    let node = unsafe { Box::from_raw(data as *mut MemberNode) };
    node.ready.push(node.index);
}

unsafe fn member_waker_wake_by_ref(data: *const ()) {
    // SAFETY: `data` is the live `MemberNode` this waker owns.
    let node = unsafe { &*(data as *const MemberNode) };
    node.ready.push(node.index);
}

unsafe fn member_waker_drop(data: *const ()) {
    // SAFETY: dropping the waker releases the box it owned, once.
    drop(unsafe { Box::from_raw(data as *mut MemberNode) });
}
