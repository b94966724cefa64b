//! [`yield_now`]: let the other tasks run (`await asyncio.sleep(0)`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Suspends the current task once, putting it at the back of the run queue
/// so that every other ready task runs first.
///
/// # Cancel safety
///
/// This method is cancel safe: it holds nothing, so dropping it loses
/// nothing.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     for _ in 0..3 {
///         brigade::yield_now().await;
///     }
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
