//! Joining a [`Thread`]: blocking, with a time limit, or awaited on an
//! event loop ([`JoinAsync`], [`ThreadJoin`]).
//!
//! A started thread leaves its outcome in a completion cell
//! (`completion.rs`) from its last thread-local destructor. A blocking
//! [`join`](Thread::join) joins the OS thread, after which the cell is
//! full; [`join_timeout`](Thread::join_timeout) and the awaited joins wait
//! on the cell, then join the OS thread, of which only the C library's
//! teardown is left. Each join hands the result out once and puts the
//! handle back as it was when it gives up (a time limit passed, a future
//! dropped), so a later join still gets the result.
//!
//! ```
//! use std::time::Duration;
//! use brigade::thread::{Event, Thread, ThreadError};
//! use std::sync::Arc;
//!
//! let go = Arc::new(Event::new());
//! let g = go.clone();
//! let mut t = Thread::from_fn(move || {
//!     g.wait();
//!     "baked"
//! });
//! t.start().unwrap();
//! let early = t.join_timeout(Duration::from_millis(1));
//! assert!(matches!(early, Err(ThreadError::Timeout { .. })));
//! go.set();
//! // The result was kept for the next join, here an awaited one.
//! let result = brigade::run(async move { t.await });
//! assert_eq!(result.unwrap(), "baked");
//! ```

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::ThreadError;
use super::handle::{Outcome, Running, State, Thread};
use super::registry;
use crate::event_loop::Panic;

impl<R> Running<R> {
    /// Hands back the outcome once the OS thread is gone too: the cell fills
    /// in the thread's last thread-local destructor, and only the C
    /// library's teardown of the thread follows, so this wait is short.
    fn finish(self, outcome: Option<Outcome<R>>) -> Option<Outcome<R>> {
        // The target's panic was caught and is in `outcome`; an error here
        // would be a panic past the catch, which `outcome` (None) reports.
        let _ = self.os.join();
        outcome
    }
}

impl<R> Thread<R> {
    /// Waits for the thread to finish and returns what its target returned,
    /// or [`ThreadError::Panicked`] with the panic. The result is handed out
    /// once; a second join is [`ThreadError::AlreadyJoined`].
    ///
    /// Blocks the calling thread: on an event loop, await
    /// [`join_async`](Self::join_async) instead.
    ///
    /// # Panics
    /// On an event loop's thread, where it would block every task of the
    /// loop: await [`join_async`](Self::join_async) there.
    ///
    /// # Examples
    /// ```
    /// use brigade::thread::{Thread, ThreadError};
    ///
    /// let mut t = Thread::from_fn(|| -> u8 { panic!("burnt") });
    /// t.start().unwrap();
    /// let e = t.join().unwrap_err();
    /// assert_eq!(e.panic_message(), Some("burnt"));
    /// assert!(matches!(t.join(), Err(ThreadError::AlreadyJoined { .. })));
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::Panicked`] (with the panic), [`ThreadError::NotStarted`],
    /// [`ThreadError::AlreadyJoined`], [`ThreadError::JoinSelf`] (a thread
    /// joining itself).
    #[track_caller]
    pub fn join(&mut self) -> Result<R, ThreadError> {
        crate::event_loop::context::assert_not_on_loop("Thread::join", "thread.join_async().await");
        self.join_blocking()
    }

    /// [`join`](Self::join) without the event-loop check: a pool dropped
    /// on a loop still waits for its workers (they only finish their jobs).
    pub(crate) fn join_blocking(&mut self) -> Result<R, ThreadError> {
        let Running { outcome, os } = self.take_running()?;
        // One wait, not two: the OS thread ends only after its last
        // thread-local destructor filled the cell, so once it is joined
        // the outcome is there (or never will be).
        let _ = os.join();
        let outcome = outcome.try_take().unwrap_or(None);
        self.finish_join(outcome)
    }

    /// Like [`join`](Self::join), waiting at most `timeout`. On
    /// [`ThreadError::Timeout`] the thread is still running and may be
    /// joined again (Python's `join(timeout)` returns `None` and leaves the
    /// caller to check `is_alive()`; here the error says it).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use std::sync::mpsc;
    /// use brigade::thread::Thread;
    ///
    /// let (go, gate) = mpsc::channel::<()>();
    /// let mut t = Thread::from_fn(move || gate.recv().unwrap());
    /// t.start().unwrap();
    /// let e = t.join_timeout(Duration::from_millis(10)).unwrap_err();
    /// assert!(e.is_timeout() && t.is_alive());
    /// go.send(()).unwrap();
    /// t.join_timeout(Duration::from_secs(60)).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`ThreadError::Timeout`] when the time runs out, and the errors of
    /// [`join`](Self::join).
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<R, ThreadError> {
        let running = self.take_running()?;
        match running.outcome.take_timeout(timeout) {
            Ok(outcome) => {
                let outcome = running.finish(outcome);
                self.finish_join(outcome)
            }
            Err(()) => {
                self.state = State::Running(running);
                Err(ThreadError::Timeout {
                    name: self.name().to_string(),
                })
            }
        }
    }

    /// Joins, consuming the handle: a shorthand for `join` when the handle
    /// is not needed afterwards.
    ///
    /// # Panics
    /// On an event loop's thread, as [`join`](Self::join) does: await the
    /// thread there.
    ///
    /// # Examples
    /// ```
    /// let t = brigade::thread::spawn(|| vec![1, 2]).unwrap();
    /// assert_eq!(t.into_result().unwrap(), [1, 2]);
    /// ```
    ///
    /// # Errors
    /// As [`join`](Self::join).
    #[track_caller]
    pub fn into_result(mut self) -> Result<R, ThreadError> {
        crate::event_loop::context::assert_not_on_loop("Thread::into_result", "thread.await");
        self.join()
    }

    /// A future of the thread's result, for a task on an event loop: it
    /// suspends the task, never the loop. `thread.await` does the same,
    /// consuming the handle.
    ///
    /// On a virtual clock the loop does not know about the thread, so time
    /// may jump while it runs; a `timeout` around this future measures
    /// virtual time.
    ///
    /// ```
    /// brigade::run(async {
    ///     let mut t = brigade::thread::spawn(|| "baked").unwrap();
    ///     assert_eq!(t.join_async().await.unwrap(), "baked");
    /// });
    /// ```
    pub fn join_async(&mut self) -> JoinAsync<'_, R> {
        self.hold_virtual_clock();
        JoinAsync { thread: self }
    }

    /// Awaited from a loop on a virtual clock, a running thread holds that
    /// clock still until it finishes: simulated time must not jump past
    /// real work.
    fn hold_virtual_clock(&self) {
        if let State::Running(running) = &self.state {
            if let Some(hold) = crate::event_loop::hold_clock() {
                running.outcome.hold_until_done(hold);
            }
        }
    }

    fn poll_join(&mut self, cx: &mut Context<'_>) -> Poll<Result<R, ThreadError>> {
        let running = match self.take_running() {
            Ok(running) => running,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match running.outcome.poll_take(cx) {
            Poll::Pending => {
                self.state = State::Running(running);
                Poll::Pending
            }
            Poll::Ready(result) => {
                let result = running.finish(result);
                Poll::Ready(self.finish_join(result))
            }
        }
    }

    /// Takes the running state out, or says why there is none.
    fn take_running(&mut self) -> Result<Running<R>, ThreadError> {
        let name = || self.name().to_string();
        match &self.state {
            State::New(_) | State::Failed => return Err(ThreadError::NotStarted { name: name() }),
            State::Joined => return Err(ThreadError::AlreadyJoined { name: name() }),
            State::Running(_) if self.me.raw_ident() == registry::get_ident() => {
                return Err(ThreadError::JoinSelf { name: name() });
            }
            State::Running(_) => {}
        }
        match std::mem::replace(&mut self.state, State::Joined) {
            State::Running(running) => Ok(running),
            _ => unreachable!("checked above"),
        }
    }

    fn finish_join(&mut self, outcome: Option<Outcome<R>>) -> Result<R, ThreadError> {
        self.state = State::Joined;
        let name = || self.name().to_string();
        match outcome {
            Some(Ok(value)) => Ok(value),
            Some(Err(panic)) => Err(ThreadError::Panicked {
                name: name(),
                panic,
            }),
            // The thread ended without reporting: a panic escaped the
            // catch (a panicking panic payload's destructor) or the
            // outcome's cell was read twice.
            None => Err(ThreadError::Panicked {
                name: name(),
                panic: Panic::new(Box::new("the thread ended without a result")),
            }),
        }
    }
}

/// The future of [`Thread::join_async`].
///
/// # Examples
/// ```
/// brigade::run(async {
///     let mut t = brigade::thread::spawn(|| 3).unwrap();
///     let joining: brigade::thread::JoinAsync<'_, i32> = t.join_async();
///     assert_eq!(joining.await.unwrap(), 3);
/// });
/// ```
///
/// # Cancel safety
/// Cancel-safe: dropping the future leaves the thread running and its
/// result in place for a later join.
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAsync<'a, R> {
    thread: &'a mut Thread<R>,
}

impl<R> Future for JoinAsync<'_, R> {
    type Output = Result<R, ThreadError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.thread.poll_join(cx)
    }
}

/// The future of `thread.await`; see [`Thread::join_async`].
///
/// # Examples
/// ```
/// brigade::run(async {
///     let t = brigade::thread::spawn(|| "done").unwrap();
///     assert_eq!(t.await.unwrap(), "done"); // a ThreadJoin
/// });
/// ```
///
/// # Cancel safety
/// Dropping the future drops the handle: the thread runs on, detached, and
/// its result is dropped when it finishes.
#[must_use = "futures do nothing unless awaited"]
pub struct ThreadJoin<R> {
    thread: Thread<R>,
}

impl<R> Future for ThreadJoin<R> {
    type Output = Result<R, ThreadError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Nothing in a Thread is pinned: the channel receiver moves freely.
        self.get_mut().thread.poll_join(cx)
    }
}

impl<R> IntoFuture for Thread<R> {
    type Output = Result<R, ThreadError>;
    type IntoFuture = ThreadJoin<R>;

    fn into_future(self) -> ThreadJoin<R> {
        self.hold_virtual_clock();
        ThreadJoin { thread: self }
    }
}
