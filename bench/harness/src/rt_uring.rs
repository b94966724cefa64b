//! `uring-bare` (`echo*`): the echo on one thread and one io_uring, with no
//! runtime at all. Not a peer anybody would deploy: a floor for what one
//! thread can do with the ring on this workload.
//!
//! The target "echo on one loop: ahead of std's thread per connection" asks
//! one core to beat two. brigade's loop waits for readiness with epoll and
//! then calls `recv` and `send`; the way left to try was moving the socket
//! I/O onto the ring, where one `io_uring_enter` carries a whole turn's
//! sends and receives. This row measures that idea at its best, written
//! for this benchmark alone: every connection's buffers are fixed, every
//! receive is a `RECV` into them, every send a `SEND` with `MSG_WAITALL`
//! whose success posts no completion (`CQE_SKIP_SUCCESS`), and the ring
//! runs its completions only when the thread asks (`DEFER_TASKRUN`). If
//! this row is not ahead of `std-thread`, no loop on one thread will be.
//!
//! Connecting and accepting are inside the window, as they are for every
//! peer.

use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use io_uring::{IoUring, opcode, squeue, types};

use crate::measure::{Measured, Meter};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

const MSG: usize = w::ECHO_MESSAGE;
/// `user_data` of a send: only a failed one completes.
const SEND: u64 = u64::MAX;

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Echo10, "uring-bare", || echo(Workload::Echo10)),
        Entry::run(Workload::Echo, "uring-bare", || echo(Workload::Echo)),
        Entry::run(Workload::Echo1000, "uring-bare", || {
            echo(Workload::Echo1000)
        }),
    ]
}

/// One end of a connection: the client (even index) or the server (odd).
struct End {
    stream: TcpStream,
    /// The message being received, `got` bytes of it so far.
    inbox: [u8; MSG],
    got: usize,
    /// The message being sent; it is not touched again before the peer's
    /// answer arrives, so it outlives its `SEND`.
    outbox: [u8; MSG],
    /// Round trips completed (clients only).
    round: usize,
}

impl End {
    fn new(stream: TcpStream) -> End {
        stream.set_nodelay(true).expect("nodelay");
        End {
            stream,
            inbox: [0; MSG],
            got: 0,
            outbox: [0; MSG],
            round: 0,
        }
    }

    fn recv(&mut self, index: usize) -> squeue::Entry {
        let fd = types::Fd(self.stream.as_raw_fd());
        let rest = self.inbox[self.got..].as_mut_ptr();
        opcode::Recv::new(fd, rest, (MSG - self.got) as u32)
            .build()
            .user_data(index as u64)
    }

    fn send(&self) -> squeue::Entry {
        let fd = types::Fd(self.stream.as_raw_fd());
        opcode::Send::new(fd, self.outbox.as_ptr(), MSG as u32)
            .flags(libc::MSG_WAITALL | libc::MSG_NOSIGNAL)
            .build()
            .flags(squeue::Flags::SKIP_SUCCESS)
            .user_data(SEND)
    }
}

fn echo(workload: Workload) -> Measured {
    let (connections, rounds) = w::echo_shape(workload);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    crate::rt_std::listen_backlog(&listener, 1024);
    let addr = listener.local_addr().expect("local addr");
    let mut ring = IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(4096)
        .expect("io_uring");
    let meter = Meter::start();
    let clients: Vec<TcpStream> = (0..connections)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    let mut ends = Vec::with_capacity(2 * connections);
    for client in clients {
        let (server, _) = listener.accept().expect("accept");
        ends.push(End::new(client));
        ends.push(End::new(server));
    }
    let mut next: Vec<squeue::Entry> = Vec::new();
    for (index, end) in ends.iter_mut().enumerate() {
        if index % 2 == 0 {
            end.outbox = w::echo_message(index / 2, 0);
            next.push(end.send());
        }
        next.push(end.recv(index));
    }
    let mut bytes = 0u64;
    let mut finished = 0;
    while finished < connections {
        submit(&mut ring, &mut next);
        let done: Vec<(u64, i32)> = ring
            .completion()
            .map(|cqe| (cqe.user_data(), cqe.result()))
            .collect();
        for (data, result) in done {
            assert!(data != SEND, "send failed: {result}");
            assert!(result > 0, "receive ended or failed: {result}");
            let index = data as usize;
            let end = &mut ends[index];
            end.got += result as usize;
            if end.got < MSG {
                next.push(end.recv(index));
                continue;
            }
            end.got = 0;
            if index % 2 == 1 {
                end.outbox = end.inbox;
            } else {
                assert_eq!(end.inbox, end.outbox, "echoed bytes differ");
                bytes += MSG as u64;
                end.round += 1;
                if end.round == rounds {
                    finished += 1;
                    continue;
                }
                end.outbox = w::echo_message(index / 2, end.round);
            }
            next.push(end.send());
            next.push(end.recv(index));
        }
    }
    // Servers still wait in a receive: dropping the ring cancels it before
    // the buffers go.
    drop(ring);
    meter.finish(bytes)
}

/// Hands `entries` to the kernel, as many `io_uring_enter`s as the
/// submission queue needs, the last one waiting for a completion.
fn submit(ring: &mut IoUring, entries: &mut Vec<squeue::Entry>) {
    let mut rest = &entries[..];
    loop {
        let room = {
            let mut sq = ring.submission();
            let room = (sq.capacity() - sq.len()).min(rest.len());
            for entry in &rest[..room] {
                // SAFETY: every buffer an entry points to lives in `ends`,
                // which outlives the ring, and is not touched until the
                // entry's completion (a receive) or the peer's answer (a
                // send, which the kernel has finished by then).
                unsafe { sq.push(entry).expect("room was counted") };
            }
            room
        };
        rest = &rest[room..];
        if rest.is_empty() {
            ring.submit_and_wait(1).expect("io_uring_enter");
            break;
        }
        ring.submit().expect("io_uring_enter");
    }
    entries.clear();
}
