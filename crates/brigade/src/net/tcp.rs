//! [`TcpListener`] and [`TcpStream`]: TCP on the event loop.
//!
//! Both wrap the standard library's socket, switched to non-blocking mode
//! and registered with the loop's driver; every operation tries the system
//! call first and waits for readiness only when the kernel says
//! `WouldBlock`.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::stream::{ReadBuffer, Stream};
use crate::io::registry::Direction;
use crate::io::source::Source;
use crate::sys::net as socket;

/// Resolves `addr` to socket addresses. Names are looked up on the calling
/// thread; pass a `SocketAddr` (or resolve with [`super::lookup_host`]) to
/// keep the loop free of DNS.
fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}

/// Options for a listening socket: `SO_REUSEPORT` (one listener per loop
/// behind one port, see [`crate::net`]) and the accept backlog.
///
/// # Examples
/// Two listeners, one port (one per loop in a real server):
/// ```
/// use brigade::net::ListenOptions;
///
/// brigade::run(async {
///     let opts = ListenOptions::new().reuse_port(true).backlog(128);
///     let first = opts.bind("127.0.0.1:0").await.unwrap();
///     let addr = first.local_addr().unwrap();
///     let second = opts.bind(addr).await.unwrap();
///     assert_eq!(second.local_addr().unwrap(), addr);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct ListenOptions {
    reuse_port: bool,
    backlog: i32,
}

impl Default for ListenOptions {
    fn default() -> ListenOptions {
        ListenOptions {
            reuse_port: false,
            backlog: 1024,
        }
    }
}

impl ListenOptions {
    /// The defaults: no `SO_REUSEPORT`, a backlog of 1024.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let listener = brigade::net::ListenOptions::new().bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub fn new() -> ListenOptions {
        ListenOptions::default()
    }

    /// Lets several sockets (one per loop, say) listen on the same port;
    /// the kernel spreads incoming connections over them.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::{ListenOptions, TcpListener};
    ///
    /// brigade::run(async {
    ///     let a = ListenOptions::new().reuse_port(true).bind("127.0.0.1:0").await.unwrap();
    ///     let addr = a.local_addr().unwrap();
    ///     // Without the option on both sockets, the port is taken.
    ///     let e = TcpListener::bind(addr).await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    ///     ListenOptions::new().reuse_port(true).bind(addr).await.unwrap();
    /// });
    /// ```
    pub fn reuse_port(mut self, on: bool) -> ListenOptions {
        self.reuse_port = on;
        self
    }

    /// How many connections the kernel queues before they are accepted.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let opts = brigade::net::ListenOptions::new().backlog(16);
    ///     let listener = opts.bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn backlog(mut self, backlog: u32) -> ListenOptions {
        self.backlog = backlog.min(i32::MAX as u32) as i32;
        self
    }

    /// Binds a listener to `addr` with these options.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::{ListenOptions, TcpStream};
    ///
    /// brigade::run(async {
    ///     let listener = ListenOptions::new().bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     listener.accept().await.unwrap();
    /// });
    /// ```
    ///
    /// # Errors
    /// `AddrInUse` (naming the address), `AddrNotAvailable`,
    /// `PermissionDenied` (a low port), a name that does not resolve; outside a
    /// brigade event loop, an error that says so.
    ///
    /// # Cancel safety
    /// Binding never waits; a dropped future has bound nothing, or its socket is
    /// closed with it.
    pub async fn bind(&self, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let mut last = None;
        for addr in resolve(addr)? {
            match self.bind_one(&addr) {
                Ok(l) => return Ok(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to bind")))
    }

    fn bind_one(&self, addr: &SocketAddr) -> io::Result<TcpListener> {
        let fd = socket::socket(socket::domain_of(addr), libc::SOCK_STREAM)?;
        socket::set_reuseaddr(fd.as_raw_fd())?;
        if self.reuse_port {
            socket::set_reuseport(fd.as_raw_fd())?;
        }
        socket::bind(fd.as_raw_fd(), addr).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot bind a TCP listener to {addr}: {e}"),
            )
        })?;
        socket::listen(fd.as_raw_fd(), self.backlog)?;
        TcpListener::from_fd(fd)
    }
}

/// A TCP socket that accepts connections (`asyncio.start_server`).
///
/// ```
/// use brigade::net::{TcpListener, TcpStream};
///
/// brigade::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = TcpStream::connect(addr).await.unwrap();
///     let (server, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
/// });
/// ```
pub struct TcpListener {
    source: Source<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (with `SO_REUSEADDR`) and listens. Port 0 picks a
    /// free port; [`local_addr`](Self::local_addr) tells which. An address
    /// in use fails with `ErrorKind::AddrInUse`, naming the address.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::TcpListener;
    ///
    /// brigade::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let e = TcpListener::bind(addr).await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`ListenOptions::bind`].
    ///
    /// # Cancel safety
    /// As [`ListenOptions::bind`].
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        ListenOptions::default().bind(addr).await
    }

    fn from_fd(fd: OwnedFd) -> io::Result<TcpListener> {
        let std = std::net::TcpListener::from(fd);
        Ok(TcpListener {
            source: Source::new(std, "TcpListener::bind")?,
        })
    }

    /// Adopts a listener made by the standard library (switching it to
    /// non-blocking mode).
    ///
    /// # Examples
    /// ```
    /// use brigade::net::TcpListener;
    ///
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// brigade::run(async {
    ///     let listener = TcpListener::from_std(std_listener).unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let _client = brigade::net::TcpStream::connect(addr).await.unwrap();
    ///     listener.accept().await.unwrap();
    /// });
    /// ```
    ///
    /// # Errors
    /// Called outside a brigade event loop, or if the socket cannot be
    /// registered with the loop's driver.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            source: Source::new(listener, "TcpListener::from_std")?,
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Running out of descriptors (`EMFILE`, `ENFILE`) is returned as the
    /// error it is; the connection stays queued, so a server should back
    /// off (sleep) and accept again rather than retry at once.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::{TcpListener, TcpStream};
    ///
    /// brigade::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_server, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(peer, client.local_addr().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` (see above) and the other errors of `accept4(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a connection is taken from the kernel's queue only in the
    /// poll that returns it, so a dropped future (a lost `select`, a timeout)
    /// leaves it queued for the next `accept`.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, addr) = self
            .source
            .io(Direction::Read, |l| socket::accept(l.as_raw_fd()))
            .await?;
        Ok((TcpStream::from_fd(fd)?, addr))
    }

    /// Polls for a connection (for hand-written futures and adapters).
    ///
    /// # Examples
    /// ```
    /// use brigade::net::{TcpListener, TcpStream};
    ///
    /// brigade::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_server, _peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.source
            .poll_io(cx, Direction::Read, |l| socket::accept(l.as_raw_fd()))
            .map(|r| r.and_then(|(fd, addr)| Ok((TcpStream::from_fd(fd)?, addr))))
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let listener = brigade::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0); // the port picked
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `getsockname(2)`, which does not fail on a live socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

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

    fn from_fd(fd: OwnedFd) -> io::Result<TcpStream> {
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
