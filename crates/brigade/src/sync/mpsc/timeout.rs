//! Sending and receiving with a time limit, on the loop's clock (virtual
//! or real).
//!
//! A send that times out must hand its message back, so it cannot simply
//! be a [`send`](super::Sender::send) under [`timeout`](crate::time::timeout)
//! (dropping the send would drop the message). Instead the send and a
//! sleep are polled side by side; when the sleep wins, the parked message
//! is withdrawn from the waiter list under the channel's lock, or, if a
//! receiver accepted it in the meantime, the send counts as done.
//!
//! ```
//! use std::time::Duration;
//! use brigade::sync::mpsc;
//!
//! brigade::Runtime::builder().virtual_clock(true).build().unwrap().block_on(async {
//!     let (tx, mut rx) = mpsc::channel(1);
//!     tx.send_timeout(1, Duration::from_secs(1)).await.unwrap();
//!     assert!(tx.send_timeout(2, Duration::from_secs(1)).await.is_err());
//!     assert_eq!(rx.recv_timeout(Duration::from_secs(1)).await, Ok(1));
//! });
//! ```

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use super::{Receiver, RecvTimeoutError, SendError, SendTimeoutError, Sender};

impl<T> Sender<T> {
    /// Sends `message`, waiting at most `timeout` for room (tokio's
    /// `send_timeout`); on time-out or close the message is handed back.
    /// Time is the loop's clock, so a virtual clock skips the wait.
    ///
    /// # Panics
    /// Outside of a brigade event loop (it needs the loop's timers).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as [`send`](Self::send): if the future is
    /// dropped, the message was either sent once or dropped with it.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] if no room came free in time;
    /// [`SendTimeoutError::Closed`] if the receiver closed or dropped. Both hand
    /// the message back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::sync::mpsc::{self, SendTimeoutError};
    ///
    /// brigade::run(async {
    ///     let (tx, rx) = mpsc::channel(1);
    ///     tx.send_timeout("a", Duration::from_millis(10)).await.unwrap();
    ///     let late = tx.send_timeout("b", Duration::from_millis(10)).await;
    ///     assert_eq!(late, Err(SendTimeoutError::Timeout("b")));
    ///     drop(rx);
    ///     let closed = tx.send_timeout("c", Duration::from_millis(10)).await;
    ///     assert_eq!(closed, Err(SendTimeoutError::Closed("c")));
    /// });
    /// ```
    pub async fn send_timeout(
        &self,
        message: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut send = self.send(message);
        let mut sleep = pin!(crate::time::sleep(timeout));
        poll_fn(|cx| {
            if let Poll::Ready(sent) = Pin::new(&mut send).poll(cx) {
                return Poll::Ready(sent.map_err(|SendError(m)| SendTimeoutError::Closed(m)));
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // Pending means the send is parked (it holds a key).
            let withdrawn = send.key.take().and_then(|key| send.chan.withdraw_send(key));
            Poll::Ready(match withdrawn {
                Some(message) => Err(SendTimeoutError::Timeout(message)),
                None => Ok(()), // accepted just before the time ran out
            })
        })
        .await
    }
}

impl<T> Receiver<T> {
    /// Receives the next message, waiting at most `timeout` for one (a
    /// `recv` under [`timeout`](crate::time::timeout), with a typed error).
    /// Time is the loop's clock, so a virtual clock skips the wait.
    ///
    /// # Panics
    /// Outside of a brigade event loop (it needs the loop's timers).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as [`recv`](Self::recv).
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if no message came in time;
    /// [`RecvTimeoutError::Closed`] if every sender is gone and the buffer is
    /// drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::sync::mpsc::{self, RecvTimeoutError};
    ///
    /// brigade::run(async {
    ///     let (tx, mut rx) = mpsc::unbounded();
    ///     tx.try_send(5).unwrap();
    ///     assert_eq!(rx.recv_timeout(Duration::from_millis(10)).await, Ok(5));
    ///     let waited = rx.recv_timeout(Duration::from_millis(10)).await;
    ///     assert_eq!(waited, Err(RecvTimeoutError::Timeout));
    /// });
    /// ```
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match crate::time::timeout(timeout, self.recv()).await {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Err(RecvTimeoutError::Closed),
            Err(_) => Err(RecvTimeoutError::Timeout),
        }
    }
}
