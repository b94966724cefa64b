//! A channel for exactly one value, from any thread to any thread, awaited on
//! an event loop or waited for from plain code.
//!
//! ```
//! use brigade::sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || tx.send(6 * 7).unwrap());
//! // From plain code: block. From a task: `rx.await`.
//! assert_eq!(rx.recv_blocking(), Ok(42));
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::event_loop::context::assert_not_on_loop;
use crate::loom::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Creates a sender and a receiver for one value.
///
/// # Examples
///
/// ```
/// brigade::run(async {
///     let (tx, rx) = brigade::sync::oneshot::channel();
///     brigade::spawn(async move { tx.send("result").unwrap() });
///     assert_eq!(rx.await, Ok("result"));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            waker: None,
            tx_waker: None,
            sender: true,
            receiver: true,
        }),
        ready: Condvar::new(),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

struct Inner<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    /// Set while the sender waits in [`Sender::closed`].
    tx_waker: Option<Waker>,
    sender: bool,
    receiver: bool,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding this lock cannot leave the state half-changed:
        // every critical section is a few field assignments.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sends the value; see [`channel`].
///
/// # Examples
///
/// ```
/// let (tx, rx) = brigade::sync::oneshot::channel::<u32>();
/// drop(tx); // dropped without sending: the receiver learns of it
/// assert!(rx.recv_blocking().is_err());
/// ```
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the value; see [`channel`]. Await it, or call
/// [`recv_blocking`](Receiver::recv_blocking).
///
/// # Cancel safety
///
/// Awaiting `&mut receiver` is cancel safe: the value stays in the channel
/// until a poll returns it, so a dropped `(&mut rx).await` (in a
/// [`select`](crate::event_loop::select), say) loses nothing and the
/// receiver can be awaited again.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = brigade::sync::oneshot::channel();
///     // Give up waiting for a while, keeping the receiver.
///     assert!(brigade::timeout(Duration::from_secs(1), &mut rx).await.is_err());
///     tx.send(3).unwrap();
///     assert_eq!(rx.await, Ok(3));
/// });
/// ```
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`. Hands it back if the receiver is gone.
    ///
    /// # Errors
    ///
    /// Hands `value` back as `Err(value)` if the receiver was dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(5), Err(5));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("a sender sends once");
        let waker = {
            let mut state = inner.lock();
            if !state.receiver {
                return Err(value);
            }
            state.value = Some(value);
            state.sender = false;
            state.waker.take()
        };
        inner.ready.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone, so that sending would fail (tokio's
    /// `is_closed`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| !inner.lock().receiver)
    }

    /// Waits until the receiver is dropped, so that a producer can stop
    /// computing a value nobody will read (tokio's `Sender::closed`).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropping the future changes nothing.
    /// brigade's oneshot receiver has no `close()`, so only dropping it closes
    /// the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::oneshot;
    ///
    /// brigade::run(async {
    ///     let (mut tx, rx) = oneshot::channel::<u32>();
    ///     brigade::spawn(async move {
    ///         brigade::yield_now().await;
    ///         drop(rx); // the consumer lost interest
    ///     });
    ///     tx.closed().await;
    ///     assert_eq!(tx.send(1), Err(1));
    /// });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver to be gone; the building block of
    /// [`closed`](Self::closed) (tokio's `poll_closed`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let (mut tx, rx) = brigade::sync::oneshot::channel::<u8>();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(tx.poll_closed(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(tx.poll_closed(&mut cx).is_ready());
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.inner.as_ref() else {
            return Poll::Ready(());
        };
        let mut state = inner.lock();
        if !state.receiver {
            return Poll::Ready(());
        }
        match &state.tx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.tx_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let waker = {
                let mut state = inner.lock();
                state.sender = false;
                state.waker.take()
            };
            inner.ready.notify_all();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing was sent yet;
    /// [`TryRecvError::Closed`] if the sender was dropped without sending (or
    /// the value was already taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use brigade::sync::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.inner.lock();
        match state.value.take() {
            Some(value) => Ok(value),
            None if state.sender => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Closed),
        }
    }

    /// Blocks the thread until the value arrives. Do not call this from a
    /// task on an event loop: it would stop the whole loop; `.await` instead.
    ///
    /// # Panics
    /// If the value has not arrived and this thread runs an event loop (a
    /// value already there is taken without sleeping, anywhere).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::oneshot::channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.recv_blocking(), Ok(1));
    /// ```
    #[track_caller]
    pub fn recv_blocking(self) -> Result<T, RecvError> {
        if !self.is_ready() {
            assert_not_on_loop("oneshot::Receiver::recv_blocking", "receiver.await");
        }
        let mut state = self.inner.lock();
        loop {
            if let Some(value) = state.value.take() {
                return Ok(value);
            }
            if !state.sender {
                return Err(RecvError);
            }
            state = self
                .inner
                .ready
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Blocks for at most `timeout`; on time-out the receiver is handed back
    /// so that the caller may wait again.
    ///
    /// Time here is the thread's (`std::time::Instant`), not an event loop's:
    /// this call blocks the thread, like [`recv_blocking`](Self::recv_blocking).
    /// On a loop, await the receiver under [`timeout`](crate::time::timeout)
    /// instead.
    ///
    /// # Panics
    /// If the value has not arrived, `timeout` is not zero, and this thread
    /// runs an event loop: sleeping would block every task of the loop, the
    /// sender's perhaps too. (A value already there, or a zero `timeout`,
    /// never sleeps, so it is allowed anywhere.)
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`], holding the receiver, if nothing arrived
    /// in time; [`RecvTimeoutError::Closed`] if the sender was dropped without
    /// sending.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::sync::oneshot::{self, RecvTimeoutError};
    ///
    /// let (tx, rx) = oneshot::channel();
    /// let Err(RecvTimeoutError::Timeout(rx)) = rx.recv_timeout(Duration::from_millis(1)) else {
    ///     panic!("nothing was sent");
    /// };
    /// tx.send("late").unwrap();
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(1)).unwrap(), "late");
    /// ```
    #[track_caller]
    pub fn recv_timeout(self, timeout: Duration) -> Result<T, RecvTimeoutError<T>> {
        if !self.is_ready() && !timeout.is_zero() {
            assert_not_on_loop(
                "oneshot::Receiver::recv_timeout",
                "brigade::time::timeout(duration, receiver).await",
            );
        }
        let deadline = std::time::Instant::now() + timeout;
        {
            let mut state = self.inner.lock();
            loop {
                if let Some(value) = state.value.take() {
                    return Ok(value);
                }
                if !state.sender {
                    return Err(RecvTimeoutError::Closed);
                }
                let now = std::time::Instant::now();
                if now >= deadline {
                    break;
                }
                state = self
                    .inner
                    .ready
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        Err(RecvTimeoutError::Timeout(self))
    }

    /// Whether the value has arrived (or the sender is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = brigade::sync::oneshot::channel();
    /// assert!(!rx.is_ready());
    /// tx.send(()).unwrap();
    /// assert!(rx.is_ready());
    /// ```
    pub fn is_ready(&self) -> bool {
        let state = self.inner.lock();
        state.value.is_some() || !state.sender
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.lock();
        if let Some(value) = state.value.take() {
            return Poll::Ready(Ok(value));
        }
        if !state.sender {
            return Poll::Ready(Err(RecvError));
        }
        match &state.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        state.receiver = false;
        let value = state.value.take();
        let waker = state.waker.take();
        let tx_waker = state.tx_waker.take();
        drop(state);
        drop((value, waker));
        if let Some(w) = tx_waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

/// The sender was dropped without sending.
///
/// # Examples
///
/// ```
/// use brigade::sync::oneshot::{self, RecvError};
///
/// brigade::run(async {
///     let (tx, rx) = oneshot::channel::<u8>();
///     drop(tx);
///     assert_eq!(rx.await, Err(RecvError));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sender was dropped without sending a value")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// # Examples
///
/// ```
/// use brigade::sync::oneshot::{self, TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing yet; the sender may still send.
    Empty,
    /// The sender was dropped without sending.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value has been sent yet"),
            TryRecvError::Closed => RecvError.fmt(f),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// Why [`Receiver::recv_timeout`] returned no value.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use brigade::sync::oneshot::{self, RecvTimeoutError};
///
/// let (tx, rx) = oneshot::channel::<u8>();
/// drop(tx);
/// assert!(matches!(rx.recv_timeout(Duration::from_secs(1)), Err(RecvTimeoutError::Closed)));
/// ```
pub enum RecvTimeoutError<T> {
    /// The time ran out; here is the receiver back.
    Timeout(Receiver<T>),
    /// The sender was dropped without sending.
    Closed,
}

impl<T> fmt::Debug for RecvTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            RecvTimeoutError::Closed => f.write_str("Closed"),
        }
    }
}

impl<T> fmt::Display for RecvTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout(_) => f.write_str("timed out waiting for the value"),
            RecvTimeoutError::Closed => RecvError.fmt(f),
        }
    }
}

impl<T> std::error::Error for RecvTimeoutError<T> {}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    #[test]
    fn value_sent_on_one_thread_arrives_on_another() {
        loom::model(|| {
            let (tx, rx) = channel::<u32>();
            let t = loom::thread::spawn(move || tx.send(7).unwrap());
            assert_eq!(rx.recv_blocking(), Ok(7));
            t.join().unwrap();
        });
    }

    #[test]
    fn dropped_sender_is_seen_as_closed() {
        loom::model(|| {
            let (tx, rx) = channel::<u32>();
            let t = loom::thread::spawn(move || drop(tx));
            assert_eq!(rx.recv_blocking(), Err(RecvError));
            t.join().unwrap();
        });
    }
}
