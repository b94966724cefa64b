//! `brigade::process::Process`: results, panics, exit codes, signals,
//! timeouts and refusals.

use std::time::Duration;

use brigade::process::{Exit, Process, ProcessError, StartError, StartMethod};

fn square(n: i64) -> i64 {
    n * n
}

fn add(a: i32, b: i32, c: String) -> String {
    format!("{c}{}", a + b)
}

fn boom(message: String) -> u8 {
    panic!("{message}");
}

fn exit_with(code: i32) {
    std::process::exit(code);
}

fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn abort() {
    std::process::abort();
}

fn pid() -> u32 {
    std::process::id()
}

#[test]
fn results_come_back_typed() {
    let mut p = Process::new(square, (12,));
    assert_eq!(p.exitcode(), None);
    assert!(!p.is_alive());
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), 144);
    assert_eq!(p.exitcode(), Some(0));
    assert!(!p.is_alive());

    let mut p = Process::new(add, (1, 2, "sum=".to_string()));
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), "sum=3");
}

#[test]
fn the_child_is_another_process() {
    let mut p = Process::new(pid, ());
    p.start().unwrap();
    let child_pid = p.pid().unwrap();
    assert_eq!(p.join().unwrap(), child_pid);
    assert_ne!(child_pid, std::process::id());
}

#[test]
fn names_are_python_like_or_given() {
    let p = Process::new(square, (1,));
    assert!(p.name().starts_with("Process-"), "{}", p.name());
    let p = Process::new(square, (1,)).with_name("worker");
    assert_eq!(p.name(), "worker");
}

#[test]
fn a_panic_comes_back_with_its_message() {
    let mut p = Process::new(boom, ("the sky fell".to_string(),));
    p.start().unwrap();
    match p.join() {
        Err(ProcessError::Panicked { pid, message }) => {
            assert_eq!(message, "the sky fell");
            assert_eq!(Some(pid), p.pid());
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    assert_eq!(p.exitcode(), Some(101));
}

#[test]
fn a_non_zero_exit_is_reported_with_its_code() {
    let mut p = Process::new(exit_with, (7,));
    p.start().unwrap();
    assert!(matches!(
        p.join(),
        Err(ProcessError::Exited { code: 7, .. })
    ));
    assert_eq!(p.exitcode(), Some(7));
}

#[test]
fn death_by_signal_is_reported_with_the_signal() {
    let mut p = Process::new(abort, ());
    p.start().unwrap();
    assert!(matches!(
        p.join(),
        Err(ProcessError::Signaled {
            signal: libc::SIGABRT,
            ..
        })
    ));
    assert_eq!(p.exitcode(), Some(-libc::SIGABRT));
}

#[test]
fn terminate_and_kill_send_their_signals() {
    let mut p = Process::new(sleep_ms, (60_000,));
    p.start().unwrap();
    assert!(p.is_alive());
    p.terminate().unwrap();
    assert!(matches!(
        p.join(),
        Err(ProcessError::Signaled {
            signal: libc::SIGTERM,
            ..
        })
    ));
    assert_eq!(p.exitcode(), Some(-15));

    let mut p = Process::new(sleep_ms, (60_000,));
    p.start().unwrap();
    p.kill().unwrap();
    let err = p.join().unwrap_err();
    assert!(matches!(err, ProcessError::Signaled { signal: 9, .. }));
    assert!(err.to_string().contains("SIGKILL"), "{err}");
    // Signalling an ended process is harmless.
    p.kill().unwrap();
}

#[test]
fn join_timeout_leaves_the_process_joinable() {
    let mut p = Process::new(sleep_ms, (60_000,));
    p.start().unwrap();
    assert!(matches!(
        p.join_timeout(Duration::from_millis(1)),
        Err(ProcessError::Timeout)
    ));
    assert!(p.is_alive());
    p.kill().unwrap();
    assert!(matches!(p.join(), Err(ProcessError::Signaled { .. })));
    assert!(matches!(p.join(), Err(ProcessError::AlreadyJoined)));
}

#[test]
fn misuse_is_a_typed_error() {
    let mut p = Process::new(square, (1,));
    assert!(matches!(p.join(), Err(ProcessError::NotStarted)));
    assert!(matches!(p.kill(), Err(ProcessError::NotStarted)));
    p.start().unwrap();
    assert!(matches!(p.start(), Err(StartError::AlreadyStarted)));
    assert_eq!(p.join().unwrap(), 1);
}

#[test]
fn a_function_with_captured_state_is_refused_at_start() {
    let factor = 3i64;
    let mut p = Process::new(move |n: i64| n * factor, (2,));
    let err = p.start().unwrap_err();
    assert!(matches!(err, StartError::Captures { .. }));
    assert!(err.to_string().contains("captures state"), "{err}");
    assert_eq!(p.pid(), None);

    // A closure that captures nothing is a function like any other.
    let mut p = Process::new(|n: i64| n + 1, (2,));
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), 3);
}

#[test]
fn forkserver_children_report_the_same_outcomes() {
    fn fs<R: serde::de::DeserializeOwned>(p: Process<R>) -> Process<R> {
        p.start_method(StartMethod::Forkserver)
    }
    let mut ok = fs(Process::new(square, (9,)));
    ok.start().unwrap();
    assert_eq!(ok.join().unwrap(), 81);

    let mut panics = fs(Process::new(boom, ("fs".to_string(),)));
    panics.start().unwrap();
    assert!(
        matches!(panics.join(), Err(ProcessError::Panicked { message, .. }) if message == "fs")
    );

    let mut exits = fs(Process::new(exit_with, (3,)));
    exits.start().unwrap();
    assert!(matches!(
        exits.join(),
        Err(ProcessError::Exited { code: 3, .. })
    ));
    assert_eq!(exits.exitcode(), Some(3));

    let mut killed = fs(Process::new(sleep_ms, (60_000,)));
    killed.start().unwrap();
    killed.kill().unwrap();
    assert!(matches!(
        killed.join(),
        Err(ProcessError::Signaled { signal: 9, .. })
    ));
    assert_eq!(Exit::Signal(9).python_code(), killed.exitcode());
}

/// What a forkserver worker sees of itself: its parent's pid, and whether
/// glibc knows its thread by the right id (a CPU clock of the calling
/// thread, made from the id glibc caches, can be read only if that id is
/// this thread's).
fn who_am_i() -> (u32, bool) {
    let mut clock: libc::clockid_t = 0;
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: pthread_self is always valid; both out-pointers are valid.
    let readable = unsafe {
        libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) == 0
            && libc::clock_gettime(clock, &mut now) == 0
    };
    // SAFETY: getppid has no preconditions.
    (unsafe { libc::getppid() } as u32, readable)
}

#[test]
fn forkserver_workers_are_our_own_children_with_their_own_thread_id() {
    for _ in 0..3 {
        let mut p = Process::new(who_am_i, ()).start_method(StartMethod::Forkserver);
        p.start().unwrap();
        let (parent, glibc_knows_the_thread) = p.join().unwrap();
        assert_eq!(parent, std::process::id());
        assert!(glibc_knows_the_thread);
        assert_eq!(p.exitcode(), Some(0));
    }
}

/// Starts a daemon grandchild that sleeps, leaks its handle so that only
/// the parent's death can end it, and returns its pid.
fn leave_a_daemon() -> u32 {
    let mut p = Process::new(sleep_ms, (60_000,)).daemon(true);
    p.start().unwrap();
    let pid = p.pid().unwrap();
    std::mem::forget(p);
    pid
}

fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie (state Z) or a dead process (X) has ended.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

#[test]
fn daemon_children_die_with_their_parent() {
    let mut parent = Process::new(leave_a_daemon, ());
    parent.start().unwrap();
    let daemon = parent.join().unwrap();
    // The parent has exited; the daemon notices and ends (the wait is a
    // bound for a slow machine, not a timing assertion).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while is_running(daemon) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!is_running(daemon), "daemon {daemon} outlived its parent");
}

#[test]
fn async_run_awaits_without_blocking_the_loop() {
    let (value, ticks) = brigade::run(async {
        let ticker = brigade::spawn(async {
            let mut ticks = 0u32;
            for _ in 0..3 {
                brigade::sleep(Duration::from_millis(1)).await;
                ticks += 1;
            }
            ticks
        });
        let value = brigade::process::run(sleep_ms, (50,)).await.unwrap();
        (value, ticker.await.unwrap())
    });
    assert_eq!(value, 50);
    assert_eq!(ticks, 3);
}

#[test]
fn a_stray_child_variable_does_not_hijack_a_program() {
    // This very test binary, started by hand with the variable set but no
    // channel: it must run normally (here: list its tests) and say why.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--list",
            "--exact",
            "a_stray_child_variable_does_not_hijack_a_program",
        ])
        .env(brigade::process::CHILD_ENV, "spawn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("a_stray_child_variable"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a brigade channel"));
}

fn report_then_sleep(conn: brigade::process::Connection<u32>) {
    conn.send(&std::process::id()).unwrap();
    std::thread::sleep(Duration::from_secs(3600));
}

#[test]
fn a_cancelled_run_kills_its_child() {
    let (here, there) = brigade::process::pipe::<u32>().unwrap();
    let child = brigade::run(async move {
        let fut = brigade::process::run(report_then_sleep, (there,));
        let mut fut = Box::pin(fut);
        // Drive it until the child is up, then drop it.
        let pid = loop {
            if let Ok(pid) = here.try_recv() {
                break pid;
            }
            let _ = brigade::timeout(Duration::from_millis(5), &mut fut).await;
        };
        drop(fut);
        pid
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while is_running(child) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!is_running(child), "the child of a cancelled run lives on");
}

#[brigade::test]
async fn children_work_from_a_brigade_test() {
    assert_eq!(brigade::process::run(square, (5,)).await.unwrap(), 25);
}

fn shout(word: String) {
    println!("child says {word}");
    eprintln!("child warns {word}");
}

#[test]
fn a_childs_stdout_and_stderr_go_where_its_parents_go() {
    const INNER: &str = "BRIGADE_TEST_STDIO_INNER";
    if std::env::var_os(INNER).is_some() {
        // The inner run: this process's stdio are the pipes the outer run
        // reads; its children must write there too.
        for method in [StartMethod::Spawn, StartMethod::Forkserver] {
            let mut p = Process::new(shout, (format!("{method:?}"),)).start_method(method);
            p.start().unwrap();
            p.join().unwrap();
        }
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_childs_stdout_and_stderr_go_where_its_parents_go",
            "--nocapture",
        ])
        .env(INNER, "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for method in ["Spawn", "Forkserver"] {
        assert!(stdout.contains(&format!("child says {method}")), "{stdout}");
        assert!(
            stderr.contains(&format!("child warns {method}")),
            "{stderr}"
        );
    }
}
