//! The wire between parent and child: large payloads, and a child that
//! answers with garbage instead of a reply. Bad bytes are typed errors in
//! the parent, never a panic, a hang or a huge allocation.

use brigade::process::{Process, ProcessError, ProcessPool, frame::FrameError};

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
    for n in [0, 30_000, 32 * 1024, 40_000, 3_000_000] {
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
