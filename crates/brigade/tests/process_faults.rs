//! Children that misbehave on purpose: garbage on the channel, results and
//! arguments above the limit, lying memory files, exits inside a task.
//! Each failure must be bounded (no hang) and honest (a typed error that
//! names what happened), and must not cost the pool more than the one task.

use std::sync::mpsc;
use std::time::Duration;

use brigade::process::{ProcessError, ProcessPool};

/// Runs `f` on a thread of its own and returns its result, failing the
/// test instead of hanging if it never ends (the bound is a watchdog, far
/// above what any of these takes, not a measurement).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{what} never ended"))
}

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
    let (first, second) = within("the pool", || {
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
