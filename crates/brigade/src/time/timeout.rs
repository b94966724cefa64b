//! [`timeout`]: bound how long a future may take (`asyncio.wait_for`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep_until};

/// Runs `future` for at most `duration`. If it is not done by then, it is
/// dropped (cancelled) and [`Elapsed`] is returned.
///
/// At the boundary the future wins: it is polled before the deadline is
/// checked, so a future that is ready exactly at the deadline returns its
/// value.
///
/// # Cancel safety
///
/// Dropping the timeout drops `future` with it, so the timeout is exactly
/// as cancel safe as `future` is. When the deadline passes, `future` is
/// dropped the same way: wrap only futures whose cancellation loses nothing
/// (all of brigade's waits say so in their docs), or pass `&mut future` to
/// keep it.
///
/// # Panics
///
/// When polled outside of a brigade event loop while `future` is not ready
/// (the deadline needs the loop's timers).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{sleep, timeout};
///
/// brigade::run(async {
///     let fast = timeout(Duration::from_secs(1), async { 7 }).await;
///     assert_eq!(fast.unwrap(), 7);
///     let slow = timeout(Duration::from_millis(1), sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: Sleep::after(duration),
        duration: Some(duration),
        bounded: true,
        expired: false,
    }
}

/// Runs `future` until `deadline` at the latest; see [`timeout`].
///
/// # Cancel safety
///
/// As [`timeout`]: exactly as cancel safe as `future`.
///
/// # Panics
///
/// As [`timeout`]: when polled outside of a brigade event loop while
/// `future` is not ready.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, sleep, timeout_at};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_secs(5);
///     assert!(timeout_at(deadline, sleep(Duration::from_secs(6))).await.is_err());
///     assert_eq!(Instant::now(), deadline);
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
        duration: None,
        bounded: true,
        expired: false,
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    ///
    /// Like `asyncio.Timeout`, it can be inspected and moved while it runs:
    /// [`deadline`](Self::deadline) (asyncio's `when()`),
    /// [`reschedule`](Self::reschedule) and [`expired`](Self::expired).
    /// These need the future itself, so they serve the code that polls it
    /// (`select!` loops, hand-written futures); for a body that moves its
    /// own deadline, use [`timeout_scope`](super::timeout_scope).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Timeout, sleep, timeout};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let bounded: Timeout<_> = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5)));
    ///     assert!(bounded.await.is_err());
    /// });
    /// ```
    #[must_use = "a Timeout does nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
        // The duration given to `timeout`, reported by `Elapsed`; `None`
        // for `timeout_at` and once rescheduled.
        duration: Option<Duration>,
        // Whether there is a deadline at all (`reschedule(None)` clears it).
        bounded: bool,
        expired: bool,
    }
}

impl<F> Timeout<F> {
    /// The inner future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let inner = brigade::timeout(Duration::from_secs(1), async { 5 }).into_inner();
    /// assert_eq!(brigade::run(inner), 5);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The deadline (asyncio's `Timeout.when()`): `None` when there is none
    /// (after [`reschedule(None)`](Self::reschedule)), and for a
    /// [`timeout`] created outside of a loop until its first poll fixes it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::{Instant, timeout};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let t = timeout(Duration::from_secs(3), async {});
    ///     assert_eq!(t.deadline(), Some(Instant::now() + Duration::from_secs(3)));
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        if self.bounded {
            self.sleep.deadline()
        } else {
            None
        }
    }

    /// Whether the deadline passed first: the timeout returned [`Elapsed`]
    /// (asyncio's `Timeout.expired()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    /// use std::time::Duration;
    ///
    /// brigade::run(async {
    ///     let mut t = pin!(brigade::timeout(Duration::ZERO, std::future::pending::<()>()));
    ///     let mut cx = Context::from_waker(Waker::noop());
    ///     assert!(matches!(t.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
    ///     assert!(t.expired());
    /// });
    /// ```
    pub fn expired(&self) -> bool {
        self.expired
    }

    /// Moves the deadline to `deadline`, or removes it with `None`
    /// (asyncio's `Timeout.reschedule()`). A deadline already passed
    /// expires the timeout at its next poll (the future is polled first,
    /// and wins if it is ready). Takes effect when the timeout is polled
    /// next: the caller polls it again, as after tokio's `Sleep::reset`.
    /// Does nothing once the timeout has expired (asyncio raises there).
    /// After a reschedule, [`Elapsed::duration`] is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::time::Duration;
    /// use brigade::time::{Instant, sleep, timeout};
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut t = pin!(timeout(Duration::from_secs(1), sleep(Duration::from_secs(5))));
    ///     t.as_mut().reschedule(Some(start + Duration::from_secs(10)));
    ///     assert!(t.await.is_ok());
    ///     assert_eq!(start.elapsed(), Duration::from_secs(5));
    /// });
    /// ```
    pub fn reschedule(self: Pin<&mut Self>, deadline: Option<Instant>) {
        let this = self.project();
        if *this.expired {
            return;
        }
        *this.duration = None;
        match deadline {
            Some(deadline) => {
                *this.bounded = true;
                this.sleep.reset(deadline);
            }
            None => {
                *this.bounded = false;
                // Beyond the horizon: drops the pending timer, sets none.
                let never = super::clock::saturating_after(Instant::now(), Duration::MAX);
                this.sleep.reset(never);
            }
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(value) = this.future.poll(cx) {
            return Poll::Ready(Ok(value));
        }
        if !*this.bounded {
            return Poll::Pending;
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => {
                *this.expired = true;
                Poll::Ready(Err(Elapsed {
                    after: *this.duration,
                }))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`timeout`] whose deadline passed first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Elapsed, sleep, timeout};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let err: Elapsed = timeout(Duration::from_secs(1), sleep(Duration::from_secs(2)))
///         .await
///         .unwrap_err();
///     let io: std::io::Error = err.into(); // `?` in functions returning io::Result
///     assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    after: Option<Duration>,
}

impl Elapsed {
    /// Elapsed at a deadline set by other means than a duration.
    pub(crate) fn at_deadline() -> Elapsed {
        Elapsed { after: None }
    }

    /// Elapsed after `duration`, as given to the timeout.
    pub(crate) fn after(duration: Option<Duration>) -> Elapsed {
        Elapsed { after: duration }
    }

    /// The duration the future was given, when set with [`timeout`] (or
    /// [`timeout_scope`](super::timeout_scope)) and never rescheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let slow = brigade::time::sleep(Duration::from_secs(9));
    ///     let error = brigade::timeout(Duration::from_secs(2), slow).await.unwrap_err();
    ///     assert_eq!(error.duration(), Some(Duration::from_secs(2)));
    /// });
    /// ```
    pub fn duration(&self) -> Option<Duration> {
        self.after
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.after {
            Some(d) => write!(f, "timed out after {d:?}"),
            None => write!(f, "deadline has elapsed"),
        }
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}
