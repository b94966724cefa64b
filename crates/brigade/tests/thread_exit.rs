//! Exit semantics as in Python: when `#[brigade::main]` returns, the program
//! waits for non-daemon brigade threads and abandons daemon ones; a plain
//! `fn main` gets the same by calling `wait_for_non_daemon()`.
//!
//! Each test re-runs this test binary as a child program (selected by an
//! environment variable) and reads what the child printed before it exited.

use std::process::Command;
use std::time::Duration;

use brigade::thread::{self, Builder, Event};

const CHILD: &str = "BRIGADE_THREAD_EXIT_CHILD";

/// Runs one test of this binary as a child process in mode `mode`; returns
/// its standard output.
fn run_child(test: &str, mode: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .output()
        .unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The index of the line that ends with `text` (the test harness may print
/// its own words at the start of the first line).
fn line_index(out: &str, text: &str) -> Option<usize> {
    out.lines().position(|l| l.ends_with(text))
}

/// The threads of both children: a non-daemon thread still working when
/// main returns, and a daemon thread that would never finish.
fn start_workers() {
    let mut baker = Builder::new().name("baker").build_fn(|| {
        std::thread::sleep(Duration::from_millis(200));
        println!("non-daemon finished");
    });
    baker.start().unwrap();
    let mut watcher = Builder::new().name("watcher").daemon(true).build_fn(|| {
        Event::new().wait(); // never set
        println!("daemon thread finished");
    });
    watcher.start().unwrap();
    // Neither is joined: exit alone decides their fate.
}

#[brigade::main]
async fn async_main() {
    start_workers();
    brigade::sleep(Duration::from_millis(1)).await;
    println!("main body returned");
}

#[test]
fn brigade_main_waits_for_non_daemon_threads_and_abandons_daemons() {
    if std::env::var(CHILD).as_deref() == Ok("async") {
        async_main();
        println!("program exits");
        // Like the end of `main`: the process ends, daemons with it.
        std::process::exit(0);
    }
    let out = run_child(
        "brigade_main_waits_for_non_daemon_threads_and_abandons_daemons",
        "async",
    );
    let body = line_index(&out, "main body returned").expect(&out);
    let worker = line_index(&out, "non-daemon finished").expect(&out);
    let exit = line_index(&out, "program exits").expect(&out);
    assert!(body < exit && worker < exit, "{out}");
    assert_eq!(line_index(&out, "daemon thread finished"), None, "{out}");
}

#[test]
fn plain_main_gets_the_same_with_wait_for_non_daemon() {
    if std::env::var(CHILD).as_deref() == Ok("plain") {
        start_workers();
        println!("main body returned");
        let waited = thread::wait_for_non_daemon();
        println!("waited for {waited}");
        println!("program exits");
        std::process::exit(0);
    }
    let out = run_child("plain_main_gets_the_same_with_wait_for_non_daemon", "plain");
    let worker = line_index(&out, "non-daemon finished").expect(&out);
    let exit = line_index(&out, "program exits").expect(&out);
    assert!(worker < exit, "{out}");
    assert_eq!(line_index(&out, "daemon thread finished"), None, "{out}");
}

#[test]
fn wait_for_non_daemon_ignores_daemons_even_when_they_never_end() {
    // A daemon that never ends does not hold the wait up; a non-daemon
    // that ended is not waited for.
    if std::env::var(CHILD).as_deref() == Ok("daemons") {
        let mut forever = Builder::new().daemon(true).build_fn(|| Event::new().wait());
        forever.start().unwrap();
        let mut quick = Builder::new().build_fn(|| println!("quick finished"));
        quick.start().unwrap();
        quick.join().unwrap();
        println!("waited for {}", thread::wait_for_non_daemon());
        std::process::exit(0);
    }
    let out = run_child(
        "wait_for_non_daemon_ignores_daemons_even_when_they_never_end",
        "daemons",
    );
    assert!(line_index(&out, "quick finished").is_some(), "{out}");
    assert!(line_index(&out, "waited for 0").is_some(), "{out}");
}
