//! [`timeout`]: bound how long a future may take (`asyncio.wait_for`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep, sleep_until};

/// Runs `future` for at most `duration`. If it is not done by then, it is
/// dropped (cancelled) and [`Elapsed`] is returned.
///
/// At the boundary the future wins: it is polled before the deadline is
/// checked, so a future that is ready exactly at the deadline returns its
/// value.
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
        sleep: sleep(duration),
        duration: Some(duration),
    }
}

/// Runs `future` until `deadline` at the latest; see [`timeout`].
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
        duration: None,
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "a Timeout does nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
        duration: Option<Duration>,
    }
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(value) = this.future.poll(cx) {
            return Poll::Ready(Ok(value));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed {
                after: *this.duration,
            })),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    after: Option<Duration>,
}

impl Elapsed {
    /// The duration the future was given, when set with [`timeout`].
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
