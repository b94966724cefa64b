//! [`pipe`]: a duplex channel of typed messages between two processes, as
//! Python's `multiprocessing.Pipe()`.
//!
//! Each end is a [`Connection`]: `send` a value, `recv` one. An end travels
//! to a child as one of its arguments (its descriptor rides along with the
//! arguments), or inside a message on another connection. Messages keep
//! their boundaries and arrive whole and in order; a malformed one is a
//! [`RecvError::Malformed`], never a panic.
//!
//! ```
//! use brigade::process::{Connection, Process, pipe};
//!
//! fn echo_twice(conn: Connection<String>) {
//!     let word = conn.recv().unwrap();
//!     conn.send(&format!("{word} {word}")).unwrap();
//! }
//!
//! let (here, there) = pipe::<String>().unwrap();
//! let mut p = Process::new(echo_twice, (there,));
//! p.start().unwrap();
//! here.send(&"hey".to_string()).unwrap();
//! assert_eq!(here.recv().unwrap(), "hey hey");
//! p.join().unwrap();
//! ```

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::time::Duration;

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};

use super::frame::{self, FrameError};
use super::socket::{self, Packet, Socket};
use super::transfer;

/// A connected pair of [`Connection`]s.
///
/// # Examples
/// Python's `multiprocessing.Pipe()`, one end for the child:
/// ```
/// use brigade::process::{Connection, Process, pipe};
///
/// fn echo(conn: Connection<String>) {
///     let msg = conn.recv().unwrap();
///     conn.send(&format!("echo: {msg}")).unwrap();
/// }
///
/// let (here, there) = pipe().unwrap();
/// let mut p = Process::new(echo, (there,));
/// p.start().unwrap();
/// here.send(&"ping".to_string()).unwrap();
/// assert_eq!(here.recv().unwrap(), "echo: ping");
/// p.join().unwrap();
/// ```
///
/// # Errors
/// `EMFILE`/`ENFILE` if the process is out of descriptors.
pub fn pipe<T>() -> io::Result<(Connection<T>, Connection<T>)> {
    let (a, b) = Socket::pair()?;
    Ok((Connection::new(a), Connection::new(b)))
}

/// One end of a [`pipe`].
///
/// # Examples
/// Both ends are two-way, within a process too:
/// ```
/// let (a, b) = brigade::process::pipe::<(u8, String)>().unwrap();
/// a.send(&(1, "one".into())).unwrap();
/// b.send(&(2, "two".into())).unwrap();
/// assert_eq!(b.recv().unwrap(), (1, "one".to_string()));
/// assert_eq!(a.recv().unwrap().0, 2);
/// ```
pub struct Connection<T> {
    socket: Socket,
    _message: PhantomData<fn(T) -> T>,
}

impl<T> Connection<T> {
    fn new(socket: Socket) -> Connection<T> {
        Connection {
            socket,
            _message: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> Connection<T> {
    /// Sends `value`; blocks while the other end's buffer is full.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{SendError, pipe};
    ///
    /// let (a, b) = pipe::<u32>().unwrap();
    /// a.send(&5).unwrap();
    /// drop(b);
    /// assert!(matches!(a.send(&6), Err(SendError::Closed(()))));
    /// ```
    ///
    /// # Errors
    /// [`SendError::Closed`] once the other end is closed,
    /// [`SendError::Encode`] for a value too large or that cannot be encoded,
    /// [`SendError::Io`] if the system call fails.
    pub fn send(&self, value: &T) -> Result<(), SendError<()>> {
        let encoded = transfer::encode(value).map_err(|e| SendError::Encode((), e))?;
        self.socket
            .send(&encoded.bytes, &encoded.raw_fds())
            .map_err(|e| send_io((), e))
    }

    /// Receives the next value, waiting for it.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{RecvError, pipe};
    ///
    /// let (a, b) = pipe::<u32>().unwrap();
    /// a.send(&1).unwrap();
    /// drop(a);
    /// assert_eq!(b.recv().unwrap(), 1); // what was sent is still delivered
    /// assert!(matches!(b.recv(), Err(RecvError::Closed)));
    /// ```
    ///
    /// # Errors
    /// [`RecvError::Closed`] once the other end is closed and nothing is left,
    /// [`RecvError::Malformed`] for bytes that are not a valid message,
    /// [`RecvError::Io`] if the system call fails.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_with(None)
    }

    /// Receives the next value, waiting at most `timeout`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::process::{RecvError, pipe};
    ///
    /// let (_a, b) = pipe::<u32>().unwrap();
    /// assert!(matches!(b.recv_timeout(Duration::from_millis(1)), Err(RecvError::Timeout)));
    /// ```
    ///
    /// # Errors
    /// [`RecvError::Timeout`] when the time runs out; else as
    /// [`recv`](Self::recv).
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvError> {
        self.recv_with(Some(timeout))
    }

    /// Receives a value if one is waiting.
    ///
    /// # Examples
    /// ```
    /// use brigade::process::{RecvError, pipe};
    ///
    /// let (a, b) = pipe::<u32>().unwrap();
    /// assert!(matches!(b.try_recv(), Err(RecvError::Empty)));
    /// a.send(&3).unwrap();
    /// assert_eq!(b.try_recv().unwrap(), 3);
    /// ```
    ///
    /// # Errors
    /// [`RecvError::Empty`] when nothing is waiting; else as
    /// [`recv`](Self::recv).
    pub fn try_recv(&self) -> Result<T, RecvError> {
        try_recv_value(&self.socket)
    }

    fn recv_with(&self, timeout: Option<Duration>) -> Result<T, RecvError> {
        recv_value(&self.socket, timeout)
    }

    /// Receives the next value on the event loop, without blocking it: the
    /// task waits, other tasks run. Call it from a task on a brigade loop;
    /// elsewhere it returns [`RecvError::Io`].
    ///
    /// Cancel-safe: a future dropped before it finished (a
    /// [`timeout`](crate::time::timeout), a lost race) has taken nothing,
    /// and the message stays for the next receiver, whole (see
    /// [async waiting](super#async-waiting)). When the other end is closed and
    /// nothing is left, the result is [`RecvError::Closed`].
    ///
    /// ```
    /// use brigade::process::{Connection, Process, pipe};
    ///
    /// fn count_to(conn: Connection<u32>, n: u32) {
    ///     for i in 1..=n {
    ///         conn.send(&i).unwrap();
    ///     }
    /// }
    ///
    /// let (here, there) = pipe::<u32>().unwrap();
    /// let mut p = Process::new(count_to, (there, 3));
    /// p.start().unwrap();
    /// let sum = brigade::run(async move {
    ///     let mut sum = 0;
    ///     while let Ok(i) = here.recv_async().await {
    ///         sum += i;
    ///     }
    ///     sum
    /// });
    /// assert_eq!(sum, 6);
    /// p.join().unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`recv`](Self::recv); [`RecvError::Io`] outside a brigade event loop.
    ///
    /// # Cancel safety
    /// Cancel-safe, as said above.
    pub async fn recv_async(&self) -> Result<T, RecvError> {
        let message =
            super::readiness::recv(&self.socket, frame::MAX_PAYLOAD, "Connection::recv_async")
                .await?;
        transfer::decode(&message.payload, message.fds).map_err(RecvError::Malformed)
    }

    /// Sends `value` on the event loop: while the other end's buffer is
    /// full the task waits, and other tasks run. Cancel-safe: a future
    /// dropped before it finished has sent nothing.
    ///
    /// ```
    /// use brigade::process::pipe;
    ///
    /// let (a, b) = pipe::<String>().unwrap();
    /// brigade::run(async move {
    ///     a.send_async(&"hi".to_string()).await.unwrap();
    ///     assert_eq!(b.recv_async().await.unwrap(), "hi");
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`send`](Self::send); [`SendError::Io`] outside a brigade event loop.
    ///
    /// # Cancel safety
    /// Cancel-safe, as said above.
    pub async fn send_async(&self, value: &T) -> Result<(), SendError<()>> {
        let mut encoded = transfer::encode(value).map_err(|e| SendError::Encode((), e))?;
        let fds = encoded.raw_fds();
        let packet = Packet::framed(&[], std::mem::take(&mut encoded.bytes), &fds)
            .map_err(|e| send_io((), e))?;
        super::readiness::send(&self.socket, &packet, "Connection::send_async")
            .await
            .map_err(|e| send_io((), e))
    }

    /// Whether a message (or the end of the stream) is waiting, after
    /// waiting at most `timeout` (Python's `poll`).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// let (a, b) = brigade::process::pipe::<u8>().unwrap();
    /// assert!(!b.poll(Duration::ZERO));
    /// a.send(&1).unwrap();
    /// assert!(b.poll(Duration::from_secs(1)));
    /// ```
    pub fn poll(&self, timeout: Duration) -> bool {
        crate::sys::socket::poll_readable(self.socket.as_fd(), Some(timeout)).unwrap_or(false)
    }
}

impl<T> Serialize for Connection<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = transfer::attach(self.socket.as_fd()).map_err(ser::Error::custom)?;
        s.serialize_newtype_struct("Connection", &index)
    }
}

impl<'de, T> Deserialize<'de> for Connection<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let index = u32::deserialize(d)?;
        let fd = transfer::detach(index).map_err(de::Error::custom)?;
        Ok(Connection::new(Socket::from_fd(fd)))
    }
}

impl<T> fmt::Debug for Connection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

/// Why a value was not sent; the value (or `()`) is handed back.
///
/// # Examples
/// The value comes back with the error:
/// ```
/// use brigade::process::{Queue, SendError};
///
/// let q = Queue::<String>::new().unwrap();
/// q.close();
/// match q.put(&"late".to_string()) {
///     Err(SendError::Closed(())) => {} // `()`: put took the value by reference
///     other => unreachable!("{other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError<T> {
    /// Every receiving end is closed.
    Closed(T),
    /// The channel is full and the send would have to wait.
    Full(T),
    /// The value could not be encoded.
    Encode(T, FrameError),
    /// The system call failed.
    Io(T, io::Error),
}

pub(crate) fn send_io<T>(value: T, e: io::Error) -> SendError<T> {
    match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => SendError::Closed(value),
        io::ErrorKind::WouldBlock => SendError::Full(value),
        _ => SendError::Io(value, e),
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed(_) => f.write_str("the receiving end is closed"),
            SendError::Full(_) => f.write_str("the channel is full"),
            SendError::Encode(_, e) => write!(f, "cannot encode the message: {e}"),
            SendError::Io(_, e) => write!(f, "cannot send the message: {e}"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SendError<T> {}

/// Why no value was received.
///
/// # Examples
/// ```
/// use brigade::process::{RecvError, pipe};
///
/// let (a, b) = pipe::<u8>().unwrap();
/// assert!(matches!(b.try_recv(), Err(RecvError::Empty)));
/// drop(a);
/// let e = b.recv().unwrap_err();
/// assert!(matches!(e, RecvError::Closed));
/// println!("{e}");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum RecvError {
    /// Every sending end is closed and nothing is left.
    Closed,
    /// The time ran out.
    Timeout,
    /// Nothing is waiting (from `try_recv`/`try_get`).
    Empty,
    /// The bytes that arrived are not a valid message.
    Malformed(FrameError),
    /// A system call failed, or an `_async` method was called outside a
    /// brigade event loop (the error says which).
    Io(io::Error),
}

impl From<socket::RecvError> for RecvError {
    fn from(e: socket::RecvError) -> RecvError {
        match e {
            socket::RecvError::Closed => RecvError::Closed,
            socket::RecvError::Timeout => RecvError::Timeout,
            socket::RecvError::Frame(f) => RecvError::Malformed(f),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("every sending end is closed"),
            RecvError::Timeout => f.write_str("timed out waiting for a message"),
            RecvError::Empty => f.write_str("no message is waiting"),
            RecvError::Malformed(e) => write!(f, "received a malformed message: {e}"),
            RecvError::Io(e) => write!(f, "cannot receive a message: {e}"),
        }
    }
}

impl std::error::Error for RecvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecvError::Malformed(e) => Some(e),
            RecvError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Receives and decodes one value, waiting at most `timeout` (forever for
/// `None`); shared by [`Connection`] and [`super::Queue`].
pub(super) fn recv_value<T: DeserializeOwned>(
    socket: &Socket,
    timeout: Option<Duration>,
) -> Result<T, RecvError> {
    let message = socket.recv(timeout)?;
    transfer::decode(&message.payload, message.fds).map_err(RecvError::Malformed)
}

/// Receives and decodes one value if one is waiting.
pub(super) fn try_recv_value<T: DeserializeOwned>(socket: &Socket) -> Result<T, RecvError> {
    let message = socket.try_recv(frame::MAX_PAYLOAD).map_err(|e| match e {
        socket::RecvError::Timeout => RecvError::Empty,
        other => RecvError::from(other),
    })?;
    transfer::decode(&message.payload, message.fds).map_err(RecvError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_messages_are_errors_and_the_pipe_goes_on() {
        let (raw, end) = Socket::pair().unwrap();
        let conn = Connection::<String>::new(end);
        // Well framed, but not a String: length 200 with 2 bytes behind it.
        raw.send(&[200, 0, 0], &[]).unwrap();
        assert!(matches!(conn.recv(), Err(RecvError::Malformed(_))));
        // A valid String with a stray byte after it.
        raw.send(&[1, b'a', b'b'], &[]).unwrap();
        assert!(matches!(conn.recv(), Err(RecvError::Malformed(_))));
        // Not even a frame.
        raw.send_raw(b"garbage!").unwrap();
        assert!(matches!(conn.recv(), Err(RecvError::Malformed(_))));
        // A good message still gets through afterwards.
        raw.send(&frame::to_payload("ok").unwrap(), &[]).unwrap();
        assert_eq!(conn.recv().unwrap(), "ok");
        drop(raw);
        assert!(matches!(conn.recv(), Err(RecvError::Closed)));
    }
}
