//! [`UnixListener`] and [`UnixStream`]: Unix-domain stream sockets on the
//! event loop, for talking to local processes by path.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::stream::{ReadBuffer, Stream};
use crate::io::registry::Direction;
use crate::io::source::Source;
use crate::sys::net as socket;

/// A Unix-domain socket that accepts connections.
///
/// ```
/// use brigade::io::{AsyncReadExt, AsyncWriteExt};
/// use brigade::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("brigade-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("unix.sock");
/// brigade::run(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let mut client = UnixStream::connect(&path).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hi").await.unwrap();
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct UnixListener {
    source: Source<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens. A path that exists fails with
    /// `AddrInUse`, naming the path.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixListener;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-ul-bind-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("app.sock");
    /// brigade::run(async {
    ///     let _listener = UnixListener::bind(&path).unwrap();
    ///     let e = UnixListener::bind(&path).unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// `AddrInUse` for a path that exists, `NotFound` for a missing directory,
    /// and the other errors of `bind(2)`, naming the path; outside a brigade
    /// event loop, an error that says so.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let fd = socket::socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
        socket::bind_unix(fd.as_raw_fd(), path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot bind a Unix listener to {}: {e}", path.display()),
            )
        })?;
        socket::listen(fd.as_raw_fd(), 1024)?;
        let std = std::os::unix::net::UnixListener::from(fd);
        Ok(UnixListener {
            source: Source::new(std, "UnixListener::bind")?,
        })
    }

    /// Waits for a connection.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::{UnixListener, UnixStream};
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-ul-accept-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("accept.sock");
    /// brigade::run(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let (_server, peer) = listener.accept().await.unwrap();
    ///     assert!(peer.is_unnamed()); // the client bound no path
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` and the other errors of `accept4(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a dropped future leaves the connection queued.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let fd = self
            .source
            .io(Direction::Read, |l| socket::accept_unix(l.as_raw_fd()))
            .await?;
        let stream = UnixStream::from_fd(fd)?;
        let addr = stream.peer_addr()?;
        Ok((stream, addr))
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixListener;
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-ul-addr-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("addr.sock");
    /// brigade::run(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// The error of `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}

/// A Unix-domain stream connection; see [`UnixListener`].
///
/// # Examples
/// ```
/// use brigade::io::{AsyncReadExt, AsyncWriteExt};
/// use brigade::net::UnixStream;
///
/// brigade::run(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over the pair").await.unwrap();
///     drop(a);
///     let mut text = String::new();
///     b.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "over the pair");
/// });
/// ```
pub struct UnixStream {
    source: Source<std::os::unix::net::UnixStream>,
    rbuf: RefCell<ReadBuffer>,
}

impl UnixStream {
    /// Connects to the listener at `path`. A full backlog makes the
    /// connect wait, never block the loop.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::{UnixListener, UnixStream};
    ///
    /// # let dir = std::env::temp_dir().join(format!("brigade-doc-us-connect-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// brigade::run(async {
    ///     let e = UnixStream::connect(dir.join("nobody.sock")).await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    ///     let _listener = UnixListener::bind(dir.join("here.sock")).unwrap();
    ///     UnixStream::connect(dir.join("here.sock")).await.unwrap();
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Errors
    /// `NotFound` (no such path), `ConnectionRefused` (nobody listens there),
    /// and the other errors of `connect(2)`, naming the path; outside a brigade
    /// event loop, an error that says so.
    ///
    /// # Cancel safety
    /// A dropped future closes its socket: the attempt is abandoned.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let named = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("cannot connect to {}: {e}", path.display()),
            )
        };
        loop {
            let fd = socket::socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
            match socket::connect_unix(fd.as_raw_fd(), path) {
                Ok(true) => return UnixStream::from_fd(fd),
                Ok(false) => {
                    let stream = UnixStream::from_fd(fd)?;
                    stream
                        .source
                        .io(Direction::Write, |s| match socket::take_error(s)? {
                            Some(e) => Err(e),
                            None => Ok(()),
                        })
                        .await
                        .map_err(named)?;
                    return Ok(stream);
                }
                // The listener's backlog is full: wait a little and retry
                // on a fresh socket (Unix sockets have no readiness for it).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                Err(e) => return Err(named(e)),
            }
        }
    }

    /// A connected pair, like `socketpair(2)`.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixStream::pair().unwrap();
    ///     a.write(b"x").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// `EMFILE`/`ENFILE` (out of descriptors); outside a brigade event loop, an
    /// error that says so.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    fn from_fd(fd: OwnedFd) -> io::Result<UnixStream> {
        let std = std::os::unix::net::UnixStream::from(fd);
        Ok(UnixStream {
            source: Source::new(std, "UnixStream")?,
            rbuf: RefCell::default(),
        })
    }

    /// Adopts a stream made by the standard library.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UnixStream;
    ///
    /// let (std_a, std_b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// brigade::run(async {
    ///     let a = UnixStream::from_std(std_a).unwrap();
    ///     let b = UnixStream::from_std(std_b).unwrap();
    ///     a.write(b"adopted").await.unwrap();
    ///     let mut buf = [0; 7];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 7);
    /// });
    /// ```
    ///
    /// # Errors
    /// Called outside a brigade event loop, or if the socket cannot be
    /// registered with the loop's driver.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            source: Source::new(stream, "UnixStream::from_std")?,
            rbuf: RefCell::default(),
        })
    }

    /// This end's address.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, _b) = brigade::net::UnixStream::pair().unwrap();
    ///     assert!(a.local_addr().unwrap().is_unnamed());
    /// });
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
    /// brigade::run(async {
    ///     let (a, _b) = brigade::net::UnixStream::pair().unwrap();
    ///     assert!(a.peer_addr().unwrap().as_pathname().is_none());
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Shuts down reading, writing or both.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixStream::pair().unwrap();
    ///     a.shutdown(std::net::Shutdown::Write).unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 0);
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `shutdown(2)` (`NotConnected`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.get_ref().shutdown(how)
    }

    /// Reads some bytes; `Ok(0)` is the end of the stream.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixStream::pair().unwrap();
    ///     a.write(b"abc").await.unwrap();
    ///     drop(a);
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 3);
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 0); // the end of the stream
    /// });
    /// ```
    ///
    /// # Errors
    /// `ConnectionReset` and the other errors of `read(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: bytes are taken only in the poll that returns them.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read_ref(cx, buf)).await
    }

    /// Writes some bytes.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixStream::pair().unwrap();
    ///     assert_eq!(a.write(b"hello").await.unwrap(), 5);
    ///     drop(b);
    ///     let e = a.write(b"anyone?").await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    /// });
    /// ```
    ///
    /// # Errors
    /// `BrokenPipe` once the peer is gone, and the other errors of `write(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: bytes are written only in the poll that returns their
    /// count.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write_ref(cx, buf)).await
    }

    /// Splits into borrowed halves.
    ///
    /// # Examples
    /// ```
    /// use brigade::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixStream::pair().unwrap();
    ///     let (mut reader, mut writer) = a.split();
    ///     writer.write_all(b"to b").await.unwrap();
    ///     b.write(b"to a").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     reader.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"to a");
    /// });
    /// ```
    pub fn split(&self) -> (ReadHalf<'_, UnixStream>, WriteHalf<'_, UnixStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits into owned halves.
    ///
    /// # Examples
    /// ```
    /// use brigade::io::AsyncReadExt;
    ///
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixStream::pair().unwrap();
    ///     let (mut reader, writer) = a.into_split();
    ///     drop(writer); // b reads the end of the stream
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 0);
    ///     b.write(b"!").await.unwrap();
    ///     reader.read_exact(&mut buf).await.unwrap();
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        split::owned(self)
    }
}

super::stream_traits!(UnixStream);

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.source.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
