//! Networking on the event loop: [`TcpListener`], [`TcpStream`],
//! [`UdpSocket`], [`UnixListener`], [`UnixStream`] and [`UnixDatagram`].
//!
//! Sockets are non-blocking and registered with the loop's I/O driver
//! (see [`crate::io`]); an operation that would block suspends the task
//! until the driver reports the socket ready. Streams implement the
//! futures-io traits [`AsyncRead`](crate::io::AsyncRead) and
//! [`AsyncWrite`](crate::io::AsyncWrite), so the ecosystem's codecs and
//! combinators work on them; [`crate::io::AsyncReadExt`] and
//! [`crate::io::AsyncWriteExt`] add the usual `async` methods.
//!
//! Sockets belong to the loop that created them (they are not `Send`): a
//! task of that loop, or any number of them, may use them.
//!
//! ```
//! use brigade::io::{AsyncReadExt, AsyncWriteExt};
//! use brigade::net::{TcpListener, TcpStream};
//!
//! brigade::run(async {
//!     // An echo server, as `asyncio.start_server` would run it.
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = brigade::spawn(async move {
//!         let (mut conn, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 1024];
//!         loop {
//!             let n = conn.read(&mut buf).await.unwrap();
//!             if n == 0 {
//!                 break; // the client closed its side
//!             }
//!             conn.write_all(&buf[..n]).await.unwrap();
//!         }
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     client.close().await.unwrap(); // half-close: the server sees the end
//!     let mut reply = Vec::new();
//!     client.read_to_end(&mut reply).await.unwrap();
//!     assert_eq!(reply, b"hello");
//!     server.await.unwrap();
//! });
//! ```
//!
//! # One loop per core behind one port
//! A loop is single-threaded; to serve a port from every core, run one
//! loop per core and give each its own listener bound to the same address
//! with [`ListenOptions::reuse_port`]. The kernel (`SO_REUSEPORT`) spreads
//! incoming connections over the listeners, so the loops share nothing:
//!
//! ```
//! use brigade::net::ListenOptions;
//!
//! // Pick a free port, then bind it once per loop.
//! let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
//! let loops: Vec<_> = (0..2)
//!     .map(|_| {
//!         std::thread::spawn(move || {
//!             brigade::run(async move {
//!                 let listener = ListenOptions::new()
//!                     .reuse_port(true)
//!                     .bind(("127.0.0.1", port))
//!                     .await
//!                     .unwrap();
//!                 listener.local_addr().unwrap().port()
//!             })
//!         })
//!     })
//!     .collect();
//! for l in loops {
//!     assert_eq!(l.join().unwrap(), port);
//! }
//! ```
//!
//! The `echo_server` example and the benchmarks run this way
//! (`--loops N`).

mod datagram;
mod split;
mod stream;
mod tcp_listener;
mod tcp_stream;
mod udp;
mod unix;
mod unix_datagram;

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::Stream;
pub use tcp_listener::{ListenOptions, TcpListener};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};
pub use unix_datagram::UnixDatagram;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves a host name on the blocking pool, so DNS never blocks the
/// loop (`loop.getaddrinfo`).
///
/// ```
/// brigade::run(async {
///     let addrs = brigade::net::lookup_host("localhost:80").await.unwrap();
///     assert!(addrs.iter().all(|a| a.port() == 80));
/// });
/// ```
///
/// # Errors
/// A name that does not resolve (the resolver's error, as
/// `std::net::ToSocketAddrs` reports it), or a lookup whose thread panicked.
///
/// # Cancel safety
/// Cancel-safe: a dropped future leaves the lookup to finish on the
/// blocking pool, and its answer is dropped.
pub async fn lookup_host(host: impl Into<String>) -> io::Result<Vec<SocketAddr>> {
    let host = host.into();
    crate::to_thread(move || host.to_socket_addrs().map(|a| a.collect()))
        .await
        .map_err(io::Error::other)?
}

/// Implements [`Stream`] for a socket type with `source` and `rbuf` fields
/// (the reads go through its buffer, the writes straight to the socket),
/// then the futures-io traits for it and for references to it.
macro_rules! stream_traits {
    ($t:ty) => {
        impl $crate::net::stream::sealed::Sealed for $t {}

        impl $crate::net::Stream for $t {
            fn poll_read_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_read_buffered(&self.source, &self.rbuf, cx, buf)
            }

            fn poll_write_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_write(&self.source, cx, buf)
            }

            fn poll_write_vectored_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_write_vectored(&self.source, cx, bufs)
            }

            fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                <$t>::shutdown(self, how)
            }

            fn poll_read_uninit(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::stream::poll_read_uninit_buffered(&self.source, &self.rbuf, cx, buf)
            }
        }

        impl futures_io::AsyncRead for $t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::Stream::poll_read_ref(&*self, cx, buf)
            }
        }

        impl futures_io::AsyncRead for &$t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::Stream::poll_read_ref(*self, cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::Stream::poll_write_ref(&*self, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::Stream::poll_write_vectored_ref(&*self, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::Stream::shutdown(
                    &*self,
                    std::net::Shutdown::Write,
                ))
            }
        }

        impl futures_io::AsyncWrite for &$t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::Stream::poll_write_ref(*self, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::Stream::poll_write_vectored_ref(*self, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::Stream::shutdown(
                    *self,
                    std::net::Shutdown::Write,
                ))
            }
        }
    };
}
pub(crate) use stream_traits;
