//! `fs::read` through io_uring direct descriptors (io/direct.rs): the
//! process's descriptor table is never touched, a full table falls back to
//! ordinary descriptors, and dropping reads and opens at any point leaks
//! neither a descriptor nor a slot of the ring's table. Under
//! BRIGADE_DRIVER=epoll the same tests check that nothing leaks on the
//! blocking pool either.
//!
//! These tests count the entries of `/proc/self/fd` and one changes the
//! process's descriptor limit, so they take turns (`SERIAL`); this file
//! holds no other tests, and test binaries are separate processes.

use std::future::Future;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use brigade::fs::{self, File, PathError};
use brigade::io::DriverKind;
use brigade::{Runtime, spawn};

static SERIAL: Mutex<()> = Mutex::new(());

/// Takes this file's turn, with a second loop alive until the turn ends:
/// `fs::read` opens into direct descriptors only while several rings live
/// in the process (one loop per core, as `run_on_threads` makes).
///
/// The loop comes first in the tuple because a tuple drops its fields in
/// order: the loop (its ring, its descriptors) must be gone before the
/// next test takes the turn and counts descriptors and rings.
fn serial() -> (Runtime, std::sync::MutexGuard<'static, ()>) {
    let turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    (Runtime::new().unwrap(), turn)
}

/// The loop under test: its reads all go through the driver, as a file not
/// yet in memory's do (the files here were just written, so `fs::read`
/// would otherwise read them in place; see `io_fs_cached.rs`).
fn through_the_driver() -> Runtime {
    Runtime::builder()
        .read_files_in_place(false)
        .build()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brigade-fsd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` files of distinct sizes and contents around 4 KiB.
fn files(dir: &Path, n: usize) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("f{i}"));
            let data = vec![i as u8; 4000 + i * 7];
            std::fs::write(&path, &data).unwrap();
            (path, data)
        })
        .collect()
}

/// How many descriptors the process holds. Listing them takes one more: a
/// process at its limit (dropped opens still finishing under a lowered
/// limit) counts as `usize::MAX`, more than any baseline, so that
/// [`assert_released`] waits for them and a real leak still fails.
fn open_descriptors() -> usize {
    match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries.count(),
        Err(e) if e.raw_os_error() == Some(libc::EMFILE) => usize::MAX,
        Err(e) => panic!("listing /proc/self/fd: {e}"),
    }
}

/// Waits (boundedly) until the loop holds no operation and no direct slot,
/// and the process no more descriptors than `baseline`, and that has held
/// for ten checks in a row; then asserts it on the last check. (Under
/// epoll, an open whose future was dropped still runs on the blocking pool
/// and holds its descriptor for a moment before closing it: one calm check
/// can fall between two such jobs.)
fn assert_released(rt: &Runtime, baseline: usize, name: &str) {
    let mut calm = 0;
    let (mut stats, mut fds) = (rt.io_stats(), open_descriptors());
    for _ in 0..2000 {
        (stats, fds) = (rt.io_stats(), open_descriptors());
        if stats.in_flight == 0 && stats.direct_files == 0 && fds <= baseline {
            calm += 1;
            if calm == 10 {
                break;
            }
        } else {
            calm = 0;
        }
        rt.block_on(brigade::sleep(Duration::from_millis(5)));
    }
    assert_eq!(stats.in_flight, 0, "{name}: operations left in flight");
    assert_eq!(stats.direct_files, 0, "{name}: direct slots leaked");
    assert_eq!(fds, baseline, "{name}: descriptors leaked");
}

/// Turns the loop (boundedly) until it holds no operation: a lone loop's
/// ring closes the files it read with its next batch.
fn settle(rt: &Runtime) {
    for _ in 0..1000 {
        if rt.io_stats().in_flight == 0 {
            return;
        }
        rt.block_on(brigade::sleep(Duration::from_millis(1)));
    }
}

/// Reads every file concurrently, checking each; returns the most direct
/// slots and process descriptors seen open at once.
fn read_all(rt: &Runtime, files: &[(PathBuf, Vec<u8>)]) -> (usize, usize) {
    rt.block_on(async {
        let reads: Vec<_> = files
            .iter()
            .cloned()
            .map(|(path, data)| spawn(async move { fs::read(&path).await.unwrap() == data }))
            .collect();
        let (mut slots, mut fds) = (0, 0);
        for read in reads {
            slots = slots.max(rt.io_stats().direct_files);
            fds = fds.max(open_descriptors());
            assert!(read.await.unwrap());
        }
        (slots, fds)
    })
}

#[test]
fn reads_open_no_process_descriptors() {
    let _serial = serial();
    let dir = temp_dir("nofd");
    let files = files(&dir, 300);
    let rt = through_the_driver();
    // Warm up: the table registers on the first read.
    rt.block_on(fs::read(&files[0].0)).unwrap();
    let baseline = open_descriptors();
    let (slots, fds) = read_all(&rt, &files);
    if rt.io_driver() == DriverKind::Uring {
        assert!(slots > 0, "no read went through a direct descriptor");
        assert_eq!(fds, baseline, "a read opened a process descriptor");
    }
    assert_released(&rt, baseline, "reads");
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_agree_with_std_on_odd_files() {
    let _serial = serial();
    let dir = temp_dir("odd");
    let big = dir.join("big");
    let big_data: Vec<u8> = (0..(3 << 20) + 7).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &big_data).unwrap();
    let exact = dir.join("exact");
    std::fs::write(&exact, vec![1u8; 8192]).unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    std::fs::write(dir.join("text"), "héllo").unwrap();
    std::fs::write(dir.join("latin1"), [0xe9u8]).unwrap();
    let rt = through_the_driver();
    let baseline = open_descriptors();
    rt.block_on(async {
        assert_eq!(fs::read(&big).await.unwrap(), big_data);
        assert_eq!(fs::read(&exact).await.unwrap(), vec![1u8; 8192]);
        let empty = fs::read(dir.join("empty")).await.unwrap();
        assert!(empty.is_empty());
        assert_eq!(fs::read_to_string(dir.join("text")).await.unwrap(), "héllo");
        let err = fs::read_to_string(dir.join("latin1")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        // Short reads that are not the end (/proc): read on to the real end.
        let status = fs::read("/proc/self/cmdline").await.unwrap();
        assert_eq!(status, std::fs::read("/proc/self/cmdline").unwrap());
        // Errors keep their kind and name the path.
        for (path, kind) in [
            (dir.join("missing"), ErrorKind::NotFound),
            (dir.clone(), ErrorKind::IsADirectory),
        ] {
            let err = fs::read(&path).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{err}");
            assert!(
                err.get_ref().is_some_and(|e| e.is::<PathError>()),
                "{err:?}"
            );
            assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
        }
    });
    // A small result does not keep a large buffer.
    let small = rt.block_on(fs::read(dir.join("text"))).unwrap();
    assert!(small.capacity() < 64, "capacity {}", small.capacity());
    assert_released(&rt, baseline, "odd files");
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The opening chain reads a page, then probes one byte past it: the byte
/// is kept when the page was full, dropped when the first read was short
/// but not the end (a /proc file's records), and the read goes on from
/// where the file really is.
#[test]
fn the_chains_probe_byte_is_kept_or_dropped_exactly() {
    let _serial = serial();
    let dir = temp_dir("probe");
    let rt = through_the_driver();
    let baseline = open_descriptors();
    rt.block_on(async {
        for size in [0usize, 1, 4095, 4096, 4097, 4098, 8191, 8192, 8193] {
            let path = dir.join(format!("s{size}"));
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
            std::fs::write(&path, &data).unwrap();
            let read = fs::read(&path).await.unwrap();
            assert!(read == data, "size {size}: read {} bytes", read.len());
            assert!(
                read.capacity() <= size + size / 4 + 1,
                "size {size}: capacity {}",
                read.capacity()
            );
        }
        // /proc/kallsyms returns whole lines, under a page per read: the
        // first read is short and the probe finds more. Its text is stable
        // unless a module or BPF program comes or goes, so a mismatch is
        // retried; a lost or doubled byte would never match. (Every result
        // is kept, and std's copy is read into one mapping: a freed buffer
        // holding the text could hand its bytes to the next one.)
        let (mut same, mut slots, mut kept) = (false, 0, Vec::new());
        for _ in 0..3 {
            let read = spawn(fs::read("/proc/kallsyms"));
            while !read.is_finished() {
                slots = slots.max(rt.io_stats().direct_files);
                brigade::yield_now().await;
            }
            let mut std = Vec::with_capacity(64 << 20);
            std::fs::File::open("/proc/kallsyms")
                .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut std))
                .unwrap();
            kept.push((read.await.unwrap().unwrap(), std));
            let (ours, std) = kept.last().unwrap();
            if ours == std {
                same = true;
                break;
            }
        }
        assert!(
            same,
            "fs::read of /proc/kallsyms differs from std::fs::read"
        );
        if rt.io_driver() == DriverKind::Uring {
            assert!(slots > 0, "the read did not go through a direct descriptor");
        }
    });
    assert_released(&rt, baseline, "probe edges");
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The ring's table has as many slots as the soft descriptor limit allows
/// (at most 16384): runs `f` with the limit at `limit`, so that a few
/// hundred reads fill the table.
fn with_open_files_limit(limit: u64, f: impl FnOnce() + std::panic::UnwindSafe) {
    let mut saved = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `saved` is valid for writes.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut saved) };
    assert_eq!(got, 0);
    let low = libc::rlimit {
        rlim_cur: limit.min(saved.rlim_max),
        rlim_max: saved.rlim_max,
    };
    // SAFETY: `low` is a valid rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) }, 0);
    let result = std::panic::catch_unwind(f);
    // SAFETY: `saved` is the limit getrlimit returned.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &saved) };
    result.unwrap();
}

/// How many slots the table gets in [`with_open_files_limit`]: 400
/// concurrent reads overflow it, and the overflow's ordinary descriptors
/// still fit under the limit.
const SLOTS: usize = 256;

/// Checks that `SLOTS` concurrent reads all go through the table, which
/// fails if any slot is still taken.
fn assert_table_free(rt: &Runtime, dir: &Path) {
    if rt.io_driver() != DriverKind::Uring {
        return;
    }
    let files = files(&dir.join("again"), SLOTS);
    let baseline = open_descriptors();
    let (slots, fds) = read_all(rt, &files);
    assert!(slots > 0, "no read went through a direct descriptor");
    assert_eq!(fds, baseline, "the table was not free: reads fell back");
    assert_released(rt, baseline, "reads filling the table");
}

#[test]
fn a_full_table_falls_back_to_ordinary_descriptors() {
    let _serial = serial();
    let dir = temp_dir("full");
    let files = files(&dir, 400);
    with_open_files_limit(SLOTS as u64, || {
        let rt = through_the_driver();
        let baseline = open_descriptors();
        let (slots, fds) = read_all(&rt, &files);
        assert!(slots <= SLOTS);
        if rt.io_driver() == DriverKind::Uring {
            assert!(fds > baseline, "400 reads fit in {SLOTS} slots?");
        }
        assert_released(&rt, baseline, "overflowing reads");
        assert_table_free(&rt, &dir);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

type Job = Pin<Box<dyn Future<Output = ()>>>;

/// Runs 400 jobs made by `make(i)` at once, each dropped after a time that
/// varies with `i` (zero: right after its first poll), so that drops land
/// at every step; then checks that nothing is left behind.
fn drop_concurrently(name: &str, dir: &Path, make: impl Fn(u32) -> Job) {
    let rt = through_the_driver();
    drop_jobs(&rt, name, make);
    assert_table_free(&rt, dir);
}

/// [`drop_concurrently`] on `rt`, without checking its direct table.
fn drop_jobs(rt: &Runtime, name: &str, make: impl Fn(u32) -> Job) {
    // Warm up: the table registers on the first read.
    rt.block_on(fs::read("/proc/self/cmdline")).unwrap();
    settle(rt);
    let baseline = open_descriptors();
    rt.block_on(async {
        let jobs: Vec<_> = (0..400)
            .map(|i| {
                let wait = Duration::from_micros(u64::from(i % 8) * 40);
                let job = make(i);
                spawn(async move {
                    let _ = brigade::timeout(wait, job).await;
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
        // Dropped while still queued: never polled past the first step.
        for i in 0..100 {
            let _ = brigade::timeout(Duration::ZERO, make(i)).await;
        }
    });
    assert_released(rt, baseline, name);
    // The loop still reads.
    let cmdline = rt.block_on(fs::read("/proc/self/cmdline")).unwrap();
    assert_eq!(cmdline, std::fs::read("/proc/self/cmdline").unwrap());
    assert_released(rt, baseline, name);
}

#[test]
fn dropping_reads_at_any_point_leaks_no_descriptor_nor_slot() {
    let _serial = serial();
    let dir = temp_dir("drop-read");
    let files = files(&dir, 50);
    let big = dir.join("big");
    std::fs::write(&big, vec![4u8; 1 << 20]).unwrap();
    with_open_files_limit(SLOTS as u64, || {
        drop_concurrently("fs::read", &dir, |i| {
            let path = if i % 5 == 0 {
                big.clone()
            } else {
                files[i as usize % files.len()].0.clone()
            };
            Box::pin(async move {
                let _ = fs::read(path).await;
            })
        })
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dropping_opens_at_any_point_leaks_no_descriptor() {
    let _serial = serial();
    let dir = temp_dir("drop-open");
    let files = files(&dir, 50);
    with_open_files_limit(SLOTS as u64, || {
        drop_concurrently("File::open", &dir, |i| {
            let path = files[i as usize % files.len()].0.clone();
            Box::pin(async move {
                if let Ok(file) = File::open(&path).await {
                    // Held across a drop point, then closed with the job.
                    brigade::sleep(Duration::from_micros(50)).await;
                    drop(file);
                }
            })
        })
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A process out of descriptors still reads through the ring's table: the
/// in-place path, which needs an ordinary descriptor, steps aside.
#[test]
fn out_of_descriptors_reads_still_go_through_the_table() {
    let _serial = serial();
    let dir = temp_dir("emfile");
    let files = files(&dir, 3);
    with_open_files_limit(SLOTS as u64, || {
        // Reads in place by default.
        let rt = Runtime::new().unwrap();
        // The ring's table registers on the first read through the driver
        // (a file of /proc is never read in place).
        rt.block_on(fs::read("/proc/self/cmdline")).unwrap();
        // Fill the process's table.
        let mut held = Vec::new();
        while let Ok(f) = std::fs::File::open(&files[0].0) {
            held.push(f);
        }
        let read = rt.block_on(fs::read(&files[1].0));
        drop(held);
        if rt.io_driver() == DriverKind::Uring {
            assert_eq!(read.unwrap(), files[1].1);
        } else {
            // The blocking pool opens ordinary descriptors: none is left.
            assert!(read.is_err());
        }
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With one loop alone in the process, `fs::read` keeps to ordinary
/// descriptors (cheaper there: they can be `fstat`ed for the size).
#[test]
fn a_lone_loop_reads_through_ordinary_descriptors() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("lone");
    let files = files(&dir, 50);
    let rt = through_the_driver();
    let (slots, _fds) = read_all(&rt, &files);
    assert_eq!(slots, 0, "a lone loop opened direct descriptors");
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// On a lone loop, the ring closes each file `fs::read` opened with its
/// next batch (no `close` call): every descriptor is released once the
/// loop turns, and the results are whole.
#[test]
fn a_lone_loop_closes_what_it_read_through_the_ring() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("lone-close");
    let files = files(&dir, 200);
    let rt = through_the_driver();
    rt.block_on(fs::read("/proc/self/cmdline")).unwrap();
    settle(&rt);
    let baseline = open_descriptors();
    let (slots, _fds) = read_all(&rt, &files);
    assert_eq!(slots, 0, "a lone loop opened direct descriptors");
    assert_released(&rt, baseline, "lone fs::read");
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// On a lone loop (ordinary descriptors, closed by the ring), reads
/// dropped at every step leak no descriptor, and a missing file's error
/// names it.
#[test]
fn a_lone_loops_dropped_reads_leak_no_descriptor() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("lone-drop");
    let files = files(&dir, 50);
    let rt = through_the_driver();
    drop_jobs(&rt, "lone fs::read", |i| {
        let path = files[i as usize % files.len()].0.clone();
        Box::pin(async move {
            let _ = fs::read(path).await;
        })
    });
    let missing = dir.join("missing-file");
    let e = rt.block_on(fs::read(&missing)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let inner = e.get_ref().and_then(|e| e.downcast_ref::<PathError>());
    assert_eq!(inner.map(PathError::path), Some(missing.as_path()));
    assert!(e.to_string().contains("missing-file"), "{e}");
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}
