//! The scheduler: one loop's run queue, its registry of live tasks, and the
//! remote queue through which other threads reach it.
//!
//! A loop is split in two halves:
//! - [`Core`], owned by the loop's thread (behind an `Rc`): the FIFO run
//!   queue, the registry of live tasks, the timing wheel and the clock.
//!   Nothing here is synchronized, because nothing here is shared.
//! - [`Shared`], behind an `Arc`, reachable from any thread: a mutex-guarded
//!   remote queue of wake-ups and calls, a flag for the main future, and the
//!   [`Unparker`] that wakes the loop's thread from its I/O driver.
//!
//! The loop sleeps in its I/O [`Driver`] (`epoll_wait`/`io_uring_enter`), so
//! that I/O, timers and wake-ups from other threads all end the same wait.
//!
//! A wake-up on the loop's own thread costs a push onto a `VecDeque`, and
//! queueing takes no atomic instruction (the task's module docs tell how);
//! one from
//! another thread costs a lock, a push and (if the loop sleeps) an unpark.
//! The loop drains the remote queue once per turn.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::io::driver::Driver;
use crate::io::unpark::Unparker;
use crate::io::{Deadline, DriverKind};

use super::alarm::Alarm;
use super::context;
use super::join::JoinHandle;
use super::slow::SlowPolls;
use super::task::{CANCELLED, COMPLETE, Header, TaskId, TaskRef};
use super::task_info::TaskInfo;
use super::task_set::TaskSet;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::time::clock::Clock;
use crate::time::timers::Timers;
use crate::trace::{Trace, Track};

/// How many tasks run before the loop looks at the main future, the remote
/// queue and the timers again, so that none of them starves.
const BATCH: usize = 256;

/// Every this many turns, a busy loop polls its I/O driver without waiting,
/// so that sockets are served even while tasks keep each other runnable.
const IO_POLL_INTERVAL: u32 = 8;

/// While it spins towards a deadline, a loop asks the driver this often
/// whether any I/O is ready, and offers the processor to other threads.
const SPIN_IO_POLL: Duration = Duration::from_micros(10);

// Id counters are plain std atomics: they order nothing, so the model
// checker need not see them.
static NEXT_TASK_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
static NEXT_LOOP_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub(crate) fn next_task_id() -> TaskId {
    TaskId(NEXT_TASK_ID.fetch_add(1, Ordering::Relaxed))
}

/// Work handed to a loop from any thread.
pub(crate) enum Remote {
    /// A task to poll.
    Wake(TaskRef),
    /// A closure to run on the loop's thread (`Handle::spawn`, `call_soon`).
    Call(Box<dyn FnOnce() + Send>),
}

/// The half of a loop that any thread may reach.
pub(crate) struct Shared {
    pub(crate) id: u64,
    /// `None` once the loop has shut down: late wake-ups are dropped.
    remote: Mutex<Option<Vec<Remote>>>,
    remote_pending: AtomicBool,
    /// The future given to `block_on` asks to be polled.
    pub(crate) main_woken: AtomicBool,
    /// Work in flight outside the loop (blocking jobs awaited by tasks):
    /// while non-zero, a virtual clock must not jump ahead.
    pub(crate) inhibit: AtomicUsize,
    unparker: Arc<Unparker>,
}

impl Shared {
    fn new(unparker: Arc<Unparker>) -> Shared {
        Shared {
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            remote: Mutex::new(Some(Vec::new())),
            remote_pending: AtomicBool::new(false),
            main_woken: AtomicBool::new(false),
            inhibit: AtomicUsize::new(0),
            unparker,
        }
    }

    /// Hands work to the loop from any thread. Returns the work back if the
    /// loop has shut down.
    pub(crate) fn push_remote(&self, work: Remote) -> Result<(), Remote> {
        {
            let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
            match remote.as_mut() {
                Some(queue) => queue.push(work),
                None => return Err(work),
            }
        }
        self.remote_pending.store(true, Ordering::Release);
        self.unpark();
        Ok(())
    }

    pub(crate) fn unpark(&self) {
        self.unparker.unpark();
    }

    fn take_remote(&self) -> Vec<Remote> {
        if !claim(&self.remote_pending) {
            return Vec::new();
        }
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        remote.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn close_remote(&self) -> Vec<Remote> {
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        remote.take().unwrap_or_default()
    }
}

/// Clears a wake-up flag set from other threads, returning whether it was
/// set. The loop asks at every turn and the flag is usually clear, so a
/// plain load comes first: it costs far less than the swap that claims the
/// flag. A flag set just after the load is seen at the next turn, before
/// the loop parks (`Core::has_wakeups`), so no wake-up is lost.
pub(crate) fn claim(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Acquire) && flag.swap(false, Ordering::AcqRel)
}

/// Schedules `task` (consuming the caller's reference), adding the `extra`
/// state bits (`CANCELLED` for an abort): into the owner's run queue when
/// we are on the owner's thread, through its remote queue otherwise.
pub(crate) fn schedule(task: TaskRef, extra: usize) {
    let queued = context::with(|core| match core {
        Some(core) if core.owns(&task) => {
            if extra != 0 {
                task.add_flags(extra);
            }
            core.enqueue(&task, "wake");
            true
        }
        _ => false,
    });
    // On the owner's thread the caller's reference simply goes (the
    // registry's keeps the task alive while it is queued).
    if !queued && task.mark_scheduled(extra) {
        push_remote(task);
    }
}

/// Schedules `task` without taking the caller's reference.
pub(crate) fn wake_by_ref(task: &TaskRef) {
    let queued = context::with(|core| match core {
        Some(core) if core.owns(task) => {
            core.enqueue(task, "wake");
            true
        }
        _ => false,
    });
    if !queued && task.mark_scheduled(0) {
        push_remote(task.clone_ref());
    }
}

/// Hands a reference (of a task marked `SCHEDULED`) to its loop's remote
/// queue.
fn push_remote(task: TaskRef) {
    let shared = task.header().shared.clone();
    // A loop that has shut down drops the reference here, outside its lock.
    drop(shared.push_remote(Remote::Wake(task)));
}

/// The half of a loop owned by its thread.
pub(crate) struct Core {
    pub(crate) shared: Arc<Shared>,
    /// The run queue: tasks without a reference of their own (see the
    /// task's module docs, "Two run queues").
    queue: RefCell<VecDeque<NonNull<Header>>>,
    tasks: RefCell<TaskSet>,
    pub(crate) timers: RefCell<Timers<Alarm>>,
    /// The alarms of the timers that fire in a turn, kept between turns so
    /// that firing allocates nothing.
    fired: Cell<Vec<Alarm>>,
    pub(crate) clock: Clock,
    /// xorshift state for seeded runs; 0 when unseeded.
    rng: Cell<u64>,
    shutting_down: Cell<bool>,
    /// The task being polled, if any.
    current_task: Cell<Option<TaskId>>,
    /// Its slot in `tasks`, meaningful while `current_task` is set.
    current_slot: Cell<u32>,
    pub(crate) trace: Option<Arc<Trace>>,
    /// The I/O driver the loop parks in; I/O objects hold it too.
    pub(crate) driver: Rc<Driver>,
    /// Turns since the driver was last polled.
    turns: Cell<u32>,
    /// Reports polls that keep the loop busy too long.
    pub(crate) slow: SlowPolls,
    /// How long before a real-clock deadline the loop stops sleeping in
    /// the kernel and spins instead (see `crate::time`'s "Precision").
    pub(crate) timer_spin: Cell<Duration>,
}

impl Core {
    pub(crate) fn new(
        clock: Clock,
        seed: Option<u64>,
        trace: Option<Arc<Trace>>,
        driver: Option<DriverKind>,
        orphan_limit: usize,
        slow: SlowPolls,
    ) -> std::io::Result<Core> {
        let unparker = Arc::new(Unparker::new()?);
        let shared = Arc::new(Shared::new(unparker.clone()));
        let driver = Driver::new(driver, orphan_limit, unparker, shared.clone())?;
        if let Some(trace) = &trace {
            trace.label(Track::Loop(shared.id), "polls");
            trace.label(Track::Main(shared.id), "main future (block_on)");
        }
        Ok(Core {
            shared,
            queue: RefCell::new(VecDeque::with_capacity(1024)),
            tasks: RefCell::new(TaskSet::new()),
            timers: RefCell::new(Timers::new(clock.is_virtual())),
            fired: Cell::new(Vec::new()),
            clock,
            // xorshift needs a non-zero state; mix the seed so 0 works too.
            rng: Cell::new(seed.map_or(0, |s| s ^ 0x9E37_79B9_7F4A_7C15 | 1)),
            shutting_down: Cell::new(false),
            current_task: Cell::new(None),
            current_slot: Cell::new(u32::MAX),
            trace,
            driver,
            turns: Cell::new(0),
            slow,
            timer_spin: Cell::new(crate::time::DEFAULT_TIMER_SPIN),
        })
    }

    /// Whether `task` belongs to this loop.
    pub(crate) fn owns(&self, task: &TaskRef) -> bool {
        Arc::ptr_eq(&self.shared, &task.header().shared)
    }

    /// Puts one of this loop's tasks in its run queue, unless it is there
    /// already or has finished. Owner thread only, as every `Core` method.
    fn enqueue(&self, task: &TaskRef, what: &'static str) {
        let header = task.header();
        if header.local_queued.get() || task.state() & COMPLETE != 0 {
            return;
        }
        header.local_queued.set(true);
        self.trace_wake(task, what);
        self.queue.borrow_mut().push_back(task.as_ptr());
    }

    /// Takes a task off the run queue: the entry's task, still alive, or
    /// `None` if it had finished meanwhile (then its parked reference goes,
    /// unless a timer still names it).
    fn unqueue(&self, ptr: NonNull<Header>) -> Option<ManuallyDrop<TaskRef>> {
        // SAFETY: a queued task is alive: the registry holds a reference
        // until the task finishes, and then parks it rather than dropping
        // it while the entry exists (`release_registry_ref`). The `TaskRef`
        // is borrowed, never dropped.
        let task = ManuallyDrop::new(unsafe { TaskRef::from_raw(ptr) });
        task.header().local_queued.set(false);
        if task.header().is_parked() {
            // SAFETY: the task was queued until now.
            unsafe { TaskRef::unparked(ptr) };
            return None;
        }
        Some(task)
    }

    /// The task being polled right now, if any.
    pub(crate) fn current_task(&self) -> Option<TaskId> {
        self.current_task.get()
    }

    /// The trace timestamp: the loop's own time on a virtual clock (so a
    /// trace shows simulated time), the trace's real clock otherwise.
    pub(crate) fn trace_now(&self, trace: &Trace) -> Duration {
        if self.clock.is_virtual() {
            self.clock.now() - self.clock.start()
        } else {
            trace.now()
        }
    }

    /// Records a wake-up on the task's track, when the loop is traced.
    /// Inlined, so that every wake-up of an untraced loop pays a test of
    /// one field rather than a call.
    #[inline(always)]
    fn trace_wake(&self, task: &TaskRef, what: &'static str) {
        if let Some(trace) = &self.trace {
            self.record_wake(trace, task, what);
        }
    }

    #[cold]
    fn record_wake(&self, trace: &Trace, task: &TaskRef, what: &'static str) {
        let track = Track::Task {
            loop_id: self.shared.id,
            task: task.header().id().0,
        };
        trace.instant(track, "wake", what, self.trace_now(trace));
    }

    fn task_label(task: &TaskRef) -> Cow<'static, str> {
        let header = task.header();
        match header.name() {
            Some(name) => Cow::Owned(name.to_string()),
            None => Cow::Owned(format!("task {}", header.id())),
        }
    }

    /// Spawns `future` on this loop.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        id: TaskId,
        name: Option<Box<str>>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let [registry, handle] = TaskRef::new(future, self.shared.clone(), id, name);
        if self.shutting_down.get() {
            // Spawned by a destructor while the loop shuts down: cancelled
            // before it ever runs, so nothing outlives the loop.
            // SAFETY: owner thread; the task is new, so not complete.
            unsafe { registry.cancel() };
            // SAFETY: owner thread; the stage holds `Cancelled`.
            unsafe { registry.complete() };
            drop(registry);
            return JoinHandle::new(handle);
        }
        crate::trace::emit::spawned(id.0, registry.header().name());
        if let Some(trace) = &self.trace {
            let track = Track::Task {
                loop_id: self.shared.id,
                task: id.0,
            };
            trace.label(track, Self::task_label(&registry));
            let label = format!("spawn {}", Self::task_label(&registry));
            trace.instant(
                Track::Loop(self.shared.id),
                "task",
                label,
                self.trace_now(trace),
            );
        }
        registry.header().local_queued.set(true);
        self.queue.borrow_mut().push_back(registry.as_ptr());
        {
            let mut tasks = self.tasks.borrow_mut();
            let slot = u32::try_from(tasks.vacant_key()).expect("fewer than 2^32 live tasks");
            registry.header().slot.set(slot);
            tasks.insert(registry);
        }
        JoinHandle::new(handle)
    }

    /// A snapshot of the task being polled, if any (`asyncio.current_task`).
    pub(crate) fn current_task_info(&self) -> Option<TaskInfo> {
        let id = self.current_task.get()?;
        let tasks = self.tasks.borrow();
        let task = tasks.get(self.current_slot.get() as usize)?;
        (task.header().id() == id).then(|| TaskInfo::of(task, true))
    }

    /// A snapshot of every live task, in spawn order (`asyncio.all_tasks`):
    /// a walk over the registry, so spawning pays nothing for it.
    pub(crate) fn all_tasks(&self) -> Vec<TaskInfo> {
        let current = self.current_task.get();
        let mut all: Vec<TaskInfo> = self
            .tasks
            .borrow()
            .iter()
            .map(|task| TaskInfo::of(task, Some(task.header().id()) == current))
            .collect();
        all.sort_unstable_by_key(|info| info.id());
        all
    }

    /// Number of tasks spawned and not yet finished.
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Runs up to one batch of queued tasks. Returns how many ran.
    pub(crate) fn run_batch(&self) -> usize {
        self.drain_remote();
        let mut ran = 0;
        while ran < BATCH {
            let Some(task) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            if let Some(task) = self.unqueue(task) {
                self.run_task(&task);
            }
            ran += 1;
        }
        ran
    }

    /// Polls a task just taken off the run queue. The registry's reference
    /// keeps it alive until `finish` (the last use of `task`) releases it.
    fn run_task(&self, task: &TaskRef) {
        let prev = task.state();
        debug_assert!(prev & COMPLETE == 0, "a finished task left its queue");
        // One reading of the real clock serves as both the start and the
        // base of the duration: two readings would draw the poll longer
        // than it was, by whatever passed between them (a preemption can
        // make that overlap the next poll).
        let started = self.trace.as_ref().map(|t| {
            let real = t.now();
            let at = if self.clock.is_virtual() {
                self.trace_now(t)
            } else {
                real
            };
            (real, at)
        });
        let done = if prev & CANCELLED != 0 {
            // SAFETY: owner thread; not complete (checked above).
            unsafe { task.cancel() };
            true
        } else {
            self.current_task.set(Some(task.header().id()));
            self.current_slot.set(task.header().slot.get());
            let header = task.header();
            let _polling = crate::trace::emit::polling(header.id().0, header.name());
            let done = self.slow.watch(
                || Self::task_label(task).into_owned(),
                // SAFETY: owner thread; not complete (checked above).
                || unsafe { task.poll() },
            );
            self.current_task.set(None);
            done
        };
        if let (Some(trace), Some((real, at))) = (&self.trace, started) {
            // A virtual clock stands still while a task runs: the poll takes
            // no virtual time (see the rule in `crate::trace`).
            let took = if self.clock.is_virtual() {
                Duration::ZERO
            } else {
                trace.now() - real
            };
            trace.span(
                Track::Loop(self.shared.id),
                "poll",
                Self::task_label(task),
                at,
                took,
            );
        }
        if done {
            self.finish(task);
        }
    }

    fn finish(&self, task: &TaskRef) {
        let header = task.header();
        crate::trace::emit::ended(header.id().0, header.name());
        if let Some(trace) = &self.trace {
            let label = format!("end {}", Self::task_label(task));
            trace.instant(
                Track::Loop(self.shared.id),
                "task",
                label,
                self.trace_now(trace),
            );
        }
        // SAFETY: owner thread; the stage holds the result.
        unsafe { task.complete() };
        let slot = task.header().slot.get() as usize;
        let registry = self.tasks.borrow_mut().remove(slot);
        if let Some(registry) = registry {
            registry.release_registry_ref();
        }
    }

    fn drain_remote(&self) {
        let remote = self.shared.take_remote();
        // Nearly every turn: nothing came from another thread.
        if remote.is_empty() {
            return;
        }
        let mut calls = Vec::new();
        for work in remote {
            match work {
                Remote::Wake(task) => {
                    // The entry's reference goes; the registry's keeps an
                    // unfinished task alive in the run queue.
                    if let Some((_, task)) = task.dequeue() {
                        self.enqueue(&task, "wake from another thread");
                    }
                }
                Remote::Call(f) => calls.push(f),
            }
        }
        // Wake-ups are queued before any callback runs, and a panicking
        // callback (reported by the panic hook, as asyncio logs a failed
        // callback) does not lose the others.
        for call in calls {
            let _ = catch_unwind(AssertUnwindSafe(call));
        }
    }

    /// Whether the loop has nothing to do until a timer fires or another
    /// thread wakes it.
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.borrow().is_empty() && !self.has_wakeups()
    }

    /// Whether the main future or a task was woken from another thread.
    fn has_wakeups(&self) -> bool {
        self.shared.main_woken.load(Ordering::Acquire)
            || self.shared.remote_pending.load(Ordering::Acquire)
    }

    /// Wakes the timers whose deadline has passed. Returns how many fired.
    pub(crate) fn fire_timers(&self) -> usize {
        let now = self.clock.current_tick();
        // Most turns fire nothing (the loop asks before and after it parks).
        if self.timers.borrow_mut().skip_quiet(now) {
            return 0;
        }
        // One buffer serves every turn; a re-entrant call (from a foreign
        // waker) finds it taken and uses a fresh one.
        let mut fired = self.fired.take();
        self.timers.borrow_mut().advance(now, &mut fired);
        if self.rng.get() != 0 {
            self.shuffle(&mut fired);
        }
        let n = fired.len();
        for alarm in fired.drain(..) {
            match alarm {
                Alarm::Task(pinned) => {
                    self.enqueue(&pinned.task(), "wake");
                    // The last pin of a finished task releases it; a panic
                    // in its output's destructor must not lose the others'
                    // wake-ups.
                    let _ = catch_unwind(AssertUnwindSafe(move || drop(pinned)));
                }
                Alarm::Waker(waker) => match TaskRef::from_waker(waker) {
                    Ok(task) => self.wake_task(task),
                    // A foreign waker that panics must not lose the others'
                    // wake-ups.
                    Err(waker) => {
                        let _ = catch_unwind(AssertUnwindSafe(move || waker.wake()));
                    }
                },
            }
        }
        self.fired.set(fired);
        n
    }

    /// Wakes a task whose waker fired here: what the waker would do, minus
    /// the thread-local lookup, since the loop is at hand.
    fn wake_task(&self, task: TaskRef) {
        if !self.owns(&task) {
            return schedule(task, 0);
        }
        self.enqueue(&task, "wake");
        // The timer's reference goes. Were it the last (the task finished),
        // its output's destructor runs here; a panic in it must not lose
        // the other timers' wake-ups.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(task)));
    }

    /// Sleeps in the I/O driver until there is something to do: ready
    /// I/O, a timer's deadline, or a wake-up from another thread. On a
    /// virtual clock, jumps to the next deadline instead of sleeping, unless
    /// outside work is in flight; but first polls the driver without
    /// waiting, so that I/O that is already possible happens before
    /// simulated time moves (see `crate::io`).
    pub(crate) fn park(&self) {
        self.turns.set(0);
        let next = self.timers.borrow().next_tick();
        if self.clock.is_virtual() {
            if let Some(tick) = next {
                if self.shared.inhibit.load(Ordering::Acquire) == 0 {
                    // Outside work wakes its waiter before it releases the
                    // clock: a wake-up that came in since the loop last
                    // looked must run before time moves.
                    if self.has_wakeups() {
                        return;
                    }
                    // Pending I/O comes first; without any, asking the
                    // kernel would only cost a system call per time jump.
                    if !(self.driver.has_io() && self.driver.park(Deadline::Now)) {
                        self.clock.advance_to_tick(tick);
                    }
                    return;
                }
            }
            self.driver.park(Deadline::Never);
            return;
        }
        match next {
            Some(tick) => self.park_until(self.clock.instant_of_tick(tick).into_std()),
            None => {
                self.driver.park(Deadline::Never);
            }
        }
    }

    /// Sleeps in the driver until `timer_spin` before `deadline`, then
    /// spins to it. The kernel wakes a sleeping thread some tens of
    /// microseconds after its timer expires; waking that much early and
    /// spinning the rest puts the timer's task on time, at the price of
    /// the spin (as the `spin_sleep` crate does for threads).
    fn park_until(&self, deadline: std::time::Instant) {
        let spin = self.timer_spin.get();
        // A spin longer than the clock's past reaches spins from now.
        let wake_at = deadline
            .checked_sub(spin)
            .unwrap_or_else(std::time::Instant::now);
        // Past `wake_at` this only polls, so that I/O is served even when
        // the next deadline is always within the spin.
        if self.driver.park(Deadline::At(wake_at)) || spin.is_zero() {
            return;
        }
        // A wake-up with no event before `wake_at` (a stale expiry): go
        // round the loop and sleep again rather than spin for long.
        if std::time::Instant::now() < wake_at {
            return;
        }
        let mut next_poll = std::time::Instant::now() + SPIN_IO_POLL;
        loop {
            let now = std::time::Instant::now();
            // Work from another thread ends the spin at once; ready I/O
            // within `SPIN_IO_POLL`.
            if now >= deadline || self.has_wakeups() {
                return;
            }
            if now >= next_poll {
                if self.driver.has_io() && self.driver.park(Deadline::Now) {
                    return;
                }
                // On a shared core, let another thread run if one waits
                // (a no-op otherwise), as `spin_sleep` does by default.
                std::thread::yield_now();
                next_poll = std::time::Instant::now() + SPIN_IO_POLL;
            }
            std::hint::spin_loop();
        }
    }

    /// Called once per turn of a loop that did not park: every
    /// [`IO_POLL_INTERVAL`] turns, polls the driver without waiting.
    pub(crate) fn poll_io_if_due(&self) {
        let turns = self.turns.get() + 1;
        if turns >= IO_POLL_INTERVAL {
            self.turns.set(0);
            if self.driver.has_io() {
                self.driver.park(Deadline::Now);
            }
        } else {
            self.turns.set(turns);
        }
    }

    /// Cancels every live task, then drops whatever is still queued. Called
    /// when the runtime is dropped, with this loop current.
    pub(crate) fn shutdown(&self) {
        self.shutting_down.set(true);
        // Dropping a future may spawn or wake others: repeat until empty.
        loop {
            let live = self.tasks.borrow_mut().drain();
            if live.is_empty() {
                break;
            }
            for task in live {
                if task.state() & COMPLETE == 0 {
                    // SAFETY: owner thread; not complete.
                    unsafe { task.cancel() };
                    // SAFETY: owner thread; the stage holds `Cancelled`.
                    unsafe { task.complete() };
                }
                task.release_registry_ref();
            }
        }
        // Every task has finished: the entries left are of tasks whose
        // registry reference is parked, and goes as they leave (or, for a
        // task a timer still pins, when the timers are cleared below).
        loop {
            let Some(ptr) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            let left = self.unqueue(ptr);
            debug_assert!(left.is_none(), "every queued task has finished");
        }
        for work in self.shared.close_remote() {
            drop(work);
        }
        let timers = self.timers.borrow_mut().clear();
        drop(timers);
        // Buffers of io_uring operations abandoned above are freed once the
        // kernel has let go of them.
        self.driver.shutdown();
    }

    /// A pseudo-random number from the seeded generator (xorshift64).
    fn next_random(&self) -> u64 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x
    }

    /// Fisher–Yates shuffle of simultaneous events, reproducible per seed.
    fn shuffle<T>(&self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_random() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Runs a closure on the loop's thread, from any thread.
pub(crate) fn call_soon(shared: &Shared, f: Box<dyn FnOnce() + Send>) -> bool {
    shared.push_remote(Remote::Call(f)).is_ok()
}

/// The current loop's core, for the free functions (`spawn`, `sleep`, ...).
pub(crate) fn current(what: &str) -> Rc<Core> {
    context::expect(what)
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::claim;
    use crate::loom::sync::atomic::{AtomicBool, Ordering};
    use crate::loom::sync::{Arc, Mutex};

    /// The remote queue's protocol with [`claim`]: a thread pushes, then
    /// sets the flag; the loop claims the flag, then takes the queue. Work
    /// the loop did not take always leaves the flag set, so the loop sees
    /// it before it parks: the load before the swap loses no wake-up.
    #[test]
    fn work_left_in_the_remote_queue_leaves_the_flag_set() {
        loom::model(|| {
            let queue = Arc::new(Mutex::new(Vec::new()));
            let flag = Arc::new(AtomicBool::new(false));
            let pusher = {
                let (queue, flag) = (queue.clone(), flag.clone());
                loom::thread::spawn(move || {
                    queue.lock().unwrap().push(1);
                    flag.store(true, Ordering::Release);
                })
            };
            let mut taken = Vec::new();
            if claim(&flag) {
                taken.append(&mut queue.lock().unwrap());
            }
            pusher.join().unwrap();
            let left = queue.lock().unwrap().len();
            assert_eq!(taken.len() + left, 1);
            if left > 0 {
                assert!(flag.load(Ordering::Acquire), "a wake-up was lost");
            }
        });
    }
}
