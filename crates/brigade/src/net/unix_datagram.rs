//! [`UnixDatagram`]: Unix-domain datagram sockets on the event loop, the
//! local cousin of [`UdpSocket`](super::UdpSocket) (asyncio's
//! `create_datagram_endpoint(family=AF_UNIX)`).
//!
//! Datagrams keep their boundaries and, unlike UDP, are never dropped by
//! the kernel: a sender to a full receiver waits. A socket is addressed by
//! a path in the file system, or on Linux by an abstract name (no file;
//! it vanishes with the socket), given as a `std::os::unix::net::SocketAddr`
//! to the `*_addr` methods:
//!
//! ```
//! use std::os::linux::net::SocketAddrExt;
//! use std::os::unix::net::SocketAddr;
//! use brigade::net::UnixDatagram;
//!
//! brigade::run(async {
//!     let name = format!("brigade-doc-{}", std::process::id());
//!     let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
//!     let server = UnixDatagram::bind_addr(&addr).unwrap();
//!     let client = UnixDatagram::unbound().unwrap();
//!     client.send_to_addr(b"ping", &addr).await.unwrap();
//!     let mut buf = [0; 16];
//!     let (n, from) = server.recv_from(&mut buf).await.unwrap();
//!     assert_eq!(&buf[..n], b"ping");
//!     assert!(from.is_unnamed()); // the client never bound a name
//! });
//! ```
//!
//! A datagram socket has no end of stream: when a connected peer goes
//! away, the next `send` fails with `ConnectionRefused`, but a `recv` that
//! waits for it waits on (bound it with [`crate::time::timeout`], or
//! [`shutdown`](UnixDatagram::shutdown) the reading side, which ends it
//! with `Ok(0)`).

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::datagram::Datagram;
use crate::sys::net as socket;

type StdDatagram = std::os::unix::net::UnixDatagram;

/// Wraps `e` so that its message names `what` was done to `target`.
fn named(e: io::Error, what: &str, target: &dyn fmt::Debug) -> io::Error {
    io::Error::new(e.kind(), format!("cannot {what} {target:?}: {e}"))
}

/// A Unix-domain datagram socket; see the [module documentation](crate::net).
/// Several tasks may send and receive on it at once (share it by
/// reference or `Rc`).
///
/// ```
/// use brigade::net::UnixDatagram;
///
/// let dir = std::env::temp_dir().join(format!("brigade-doc-dgram-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// brigade::run(async {
///     let server = UnixDatagram::bind(dir.join("server.sock")).unwrap();
///     let client = UnixDatagram::bind(dir.join("client.sock")).unwrap();
///     client.connect(dir.join("server.sock")).unwrap();
///     client.send(b"hello").await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"hello");
///     assert_eq!(from.as_pathname(), Some(dir.join("client.sock").as_path()));
///     server.send_to(b"hi back", from.as_pathname().unwrap()).await.unwrap();
///     assert_eq!(client.recv(&mut buf).await.unwrap(), 7);
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct UnixDatagram {
    inner: Datagram<StdDatagram>,
}

impl UnixDatagram {
    /// Binds to `path`. A path that exists (even a stale socket file)
    /// fails with `AddrInUse`, naming the path; remove it first to reuse it.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixDatagram;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-ud-bind-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let socket = UnixDatagram::bind(dir.join("d.sock")).unwrap();
    ///     let e = UnixDatagram::bind(dir.join("d.sock")).unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    ///     # drop(socket);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// `AddrInUse` for a path that exists, `NotFound` for a missing directory,
    /// naming the path; outside a brigade event loop, an error that says so.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let fd = socket::socket(libc::AF_UNIX, libc::SOCK_DGRAM)?;
        socket::bind_unix(fd.as_raw_fd(), path)
            .map_err(|e| named(e, "bind a Unix datagram socket to", &path))?;
        UnixDatagram::from_nonblocking(StdDatagram::from(fd), "UnixDatagram::bind")
    }

    /// Binds to `addr`: a path, or an abstract name
    /// (`std::os::linux::net::SocketAddrExt::from_abstract_name`). A name in
    /// use fails with `AddrInUse`.
    ///
    /// # Examples
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    /// use brigade::net::UnixDatagram;
    ///
    /// brigade::run(async {
    ///     let name = format!("brigade-doc-abstract-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(&name).unwrap();
    ///     let server = UnixDatagram::bind_addr(&addr).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.send_to_addr(b"hi", &addr).await.unwrap();
    ///     let mut buf = [0; 2];
    ///     assert_eq!(server.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    /// `AddrInUse` for a name in use, and the other errors of `bind(2)`.
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixDatagram> {
        let std = StdDatagram::bind_addr(addr)
            .map_err(|e| named(e, "bind a Unix datagram socket to", addr))?;
        UnixDatagram::from_std(std)
    }

    /// A socket bound to no name: it can send, and receive replies only
    /// through [`connect`](Self::connect) (its datagrams come from an
    /// unnamed address).
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixDatagram;
    ///
    /// brigade::run(async {
    ///     let socket = UnixDatagram::unbound().unwrap();
    ///     assert!(socket.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` (out of descriptors); outside a brigade event loop, an
    /// error that says so.
    pub fn unbound() -> io::Result<UnixDatagram> {
        let fd = socket::socket(libc::AF_UNIX, libc::SOCK_DGRAM)?;
        UnixDatagram::from_nonblocking(StdDatagram::from(fd), "UnixDatagram::unbound")
    }

    /// Two sockets connected to each other, like `socketpair(2)`.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"one").await.unwrap();
    ///     a.send(b"two").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 3); // datagrams keep their edges
    ///     assert_eq!(&buf[..3], b"one");
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`unbound`](Self::unbound).
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = StdDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Adopts a socket made by the standard library.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixDatagram;
    ///
    /// let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    /// brigade::run(async {
    ///     let a = UnixDatagram::from_std(std_a).unwrap();
    ///     let b = UnixDatagram::from_std(std_b).unwrap();
    ///     a.send(b"x").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// Called outside a brigade event loop, or if the socket cannot be
    /// registered with the loop's driver.
    pub fn from_std(socket: StdDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            inner: Datagram::adopt(socket, "UnixDatagram::from_std")?,
        })
    }

    fn from_nonblocking(socket: StdDatagram, what: &str) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            inner: Datagram::new(socket, what)?,
        })
    }

    /// Sets the default peer, for [`send`](Self::send) and
    /// [`recv`](Self::recv), and filters datagrams from other senders. A
    /// missing path is `NotFound` and a path with no socket bound to it
    /// `ConnectionRefused`, naming the path. (This never waits, so it is
    /// not `async`.)
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixDatagram;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-ud-connect-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     let e = client.connect(dir.join("missing.sock")).unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    ///     let _server = UnixDatagram::bind(dir.join("server.sock")).unwrap();
    ///     client.connect(dir.join("server.sock")).unwrap();
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// `NotFound`, `ConnectionRefused` (see above) and the other errors of
    /// `connect(2)`, naming the path.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.inner
            .get_ref()
            .connect(path)
            .map_err(|e| named(e, "connect to", &path))
    }

    /// Like [`connect`](Self::connect), to a path or abstract name.
    ///
    /// # Examples
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    /// use brigade::net::UnixDatagram;
    ///
    /// brigade::run(async {
    ///     let name = format!("brigade-doc-connect-addr-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(&name).unwrap();
    ///     let server = UnixDatagram::bind_addr(&addr).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.connect_addr(&addr).unwrap();
    ///     client.send(b"ok").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     assert_eq!(server.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub fn connect_addr(&self, addr: &SocketAddr) -> io::Result<()> {
        self.inner
            .get_ref()
            .connect_addr(addr)
            .map_err(|e| named(e, "connect to", addr))
    }

    /// Sends a datagram to the connected peer. A peer that went away is
    /// `ConnectionRefused` (and the socket is no longer connected).
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixDatagram::pair().unwrap();
    ///     assert_eq!(a.send(b"hello").await.unwrap(), 5);
    ///     drop(b);
    ///     assert!(a.send(b"gone").await.is_err());
    /// });
    /// ```
    ///
    /// # Errors
    /// `ConnectionRefused` (see above), `NotConnected` without a peer,
    /// `BrokenPipe` after [`shutdown`](Self::shutdown), and the other errors of
    /// `send(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is sent whole in the poll that returns, or not
    /// at all.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf).await
    }

    /// Receives a datagram from the connected peer. A datagram longer than
    /// `buf` is truncated. `Ok(0)` is an empty datagram, or the end after
    /// [`shutdown`](Self::shutdown) of the reading side.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"truncated").await.unwrap();
    ///     let mut buf = [0; 5];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
    ///     assert_eq!(&buf, b"trunc");
    /// });
    /// ```
    ///
    /// # Errors
    /// The errors of `recv(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is taken only in the poll that returns it.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf).await
    }

    /// Sends a datagram to the socket bound to `path`. While the
    /// receiver's queue is full it waits, retrying on a timer (the kernel
    /// wakes only connected senders; prefer [`connect`](Self::connect) and
    /// [`send`](Self::send) for a busy peer). Errors name the path.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixDatagram;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-ud-sendto-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let server = UnixDatagram::bind(dir.join("s.sock")).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.send_to(b"hey", dir.join("s.sock")).await.unwrap();
    ///     let mut buf = [0; 3];
    ///     assert_eq!(server.recv(&mut buf).await.unwrap(), 3);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// `NotFound`, `ConnectionRefused` and the other errors of `sendto(2)`,
    /// naming the path.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is sent whole in the poll that returns, or not
    /// at all.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.inner
            .send_unconnected(|s| s.send_to(buf, path))
            .await
            .map_err(|e| named(e, "send to", &path))
    }

    /// Like [`send_to`](Self::send_to), to a path or abstract name.
    ///
    /// # Examples
    /// ```
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    /// use brigade::net::UnixDatagram;
    ///
    /// brigade::run(async {
    ///     let name = format!("brigade-doc-send-to-addr-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(&name).unwrap();
    ///     let server = UnixDatagram::bind_addr(&addr).unwrap();
    ///     UnixDatagram::unbound().unwrap().send_to_addr(b"!", &addr).await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(server.recv(&mut buf).await.unwrap(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    ///
    /// # Cancel safety
    /// As [`send_to`](Self::send_to).
    pub async fn send_to_addr(&self, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        self.inner
            .send_unconnected(|s| s.send_to_addr(buf, addr))
            .await
            .map_err(|e| named(e, "send to", addr))
    }

    /// Receives a datagram and its sender's address (unnamed if the sender
    /// is not bound). A datagram longer than `buf` is truncated.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"who?").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(n, 4);
    ///     assert!(from.is_unnamed()); // a pair's sockets have no names
    /// });
    /// ```
    ///
    /// # Errors
    /// The errors of `recvfrom(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is taken only in the poll that returns it.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf).await
    }

    /// The address this socket is bound to (unnamed if none).
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixDatagram;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-ud-local-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let socket = UnixDatagram::bind(dir.join("me.sock")).unwrap();
    ///     let addr = socket.local_addr().unwrap();
    ///     assert_eq!(addr.as_pathname(), Some(dir.join("me.sock").as_path()));
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// The error of `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The connected peer's address; `NotConnected` if there is none.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let socket = brigade::net::UnixDatagram::unbound().unwrap();
    ///     let e = socket.peer_addr().unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    ///
    /// # Errors
    /// `NotConnected` without a peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Shuts down reading, writing or both. After reading is shut down,
    /// the datagrams already queued can still be received, then receives
    /// (including ones waiting now) return `Ok(0)`; after writing is,
    /// sends fail with `BrokenPipe`. The peer is not told (datagram
    /// sockets have no connection to close).
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, _b) = brigade::net::UnixDatagram::pair().unwrap();
    ///     a.shutdown(std::net::Shutdown::Read).unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(a.recv(&mut buf).await.unwrap(), 0);
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)?;
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.inner.set_read_shut();
        }
        Ok(())
    }

    /// The socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, _b) = brigade::net::UnixDatagram::pair().unwrap();
    ///     assert!(a.take_error().unwrap().is_none());
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `getsockopt(2)` itself.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get_ref().take_error()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("fd", &self.as_raw_fd())
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}
