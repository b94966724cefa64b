//! I/O on the event loop: the driver every loop owns, and the rule for
//! buffers that the kernel writes into asynchronously.
//!
//! In asyncio, reading a file inside a coroutine blocks the whole loop. In
//! brigade nothing blocks the loop: sockets ([`crate::net`]) wait for
//! readiness, files ([`crate::fs`]) run as io_uring operations or on the
//! blocking pool, and the loop sleeps in the kernel until there is work.
//!
//! # Extension methods
//! `read_exact`, `read_to_end`, `write_all` and the other `async` methods
//! come from [`AsyncReadExt`], [`AsyncWriteExt`], [`AsyncBufReadExt`] and
//! [`AsyncSeekExt`], which are the `futures` crate's own traits (from
//! futures-util), re-exported. brigade's sockets, files and pipes
//! implement the futures-io traits, so these methods work on them; and a
//! program that also imports `futures::io::AsyncReadExt` has one trait in
//! scope, not two, so no call is ambiguous. Two traits with the same
//! method names on the same types would clash (E0034) whatever the traits
//! were called.
//!
//! One name to know: futures' `AsyncReadExt::split(self)` takes its stream
//! by value, and Rust tries a by-value method before a borrowing one, so
//! with the trait in scope `stream.split()` is futures' split, not
//! [`TcpStream::split(&self)`](crate::net::TcpStream::split). Write
//! `TcpStream::split(&stream)` for brigade's borrowed halves, or use
//! `into_split`, which no trait shadows.
//!
//! ```
//! use brigade::io::AsyncReadExt;
//! use futures_util::io::AsyncReadExt as _; // futures::io's: the same trait
//!
//! brigade::run(async {
//!     let mut input: &[u8] = b"ok";
//!     let mut word = [0; 2];
//!     input.read_exact(&mut word).await.unwrap();
//!     assert_eq!(&word, b"ok");
//! });
//! ```
//!
//! # Drivers
//! Each loop owns one driver, chosen when it is built ([`DriverKind`]):
//! - **io_uring** where the kernel allows it: file operations are native
//!   ring operations; sockets are watched by epoll, with the ring's
//!   descriptor in the epoll set. (Socket readiness through the ring, by
//!   multishot polls, measured 6-10% more CPU on the echo benchmark for
//!   the same system calls; see `uring.rs`.)
//! - **epoll** otherwise: sockets are watched edge-triggered; file
//!   operations run on the blocking pool ([`crate::to_thread`]).
//!
//! `BRIGADE_DRIVER=uring` or `BRIGADE_DRIVER=epoll` forces one (building a
//! loop fails if the forced one is unavailable), as does
//! [`Builder::io_driver`](crate::event_loop::Builder::io_driver).
//!
//! ```
//! use brigade::io::DriverKind;
//!
//! let rt = brigade::Runtime::builder().io_driver(DriverKind::Epoll).build().unwrap();
//! assert_eq!(rt.io_driver(), DriverKind::Epoll);
//! ```
//!
//! # How the loop parks
//! When no task is runnable, the loop sleeps in the driver (`epoll_wait`,
//! after handing queued io_uring operations to the kernel) until I/O is
//! ready, a file operation completes, the next timer is due, or another
//! thread wakes it through the loop's eventfd. The timer's deadline is kept
//! by a timerfd in the epoll set, precise to the microsecond, not by
//! `epoll_wait`'s timeout, which counts whole milliseconds. A busy loop still polls the
//! driver without waiting every few turns, so I/O is never starved by tasks
//! that keep each other runnable.
//!
//! On a **virtual clock**, the loop first polls the driver without waiting
//! and only jumps to the next timer when that found nothing: I/O that is
//! already possible (loopback data in flight, a connection in the accept
//! queue) happens before simulated time moves. A socket that waits for a
//! peer does not hold the clock, since its peer might be waiting for the
//! clock; an io_uring file operation in flight does (it completes on its
//! own, like a job on the blocking pool).
//!
//! # Buffer ownership (io_uring)
//! The kernel accesses an operation's memory until it posts the
//! operation's completion, and a future can be dropped at any time before
//! that. So **an operation owns its buffers**: a file read submits a
//! heap-allocated `Vec` that belongs to the operation, not a borrowed
//! `&mut [u8]`. When the completion arrives, the buffer goes back to the
//! caller (copied into its slice for `AsyncRead`). If the future is dropped
//! while the operation is in flight, the buffer moves into the driver,
//! which sends an `ASYNC_CANCEL` and frees the buffer only when the
//! kernel's completion (of the operation, cancelled or not) arrives. A loop
//! that shuts down waits for those completions (at most ten seconds, then
//! it leaks the remaining buffers rather than free memory the kernel may
//! still write). Thus cancelling never lets the kernel write into freed
//! memory, and never leaks in the normal course.
//!
//! Such orphaned buffers are bounded per loop: while they hold
//! [`Builder::orphaned_io_limit`](crate::event_loop::Builder::orphaned_io_limit)
//! bytes (64 MiB by default), or 256 operations are orphaned, a new file
//! operation waits until completions free some, so a loop that starts
//! reads and drops them faster than the kernel answers cannot pile up
//! memory (or, through orphaned opens, descriptors) without limit.
//! [`IoStats::orphaned_bytes`] shows the amount.
//!
//! Socket reads and writes are not ring operations: they are non-blocking
//! system calls into the caller's buffer, made when epoll reports the
//! socket ready, so `AsyncRead`'s borrowed `&mut [u8]` is safe to use.

pub(crate) mod direct;
pub(crate) mod driver;
mod epoll;
mod ext;
pub(crate) mod op;
pub(crate) mod orphans;
pub(crate) mod registry;
pub(crate) mod source;
pub(crate) mod unpark;
pub(crate) mod uring;

pub use driver::{DriverKind, IoStats};
pub(crate) use epoll::Deadline;
pub use ext::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// The ecosystem's I/O traits, which brigade's sockets and files implement.
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
