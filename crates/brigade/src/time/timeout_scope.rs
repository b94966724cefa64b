//! [`timeout_scope`]: a deadline that the code it bounds can read and move,
//! like Python's `async with asyncio.timeout(delay) as cm:` whose body may
//! call `cm.reschedule(...)`.
//!
//! A [`Timeout`](super::Timeout) owns the future it bounds, so the future
//! cannot reach it. A scope turns this around: [`timeout_scope`] calls the
//! body with a [`TimeoutScope`], a small shared handle holding the
//! deadline, and bounds the future the body returns. The body (or anything
//! it hands a clone to) reads [`deadline`](TimeoutScope::deadline), moves it
//! with [`reschedule`](TimeoutScope::reschedule), and after the fact asks
//! [`expired`](TimeoutScope::expired). A typical use is a deadline that
//! grows while progress is made: a download that may take as long as it
//! likes as long as bytes keep coming.
//!
//! ```
//! use std::time::Duration;
//! use brigade::time::{Instant, sleep, timeout_scope};
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let chunks = timeout_scope(Duration::from_secs(2), |scope| async move {
//!         let mut chunks = 0;
//!         loop {
//!             sleep(Duration::from_secs(1)).await; // a chunk arrives
//!             chunks += 1;
//!             if chunks < 5 {
//!                 // Progress: two more seconds from now.
//!                 scope.reschedule(Some(Instant::now() + Duration::from_secs(2)));
//!             } else {
//!                 std::future::pending::<()>().await; // the peer goes quiet
//!             }
//!         }
//!         #[allow(unreachable_code)]
//!         chunks
//!     })
//!     .await;
//!     assert!(chunks.is_err());
//!     // The last reschedule, at the fourth chunk, set 4 s + 2 s.
//!     assert_eq!(start.elapsed(), Duration::from_secs(6));
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::{Elapsed, Instant, Sleep, sleep_until};
use crate::event_loop::context;
use crate::loom::sync::{Mutex, MutexGuard};

/// Runs the future that `body` returns for at most `duration`, handing the
/// body a [`TimeoutScope`] through which it can read and move that deadline
/// (asyncio's `asyncio.timeout(delay)` used as `async with ... as cm`).
/// Gives the body's output, or [`Elapsed`] if the deadline passed first (the
/// body's future is then dropped, cancelling it).
///
/// As with [`timeout`](super::timeout), the future wins at the boundary,
/// and a scope made outside of a loop counts from its first poll.
///
/// # Cancel safety
///
/// Dropping the future drops the body, so it is exactly as cancel safe as
/// the body is; the scope ends, and clones of the [`TimeoutScope`] kept
/// elsewhere can no longer move a deadline.
///
/// # Panics
///
/// When polled outside of a brigade event loop while a deadline is set
/// and the body is not ready (the deadline needs the loop's timers).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{sleep, timeout_scope};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let result = timeout_scope(Duration::from_secs(1), |scope| async move {
///         scope.reschedule(None); // no deadline after all
///         sleep(Duration::from_secs(60)).await;
///         "done"
///     })
///     .await;
///     assert_eq!(result, Ok("done"));
/// });
/// ```
pub fn timeout_scope<B, Fut>(duration: Duration, body: B) -> ScopedTimeout<Fut>
where
    B: FnOnce(TimeoutScope) -> Fut,
    Fut: Future,
{
    let deadline = context::with(|core| {
        core.map(|core| super::clock::saturating_after(core.clock.now(), duration))
    });
    let start = match deadline {
        Some(at) => Deadline::At(at),
        None => Deadline::After(duration),
    };
    scoped(start, Some(duration), body)
}

/// Like [`timeout_scope`], with an absolute deadline, or none at all
/// (`asyncio.timeout_at(when)`, where `when` may be `None` too): pass an
/// [`Instant`] or an `Option<Instant>`.
///
/// # Cancel safety
///
/// As [`timeout_scope`]: exactly as cancel safe as the body.
///
/// # Panics
///
/// As [`timeout_scope`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, sleep, timeout_scope_at};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let result = timeout_scope_at(None, |scope| async move {
///         assert_eq!(scope.deadline(), None);
///         scope.reschedule(Some(start + Duration::from_secs(4)));
///         sleep(Duration::from_secs(10)).await;
///     })
///     .await;
///     assert!(result.is_err());
///     assert_eq!(start.elapsed(), Duration::from_secs(4));
/// });
/// ```
pub fn timeout_scope_at<B, Fut>(deadline: impl Into<Option<Instant>>, body: B) -> ScopedTimeout<Fut>
where
    B: FnOnce(TimeoutScope) -> Fut,
    Fut: Future,
{
    let start = match deadline.into() {
        Some(at) => Deadline::At(at),
        None => Deadline::Never,
    };
    scoped(start, None, body)
}

fn scoped<B, Fut>(start: Deadline, duration: Option<Duration>, body: B) -> ScopedTimeout<Fut>
where
    B: FnOnce(TimeoutScope) -> Fut,
    Fut: Future,
{
    let scope = TimeoutScope {
        state: Arc::new(Mutex::new(State {
            deadline: start,
            changed: true,
            rescheduled: false,
            polling: false,
            ended: false,
            expired: false,
            waker: None,
        })),
    };
    ScopedTimeout {
        future: body(scope.clone()),
        scope,
        sleep: None,
        duration,
    }
}

/// The deadline of a scope.
#[derive(Clone, Copy, Debug)]
enum Deadline {
    /// A duration not yet counted: the scope was made outside of a loop.
    After(Duration),
    At(Instant),
    Never,
}

struct State {
    deadline: Deadline,
    /// The deadline moved since the scope last armed its timer.
    changed: bool,
    /// `reschedule` was called: `Elapsed` then reports no duration.
    rescheduled: bool,
    /// The scope is polling the body: a reschedule needs no wake-up.
    polling: bool,
    /// The scope returned (either way): the deadline no longer moves.
    ended: bool,
    expired: bool,
    /// Who polls the scope, for a reschedule from elsewhere.
    waker: Option<Waker>,
}

/// The deadline of a running [`timeout_scope`], as its body sees it
/// (asyncio's `asyncio.Timeout` context manager). Cheap to clone, and
/// `Send`: a clone may move the deadline from another task or thread.
///
/// A [`Timeout`](super::Timeout) owns the future it bounds, so that future
/// cannot reach it; a scope turns this around: [`timeout_scope`] calls the
/// body with this handle and bounds the future the body returns. The body
/// reads the deadline, moves it (a download may take as long as it likes
/// while bytes keep coming), and afterwards anyone holding a clone can ask
/// whether it [`expired`](Self::expired).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, timeout_scope};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     timeout_scope(Duration::from_secs(3), |scope| async move {
///         assert_eq!(scope.deadline(), Some(start + Duration::from_secs(3)));
///         assert!(!scope.expired());
///     })
///     .await
///     .unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct TimeoutScope {
    state: Arc<Mutex<State>>,
}

impl TimeoutScope {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The deadline, or `None` if the scope has none (asyncio's
    /// `Timeout.when()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, timeout_scope};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     timeout_scope(Duration::from_secs(3), |scope| async move {
    ///         let left = scope.deadline().unwrap() - Instant::now();
    ///         assert_eq!(left, Duration::from_secs(3));
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        match self.lock().deadline {
            Deadline::At(at) => Some(at),
            Deadline::After(_) | Deadline::Never => None,
        }
    }

    /// Moves the deadline to `deadline`, or removes it with `None`
    /// (asyncio's `Timeout.reschedule()`). A deadline already passed
    /// expires the scope as soon as the body next waits. Once the scope
    /// has returned (done or expired) or was dropped, this does nothing,
    /// where asyncio raises `RuntimeError`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, sleep, timeout_scope};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let result = timeout_scope(Duration::from_secs(60), |scope| async move {
    ///         scope.reschedule(Some(Instant::now() + Duration::from_secs(1)));
    ///         sleep(Duration::from_secs(5)).await;
    ///     })
    ///     .await;
    ///     assert!(result.is_err());
    ///     assert_eq!(start.elapsed(), Duration::from_secs(1));
    /// });
    /// ```
    pub fn reschedule(&self, deadline: Option<Instant>) {
        let waker = {
            let mut state = self.lock();
            if state.ended {
                return;
            }
            state.deadline = deadline.map_or(Deadline::Never, Deadline::At);
            state.changed = true;
            state.rescheduled = true;
            if state.polling {
                None
            } else {
                state.waker.take()
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the deadline passed before the body finished: the scope gave
    /// [`Elapsed`] (asyncio's `Timeout.expired()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{sleep, timeout_scope};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut kept = None;
    ///     let result = timeout_scope(Duration::from_secs(1), |scope| {
    ///         kept = Some(scope);
    ///         sleep(Duration::from_secs(2))
    ///     })
    ///     .await;
    ///     assert!(result.is_err());
    ///     assert!(kept.unwrap().expired());
    /// });
    /// ```
    pub fn expired(&self) -> bool {
        self.lock().expired
    }
}

impl fmt::Debug for TimeoutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("TimeoutScope")
            .field("deadline", &state.deadline)
            .field("expired", &state.expired)
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout_scope`] and [`timeout_scope_at`]:
    /// the body's output, or [`Elapsed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{ScopedTimeout, sleep, timeout_scope};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let scoped: ScopedTimeout<_> = timeout_scope(Duration::from_secs(1), |_scope| async {
    ///         sleep(Duration::from_secs(3)).await;
    ///     });
    ///     assert!(scoped.await.is_err());
    /// });
    /// ```
    #[must_use = "a ScopedTimeout does nothing unless awaited"]
    pub struct ScopedTimeout<F> {
        #[pin]
        future: F,
        scope: TimeoutScope,
        // The armed timer; `None` while there is no deadline.
        sleep: Option<Sleep>,
        duration: Option<Duration>,
    }

    impl<F> PinnedDrop for ScopedTimeout<F> {
        // Dropped before it returned (cancelled from outside): the scope
        // has ended, and clones kept elsewhere no longer hold its waker.
        fn drop(this: Pin<&mut Self>) {
            let waker = {
                let mut state = this.scope.lock();
                state.ended = true;
                state.waker.take()
            };
            drop(waker);
        }
    }
}

impl<F> ScopedTimeout<F> {
    /// The scope's handle, as the body received it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let scoped = brigade::time::timeout_scope(Duration::from_secs(1), |_| async {});
    ///     assert!(scoped.scope().deadline().is_some());
    /// });
    /// ```
    pub fn scope(&self) -> &TimeoutScope {
        &self.scope
    }
}

impl<F: Future> Future for ScopedTimeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        {
            let mut state = this.scope.lock();
            if let Deadline::After(duration) = state.deadline {
                let now = Instant::now();
                state.deadline = Deadline::At(super::clock::saturating_after(now, duration));
            }
            state.polling = true;
        }
        let polled = this.future.poll(cx);
        let mut state = this.scope.lock();
        state.polling = false;
        if let Poll::Ready(value) = polled {
            state.ended = true;
            let waker = state.waker.take();
            drop(state);
            drop(waker);
            return Poll::Ready(Ok(value));
        }
        let changed = std::mem::take(&mut state.changed).then_some(state.deadline);
        match &state.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        let rescheduled = state.rescheduled;
        // The timer is moved outside the lock: dropping an old waker may
        // run code that reaches the scope.
        drop(state);
        match changed {
            Some(Deadline::At(at)) => match this.sleep {
                Some(sleep) => sleep.reset(at),
                None => *this.sleep = Some(sleep_until(at)),
            },
            // Dropping the sleep cancels its timer.
            Some(Deadline::Never | Deadline::After(_)) => *this.sleep = None,
            None => {}
        }
        let Some(sleep) = this.sleep.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => {
                let waker = {
                    let mut state = this.scope.lock();
                    state.ended = true;
                    state.expired = true;
                    state.waker.take()
                };
                drop(waker);
                Poll::Ready(Err(if rescheduled {
                    Elapsed::at_deadline()
                } else {
                    Elapsed::after(*this.duration)
                }))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for ScopedTimeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedTimeout")
            .field("scope", &self.scope)
            .finish()
    }
}
