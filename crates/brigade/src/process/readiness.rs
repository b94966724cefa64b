//! Awaiting a process socket on the event loop: what the `_async` methods
//! of [`Connection`](super::Connection) and [`Queue`](super::Queue) are
//! made of.
//!
//! The socket stays a blocking socket, because the blocking methods use the
//! same object (and other processes hold the same open socket: making it
//! non-blocking would change it for them too). Instead every attempt here
//! is a single `recvmsg`/`sendmsg` with `MSG_DONTWAIT`, which never waits
//! whatever the socket's mode. When an attempt finds nothing to read (or no
//! room to write), the task waits for the loop's I/O driver to report the
//! socket ready, then tries again: the retry loop of smol's `Async` and
//! tokio's `PollEvented`, and of brigade's own sockets
//! ([`Source`]).
//!
//! Only a task that has to wait registers anything: it registers a
//! duplicate of the descriptor, for as long as the wait lasts. A duplicate,
//! because epoll takes each descriptor once per loop, and two tasks of one
//! loop may well wait on the same queue.
//!
//! # Cancellation
//! A message is taken or sent by one system call, inside one poll of the
//! future, and decoded in that same poll. A packet of a `SOCK_SEQPACKET`
//! socket is taken whole or not at all; so a future dropped while it waits
//! has taken nothing, and the message stays for the next receiver, whole.
//! A send future dropped while it waits has sent nothing. There is no half
//! state, and so no lock, even with several receivers in several
//! processes: each `recvmsg` takes a different packet, whole.
//!
//! ```
//! use brigade::process::pipe;
//!
//! let (a, b) = pipe::<u32>().unwrap();
//! brigade::run(async move {
//!     let waiting = brigade::spawn(async move { b.recv_async().await });
//!     a.send_async(&7).await.unwrap();
//!     assert_eq!(waiting.await.unwrap().unwrap(), 7);
//! });
//! ```

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::task::{Context, Poll};

use super::pipe::RecvError;
use super::socket::{Message, Packet, Socket};
use crate::io::registry::Direction;
use crate::io::source::{Source, current_driver};
use crate::sys::process as sys_process;

/// Receives one message (payload at most `max` bytes), waiting on the
/// current loop. `what` names the caller in the error for a call outside a
/// loop.
pub(super) async fn recv(socket: &Socket, max: usize, what: &str) -> Result<Message, RecvError> {
    // Outside a loop this fails even when a message is waiting: the same
    // call must not work or fail depending on timing.
    current_driver(what).map_err(RecvError::Io)?;
    // The message is often there already: then nothing is registered.
    if let Some(taken) = socket.recv_ready(max) {
        return taken.map_err(RecvError::from);
    }
    let watch = watch(socket, what).map_err(RecvError::Io)?;
    poll_fn(|cx| {
        if watch.poll_ready(cx, Direction::Read).is_pending() {
            return Poll::Pending;
        }
        match socket.recv_ready(max) {
            Some(taken) => Poll::Ready(taken.map_err(RecvError::from)),
            // Another reader (a task, a thread, a process) took the message
            // this report was about: wait for the next one.
            None => wait_again(&watch, cx, Direction::Read),
        }
    })
    .await
}

/// Sends `packet`, waiting on the current loop while the socket is full.
pub(super) async fn send(socket: &Socket, packet: &Packet, what: &str) -> io::Result<()> {
    current_driver(what)?;
    match socket.send_packet(packet, true) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => return other,
    }
    let watch = watch(socket, what)?;
    poll_fn(|cx| {
        if watch.poll_ready(cx, Direction::Write).is_pending() {
            return Poll::Pending;
        }
        match socket.send_packet(packet, true) {
            // Another writer filled the room this report was about.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_again(&watch, cx, Direction::Write)
            }
            other => Poll::Ready(other),
        }
    })
    .await
}

/// After an attempt found the socket not ready after all: forgets the
/// readiness and waits for the next report. A report that cannot be
/// forgotten (a hang-up is never cleared) while the socket still says
/// "would block" is not expected from the kernel; should it happen, the
/// task yields and retries instead of spinning inside one poll, so the
/// loop keeps running.
fn wait_again<R>(watch: &Source<OwnedFd>, cx: &mut Context<'_>, dir: Direction) -> Poll<R> {
    watch.clear_ready(dir);
    if watch.poll_ready(cx, dir).is_ready() {
        cx.waker().wake_by_ref();
    }
    Poll::Pending
}

/// Registers a duplicate of `socket`'s descriptor with the current loop;
/// dropping it deregisters and closes the duplicate.
fn watch(socket: &Socket, what: &str) -> io::Result<Source<OwnedFd>> {
    let fd = sys_process::dup(socket.as_fd())?;
    Source::new(fd, what)
}
