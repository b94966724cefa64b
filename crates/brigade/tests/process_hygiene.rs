//! Process hygiene: children inherit only what they need, and a thousand
//! processes leave no descriptor and no zombie behind.
//!
//! This file is its own test binary so that no other test starts processes
//! or opens descriptors while these count them; its tests take a lock so
//! that they do not disturb each other either.

use std::collections::BTreeSet;
use std::sync::Mutex;

use brigade::process::{Process, StartMethod};

static ALONE: Mutex<()> = Mutex::new(());

fn open_fds() -> BTreeSet<i32> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Children of every thread of this process (zombies included).
fn children() -> Vec<u32> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let path = task.path().join("children");
        if let Ok(list) = std::fs::read_to_string(path) {
            pids.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    pids
}

/// The descriptors open in the child while it runs this function, but for
/// the one `read_dir` held while listing (closed by now).
fn child_fds() -> Vec<i32> {
    open_fds()
        .into_iter()
        .filter(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).is_ok())
        .collect()
}

fn double(n: u32) -> u32 {
    2 * n
}

#[test]
fn a_child_inherits_only_stdio_and_its_channel() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    // Open a descriptor without CLOEXEC in the parent: even that one must
    // not reach the child.
    // SAFETY: dup of stdout returns a new descriptor we own and close below.
    let leaky = unsafe { libc::dup(1) };
    assert!(leaky > 2);
    for method in [StartMethod::Spawn, StartMethod::Forkserver] {
        let mut p = Process::new(child_fds, ()).start_method(method);
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), [0, 1, 2, 3], "{method:?}");
    }
    // SAFETY: closes the descriptor made above, used by nothing else.
    unsafe { libc::close(leaky) };
}

#[test]
fn a_thousand_processes_leave_nothing_behind() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    // Start the forkserver first: it is meant to stay (one socket).
    brigade::process::forkserver::start().unwrap();
    let fds_before = open_fds();
    let children_before = children();
    for method in [StartMethod::Spawn, StartMethod::Forkserver] {
        for batch in 0..50u32 {
            let mut running: Vec<_> = (0..10u32)
                .map(|i| {
                    let mut p = Process::new(double, (batch * 10 + i,)).start_method(method);
                    p.start().unwrap();
                    p
                })
                .collect();
            for (i, p) in running.iter_mut().enumerate() {
                assert_eq!(p.join().unwrap(), 2 * (batch * 10 + i as u32));
            }
        }
    }
    assert_eq!(open_fds(), fds_before, "descriptors leaked");
    assert_eq!(children(), children_before, "children left over");
}

fn sleep_forever() {
    std::thread::sleep(std::time::Duration::from_secs(3600));
}

#[test]
fn dropping_an_unjoined_daemon_kills_and_reaps_it() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let children_before = children();
    let mut p = Process::new(sleep_forever, ()).daemon(true);
    p.start().unwrap();
    let pid = p.pid().unwrap();
    assert!(children().contains(&pid));
    drop(p);
    assert!(!children().contains(&pid));
    assert_eq!(children(), children_before);
}

/// Forkserver starts are pipelined (the server's answer is read when the
/// process is first needed): processes dropped before anyone asked for
/// them, and more started than the pipeline holds, leave no descriptor
/// behind, and every joined one still gives its own result.
#[test]
fn pipelined_forkserver_starts_lose_nothing() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    brigade::process::forkserver::start().unwrap();
    // Settle the pipeline first: the count below must not see replies of
    // an earlier test still in flight.
    let mut p = Process::new(double, (0,)).start_method(StartMethod::Forkserver);
    p.start().unwrap();
    p.join().unwrap();
    let fds_before = open_fds();
    let children_before = children();
    let mut kept = Vec::new();
    for i in 0..100u32 {
        let mut p = Process::new(double, (i,)).start_method(StartMethod::Forkserver);
        p.start().unwrap();
        if i % 3 == 0 {
            drop(p);
        } else {
            kept.push((i, p));
        }
    }
    for (i, p) in kept.iter_mut().rev() {
        assert_eq!(p.join().unwrap(), 2 * *i);
        assert!(p.pid().is_some());
    }
    drop(kept);
    // A process dropped while it runs is reaped by a thread when it ends,
    // which holds a pidfd until then.
    settles(|| open_fds() == fds_before, "descriptors leaked");
    settles(|| children() == children_before, "children left over");
}

/// Waits for `done` to hold, failing with `what` if it still does not
/// after a minute (it never takes more than a moment).
fn settles(done: impl Fn() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
