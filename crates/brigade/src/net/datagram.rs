//! [`Datagram`]: what [`UdpSocket`](super::UdpSocket) and
//! [`UnixDatagram`](super::UnixDatagram) share, the readiness loop around a
//! non-blocking datagram socket.
//!
//! Both types are thin: each public method names its addresses in its own
//! family (`std::net::SocketAddr` or a Unix path) and hands the system call
//! to this type, which retries it when the loop reports the socket ready.
//! Three things differ from a stream and live here once:
//! - a hang-up or error report is an event, not a state (see
//!   [`crate::io::source`]), so the socket is registered as a datagram
//!   source;
//! - after `shutdown(Read)` a receive returns `Ok(0)` at once, as a
//!   blocking socket would (the kernel answers a non-blocking one with
//!   `EAGAIN` forever);
//! - a send to an *unconnected* Unix receiver whose queue is full cannot
//!   wait for readiness: only connected senders are put on the receiver's
//!   wait list, and the refused send itself reports the sender writable at
//!   once (the kernel frees the datagram it had charged to the sender),
//!   so waiting for readiness would spin the loop. Such a send retries on a
//!   timer that backs off to 16 ms instead.
//!
//! ```
//! use brigade::net::UnixDatagram;
//!
//! brigade::run(async {
//!     let (a, b) = UnixDatagram::pair().unwrap();
//!     a.send(b"ping").await.unwrap();
//!     let mut buf = [0; 8];
//!     assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
//!     b.shutdown(std::net::Shutdown::Read).unwrap();
//!     assert_eq!(b.recv(&mut buf).await.unwrap(), 0); // no more datagrams
//! });
//! ```

use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

use crate::io::registry::Direction;
use crate::io::source::Source;

/// The first and the longest pause of a send that the kernel will not wake
/// (see the module documentation): a blocked sender costs at most a
/// thousand wake-ups a second at first and about sixty after a while, and
/// notices a drained receiver within 16 ms.
const RETRY_FIRST: Duration = Duration::from_millis(1);
const RETRY_LAST: Duration = Duration::from_millis(16);

/// A standard-library datagram socket brigade can drive.
pub(crate) trait DatagramIo: AsRawFd + AsFd {
    /// The family's address type.
    type Addr;
    fn send(&self, buf: &[u8]) -> io::Result<usize>;
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)>;
    fn set_nonblocking(&self, on: bool) -> io::Result<()>;
    /// The sender a receive reports once the socket is shut down for
    /// reading (an unnamed address, as the kernel would say).
    fn no_sender() -> io::Result<Self::Addr>;
}

impl DatagramIo for std::net::UdpSocket {
    type Addr = std::net::SocketAddr;
    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::net::UdpSocket::send(self, buf)
    }
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::net::UdpSocket::recv(self, buf)
    }
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        std::net::UdpSocket::recv_from(self, buf)
    }
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        std::net::UdpSocket::set_nonblocking(self, on)
    }
    fn no_sender() -> io::Result<Self::Addr> {
        Ok(std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
    }
}

impl DatagramIo for std::os::unix::net::UnixDatagram {
    type Addr = std::os::unix::net::SocketAddr;
    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::os::unix::net::UnixDatagram::send(self, buf)
    }
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::net::UnixDatagram::recv(self, buf)
    }
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        std::os::unix::net::UnixDatagram::recv_from(self, buf)
    }
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        std::os::unix::net::UnixDatagram::set_nonblocking(self, on)
    }
    fn no_sender() -> io::Result<Self::Addr> {
        // An empty path is the unnamed address.
        std::os::unix::net::SocketAddr::from_pathname("")
    }
}

/// A datagram socket registered with the current loop.
pub(crate) struct Datagram<S: DatagramIo> {
    source: Source<S>,
    /// Set by `shutdown(Read)`: receives end with `Ok(0)`.
    read_shut: Cell<bool>,
}

impl<S: DatagramIo> Datagram<S> {
    /// Registers `socket`, which must already be non-blocking.
    pub(crate) fn new(socket: S, what: &str) -> io::Result<Datagram<S>> {
        Ok(Datagram {
            source: Source::datagram(socket, what)?,
            read_shut: Cell::new(false),
        })
    }

    /// Makes `socket` non-blocking and registers it.
    pub(crate) fn adopt(socket: S, what: &str) -> io::Result<Datagram<S>> {
        socket.set_nonblocking(true)?;
        Datagram::new(socket, what)
    }

    pub(crate) fn get_ref(&self) -> &S {
        self.source.get_ref()
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }

    /// Notes that the socket was shut down for reading.
    pub(crate) fn set_read_shut(&self) {
        self.read_shut.set(true);
    }

    /// `result`, or `end` if it is `WouldBlock` on a socket shut down for
    /// reading (the queued datagrams are all taken: nothing more comes).
    fn or_end<R>(
        &self,
        result: io::Result<R>,
        end: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && self.read_shut.get() => end(),
            other => other,
        }
    }

    /// Sends to the connected peer.
    pub(crate) async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.source.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Runs `send` (a `send_to`) until it does not block.
    pub(crate) async fn send_with(
        &self,
        send: impl FnMut(&S) -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.source.io(Direction::Write, send).await
    }

    /// Like [`send_with`](Self::send_with) for a send that may address a
    /// receiver that the kernel will not wake us for (an unconnected Unix
    /// `send_to`; see the module documentation): retries on a timer that
    /// backs off from [`RETRY_FIRST`] to [`RETRY_LAST`].
    pub(crate) async fn send_unconnected(
        &self,
        mut send: impl FnMut(&S) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let mut pause = RETRY_FIRST;
        loop {
            match send(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
            crate::time::sleep(pause).await;
            pause = (pause * 2).min(RETRY_LAST);
        }
    }

    /// Receives from the connected peer.
    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.source
            .io(Direction::Read, |s| self.or_end(s.recv(buf), || Ok(0)))
            .await
    }

    /// Receives a datagram and its sender's address.
    pub(crate) async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, S::Addr)> {
        self.source
            .io(Direction::Read, |s| {
                self.or_end(s.recv_from(buf), || Ok((0, S::no_sender()?)))
            })
            .await
    }
}
