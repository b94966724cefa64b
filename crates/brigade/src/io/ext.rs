//! [`AsyncReadExt`] and [`AsyncWriteExt`]: `read`, `read_exact`,
//! `read_to_end`, `write_all` and friends as `async` methods on anything
//! that implements the futures-io traits, so brigade's sockets and files
//! are usable without pulling in a combinator crate (futures-util's
//! extension traits work on them too).
//!
//! ```
//! use brigade::io::{AsyncReadExt, AsyncWriteExt};
//!
//! brigade::run(async {
//!     let mut input: &[u8] = b"hello";
//!     let mut text = String::new();
//!     input.read_to_string(&mut text).await.unwrap();
//!     let mut out = Vec::new();
//!     out.write_all(text.as_bytes()).await.unwrap();
//!     assert_eq!(out, b"hello");
//! });
//! ```

use std::future::poll_fn;
use std::io;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

/// Async reading methods for every [`AsyncRead`].
#[allow(async_fn_in_trait)]
pub trait AsyncReadExt: AsyncRead + Unpin {
    /// Reads some bytes into `buf`; `Ok(0)` means the end of the stream (or
    /// an empty `buf`).
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| Pin::new(&mut *self).poll_read(cx, buf)).await
    }

    /// Fills `buf` completely, or fails with `UnexpectedEof`.
    async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the stream ended {} bytes short", buf.len()),
                    ));
                }
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Reads to the end of the stream, appending to `out`; returns how many
    /// bytes were read.
    async fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let start = out.len();
        let mut chunk = [0u8; 8192];
        loop {
            match self.read(&mut chunk).await? {
                0 => return Ok(out.len() - start),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads to the end of the stream as UTF-8, appending to `out`. Invalid
    /// UTF-8 fails with `InvalidData` and leaves `out` unchanged.
    async fn read_to_string(&mut self, out: &mut String) -> io::Result<usize> {
        let mut bytes = Vec::new();
        let n = self.read_to_end(&mut bytes).await?;
        let text =
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        out.push_str(&text);
        Ok(n)
    }
}

impl<R: AsyncRead + Unpin + ?Sized> AsyncReadExt for R {}

/// Async writing methods for every [`AsyncWrite`].
#[allow(async_fn_in_trait)]
pub trait AsyncWriteExt: AsyncWrite + Unpin {
    /// Writes some bytes of `buf`; returns how many.
    async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| Pin::new(&mut *self).poll_write(cx, buf)).await
    }

    /// Writes all of `buf`, waiting while the peer is slow to read
    /// (backpressure). Fails with `WriteZero` if the stream accepts nothing.
    async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the stream accepted no more bytes",
                    ));
                }
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Flushes buffered data.
    async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| Pin::new(&mut *self).poll_flush(cx)).await
    }

    /// Flushes and closes the writing side (for a socket: sends FIN).
    async fn close(&mut self) -> io::Result<()> {
        poll_fn(|cx| Pin::new(&mut *self).poll_close(cx)).await
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> AsyncWriteExt for W {}
