//! What TCP and Unix streams share: the non-blocking read/write loop over a
//! [`Source`], the small-read buffer, and the [`Stream`] trait the halves of
//! [`super::split`] are generic over.
//!
//! # Small reads
//! Protocols read small pieces (a 4-byte length, a 64-byte message). A
//! `read` into a 64-byte slice that fills it cannot tell whether the socket
//! is drained, so the next read is a system call that fails with
//! `WouldBlock`. A small read therefore reads up to [`READ_BUFFER`] bytes
//! into the stream's own buffer and hands out what was asked for: a read
//! that returns less than the buffer's size proves the socket drained, and
//! the next read waits for the driver instead. Large reads go straight into
//! the caller's slice. Bytes in the buffer are the stream's: they are lost
//! if the stream is dropped, like a `BufReader`'s.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll, ready};

use crate::io::registry::Direction;
use crate::io::source::Source;
use crate::sys::net as socket;

/// A connected byte stream whose reads and writes need only `&self`
/// (like `impl Read for &std::net::TcpStream`), so halves can share it.
///
/// # Examples
/// Code generic over TCP and Unix streams:
/// ```
/// use brigade::net::{Stream, UnixStream};
/// use std::future::poll_fn;
///
/// async fn send_greeting<S: Stream>(stream: &S) -> std::io::Result<usize> {
///     poll_fn(|cx| stream.poll_write_ref(cx, b"hello")).await
/// }
///
/// brigade::run(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     assert_eq!(send_greeting(&a).await.unwrap(), 5);
///     let mut buf = [0; 5];
///     poll_fn(|cx| b.poll_read_ref(cx, &mut buf)).await.unwrap();
///     assert_eq!(&buf, b"hello");
/// });
/// ```
pub trait Stream: sealed::Sealed {
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read_ref(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Writes from `buf`.
    fn poll_write_ref(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Writes from several buffers in one system call.
    fn poll_write_vectored_ref(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    /// Shuts down the reading, writing or both halves of the connection.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// Reads into memory that need not be initialized (for adapters such
    /// as hyper's, whose buffers are uninitialized); returns how many
    /// bytes were read, which are then initialized.
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// Reads smaller than this go through the stream's buffer.
const SMALL_READ: usize = 1024;
/// The size of a stream's read buffer (allocated at its first small read).
pub(crate) const READ_BUFFER: usize = 8192;

/// Bytes read from the socket and not yet handed out.
#[derive(Default)]
pub(crate) struct ReadBuffer {
    data: Vec<u8>,
    start: usize,
}

impl ReadBuffer {
    fn pending(&self) -> &[u8] {
        &self.data[self.start..]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.data.len()
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.data.len() {
            self.start = 0;
            self.data.clear();
        }
    }
}

/// A read through the stream's buffer (see the module documentation).
pub(crate) fn poll_read_buffered<T: AsRawFd>(
    source: &Source<T>,
    rbuf: &RefCell<ReadBuffer>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let mut rb = rbuf.borrow_mut();
    if !rb.is_empty() {
        let n = rb.pending().len().min(buf.len());
        buf[..n].copy_from_slice(&rb.pending()[..n]);
        rb.consume(n);
        return Poll::Ready(Ok(n));
    }
    if buf.len() >= SMALL_READ {
        drop(rb);
        return poll_read(source, cx, buf);
    }
    if rb.data.capacity() < READ_BUFFER {
        rb.data.reserve_exact(READ_BUFFER);
    }
    let spare = rb.data.spare_capacity_mut();
    let n = match ready!(poll_read_uninit(source, cx, spare)) {
        Ok(n) => n,
        Err(e) => return Poll::Ready(Err(e)),
    };
    // SAFETY: the read initialized `n` bytes of the spare capacity, which
    // follow the (empty) contents.
    unsafe { rb.data.set_len(n) };
    let k = n.min(buf.len());
    buf[..k].copy_from_slice(&rb.data[..k]);
    rb.consume(k);
    Poll::Ready(Ok(k))
}

/// Hands out buffered bytes first, then reads into uninitialized memory.
pub(crate) fn poll_read_uninit_buffered<T: AsRawFd>(
    source: &Source<T>,
    rbuf: &RefCell<ReadBuffer>,
    cx: &mut Context<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>> {
    let mut rb = rbuf.borrow_mut();
    if !rb.is_empty() {
        let n = rb.pending().len().min(buf.len());
        for (dst, src) in buf.iter_mut().zip(&rb.pending()[..n]) {
            dst.write(*src);
        }
        rb.consume(n);
        return Poll::Ready(Ok(n));
    }
    drop(rb);
    poll_read_uninit(source, cx, buf)
}

pub(crate) fn poll_read<T: AsRawFd>(
    source: &Source<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let len = buf.len();
    let result =
        ready!(source.poll_io(cx, Direction::Read, |io| socket::recv(io.as_raw_fd(), buf)));
    Poll::Ready(drained_after(source, result, len))
}

pub(crate) fn poll_read_uninit<T: AsRawFd>(
    source: &Source<T>,
    cx: &mut Context<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let len = buf.len();
    let result = ready!(source.poll_io(cx, Direction::Read, |io| {
        socket::recv_uninit(io.as_raw_fd(), buf)
    }));
    Poll::Ready(drained_after(source, result, len))
}

/// A read that returned less than it asked for drained the socket: the
/// next read waits for the driver rather than fail with `WouldBlock`.
/// (End of stream, `Ok(0)`, stays readable.)
fn drained_after<T: AsRawFd>(
    source: &Source<T>,
    result: io::Result<usize>,
    asked: usize,
) -> io::Result<usize> {
    if let Ok(n) = result {
        if n > 0 && n < asked {
            source.clear_ready(Direction::Read);
        }
    }
    result
}

/// A write that took less than it was given filled the socket's buffer.
fn full_after<T: AsRawFd>(
    source: &Source<T>,
    result: io::Result<usize>,
    given: usize,
) -> io::Result<usize> {
    if let Ok(n) = result {
        if n < given {
            source.clear_ready(Direction::Write);
        }
    }
    result
}

pub(crate) fn poll_write<T: AsRawFd>(
    source: &Source<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let result =
        ready!(source.poll_io(cx, Direction::Write, |io| socket::send(io.as_raw_fd(), buf)));
    Poll::Ready(full_after(source, result, buf.len()))
}

pub(crate) fn poll_write_vectored<T: AsRawFd>(
    source: &Source<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let given: usize = bufs.iter().map(|b| b.len()).sum();
    if given == 0 {
        return Poll::Ready(Ok(0));
    }
    let result = ready!(source.poll_io(cx, Direction::Write, |io| {
        socket::send_vectored(io.as_raw_fd(), bufs)
    }));
    Poll::Ready(full_after(source, result, given))
}
