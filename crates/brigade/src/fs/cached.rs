//! [`read`](super::read)'s fast path: a file the kernel already holds in
//! memory is read in place, on the loop, without the ring.
//!
//! # Why
//!
//! Read through the ring, a small file takes three operations (open, read,
//! and the read that finds the end), each a completion to reap and a wake
//! of the reading task, with a turn of the loop in between. And where the
//! filesystem cannot promise a read that does not wait (tmpfs refuses
//! `RWF_NOWAIT` on Linux 6.18, where this was measured), io_uring hands
//! every read to one of its worker threads, whose completion interrupts
//! the loop's core. Reading what is already in memory right away costs a system call
//! per step and nothing else. On `bench/`'s `files` rows (10,000 files of
//! 4 KiB) this took one loop from about 1.45× the time of std's single
//! thread on tmpfs to about par with it, and two loops to about par with
//! std's thread per core (BENCHMARKS.md has the figures and the command).
//!
//! # Never waiting
//!
//! The fast path must not stall the loop, so nothing in it waits for a
//! device:
//!
//! * the open consults only the kernel's caches (`openat2` with
//!   `RESOLVE_CACHED`), and is non-blocking, so a FIFO does not wait for a
//!   writer: io_uring's own attempt at an open without waiting, which it
//!   makes on the loop's thread too (a filesystem whose open talks to a
//!   server, NFS or FUSE, may still wait there; see
//!   `Builder::read_files_in_place`);
//! * `fstat` of an open file reads its inode, already in memory;
//! * reads take only what the page cache holds (`RWF_NOWAIT`), except on a
//!   filesystem that keeps its files in memory (tmpfs, ramfs), whose reads
//!   never wait for a device;
//! * only regular files of at most [`MOST`] bytes are read this way, so a
//!   large file cannot hold the loop for long.
//!
//! Whenever a step would wait, or the file is not such a file, the fast
//! path closes what it opened and gives up: [`read`](super::read) then
//! takes the ring's path from the start. What it read is dropped; a file
//! given up on is one whose reading waits for a device anyway, next to
//! which an extra open and close are small.

use std::cell::RefCell;
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::sys::fs::{self as sys_fs, Nowait};

/// The largest file read on the fast path: a copy of this much from memory
/// holds the loop for tens of microseconds.
pub(crate) const MOST: usize = 1 << 20;

/// Reads the whole file at `path` if it is a regular file of at most
/// [`MOST`] bytes that is already in memory. `Ok(None)`: take the ring's
/// path. Errors are the open's (`ENOENT`, `EACCES`, ...), with the call
/// that failed.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, (&'static str, io::Error)> {
    let fd = match with_c_path(path, sys_fs::open_cached) {
        Ok(Some(fd)) => fd,
        Ok(None) => return Ok(None),
        // Out of descriptors: the driver's path may still open the file,
        // in the ring's own table (see `io/direct.rs`).
        Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
            return Ok(None);
        }
        Err(e) => return Err(("open", e)),
    };
    let file = File::from(fd);
    let Ok(meta) = file.metadata() else {
        return Ok(None);
    };
    if !meta.is_file() || meta.len() > MOST as u64 {
        return Ok(None);
    }
    let size = meta.len() as usize;
    let read = read_in_memory(&file, size, meta.dev());
    // Closed now, not with the ring's next batch: every task reading a
    // cached file finishes within the same turn of the loop, and thousands
    // of descriptors left open until its end would make the kernel grow
    // the process's descriptor table (waiting for RCU each time).
    drop(file);
    // A read that failed is left to the driver's path, which reports its
    // own error (the fast path gives up rather than answer differently).
    Ok(read.ok().flatten())
}

/// Calls `f` with `path` as a C string, kept on the stack when it is
/// short (as std does), so that the fast path allocates only its result.
fn with_c_path<T>(path: &Path, f: impl FnOnce(&CStr) -> io::Result<T>) -> io::Result<T> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let mut on_stack = [0u8; 384];
    if bytes.len() < on_stack.len() {
        on_stack[..bytes.len()].copy_from_slice(bytes);
        let c = CStr::from_bytes_with_nul(&on_stack[..=bytes.len()])
            .map_err(|_| super::native::nul_in_path())?;
        return f(c);
    }
    f(&super::native::c_path(path)?)
}

/// Reads `file` (of `size` bytes, on device `dev`) to its end, or `None`
/// as soon as a read would wait for a device.
fn read_in_memory(file: &File, size: usize, dev: u64) -> io::Result<Option<Vec<u8>>> {
    // One more byte than the size: a read that returns less than it asked
    // for has met the end of a regular file, which spares the read that
    // would only say so.
    let mut buf = Vec::with_capacity(size + 1);
    // On a filesystem already known to keep its files in memory, the
    // `RWF_NOWAIT` read would only be refused again: one system call saved
    // per file.
    let mut plain = known_in_memory(dev) == Some(true);
    loop {
        if buf.len() == buf.capacity() {
            if buf.len() > MOST {
                // It grew past what the fast path reads.
                return Ok(None);
            }
            buf.reserve(4096);
        }
        let asked = buf.capacity() - buf.len();
        let offset = buf.len() as u64;
        let n = if plain {
            sys_fs::read_at(file.as_fd(), &mut buf, asked, offset)?
        } else {
            match sys_fs::read_nowait(file.as_fd(), &mut buf, asked, offset)? {
                Nowait::Read(n) => n,
                Nowait::WouldBlock => return Ok(None),
                Nowait::Unsupported if in_memory(file, dev) => {
                    plain = true;
                    continue;
                }
                Nowait::Unsupported => return Ok(None),
            }
        };
        if n == 0 || (n < asked && buf.len() >= size) {
            return Ok(Some(buf));
        }
    }
}

thread_local! {
    /// Per device, whether its filesystem keeps files in memory: asked
    /// once per device and loop thread (a device's filesystem does not
    /// change while it is mounted).
    static IN_MEMORY: RefCell<Vec<(u64, bool)>> = const { RefCell::new(Vec::new()) };
}

/// What this thread has learnt about device `dev`: whether its filesystem
/// keeps its files in memory, if it has asked.
fn known_in_memory(dev: u64) -> Option<bool> {
    IN_MEMORY.with(|m| m.borrow().iter().find(|(d, _)| *d == dev).map(|(_, k)| *k))
}

/// Whether `file`'s filesystem (on device `dev`) keeps its files in memory.
fn in_memory(file: &File, dev: u64) -> bool {
    if let Some(known) = known_in_memory(dev) {
        return known;
    }
    let Ok(answer) = sys_fs::in_memory(file.as_fd()) else {
        return false;
    };
    IN_MEMORY.with(|m| m.borrow_mut().push((dev, answer)));
    answer
}
