//! Splitting a stream into a read half and a write half, so that one task
//! can read while another writes (`asyncio`'s `StreamReader`/`StreamWriter`
//! pair).
//!
//! [`TcpStream::split`](super::TcpStream::split) borrows the stream;
//! [`TcpStream::into_split`](super::TcpStream::into_split) gives two owned
//! halves (sharing the stream by `Rc`, since a loop's tasks share a thread)
//! that [`reunite`](OwnedReadHalf::reunite) back into the stream. Dropping
//! or closing the write half shuts the connection down for writing, so the
//! peer reads the end of the stream.
//!
//! ```
//! use brigade::io::{AsyncReadExt, AsyncWriteExt};
//! use brigade::net::{TcpListener, TcpStream};
//!
//! brigade::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     let (server, _) = listener.accept().await.unwrap();
//!     let (mut reader, mut writer) = server.into_split();
//!     client.write_all(b"ping").await.unwrap();
//!     let mut buf = [0; 4];
//!     reader.read_exact(&mut buf).await.unwrap();
//!     writer.write_all(&buf).await.unwrap();
//!     let mut back = [0; 4];
//!     client.read_exact(&mut back).await.unwrap();
//!     assert_eq!(&back, b"ping");
//! });
//! ```

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::stream::Stream;

/// The read half of a borrowed stream; see [`TcpStream::split`](super::TcpStream::split).
///
/// # Examples
/// ```
/// use brigade::io::AsyncReadExt;
/// # use brigade::net::{TcpListener, TcpStream};
/// # brigade::run(async {
/// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// # let (server, _) = listener.accept().await.unwrap();
/// let (mut reader, _writer) = server.split();
/// client.write(b"hi").await.unwrap();
/// let mut buf = [0; 2];
/// reader.read_exact(&mut buf).await.unwrap();
/// assert_eq!(&buf, b"hi");
/// # });
/// ```
#[derive(Debug)]
pub struct ReadHalf<'a, S>(pub(crate) &'a S);

/// The write half of a borrowed stream.
///
/// # Examples
/// ```
/// use brigade::io::AsyncWriteExt;
/// # use brigade::net::{TcpListener, TcpStream};
/// # brigade::run(async {
/// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// # let (server, _) = listener.accept().await.unwrap();
/// let (_reader, mut writer) = server.split();
/// writer.write_all(b"hi").await.unwrap();
/// let mut buf = [0; 2];
/// assert_eq!(client.read(&mut buf).await.unwrap(), 2);
/// # });
/// ```
#[derive(Debug)]
pub struct WriteHalf<'a, S>(pub(crate) &'a S);

/// The owned read half of a stream; see [`TcpStream::into_split`](super::TcpStream::into_split).
///
/// # Examples
/// ```
/// use brigade::io::AsyncReadExt;
/// # use brigade::net::{TcpListener, TcpStream};
/// # brigade::run(async {
/// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// # let (server, _) = listener.accept().await.unwrap();
/// let (mut reader, _writer) = server.into_split();
/// let task = brigade::spawn(async move {
///     let mut buf = [0; 3];
///     reader.read_exact(&mut buf).await.unwrap();
///     buf
/// });
/// client.write(b"abc").await.unwrap();
/// assert_eq!(&task.await.unwrap(), b"abc");
/// # });
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf<S> {
    pub(crate) stream: Rc<S>,
}

/// The owned write half of a stream. Dropping it shuts the connection down
/// for writing.
///
/// # Examples
/// ```
/// use brigade::io::AsyncWriteExt;
/// # use brigade::net::{TcpListener, TcpStream};
/// # brigade::run(async {
/// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// # let (server, _) = listener.accept().await.unwrap();
/// let (_reader, mut writer) = server.into_split();
/// writer.write_all(b"last words").await.unwrap();
/// drop(writer); // the peer reads the end of the stream
/// let mut buf = [0; 16];
/// assert_eq!(client.read(&mut buf).await.unwrap(), 10);
/// assert_eq!(client.read(&mut buf).await.unwrap(), 0);
/// # });
/// ```
#[derive(Debug)]
pub struct OwnedWriteHalf<S: Stream> {
    pub(crate) stream: Rc<S>,
    pub(crate) shutdown_on_drop: bool,
}

/// [`OwnedReadHalf::reunite`] was given halves of two different streams;
/// both are handed back.
///
/// # Examples
/// ```
/// # use brigade::net::{TcpListener, TcpStream};
/// # brigade::run(async {
/// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// # let (server, _) = listener.accept().await.unwrap();
/// let (r1, w1) = client.into_split();
/// let (r2, w2) = server.into_split();
/// let brigade::net::ReuniteError(r1, w2) = r1.reunite(w2).unwrap_err();
/// // Nothing is lost: the right pairs still go back together.
/// r1.reunite(w1).unwrap();
/// r2.reunite(w2).unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct ReuniteError<S: Stream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: Stream> std::fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the two halves come from different streams")
    }
}

impl<S: Stream + std::fmt::Debug> std::error::Error for ReuniteError<S> {}

pub(crate) fn owned<S: Stream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Rc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

impl<S: Stream> OwnedReadHalf<S> {
    /// Puts the stream back together from its two halves.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// let (reader, writer) = server.into_split();
    /// let server = reader.reunite(writer).unwrap();
    /// // Reuniting does not shut the stream down.
    /// server.write(b"still open").await.unwrap();
    /// # let _ = client;
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`ReuniteError`], holding both halves, if they come from different
    /// streams.
    pub fn reunite(self, mut other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Rc::ptr_eq(&self.stream, &other.stream) {
            return Err(ReuniteError(self, other));
        }
        other.shutdown_on_drop = false;
        let stream = other.stream.clone();
        drop(other);
        drop(self);
        Ok(Rc::try_unwrap(stream).unwrap_or_else(|_| unreachable!("both halves were dropped")))
    }

    /// The whole stream, for its addresses and options.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// let (reader, _writer) = server.into_split();
    /// assert_eq!(reader.stream().peer_addr().unwrap(), client.local_addr().unwrap());
    /// # });
    /// ```
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl<S: Stream> OwnedWriteHalf<S> {
    /// The whole stream, for its addresses and options.
    ///
    /// # Examples
    /// ```
    /// # use brigade::net::{TcpListener, TcpStream};
    /// # brigade::run(async {
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    /// # let (server, _) = listener.accept().await.unwrap();
    /// let (_reader, writer) = server.into_split();
    /// writer.stream().set_nodelay(true).unwrap();
    /// # let _ = client;
    /// # });
    /// ```
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl<S: Stream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Fails only if the peer is already gone, which is the goal.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

macro_rules! read_impl {
    ($t:ty, $($g:tt)*) => {
        impl<$($g)*> AsyncRead for $t {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.get_mut().stream_ref().poll_read_ref(cx, buf)
            }
        }
    };
}

macro_rules! write_impl {
    ($t:ty, $($g:tt)*) => {
        impl<$($g)*> AsyncWrite for $t {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.get_mut().stream_ref().poll_write_ref(cx, buf)
            }
            fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
                self.get_mut().stream_ref().poll_write_vectored_ref(cx, bufs)
            }
            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.get_mut().stream_ref().shutdown(Shutdown::Write))
            }
        }
    };
}

trait StreamRef<S> {
    fn stream_ref(&self) -> &S;
}
impl<S> StreamRef<S> for ReadHalf<'_, S> {
    fn stream_ref(&self) -> &S {
        self.0
    }
}
impl<S> StreamRef<S> for WriteHalf<'_, S> {
    fn stream_ref(&self) -> &S {
        self.0
    }
}
impl<S> StreamRef<S> for OwnedReadHalf<S> {
    fn stream_ref(&self) -> &S {
        &self.stream
    }
}
impl<S: Stream> StreamRef<S> for OwnedWriteHalf<S> {
    fn stream_ref(&self) -> &S {
        &self.stream
    }
}

read_impl!(ReadHalf<'_, S>, S: Stream);
read_impl!(OwnedReadHalf<S>, S: Stream);
write_impl!(WriteHalf<'_, S>, S: Stream);
write_impl!(OwnedWriteHalf<S>, S: Stream);
