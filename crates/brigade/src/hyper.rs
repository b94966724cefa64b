//! hyper 1.x on brigade (cargo feature `hyper`): the three things hyper
//! asks of a runtime.
//!
//! - [`HyperIo`] adapts brigade's streams ([`TcpStream`](crate::net::TcpStream),
//!   [`UnixStream`](crate::net::UnixStream)) to hyper's `rt::Read` and
//!   `rt::Write`, reading straight into hyper's uninitialized buffers;
//!   [`HyperCompat`] adapts any other futures-io stream (zeroing the
//!   buffer before each read, since futures-io reads need initialized
//!   memory);
//! - [`LocalExecutor`] spawns hyper's background futures (HTTP/2 streams)
//!   on the current loop; they need not be `Send`;
//! - [`LoopTimer`] gives hyper sleeps on the loop's clock (virtual clocks
//!   included), for header-read timeouts and keep-alive.
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use hyper::{Request, Response, server::conn::http1, service::service_fn};
//! use brigade::hyper::{HyperIo, LoopTimer};
//! use brigade::net::{TcpListener, TcpStream};
//!
//! async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from("hello from brigade"))))
//! }
//!
//! brigade::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     brigade::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         http1::Builder::new()
//!             .timer(LoopTimer)
//!             .serve_connection(HyperIo::new(stream), service_fn(hello))
//!             .await
//!             .unwrap();
//!     });
//!     // A raw HTTP/1.0 request, to keep the example small.
//!     use brigade::io::{AsyncReadExt, AsyncWriteExt};
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
//!     let mut reply = String::new();
//!     client.read_to_string(&mut reply).await.unwrap();
//!     assert!(reply.starts_with("HTTP/1.0 200 OK"));
//!     assert!(reply.ends_with("hello from brigade"));
//! });
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant as StdInstant};

use std::net::Shutdown;

use ::hyper::rt::{self, ReadBufCursor};
use futures_io::{AsyncRead, AsyncWrite};

use crate::net::Stream;
use crate::time::{Instant, Sleep};

/// A brigade stream as hyper's `rt::Read + rt::Write`.
///
/// # Examples
/// hyper's HTTP/1 client over a brigade `UnixStream`:
/// ```
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Empty, Full};
/// use hyper::{Request, Response, server::conn::http1, client, service::service_fn};
/// use brigade::hyper::HyperIo;
/// use brigade::net::UnixStream;
///
/// brigade::run(async {
///     let (server_end, client_end) = UnixStream::pair().unwrap();
///     brigade::spawn(async move {
///         let service = service_fn(|_req| async {
///             Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("pong"))))
///         });
///         http1::Builder::new().serve_connection(HyperIo::new(server_end), service).await.unwrap();
///     });
///     let (mut sender, conn) = client::conn::http1::handshake(HyperIo::new(client_end)).await.unwrap();
///     brigade::spawn(conn);
///     let reply = sender.send_request(Request::new(Empty::<Bytes>::new())).await.unwrap();
///     let body = reply.into_body().collect().await.unwrap().to_bytes();
///     assert_eq!(body, "pong");
/// });
/// ```
#[derive(Debug)]
pub struct HyperIo<S> {
    inner: S,
}

impl<S> HyperIo<S> {
    /// Wraps `inner`.
    ///
    /// # Examples
    /// ```
    /// use brigade::hyper::HyperIo;
    ///
    /// brigade::run(async {
    ///     let (a, _b) = brigade::net::UnixStream::pair().unwrap();
    ///     let io = HyperIo::new(a); // now hyper::rt::Read + hyper::rt::Write
    ///     assert!(io.get_ref().peer_addr().is_ok());
    /// });
    /// ```
    pub fn new(inner: S) -> HyperIo<S> {
        HyperIo { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    /// ```
    /// use brigade::hyper::HyperIo;
    ///
    /// brigade::run(async {
    ///     let listener = brigade::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = brigade::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let io = HyperIo::new(stream);
    ///     assert_eq!(io.get_ref().peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    /// ```
    /// use brigade::hyper::HyperIo;
    ///
    /// brigade::run(async {
    ///     let (a, b) = brigade::net::UnixStream::pair().unwrap();
    ///     let a = HyperIo::new(a).into_inner();
    ///     a.write(b"back to brigade").await.unwrap();
    ///     let mut buf = [0; 15];
    ///     assert_eq!(b.read(&mut buf).await.unwrap(), 15);
    /// });
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Stream> rt::Read for HyperIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the slice is only written by the kernel's read, never
        // read; `advance` below counts only the bytes the read initialized.
        let unfilled = unsafe { buf.as_mut() };
        let n = ready!(self.inner.poll_read_uninit(cx, unfilled))?;
        // SAFETY: `read` initialized the first `n` bytes of `unfilled`.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<S: Stream> rt::Write for HyperIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_ref(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_vectored_ref(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown(Shutdown::Write))
    }
}

/// Any futures-io stream as hyper's `rt::Read + rt::Write`.
///
/// # Examples
/// ```
/// use std::pin::Pin;
/// use hyper::rt::Write;
/// use brigade::hyper::HyperCompat;
///
/// brigade::run(async {
///     // A Vec<u8> is a futures-io writer.
///     let mut io = HyperCompat::new(Vec::new());
///     let n = std::future::poll_fn(|cx| Pin::new(&mut io).poll_write(cx, b"HTTP/1.1")).await;
///     assert_eq!(n.unwrap(), 8);
///     assert_eq!(io.into_inner(), b"HTTP/1.1");
/// });
/// ```
#[derive(Debug)]
pub struct HyperCompat<T> {
    inner: T,
}

impl<T> HyperCompat<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    /// ```
    /// use brigade::hyper::HyperCompat;
    ///
    /// brigade::run(async {
    ///     let file = brigade::fs::File::open("/proc/self/status").await.unwrap();
    ///     let _io = HyperCompat::new(file); // a file as hyper's rt::Read
    /// });
    /// ```
    pub fn new(inner: T) -> HyperCompat<T> {
        HyperCompat { inner }
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    /// ```
    /// use brigade::hyper::HyperCompat;
    ///
    /// let io = HyperCompat::new(vec![1u8, 2, 3]);
    /// assert_eq!(io.into_inner(), [1, 2, 3]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> rt::Read for HyperCompat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // futures-io reads into initialized memory.
        let unfilled = buf.initialize_unfilled();
        let n = ready!(Pin::new(&mut this.inner).poll_read(cx, unfilled))?;
        // SAFETY: the `n` bytes just read lie in the part that
        // `initialize_unfilled` initialized.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> rt::Write for HyperCompat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// Spawns hyper's futures on the current loop with [`crate::spawn`].
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// use std::cell::Cell;
/// use hyper::rt::Executor;
/// use brigade::hyper::LocalExecutor;
///
/// brigade::run(async {
///     let ran = Rc::new(Cell::new(false)); // not Send: fine on one loop
///     let flag = ran.clone();
///     LocalExecutor.execute(async move { flag.set(true) });
///     brigade::yield_now().await;
///     assert!(ran.get());
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalExecutor;

impl<F> rt::Executor<F> for LocalExecutor
where
    F: Future + 'static,
{
    fn execute(&self, future: F) {
        drop(crate::spawn(future));
    }
}

/// hyper's timer on the loop's clock.
///
/// # Examples
/// On a virtual clock, hyper's timeouts take no real time:
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer;
/// use brigade::hyper::LoopTimer;
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = brigade::time::Instant::now();
///     LoopTimer.sleep(Duration::from_secs(30)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(30));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopTimer;

/// A brigade [`Sleep`] as hyper's `rt::Sleep`.
///
/// # Examples
/// What [`LoopTimer`] hands hyper; hyper resets it in place:
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer;
/// use brigade::hyper::{HyperSleep, LoopTimer};
///
/// let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
/// rt.block_on(async {
///     let mut sleep = LoopTimer.sleep(Duration::from_secs(60));
///     assert!(sleep.as_mut().downcast_mut_pin::<HyperSleep>().is_some());
///     let sooner = LoopTimer.now() + Duration::from_secs(1);
///     LoopTimer.reset(&mut sleep, sooner);
///     let start = brigade::time::Instant::now();
///     sleep.await;
///     assert_eq!(start.elapsed(), Duration::from_secs(1));
/// });
/// ```
#[derive(Debug)]
pub struct HyperSleep(Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl rt::Sleep for HyperSleep {}

impl rt::Timer for LoopTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: StdInstant) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep_until(Instant::from_std(
            deadline,
        ))))
    }

    fn now(&self) -> StdInstant {
        Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn rt::Sleep>>, new_deadline: StdInstant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours.get_mut().0.reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
