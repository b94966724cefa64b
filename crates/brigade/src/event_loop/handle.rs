//! [`Handle`]: how other threads reach an event loop.
//!
//! A loop and its tasks belong to one thread, but work often starts
//! elsewhere: a thread pool's job, a signal handler's thread, another
//! loop. A [`Handle`] is the loop's `Send + Sync` address. Through it any
//! thread can run a callback on the loop ([`Handle::call_soon`], asyncio's
//! `call_soon_threadsafe`) or spawn a future there ([`Handle::spawn`],
//! `asyncio.run_coroutine_threadsafe`), getting back a [`RemoteHandle`] to
//! await or to block on. When the loop has shut down, the work is handed
//! back in a [`LoopClosed`] rather than lost.
//!
//! ```
//! let rt = brigade::Runtime::new().unwrap();
//! let handle = rt.handle();
//! let remote = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
//!     .join()
//!     .unwrap();
//! assert_eq!(rt.block_on(remote).unwrap(), 42);
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::context;
use super::join::JoinError;
use super::scheduler::{self, Shared, next_task_id};
use super::task::TaskId;
use crate::sync::oneshot;

/// A `Send + Sync` handle to an event loop: lets any thread submit work to
/// it, as asyncio's `call_soon_threadsafe` and `run_coroutine_threadsafe` do.
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let handle: brigade::Handle = rt.handle();
/// let worker = std::thread::spawn(move || {
///     handle.call_soon(|| println!("on the loop's thread")).unwrap();
///     handle.spawn(async { 2 + 2 })
/// });
/// let remote = worker.join().unwrap();
/// assert_eq!(rt.block_on(remote).unwrap(), 4);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(super) shared: Arc<Shared>,
}

/// The loop behind a [`Handle`] has shut down; the work is handed back.
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let handle = rt.handle();
/// drop(rt);
/// let err: brigade::event_loop::LoopClosed<()> = handle.call_soon(|| {}).unwrap_err();
/// assert_eq!(err.0, ());
/// ```
pub struct LoopClosed<T>(pub T);

impl<T> fmt::Debug for LoopClosed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoopClosed(..)")
    }
}

impl<T> fmt::Display for LoopClosed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the event loop has shut down")
    }
}

impl<T> std::error::Error for LoopClosed<T> {}

impl Handle {
    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    /// Outside of a running event loop; see [`try_current`](Self::try_current).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let handle = brigade::Handle::current();
    ///     std::thread::spawn(move || handle.call_soon(|| {}).unwrap()).join().unwrap();
    /// });
    /// ```
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|| {
            panic!("Handle::current must be called from a task on a brigade event loop")
        })
    }

    /// The handle of the loop running on this thread, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(brigade::Handle::try_current().is_none());
    /// brigade::run(async { assert!(brigade::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with(|core| {
            core.map(|core| Handle {
                shared: core.shared.clone(),
            })
        })
    }

    /// Runs `f` on the loop's thread at its next turn.
    ///
    /// # Errors
    ///
    /// [`LoopClosed`] if the loop has shut down (its runtime was dropped); `f`
    /// is dropped without running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// let rt = brigade::Runtime::new().unwrap();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let flag = ran.clone();
    /// rt.handle().call_soon(move || flag.store(true, Ordering::SeqCst)).unwrap();
    /// rt.block_on(brigade::yield_now());
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    pub fn call_soon<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<(), LoopClosed<()>> {
        if scheduler::call_soon(&self.shared, Box::new(f)) {
            Ok(())
        } else {
            Err(LoopClosed(()))
        }
    }

    /// Spawns `future` on the loop from any thread. The returned
    /// [`RemoteHandle`] can be awaited on any loop or waited for from plain
    /// code. If the loop has shut down, the handle reports cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let remote = handle.spawn(async { "from any thread" });
    /// assert_eq!(rt.block_on(remote).unwrap(), "from any thread");
    /// ```
    pub fn spawn<F>(&self, future: F) -> RemoteHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = next_task_id();
        let (tx, rx) = oneshot::channel();
        let start = move || {
            let core = scheduler::current("Handle::spawn");
            let task = core.spawn(future, id, None);
            // Forwarding through a second task keeps panics and cancellation
            // reported as the task's own JoinError.
            let forward = async move {
                let _ = tx.send(task.await);
            };
            drop(core.spawn(forward, next_task_id(), None));
        };
        let _ = scheduler::call_soon(&self.shared, Box::new(start));
        RemoteHandle { rx, id }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("loop", &self.shared.id)
            .finish()
    }
}

/// The result of [`Handle::spawn`]: await it, or [`join`](Self::join) it
/// from plain code.
///
/// # Examples
///
/// ```
/// let (tx, rx) = std::sync::mpsc::channel();
/// let (stop_tx, stop_rx) = brigade::sync::oneshot::channel::<()>();
/// let server = std::thread::spawn(move || {
///     brigade::run(async move {
///         tx.send(brigade::Handle::current()).unwrap();
///         let _ = stop_rx.await; // serve until told to stop
///     })
/// });
/// let loop_handle = rx.recv().unwrap();
/// let remote: brigade::event_loop::RemoteHandle<u32> = loop_handle.spawn(async { 9 });
/// assert_eq!(remote.join().unwrap(), 9); // blocks this thread, not the loop
/// stop_tx.send(()).unwrap();
/// server.join().unwrap();
/// ```
pub struct RemoteHandle<T> {
    rx: oneshot::Receiver<Result<T, JoinError>>,
    id: TaskId,
}

impl<T> RemoteHandle<T> {
    /// Blocks the current thread until the task finishes. Never call this on
    /// an event loop's thread (it would stop that loop): await instead.
    ///
    /// # Panics
    /// On an event loop's thread, where it would block every task of the
    /// loop: await the handle there.
    ///
    /// # Errors
    ///
    /// [`JoinError::Panicked`] if the task panicked; [`JoinError::Cancelled`] if
    /// it was cancelled, or its loop shut down before it finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let remote = rt.handle().spawn(async { 1 });
    /// drop(rt); // the loop shuts down before the task ever ran
    /// assert!(remote.join().unwrap_err().is_cancelled());
    /// ```
    #[track_caller]
    pub fn join(self) -> Result<T, JoinError> {
        super::context::assert_not_on_loop("RemoteHandle::join", "handle.await");
        let id = self.id;
        self.rx
            .recv_blocking()
            .unwrap_or(Err(JoinError::Cancelled(id)))
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let a = rt.handle().spawn(async {});
    /// let b = rt.handle().spawn(async {});
    /// assert_ne!(a.id(), b.id());
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }
}

impl<T> Future for RemoteHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        std::pin::Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(JoinError::Cancelled(id))))
    }
}

impl<T> fmt::Debug for RemoteHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteHandle")
            .field("id", &self.id)
            .finish()
    }
}
