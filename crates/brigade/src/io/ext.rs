//! The `async` reading and writing methods (`read_exact`, `read_to_end`,
//! `write_all`, ...), and why they are the `futures` crate's own.
//!
//! Rust picks a method by name among the traits in scope. If two traits
//! both give every reader a `read_exact` (say a brigade `AsyncReadExt` and
//! `futures::io::AsyncReadExt`), then a file that implements the futures-io
//! `AsyncRead` has both, and with both traits imported
//! `file.read_exact(&mut buf)` does not compile (E0034, "multiple
//! applicable items in scope"). Distinct trait names do not help, since the
//! clash is between the methods, on the same receiver. So brigade defines
//! no extension traits of its own: [`AsyncReadExt`], [`AsyncWriteExt`],
//! [`AsyncBufReadExt`] and [`AsyncSeekExt`] here *are* futures-util's, the
//! ones `futures::io` re-exports too. Importing brigade's and futures'
//! brings one trait into scope twice over, and every call resolves.
//!
//! brigade's sockets, files, pipes and child-process streams implement the
//! futures-io traits ([`AsyncRead`](super::AsyncRead),
//! [`AsyncWrite`](super::AsyncWrite), ...), so these methods work on them,
//! and on anything else that implements them, such as `&[u8]` and
//! `Vec<u8>`.
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
//!
//! futures' `AsyncReadExt::split(self)` takes the stream by value, and a
//! by-value method is found before a borrowing one, so with the trait in
//! scope `stream.split()` is futures' split; brigade's borrowed halves are
//! `TcpStream::split(&stream)` (or `UnixStream::split(&stream)`).
//!
//! **Differences from tokio.** tokio's `AsyncReadExt` and `AsyncWriteExt`
//! have the same method names, on tokio's own `AsyncRead`/`AsyncWrite`
//! traits, which brigade's types do not implement. One difference in
//! spelling: closing the writing side is tokio's `shutdown` and futures'
//! [`close`](AsyncWriteExt::close).
//!
//! **futures-lite** has extension traits of its own with the same method
//! names (a different trait from futures', as it is from brigade's):
//! importing `futures_lite::AsyncReadExt` next to either makes calls
//! ambiguous, exactly as it does next to `futures::io`'s. Import one of
//! the two, or bring one in anonymously and call its methods by path.

/// Reading methods for every [`AsyncRead`](super::AsyncRead): `read`,
/// `read_exact`, `read_to_end`, `read_to_string`, `read_vectored`, `take`,
/// `chain`, `split`. This is futures-util's trait (the one
/// `futures::io::AsyncReadExt` names), so importing both never makes a call
/// ambiguous; see [the I/O module's docs](crate::io#extension-methods).
///
/// `read_exact` fails with [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof)
/// when the stream ends first, and `read_to_string` with
/// [`InvalidData`](std::io::ErrorKind::InvalidData) on invalid UTF-8,
/// leaving the string as it was.
///
/// ```
/// use brigade::io::AsyncReadExt;
///
/// brigade::run(async {
///     let mut input: &[u8] = b"abc";
///     let mut two = [0; 2];
///     input.read_exact(&mut two).await.unwrap();
///     assert_eq!(&two, b"ab");
///     let mut rest = Vec::new();
///     assert_eq!(input.read_to_end(&mut rest).await.unwrap(), 1);
///     let eof = input.read_exact(&mut two).await.unwrap_err();
///     assert_eq!(eof.kind(), std::io::ErrorKind::UnexpectedEof);
/// });
/// ```
pub use futures_util::io::AsyncReadExt;

/// Writing methods for every [`AsyncWrite`](super::AsyncWrite): `write`,
/// `write_all`, `write_vectored`, `flush`, `close` (for a socket: send
/// FIN). This is futures-util's trait (the one `futures::io::AsyncWriteExt`
/// names), so importing both never makes a call ambiguous.
///
/// `write_all` waits while the peer is slow to read (backpressure), and
/// fails with [`WriteZero`](std::io::ErrorKind::WriteZero) if the stream
/// accepts nothing more.
///
/// ```
/// use brigade::io::AsyncWriteExt;
///
/// brigade::run(async {
///     let mut out = Vec::new();
///     out.write_all(b"hello").await.unwrap();
///     out.flush().await.unwrap();
///     assert_eq!(out, b"hello");
/// });
/// ```
pub use futures_util::io::AsyncWriteExt;

/// Line and buffer methods for every [`AsyncBufRead`](super::AsyncBufRead):
/// `read_line`, `read_until`, `lines`, `fill_buf`. futures-util's trait,
/// like the others here.
///
/// ```
/// use brigade::io::AsyncBufReadExt;
///
/// brigade::run(async {
///     let mut input: &[u8] = b"first\nsecond\n";
///     let mut line = String::new();
///     input.read_line(&mut line).await.unwrap();
///     assert_eq!(line, "first\n");
/// });
/// ```
pub use futures_util::io::AsyncBufReadExt;

/// `seek` and `stream_position` for every [`AsyncSeek`](super::AsyncSeek),
/// such as [`fs::File`](crate::fs::File). futures-util's trait, like the
/// others here.
///
/// ```
/// use brigade::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// brigade::run(async {
///     let path = std::env::temp_dir().join(format!("brigade-seek-{}", std::process::id()));
///     let mut file = brigade::fs::File::create(&path).await.unwrap();
///     file.write_all(b"0123456789").await.unwrap();
///     assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
///     drop(file);
///     let mut file = brigade::fs::File::open(&path).await.unwrap();
///     file.seek(SeekFrom::End(-3)).await.unwrap();
///     let mut tail = String::new();
///     file.read_to_string(&mut tail).await.unwrap();
///     assert_eq!(tail, "789");
///     brigade::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub use futures_util::io::AsyncSeekExt;
