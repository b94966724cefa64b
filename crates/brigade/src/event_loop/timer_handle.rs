//! The loop's own timed callbacks: [`Handle::call_later`] and
//! [`Handle::call_at`] (asyncio's `loop.call_later` and `loop.call_at`),
//! and the [`TimerHandle`] that cancels one.
//!
//! A task that sleeps is woken by a timer in the loop's timing wheel; a
//! timed callback is the same timer with a different waker: when the wheel
//! fires it, the waker runs the callback instead of scheduling a task. So a
//! callback costs what a sleep costs (a wheel entry, one allocation for the
//! callback), fires in deadline order among the sleeps, and the virtual
//! clock jumps to it like to any other deadline. It runs on the loop's
//! thread, between two polls, and must not block; a callback that panics
//! is reported by the panic hook and the loop goes on (asyncio logs it).
//!
//! As in asyncio, a timed callback is not a task: nobody awaits it, so
//! [`Runtime::block_on`] returns as soon as its future is done, whatever
//! callbacks are still pending (they fire during a later `block_on`, or
//! are dropped, unrun, once the runtime and the callback's last
//! [`TimerHandle`] are gone).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use brigade::time::{Instant, sleep};
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! let fired = Arc::new(Mutex::new(Vec::new()));
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let handle = brigade::Handle::current();
//!     for secs in [3, 1, 2] {
//!         let fired = fired.clone();
//!         let timer = handle.call_later(Duration::from_secs(secs), move || {
//!             fired.lock().unwrap().push((secs, start.elapsed()));
//!         });
//!         if secs == 2 {
//!             timer.unwrap().cancel();
//!         }
//!     }
//!     sleep(Duration::from_secs(10)).await;
//! });
//! let at = |s| Duration::from_secs(s);
//! assert_eq!(*fired.lock().unwrap(), [(1, at(1)), (3, at(3))]);
//! ```

use std::fmt;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

use super::alarm::Alarm;
use super::context;
use super::handle::{Handle, LoopClosed};
use super::runtime::Runtime;
use super::scheduler::{self, Core, Shared};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::time::Instant;
use crate::time::wheel::TimerKey;

/// When a callback is due: a delay is counted on the loop's own clock, when
/// the loop arms the timer.
#[derive(Clone, Copy)]
enum When {
    After(Duration),
    At(Instant),
}

/// One timed callback, shared by its [`TimerHandle`] and (as a waker) the
/// loop's timing wheel.
struct Timer<F> {
    /// The loop whose wheel holds the timer: a cancellation from another
    /// thread is sent there.
    shared: Arc<Shared>,
    state: Mutex<State<F>>,
}

struct State<F> {
    callback: Option<F>,
    when: Option<Instant>,
    /// The wheel entry, while one is set.
    key: Option<TimerKey>,
    cancelled: bool,
}

impl<F> Timer<F> {
    fn lock(&self) -> MutexGuard<'_, State<F>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<F: FnOnce() + Send + 'static> Timer<F> {
    /// Sets the wheel entry; on the loop's thread.
    fn arm(self: &Arc<Self>, core: &Core, when: When) {
        let deadline = match when {
            When::After(delay) => crate::time::clock::saturating_after(core.clock.now(), delay),
            When::At(at) => at,
        };
        let mut state = self.lock();
        if state.cancelled {
            return;
        }
        state.when = Some(deadline);
        // A deadline beyond the horizon never comes: no entry, as for a sleep.
        if let Some(tick) = core.clock.deadline_tick(deadline) {
            let waker = Waker::from(self.clone());
            state.key = Some(core.timers.borrow_mut().insert(tick, Alarm::Waker(waker)));
        }
    }
}

impl<F: FnOnce() + Send + 'static> Wake for Timer<F> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// The wheel fired the timer: run the callback, unless cancelled.
    fn wake_by_ref(self: &Arc<Self>) {
        let callback = {
            let mut state = self.lock();
            state.key = None;
            state.callback.take()
        };
        if let Some(callback) = callback {
            callback();
        }
    }
}

/// What a [`TimerHandle`] does, whatever the callback's type.
trait Control: Send + Sync {
    fn cancel(&self);
    fn cancelled(&self) -> bool;
    fn when(&self) -> Option<Instant>;
}

impl<F: FnOnce() + Send + 'static> Control for Timer<F> {
    fn cancel(&self) {
        let (callback, key) = {
            let mut state = self.lock();
            if state.cancelled {
                return;
            }
            state.cancelled = true;
            (state.callback.take(), state.key.take())
        };
        // The callback's captures are dropped here, outside the lock.
        drop(callback);
        let Some(key) = key else { return };
        let remove = move |core: &Core| {
            let waker = core.timers.borrow_mut().cancel(key);
            drop(waker);
        };
        let here = context::with(|core| match core {
            Some(core) if Arc::ptr_eq(&core.shared, &self.shared) => {
                match core.timers.try_borrow_mut() {
                    Ok(mut timers) => Some(timers.cancel(key)),
                    Err(_) => None,
                }
            }
            _ => None,
        });
        match here {
            Some(waker) => drop(waker),
            // Away from the loop's thread: the loop removes the entry at its
            // next turn (a loop that has shut down has no entry left).
            None => {
                let _ = scheduler::call_soon(
                    &self.shared,
                    Box::new(move || remove(&scheduler::current("TimerHandle::cancel"))),
                );
            }
        }
    }

    fn cancelled(&self) -> bool {
        self.lock().cancelled
    }

    fn when(&self) -> Option<Instant> {
        self.lock().when
    }
}

/// A pending [`call_later`](Handle::call_later) or
/// [`call_at`](Handle::call_at): cancel it, or ask when it is due
/// (asyncio's `asyncio.TimerHandle`). Cheap to clone, `Send` and `Sync`:
/// any thread may cancel. Dropping it does not cancel the call.
///
/// A timed callback is a timer in the loop's timing wheel, like a sleep's,
/// whose waker runs the callback instead of scheduling a task: it fires in
/// deadline order among the sleeps, and the virtual clock jumps to it like
/// to any other deadline. It runs on the loop's thread between two polls
/// and must not block; one that panics is reported by the panic hook and
/// the loop goes on (asyncio logs it).
///
/// As in asyncio, a callback is not a task: [`Runtime::block_on`] returns
/// as soon as its future is done, whatever callbacks are still pending;
/// they fire during a later `block_on`, or are dropped, unrun, once the
/// runtime and the callback's last `TimerHandle` are gone.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// let timer = rt.call_later(Duration::from_secs(5), || unreachable!("cancelled"));
/// assert!(!timer.cancelled());
/// timer.cancel();
/// assert!(timer.cancelled());
/// rt.block_on(brigade::sleep(Duration::from_secs(10)));
/// ```
#[derive(Clone)]
pub struct TimerHandle {
    timer: Arc<dyn Control>,
}

impl TimerHandle {
    /// Cancels the call: the callback will not run, and is dropped at once
    /// (its captures with it). Cancelling a call that already ran, or was
    /// cancelled, does nothing (asyncio's `TimerHandle.cancel()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let flag = ran.clone();
    /// let timer = rt.call_later(Duration::from_secs(1), move || flag.store(true, Ordering::SeqCst));
    /// timer.cancel();
    /// rt.block_on(brigade::sleep(Duration::from_secs(2)));
    /// assert!(!ran.load(Ordering::SeqCst));
    /// assert_eq!(Arc::strong_count(&ran), 1); // the callback is gone
    /// ```
    pub fn cancel(&self) {
        self.timer.cancel();
    }

    /// Whether [`cancel`](Self::cancel) was called, as
    /// `TimerHandle.cancelled()` (true even if it came after the call ran).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::new().unwrap();
    /// let timer = rt.call_later(Duration::from_secs(1), || {});
    /// timer.cancel();
    /// assert!(timer.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.timer.cancelled()
    }

    /// When the call is due, on the loop's clock (`TimerHandle.when()`).
    /// `None` until the loop has armed the timer: a `call_later` made from
    /// another thread counts its delay from the loop's next turn, on the
    /// loop's own clock (which, virtual, only the loop can read); and
    /// `None` for a call cancelled before it was armed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::Instant;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let timer = brigade::Handle::current().call_later(Duration::from_secs(3), || {});
    ///     assert_eq!(timer.unwrap().when(), Some(Instant::now() + Duration::from_secs(3)));
    /// });
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.timer.when()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.when())
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

fn new_timer<F: FnOnce() + Send + 'static>(shared: &Arc<Shared>, f: F) -> Arc<Timer<F>> {
    Arc::new(Timer {
        shared: shared.clone(),
        state: Mutex::new(State {
            callback: Some(f),
            when: None,
            key: None,
            cancelled: false,
        }),
    })
}

impl Handle {
    /// Calls `f` on the loop's thread once `delay` has passed on the loop's
    /// clock (asyncio's `loop.call_later`). Works from any thread: on the
    /// loop's own thread the timer is set at once; from another thread, at
    /// the loop's next turn, and the delay counts from then. Callbacks due
    /// at the same time run in the order they were set. See
    /// [`TimerHandle`] for how callbacks run and relate to `block_on`.
    ///
    /// # Errors
    /// [`LoopClosed`], handing `f` back, if the loop has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let handle = rt.handle();
    /// std::thread::spawn(move || {
    ///     handle.call_later(Duration::from_secs(60), move || tx.send("later").unwrap()).unwrap();
    /// })
    /// .join()
    /// .unwrap();
    /// rt.block_on(brigade::sleep(Duration::from_secs(61)));
    /// assert_eq!(rx.try_recv(), Ok("later"));
    /// ```
    pub fn call_later<F>(&self, delay: Duration, f: F) -> Result<TimerHandle, LoopClosed<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.call(When::After(delay), f)
    }

    /// Calls `f` on the loop's thread at `when` on the loop's clock
    /// (asyncio's `loop.call_at`); a time already passed calls it at the
    /// loop's next turn. Otherwise as [`call_later`](Self::call_later).
    ///
    /// # Errors
    /// [`LoopClosed`], handing `f` back, if the loop has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use brigade::time::{Instant, sleep};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// let at = Arc::new(Mutex::new(None));
    /// rt.block_on(async {
    ///     let when = Instant::now() + Duration::from_secs(2);
    ///     let seen = at.clone();
    ///     brigade::Handle::current()
    ///         .call_at(when, move || *seen.lock().unwrap() = Some(Instant::now()))
    ///         .unwrap();
    ///     sleep(Duration::from_secs(5)).await;
    ///     assert_eq!(*at.lock().unwrap(), Some(when));
    /// });
    /// ```
    pub fn call_at<F>(&self, when: Instant, f: F) -> Result<TimerHandle, LoopClosed<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.call(When::At(when), f)
    }

    fn call<F: FnOnce() + Send + 'static>(
        &self,
        when: When,
        f: F,
    ) -> Result<TimerHandle, LoopClosed<F>> {
        let timer = new_timer(&self.shared, f);
        let armed = context::with(|core| match core {
            Some(core) if Arc::ptr_eq(&core.shared, &self.shared) => {
                timer.arm(core, when);
                true
            }
            _ => false,
        });
        if !armed {
            let remote = timer.clone();
            let arm = move || remote.arm(&scheduler::current("Handle::call_later"), when);
            if !scheduler::call_soon(&self.shared, Box::new(arm)) {
                // The refused closure is gone, and with it its reference.
                let f = timer.lock().callback.take();
                return Err(LoopClosed(
                    f.expect("a callback never armed is still there"),
                ));
            }
        }
        Ok(TimerHandle { timer })
    }
}

impl Runtime {
    /// [`Handle::call_later`] on this runtime's loop, from the thread that
    /// owns it (the timer is set at once, whether the loop runs or not).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// rt.call_later(Duration::from_secs(1), move || tx.send(1).unwrap());
    /// rt.block_on(brigade::sleep(Duration::from_secs(1)));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn call_later<F>(&self, delay: Duration, f: F) -> TimerHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let timer = new_timer(&self.core.shared, f);
        timer.arm(&self.core, When::After(delay));
        TimerHandle { timer }
    }

    /// [`Handle::call_at`] on this runtime's loop, from the thread that
    /// owns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::Instant;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// let start = rt.block_on(async { Instant::now() });
    /// let timer = rt.call_at(start + Duration::from_secs(9), || {});
    /// assert_eq!(timer.when(), Some(start + Duration::from_secs(9)));
    /// ```
    pub fn call_at<F>(&self, when: Instant, f: F) -> TimerHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let timer = new_timer(&self.core.shared, f);
        timer.arm(&self.core, When::At(when));
        TimerHandle { timer }
    }
}
