//! [`gather`], [`try_gather`], [`race`] and [`as_completed`]: run futures
//! concurrently inside the current task.
//!
//! Unlike [`spawn`](super::spawn), these poll the futures in place: they
//! need not be `'static`, and dropping the combinator cancels them all.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::concurrent::Concurrent;

/// Runs all `futures` concurrently and returns their outputs in the order
/// given, once every one has finished (`asyncio.gather`). Use
/// [`try_gather`] to stop at the first error.
///
/// # Cancel safety
///
/// Not cancel safe: dropping the future drops (cancels) every future it
/// runs, and the outputs of those already finished are lost.
///
/// # Examples
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
/// # Errors
///
/// The first `Err` any future returns, by the time it finished (not by its
/// place in `futures`); the other futures are dropped at once.
///
/// # Cancel safety
///
/// Not cancel safe: dropping the future drops (cancels) every future it
/// runs, and the values of those already finished are lost.
///
/// # Examples
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
/// # Cancel safety
///
/// Dropping the future drops (cancels) every future it runs; as none has
/// finished yet (the first to finish ends the race), no output is lost.
///
/// # Examples
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
///
/// # Examples
///
/// ```
/// use brigade::event_loop::{Either, select};
///
/// brigade::run(async {
///     let first = select(async { 1 }, std::future::pending::<&str>()).await;
///     assert_eq!(first, Either::Left(1));
/// });
/// ```
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
/// # Cancel safety
///
/// Dropping the future drops (cancels) both futures; as neither has finished
/// yet, no output is lost. The loser is always dropped, finished or not: to
/// keep it, pass `&mut` to a future you own (or a [`JoinHandle`](crate::JoinHandle)).
///
/// # Examples
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
/// # Examples
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
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let mut done: brigade::event_loop::AsCompleted<_> =
///         brigade::event_loop::as_completed([async { 1 }]);
///     assert_eq!(done.remaining(), 1);
///     assert_eq!(done.next().await, Some(1));
/// });
/// ```
pub struct AsCompleted<F: Future> {
    set: Concurrent<F>,
}

impl<F: Future> AsCompleted<F> {
    /// Gives up after `duration` (`asyncio.as_completed(aws, timeout=)`):
    /// outputs come as `Ok` until then; if some futures have not finished
    /// when it passes, [`next`](AsCompletedTimeout::next) yields one
    /// [`TimedOut`] that hands them back, then `None`.
    ///
    /// Unlike asyncio, which leaves its tasks running, the futures here run
    /// inside the awaiting task: they do not advance while they sit in the
    /// error, and dropping it cancels them. Pass [`JoinHandle`]s
    /// (spawned tasks) to keep them running meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::sleep;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let tasks = [1u64, 5, 2].map(|s| brigade::spawn(async move {
    ///         sleep(Duration::from_secs(s)).await;
    ///         s
    ///     }));
    ///     let mut done = brigade::event_loop::as_completed(tasks).timeout(Duration::from_secs(3));
    ///     assert_eq!(done.next().await.unwrap().unwrap().unwrap(), 1);
    ///     assert_eq!(done.next().await.unwrap().unwrap().unwrap(), 2);
    ///     let timed_out = done.next().await.unwrap().unwrap_err();
    ///     assert!(done.next().await.is_none());
    ///     // The slow task is handed back, still running.
    ///     for task in timed_out.into_remaining() {
    ///         assert_eq!(task.await.unwrap(), 5);
    ///     }
    /// });
    /// ```
    ///
    /// [`JoinHandle`]: super::JoinHandle
    pub fn timeout(self, duration: Duration) -> AsCompletedTimeout<F> {
        AsCompletedTimeout {
            set: Some(self.set),
            deadline: crate::time::sleep(duration),
            duration,
        }
    }

    /// The next output to finish, or `None` when all have.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: an output leaves the set only in the poll
    /// that returns it, so dropping the future loses nothing, and the futures
    /// left keep their progress.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut done = brigade::event_loop::as_completed(['a', 'b'].map(|c| async move { c }));
    ///     let mut got = Vec::new();
    ///     while let Some(c) = done.next().await {
    ///         got.push(c);
    ///     }
    ///     got.sort();
    ///     assert_eq!(got, ['a', 'b']);
    /// });
    /// ```
    pub async fn next(&mut self) -> Option<F::Output> {
        poll_fn(|cx| self.set.poll_next(cx))
            .await
            .map(|(_, output)| output)
    }

    /// How many futures have not finished yet.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut done = brigade::event_loop::as_completed([1, 2].map(|n| async move { n }));
    ///     assert_eq!(done.remaining(), 2);
    ///     done.next().await;
    ///     assert_eq!(done.remaining(), 1);
    /// });
    /// ```
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

/// [`as_completed`] with a deadline; made by [`AsCompleted::timeout`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// brigade::run(async {
///     let mut done = brigade::event_loop::as_completed([async { 'a' }])
///         .timeout(Duration::from_secs(1));
///     assert_eq!(done.next().await.unwrap().unwrap(), 'a');
///     assert!(done.next().await.is_none());
/// });
/// ```
pub struct AsCompletedTimeout<F: Future> {
    /// `None` once the deadline has passed and the rest was handed back.
    set: Option<Concurrent<F>>,
    deadline: crate::time::Sleep,
    duration: Duration,
}

impl<F: Future> AsCompletedTimeout<F> {
    /// The next output to finish (`Ok`); once the deadline passes with
    /// futures unfinished, a [`TimedOut`] holding them; then `None`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropping the returned future loses no
    /// output.
    ///
    /// # Errors
    ///
    /// `Some(Err(`[`TimedOut`]`))`, once, if the deadline passes while futures
    /// are unfinished; it hands them back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::sleep;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let slow = async { sleep(Duration::from_secs(10)).await; 10 };
    ///     let mut done = brigade::event_loop::as_completed([slow]).timeout(Duration::from_secs(1));
    ///     let timed_out = done.next().await.unwrap().unwrap_err();
    ///     assert_eq!(timed_out.remaining().len(), 1);
    ///     // The future is handed back unfinished; it can still be awaited.
    ///     let mut rest = timed_out.into_remaining();
    ///     assert_eq!(rest.pop().unwrap().await, 10);
    /// });
    /// ```
    pub async fn next(&mut self) -> Option<Result<F::Output, TimedOut<F>>> {
        poll_fn(|cx| self.poll_next_timeout(cx)).await
    }

    /// How many futures have not finished yet (0 once they were handed
    /// back).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let done = brigade::event_loop::as_completed([1, 2].map(|n| async move { n }))
    ///     .timeout(Duration::from_secs(1));
    /// assert_eq!(done.remaining(), 2);
    /// ```
    pub fn remaining(&self) -> usize {
        self.set.as_ref().map_or(0, |set| set.pending())
    }

    #[allow(clippy::type_complexity)]
    fn poll_next_timeout(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<F::Output, TimedOut<F>>>> {
        let Some(set) = self.set.as_mut() else {
            return Poll::Ready(None);
        };
        match set.poll_next(cx) {
            Poll::Ready(Some((_, output))) => return Poll::Ready(Some(Ok(output))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if Pin::new(&mut self.deadline).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let remaining = self
            .set
            .take()
            .map(|set| set.into_pending().into_iter().map(|(_, f)| f).collect())
            .unwrap_or_default();
        Poll::Ready(Some(Err(TimedOut {
            remaining,
            after: self.duration,
        })))
    }
}

impl<F: Future> futures_core::Stream for AsCompletedTimeout<F> {
    type Item = Result<F::Output, TimedOut<F>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_timeout(cx)
    }
}

/// The deadline of [`AsCompleted::timeout`] passed before every future
/// finished (asyncio's `TimeoutError`); holds the unfinished futures.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let never = std::future::pending::<()>();
///     let mut done = brigade::event_loop::as_completed([never]).timeout(Duration::from_secs(2));
///     let error: brigade::event_loop::TimedOut<_> = done.next().await.unwrap().unwrap_err();
///     assert_eq!(error.to_string(), "as_completed timed out after 2s with 1 future unfinished");
///     assert_eq!(error.duration(), Duration::from_secs(2));
/// });
/// ```
pub struct TimedOut<F> {
    remaining: Vec<Pin<Box<F>>>,
    after: Duration,
}

impl<F> TimedOut<F> {
    /// The futures that had not finished, in the order given.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let tasks = [1u64, 9].map(|s| brigade::spawn(async move {
    ///         brigade::sleep(Duration::from_secs(s)).await;
    ///         s
    ///     }));
    ///     let mut done = brigade::event_loop::as_completed(tasks).timeout(Duration::from_secs(5));
    ///     done.next().await;
    ///     let timed_out = done.next().await.unwrap().unwrap_err();
    ///     assert_eq!(timed_out.remaining().len(), 1);
    ///     assert!(!timed_out.remaining()[0].is_finished());
    /// });
    /// ```
    pub fn remaining(&self) -> &[Pin<Box<F>>] {
        &self.remaining
    }

    /// Hands back the unfinished futures, in the order given.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let tasks = [1u64, 9].map(|s| brigade::spawn(async move {
    ///         brigade::sleep(Duration::from_secs(s)).await;
    ///         s
    ///     }));
    ///     let mut done = brigade::event_loop::as_completed(tasks).timeout(Duration::from_secs(5));
    ///     done.next().await;
    ///     let timed_out = done.next().await.unwrap().unwrap_err();
    ///     let rest = brigade::gather(timed_out.into_remaining()).await;
    ///     assert_eq!(rest[0].as_ref().unwrap(), &9);
    /// });
    /// ```
    pub fn into_remaining(self) -> Vec<Pin<Box<F>>> {
        self.remaining
    }

    /// The timeout that passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let tasks = [1u64, 9].map(|s| brigade::spawn(async move {
    ///         brigade::sleep(Duration::from_secs(s)).await;
    ///         s
    ///     }));
    ///     let mut done = brigade::event_loop::as_completed(tasks).timeout(Duration::from_secs(5));
    ///     done.next().await;
    ///     let timed_out = done.next().await.unwrap().unwrap_err();
    ///     assert_eq!(timed_out.duration(), Duration::from_secs(5));
    /// });
    /// ```
    pub fn duration(&self) -> Duration {
        self.after
    }
}

impl<F> fmt::Display for TimedOut<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.remaining.len();
        write!(
            f,
            "as_completed timed out after {:?} with {n} future{} unfinished",
            self.after,
            if n == 1 { "" } else { "s" }
        )
    }
}

impl<F> fmt::Debug for TimedOut<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimedOut")
            .field("remaining", &self.remaining.len())
            .field("after", &self.after)
            .finish()
    }
}

impl<F> std::error::Error for TimedOut<F> {}
