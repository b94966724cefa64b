//! [`Queue`]: many producers and many consumers across processes, as
//! Python's `multiprocessing.Queue`.
//!
//! A queue is a private `SOCK_SEQPACKET` socketpair: producers send on one
//! end, consumers receive on the other. Sequenced packets are delivered
//! whole by a single `recv`, and each to exactly one reader, so no lock is
//! needed on either side and a process that dies mid-`put` cannot leave half
//! a message behind (the kernel takes a packet whole or not at all). Large
//! messages travel as anonymous memory files (see
//! [`socket`](super::socket)).
//!
//! The queue holds what fits in the socket buffers (some hundreds of
//! kilobytes of small messages); `put` then waits for consumers, and
//! [`put_timeout`](Queue::put_timeout) bounds that wait.
//!
//! [`close`](Queue::close) says this process will put no more. Once every
//! process holding the queue has closed (or dropped) it, consumers drain
//! what is left and then get [`RecvError::Closed`]: so a consumer that
//! only reads should close its handle first.
//!
//! ```
//! use brigade::process::{Process, Queue};
//!
//! fn produce(q: Queue<u32>, from: u32) {
//!     for i in from..from + 3 {
//!         q.put(&i).unwrap();
//!     }
//! }
//!
//! let q = Queue::new().unwrap();
//! let mut a = Process::new(produce, (q.clone(), 0));
//! let mut b = Process::new(produce, (q.clone(), 10));
//! a.start().unwrap();
//! b.start().unwrap();
//! a.join().unwrap();
//! b.join().unwrap();
//! q.close();
//! let mut got: Vec<u32> = std::iter::from_fn(|| q.get().ok()).collect();
//! got.sort();
//! assert_eq!(got, [0, 1, 2, 10, 11, 12]);
//! ```

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{self, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use super::frame;
use super::pipe::{RecvError, SendError, send_io};
use super::socket::{Packet, Socket};
use super::transfer;
use crate::sys::socket as sys_socket;

/// A multi-producer, multi-consumer queue shared by processes; clone it to
/// share it among threads, pass it as an argument to share it with a child.
///
/// # Examples
/// Workers feeding one result queue, as in Python:
/// ```
/// use brigade::process::{Process, Queue};
///
/// fn square_into(q: Queue<u32>, n: u32) {
///     q.put(&(n * n)).unwrap();
/// }
///
/// let q = Queue::new().unwrap();
/// let mut workers: Vec<_> = (1..=3).map(|n| Process::new(square_into, (q.clone(), n))).collect();
/// for w in &mut workers {
///     w.start().unwrap();
/// }
/// let mut got: Vec<u32> = (0..3).map(|_| q.get().unwrap()).collect();
/// got.sort();
/// assert_eq!(got, [1, 4, 9]);
/// for w in &mut workers {
///     w.join().unwrap();
/// }
/// ```
pub struct Queue<T> {
    inner: Arc<Inner>,
    _message: PhantomData<fn(T) -> T>,
}

struct Inner {
    /// The producers' end; `None` once this process has closed.
    tx: RwLock<Option<Arc<Socket>>>,
    /// The consumers' end.
    rx: Socket,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Queue<T> {
        Queue {
            inner: self.inner.clone(),
            _message: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// An empty queue.
    ///
    /// # Examples
    /// ```
    /// let q = brigade::process::Queue::<Vec<u8>>::new().unwrap();
    /// q.put(&vec![1, 2]).unwrap();
    /// assert_eq!(q.get().unwrap(), [1, 2]);
    /// ```
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` if the process is out of descriptors.
    pub fn new() -> io::Result<Queue<T>> {
        let (tx, rx) = Socket::pair()?;
        Ok(Queue::from_parts(Some(tx), rx))
    }

    /// Puts `value` at the back, waiting while the queue is full.
    ///
    /// # Examples
    /// ```
    /// let q = brigade::process::Queue::new().unwrap();
    /// q.put(&1u8).unwrap();
    /// q.put(&2u8).unwrap();
    /// assert_eq!(q.get().unwrap(), 1); // first in, first out
    /// ```
    ///
    /// # Errors
    /// [`SendError::Closed`] after [`close`](Self::close) or once no consumer
    /// is left, [`SendError::Encode`] for a value too large or that cannot be
    /// encoded, [`SendError::Io`] if the system call fails.
    pub fn put(&self, value: &T) -> Result<(), SendError<()>> {
        self.put_until(value, None)
    }

    /// Puts `value`, waiting at most `timeout` for room.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = brigade::process::Queue::new().unwrap();
    /// q.put_timeout(&1u8, Duration::from_secs(1)).unwrap();
    /// assert_eq!(q.get().unwrap(), 1);
    /// ```
    ///
    /// # Errors
    /// [`SendError::Full`] when the time runs out; else as [`put`](Self::put).
    pub fn put_timeout(&self, value: &T, timeout: Duration) -> Result<(), SendError<()>> {
        // A timeout too long to represent is no timeout.
        self.put_until(value, Instant::now().checked_add(timeout))
    }

    fn put_until(&self, value: &T, deadline: Option<Instant>) -> Result<(), SendError<()>> {
        let encoded = transfer::encode(value).map_err(|e| SendError::Encode((), e))?;
        let tx = self.inner.tx.read().unwrap_or_else(|e| e.into_inner());
        let Some(tx) = tx.as_ref() else {
            return Err(SendError::Closed(()));
        };
        let packet = Packet::new(&encoded.bytes, &encoded.raw_fds()).map_err(|e| send_io((), e))?;
        loop {
            match tx.send_packet(&packet, true) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                    if left == Some(Duration::ZERO) {
                        return Err(SendError::Full(()));
                    }
                    wait_writable(tx.as_fd(), left);
                }
                other => return other.map_err(|e| send_io((), e)),
            }
        }
    }

    /// Puts `value` at the back on the event loop: while the queue is full
    /// the task waits, and other tasks run. Cancel-safe: a future dropped
    /// before it finished has put nothing.
    ///
    /// ```
    /// use brigade::process::Queue;
    ///
    /// let q = Queue::<u8>::new().unwrap();
    /// brigade::run(async move {
    ///     q.put_async(&1).await.unwrap();
    ///     assert_eq!(q.get_async().await.unwrap(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`put`](Self::put); [`SendError::Io`] outside a brigade event loop.
    ///
    /// # Cancel safety
    /// Cancel-safe, as said above.
    pub async fn put_async(&self, value: &T) -> Result<(), SendError<()>> {
        let encoded = transfer::encode(value).map_err(|e| SendError::Encode((), e))?;
        // A handle of our own, not the lock: a `close` on another thread
        // does not wait for a put that waits for room.
        let tx = self
            .inner
            .tx
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(tx) = tx else {
            return Err(SendError::Closed(()));
        };
        let packet = Packet::new(&encoded.bytes, &encoded.raw_fds()).map_err(|e| send_io((), e))?;
        super::readiness::send(&tx, &packet, "Queue::put_async")
            .await
            .map_err(|e| send_io((), e))
    }

    /// Takes the value at the front, waiting for one.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Process, Queue};
    ///
    /// fn send_hello(q: Queue<String>) {
    ///     q.put(&"hello".to_string()).unwrap();
    /// }
    ///
    /// let q = Queue::new().unwrap();
    /// let mut p = Process::new(send_hello, (q.clone(),));
    /// p.start().unwrap();
    /// assert_eq!(q.get().unwrap(), "hello");
    /// p.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// [`RecvError::Closed`] once no handle can put and the queue is drained,
    /// [`RecvError::Malformed`] for bytes that are not a valid message,
    /// [`RecvError::Io`] if the system call fails.
    pub fn get(&self) -> Result<T, RecvError> {
        self.get_with(None)
    }

    /// Takes the value at the front, waiting at most `timeout`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::process::{Queue, RecvError};
    ///
    /// let q = Queue::<u8>::new().unwrap();
    /// assert!(matches!(q.get_timeout(Duration::from_millis(1)), Err(RecvError::Timeout)));
    /// ```
    ///
    /// # Errors
    /// [`RecvError::Timeout`] when the time runs out; else as [`get`](Self::get).
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, RecvError> {
        self.get_with(Some(timeout))
    }

    /// Takes the value at the front if there is one.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Queue, RecvError};
    ///
    /// let q = Queue::new().unwrap();
    /// assert!(matches!(q.try_get(), Err(RecvError::Empty)));
    /// q.put(&1u8).unwrap();
    /// assert_eq!(q.try_get().unwrap(), 1);
    /// ```
    ///
    /// # Errors
    /// [`RecvError::Empty`] when nothing is waiting; else as [`get`](Self::get).
    pub fn try_get(&self) -> Result<T, RecvError> {
        super::pipe::try_recv_value(&self.inner.rx)
    }

    fn get_with(&self, timeout: Option<Duration>) -> Result<T, RecvError> {
        super::pipe::recv_value(&self.inner.rx, timeout)
    }

    /// Takes the value at the front on the event loop, without blocking it:
    /// the task waits, other tasks run. Call it from a task on a brigade
    /// loop; elsewhere it returns [`RecvError::Io`].
    ///
    /// Consumers in other processes, threads or tasks never see half a
    /// message or the same one twice: each value is one packet, taken whole
    /// by one `recvmsg`, exactly as by [`get`](Self::get). Cancel-safe: a
    /// future dropped before it finished has taken nothing. Once every
    /// handle that could put has been closed and the queue is drained, the
    /// result is [`RecvError::Closed`].
    ///
    /// ```
    /// use brigade::process::{Process, Queue};
    ///
    /// fn produce(q: Queue<u32>) {
    ///     for i in 0..3 {
    ///         q.put(&i).unwrap();
    ///     }
    /// }
    ///
    /// let q = Queue::new().unwrap();
    /// let mut p = Process::new(produce, (q.clone(),));
    /// p.start().unwrap();
    /// q.close(); // only the child puts: its end is the queue's end
    /// let got = brigade::run(async move {
    ///     let mut got = Vec::new();
    ///     while let Ok(i) = q.get_async().await {
    ///         got.push(i);
    ///     }
    ///     got
    /// });
    /// assert_eq!(got, [0, 1, 2]);
    /// p.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`get`](Self::get); [`RecvError::Io`] outside a brigade event loop.
    ///
    /// # Cancel safety
    /// Cancel-safe, as said above.
    pub async fn get_async(&self) -> Result<T, RecvError> {
        let message =
            super::readiness::recv(&self.inner.rx, frame::MAX_PAYLOAD, "Queue::get_async").await?;
        transfer::decode(&message.payload, message.fds).map_err(RecvError::Malformed)
    }
}

impl<T> Queue<T> {
    fn from_parts(tx: Option<Socket>, rx: Socket) -> Queue<T> {
        Queue {
            inner: Arc::new(Inner {
                tx: RwLock::new(tx.map(Arc::new)),
                rx,
            }),
            _message: PhantomData,
        }
    }

    /// This process will put no more values (on any clone of this handle).
    /// Values already put stay in the queue; a [`put_async`](Self::put_async)
    /// already under way still finishes (it holds the sending side until
    /// it is done).
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{Queue, RecvError, SendError};
    ///
    /// let q = Queue::new().unwrap();
    /// q.put(&1u8).unwrap();
    /// q.close();
    /// assert!(matches!(q.put(&2), Err(SendError::Closed(()))));
    /// assert_eq!(q.get().unwrap(), 1); // already put: still there
    /// assert!(matches!(q.get(), Err(RecvError::Closed)));
    /// ```
    pub fn close(&self) {
        let old = self
            .inner
            .tx
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(old);
    }
}

/// Waits until a socket has room to send, or `timeout` passes.
fn wait_writable(fd: BorrowedFd<'_>, timeout: Option<Duration>) {
    let ms = timeout.map_or(-1, |t| t.as_millis().clamp(1, i32::MAX as u128) as i32);
    let _ = sys_socket::poll_writable(fd, ms);
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tx = self.inner.tx.read().unwrap_or_else(|e| e.into_inner());
        let tx_index = match tx.as_ref() {
            Some(tx) => Some(transfer::attach(tx.as_fd()).map_err(ser::Error::custom)?),
            None => None,
        };
        let rx_index = transfer::attach(self.inner.rx.as_fd()).map_err(ser::Error::custom)?;
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&tx_index)?;
        t.serialize_element(&rx_index)?;
        t.end()
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (tx_index, rx_index) = <(Option<u32>, u32)>::deserialize(d)?;
        let tx = match tx_index {
            Some(i) => Some(Socket::from_fd(
                transfer::detach(i).map_err(de::Error::custom)?,
            )),
            None => None,
        };
        let rx = Socket::from_fd(transfer::detach(rx_index).map_err(de::Error::custom)?);
        Ok(Queue::from_parts(tx, rx))
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}
