//! The pipes to a child's standard streams: [`ChildStdin`],
//! [`ChildStdout`] and [`ChildStderr`].
//!
//! A stream configured with [`Stdio::piped`](super::Stdio::piped) is one end
//! of a pipe, switched to non-blocking mode and registered with the loop's
//! driver, so reading and writing suspend only the task. The read ends
//! implement `AsyncRead`, the write end `AsyncWrite`; a closed far end
//! reads as the end of the stream or writes as `BrokenPipe`. Dropping an
//! end closes it.
//!
//! ```
//! use brigade::io::{AsyncReadExt, AsyncWriteExt};
//! use brigade::subprocess::{Command, Stdio};
//!
//! brigade::run(async {
//!     let mut child = Command::new("cat")
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let mut stdin = child.stdin.take().unwrap();
//!     stdin.write_all(b"through the pipes").await.unwrap();
//!     drop(stdin); // cat sees the end of its input
//!     let mut out = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
//!     assert_eq!(out, "through the pipes");
//!     assert!(child.wait().await.unwrap().success());
//! });
//! ```

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::registry::Direction;
use crate::io::source::Source;
use crate::sys::{fd, pidfd};

/// Makes a pipe end non-blocking and registers it with the loop.
pub(super) fn pipe(fd: OwnedFd) -> io::Result<Source<OwnedFd>> {
    pidfd::set_nonblocking(fd.as_raw_fd())?;
    Source::new(fd, "brigade::subprocess")
}

macro_rules! pipe_reader {
    ($name:ident, $doc:literal, $example:literal) => {
        #[doc = $doc]
        ///
        /// # Examples
        #[doc = $example]
        pub struct $name {
            pub(super) source: Source<OwnedFd>,
        }

        impl AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                self.source
                    .poll_io(cx, Direction::Read, |fd| fd::read(fd.as_raw_fd(), buf))
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.source.raw_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.source.raw_fd())
                    .finish()
            }
        }
    };
}

pipe_reader!(
    ChildStdout,
    "The read end of a child's standard output.",
    r#"```
use brigade::io::AsyncReadExt;
use brigade::subprocess::{Command, Stdio};

brigade::run(async {
    let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).await.unwrap();
    assert_eq!(out, b"hi\n");
    child.wait().await.unwrap();
});
```"#
);
pipe_reader!(
    ChildStderr,
    "The read end of a child's standard error.",
    r#"```
use brigade::io::AsyncReadExt;
use brigade::subprocess::{Command, Stdio};

brigade::run(async {
    let mut child = Command::new("sh").args(["-c", "echo warn >&2"])
        .stderr(Stdio::piped()).spawn().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
    assert_eq!(err, "warn\n");
    child.wait().await.unwrap();
});
```"#
);

/// The write end of a child's standard input. A child that exited makes
/// writes fail with `BrokenPipe` (never a SIGPIPE); a child that does not
/// read makes writes wait.
///
/// # Examples
/// ```
/// use brigade::io::AsyncWriteExt;
/// use brigade::subprocess::{Command, Stdio};
///
/// brigade::run(async {
///     let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     child.wait().await.unwrap();
///     let e = stdin.write_all(b"too late").await.unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
/// });
/// ```
pub struct ChildStdin {
    pub(super) source: Source<OwnedFd>,
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.source
            .poll_io(cx, Direction::Write, |fd| fd::write(fd.as_raw_fd(), buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsRawFd for ChildStdin {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw_fd()
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("fd", &self.source.raw_fd())
            .finish()
    }
}
