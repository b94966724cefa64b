//! [`TcpListener`] and its [`ListenOptions`]: the accepting side of TCP on
//! the event loop.
//!
//! A listener is the standard library's socket, switched to non-blocking
//! mode and registered with the loop's driver. `accept` tries `accept4(2)`
//! first and waits for readiness only when the kernel says `WouldBlock`,
//! so a busy server takes queued connections without a trip through the
//! driver. [`ListenOptions`] sets what must be set before `listen(2)`:
//! `SO_REUSEPORT` (one listener per loop behind one port) and the backlog.
//! The connections it hands out are [`TcpStream`]s (`tcp_stream.rs`).
//!
//! ```
//! use brigade::net::{ListenOptions, TcpStream};
//!
//! brigade::run(async {
//!     let listener = ListenOptions::new().backlog(64).bind("127.0.0.1:0").await.unwrap();
//!     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
//!     let (_conn, peer) = listener.accept().await.unwrap();
//!     assert_eq!(peer, client.local_addr().unwrap());
//! });
//! ```

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{Context, Poll};

use super::TcpStream;
use crate::io::registry::Direction;
use crate::io::source::Source;
use crate::sys::net as socket;

/// Resolves `addr` to socket addresses. Names are looked up on the calling
/// thread; pass a `SocketAddr` (or resolve with [`super::lookup_host`]) to
/// keep the loop free of DNS.
pub(super) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
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
