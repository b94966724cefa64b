//! `fs::read`'s fast path (`fs/cached.rs`): a small regular file already
//! in memory is read on the loop at once; anything else (a file whose pages
//! are on disk only, a large one, a FIFO, a directory, a file of /proc)
//! takes the ring's or the pool's path, from the start, with the same
//! result and the same errors. On whichever driver `BRIGADE_DRIVER` selects.

mod watchdog;

use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use brigade::fs;

fn dir_in(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(format!("brigade-fs-cached-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bytes that differ from one offset to the next, so that a misplaced
/// read cannot go unnoticed.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn every_size_reads_exactly_in_place_or_through_the_driver() {
    // Around a page, and around the fast path's limit of 1 MiB, past which
    // the ring reads the file.
    let sizes = [
        0,
        1,
        4095,
        4096,
        4097,
        65_536,
        (1 << 20) - 1,
        1 << 20,
        (1 << 20) + 1,
        3 << 20,
    ];
    for base in [std::env::temp_dir(), PathBuf::from("/dev/shm")] {
        let dir = dir_in(&base, "sizes");
        for &len in &sizes {
            std::fs::write(dir.join(len.to_string()), pattern(len)).unwrap();
        }
        // Read in place, and (turned off) through the driver.
        for in_place in [true, false] {
            let rt = brigade::Runtime::builder()
                .read_files_in_place(in_place)
                .build()
                .unwrap();
            rt.block_on(async {
                for &len in &sizes {
                    let got = fs::read(dir.join(len.to_string())).await.unwrap();
                    assert_eq!(got.len(), len, "{} bytes in {}", len, base.display());
                    assert!(got == pattern(len), "{len} bytes differ");
                }
            });
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Drops `path`'s pages from the page cache, as if it had never been
/// read since the machine started; whether they went is checked with a
/// read that may not wait.
fn evict(path: &Path) -> bool {
    let file = std::fs::File::open(path).unwrap();
    file.sync_all().unwrap();
    let fd = file.as_raw_fd();
    // SAFETY: plain system calls on a descriptor `file` keeps open; the
    // read writes into `byte` only.
    unsafe {
        assert_eq!(libc::posix_fadvise(fd, 0, 0, libc::POSIX_FADV_DONTNEED), 0);
        let mut byte = 0u8;
        let iov = libc::iovec {
            iov_base: (&mut byte as *mut u8).cast(),
            iov_len: 1,
        };
        libc::preadv2(fd, &iov, 1, 0, libc::RWF_NOWAIT) == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN)
    }
}

#[test]
fn a_file_whose_pages_are_on_disk_only_is_read_whole() {
    let dir = dir_in(&std::env::temp_dir(), "evicted");
    let path = dir.join("cold");
    let data = pattern(200_000);
    std::fs::write(&path, &data).unwrap();
    if !evict(&path) {
        // A filesystem that keeps files in memory (a tmpfs /tmp) has
        // nothing to evict: the in-memory cases cover it.
        eprintln!("skipped: {} keeps its pages", dir.display());
        std::fs::remove_dir_all(&dir).unwrap();
        return;
    }
    let got = brigade::run(fs::read(path.clone())).unwrap();
    assert!(got == data);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_files_directories_and_bad_paths_fail_as_before() {
    let dir = dir_in(&std::env::temp_dir(), "errors");
    brigade::run(async {
        let missing = fs::read(dir.join("nobody")).await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert!(missing.to_string().contains("nobody"), "{missing}");

        let directory = fs::read(&dir).await.unwrap_err();
        assert_eq!(directory.kind(), ErrorKind::IsADirectory);
        assert!(directory.to_string().contains("errors"), "{directory}");

        let nul = fs::read("bad\0path").await.unwrap_err();
        assert_eq!(nul.kind(), ErrorKind::InvalidInput);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_of_proc_are_read_to_their_end() {
    let status = brigade::run(fs::read("/proc/self/status")).unwrap();
    let text = String::from_utf8(status).unwrap();
    assert!(text.starts_with("Name:"), "{text}");
    assert!(text.contains("\nPid:"), "{text}");
}

#[test]
fn a_fifo_waits_for_its_writer_without_stopping_the_loop() {
    let dir = dir_in(&std::env::temp_dir(), "fifo");
    let fifo = dir.join("pipe");
    let c_fifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the C string it is given.
    assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o600) }, 0);
    let got = watchdog::within(move || {
        brigade::run(async move {
            let reader = brigade::spawn(fs::read(fifo.clone()));
            // The writer is a task of the same loop: it runs only if the
            // reader's open did not hold the loop until a writer came.
            brigade::sleep(std::time::Duration::from_millis(1)).await;
            let writer = brigade::to_thread(move || std::fs::write(&fifo, b"through the pipe"));
            writer.await.unwrap().unwrap();
            reader.await.unwrap().unwrap()
        })
    });
    assert_eq!(got, b"through the pipe");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn many_files_read_at_once_leave_no_descriptor_open() {
    let dir = dir_in(&std::env::temp_dir(), "many");
    for i in 0..2_000 {
        std::fs::write(dir.join(i.to_string()), i.to_string()).unwrap();
    }
    let rt = brigade::Runtime::new().unwrap();
    rt.block_on(async {
        let reads: Vec<_> = (0..2_000)
            .map(|i| brigade::spawn(fs::read(dir.join(i.to_string()))))
            .collect();
        for (i, read) in reads.into_iter().enumerate() {
            assert_eq!(read.await.unwrap().unwrap(), i.to_string().as_bytes());
        }
    });
    // Closes the ring has queued go out with the loop's next batches.
    for _ in 0..1_000 {
        if rt.io_stats().in_flight == 0 {
            break;
        }
        rt.block_on(brigade::sleep(std::time::Duration::from_millis(1)));
    }
    // Other tests run alongside: only descriptors of this directory count.
    let still_open: Vec<PathBuf> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.starts_with(&dir))
        .collect();
    assert!(still_open.is_empty(), "still open: {still_open:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A program that spawns a task per file carries one `fs::read` future in
/// each task: the driver's path, which takes most of the state, is boxed
/// and allocated only when taken.
#[test]
fn the_future_of_a_read_stays_small() {
    let read = fs::read(PathBuf::from("anything"));
    assert!(size_of_val(&read) <= 128, "{} bytes", size_of_val(&read));
}
