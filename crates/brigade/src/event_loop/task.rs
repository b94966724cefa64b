//! The task: one heap allocation that holds a future, then its output, behind
//! a reference-counted state word.
//!
//! The layout follows the design popularised by `async-task`: a `#[repr(C)]`
//! header first (state, vtable, owner), then the stage: the future, then
//! its output, sharing one place (`task_stage.rs`). Type-erased code sees
//! only the header and reaches the typed parts through the vtable. Every
//! word of the header is paid once per task, so the id and the rare name
//! share one (`task_ident.rs`) and the owner-only flags share another.
//!
//! # Who touches what
//! A task belongs to one event loop, and its future is only ever polled or
//! dropped on that loop's thread, which is why futures need not be `Send`.
//! Other threads reach a task only through its [`Waker`]: they change the
//! reference count and the `SCHEDULED` bit, both atomics, and hand a
//! reference to the loop's remote queue. Everything in `Cell`s and
//! `UnsafeCell`s (the stage, the join waker, whether the task sits in the
//! loop's own run queue) is touched by the owner thread alone.
//!
//! # Two run queues, one without atomics
//! Nearly every wake-up happens on the owner thread: a timer fires, a lock
//! is handed over, a channel gets an item. Such a wake-up sets the
//! owner-only `local_queued` flag and pushes the task's pointer onto the
//! loop's run queue, with no atomic instruction (a waker woken by value
//! still releases its own reference): the entry holds no reference,
//! because the loop's registry already holds one for every task that has
//! not finished. The loop's timers name their tasks the same
//! way (`alarm.rs`), each counted in the task's owner-only `pins`. A task
//! that finishes while it still sits in that queue, or has timers set,
//! *parks* the registry's reference (`parked`) instead of dropping it; the
//! last of those to let go of the task releases it. Only a wake-up
//! from another thread pays for atomics: it sets `SCHEDULED` and sends a
//! counted reference through the remote queue, which the loop drains into
//! its own. A task may then be in both queues at once and be polled once
//! more than needed, which futures allow.
//!
//! # The state word
//! The low bits are flags; the rest is the reference count:
//! - `SCHEDULED`: a reference sits in the remote queue; waking again from
//!   another thread is a no-op;
//! - `COMPLETE`: the future is gone and the stage holds the output;
//! - `CANCELLED`: cancellation was requested; the loop drops the future the
//!   next time it pops the task.
//!
//! References are held by: the loop's registry of live tasks (until the
//! future is gone, and the loop's run queue no longer holds the task), the
//! `JoinHandle`, every `Waker`, and every remote queue entry. The last one
//! to go frees the allocation. By then the future has been dropped by its
//! loop (the registry's reference guarantees it), so freeing on a foreign
//! thread never drops a non-`Send` value there.
//!
//! The loop drains a remote entry with one atomic subtraction that both
//! clears `SCHEDULED` and releases the entry's reference; the registry's
//! reference keeps the task alive from there.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

use super::join::JoinError;
use super::scheduler::Shared;
use super::task_ident::TaskIdent;
use super::task_stage::{Phase, Stage, StageRef};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// A reference sits in the remote queue.
pub(crate) const SCHEDULED: usize = 1 << 0;
/// The future has finished or was dropped; the stage holds the output.
pub(crate) const COMPLETE: usize = 1 << 1;
/// Cancellation was requested.
pub(crate) const CANCELLED: usize = 1 << 2;
/// One reference in the count.
pub(crate) const REF_ONE: usize = 1 << 3;

/// A task's unique, never reused number within the process.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let task = brigade::spawn(async { brigade::event_loop::current_task().unwrap().id() });
///     let id: brigade::event_loop::TaskId = task.id();
///     assert_eq!(task.await.unwrap(), id);
///     println!("ran task {id}");
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) u64);

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The untyped part of every task, at the start of its allocation.
#[repr(C)]
pub(crate) struct Header {
    state: AtomicUsize,
    vtable: &'static Vtable,
    /// The owning loop's thread-safe half: where foreign wake-ups go.
    pub(crate) shared: Arc<Shared>,
    /// The id, and the name of a named task, in one word (`task_ident.rs`).
    pub(crate) ident: TaskIdent,
    /// Index in the owner's registry of live tasks (owner thread only). A
    /// `u32` shares a word with the four one-byte fields below: four
    /// billion live tasks would need hundreds of gigabytes before this
    /// could overflow.
    pub(crate) slot: Cell<u32>,
    /// Whether the task sits in its loop's own run queue (owner thread
    /// only; see "Two run queues" above).
    pub(crate) local_queued: Cell<bool>,
    /// How many of the loop's timers name the task without a reference
    /// (owner thread only; see `alarm.rs`).
    pub(crate) pins: Cell<u8>,
    /// What the stage holds (owner thread only; see `task_stage.rs`).
    phase: Cell<Phase>,
    /// `HAS_HANDLE` and `PARKED` (owner thread only).
    flags: Cell<u8>,
    /// Who awaits the output (owner thread only).
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

impl Header {
    #[inline]
    pub(crate) fn id(&self) -> TaskId {
        self.ident.id()
    }

    #[inline]
    pub(crate) fn name(&self) -> Option<&str> {
        self.ident.name()
    }

    /// Whether a `JoinHandle` still exists (owner thread only).
    #[inline]
    pub(crate) fn has_handle(&self) -> bool {
        self.flags.get() & HAS_HANDLE != 0
    }

    /// Records that the `JoinHandle` is gone (owner thread only).
    #[inline]
    pub(crate) fn handle_dropped(&self) {
        self.set_flag(HAS_HANDLE, false);
    }

    #[inline]
    pub(crate) fn is_parked(&self) -> bool {
        self.flags.get() & PARKED != 0
    }

    #[inline]
    fn set_flag(&self, flag: u8, on: bool) {
        let flags = self.flags.get();
        self.flags
            .set(if on { flags | flag } else { flags & !flag });
    }
}

struct Vtable {
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> bool,
    cancel: unsafe fn(NonNull<Header>),
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    drop_output: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
}

/// A `JoinHandle` still exists (a bit of `Header::flags`).
const HAS_HANDLE: u8 = 1 << 0;
/// The task finished while queued or pinned, and the registry's reference
/// waits for those to let go (a bit of `Header::flags`).
const PARKED: u8 = 1 << 1;

#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// One counted reference to a task. Dropping it releases the reference.
///
/// Transparent, so that the registry (`task_set.rs`) can lend the
/// addresses it keeps as `&TaskRef`s.
#[repr(transparent)]
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: a `TaskRef` crosses threads only to be scheduled or released:
// both operations use the atomic state word and the `Send + Sync` shared
// half of the loop. The non-thread-safe parts are reached only by the owner
// loop's thread (see the module docs), and the allocation is freed only
// after the owner dropped the future.
unsafe impl Send for TaskRef {}

impl TaskRef {
    /// Allocates a task holding `future` and returns its two first
    /// references: for the loop's registry and for the `JoinHandle`. The
    /// caller puts it in the run queue.
    pub(crate) fn new<F: Future + 'static>(
        future: F,
        shared: Arc<Shared>,
        id: TaskId,
        name: Option<Box<str>>,
    ) -> [TaskRef; 2] {
        let cell = Box::new(TaskCell {
            header: Header {
                state: AtomicUsize::new(2 * REF_ONE),
                vtable: vtable::<F>(),
                shared,
                ident: TaskIdent::new(id, name),
                slot: Cell::new(u32::MAX),
                local_queued: Cell::new(false),
                pins: Cell::new(0),
                phase: Cell::new(Phase::Running),
                flags: Cell::new(HAS_HANDLE),
                join_waker: UnsafeCell::new(None),
            },
            stage: UnsafeCell::new(Stage::new(future)),
        });
        let ptr: NonNull<Header> = NonNull::from(Box::leak(cell)).cast();
        // The state word counts exactly these two references.
        [TaskRef(ptr), TaskRef(ptr)]
    }

    /// Adopts one reference that the caller already counted.
    ///
    /// # Safety
    /// `ptr` points to a live task and the caller gives up one reference.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> TaskRef {
        TaskRef(ptr)
    }

    /// Takes one more reference.
    #[inline]
    pub(crate) fn clone_ref(&self) -> TaskRef {
        self.header().state.fetch_add(REF_ONE, Ordering::Relaxed);
        TaskRef(self.0)
    }

    /// The task a waker of this crate's tasks wakes, taking over the
    /// reference the waker owns; any other waker is handed back unchanged.
    /// The loop uses it to wake its own tasks from a fired timer without
    /// going through the waker's vtable (and the thread-local lookup behind
    /// it).
    #[inline]
    pub(crate) fn from_waker(waker: Waker) -> Result<TaskRef, Waker> {
        // A `static` has one address, so the vtable's identity is the test.
        if !std::ptr::eq(waker.vtable(), &WAKER_VTABLE) {
            return Err(waker);
        }
        let waker = std::mem::ManuallyDrop::new(waker);
        // SAFETY: every waker with this vtable was made by `waker_clone`
        // (or is a `ManuallyDropWaker`, which is never given away by value,
        // so it cannot reach here): its data is a live task's header and it
        // owns one reference. `ManuallyDrop` keeps the waker from releasing
        // that reference, which passes to the `TaskRef`.
        Ok(unsafe { TaskRef::from_raw(task_ptr(waker.data())) })
    }

    /// The task's address, as the loop's own run queue holds it (without a
    /// reference).
    #[inline]
    pub(crate) fn as_ptr(&self) -> NonNull<Header> {
        self.0
    }

    /// The task a waker of this crate's tasks wakes, borrowed from the
    /// waker (no reference is taken); `None` for any other waker.
    #[inline]
    pub(crate) fn of_waker(waker: &Waker) -> Option<std::mem::ManuallyDrop<TaskRef>> {
        if !std::ptr::eq(waker.vtable(), &WAKER_VTABLE) {
            return None;
        }
        // SAFETY: as in `from_waker`: the data is a live task's header, kept
        // alive by the waker while the borrow lasts, and the `ManuallyDrop`
        // keeps the borrowed reference from being released.
        Some(std::mem::ManuallyDrop::new(unsafe {
            TaskRef::from_raw(task_ptr(waker.data()))
        }))
    }

    #[inline]
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.0;
        std::mem::forget(self);
        ptr
    }

    #[inline]
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we hold a reference, so the allocation is alive.
        unsafe { self.0.as_ref() }
    }

    #[inline]
    pub(crate) fn state(&self) -> usize {
        self.header().state.load(Ordering::Acquire)
    }

    /// Sets `SCHEDULED` (and `extra`); returns whether the caller must now
    /// push a reference into the remote queue (it was neither queued there
    /// nor complete).
    #[inline]
    pub(crate) fn mark_scheduled(&self, extra: usize) -> bool {
        transition_schedule(&self.header().state, extra)
    }

    /// Takes the task off the remote queue as the loop drains it: clears
    /// `SCHEDULED` and releases the queue entry's reference in one atomic
    /// operation. Returns the state before, with the task still reachable
    /// through the registry's reference, or `None` if the task was complete
    /// (then the queue's reference is gone, and the task too if it was the
    /// last).
    ///
    /// A task that is not complete keeps the reference the loop's registry
    /// took at spawn: only the owner thread releases it, and only after it
    /// set `COMPLETE` (`Core::finish`, `Core::shutdown`). So the task
    /// outlives the returned handle until the owner completes it; the owner
    /// must not touch the handle after that.
    pub(crate) fn dequeue(self) -> Option<(usize, std::mem::ManuallyDrop<TaskRef>)> {
        let this = std::mem::ManuallyDrop::new(self);
        let header = this.header();
        let prev = transition_dequeue(&header.state);
        if prev & COMPLETE != 0 {
            if prev & !(REF_ONE - 1) == REF_ONE {
                // SAFETY: that was the last reference; nobody else can
                // reach the task, and its future was dropped by the owner.
                unsafe { (header.vtable.dealloc)(this.0) }
            }
            return None;
        }
        Some((prev, this))
    }

    /// Lets go of the registry's reference to a finished task, or parks it
    /// while the loop's run queue or timers still name the task without a
    /// reference of their own. Owner thread only.
    #[inline]
    pub(crate) fn release_registry_ref(self) {
        let header = self.header();
        if header.local_queued.get() || header.pins.get() > 0 {
            header.set_flag(PARKED, true);
            let _ = self.into_raw();
        }
    }

    /// Called on the owner thread when the run queue or a timer let go of
    /// the task at `ptr`: releases a parked reference once nothing else
    /// names the task.
    ///
    /// # Safety
    /// `ptr` is a task that was queued or pinned until now, so still alive.
    #[inline]
    pub(crate) unsafe fn unparked(ptr: NonNull<Header>) {
        // SAFETY: alive, by the caller's contract.
        let header = unsafe { ptr.as_ref() };
        if header.is_parked() && !header.local_queued.get() && header.pins.get() == 0 {
            header.set_flag(PARKED, false);
            // SAFETY: the parked reference is the one `release_registry_ref`
            // kept; it is released exactly once, here.
            drop(unsafe { TaskRef::from_raw(ptr) });
        }
    }

    /// Adds `flags` (`CANCELLED`) to the state word without queueing.
    #[inline]
    pub(crate) fn add_flags(&self, flags: usize) {
        self.header().state.fetch_or(flags, Ordering::AcqRel);
    }

    /// Polls the future on the owner thread. Returns true once it finished
    /// (with an output or a panic) and the stage holds the result.
    ///
    /// # Safety
    /// Owner thread only, task not complete.
    #[inline]
    pub(crate) unsafe fn poll(&self) -> bool {
        let waker = ManuallyDropWaker::new(self.0);
        let mut cx = Context::from_waker(&waker.0);
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.poll)(self.0, &mut cx) }
    }

    /// Drops the future and stores `Cancelled` (or the panic of its drop).
    ///
    /// # Safety
    /// Owner thread only, task not complete.
    #[inline]
    pub(crate) unsafe fn cancel(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.cancel)(self.0) }
    }

    /// Marks the task complete and wakes whoever awaits it. Drops the output
    /// at once if no handle is left to read it.
    ///
    /// # Safety
    /// Owner thread only; the stage holds the result.
    #[inline]
    pub(crate) unsafe fn complete(&self) {
        let header = self.header();
        header.state.fetch_or(COMPLETE, Ordering::AcqRel);
        if !header.has_handle() {
            // SAFETY: owner thread, stage is `Finished` (caller's contract).
            unsafe { (header.vtable.drop_output)(self.0) };
        }
        // SAFETY: owner thread only.
        let waker = unsafe { (*header.join_waker.get()).take() };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Moves the result into `dst`, a `*mut Option<Result<T, JoinError>>`.
    ///
    /// # Safety
    /// Owner thread only, task complete and output not taken yet, and `T`
    /// the future's output type.
    #[inline]
    pub(crate) unsafe fn take_output(&self, dst: *mut ()) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.take_output)(self.0, dst) }
    }

    /// Drops a stored output that nobody will read.
    ///
    /// # Safety
    /// Owner thread only.
    #[inline]
    pub(crate) unsafe fn drop_output(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.drop_output)(self.0) }
    }
}

impl Drop for TaskRef {
    #[inline]
    fn drop(&mut self) {
        let header = self.header();
        let prev = header.state.fetch_sub(REF_ONE, Ordering::AcqRel);
        if prev & !(REF_ONE - 1) == REF_ONE {
            // SAFETY: that was the last reference; nobody else can reach the
            // task, and its future was dropped by the owner (module docs).
            unsafe { (header.vtable.dealloc)(self.0) }
        }
    }
}

/// The scheduling transition on a bare state word, kept separate so that the
/// loom model can drive it from several threads.
#[inline]
pub(crate) fn transition_schedule(state: &AtomicUsize, extra: usize) -> bool {
    let prev = state.fetch_or(SCHEDULED | extra, Ordering::AcqRel);
    prev & (SCHEDULED | COMPLETE) == 0
}

/// The loop's pop of a queued task, on a bare state word (for the loom
/// model): a queued task has `SCHEDULED` set, so subtracting it clears the
/// bit without a borrow, and the same subtraction releases the queue
/// entry's reference.
#[inline]
pub(crate) fn transition_dequeue(state: &AtomicUsize) -> usize {
    let prev = state.fetch_sub(SCHEDULED | REF_ONE, Ordering::AcqRel);
    debug_assert!(prev & SCHEDULED != 0, "a queued task is marked SCHEDULED");
    debug_assert!(prev >= REF_ONE, "a queued task holds a reference");
    prev
}

fn vtable<F: Future + 'static>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F>,
        cancel: cancel::<F>,
        take_output: take_output::<F>,
        drop_output: drop_output::<F>,
        dealloc: dealloc::<F>,
    }
}

/// # Safety
/// `ptr` is a live `TaskCell<F>`, accessed by its owner thread only.
unsafe fn stage<'a, F: Future>(ptr: NonNull<Header>) -> StageRef<'a, F> {
    // SAFETY: the header is the first field of a `#[repr(C)]` `TaskCell<F>`,
    // and the caller guarantees exclusive owner-thread access to the stage,
    // whose phase only `StageRef`s change.
    unsafe {
        let cell = &*ptr.cast::<TaskCell<F>>().as_ptr();
        StageRef::new(&mut *cell.stage.get(), &cell.header.phase)
    }
}

unsafe fn poll<F: Future>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> bool {
    // SAFETY: caller contract of `TaskRef::poll`.
    unsafe { stage::<F>(ptr) }.poll(cx)
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the header is alive while the caller holds a reference.
    let id = unsafe { ptr.as_ref() }.ident.id();
    // SAFETY: caller contract of `TaskRef::cancel`.
    unsafe { stage::<F>(ptr) }.cancel(id);
}

unsafe fn take_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: caller contract of `TaskRef::take_output`.
    if let Some(result) = unsafe { stage::<F>(ptr) }.take() {
        // SAFETY: the caller passes a `*mut Option<Result<F::Output, JoinError>>`.
        unsafe { *dst.cast::<Option<Result<F::Output, JoinError>>>() = Some(result) };
    }
}

unsafe fn drop_output<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: caller contract of `TaskRef::drop_output`.
    let mut stage = unsafe { stage::<F>(ptr) };
    if stage.phase() == Phase::Finished {
        stage.clear();
    }
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: last reference: nobody else accesses the stage, and its
    // owner dropped the future already (module docs).
    let mut stage = unsafe { stage::<F>(ptr) };
    debug_assert_ne!(stage.phase(), Phase::Running);
    stage.clear();
    // SAFETY: the allocation was made by `Box<TaskCell<F>>` in `TaskRef::new`
    // and this is its last reference.
    drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) });
}

/// The waker handed to the future while it is polled: it borrows the
/// registry's reference instead of taking one of its own.
struct ManuallyDropWaker(std::mem::ManuallyDrop<Waker>);

impl ManuallyDropWaker {
    fn new(ptr: NonNull<Header>) -> Self {
        // SAFETY: the waker is never dropped (ManuallyDrop), so it never
        // releases the reference it borrows; clones take their own.
        let waker =
            unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)) };
        ManuallyDropWaker(std::mem::ManuallyDrop::new(waker))
    }
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

unsafe fn waker_clone(ptr: *const ()) -> RawWaker {
    // SAFETY: a waker's pointer is a live task: the waker holds (or borrows
    // for the duration of a poll) a reference.
    let task = std::mem::ManuallyDrop::new(unsafe { TaskRef::from_raw(task_ptr(ptr)) });
    let clone = task.clone_ref();
    RawWaker::new(clone.into_raw().as_ptr() as *const (), &WAKER_VTABLE)
}

unsafe fn waker_wake(ptr: *const ()) {
    // SAFETY: this waker owns one reference, which we now adopt.
    let task = unsafe { TaskRef::from_raw(task_ptr(ptr)) };
    super::scheduler::schedule(task, 0);
}

unsafe fn waker_wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the task alive during this call.
    let task = std::mem::ManuallyDrop::new(unsafe { TaskRef::from_raw(task_ptr(ptr)) });
    super::scheduler::wake_by_ref(&task);
}

unsafe fn waker_drop(ptr: *const ()) {
    // SAFETY: this waker owns one reference, which is released.
    drop(unsafe { TaskRef::from_raw(task_ptr(ptr)) });
}

#[inline]
fn task_ptr(ptr: *const ()) -> NonNull<Header> {
    // SAFETY: wakers are only built from non-null task pointers.
    unsafe { NonNull::new_unchecked(ptr as *mut Header) }
}

/// Extracts a readable message from a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::task::{Poll, Waker};

    use super::TaskRef;

    /// A task's own waker is recognised (and its reference taken over, so
    /// the task still finishes and is freed); any other waker comes back.
    #[test]
    fn from_waker_knows_a_task_waker_from_a_foreign_one() {
        crate::run(async {
            let handle = crate::spawn(async {
                let waker = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
                assert!(TaskRef::from_waker(waker).is_ok(), "a task's own waker");
                let foreign = TaskRef::from_waker(Waker::noop().clone());
                assert!(foreign.is_err(), "a foreign waker is handed back");
            });
            handle.await.unwrap();
        });
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Mutex;

    /// The invariant the scheduler relies on: the `SCHEDULED` bit is set
    /// exactly when one queue entry exists, whatever the interleaving of two
    /// foreign wake-ups and the loop popping the task. A wake-up is never
    /// lost (it leaves an entry) and never doubled (at most one entry).
    #[test]
    fn scheduled_bit_matches_exactly_one_queue_entry() {
        loom::model(|| {
            let state = loom::sync::Arc::new(AtomicUsize::new(0));
            let queue = loom::sync::Arc::new(Mutex::new(0usize));
            let wakers: Vec<_> = (0..2)
                .map(|_| {
                    let (state, queue) = (state.clone(), queue.clone());
                    loom::thread::spawn(move || {
                        if transition_schedule(&state, 0) {
                            let mut q = queue.lock().unwrap();
                            *q += 1;
                            assert_eq!(*q, 1, "queued twice");
                        }
                    })
                })
                .collect();
            // The loop: pop whatever is queued and clear the bit, as
            // `run_task` does before polling (its release of the queue's
            // reference in the same operation is the next test's model).
            {
                let mut q = queue.lock().unwrap();
                if *q == 1 {
                    *q = 0;
                    state.fetch_and(!SCHEDULED, Ordering::AcqRel);
                }
            }
            for w in wakers {
                w.join().unwrap();
            }
            let queued = *queue.lock().unwrap();
            let scheduled = state.load(Ordering::Acquire) & SCHEDULED != 0;
            assert_eq!(scheduled, queued == 1);
        });
    }

    /// The loop's one-operation pop (`transition_dequeue`) against a
    /// foreign wake-up that holds its own reference: whatever the order, no
    /// wake-up is lost, none is doubled, and every reference but the
    /// registry's is released once the queue is empty.
    #[test]
    fn dequeue_releases_the_queue_reference_and_loses_no_wake_up() {
        loom::model(|| {
            // The registry's, the queue entry's and the waker's references.
            let state = loom::sync::Arc::new(AtomicUsize::new(SCHEDULED | 3 * REF_ONE));
            let queue = loom::sync::Arc::new(Mutex::new(1usize));
            let waker = {
                let (state, queue) = (state.clone(), queue.clone());
                loom::thread::spawn(move || {
                    if transition_schedule(&state, 0) {
                        // Its reference moves into the queue.
                        *queue.lock().unwrap() += 1;
                    } else {
                        state.fetch_sub(REF_ONE, Ordering::AcqRel);
                    }
                })
            };
            let pop = |queue: &Mutex<usize>| {
                let mut q = queue.lock().unwrap();
                if *q > 0 {
                    *q -= 1;
                    drop(q);
                    transition_dequeue(&state);
                    true
                } else {
                    false
                }
            };
            assert!(pop(&queue), "the first entry is there");
            waker.join().unwrap();
            while pop(&queue) {}
            assert_eq!(
                state.load(Ordering::Acquire),
                REF_ONE,
                "only the registry's left"
            );
        });
    }

    /// Once the task is complete, no wake-up queues it again.
    #[test]
    fn complete_tasks_are_never_queued() {
        loom::model(|| {
            let state = loom::sync::Arc::new(AtomicUsize::new(0));
            let s = state.clone();
            let waker = loom::thread::spawn(move || transition_schedule(&s, 0));
            state.fetch_or(COMPLETE, Ordering::AcqRel);
            assert!(!transition_schedule(&state, 0), "queued after completion");
            waker.join().unwrap();
            assert!(!transition_schedule(&state, 0), "queued after completion");
        });
    }
}

#[cfg(all(test, not(loom)))]
mod layout_tests {
    use super::*;

    /// Every task pays for its header and its stage, so a million tiny
    /// tasks pay for each word here a million times (`bench/`, `spawn`'s
    /// peak RSS). glibc's allocator adds a word and rounds up to 16 bytes,
    /// so a task that captures an index and returns it must stay within 72
    /// bytes to take 80 rather than 96: a header of seven words and a
    /// stage of two.
    #[test]
    fn a_tiny_task_fits_in_nine_words() {
        assert_eq!(std::mem::size_of::<Header>(), 56);
        assert_eq!(std::mem::size_of::<JoinError>(), 16);
        fn cell_size<F: Future>(_: &F) -> usize {
            std::mem::size_of::<TaskCell<F>>()
        }
        let index = 7usize;
        let cell = cell_size(&async move { index });
        assert!(cell <= 72, "a tiny task takes {cell} bytes");
    }
}
