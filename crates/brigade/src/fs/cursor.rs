//! The cursor of a [`File`]: [`AsyncRead`], [`AsyncWrite`] and
//! [`AsyncSeek`], with writes behind.
//!
//! A `File` has at most one operation in flight, held in its `State`: a
//! read, a write behind, or a resize ([`File::set_len`]). A cursor write
//! copies its bytes (up to 256 KiB) into the file's own buffer, submits
//! them at the cursor and returns at once, moving the cursor; the next
//! operation on the file, [`flush`](crate::io::AsyncWriteExt::flush)
//! included, first waits for it (`poll_idle`), finishes a short write and
//! reports a failed one. So a write is never reordered with the file's
//! later operations, and its error is never lost: the next call returns
//! it. A read whose future was dropped is waited for and its bytes
//! dropped; the cursor moves only for bytes handed to the caller.
//!
//! The positional calls ([`File::read_at`], [`File::write_at`]) neither
//! use nor move the cursor, and do not wait for writes behind.
//!
//! ```
//! use brigade::fs::File;
//! use brigade::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
//! use std::io::SeekFrom;
//!
//! # let dir = std::env::temp_dir().join(format!("brigade-doc-fs-cursor-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("cursor");
//! brigade::run(async {
//!     let mut f = File::create(&path).await.unwrap();
//!     f.write_all(b"0123456789").await.unwrap(); // written behind
//!     f.flush().await.unwrap(); // waits for it, reports its error
//!
//!     let mut f = File::open(&path).await.unwrap();
//!     assert_eq!(f.seek(SeekFrom::End(-4)).await.unwrap(), 6);
//!     let mut tail = String::new();
//!     f.read_to_string(&mut tail).await.unwrap();
//!     assert_eq!(tail, "6789");
//! });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::error::with_path;
use super::file::{CHUNK, File};

pub(super) type Pending = Pin<Box<dyn Future<Output = (io::Result<usize>, Vec<u8>)>>>;
pub(super) type Resize = Pin<Box<dyn Future<Output = io::Result<()>>>>;

/// The operation in flight on a [`File`], or its idle buffer.
pub(super) enum State {
    Idle(Vec<u8>),
    Reading(Pending),
    /// A write behind: `len` bytes submitted at `offset`.
    Writing {
        op: Pending,
        len: usize,
        offset: u64,
    },
    /// A `set_len`, held here so that one whose future was dropped still
    /// finishes before the file's next operation (never after a later
    /// `set_len` or write), as a write behind does. `buf` is the idle
    /// buffer, kept for the next operation.
    Resizing {
        op: Resize,
        buf: Vec<u8>,
    },
}

impl File {
    /// Waits for the operation in flight, if any; reports a failed write
    /// or resize.
    pub(super) fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match &mut self.state {
                State::Idle(_) => return Poll::Ready(Ok(())),
                State::Resizing { op, buf } => {
                    let result = ready!(op.as_mut().poll(cx));
                    self.state = State::Idle(std::mem::take(buf));
                    return Poll::Ready(result.map_err(|e| with_path("resize", &self.path, e)));
                }
                State::Reading(op) => {
                    // A read nobody waits for any more: its bytes are
                    // dropped (the cursor only moves when they are taken).
                    let (_, buf) = ready!(op.as_mut().poll(cx));
                    self.state = State::Idle(buf);
                }
                State::Writing { op, len, offset } => {
                    let (result, mut buf) = ready!(op.as_mut().poll(cx));
                    let (len, offset) = (*len, *offset);
                    match result {
                        Ok(n) if n < len && n > 0 => {
                            // A short write: the rest goes out next.
                            buf.drain(..n);
                            let op = self.write_op(buf, offset + n as u64);
                            self.state = State::Writing {
                                op,
                                len: len - n,
                                offset: offset + n as u64,
                            };
                        }
                        Ok(0) if len > 0 => {
                            self.state = State::Idle(buf);
                            return Poll::Ready(Err(with_path(
                                "write",
                                &self.path,
                                io::Error::new(
                                    io::ErrorKind::WriteZero,
                                    "the file accepted no more bytes",
                                ),
                            )));
                        }
                        Ok(_) => self.state = State::Idle(buf),
                        Err(e) => {
                            self.state = State::Idle(buf);
                            return Poll::Ready(Err(with_path("write", &self.path, e)));
                        }
                    }
                }
            }
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut this.state {
                State::Writing { .. } | State::Resizing { .. } => ready!(this.poll_idle(cx))?,
                State::Idle(buf) => {
                    let mut buf = std::mem::take(buf);
                    buf.clear();
                    let want = dst.len().min(CHUNK);
                    buf.reserve(want);
                    this.state = State::Reading(this.read_op(buf, want, this.pos));
                }
                State::Reading(op) => {
                    let (result, buf) = ready!(op.as_mut().poll(cx));
                    let copied = match &result {
                        Ok(n) => {
                            let k = (*n).min(dst.len()).min(buf.len());
                            dst[..k].copy_from_slice(&buf[..k]);
                            k
                        }
                        Err(_) => 0,
                    };
                    this.state = State::Idle(buf);
                    return Poll::Ready(match result {
                        Ok(_) => {
                            this.pos += copied as u64;
                            Ok(copied)
                        }
                        Err(e) => Err(with_path("read", &this.path, e)),
                    });
                }
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_idle(cx))?;
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let State::Idle(buf) = &mut this.state else {
            unreachable!("poll_idle returned with an operation in flight")
        };
        let mut buf = std::mem::take(buf);
        buf.clear();
        let n = src.len().min(CHUNK);
        buf.extend_from_slice(&src[..n]);
        let offset = this.pos;
        this.state = State::Writing {
            op: this.write_op(buf, offset),
            len: n,
            offset,
        };
        this.pos += n as u64;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }
}

impl AsyncSeek for File {
    /// Moves the cursor. `SeekFrom::End` asks the kernel for the file's
    /// size (an `fstat`, which does not wait for the disk).
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        to: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        ready!(this.poll_idle(cx))?;
        let base_and_delta = match to {
            SeekFrom::Start(n) => {
                this.pos = n;
                return Poll::Ready(Ok(n));
            }
            SeekFrom::Current(d) => (this.pos, d),
            SeekFrom::End(d) => {
                let len = this
                    .std
                    .metadata()
                    .map_err(|e| with_path("stat", &this.path, e))?
                    .len();
                (len, d)
            }
        };
        match base_and_delta.0.checked_add_signed(base_and_delta.1) {
            Some(pos) => {
                this.pos = pos;
                Poll::Ready(Ok(pos))
            }
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            ))),
        }
    }
}
