//! A parent that ignores `SIGCHLD`: the kernel then reaps children itself
//! and `waitpid` fails with `ECHILD`. Joins, exit codes and pools must still
//! tell the truth (or say "unknown"), never hang or panic.
//!
//! This file holds a single test because `SIG_IGN` is process-wide, and
//! each integration test file runs as a process of its own.

use brigade::process::{Exit, Process, ProcessError, ProcessPool, StartMethod};

fn square(n: u64) -> u64 {
    n * n
}

fn quit(code: i32) {
    std::process::exit(code)
}

fn fail() {
    panic!("on purpose")
}

fn sleep_forever() {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

fn abort() {
    std::process::abort()
}

/// Whether the kernel keeps a reaped child's status for its pidfd (Linux
/// 6.15 and later); before that, a status the kernel discarded is unknown.
fn statuses_survive_reaping() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(['.', '-']);
    let major: u32 = parts.next().unwrap().parse().unwrap();
    let minor: u32 = parts.next().unwrap().parse().unwrap();
    (major, minor) >= (6, 15)
}

/// `p` has ended as `exit`, or as "unknown" where the kernel cannot know.
fn expect<R: serde::de::DeserializeOwned>(known: bool, p: &Process<R>, exit: Exit) {
    let seen = p.exit_status();
    if known {
        assert_eq!(seen, Some(exit));
        assert_eq!(p.exitcode(), exit.python_code());
    } else {
        assert_eq!(seen, Some(Exit::Unknown));
        assert_eq!(p.exitcode(), None);
    }
    assert!(!p.is_alive());
}

#[test]
fn joins_and_pools_work_when_sigchld_is_ignored() {
    // SAFETY: SIG_IGN installs no handler; this binary runs this one test.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    let known = statuses_survive_reaping();
    for method in [StartMethod::Spawn, StartMethod::Forkserver] {
        let mut p = Process::new(square, (4,)).start_method(method);
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), 16, "{method:?}");
        expect(known, &p, Exit::Code(0));

        let mut p = Process::new(quit, (3,)).start_method(method);
        p.start().unwrap();
        let r = p.join();
        if known {
            assert!(
                matches!(r, Err(ProcessError::Exited { code: 3, .. })),
                "{r:?}"
            );
        } else {
            assert!(r.is_err());
        }
        expect(known, &p, Exit::Code(3));

        let mut p = Process::new(fail, ()).start_method(method);
        p.start().unwrap();
        assert!(matches!(p.join(), Err(ProcessError::Panicked { .. })));
        expect(known, &p, Exit::Code(101));

        let mut p = Process::new(sleep_forever, ()).start_method(method);
        p.start().unwrap();
        assert!(matches!(
            p.join_timeout(std::time::Duration::from_millis(10)),
            Err(ProcessError::Timeout)
        ));
        assert!(p.is_alive());
        assert_eq!(p.exitcode(), None);
        p.kill().unwrap();
        let r = p.join();
        if known {
            assert!(
                matches!(r, Err(ProcessError::Signaled { signal: 9, .. })),
                "{r:?}"
            );
        } else {
            assert!(r.is_err());
        }
        expect(known, &p, Exit::Signal(9));

        let pool = ProcessPool::builder()
            .processes(2)
            .start_method(method)
            .max_tasks_per_child(2)
            .build()
            .unwrap();
        assert_eq!(
            pool.map(square, 0..10u64).unwrap(),
            (0..10u64).map(|i| i * i).collect::<Vec<_>>()
        );
        let died = pool.apply(abort, ());
        let cause = if known {
            Exit::Signal(6)
        } else {
            Exit::Unknown
        };
        assert!(
            matches!(died, Err(ProcessError::WorkerDied { cause: c, .. }) if c == cause),
            "{died:?}"
        );
        assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
        pool.close();
        pool.join();

        let r = brigade::run(brigade::process::run(square, (5,)));
        assert_eq!(r.unwrap(), 25);

        // Dropped unjoined: reaped (by the kernel) without a hang.
        let mut p = Process::new(square, (6,)).start_method(method);
        p.start().unwrap();
        drop(p);
    }
}
