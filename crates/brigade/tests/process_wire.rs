//! The wire between parent and child: large payloads, and a child that
//! answers with garbage instead of a reply, or sends garbage on a user
//! connection (empty packets, lying, sparse or unsealed memory files,
//! stray descriptors). Bad bytes are typed errors in the parent, never a
//! panic, a hang or a huge allocation, and a good message after them still
//! arrives.

use std::time::Duration;

use brigade::process::{
    Connection, Process, ProcessError, ProcessPool, RecvError, frame::FrameError, pipe,
};

fn total(bytes: Vec<u8>) -> (usize, u64) {
    (bytes.len(), bytes.iter().map(|&b| u64::from(b)).sum())
}

#[test]
fn large_arguments_and_results_travel_whole() {
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = (data.len(), data.iter().map(|&b| u64::from(b)).sum());
    let mut p = Process::new(total, (data,));
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), expected);

    fn big(n: usize) -> Vec<u8> {
        vec![7; n]
    }
    // Inline packets up to the limit and past it, and shared memory: each
    // reply is waiting when join sees the child end.
    for n in [
        0,
        30_000,
        40_000,
        64 * 1024 - 8,
        64 * 1024,
        70_000,
        3_000_000,
    ] {
        let mut p = Process::new(big, (n,));
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), vec![7; n]);
    }
}

/// Writes `bytes` as one packet on the child's channel (descriptor 3), in
/// place of a reply, and exits.
fn babble(bytes: Vec<u8>) -> u32 {
    // SAFETY: descriptor 3 is this child's channel; send reads `bytes`.
    unsafe { libc::send(3, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
    // SAFETY: ends the process at once, as a crash after writing would.
    unsafe { libc::_exit(0) }
}

fn header(kind: u8, len: u32) -> Vec<u8> {
    let mut h = b"BG\x01".to_vec();
    h.push(kind);
    h.extend_from_slice(&len.to_le_bytes());
    h
}

fn garbage() -> Vec<(&'static str, Vec<u8>)> {
    let mut lying = header(0, 1000);
    lying.extend_from_slice(b"short");
    let mut bad_reply = header(0, 3);
    bad_reply.extend_from_slice(&[9, 9, 9]);
    let mut bad_result = header(0, 2);
    // Reply::Returned, then a u32 cut short.
    bad_result.extend_from_slice(&[0, 0xff]);
    vec![
        ("random", b"\x13\x37 not a frame at all".to_vec()),
        ("short header", b"BG\x01".to_vec()),
        ("bad magic", b"XX\x01\x00\x00\x00\x00\x00".to_vec()),
        (
            "bad version",
            header(0, 0)
                .into_iter()
                .enumerate()
                .map(|(i, b)| if i == 2 { 9 } else { b })
                .collect(),
        ),
        ("huge length", header(0, u32::MAX)),
        ("truncated", lying),
        ("file frame without a file", header(1, 10)),
        ("unknown reply", bad_reply),
        ("malformed result", bad_result),
    ]
}

#[test]
fn a_child_that_babbles_is_a_channel_error() {
    for (what, bytes) in garbage() {
        let mut p = Process::new(babble, (bytes,));
        p.start().unwrap();
        match p.join() {
            Err(ProcessError::Channel { source, pid }) => {
                assert_eq!(Some(pid), p.pid(), "{what}");
                let _: &FrameError = &source;
            }
            other => panic!("{what}: expected a channel error, got {other:?}"),
        }
    }
}

fn id(n: u32) -> u32 {
    n
}

#[test]
fn a_pool_worker_that_babbles_fails_its_task_and_is_replaced() {
    let pool = ProcessPool::new(1).unwrap();
    for (what, bytes) in garbage() {
        let err = pool.apply(babble, (bytes,)).unwrap_err();
        assert!(
            matches!(
                err,
                ProcessError::Channel { .. } | ProcessError::WorkerDied { .. }
            ),
            "{what}: {err:?}"
        );
        assert_eq!(pool.apply(id, (7,)).unwrap(), 7, "after {what}");
    }
}

/// The descriptor of the one socket a child received besides its own
/// channel (descriptor 3): the end of a user [`Connection`] among its
/// arguments. Found by looking, as a misbehaving child could.
fn user_socket() -> i32 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&fd| fd > 3)
        .find(|fd| {
            std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
        })
        .expect("the connection's socket")
}

/// Sends one packet of `bytes` on `socket`, with `fd` attached if it is
/// not negative.
fn send_packet(socket: i32, bytes: &[u8], fd: i32) {
    // SAFETY: every pointer in `msg` points into `bytes` or `control`,
    // which outlive the call; the control buffer is large and aligned
    // enough (u64s) for one SCM_RIGHTS message of one descriptor, and is
    // only used when `fd` is a descriptor.
    unsafe {
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr().cast_mut().cast(),
            iov_len: bytes.len(),
        };
        let mut control = [0u64; 4];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if fd >= 0 {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(4) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
        }
        assert_eq!(
            libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL),
            bytes.len() as isize
        );
    }
}

/// A memory file of `size` bytes of which `stored` are written, sealed if
/// asked.
fn memory_file(size: u32, stored: usize, sealed: bool) -> i32 {
    // SAFETY: system calls on the descriptor created here; the buffer
    // passed to write lives across the call.
    unsafe {
        let fd = libc::memfd_create(c"wire".as_ptr(), libc::MFD_ALLOW_SEALING);
        assert!(fd >= 0);
        assert_eq!(libc::ftruncate(fd, i64::from(size)), 0);
        let data = vec![0xabu8; stored];
        assert_eq!(
            libc::pwrite(fd, data.as_ptr().cast(), stored, 0),
            stored as isize
        );
        if sealed {
            let seals =
                libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
            assert_eq!(libc::fcntl(fd, libc::F_ADD_SEALS, seals), 0);
        }
        fd
    }
}

/// The bad packets a child sends on a user connection, each named.
const BAD_PACKETS: &[&str] = &[
    "empty packet",
    "sparse memory file",
    "unsealed memory file",
    "memory file shorter than announced",
    "a pipe instead of a memory file",
    "file frame announcing 4 GiB",
    "inline frame with a stray descriptor and a bad payload",
];

/// In the child: before each of its good messages `0, 1, 2, ..`, one
/// packet of garbage; first the wire garbage of [`garbage`], then the bad
/// packets that carry descriptors. It stays alive until the parent has
/// read everything (an empty packet is garbage only from a live peer).
fn babble_on(conn: Connection<u64>) {
    let socket = user_socket();
    let mut n = 0;
    for (_, bytes) in garbage() {
        send_packet(socket, &bytes, -1);
        conn.send(&n).unwrap();
        n += 1;
    }
    for what in BAD_PACKETS {
        let (bytes, fd) = match *what {
            "empty packet" => (Vec::new(), -1),
            "sparse memory file" => (header(1, 64 << 20), memory_file(64 << 20, 0, true)),
            "unsealed memory file" => (header(1, 16), memory_file(16, 16, false)),
            "memory file shorter than announced" => {
                (header(1, 1 << 20), memory_file(1000, 1000, true))
            }
            "a pipe instead of a memory file" => {
                let mut ends = [0; 2];
                // SAFETY: pipe writes two descriptors into `ends`.
                assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
                (header(1, 16), ends[0])
            }
            "file frame announcing 4 GiB" => (header(1, u32::MAX), memory_file(16, 16, true)),
            _ => {
                let mut bytes = header(0, 1);
                bytes.push(0xff);
                (bytes, memory_file(16, 16, true))
            }
        };
        send_packet(socket, &bytes, fd);
        if fd >= 0 {
            // SAFETY: the packet holds its own copy; this one is ours.
            unsafe { libc::close(fd) };
        }
        conn.send(&n).unwrap();
        n += 1;
    }
    let _ = conn.recv();
}

#[test]
fn garbage_on_a_user_connection_is_malformed_and_the_connection_goes_on() {
    let (here, there) = pipe::<u64>().unwrap();
    let mut p = Process::new(babble_on, (there,));
    p.start().unwrap();
    let names = garbage()
        .into_iter()
        .map(|(what, _)| what)
        .chain(BAD_PACKETS.iter().copied());
    for (n, what) in names.enumerate() {
        match here.recv_timeout(Duration::from_secs(60)) {
            Err(RecvError::Malformed(_)) => {}
            other => panic!("{what}: expected a malformed message, got {other:?}"),
        }
        assert_eq!(here.recv().unwrap(), n as u64, "after {what}");
    }
    here.send(&0).unwrap();
    p.join().unwrap();
    assert!(matches!(here.recv(), Err(RecvError::Closed)));
}
