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
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Datagram::adopt(socket, "UdpSocket::from_std")?,
        })
    }

    /// Sends a datagram to `target`.
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
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf).await
    }

    /// Sets the default peer, for [`send`](Self::send) and
    /// [`recv`](Self::recv), and filters datagrams from other addresses.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        self.inner.get_ref().connect(addr)
    }

    /// Sends to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf).await
    }

    /// Receives from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf).await
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Allows sending to broadcast addresses.
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
