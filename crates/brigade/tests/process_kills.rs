//! A pool mapping while its workers are killed, a thousand times over.
//!
//! The promise under test is the pool's: a worker that dies fails exactly
//! the task it was running, with an error that names its pid and the
//! signal, and every other task gets its right value; nothing is lost,
//! nothing runs twice, nothing hangs. Two kinds of death are mixed:
//!
//! - **scheduled**: a seeded choice of items kill their own worker with
//!   `SIGKILL` while they run. These are certain, so the test can count
//!   them and demand one error per killed item;
//! - **random**: a killer thread sends `SIGKILL` to workers picked at
//!   random from [`ProcessPool::pids`], at any moment: while idle, while
//!   starting, while running a task, while replying.
//!
//! Every task first records that it runs, by appending its item number to
//! a log file (an `O_APPEND` write of eight bytes, which the kernel does
//! whole), so the parent sees how often each item really ran, not just
//! what came back: a value whose item ran other than once, or any item
//! that ran twice, is a lost or duplicated item.
//!
//! The scale comes from `BRIGADE_SOAK` (see `scripts/soak.sh`): unset, the
//! test makes 1,000 scheduled kills, a size CI runs in seconds; `n` makes
//! `6,000 * n`. It prints its figures on one `kills:` line, which the soak
//! script collects.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brigade::process::{Exit, ProcessError, ProcessPool, StartMethod};

mod watchdog;
use watchdog::within_for;

/// The soak multiplier: 0 for the CI size.
fn soak() -> u64 {
    std::env::var("BRIGADE_SOAK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A small xorshift generator: seeded, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The task: records its run, kills its own worker if told to, and
/// returns a value the parent can check.
fn work((item, die, log): (u64, bool, String)) -> (u64, u64) {
    let mut file = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    file.write_all(&item.to_le_bytes()).unwrap();
    drop(file);
    if die {
        // SAFETY: signals this very process (the worker), nothing else.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
    (item, item.wrapping_mul(item) ^ 0x5a5a)
}

/// Sends `SIGKILL` to `pid` if, and only if, it is a child of this
/// process, so that a pid recycled since [`ProcessPool::pids`] read it can
/// never make the test kill a stranger: the pidfd pins the process before
/// its parent is checked, and the signal goes to the pinned process.
fn kill_our_child(pid: u32) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // (or -1); it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) } as i32;
    if fd < 0 {
        return false;
    }
    let ours = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The command name (in parentheses) may hold spaces: the fields
            // after its closing parenthesis are state, then the parent pid.
            let rest = &stat[stat.rfind(')')? + 1..];
            rest.split_whitespace().nth(1)?.parse::<u32>().ok()
        })
        == Some(std::process::id());
    let sent = ours
        // SAFETY: fd is the pidfd opened above; a null siginfo is allowed
        // (the kernel fills in a default), and flags must be 0.
        && unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        } == 0;
    // SAFETY: closes the descriptor opened above, used by nothing else.
    unsafe { libc::close(fd) };
    sent
}

/// What one run measured.
#[derive(Debug, Default)]
struct Tally {
    items: u64,
    scheduled_kills: u64,
    random_kills: u64,
    random_kills_that_failed_a_task: u64,
    lost: u64,
    duplicated: u64,
}

fn map_under_kills(method: StartMethod, scheduled: u64, seed: u64) -> Tally {
    // Twice as many items as kills: half the tasks must come back right.
    let items = 2 * scheduled;
    let mut rng = Rng(seed);
    let mut die = vec![false; items as usize];
    let mut chosen = 0;
    while chosen < scheduled {
        let i = (rng.next() % items) as usize;
        if !die[i] {
            die[i] = true;
            chosen += 1;
        }
    }
    let log = std::env::temp_dir().join(format!(
        "brigade-kills-{}-{method:?}-{seed:x}",
        std::process::id()
    ));
    std::fs::write(&log, b"").unwrap();
    let pool = Arc::new(
        ProcessPool::builder()
            .processes(4)
            .start_method(method)
            .build()
            .unwrap(),
    );

    let done = Arc::new(AtomicBool::new(false));
    let random_kills = Arc::new(AtomicU64::new(0));
    let killed_pids = Arc::new(Mutex::new(BTreeSet::new()));
    let killer = {
        let (pool, done, random_kills, killed_pids) = (
            pool.clone(),
            done.clone(),
            random_kills.clone(),
            killed_pids.clone(),
        );
        let mut rng = Rng(seed ^ 0xdead_beef);
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let pids = pool.pids();
                if !pids.is_empty() {
                    let pid = pids[(rng.next() % pids.len() as u64) as usize];
                    // Read only after the map: a pid is listed once signalled.
                    if kill_our_child(pid) {
                        killed_pids.lock().unwrap().insert(pid);
                        random_kills.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // A kill every few tasks, not a kill for every task.
                std::thread::sleep(Duration::from_micros(500 + rng.next() % 5_000));
            }
        })
    };

    let args: Vec<(u64, bool, String)> = (0..items)
        .map(|i| (i, die[i as usize], log.to_string_lossy().into_owned()))
        .collect();
    let results: Vec<Result<(u64, u64), ProcessError>> = {
        let pool = pool.clone();
        let limit = Duration::from_secs(300 + 300 * soak());
        within_for(limit, "the map", move || {
            let mut out = Vec::with_capacity(args.len());
            for (i, r) in pool.imap(work, args).enumerate() {
                out.push(r);
                assert_eq!(out.len(), i + 1);
            }
            out
        })
    };
    done.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    let killed_pids = killed_pids.lock().unwrap().clone();

    let mut runs = vec![0u32; items as usize];
    let record = std::fs::read(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    assert_eq!(record.len() % 8, 0, "a torn record");
    for chunk in record.chunks(8) {
        runs[u64::from_le_bytes(chunk.try_into().unwrap()) as usize] += 1;
    }
    let mut tally = Tally {
        items,
        scheduled_kills: scheduled,
        random_kills: random_kills.load(Ordering::Relaxed),
        ..Tally::default()
    };
    assert_eq!(results.len() as u64, items, "items lost from the map");
    for (i, result) in results.into_iter().enumerate() {
        let ran = runs[i];
        if ran > 1 {
            tally.duplicated += 1;
        }
        match result {
            Ok((item, value)) => {
                assert!(!die[i], "item {i} should have killed its worker");
                assert_eq!(item, i as u64, "item {i} got another item's value");
                assert_eq!(value, item.wrapping_mul(item) ^ 0x5a5a, "item {i}");
                if ran != 1 {
                    tally.lost += 1;
                }
            }
            Err(ProcessError::WorkerDied {
                pid,
                cause: Exit::Signal(libc::SIGKILL),
            }) => {
                assert!(pid > 0, "item {i}: no pid named");
                if !die[i] {
                    // Not scheduled: only the killer thread can explain it.
                    assert!(
                        killed_pids.contains(&pid),
                        "item {i}: worker {pid} died but nobody killed it"
                    );
                    tally.random_kills_that_failed_a_task += 1;
                }
            }
            Err(other) => panic!("item {i}: unexpected error {other:?}"),
        }
    }
    // The pool is still whole: it maps again, all right.
    let after = pool
        .map(|n: u64| n + 1, 0..100u64)
        .expect("the pool after the kills");
    assert_eq!(after, (1..=100).collect::<Vec<u64>>());
    tally
}

fn survives(method: StartMethod, seed: u64) {
    let scheduled = if soak() == 0 { 1_000 } else { 6_000 * soak() };
    let tally = map_under_kills(method, scheduled, seed);
    println!(
        "kills: method={method:?} items={} scheduled_kills={} random_kills={} \
         random_kills_that_failed_a_task={} lost={} duplicated={} hangs=0",
        tally.items,
        tally.scheduled_kills,
        tally.random_kills,
        tally.random_kills_that_failed_a_task,
        tally.lost,
        tally.duplicated
    );
    assert!(tally.scheduled_kills >= 1_000);
    assert_eq!(tally.lost, 0, "{tally:?}");
    assert_eq!(tally.duplicated, 0, "{tally:?}");
}

#[test]
fn a_pool_survives_a_thousand_kills_while_mapping_spawn() {
    survives(StartMethod::Spawn, 0x2545_f491_4f6c_dd1d);
}

#[test]
fn a_pool_survives_a_thousand_kills_while_mapping_forkserver() {
    survives(StartMethod::Forkserver, 0x9e37_79b9_7f4a_7c15);
}
