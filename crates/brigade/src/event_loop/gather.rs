//! [`gather`], [`try_gather`], [`race`] and [`as_completed`]: run futures
//! concurrently inside the current task.
//!
//! Unlike [`spawn`](super::spawn), these poll the futures in place: they
//! need not be `'static`, and dropping the combinator cancels them all.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::concurrent::Concurrent;

/// Runs all `futures` concurrently and returns their outputs in the order
/// given, once every one has finished (`asyncio.gather`). Use
/// [`try_gather`] to stop at the first error.
///
/// ```
/// use std::time::Duration;
/// use brigade::time::{Instant, sleep};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let counts = brigade::gather((1..=3u64).map(|n| async move {
///         sleep(Duration::from_secs(n)).await;
///         n * 10
///     }))
///     .await;
///     assert_eq!(counts, [10, 20, 30]);
///     // Concurrently: the time of the longest, not the sum.
///     assert_eq!(start.elapsed(), Duration::from_secs(3));
/// });
/// ```
pub async fn gather<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut set = Concurrent::new();
    for future in futures {
        set.push(future);
    }
    let mut outputs: Vec<Option<_>> = (0..set.len()).map(|_| None).collect();
    while let Some((index, output)) = poll_fn(|cx| set.poll_next(cx)).await {
        outputs[index] = Some(output);
    }
    outputs
        .into_iter()
        .map(|o| o.expect("every member finished"))
        .collect()
}

/// Runs all `futures` concurrently; returns their values in order, or the
/// first error, in which case the others are dropped (cancelled) at once.
///
/// ```
/// brigade::run(async {
///     let check = |n: i32| async move { if n > 0 { Ok(n) } else { Err(format!("{n} is not positive")) } };
///     assert_eq!(brigade::try_gather([1, 2].map(check)).await, Ok(vec![1, 2]));
///     assert_eq!(brigade::try_gather([1, -2, -3].map(check)).await, Err("-2 is not positive".into()));
/// });
/// ```
pub async fn try_gather<I, T, E>(futures: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let mut set = Concurrent::new();
    for future in futures {
        set.push(future);
    }
    let mut outputs: Vec<Option<T>> = (0..set.len()).map(|_| None).collect();
    while let Some((index, output)) = poll_fn(|cx| set.poll_next(cx)).await {
        outputs[index] = Some(output?);
    }
    Ok(outputs
        .into_iter()
        .map(|o| o.expect("every member finished"))
        .collect())
}

/// Runs `futures` concurrently until the first one finishes; returns its
/// index and output and drops (cancels) the rest (`asyncio.wait` with
/// `FIRST_COMPLETED`, then cancelling the others). Returns `None` for no
/// futures.
///
/// ```
/// use std::time::Duration;
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// let winner = rt.block_on(brigade::race([3u64, 1, 2].map(|s| async move {
///     sleep(Duration::from_secs(s)).await;
///     s
/// })));
/// assert_eq!(winner, Some((1, 1)));
/// ```
pub async fn race<I>(futures: I) -> Option<(usize, <I::Item as Future>::Output)>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut set = Concurrent::new();
    for future in futures {
        set.push(future);
    }
    poll_fn(|cx| set.poll_next(cx)).await
}

/// The output of [`select`]: which of the two futures finished first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future finished first.
    Left(A),
    /// The second future finished first.
    Right(B),
}

/// Runs two futures of any types until one finishes; returns its output and
/// drops (cancels) the other. If both are ready at the same poll, the first
/// wins. For many futures of one type, use [`race`].
///
/// ```
/// use std::time::Duration;
/// use brigade::event_loop::{Either, select};
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// let first = rt.block_on(select(
///     async { sleep(Duration::from_secs(2)).await; "slow" },
///     async { sleep(Duration::from_secs(1)).await; 1 },
/// ));
/// assert_eq!(first, Either::Right(1));
/// ```
pub async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}

/// Outputs of `futures` in the order they finish (`asyncio.as_completed`).
///
/// ```
/// use std::time::Duration;
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let mut done = brigade::event_loop::as_completed([30u64, 10, 20].map(|ms| async move {
///         sleep(Duration::from_millis(ms)).await;
///         ms
///     }));
///     let mut order = Vec::new();
///     while let Some(ms) = done.next().await {
///         order.push(ms);
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut set = Concurrent::new();
    for future in futures {
        set.push(future);
    }
    AsCompleted { set }
}

/// The stream returned by [`as_completed`].
pub struct AsCompleted<F: Future> {
    set: Concurrent<F>,
}

impl<F: Future> AsCompleted<F> {
    /// The next output to finish, or `None` when all have.
    pub async fn next(&mut self) -> Option<F::Output> {
        poll_fn(|cx| self.set.poll_next(cx))
            .await
            .map(|(_, output)| output)
    }

    /// How many futures have not finished yet.
    pub fn remaining(&self) -> usize {
        self.set.pending()
    }
}

impl<F: Future> futures_core::Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.get_mut()
            .set
            .poll_next(cx)
            .map(|o| o.map(|(_, output)| output))
    }
}
