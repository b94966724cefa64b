//! The file-system calls that are native io_uring operations (`statx`,
//! `mkdirat`, `unlinkat`, `ftruncate`) behave like std's under both drivers
//! (scripts/test.sh runs this file with BRIGADE_DRIVER=uring and =epoll),
//! and dropping them mid-flight never leaves the kernel writing into freed
//! memory nor leaks an operation.

use std::future::Future;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use brigade::fs::{self, File, OpenOptions, PathError};
use brigade::io::{AsyncReadExt, AsyncWriteExt, DriverKind};
use brigade::{Runtime, spawn};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brigade-fsn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts that `err` kept `kind` and names `name`.
#[track_caller]
fn assert_named(err: &std::io::Error, kind: ErrorKind, name: &str) {
    assert_eq!(err.kind(), kind, "{err}");
    assert!(err.to_string().contains(name), "{err}");
    assert!(
        err.get_ref().is_some_and(|e| e.is::<PathError>()),
        "{err:?}"
    );
}

#[test]
fn create_dir_and_remove_dir_report_clear_errors() {
    let dir = temp_dir("mkdir");
    brigade::run(async {
        let sub = dir.join("sub");
        fs::create_dir(&sub).await.unwrap();
        assert!(fs::metadata(&sub).await.unwrap().is_dir());
        let err = fs::create_dir(&sub).await.unwrap_err();
        assert_named(&err, ErrorKind::AlreadyExists, "sub");
        let err = fs::create_dir(dir.join("no/parent")).await.unwrap_err();
        assert_named(&err, ErrorKind::NotFound, "no/parent");

        fs::write(sub.join("f"), "x").await.unwrap();
        let err = fs::remove_dir(&sub).await.unwrap_err();
        assert_named(&err, ErrorKind::DirectoryNotEmpty, "sub");
        let err = fs::remove_dir(sub.join("f")).await.unwrap_err();
        assert_named(&err, ErrorKind::NotADirectory, "f");
        let err = fs::remove_file(&sub).await.unwrap_err();
        assert_named(&err, ErrorKind::IsADirectory, "sub");
        fs::remove_file(sub.join("f")).await.unwrap();
        fs::remove_dir(&sub).await.unwrap();
        let err = fs::remove_dir(&sub).await.unwrap_err();
        assert_named(&err, ErrorKind::NotFound, "sub");
        // A NUL byte is bad input, not a panic.
        let err = fs::create_dir("bad\0name").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn create_dir_all_walks_the_path_as_std_does() {
    let dir = temp_dir("mkdirall");
    brigade::run(async {
        // Absolute, with `.` components and a trailing slash.
        let deep = dir.join("a/./b/c/d/");
        fs::create_dir_all(&deep).await.unwrap();
        assert!(std::fs::metadata(dir.join("a/b/c/d")).unwrap().is_dir());
        fs::create_dir_all(&deep).await.unwrap(); // exist_ok
        fs::create_dir_all("/").await.unwrap();
        fs::create_dir_all("").await.unwrap();

        // Relative to the working directory, climbing out of it.
        let cwd = std::env::current_dir().unwrap();
        let mut relative = PathBuf::new();
        for _ in cwd.components().skip(1) {
            relative.push("..");
        }
        relative.push(dir.strip_prefix("/").unwrap());
        relative.push("rel/x/y");
        fs::create_dir_all(&relative).await.unwrap();
        assert!(std::fs::metadata(dir.join("rel/x/y")).unwrap().is_dir());

        // The same failures as std, with the path named.
        fs::write(dir.join("file"), "x").await.unwrap();
        for bad in [dir.join("file"), dir.join("file/sub/deeper")] {
            let ours = fs::create_dir_all(&bad).await.unwrap_err();
            let std = std::fs::create_dir_all(&bad).unwrap_err();
            assert_named(&ours, std.kind(), "file");
        }

        // Many tasks creating overlapping trees at once all succeed.
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let path = dir.join(format!("race/{}/leaf{i}", i % 3));
                spawn(async move { fs::create_dir_all(path).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let mut n = 0;
        for i in 0..3 {
            n += std::fs::read_dir(dir.join(format!("race/{i}")))
                .unwrap()
                .count();
        }
        assert_eq!(n, 20);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn metadata_agrees_with_std() {
    let dir = temp_dir("stat");
    brigade::run(async {
        let path = dir.join("f");
        fs::write(&path, vec![1u8; 12_345]).await.unwrap();
        std::os::unix::fs::symlink(&path, dir.join("link")).unwrap();
        let std = std::fs::metadata(&path).unwrap();
        for m in [
            fs::metadata(&path).await.unwrap(),
            fs::metadata(dir.join("link")).await.unwrap(),
            File::open(&path).await.unwrap().metadata().await.unwrap(),
        ] {
            assert_eq!(m.len(), 12_345);
            assert!(m.is_file() && !m.is_dir() && !m.is_symlink());
            assert_eq!(m.permissions().mode(), std.permissions().mode() & 0o7777);
            assert_eq!(m.modified(), std.modified().unwrap());
        }
        let link = fs::symlink_metadata(dir.join("link")).await.unwrap();
        assert!(link.is_symlink());
        assert!(fs::metadata(&dir).await.unwrap().is_dir());
        // An open file's metadata outlives its name.
        let f = File::open(&path).await.unwrap();
        fs::remove_file(&path).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 12_345);
        let err = fs::metadata(&path).await.unwrap_err();
        assert_named(&err, ErrorKind::NotFound, "f");
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn set_len_truncates_and_extends_after_the_writes_behind() {
    let dir = temp_dir("setlen");
    brigade::run(async {
        let path = dir.join("f");
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        // The write is still behind when set_len is called: it lands first.
        f.write_all(&[7u8; 10_000]).await.unwrap();
        f.set_len(100).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 100);
        f.set_len(5000).await.unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 5000);
        let mut all = Vec::new();
        File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut all)
            .await
            .unwrap();
        assert_eq!(&all[..100], &[7u8; 100][..]);
        assert!(all[100..].iter().all(|&b| b == 0));
        // A file open only for reading cannot be resized.
        let mut ro = File::open(&path).await.unwrap();
        let err = ro.set_len(1).await.unwrap_err();
        assert_named(&err, ErrorKind::InvalidInput, "f");
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 5000);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

type Job = Pin<Box<dyn Future<Output = ()>>>;

/// Checks, right after a `block_on` that dropped operations, that on
/// io_uring they were ring operations: there was no park since the last
/// drop, so the last one cannot have completed and is still held.
fn assert_ring_ops(rt: &Runtime, name: &str) {
    if rt.io_driver() == DriverKind::Uring {
        assert!(
            rt.io_stats().in_flight > 0,
            "{name} is not a ring operation"
        );
    }
}

/// Checks that the driver lets go of every operation.
fn settle(rt: &Runtime, name: &str) {
    for _ in 0..1000 {
        if rt.io_stats().in_flight == 0 {
            break;
        }
        rt.block_on(brigade::sleep(Duration::from_millis(5)));
    }
    assert_eq!(rt.io_stats().in_flight, 0, "{name} leaked operations");
}

/// Starts `make(i)` 200 times, each polled once and dropped while the
/// kernel may be working on it; checks that the driver lets go of every
/// operation, and on io_uring that they were ring operations.
fn drop_in_flight(name: &str, make: impl Fn(&Path, u32) -> Job) {
    let dir = temp_dir(name);
    std::fs::write(dir.join("file"), vec![3u8; 4096]).unwrap();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for i in 0..200 {
            let _ = brigade::timeout(Duration::ZERO, make(&dir, i)).await;
        }
    });
    assert_ring_ops(&rt, name);
    settle(&rt, name);
    // The loop still works, and so do the files.
    rt.block_on(async {
        assert_eq!(fs::read(dir.join("file")).await.unwrap().len(), 4096);
    });
    drop(rt);
    remove_when_settled(&dir);
}

/// Removes `dir` once nothing works in it any more. Under epoll a dropped
/// call still runs on the blocking pool for a moment (a `create_dir_all`
/// may add a directory while `remove_dir_all` empties its parent), so the
/// removal is retried, boundedly.
fn remove_when_settled(dir: &Path) {
    let mut last = Ok(());
    for _ in 0..200 {
        last = std::fs::remove_dir_all(dir);
        if last.is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    last.unwrap();
}

#[test]
fn dropping_statx_mid_flight_is_safe() {
    drop_in_flight("cancel-statx", |dir, i| {
        let path = dir.join("file");
        Box::pin(async move {
            if i % 2 == 0 {
                let _ = fs::metadata(path).await;
            } else {
                let _ = fs::symlink_metadata(path).await;
            }
        })
    });
}

#[test]
fn dropping_file_statx_mid_flight_is_safe() {
    let dir = temp_dir("cancel-fstat");
    let path = dir.join("file");
    std::fs::write(&path, b"abc").unwrap();
    let rt = Runtime::new().unwrap();
    let file = rt.block_on(File::open(&path)).unwrap();
    rt.block_on(async {
        for _ in 0..200 {
            let _ = brigade::timeout(Duration::ZERO, file.metadata()).await;
        }
    });
    assert_ring_ops(&rt, "File::metadata");
    settle(&rt, "File::metadata");
    // The descriptor the dropped operations used is still good.
    assert_eq!(rt.block_on(file.metadata()).unwrap().len(), 3);
    drop(file);
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dropping_mkdir_mid_flight_is_safe() {
    drop_in_flight("cancel-mkdir", |dir, i| {
        let path = dir.join(format!("d{}/sub{i}", i % 10));
        Box::pin(async move {
            if i % 2 == 0 {
                let _ = fs::create_dir_all(path).await;
            } else {
                let _ = fs::create_dir(path).await;
            }
        })
    });
}

#[test]
fn dropping_unlink_mid_flight_is_safe() {
    drop_in_flight("cancel-unlink", |dir, i| {
        let path = dir.join(format!("gone{i}"));
        std::fs::write(&path, b"x").unwrap();
        let sub = dir.join(format!("empty{i}"));
        std::fs::create_dir(&sub).unwrap();
        Box::pin(async move {
            if i % 2 == 0 {
                let _ = fs::remove_file(path).await;
            } else {
                let _ = fs::remove_dir(sub).await;
            }
        })
    });
}

#[test]
fn dropping_set_len_mid_flight_is_safe() {
    let dir = temp_dir("cancel-setlen");
    let path = dir.join("sized");
    let rt = Runtime::new().unwrap();
    let mut file = rt
        .block_on(OpenOptions::new().write(true).create(true).open(&path))
        .unwrap();
    rt.block_on(async {
        for i in 0..200u64 {
            let _ = brigade::timeout(Duration::ZERO, file.set_len(i * 100)).await;
        }
    });
    assert_ring_ops(&rt, "File::set_len");
    // The last resize is held by the file, which finishes it before its
    // next operation: a dropped resize never lands after a later one.
    rt.block_on(file.set_len(7)).unwrap();
    settle(&rt, "File::set_len");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 7);
    // A file dropped with a resize in flight lets go of it too.
    rt.block_on(async {
        let _ = brigade::timeout(Duration::ZERO, file.set_len(1 << 20)).await;
    });
    drop(file);
    settle(&rt, "File::set_len on a dropped file");
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}
