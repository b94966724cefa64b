//! Hygiene at scale: a thousand processes, a thousand pool tasks and a
//! thousand `brigade::subprocess` children, many of them let go of in the
//! untidy ways real programs do (dropped unjoined while running, killed,
//! their event loop ended first, their pool terminated with work queued),
//! and afterwards the program holds nothing it did not hold before:
//!
//! - **descriptors**: the set in `/proc/self/fd` is the same;
//! - **zombies and strays**: no process in `/proc` has this one as parent,
//!   but the forkserver started (on purpose, once) before the count;
//! - **threads**: `/proc/self/task` counts as many threads as before.
//!
//! Some of the cleaning up is asynchronous by design: a child dropped while
//! it runs is reaped by brigade's one process-wide reaper thread when it
//! ends, and that thread ends itself once it has nothing left to reap; a
//! `to_thread` worker lets go after ten idle seconds. So each count is
//! awaited with a bound (a minute: a watchdog against leaks, not a timing
//! claim) instead of read at once. The reaper is thus counted only while it
//! has work: at rest the program is back to its own threads.
//!
//! Everything here counts process-wide resources, so this file is a test
//! binary of its own with a single test: no neighbour can open a
//! descriptor, start a thread or a child while it counts.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use brigade::Runtime;
use brigade::process::{Exit, Process, ProcessError, ProcessPool, StartMethod};
use brigade::subprocess::Command;

fn open_fds() -> BTreeSet<i32> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Every process whose parent is this one, with its state letter (`Z` for
/// a zombie), found by scanning `/proc`.
fn children() -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        // A process may end between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the command name, in parentheses: the state, the parent.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next());
        let parent = fields.next().and_then(|s| s.parse::<u32>().ok());
        if let (Some(state), Some(parent)) = (state, parent) {
            if parent == me {
                found.push((pid, state));
            }
        }
    }
    found
}

/// Waits for `done` to hold, failing with `what` and the last reading if
/// it still does not after a minute.
fn settles<T: std::fmt::Debug>(what: &str, read: impl Fn() -> T, done: impl Fn(&T) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = read();
        if done(&now) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {now:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn double(n: u32) -> u32 {
    2 * n
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn die_or_double(n: u32) -> u32 {
    if n % 10 == 3 {
        // SAFETY: signals this very process (the worker), nothing else.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
    2 * n
}

/// 1,000 processes: joined (both start methods), dropped unjoined while
/// they run, daemons dropped (killed), and some awaited with
/// [`brigade::process::run`] on a loop that ends before they do.
fn a_thousand_processes() -> usize {
    let mut started = 0;
    for batch in 0..20u32 {
        let mut joined = Vec::new();
        for i in 0..20u32 {
            let method = if i % 2 == 0 {
                StartMethod::Spawn
            } else {
                StartMethod::Forkserver
            };
            let mut p = Process::new(double, (batch * 100 + i,)).start_method(method);
            p.start().unwrap();
            joined.push((batch * 100 + i, p));
        }
        for i in 0..10u32 {
            // Left to the reaper: dropped while it naps.
            let mut p = Process::new(nap, (5 + u64::from(i),));
            p.start().unwrap();
            drop(p);
        }
        for _ in 0..10u32 {
            // A daemon is killed when dropped.
            let mut p = Process::new(nap, (60_000,)).daemon(true);
            p.start().unwrap();
            drop(p);
        }
        for (n, mut p) in joined {
            assert_eq!(p.join().unwrap(), 2 * n);
        }
        // The loop ends while ten `process::run` futures still wait: each
        // child is killed, and its waiting thread lets go.
        let rt = Runtime::new().unwrap();
        for _ in 0..10 {
            drop(rt.spawn(brigade::process::run(nap, (60_000,))));
        }
        rt.block_on(brigade::time::sleep(Duration::from_millis(5)));
        drop(rt);
        started += 50;
    }
    started
}

/// 1,000 pool tasks over pools that end in each of the ways a pool ends:
/// dropped (finishing its queue), terminated with work queued, joined; with
/// workers that kill themselves, recycled workers, and tasks nobody waits
/// for.
fn a_thousand_pool_tasks() -> usize {
    let mut tasks = 0;
    for round in 0..5u32 {
        let pool = ProcessPool::builder()
            .processes(3)
            .max_tasks_per_child(25)
            .build()
            .unwrap();
        let items: Vec<u32> = (0..100).map(|i| round * 1000 + i).collect();
        let results: Vec<_> = pool.imap(die_or_double, items.clone()).collect();
        for (n, r) in items.iter().zip(results) {
            match r {
                Ok(v) => assert_eq!(v, 2 * n),
                Err(ProcessError::WorkerDied {
                    cause: Exit::Signal(libc::SIGKILL),
                    ..
                }) => assert_eq!(n % 10, 3),
                Err(e) => panic!("task {n}: {e:?}"),
            }
        }
        // Tasks nobody waits for, then the pool dropped: it finishes them.
        for i in 0..50u32 {
            drop(pool.submit(double, (i,)));
        }
        drop(pool);

        let pool = ProcessPool::new(2).unwrap();
        let queued: Vec<_> = (0..45).map(|_| pool.submit(nap, (60_000,))).collect();
        while pool.pids().is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        pool.terminate();
        for t in queued {
            assert!(matches!(t.wait(), Err(ProcessError::PoolClosed)));
        }

        let pool = ProcessPool::new(2).unwrap();
        assert_eq!(pool.map(double, 0..5u32).unwrap(), [0, 2, 4, 6, 8]);
        pool.close();
        pool.join();
        tasks += 100 + 50 + 45 + 5;
    }
    tasks
}

/// 1,000 `brigade::subprocess` children: awaited, dropped while they run
/// (left to the reaper), dropped with `kill_on_drop`, and held by tasks of
/// a loop that ends before they exit.
fn a_thousand_subprocesses() -> usize {
    let mut started = 0;
    for _ in 0..10 {
        brigade::run(async {
            for _ in 0..40 {
                let status = Command::new("true").status().await.unwrap();
                assert!(status.success());
            }
            for _ in 0..20 {
                drop(Command::new("sleep").arg("0.05").spawn().unwrap());
            }
            for _ in 0..20 {
                let child = Command::new("sleep")
                    .arg("60")
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                drop(child);
            }
        });
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            for i in 0..20 {
                let mut child = Command::new("sleep")
                    .arg("0.05")
                    .kill_on_drop(i % 2 == 0)
                    .spawn()
                    .unwrap();
                drop(brigade::spawn(async move { child.wait().await }));
            }
            brigade::yield_now().await;
        });
        drop(rt);
        started += 100;
    }
    started
}

#[test]
fn a_thousand_of_each_leave_no_descriptor_zombie_or_thread() {
    // The forkserver is meant to stay: one child, one socket. Start it
    // before counting.
    brigade::process::forkserver::start().unwrap();
    let fds = open_fds();
    let threads_before = threads();
    let children_before = children();
    assert!(children_before.iter().all(|&(_, state)| state != 'Z'));

    let processes = a_thousand_processes();
    let tasks = a_thousand_pool_tasks();
    let subprocesses = a_thousand_subprocesses();
    assert!(processes >= 1_000 && tasks >= 1_000 && subprocesses >= 1_000);

    // Compared by pid: a child's state (running, sleeping) may change.
    let pids = |list: &[(u32, char)]| list.iter().map(|&(pid, _)| pid).collect::<BTreeSet<_>>();
    settles("zombies", children, |now| {
        now.iter().all(|&(_, state)| state != 'Z')
    });
    settles("stray children", children, |now| {
        pids(now) == pids(&children_before)
    });
    settles("descriptors leaked", open_fds, |now| now == &fds);
    settles("threads left", threads, |&now| now == threads_before);
    println!(
        "hygiene: processes={processes} pool_tasks={tasks} subprocesses={subprocesses} \
         leaked_fds=0 zombies=0 extra_threads=0"
    );
}
