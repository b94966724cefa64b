//! `uring-bare`: the echo on one thread and one io_uring, and the file
//! reads on one thread and one ring per core, with no runtime at all. Not
//! peers anybody would deploy: floors for what the ring can do on these
//! workloads, to test ideas before brigade's own ring takes them up.
//!
//! # Echo
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
//! `uring-offload` is the same loop with one change: every `SEND` carries
//! `IOSQE_ASYNC`, so the kernel runs it on one of the ring's worker
//! threads instead of inside `io_uring_enter`. Nearly all of a send's cost
//! is the loopback's TCP work for both ends, so this is the one way a
//! single thread of the ring's user can put a second core to work. It is a
//! floor too, not a design brigade takes up blindly: the workers' CPU is
//! spent on top of the loop's (the table's CPU column shows it), and each
//! send is a hand-off between cores.
//!
//! Connecting and accepting are inside the window, as they are for every
//! peer.
//!
//! # Files
//! The issue's idea: "io_uring can do what std cannot: batch opens and
//! reads and skip per-file system calls". Each core's thread reads a
//! contiguous share, as `std-fs-mt` does, in batches of [`BATCH`] files,
//! each batch one `io_uring_enter`. A file is a hard-linked chain: `OPENAT`
//! into a slot of the ring's file table (no descriptor in the process's
//! table, so no lock shared with the other thread), a `READ` into a
//! scratch buffer, a second `READ` that must find the end of the file (as
//! `std::fs::read`'s probe does), and a `CLOSE` of the slot; the open
//! posts no completion when it succeeds. The close does, and a batch waits
//! for it: a close still running when the next batch opens into its slot
//! would close the next file. (An earlier version did not wait, and
//! failed now and then with `EBADF` on tmpfs, whose reads run on the
//! ring's worker threads, so the close could lag behind the last read's
//! completion.) The contents are then copied into a `Vec` of their exact
//! length, as `std::fs::read` returns.
//! (A direct descriptor cannot be opened with `O_CLOEXEC`: it is in no
//! process's table to close on `exec`.)

use std::ffi::CString;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use io_uring::{IoUring, opcode, squeue, types};

use crate::measure::{Measured, Meter};
use crate::registry::Entry;
use crate::rt_std::{TempFiles, read_per_core};
use crate::workloads::{self as w, Workload};

const MSG: usize = w::ECHO_MESSAGE;
/// `user_data` of a send: only a failed one completes.
const SEND: u64 = u64::MAX;

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Echo10, "uring-bare", || {
            echo(Workload::Echo10, Sends::Inline)
        }),
        Entry::run(Workload::Echo, "uring-bare", || {
            echo(Workload::Echo, Sends::Inline)
        }),
        Entry::run(Workload::Echo1000, "uring-bare", || {
            echo(Workload::Echo1000, Sends::Inline)
        }),
        Entry::run(Workload::Echo10, "uring-offload", || {
            echo(Workload::Echo10, Sends::Offloaded)
        }),
        Entry::run(Workload::Echo, "uring-offload", || {
            echo(Workload::Echo, Sends::Offloaded)
        }),
        Entry::run(Workload::Echo1000, "uring-offload", || {
            echo(Workload::Echo1000, Sends::Offloaded)
        }),
        Entry::run(Workload::Files, "uring-bare", || files(Workload::Files)),
        Entry::run(Workload::FilesTmpfs, "uring-bare", || {
            files(Workload::FilesTmpfs)
        }),
    ]
}

/// Where the kernel runs a `SEND`.
#[derive(Clone, Copy)]
enum Sends {
    /// Inside the `io_uring_enter` that submits it, on the loop's thread
    /// (`uring-bare`).
    Inline,
    /// On one of the ring's worker threads (`IOSQE_ASYNC`,
    /// `uring-offload`).
    Offloaded,
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

    fn send(&self, sends: Sends) -> squeue::Entry {
        let fd = types::Fd(self.stream.as_raw_fd());
        let flags = match sends {
            Sends::Inline => squeue::Flags::SKIP_SUCCESS,
            Sends::Offloaded => squeue::Flags::SKIP_SUCCESS | squeue::Flags::ASYNC,
        };
        opcode::Send::new(fd, self.outbox.as_ptr(), MSG as u32)
            .flags(libc::MSG_WAITALL | libc::MSG_NOSIGNAL)
            .build()
            .flags(flags)
            .user_data(SEND)
    }
}

fn echo(workload: Workload, sends: Sends) -> Measured {
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
            next.push(end.send(sends));
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
            next.push(end.send(sends));
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

/// `user_data` of a file's close.
const CLOSED: u64 = u64::MAX - 1;
/// Files per `io_uring_enter`, and slots in each ring's file table.
const BATCH: usize = 64;
/// The first read's buffer: larger than any file of the workload, so that
/// one read takes a whole file and the second finds its end.
const SCRATCH: usize = 64 * 1024;

fn files(workload: Workload) -> Measured {
    read_per_core(&TempFiles::create(workload), read_share)
}

/// Reads `paths` in order on a ring of this thread's own.
fn read_share(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    // Not `DEFER_TASKRUN`, unlike the echo's ring: with it the rows
    // measured the same, within their spread.
    let mut ring: IoUring = IoUring::builder()
        .build((4 * BATCH) as u32)
        .expect("io_uring");
    ring.submitter()
        .register_files_sparse(BATCH as u32)
        .expect("file table");
    let mut scratch = vec![[0u8; SCRATCH]; BATCH];
    let mut probe = [[0u8; 1]; BATCH];
    let mut lengths = [0usize; BATCH];
    let mut contents = Vec::with_capacity(paths.len());
    for batch in paths.chunks(BATCH) {
        let names: Vec<CString> = batch
            .iter()
            .map(|p| CString::new(p.as_os_str().as_bytes()).expect("no NUL in a path"))
            .collect();
        {
            let mut sq = ring.submission();
            for (slot, name) in names.iter().enumerate() {
                for entry in chain(slot, name, &mut scratch[slot], &mut probe[slot]) {
                    // SAFETY: the path, the scratch buffer and the probe
                    // outlive the batch, which waits for every completion
                    // before any of them is touched again.
                    unsafe { sq.push(&entry).expect("the queue holds a batch") };
                }
            }
        }
        // The closes too: a slot still being closed when the next batch
        // opens into it would close the next file.
        ring.submit_and_wait(3 * batch.len())
            .expect("io_uring_enter");
        let mut seen = 0;
        for cqe in ring.completion() {
            assert!(
                cqe.result() >= 0,
                "a file operation failed: {}",
                cqe.result()
            );
            if cqe.user_data() == CLOSED {
                continue;
            }
            let (slot, probing) = ((cqe.user_data() >> 1) as usize, cqe.user_data() & 1 == 1);
            if probing {
                assert_eq!(cqe.result(), 0, "the file ended after the first read");
            } else {
                lengths[slot] = cqe.result() as usize;
            }
            seen += 1;
        }
        assert_eq!(seen, 2 * batch.len(), "a read went missing");
        for (slot, &len) in lengths.iter().enumerate().take(batch.len()) {
            contents.push(scratch[slot][..len].to_vec());
        }
    }
    contents
}

/// One file's chain: open into `slot`, read, probe for the end, close.
fn chain(slot: usize, name: &CString, buf: &mut [u8], probe: &mut [u8]) -> [squeue::Entry; 4] {
    let fixed = types::Fixed(slot as u32);
    let target = types::DestinationSlot::try_from_slot_target(slot as u32).expect("slot");
    let link = squeue::Flags::IO_HARDLINK;
    // Offset -1: the file's own position, which the first read advances.
    let here = u64::MAX;
    [
        opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), name.as_ptr())
            .flags(libc::O_RDONLY)
            .file_index(Some(target))
            .build()
            .flags(link | squeue::Flags::SKIP_SUCCESS)
            .user_data(u64::MAX),
        opcode::Read::new(fixed, buf.as_mut_ptr(), buf.len() as u32)
            .offset(here)
            .build()
            .flags(link)
            .user_data((slot as u64) << 1),
        opcode::Read::new(fixed, probe.as_mut_ptr(), probe.len() as u32)
            .offset(here)
            .build()
            .flags(link)
            .user_data(((slot as u64) << 1) | 1),
        opcode::Close::new(fixed).build().user_data(CLOSED),
    ]
}
