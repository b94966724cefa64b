//! A child's standard input is `/dev/null`, as in CPython's
//! multiprocessing: a child that reads stdin sees the end at once and takes
//! nothing meant for its parent.
//!
//! This file holds a single test because it replaces the test process's own
//! standard input (a process-wide change), and each integration test file
//! runs as a process of its own.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use brigade::process::{Process, ProcessPool, StartMethod};

/// Reads standard input to its end: how many bytes there were, and what
/// descriptor 0 is.
fn read_stdin() -> (usize, String) {
    let mut all = Vec::new();
    let n = std::io::stdin().read_to_end(&mut all).unwrap();
    let what = std::fs::read_link("/proc/self/fd/0")
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| e.to_string());
    (n, what)
}

/// Makes this process's standard input a pipe that holds `data`, with its
/// writing end closed (so that a reader that did inherit it would read the
/// data and then the end, rather than hang).
fn stdin_from(data: &[u8]) {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two descriptors for pipe2 to fill.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned by nothing
    // else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    std::fs::File::from(write).write_all(data).unwrap();
    // SAFETY: dup2 onto descriptor 0, which this test owns (this binary
    // runs no other test, and the harness does not read stdin). The copy
    // on 0 has CLOEXEC clear, as a real stdin does.
    assert_eq!(unsafe { libc::dup2(read.as_raw_fd(), 0) }, 0);
}

#[test]
fn children_read_an_empty_stdin_and_leave_the_parents_alone() {
    let data = b"input meant for the parent\n";
    stdin_from(data);
    let null = (0, "/dev/null".to_string());
    for method in [StartMethod::Spawn, StartMethod::Forkserver] {
        let mut p = Process::new(read_stdin, ()).start_method(method);
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), null, "{method:?}");
        let pool = ProcessPool::builder()
            .processes(2)
            .start_method(method)
            .build()
            .unwrap();
        assert_eq!(
            pool.map(|()| read_stdin(), [(), ()]).unwrap(),
            [null.clone(), null.clone()],
            "pool, {method:?}"
        );
        let r = brigade::run(brigade::process::run(read_stdin, ()));
        assert_eq!(r.unwrap(), null, "process::run");
    }
    // Every byte is still there for the parent.
    let mut left = Vec::new();
    std::io::stdin().read_to_end(&mut left).unwrap();
    assert_eq!(left, data);
}
