//! [`TcpStream`]: a TCP connection on the event loop.
//!
//! A stream is the standard library's socket, switched to non-blocking
//! mode and registered with the loop's driver; every read and write tries
//! the system call first and waits for readiness only when the kernel says
//! `WouldBlock`. Reads go through a small buffer shared with the other
//! stream types (`stream.rs`), and the futures-io traits come from the
//! same macro as theirs. Connections are made here with
//! [`connect`](TcpStream::connect) or handed out by a
//! [`TcpListener`](super::TcpListener) (`tcp_listener.rs`).
//!
//! ```
//! use brigade::net::{TcpListener, TcpStream};
//!
//! brigade::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
//!     let (server, _) = listener.accept().await.unwrap();
//!     client.write(b"hi").await.unwrap();
//!     let mut buf = [0; 2];
//!     assert_eq!(server.read(&mut buf).await.unwrap(), 2);
//!     assert_eq!(&buf, b"hi");
//! });
//! ```

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::stream::{ReadBuffer, Stream};
use super::tcp_listener::resolve;
use crate::io::registry::Direction;
use crate::io::source::Source;
use crate::sys::net as socket;

/// A TCP connection. Implements [`AsyncRead`](crate::io::AsyncRead) and [`AsyncWrite`](crate::io::AsyncWrite) (also
/// through `&TcpStream`, since the loop is single-threaded), so codecs and
/// `futures-util` combinators work on it; [`crate::io::AsyncReadExt`] and
/// [`crate::io::AsyncWriteExt`] add `read_exact`, `write_all` and friends.
///
/// - A reset connection reads or writes as `ConnectionReset` (or
///   `BrokenPipe`); a peer that closed its side reads as `Ok(0)`.
/// - A peer that stops reading makes writes wait (backpressure), never
///   spin.
///
/// # Examples
/// An echo, with the traits of [`crate::io`]:
/// ```
/// use brigade::io::{AsyncReadExt, AsyncWriteExt};
/// use brigade::net::{TcpListener, TcpStream};
///
/// brigade::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = brigade::spawn(async move {
///         let (mut conn, _) = listener.accept().await.unwrap();
///         let mut buf = Vec::new();
///         conn.read_to_end(&mut buf).await.unwrap();
///         conn.write_all(&buf).await.unwrap();
///     });
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"echo me").await.unwrap();
///     client.shutdown(std::net::Shutdown::Write).unwrap();
///     let mut reply = String::new();
///     client.read_to_string(&mut reply).await.unwrap();
///     assert_eq!(reply, "echo me");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpStream {
    source: Source<std::net::TcpStream>,
    rbuf: RefCell<ReadBuffer>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::{TcpListener, TcpStream};
    ///
    /// brigade::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    ///
    ///     drop(listener); // nobody listens now
    ///     let e = TcpStream::connect(addr).await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    /// });
    /// ```
    ///
    /// # Errors
    /// The last address's error: `ConnectionRefused`, `TimedOut` (the
    /// kernel's), `NetworkUnreachable`, ..., or a name that does not resolve;
    /// outside a brigade event loop, an error that says so.
    ///
    /// # Cancel safety
    /// A dropped future closes its socket: the attempt is abandoned (a peer may
    /// see a connection that is reset at once).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in resolve(addr)? {
            match TcpStream::connect_one(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
    }

    /// Connects to `addr`, failing with `ErrorKind::TimedOut` after
    /// `timeout` (on the loop's clock).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use brigade::net::{TcpListener, TcpStream};
    ///
    /// brigade::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    ///
    /// # Errors
    /// `TimedOut` when `timeout` passes first; else as [`connect`](Self::connect).
    ///
    /// # Cancel safety
    /// As [`connect`](Self::connect).
    pub async fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        match crate::time::timeout(timeout, TcpStream::connect_one(*addr)).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connecting to {addr} timed out after {timeout:?}"),
            )),
        }
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let fd = socket::socket(socket::domain_of(&addr), libc::SOCK_STREAM)?;
        let done = socket::connect(fd.as_raw_fd(), &addr)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {addr}: {e}")))?;
        let stream = TcpStream::from_fd(fd)?;
        if !done {
            stream
                .source
                .io(Direction::Write, |s| match socket::take_error(s)? {
                    Some(e) => Err(e),
                    None => match s.peer_addr() {
                        Ok(_) => Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            Err(io::ErrorKind::WouldBlock.into())
                        }
                        Err(e) => Err(e),
                    },
                })
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {addr}: {e}")))?;
        }
        Ok(stream)
    }

    pub(super) fn from_fd(fd: OwnedFd) -> io::Result<TcpStream> {
        let std = std::net::TcpStream::from(fd);
        Ok(TcpStream {
            source: Source::new(std, "TcpStream")?,
            rbuf: RefCell::default(),
        })
    }

    /// Adopts a connected stream made by the standard library.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::TcpStream;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// brigade::run(async {
    ///     let stream = TcpStream::from_std(std_stream).unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    /// Called outside a brigade event loop, or if the socket cannot be
    /// registered with the loop's driver.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            source: Source::new(stream, "TcpStream::from_std")?,
            rbuf: RefCell::default(),
        })
    }

    /// This end's address.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// assert_eq!(client.local_addr().unwrap(), server.peer_addr().unwrap());
    /// # });
    /// ```
    ///
    /// # Errors
    /// The error of `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// # });
    /// ```
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone, and the other errors of
    /// `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Switches Nagle's algorithm off (`true`) or on.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// client.set_nodelay(true).unwrap();
    /// assert!(client.nodelay().unwrap());
    /// # });
    /// ```
    ///
    /// # Errors
    /// The error of `setsockopt(2)`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.get_ref().set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// assert!(!server.nodelay().unwrap()); // Nagle's algorithm is on by default
    /// # });
    /// ```
    ///
    /// # Errors
    /// The error of `getsockopt(2)`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.source.get_ref().nodelay()
    }

    /// Shuts down reading, writing or both. After `Shutdown::Write`, the
    /// peer reads the end of the stream.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// client.shutdown(std::net::Shutdown::Write).unwrap();
    /// let mut buf = [0; 8];
    /// assert_eq!(server.read(&mut buf).await.unwrap(), 0); // the end of the stream
    /// # });
    /// ```
    ///
    /// # Errors
    /// `NotConnected` on a connection already gone, and the other errors of
    /// `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.get_ref().shutdown(how)
    }

    /// Reads some bytes; `Ok(0)` is the end of the stream.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// client.write(b"abc").await.unwrap();
    /// let mut buf = [0; 8];
    /// let n = server.read(&mut buf).await.unwrap();
    /// assert_eq!(&buf[..n], b"abc"); // one write on loopback arrives whole
    /// # });
    /// ```
    ///
    /// # Errors
    /// `ConnectionReset` and the other errors of `read(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: bytes are taken only in the poll that returns them, so a
    /// dropped future loses none.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read_ref(cx, buf)).await
    }

    /// Writes some bytes; waits while the peer's window is full.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// let n = client.write(b"hello").await.unwrap();
    /// assert_eq!(n, 5); // a write may also take only part: see write_all
    /// # let mut buf = [0; 5];
    /// # let _ = server.read(&mut buf).await.unwrap();
    /// # });
    /// ```
    ///
    /// # Errors
    /// `BrokenPipe`, `ConnectionReset` and the other errors of `write(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: bytes are written only in the poll that returns their
    /// count, so a dropped future has written none.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write_ref(cx, buf)).await
    }

    /// Waits until the stream is readable (data, end of stream or error).
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// client.write(b"x").await.unwrap();
    /// server.readable().await.unwrap();
    /// let mut buf = [0; 1];
    /// assert_eq!(server.read(&mut buf).await.unwrap(), 1);
    /// # });
    /// ```
    ///
    /// # Errors
    /// An error from the driver while waiting.
    ///
    /// # Cancel safety
    /// Cancel-safe: waiting consumes nothing.
    pub async fn readable(&self) -> io::Result<()> {
        if !self.rbuf.borrow().is_empty() {
            return Ok(());
        }
        std::future::poll_fn(|cx| self.source.poll_ready(cx, Direction::Read)).await;
        Ok(())
    }

    /// Waits until the stream is writable.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// client.writable().await.unwrap(); // an empty send buffer
    /// # let _ = &server;
    /// # });
    /// ```
    ///
    /// # Errors
    /// An error from the driver while waiting.
    ///
    /// # Cancel safety
    /// Cancel-safe: waiting consumes nothing.
    pub async fn writable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.source.poll_ready(cx, Direction::Write)).await;
        Ok(())
    }

    /// Splits into borrowed read and write halves.
    ///
    /// # Examples
    /// ```
    /// use brigade::io::{AsyncReadExt, AsyncWriteExt};
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// let (mut reader, mut writer) = server.split();
    /// let mut client = client;
    /// client.write_all(b"ping").await.unwrap();
    /// let mut buf = [0; 4];
    /// reader.read_exact(&mut buf).await.unwrap();
    /// writer.write_all(&buf).await.unwrap();
    /// # });
    /// ```
    pub fn split(&self) -> (ReadHalf<'_, TcpStream>, WriteHalf<'_, TcpStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits into owned halves, which can move into different tasks of
    /// this loop; [`OwnedReadHalf::reunite`] joins them again.
    ///
    /// # Examples
    /// ```
    /// use brigade::io::{AsyncReadExt, AsyncWriteExt};
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// let (mut reader, mut writer) = server.into_split();
    /// let reading = brigade::spawn(async move {
    ///     let mut buf = Vec::new();
    ///     reader.read_to_end(&mut buf).await.unwrap();
    ///     buf
    /// });
    /// writer.write_all(b"bye").await.unwrap();
    /// drop(writer); // shuts the server's side down for writing
    /// let mut client = client;
    /// let mut got = Vec::new();
    /// client.read_to_end(&mut got).await.unwrap();
    /// assert_eq!(got, b"bye");
    /// drop(client);
    /// assert!(reading.await.unwrap().is_empty());
    /// # });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<TcpStream>, OwnedWriteHalf<TcpStream>) {
        split::owned(self)
    }

    /// The pending socket error (`SO_ERROR`), if any.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// assert!(client.take_error().unwrap().is_none());
    /// # let _ = &server;
    /// # });
    /// ```
    ///
    /// # Errors
    /// The error of `getsockopt(2)` itself.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        socket::take_error(self.source.get_ref())
    }
}

super::stream_traits!(TcpStream);

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
