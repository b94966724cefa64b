//! Awaiting a task: [`JoinHandle`] and the [`JoinError`] it may report.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::context;
use super::task::{CANCELLED, COMPLETE, TaskId, TaskRef, panic_message};

/// Why a task produced no value.
///
/// # Examples
///
/// ```
/// use brigade::JoinError;
///
/// brigade::run(async {
///     let task = brigade::spawn(std::future::pending::<()>());
///     task.abort();
///     match task.await {
///         Err(JoinError::Cancelled(_)) => {}
///         other => panic!("{other:?}"),
///     }
/// });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum JoinError {
    /// The task was cancelled (aborted, or its loop shut down) before it
    /// finished.
    Cancelled(TaskId),
    /// The task panicked; the panic was caught and the loop kept running.
    Panicked(Panic),
    /// The handle was awaited on another event loop than the task's own.
    /// Tasks belong to one loop; use [`Handle::spawn`](super::Handle::spawn)
    /// to await work across loops.
    WrongLoop(TaskId),
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError::Cancelled(id)
    }

    pub(crate) fn panicked(payload: Box<dyn Any + Send>) -> JoinError {
        JoinError::Panicked(Panic::new(payload))
    }

    /// Whether the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled(_))
    }

    /// Whether the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let err = brigade::spawn(async { panic!("oops") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    ///     assert!(!err.is_cancelled());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }

    /// The panic message, if the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let err = brigade::spawn(async { panic!("disk full") }).await.unwrap_err();
    ///     assert_eq!(err.panic_message(), Some("disk full"));
    /// });
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => Some(p.message()),
            _ => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled(id) => write!(f, "task {id} was cancelled"),
            JoinError::Panicked(p) => write!(f, "task panicked: {}", p.message()),
            JoinError::WrongLoop(id) => write!(
                f,
                "task {id} was awaited on another event loop than its own; \
                 use Handle::spawn to await work across loops"
            ),
        }
    }
}

impl std::error::Error for JoinError {}

/// A caught panic: its message, and the payload to re-raise it with
/// [`Panic::resume`].
///
/// One pointer wide: every task's result slot has room for a
/// `Result<T, JoinError>`, and panics are rare, so they live on the heap
/// rather than widening every task.
///
/// # Examples
///
/// ```
/// use brigade::JoinError;
///
/// brigade::run(async {
///     let err = brigade::spawn(async { panic!("bad input") }).await.unwrap_err();
///     let JoinError::Panicked(panic) = err else { unreachable!() };
///     assert_eq!(panic.message(), "bad input");
/// });
/// ```
pub struct Panic(Box<Caught>);

struct Caught {
    message: String,
    // `Box<dyn Any + Send>` is not `Sync`; the mutex makes the error `Sync`
    // so it fits in `Box<dyn Error + Send + Sync>`.
    payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Panic {
        Panic(Box::new(Caught {
            message: panic_message(&*payload),
            payload: Mutex::new(Some(payload)),
        }))
    }

    /// The panic's message (`"<non-string panic payload>"` when it had none).
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::JoinError;
    ///
    /// brigade::run(async {
    ///     let err = brigade::spawn(async { std::panic::panic_any(17) }).await.unwrap_err();
    ///     let JoinError::Panicked(panic) = err else { unreachable!() };
    ///     assert_eq!(panic.message(), "<non-string panic payload>");
    /// });
    /// ```
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Re-raises the panic on the current thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::panic::{AssertUnwindSafe, catch_unwind};
    /// use brigade::JoinError;
    ///
    /// brigade::run(async {
    ///     let err = brigade::spawn(async { panic!("boom") }).await.unwrap_err();
    ///     let JoinError::Panicked(panic) = err else { unreachable!() };
    ///     // Re-raise it in the awaiting code, as if the panic had happened here.
    ///     let raised = catch_unwind(AssertUnwindSafe(|| panic.resume()));
    ///     assert_eq!(raised.unwrap_err().downcast_ref::<&str>(), Some(&"boom"));
    /// });
    /// ```
    pub fn resume(self) -> ! {
        let Caught { message, payload } = *self.0;
        let payload = payload
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| Box::new(message));
        std::panic::resume_unwind(payload)
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.0.message)
            .finish()
    }
}

/// An owned permission to await a task's result.
///
/// It is itself a future: `handle.await` gives `Ok(value)`, or a
/// [`JoinError`] if the task panicked or was cancelled. Dropping the handle
/// detaches the task, which keeps running; [`abort`](Self::abort) cancels it.
///
/// # Cancel safety
///
/// Awaiting `&mut handle` is cancel safe: the output stays with the task
/// until a poll returns it, so a dropped `(&mut handle).await` (a
/// [`timeout`](crate::time::timeout) that ran out, say) loses nothing, and
/// the handle can be awaited again. Dropping the handle itself detaches the
/// task; it does not cancel it.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let task = brigade::spawn(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
///
///     let failing = brigade::spawn(async { panic!("boom") });
///     let error: brigade::JoinError = failing.await.unwrap_err();
///     assert_eq!(error.panic_message(), Some("boom"));
/// });
/// ```
pub struct JoinHandle<T> {
    task: TaskRef,
    // Not `Send`: the handle stays on its loop's thread, where the output is.
    _marker: PhantomData<(T, Rc<()>)>,
}

// The handle never holds a `T` (the output lives in the task), so moving it
// is fine whatever `T` is; `&mut handle` is then a future for every `T`.
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: TaskRef) -> JoinHandle<T> {
        JoinHandle {
            task,
            _marker: PhantomData,
        }
    }

    /// Requests cancellation. The task's future is dropped (running its
    /// destructors) the next time its loop turns; awaiting the handle then
    /// gives [`JoinError::Cancelled`]. Aborting a finished task does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        super::scheduler::schedule(self.task.clone_ref(), CANCELLED);
    }

    /// Whether the task has finished (with a value, a panic or cancellation).
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn(async {});
    ///     assert!(!task.is_finished()); // it has not run yet
    ///     brigade::yield_now().await;
    ///     assert!(task.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.state() & COMPLETE != 0
    }

    /// The task's unique id.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let a = brigade::spawn(async {});
    ///     let b = brigade::spawn(async {});
    ///     assert_ne!(a.id(), b.id());
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.task.header().id()
    }

    /// The name given with [`spawn_named`](super::spawn_named), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     assert_eq!(brigade::spawn_named("worker", async {}).name(), Some("worker"));
    ///     assert_eq!(brigade::spawn(async {}).name(), None);
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.task.header().name()
    }

    /// The output of a finished task, without a `Context`: `None` while the
    /// task runs (or if the output was already taken).
    pub(crate) fn take_finished(&mut self) -> Option<Result<T, JoinError>> {
        if self.task.state() & COMPLETE == 0 {
            return None;
        }
        let mut out: Option<Result<T, JoinError>> = None;
        // SAFETY: the handle lives on the owner thread (it is not `Send`),
        // the task is complete, and `T` is its output type.
        unsafe { self.task.take_output(&mut out as *mut _ as *mut ()) };
        out
    }

    /// Installs the waker that the task's completion wakes, as a poll of the
    /// handle would, without polling it. The caller keeps the handle on the
    /// task's own loop thread (it is not `Send`, and `JoinSet` never lets it
    /// leave), which is the only thread that touches the slot.
    pub(crate) fn set_join_waker(&self, waker: Waker) {
        // SAFETY: owner thread only (the handle is not `Send`); no reference
        // into the slot is alive across this write.
        unsafe { *self.task.header().join_waker.get() = Some(waker) };
    }

    /// A handle that can cancel the task without awaiting it.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn(std::future::pending::<()>());
    ///     let canceller = task.abort_handle();
    ///     brigade::spawn(async move { canceller.abort() });
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle {
            task: self.task.clone_ref(),
            _marker: PhantomData,
        }
    }
}

/// Cancels a task without owning its output; see [`JoinHandle::abort_handle`].
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let task = brigade::spawn(std::future::pending::<()>());
///     let abort: brigade::event_loop::AbortHandle = task.abort_handle();
///     abort.abort();
///     assert!(task.await.is_err());
///     assert!(abort.is_finished());
/// });
/// ```
pub struct AbortHandle {
    task: TaskRef,
    _marker: PhantomData<Rc<()>>,
}

impl AbortHandle {
    /// Requests cancellation, as [`JoinHandle::abort`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn(std::future::pending::<()>());
    ///     task.abort_handle().abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        super::scheduler::schedule(self.task.clone_ref(), CANCELLED);
    }

    /// Whether the task has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let task = brigade::spawn(async {});
    ///     let abort = task.abort_handle();
    ///     task.await.unwrap();
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.state() & COMPLETE != 0
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.task.header().id())
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.task.header();
        if let Some(false) = context::is_current(&header.shared) {
            return Poll::Ready(Err(JoinError::WrongLoop(header.id())));
        }
        if self.task.state() & COMPLETE != 0 {
            let mut out: Option<Result<T, JoinError>> = None;
            // SAFETY: the handle lives on the owner thread (it is not `Send`),
            // the task is complete, and `T` is its output type.
            unsafe { self.task.take_output(&mut out as *mut _ as *mut ()) };
            return Poll::Ready(out.expect("JoinHandle polled after it returned the output"));
        }
        // SAFETY: owner thread only (the handle is not `Send`).
        let slot = unsafe { &mut *header.join_waker.get() };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.task.header();
        header.handle_dropped();
        if self.task.state() & COMPLETE != 0 {
            // SAFETY: owner thread (the handle is not `Send`).
            unsafe { self.task.drop_output() };
        }
        // SAFETY: owner thread only.
        unsafe { *header.join_waker.get() = None };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}
