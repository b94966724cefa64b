//! [`UdpSocket`]: datagrams on the event loop. The readiness loop is
//! shared with [`UnixDatagram`](super::UnixDatagram) (`datagram.rs`).

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use super::datagram::Datagram;
use crate::sys::net as socket;

/// A UDP socket. Several tasks may send and receive on it at once (share
/// it by reference or `Rc`); each is woken when the socket is ready.
///
/// ```
/// use brigade::net::UdpSocket;
///
/// brigade::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"hello", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"hello");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
pub struct UdpSocket {
    inner: Datagram<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr`. An address in use fails with `AddrInUse`.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UdpSocket;
    ///
    /// brigade::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let e = UdpSocket::bind(socket.local_addr().unwrap()).await.unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    /// });
    /// ```
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied`, a name that does
    /// not resolve; outside a brigade event loop, an error that says so.
    ///
    /// # Cancel safety
    /// Binding never waits; a dropped future has bound nothing, or its socket
    /// is closed with it.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            let fd = socket::socket(socket::domain_of(&addr), libc::SOCK_DGRAM)?;
            match socket::bind(fd.as_raw_fd(), &addr) {
                Ok(()) => {
                    let std = std::net::UdpSocket::from(fd);
                    return Ok(UdpSocket {
                        inner: Datagram::new(std, "UdpSocket::bind")?,
                    });
                }
                Err(e) => {
                    last = Some(io::Error::new(
                        e.kind(),
                        format!("cannot bind a UDP socket to {addr}: {e}"),
                    ))
                }
            }
        }
        Err(last
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
    }

    /// Adopts a socket made by the standard library.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UdpSocket;
    ///
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let addr = std_socket.local_addr().unwrap();
    /// brigade::run(async {
    ///     let socket = UdpSocket::from_std(std_socket).unwrap();
    ///     assert_eq!(socket.local_addr().unwrap(), addr);
    /// });
    /// ```
    ///
    /// # Errors
    /// Called outside a brigade event loop, or if the socket cannot be
    /// registered with the loop's driver.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Datagram::adopt(socket, "UdpSocket::from_std")?,
        })
    }

    /// Sends a datagram to `target`.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UdpSocket;
    ///
    /// brigade::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_eq!(a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap(), 4);
    ///     let mut buf = [0; 4];
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap().0, 4);
    /// });
    /// ```
    ///
    /// # Errors
    /// A target that does not resolve, `EMSGSIZE` for a datagram too large,
    /// and the other errors of `sendto(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is sent whole in the poll that returns, or not
    /// at all.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = target.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the target resolved to no address",
            )
        })?;
        self.inner.send_with(|s| s.send_to(buf, target)).await
    }

    /// Receives a datagram and its sender's address. A datagram longer
    /// than `buf` is truncated.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UdpSocket;
    ///
    /// brigade::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"a long datagram", b.local_addr().unwrap()).await.unwrap();
    ///     let mut small = [0; 6];
    ///     let (n, from) = b.recv_from(&mut small).await.unwrap();
    ///     assert_eq!((&small[..n], from), (&b"a long"[..], a.local_addr().unwrap()));
    /// });
    /// ```
    ///
    /// # Errors
    /// The errors of `recvfrom(2)` (`ConnectionRefused` after an ICMP error on
    /// a connected socket, ...).
    ///
    /// # Cancel safety
    /// Cancel-safe: a datagram is taken only in the poll that returns it.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf).await
    }

    /// Sets the default peer, for [`send`](Self::send) and
    /// [`recv`](Self::recv), and filters datagrams from other addresses.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UdpSocket;
    ///
    /// brigade::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    /// A name that does not resolve, and the errors of `connect(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe: connecting a datagram socket never waits.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        self.inner.get_ref().connect(addr)
    }

    /// Sends to the connected peer.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UdpSocket;
    ///
    /// brigade::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    /// `NotConnected` without a peer ([`connect`](Self::connect)),
    /// `ConnectionRefused` after the peer's port reported unreachable, and the
    /// other errors of `send(2)`.
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`send_to`](Self::send_to).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf).await
    }

    /// Receives from the connected peer.
    ///
    /// # Examples
    /// ```
    /// use brigade::net::UdpSocket;
    ///
    /// brigade::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send_to(b"only from a", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 16];
    ///     let n = b.recv(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"only from a");
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`recv_from`](Self::recv_from).
    ///
    /// # Cancel safety
    /// Cancel-safe, as [`recv_from`](Self::recv_from).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf).await
    }

    /// The bound address.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let socket = brigade::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let socket = brigade::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let e = socket.peer_addr().unwrap_err();
    ///     assert_eq!(e.kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    ///
    /// # Errors
    /// `NotConnected` before [`connect`](Self::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Allows sending to broadcast addresses.
    ///
    /// # Examples
    /// ```
    /// brigade::run(async {
    ///     let socket = brigade::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     socket.set_broadcast(true).unwrap();
    /// });
    /// ```
    ///
    /// # Errors
    /// The error of `setsockopt(2)`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_broadcast(on)
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}
