//! [`wait`]: wait on running tasks until a condition holds, then hand back
//! the finished ones and the still-running ones (`asyncio.wait`).
//!
//! asyncio's `wait` never cancels anything: what is pending when it returns
//! keeps running. In Rust, dropping a future cancels it, so `wait` takes
//! *tasks* (their [`JoinHandle`]s), which run whether or not anyone polls
//! them, and gives the pending ones back as handles. Finished tasks come
//! back with their results already taken (a [`Finished`]), which is what
//! lets [`ReturnWhen::FirstException`] look at them.
//!
//! ```
//! use std::time::Duration;
//! use brigade::event_loop::{ReturnWhen, wait};
//! use brigade::time::sleep;
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let tasks = [1u64, 3].map(|s| brigade::spawn(async move {
//!         sleep(Duration::from_secs(s)).await;
//!         s
//!     }));
//!     let (done, pending) = wait(tasks, None, ReturnWhen::FirstCompleted).await;
//!     assert_eq!(done[0].result.as_ref().unwrap(), &1);
//!     // The other task was not cancelled: it still finishes.
//!     assert_eq!(pending.len(), 1);
//!     for task in pending {
//!         assert_eq!(task.await.unwrap(), 3);
//!     }
//! });
//! ```

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use super::concurrent::Concurrent;
use super::join::{JoinError, JoinHandle};
use super::task::TaskId;

/// When [`wait`] returns (asyncio's and concurrent.futures' `return_when`);
/// the same enum serves [`thread::wait`](crate::thread::wait) over pool jobs.
///
/// # Examples
///
/// ```
/// use brigade::ReturnWhen;
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task finishes (`FIRST_COMPLETED`).
    FirstCompleted,
    /// As soon as any task fails, or when all have finished
    /// (`FIRST_EXCEPTION`). What counts as failing depends on the function:
    /// see [`wait`], [`try_wait`] and [`thread::wait`](crate::thread::wait).
    FirstException,
    /// When every task has finished (`ALL_COMPLETED`).
    AllCompleted,
}

/// A task that [`wait`] saw finish, with its result.
///
/// # Examples
///
/// ```
/// use brigade::event_loop::{ReturnWhen, wait};
///
/// brigade::run(async {
///     let (done, _) = wait([brigade::spawn(async { 'a' })], None, ReturnWhen::AllCompleted).await;
///     let finished: &brigade::event_loop::Finished<char> = &done[0];
///     assert_eq!(finished.index, 0);
///     assert_eq!(*finished.result.as_ref().unwrap(), 'a');
/// });
/// ```
#[derive(Debug)]
pub struct Finished<T> {
    /// The task's position among the handles given to [`wait`].
    pub index: usize,
    /// The task's id.
    pub id: TaskId,
    /// What the task returned, or why it did not.
    pub result: Result<T, JoinError>,
}

/// Waits on running tasks until `return_when` holds or `timeout` passes,
/// and returns `(done, pending)`: the tasks that finished, in the order they
/// finished (those found finished together in the order given), and the
/// ones still running, in the order given (`asyncio.wait`).
///
/// Nothing is cancelled: pending tasks run on and can be awaited or waited
/// on again. The timeout ends the wait without an error, as in asyncio.
/// [`ReturnWhen::FirstException`] counts a task that panicked (or was
/// awaited on the wrong loop) as failing; a cancelled task does not count,
/// as in asyncio. For tasks that return a `Result`, [`try_wait`] counts an
/// `Err` as failing too.
///
/// Differences from asyncio: finished tasks come back with their results
/// ([`Finished`]) rather than as handles, and an empty input returns two
/// empty lists instead of raising `ValueError`.
///
/// # Cancel safety
///
/// Not cancel safe: if the future is dropped before it returns, its handles
/// are dropped, which detaches the tasks. They keep running, but their
/// results are lost. (Pass handles you can get back, such as
/// [`AbortHandle`](crate::event_loop::AbortHandle)s kept aside, if you
/// need to cancel them afterwards.)
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::event_loop::{ReturnWhen, wait};
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let tasks: Vec<_> = (1..=3u64)
///         .map(|s| brigade::spawn(async move { sleep(Duration::from_secs(s)).await; s }))
///         .collect();
///     let timeout = Some(Duration::from_millis(2500));
///     let (done, pending) = wait(tasks, timeout, ReturnWhen::AllCompleted).await;
///     assert_eq!(done.len(), 2);
///     assert_eq!(pending.len(), 1);
///     assert_eq!(pending.into_iter().next().unwrap().await.unwrap(), 3);
/// });
/// ```
pub async fn wait<T, I>(
    tasks: I,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<Finished<T>>, Vec<JoinHandle<T>>)
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    wait_until(
        tasks,
        timeout,
        return_when,
        |result| matches!(result, Err(e) if !e.is_cancelled()),
    )
    .await
}

/// [`wait`] for tasks that return a `Result`: with
/// [`ReturnWhen::FirstException`], a task that returned `Err` counts as
/// failing too, as does one that panicked (but not a cancelled one).
///
/// # Cancel safety
///
/// Not cancel safe, as [`wait`]: dropping the future detaches the tasks,
/// and their results are lost.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::event_loop::{ReturnWhen, try_wait};
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let ok = brigade::spawn(async { sleep(Duration::from_secs(9)).await; Ok(1) });
///     let bad = brigade::spawn(async { sleep(Duration::from_secs(1)).await; Err("bad") });
///     let (done, pending) = try_wait([ok, bad], None, ReturnWhen::FirstException).await;
///     assert_eq!(done[0].index, 1);
///     assert_eq!(*done[0].result.as_ref().unwrap(), Err("bad"));
///     assert_eq!(pending.len(), 1);
/// });
/// ```
pub async fn try_wait<T, E, I>(
    tasks: I,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<Finished<Result<T, E>>>, Vec<JoinHandle<Result<T, E>>>)
where
    I: IntoIterator<Item = JoinHandle<Result<T, E>>>,
{
    wait_until(tasks, timeout, return_when, |result| match result {
        Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(e) => !e.is_cancelled(),
    })
    .await
}

async fn wait_until<T, I>(
    tasks: I,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
    failed: impl Fn(&Result<T, JoinError>) -> bool,
) -> (Vec<Finished<T>>, Vec<JoinHandle<T>>)
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    let mut set = Concurrent::new();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.id());
        set.push(task);
    }
    let mut done = Vec::new();
    if set.len() > 0 {
        let mut deadline = timeout.map(crate::time::sleep);
        let mut reached = false;
        poll_fn(|cx| {
            // Take every task that has finished by now, then decide.
            loop {
                match set.poll_next(cx) {
                    Poll::Ready(Some((index, result))) => {
                        reached |= match return_when {
                            ReturnWhen::FirstCompleted => true,
                            ReturnWhen::FirstException => failed(&result),
                            ReturnWhen::AllCompleted => false,
                        };
                        done.push(Finished {
                            index,
                            id: ids[index],
                            result,
                        });
                    }
                    Poll::Ready(None) => return Poll::Ready(()),
                    Poll::Pending if reached => return Poll::Ready(()),
                    Poll::Pending => {
                        return match deadline.as_mut().map(|d| Pin::new(d).poll(cx)) {
                            Some(Poll::Ready(())) => Poll::Ready(()),
                            _ => Poll::Pending,
                        };
                    }
                }
            }
        })
        .await;
    }
    let pending = set
        .into_pending()
        .into_iter()
        .map(|(_, task)| *Pin::into_inner(task))
        .collect();
    (done, pending)
}
