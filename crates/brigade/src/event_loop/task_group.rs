//! Structured concurrency: [`task_group`], a nursery in Trio's words
//! (`asyncio.TaskGroup` in Python's).
//!
//! A spawned task may outlive the code that spawned it, and its failure may
//! go unnoticed. A task group closes both holes: its body spawns children
//! through a [`TaskGroup`], and `task_group(..).await` returns only when
//! every child has finished. The first failure (a child's `Err`, a child's
//! panic, or the body's `Err`) cancels the body and all the other children,
//! and every failure reaches the caller in one [`GroupError`]. Dropping the
//! group's future (cancelling it from outside) cancels all children too, and
//! closes the group to new children, so no child ever outlives its group.
//! (Cancelled children's destructors run at the loop's next turn, right
//! after the group's future is gone.)
//!
//! A child cancelled on its own ([`GroupTask::abort`]) is not a failure:
//! it ends cancelled and the group goes on, as in asyncio. Children may be
//! named ([`TaskGroup::spawn_named`]): the name shows in
//! [`current_task`](super::current_task), in [`GroupError`]'s message and
//! its [`origins`](GroupError::origins) (see `task_group_error.rs`).

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll};

use super::concurrent::Concurrent;
use super::join::{AbortHandle, JoinError, JoinHandle};
use super::scheduler::next_task_id;
use super::task::TaskId;
use super::task_group_error::{Failure, GroupError, Origin};
use crate::slab::Slab;
use crate::sync::oneshot;

/// Runs `body` with a fresh [`TaskGroup`] and waits for all the children it
/// spawns. Returns the body's value, or every failure if anything failed.
///
/// # Errors
///
/// A [`GroupError`] holding every failure, in order, if the body returned
/// `Err`, a child returned `Err` or a child panicked; an empty one if the
/// group was [cancelled](TaskGroup::cancel) with nothing failing.
///
/// # Panics
///
/// Outside of a running event loop.
///
/// # Cancel safety
///
/// Not cancel safe, on purpose: dropping the future cancels the body and
/// every child (their destructors run at the loop's next turn), and their
/// results are lost. The group closes, so no child outlives it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::time::sleep;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// let result = rt.block_on(brigade::task_group(|group| async move {
///     let a = group.spawn(async { Ok::<_, String>(1) });
///     group.spawn(async {
///         sleep(Duration::from_secs(1)).await;
///         Err::<(), _>("board 2 resigned".to_string())
///     });
///     group.spawn(async {
///         sleep(Duration::from_secs(3600)).await; // cancelled by the failure
///         Ok(3)
///     });
///     Ok(a.await.unwrap())
/// }));
/// let error = result.unwrap_err();
/// assert_eq!(error.errors(), [&"board 2 resigned".to_string()]);
/// ```
pub async fn task_group<T, E, B, Fut>(body: B) -> Result<T, GroupError<E>>
where
    E: 'static,
    B: FnOnce(TaskGroup<E>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let core = super::scheduler::current("brigade::task_group");
    let group = TaskGroup {
        inner: Rc::new(RefCell::new(Inner::new(core))),
    };
    // Declared before the body so that it drops after it: whatever the
    // body's destructor spawns is cancelled too.
    let _cancel_on_drop = CancelOnDrop(group.clone());
    let mut run = Run {
        children: Concurrent::new(),
        failed: Vec::new(),
        origins: Vec::new(),
        body_output: None,
    };
    let mut body = Some(Box::pin(body(group.clone())));
    poll_fn(|cx| run.poll(&group, &mut body, cx)).await;
    group.inner.borrow_mut().closed = true;
    match (run.failed.is_empty(), run.body_output) {
        (true, Some(value)) => Ok(value),
        _ => Err(GroupError {
            failures: run.failed,
            origins: run.origins,
        }),
    }
}

/// A child as the group sees it: its key among the abort handles, how it
/// ended, and who it was if it failed.
type Child<E> = Pin<Box<dyn Future<Output = ChildEnd<E>>>>;

type ChildEnd<E> = (usize, Result<Result<(), E>, JoinError>, Option<Origin>);

/// Spawns children into a running [`task_group`]. Cheap to clone.
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let total = rt.block_on(brigade::task_group(|group: brigade::TaskGroup<String>| async move {
///     let a = group.spawn(async { Ok(2) });
///     let b = group.clone().spawn(async { Ok(3) }); // clones spawn into the same group
///     Ok(a.await.unwrap() + b.await.unwrap())
/// }));
/// assert_eq!(total.unwrap(), 5);
/// ```
pub struct TaskGroup<E> {
    inner: Rc<RefCell<Inner<E>>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<E> {
    /// The loop the group runs on: children are spawned there, whichever
    /// loop is current when `spawn` is called.
    core: Rc<super::scheduler::Core>,
    /// Children spawned since the group last looked.
    new: Vec<Child<E>>,
    /// Abort handles of the children still running, to cancel them on
    /// failure; a finished child's handle is released at once.
    aborts: Slab<AbortHandle>,
    cancelling: bool,
    closed: bool,
    waker: Option<std::task::Waker>,
}

impl<E> Inner<E> {
    fn new(core: Rc<super::scheduler::Core>) -> Self {
        Inner {
            core,
            new: Vec::new(),
            aborts: Slab::new(),
            cancelling: false,
            closed: false,
            waker: None,
        }
    }

    fn abort_all(&self) {
        for key in 0..self.aborts.capacity() {
            if let Some(abort) = self.aborts.get(key) {
                abort.abort();
            }
        }
    }
}

impl<E: 'static> TaskGroup<E> {
    /// Spawns a child task. Its `Ok` value is delivered through the returned
    /// [`GroupTask`]; its `Err` fails the whole group.
    ///
    /// Spawning into a group that has finished or is cancelling does not run
    /// the child; its handle reports cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     let sum = brigade::task_group(|group| async move {
    ///         let a = group.spawn(async { Ok::<_, ()>(1) });
    ///         let b = group.spawn(async { Ok(2) });
    ///         Ok(a.await.unwrap() + b.await.unwrap())
    ///     })
    ///     .await;
    ///     assert_eq!(sum.unwrap(), 3);
    /// });
    /// ```
    pub fn spawn<T, F>(&self, future: F) -> GroupTask<T>
    where
        T: 'static,
        F: Future<Output = Result<T, E>> + 'static,
    {
        self.spawn_child(None, future)
    }

    /// Like [`spawn`](Self::spawn), with a name (as
    /// [`spawn_named`](crate::spawn_named)): it shows in
    /// [`current_task`](super::current_task), [`GroupTask::name`], and in
    /// the [`GroupError`] if the child fails. (asyncio's
    /// `TaskGroup.create_task(coro, name=...)`.)
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let result = rt.block_on(brigade::task_group(|group| async move {
    ///     group.spawn_named("fetch-feed", async { Err::<(), _>("HTTP 503") });
    ///     Ok(())
    /// }));
    /// let error = result.unwrap_err();
    /// assert_eq!(error.to_string(), "1 task(s) failed in the group: fetch-feed: HTTP 503");
    /// ```
    pub fn spawn_named<T, F>(&self, name: impl Into<String>, future: F) -> GroupTask<T>
    where
        T: 'static,
        F: Future<Output = Result<T, E>> + 'static,
    {
        self.spawn_child(Some(name.into()), future)
    }

    fn spawn_child<T, F>(&self, name: Option<String>, future: F) -> GroupTask<T>
    where
        T: 'static,
        F: Future<Output = Result<T, E>> + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let mut inner = self.inner.borrow_mut();
        if inner.closed || inner.cancelling {
            return GroupTask {
                rx,
                id: next_task_id(),
                name,
                abort: None,
            };
        }
        let child = async move {
            let value = future.await?;
            let _ = tx.send(value);
            Ok(())
        };
        let task_name = name.as_deref().map(Box::from);
        let task: JoinHandle<Result<(), E>> = inner.core.spawn(child, next_task_id(), task_name);
        let id = task.id();
        let abort = task.abort_handle();
        let key = inner.aborts.insert(task.abort_handle());
        inner.new.push(Box::pin(async move {
            let mut task = pin!(task);
            let result = task.as_mut().await;
            // A failure names its child; success allocates nothing.
            let origin = match &result {
                Ok(Ok(())) | Err(JoinError::Cancelled(_)) => None,
                _ => Some(Origin::Child {
                    id: task.id(),
                    name: task.name().map(String::from),
                }),
            };
            (key, result, origin)
        }));
        let waker = inner.waker.take();
        drop(inner);
        if let Some(waker) = waker {
            waker.wake();
        }
        GroupTask {
            rx,
            id,
            name,
            abort: Some(abort),
        }
    }

    /// Cancels the body and every child, as a failure would, but without
    /// reporting an error: `task_group` then returns the failures so far, or
    /// a [`GroupError`] with none if there were none.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = brigade::Runtime::new().unwrap();
    /// let result = rt.block_on(brigade::task_group(|group| async move {
    ///     group.spawn(std::future::pending::<Result<(), ()>>());
    ///     group.cancel();
    ///     std::future::pending::<Result<(), ()>>().await
    /// }));
    /// assert!(result.unwrap_err().failures().is_empty());
    /// ```
    pub fn cancel(&self) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            inner.cancelling = true;
            inner.abort_all();
            inner.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

struct Run<T, E> {
    children: Concurrent<Child<E>>,
    failed: Vec<Failure<E>>,
    origins: Vec<Origin>,
    body_output: Option<T>,
}

impl<T, E: 'static> Run<T, E> {
    fn poll<Fut: Future<Output = Result<T, E>>>(
        &mut self,
        group: &TaskGroup<E>,
        body: &mut Option<Pin<Box<Fut>>>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        loop {
            for child in std::mem::take(&mut group.inner.borrow_mut().new) {
                self.children.push(child);
            }
            if group.inner.borrow().cancelling {
                *body = None;
            }
            if let Some(b) = body.as_mut() {
                if let Poll::Ready(output) = b.as_mut().poll(cx) {
                    *body = None;
                    match output {
                        Ok(value) => self.body_output = Some(value),
                        Err(e) => self.fail(group, Failure::Error(e), Origin::Body),
                    }
                    continue;
                }
                // The body cancelled the group during this poll (perhaps
                // the first, with no waker stored yet): drop it now.
                if group.inner.borrow().cancelling {
                    continue;
                }
            }
            match self.children.poll_next(cx) {
                Poll::Ready(Some((_, (key, result, origin)))) => {
                    let finished = group.inner.borrow_mut().aborts.remove(key);
                    drop(finished);
                    let origin = || origin.unwrap_or(Origin::Body);
                    match result {
                        // A child cancelled on its own (`GroupTask::abort`)
                        // or by the group: not a failure.
                        Ok(Ok(())) | Err(JoinError::Cancelled(_)) => {}
                        Ok(Err(e)) => self.fail(group, Failure::Error(e), origin()),
                        Err(JoinError::Panicked(p)) => {
                            self.fail(group, Failure::Panic(p), origin())
                        }
                        Err(JoinError::WrongLoop(_)) => {
                            unreachable!("children run on the group's loop")
                        }
                    }
                    continue;
                }
                Poll::Ready(None) if body.is_none() && group.inner.borrow().new.is_empty() => {
                    return Poll::Ready(());
                }
                _ => {
                    let old = group.inner.borrow_mut().waker.replace(cx.waker().clone());
                    drop(old);
                    if group.inner.borrow().new.is_empty() {
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    fn fail(&mut self, group: &TaskGroup<E>, failure: Failure<E>, origin: Origin) {
        self.failed.push(failure);
        self.origins.push(origin);
        group.cancel();
    }
}

/// Cancels every child if the group's future is dropped before it finished.
struct CancelOnDrop<E: 'static>(TaskGroup<E>);

impl<E: 'static> Drop for CancelOnDrop<E> {
    fn drop(&mut self) {
        let mut inner = self.0.inner.borrow_mut();
        if !inner.closed {
            // Closed first, so that a clone of the group kept elsewhere can
            // no longer spawn a child that would outlive it.
            inner.closed = true;
            inner.cancelling = true;
            inner.abort_all();
        }
    }
}

/// A child of a [`TaskGroup`]: await it for the child's value.
///
/// It gives [`JoinError::Cancelled`] when the child produced no value: it
/// failed (the group reports why), or the group cancelled it.
///
/// Unlike asyncio's tasks, dropping it neither cancels nor detaches the
/// child: the child belongs to the group either way.
///
/// # Examples
///
/// ```
/// let rt = brigade::Runtime::new().unwrap();
/// let out = rt.block_on(brigade::task_group(|group| async move {
///     let child: brigade::event_loop::GroupTask<&str> = group.spawn(async { Ok::<_, ()>("done") });
///     Ok(child.await.unwrap())
/// }));
/// assert_eq!(out.unwrap(), "done");
/// ```
pub struct GroupTask<T> {
    rx: oneshot::Receiver<T>,
    id: TaskId,
    name: Option<String>,
    /// `None` for a child the group refused to start.
    abort: Option<AbortHandle>,
}

impl<T> GroupTask<T> {
    /// The child task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     brigade::task_group(|group| async move {
    ///         let child = group.spawn(async { Ok::<_, ()>(brigade::event_loop::current_task()) });
    ///         let id = child.id();
    ///         assert_eq!(child.await.unwrap().unwrap().id(), id);
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The name given to [`TaskGroup::spawn_named`], if any.
    ///
    /// # Examples
    ///
    /// ```
    /// brigade::run(async {
    ///     brigade::task_group(|group| async move {
    ///         let child = group.spawn_named("resize", async { Ok::<_, ()>(()) });
    ///         assert_eq!(child.name(), Some("resize"));
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Cancels this child alone, as `task.cancel()` on a task of an asyncio
    /// `TaskGroup`: its future is dropped at the loop's next turn, awaiting
    /// the `GroupTask` gives [`JoinError::Cancelled`], and the group goes on
    /// (a cancelled child is not a failure). Aborting a finished child does
    /// nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::time::sleep;
    ///
    /// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
    /// let result = rt.block_on(brigade::task_group(|group| async move {
    ///     let slow = group.spawn(async {
    ///         sleep(Duration::from_secs(3600)).await;
    ///         Ok::<_, String>("slow")
    ///     });
    ///     let fast = group.spawn(async { Ok("fast") });
    ///     slow.abort();
    ///     assert!(slow.await.unwrap_err().is_cancelled());
    ///     Ok(fast.await.unwrap())
    /// }));
    /// assert_eq!(result.unwrap(), "fast");
    /// ```
    pub fn abort(&self) {
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }
}

impl<T> Future for GroupTask<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        let rx = pin!(&mut self.rx);
        rx.poll(cx).map(|r| r.map_err(|_| JoinError::Cancelled(id)))
    }
}
