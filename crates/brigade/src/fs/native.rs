//! File operations as native io_uring operations, each one [`Op`] that
//! owns its path and buffer until the kernel completes it (see
//! [`crate::io`] for the ownership rule). Used when the loop's driver is
//! io_uring; the epoll driver runs the same operations on the blocking pool.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use io_uring::{opcode, types};

use crate::io::direct::DirectFile;
use crate::io::driver::Driver;
use crate::io::op::Op;
use crate::io::uring::Outcome;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the path contains a NUL byte"))
}

/// `openat(AT_FDCWD, path, flags | O_CLOEXEC, mode)`.
pub(crate) async fn open(
    driver: Rc<Driver>,
    path: &Path,
    flags: i32,
    mode: u32,
) -> io::Result<File> {
    let path = c_path(path)?;
    // SAFETY: the entry points only at `path`'s heap bytes, owned by the op.
    // A descriptor opened after the future is dropped is the driver's to
    // close.
    let op = unsafe {
        Op::submit_yielding(driver, path, Outcome::Fd, |path| {
            opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                .flags(flags | libc::O_CLOEXEC)
                .mode(mode)
                .build()
        })
    };
    let (result, _) = op.await;
    let fd = result? as i32;
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// `openat(AT_FDCWD, path, O_RDONLY)` into the ring's table of direct
/// descriptors (see `io/direct.rs`). `Ok(None)` when the file should be
/// opened as an ordinary descriptor instead: the ring has no table, the
/// kernel cannot choose slots (`EINVAL`, before 5.19; then never again on
/// this ring), or the table is full (`ENFILE`).
pub(crate) async fn open_direct(driver: Rc<Driver>, path: &Path) -> io::Result<Option<DirectFile>> {
    if driver.with_uring(|ring| ring.direct_available()) != Some(true) {
        return Ok(None);
    }
    let path = c_path(path)?;
    // SAFETY: the entry points only at `path`'s heap bytes, owned by the op.
    // A slot opened after the future is dropped is the driver's to close.
    // No O_CLOEXEC: a direct descriptor is never in the process's table,
    // and the kernel refuses the flag with a slot.
    let op = unsafe {
        Op::submit_yielding(driver.clone(), path, Outcome::Direct, |path| {
            opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                .flags(libc::O_RDONLY)
                .file_index(Some(types::DestinationSlot::auto_target()))
                .build()
        })
    };
    match op.await.0 {
        Ok(slot) => Ok(driver.with_uring(|ring| ring.direct_file(slot))),
        Err(e) => match e.raw_os_error() {
            Some(libc::ENFILE) => Ok(None),
            Some(libc::EINVAL) => {
                // A genuine EINVAL comes back from the ordinary open.
                driver.with_uring(|ring| ring.disable_direct());
                Ok(None)
            }
            _ => Err(e),
        },
    }
}

/// `pread` of `file` (a direct descriptor) into the spare capacity of
/// `buf` at `offset`; the bytes read extend `buf`. The op owns the file
/// while the kernel reads, so its slot is closed only after the read.
pub(crate) async fn read_direct(
    driver: Rc<Driver>,
    file: DirectFile,
    buf: Vec<u8>,
    offset: u64,
) -> (io::Result<usize>, Vec<u8>, DirectFile) {
    let start = buf.len();
    let len = (buf.capacity() - start).min(u32::MAX as usize) as u32;
    let slot = file.slot();
    // SAFETY: the entry points at `buf`'s spare heap capacity, owned by
    // the op; `start + len` stays within the allocation.
    let op = unsafe {
        Op::submit(driver, (buf, file), |(buf, _)| {
            opcode::Read::new(types::Fixed(slot), buf.as_mut_ptr().add(start), len)
                .offset(offset)
                .build()
        })
    };
    let (result, (mut buf, file)) = op.await;
    if let Ok(n) = result {
        let n = (n as usize).min(len as usize);
        // SAFETY: the kernel initialized `n` bytes after the old length,
        // within the capacity.
        unsafe { buf.set_len(start + n) };
    }
    (result.map(|n| n as usize), buf, file)
}

/// Two reads of `file` (a direct descriptor) in one go, linked: the
/// first fills `buf` from its length up to `first` bytes, and only if it
/// got them all, the second reads the rest of the capacity from the
/// file offset where the first ended (usually: finds the end at once).
/// Returns the first read's result and whether the second found the end;
/// `buf` is extended by the bytes read.
pub(crate) async fn read_direct_pair(
    driver: Rc<Driver>,
    file: DirectFile,
    buf: Vec<u8>,
    first: usize,
) -> (io::Result<usize>, bool, Vec<u8>, DirectFile) {
    let start = buf.len();
    let spare = buf.capacity() - start;
    let first = first.min(spare).min(u32::MAX as usize);
    let second = (spare - first).min(u32::MAX as usize) as u32;
    let slot = file.slot();
    let offset = start as u64;
    // SAFETY: the entries point at disjoint parts of `buf`'s spare heap
    // capacity (`start..start + first`, then up to the capacity), owned by
    // the second op, which completes only after the first is done.
    let (a, b) = unsafe {
        Op::submit_linked(driver, (buf, file), |(buf, _)| {
            let base = buf.as_mut_ptr().add(start);
            (
                opcode::Read::new(types::Fixed(slot), base, first as u32)
                    .offset(offset)
                    .build(),
                opcode::Read::new(types::Fixed(slot), base.add(first), second)
                    .offset(offset + first as u64)
                    .build(),
            )
        })
    };
    let (head, ()) = a.await;
    let (tail, (mut buf, file)) = b.await;
    let head = head.map(|n| (n as usize).min(first));
    let mut at_end = false;
    let mut len = start;
    if let Ok(n) = head {
        len += n;
        if n == first {
            if let Ok(m) = tail {
                len += (m as usize).min(second as usize);
                at_end = m == 0;
            }
        }
    }
    // SAFETY: the kernel initialized the bytes up to `len`: the first
    // read's, and the second's right after them (it read only if the first
    // was full), all within the capacity.
    unsafe { buf.set_len(len) };
    (head, at_end, buf, file)
}

/// `pread` of at most `max` bytes into the spare capacity of `buf` (after
/// its length) at `offset`; the bytes read extend `buf`. The file is kept open by the op
/// until the kernel is done with it, so its descriptor number can never be
/// reused under a queued operation.
pub(crate) async fn read_at(
    driver: Rc<Driver>,
    file: Arc<File>,
    buf: Vec<u8>,
    max: usize,
    offset: u64,
) -> (io::Result<usize>, Vec<u8>) {
    let start = buf.len();
    let len = (buf.capacity() - start).min(max).min(u32::MAX as usize) as u32;
    let fd = file.as_raw_fd();
    // SAFETY: the entry points at `buf`'s spare heap capacity, owned by
    // the op; `start + len` stays within the allocation.
    let op = unsafe {
        Op::submit(driver, (buf, Box::new(file)), |(buf, _)| {
            opcode::Read::new(types::Fd(fd), buf.as_mut_ptr().add(start), len)
                .offset(offset)
                .build()
        })
    };
    let (result, (mut buf, _file)) = op.await;
    if let Ok(n) = result {
        let n = (n as usize).min(len as usize);
        // SAFETY: the kernel initialized `n` bytes after the old length,
        // within the capacity.
        unsafe { buf.set_len(start + n) };
    }
    (result.map(|n| n as usize), buf)
}

/// `pwrite` of `buf` at `offset` (appends if the file was opened to append).
pub(crate) async fn write_at(
    driver: Rc<Driver>,
    file: Arc<File>,
    buf: Vec<u8>,
    offset: u64,
) -> (io::Result<usize>, Vec<u8>) {
    let len = buf.len().min(u32::MAX as usize) as u32;
    let fd = file.as_raw_fd();
    // SAFETY: the entry points at `buf`'s heap memory, owned by the op.
    let op = unsafe {
        Op::submit(driver, (buf, Box::new(file)), |(buf, _)| {
            opcode::Write::new(types::Fd(fd), buf.as_ptr(), len)
                .offset(offset)
                .build()
        })
    };
    let (result, (buf, _file)) = op.finish_on_drop().await;
    (result.map(|n| n as usize), buf)
}

/// `fsync` (or `fdatasync` with `data_only`).
pub(crate) async fn fsync(driver: Rc<Driver>, file: Arc<File>, data_only: bool) -> io::Result<()> {
    let fd = file.as_raw_fd();
    let flags = if data_only {
        types::FsyncFlags::DATASYNC
    } else {
        types::FsyncFlags::empty()
    };
    // SAFETY: the entry points at no memory.
    let op = unsafe {
        Op::submit(driver, Box::new(file), |_| {
            opcode::Fsync::new(types::Fd(fd)).flags(flags).build()
        })
    };
    op.finish_on_drop().await.0.map(|_| ())
}

/// `statx` of `path` (following symlinks unless `nofollow`).
pub(crate) async fn statx(
    driver: Rc<Driver>,
    path: &Path,
    nofollow: bool,
) -> io::Result<libc::statx> {
    let flags = if nofollow {
        libc::AT_SYMLINK_NOFOLLOW
    } else {
        0
    };
    statx_at(driver, None, c_path(path)?, flags).await
}

/// `statx` of an open file (`fstat`): an empty path relative to its
/// descriptor.
pub(crate) async fn statx_file(driver: Rc<Driver>, file: Arc<File>) -> io::Result<libc::statx> {
    statx_at(driver, Some(file), CString::default(), libc::AT_EMPTY_PATH).await
}

/// `statx(dir or AT_FDCWD, path, flags)`. The op owns the path, the
/// result's memory and the directory (so its descriptor stays open).
async fn statx_at(
    driver: Rc<Driver>,
    dir: Option<Arc<File>>,
    path: CString,
    flags: i32,
) -> io::Result<libc::statx> {
    let dirfd = dir.as_ref().map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: statx is plain data; all zeroes is a valid value.
    let out: Box<libc::statx> = Box::new(unsafe { std::mem::zeroed() });
    let flags = flags | libc::AT_STATX_SYNC_AS_STAT;
    // SAFETY: the entry points at `path`'s bytes and at `out`, both on the
    // heap and owned by the op; `dirfd` is AT_FDCWD or the descriptor of
    // `dir`, which the op keeps open.
    let op = unsafe {
        Op::submit(driver, ((path, out), Box::new(dir)), |((path, out), _)| {
            opcode::Statx::new(
                types::Fd(dirfd),
                path.as_ptr(),
                (&mut **out as *mut libc::statx).cast(),
            )
            .flags(flags)
            .mask(libc::STATX_BASIC_STATS | libc::STATX_BTIME)
            .build()
        })
    };
    let (result, ((_, out), _)) = op.await;
    result?;
    Ok(*out)
}

/// `mkdirat(AT_FDCWD, path, mode)`.
pub(crate) async fn mkdir(driver: Rc<Driver>, path: &Path, mode: u32) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: the entry points only at `path`'s heap bytes, owned by the op.
    let op = unsafe {
        Op::submit(driver, path, |path| {
            opcode::MkDirAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                .mode(mode)
                .build()
        })
    };
    op.await.0.map(|_| ())
}

/// `ftruncate(file, len)`; the op keeps the file open.
pub(crate) async fn ftruncate(driver: Rc<Driver>, file: Arc<File>, len: u64) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: the entry points at no memory; the op owns the file, so the
    // descriptor stays open until the completion.
    let op = unsafe {
        Op::submit(driver, Box::new(file), |_| {
            opcode::Ftruncate::new(types::Fd(fd), len).build()
        })
    };
    op.await.0.map(|_| ())
}

/// `unlinkat(AT_FDCWD, path, AT_REMOVEDIR)`: removes an empty directory.
pub(crate) async fn rmdir(driver: Rc<Driver>, path: &Path) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: the entry points only at `path`'s heap bytes, owned by the op.
    let op = unsafe {
        Op::submit(driver, path, |path| {
            opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                .flags(libc::AT_REMOVEDIR)
                .build()
        })
    };
    op.await.0.map(|_| ())
}

/// `unlinkat(AT_FDCWD, path, 0)`.
pub(crate) async fn unlink(driver: Rc<Driver>, path: &Path) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: the entry points only at `path`'s heap bytes, owned by the op.
    let op = unsafe {
        Op::submit(driver, path, |path| {
            opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr()).build()
        })
    };
    op.await.0.map(|_| ())
}
