//! The standard library, no runtime at all:
//!
//! * `std-thread` (`threads`): `std::thread::spawn` 10,000 threads, then join them;
//! * `std-fs` (`files`): blocking `std::fs::read` of every file, one after
//!   the other, on the calling thread — the baseline any concurrent reader
//!   has to beat.
//!
//! Also home of [`TempFiles`], the untimed setup of `files` shared by all
//! Rust runtimes.

use std::path::PathBuf;

use crate::measure::{Measured, Meter};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Threads, "std-thread", threads),
        Entry::run(Workload::Files, "std-fs", files),
    ]
}

fn threads() -> Measured {
    let meter = Meter::start();
    let handles: Vec<_> = (0..w::THREADS)
        .map(|i| std::thread::spawn(move || i))
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.join().expect("thread panicked");
    }
    meter.finish(sum)
}

fn files() -> Measured {
    let files = TempFiles::create();
    let meter = Meter::start();
    let contents: Vec<Vec<u8>> = files
        .paths()
        .iter()
        .map(|path| std::fs::read(path).expect("read"))
        .collect();
    let timing = meter.stop();
    timing.with_value(w::files_checksum(&contents))
}

/// The 10,000 files of `files`, in a fresh directory under
/// `std::env::temp_dir()`; the directory is removed on drop.
pub struct TempFiles {
    dir: PathBuf,
    paths: Vec<PathBuf>,
}

impl TempFiles {
    /// Creates the directory and writes every file (untimed setup).
    pub fn create() -> TempFiles {
        let dir = std::env::temp_dir().join(format!("brigade-bench-files-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove stale temp dir");
        }
        std::fs::create_dir(&dir).expect("create temp dir");
        let block = w::files_block();
        let paths = (0..w::FILES)
            .map(|i| {
                let path = dir.join(format!("f{i:05}.bin"));
                std::fs::write(&path, w::file_contents(&block, i)).expect("write temp file");
                path
            })
            .collect();
        // Write the new files back now, untimed, so that the kernel's
        // writeback does not compete with the measured reads.
        // SAFETY: sync has no arguments and cannot fail.
        unsafe { libc::sync() };
        TempFiles { dir, paths }
    }

    /// The files, in index order.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
