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
pub struct UnixStream {
    source: Source<std::os::unix::net::UnixStream>,
    rbuf: RefCell<ReadBuffer>,
}

impl UnixStream {
    /// Connects to the listener at `path`. A full backlog makes the
    /// connect wait, never block the loop.
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
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            source: Source::new(stream, "UnixStream::from_std")?,
            rbuf: RefCell::default(),
        })
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Shuts down reading, writing or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.get_ref().shutdown(how)
    }

    /// Reads some bytes; `Ok(0)` is the end of the stream.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read_ref(cx, buf)).await
    }

    /// Writes some bytes.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write_ref(cx, buf)).await
    }

    /// Splits into borrowed halves.
    pub fn split(&self) -> (ReadHalf<'_, UnixStream>, WriteHalf<'_, UnixStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits into owned halves.
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
