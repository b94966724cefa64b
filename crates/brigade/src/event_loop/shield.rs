//! [`shield`]: work that the cancellation of whoever awaits it does not
//! cancel (`asyncio.shield`).
//!
//! # Cancellation in Rust, and what shielding means here
//! asyncio cancels a task by throwing `CancelledError` into the coroutine it
//! awaits; `shield(aw)` stops that exception at the shield, and the inner
//! task runs on. In Rust a future is cancelled by *dropping* it: a timeout,
//! a `select`, or an aborted task drops the futures it was awaiting, and
//! everything they own goes with them. So the shielded work must not be
//! owned by the awaiting future: [`shield`] spawns it as a task of its own,
//! and the returned [`Shield`] only holds that task's handle. Dropping the
//! shield detaches the task instead of cancelling it.
//!
//! To get the result after the wait was cancelled, keep the `Shield` where
//! the cancellation does not reach, and await `&mut shield` in the
//! cancellable part (as asyncio code keeps the task and awaits
//! `shield(task)`); or turn it into its [`JoinHandle`].
//!
//! ```
//! use std::time::Duration;
//! use brigade::event_loop::shield;
//! use brigade::time::{sleep, timeout};
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     let mut save = shield(async {
//!         sleep(Duration::from_secs(5)).await;
//!         "saved"
//!     });
//!     // The wait gives up after a second; the work does not.
//!     assert!(timeout(Duration::from_secs(1), &mut save).await.is_err());
//!     assert_eq!(save.await.unwrap(), "saved");
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::join::{AbortHandle, JoinError, JoinHandle};
use super::task::TaskId;

/// Runs `future` as a task of its own, so that cancelling whoever awaits
/// the returned [`Shield`] does not cancel the work (`asyncio.shield`).
///
/// The work starts at once (at the loop's next turn), whether or not the
/// shield is awaited, and runs to completion unless it is aborted itself
/// ([`Shield::abort`]) or its loop shuts down.
///
/// asyncio cancels by throwing `CancelledError` into the awaiting
/// coroutine, and `shield` stops it there. Rust cancels by *dropping* the
/// awaiting future (a timeout, a `select`, an aborted task), which drops
/// everything it owns. So the work is not owned by the [`Shield`]: it runs
/// as a task of its own, and dropping the shield detaches that task. To
/// get the result after a wait was cancelled, keep the `Shield` outside
/// the cancelled part and await `&mut shield` inside it (as asyncio code
/// keeps the task and awaits `shield(task)`), or hand its
/// [`JoinHandle`](Shield::into_join_handle) to whoever outlives the wait.
///
/// Differences from asyncio: the output is a `Result` with a
/// [`JoinError`] (the work may panic or be aborted); and a
/// [`JoinHandle`] needs no shield, since dropping one never cancels its
/// task: await `&mut handle` where asyncio awaits `shield(task)`.
///
/// # Panics
/// Outside of a running event loop, as [`spawn`](super::spawn) does.
///
/// # Cancel safety
///
/// This is what `shield` is for: dropping the [`Shield`] (or a future that
/// awaits it) loses neither the work nor its result while the shield
/// itself is kept; the work runs on as its own task, and `&mut shield`
/// can be awaited again. Dropping the `Shield` itself detaches the work,
/// which still runs to completion; only its output is lost.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// use brigade::event_loop::shield;
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let saved = Rc::new(Cell::new(false));
///     let flag = saved.clone();
///     let waiter = brigade::spawn(async move {
///         shield(async move {
///             sleep(Duration::from_secs(2)).await;
///             flag.set(true);
///         })
///         .await
///     });
///     sleep(Duration::from_secs(1)).await;
///     waiter.abort(); // cancels the waiter, not the shielded work
///     assert!(waiter.await.unwrap_err().is_cancelled());
///     sleep(Duration::from_secs(2)).await;
///     assert!(saved.get());
/// });
/// ```
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + 'static,
{
    Shield {
        handle: super::spawn(future),
    }
}

/// The future returned by [`shield`]: the shielded task's result.
///
/// Dropping it (a timeout, a `select`, an aborted task) leaves the task
/// running. It is `Unpin`, so `&mut shield` is a future too: awaiting
/// through a reference lets a cancelled wait leave the shield, and the
/// result, with its owner.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::event_loop::{Either, select, shield};
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let mut work = shield(async { sleep(Duration::from_secs(3)).await; 42 });
///     let first = select(&mut work, sleep(Duration::from_secs(1))).await;
///     assert!(matches!(first, Either::Right(())));
///     assert!(!work.is_finished());
///     assert_eq!(work.await.unwrap(), 42);
/// });
/// ```
#[must_use = "a dropped Shield detaches its task, whose result is then lost"]
pub struct Shield<T> {
    handle: JoinHandle<T>,
}

impl<T> Shield<T> {
    /// The shielded task's handle, to await or keep elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let handle: brigade::JoinHandle<u8> =
    ///         brigade::event_loop::shield(async { 8 }).into_join_handle();
    ///     assert_eq!(handle.await.unwrap(), 8);
    /// });
    /// ```
    pub fn into_join_handle(self) -> JoinHandle<T> {
        self.handle
    }

    /// Cancels the shielded work itself (the shield guards against the
    /// cancellation of its waiters only).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let work = brigade::event_loop::shield(std::future::pending::<()>());
    ///     work.abort();
    ///     assert!(work.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.handle.abort();
    }

    /// A handle that cancels the shielded work without awaiting it.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let work = brigade::event_loop::shield(std::future::pending::<()>());
    ///     work.abort_handle().abort();
    ///     assert!(work.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        self.handle.abort_handle()
    }

    /// Whether the work has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let work = brigade::event_loop::shield(async {});
    ///     assert!(!work.is_finished());
    ///     brigade::yield_now().await;
    ///     assert!(work.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// The shielded task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let work = brigade::event_loop::shield(async {});
    ///     let id = work.id();
    ///     assert_eq!(work.into_join_handle().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.handle.id()
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
