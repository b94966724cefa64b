//! Child processes on the loop: arguments, environment, working directory,
//! pipes as async streams, exit status, kill.

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use brigade::io::{AsyncReadExt, AsyncWriteExt};
use brigade::subprocess::{Command, Stdio};
use brigade::{Runtime, spawn};

#[test]
fn output_collects_stdout_stderr_and_the_exit_code() {
    brigade::run(async {
        let out = Command::new("sh")
            .args(["-c", "echo out-$X; echo err >&2; pwd; exit 3"])
            .env("X", "42")
            .current_dir("/tmp")
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "out-42\n/tmp\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
    });
}

#[test]
fn a_large_payload_streams_through_cat_both_ways() {
    brigade::run(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let data: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7) as u8).collect();
        let expected = data.clone();
        // More than a pipe holds: writing and reading must interleave.
        let writer = spawn(async move {
            stdin.write_all(&data).await.unwrap();
            // Dropping stdin closes the pipe; cat then ends.
        });
        let mut back = Vec::new();
        stdout.read_to_end(&mut back).await.unwrap();
        writer.await.unwrap();
        assert!(back == expected);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn kill_ends_a_child_and_wait_reports_the_signal() {
    brigade::run(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        let status = child.kill().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // Killing again, after the exit, is fine.
        child.start_kill().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn a_missing_program_is_not_found_and_named() {
    brigade::run(async {
        let err = Command::new("brigade-no-such-program").spawn().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("brigade-no-such-program"), "{err}");
    });
}

#[test]
fn writing_to_a_child_that_exited_is_broken_pipe() {
    brigade::run(async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success());
        let chunk = vec![0u8; 1 << 16];
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = stdin.write_all(&chunk).await {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err.unwrap().kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn a_child_holds_the_virtual_clock_like_outside_work() {
    let rt = Runtime::builder().virtual_clock(true).build().unwrap();
    rt.block_on(async {
        let mut child = Command::new("sleep").arg("0.05").spawn().unwrap();
        // On a virtual clock the timeout would fire at once if the child
        // did not count as work in flight.
        let status = brigade::timeout(Duration::from_secs(10), child.wait()).await;
        assert!(status.unwrap().unwrap().success());
    });
}

#[test]
fn kill_on_drop_kills_and_reaps_the_child() {
    brigade::run(async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id() as libc::pid_t;
        drop(child);
        // Bounded wait for the reaper task; then the pid is gone.
        let mut gone = false;
        for _ in 0..2000 {
            // SAFETY: signal 0 only checks that the process exists.
            if unsafe { libc::kill(pid, 0) } == -1 {
                gone = true;
                break;
            }
            brigade::sleep(Duration::from_millis(1)).await;
        }
        assert!(gone, "the child {pid} is still there");
    });
}

/// The pids among `pids` that are still children of this process (zombies
/// included).
fn still_children(pids: &[u32]) -> Vec<u32> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            found.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok())
                    .filter(|p| pids.contains(p)),
            );
        }
    }
    found
}

#[test]
fn dropped_children_are_reaped_after_their_loop_ends() {
    // Killed on drop, and left running: both kinds outlive the loop that
    // dropped them, and neither may stay a zombie.
    let pids = brigade::run(async {
        let mut pids = Vec::new();
        for i in 0..100 {
            let child = Command::new("sleep")
                .arg(if i % 2 == 0 { "1000" } else { "0" })
                .kill_on_drop(i % 2 == 0)
                .spawn()
                .unwrap();
            pids.push(child.id());
        }
        pids
    });
    // The loop is gone. A bounded watch (it takes a moment), not a timing
    // assertion.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let left = still_children(&pids);
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of 100 children were never reaped: {left:?}",
            left.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
