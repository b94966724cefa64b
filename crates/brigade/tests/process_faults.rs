//! Children that misbehave on purpose: garbage on the channel, results and
//! arguments above the limit, lying memory files, exits inside a task.
//! Each failure must be bounded (no hang) and honest (a typed error that
//! names what happened), and must not cost the pool more than the one task.

use brigade::process::frame::FrameError;
use brigade::process::{Process, ProcessError, ProcessPool, StartError};

mod watchdog;
use watchdog::{WATCHDOG, within_for};

/// Writes an empty packet on the worker's channel (descriptor 3, where a
/// spawned child finds it), then returns normally.
fn empty_packet() -> u8 {
    // SAFETY: a zero-length write reads nothing from the (null) buffer;
    // descriptor 3 is this child's channel.
    unsafe { libc::write(3, std::ptr::null(), 0) };
    7
}

fn one() -> u8 {
    1
}

#[test]
fn an_empty_packet_from_a_worker_fails_its_task_and_nothing_hangs() {
    let (first, second) = within_for(WATCHDOG, "the pool", || {
        let pool = ProcessPool::new(1).unwrap();
        let first = pool.apply(empty_packet, ());
        let second = pool.apply(one, ());
        drop(pool);
        (first, second)
    });
    match first {
        Err(ProcessError::Channel { pid, .. }) => assert!(pid > 0),
        other => panic!("expected a channel error, got {other:?}"),
    }
    assert_eq!(second.unwrap(), 1);
}

fn len(bytes: Vec<u8>) -> usize {
    bytes.len()
}

fn zeros(n: usize) -> Vec<u8> {
    vec![0; n]
}

fn pid() -> u32 {
    std::process::id()
}

#[test]
fn oversized_arguments_are_too_large_and_no_worker_is_killed() {
    let pool = ProcessPool::builder()
        .processes(1)
        .max_message_size(64 * 1024)
        .build()
        .unwrap();
    let worker = pool.apply(pid, ()).unwrap();
    match pool.apply(len, (vec![1u8; 1 << 20],)) {
        Err(ProcessError::Start(StartError::TooLarge { len, max })) => {
            assert!(len > 1 << 20);
            assert_eq!(max, 64 * 1024);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The same worker, never killed, runs the next task.
    assert_eq!(pool.apply(pid, ()).unwrap(), worker);
    assert_eq!(pool.apply(len, (vec![1u8; 1000],)).unwrap(), 1000);

    let mut p = Process::new(len, (vec![1u8; 1 << 20],)).max_message_size(64 * 1024);
    let refused = p.start().unwrap_err();
    assert!(
        matches!(refused, StartError::TooLarge { max: 65536, .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("more than the limit"));
    assert!(p.pid().is_none(), "no child was started");
}

#[test]
fn an_oversized_result_is_result_too_large() {
    let mut p = Process::new(zeros, (1 << 20,)).max_message_size(64 * 1024);
    p.start().unwrap();
    match p.join() {
        Err(ProcessError::ResultTooLarge { len, max, .. }) => {
            assert!(len > 1 << 20);
            assert_eq!(max, 64 * 1024);
        }
        other => panic!("expected ResultTooLarge, got {other:?}"),
    }
    let pool = ProcessPool::builder()
        .processes(1)
        .max_message_size(64 * 1024)
        .build()
        .unwrap();
    let worker = pool.apply(pid, ()).unwrap();
    let err = pool.apply(zeros, (1 << 20,)).unwrap_err();
    assert!(
        matches!(err, ProcessError::ResultTooLarge { max: 65536, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("result"), "{err}");
    // The worker said so instead of dying: it stays in service.
    assert_eq!(pool.apply(pid, ()).unwrap(), worker);
    assert_eq!(pool.apply(zeros, (10,)).unwrap(), vec![0; 10]);
}

/// Sends, on the worker's channel, a frame whose payload is in a sealed
/// memory file of `announced` bytes that stores none of them.
fn send_sparse_file(announced: u32) -> u8 {
    // SAFETY: plain system calls on descriptors this function creates, and
    // on descriptor 3, the channel; every buffer outlives its call.
    unsafe {
        let fd = libc::memfd_create(c"sparse".as_ptr(), libc::MFD_ALLOW_SEALING);
        assert!(fd >= 0);
        assert_eq!(libc::ftruncate(fd, i64::from(announced)), 0);
        let seals =
            libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
        assert_eq!(libc::fcntl(fd, libc::F_ADD_SEALS, seals), 0);
        // brigade's frame header: magic, version 1, kind 1 (a file), length.
        let mut header = *b"BG\x01\x01\0\0\0\0";
        header[4..].copy_from_slice(&announced.to_le_bytes());
        let mut iov = libc::iovec {
            iov_base: header.as_mut_ptr().cast(),
            iov_len: header.len(),
        };
        let mut control = [0u64; 4];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
        assert_eq!(libc::sendmsg(3, &msg, 0), header.len() as isize);
        libc::close(fd);
    }
    1
}

#[test]
fn a_sparse_memory_file_from_a_worker_is_refused_not_read() {
    let pool = ProcessPool::new(1).unwrap();
    // 128 MiB announced (under the default limit), nothing stored.
    let err = pool.apply(send_sparse_file, (128 << 20,)).unwrap_err();
    match &err {
        ProcessError::Channel {
            source: FrameError::Malformed(why),
            ..
        } => assert!(why.contains("sparse"), "{why}"),
        other => panic!("expected a refused file, got {other:?}"),
    }
    // Above a pool's limit, refused on the size alone.
    let small = ProcessPool::builder()
        .processes(1)
        .max_message_size(1 << 20)
        .build()
        .unwrap();
    let err = small.apply(send_sparse_file, (2 << 20,)).unwrap_err();
    assert!(
        matches!(
            err,
            ProcessError::Channel {
                source: FrameError::TooLarge { max: 1048576, .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(pool.apply(one, ()).unwrap(), 1);
    assert_eq!(small.apply(one, ()).unwrap(), 1);
}

fn leave(code: i32) -> u8 {
    std::process::exit(code)
}

#[test]
fn exit_inside_the_function_is_the_same_error_alone_and_in_a_pool() {
    let pool = ProcessPool::new(1).unwrap();
    for code in [0, 3] {
        let mut p = Process::new(leave, (code,));
        p.start().unwrap();
        let alone = p.join().unwrap_err();
        let pooled = pool.apply(leave, (code,)).unwrap_err();
        assert!(
            matches!(alone, ProcessError::Exited { code: c, .. } if c == code),
            "{alone:?}"
        );
        assert!(
            matches!(pooled, ProcessError::Exited { code: c, .. } if c == code),
            "{pooled:?}"
        );
        let wording = |e: &ProcessError| e.to_string().replace(&p.pid().unwrap().to_string(), "");
        assert!(wording(&alone).ends_with(&format!("exited with code {code} before replying")));
        assert!(
            pooled
                .to_string()
                .ends_with(&format!("exited with code {code} before replying"))
        );
    }
    assert_eq!(pool.apply(one, ()).unwrap(), 1);
}

#[test]
fn a_lone_process_that_sends_a_sparse_file_is_a_channel_error() {
    let mut p = Process::new(send_sparse_file, (128 << 20,));
    p.start().unwrap();
    let pid = p.pid().unwrap();
    match within_for(WATCHDOG, "join after a sparse file", move || p.join()) {
        Err(ProcessError::Channel {
            pid: named,
            source: FrameError::Malformed(why),
        }) => {
            assert_eq!(named, pid);
            assert!(why.contains("sparse"), "{why}");
        }
        other => panic!("expected a refused file, got {other:?}"),
    }
}

#[test]
fn an_empty_packet_before_the_reply_of_an_ended_process_is_a_channel_error() {
    // The child sends an empty packet, then its reply, then ends: by the
    // time the parent reads, the peer has closed, but a reply is still
    // queued, so the empty packet is garbage, not the end of the channel.
    for _ in 0..20 {
        let mut p = Process::new(empty_packet, ());
        p.start().unwrap();
        let pid = p.pid().unwrap();
        match within_for(WATCHDOG, "join after an empty packet", move || p.join()) {
            Err(ProcessError::Channel { pid: named, .. }) => assert_eq!(named, pid),
            other => panic!("expected a channel error, got {other:?}"),
        }
    }
}
