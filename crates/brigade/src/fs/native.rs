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

use io_uring::{opcode, squeue, types};

use crate::io::direct::DirectFile;
use crate::io::driver::Driver;
use crate::io::op::{Op, StableBuf};
use crate::io::uring::Outcome;

pub(crate) fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| nul_in_path())
}

/// The error of a path that no system call can take.
pub(crate) fn nul_in_path() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "the path contains a NUL byte")
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

/// The first read of [`open_and_read_direct`]'s chain asks for this many
/// bytes (a page), into the buffer the caller gets; the read after it asks
/// for one byte more, into the same buffer just past them. The caller may
/// keep many results, and every byte of capacity they hold costs page
/// faults. With glibc's `malloc` a page plus one byte takes the same
/// 4,112-byte chunk as a page alone, so the probe costs no memory
/// (measured on `bench/`'s `files`, two loops: 12 + 4 KiB was ~15% slower
/// than 4 + 1 KiB, and a separate 1 KiB probe ~5% slower than this byte).
const CHAIN_FIRST: usize = 4 * 1024;

/// A file opened into a direct slot, and what the chain read of it.
pub(crate) struct DirectRead {
    pub(crate) file: DirectFile,
    /// The file's first bytes, in order.
    pub(crate) buf: Vec<u8>,
    /// Whether a read already found the end: `buf` is the whole file.
    pub(crate) at_end: bool,
}

/// Opens `path` (read-only) into a free slot of the ring's direct table
/// (see `io/direct.rs`) and reads it, as one chain in one batch: the
/// `OPENAT` into the slot, linked to a read of up to 4 KiB from the
/// file's position, hard-linked (whatever its count) to a read of one
/// byte more from where the first ended. A small file is then opened,
/// read and known to be at its end in a single turn of the loop, with no
/// `statx` (which the kernel cannot do without a worker thread, and not
/// on a direct descriptor at all). A failed open cancels both reads.
///
/// `Ok(None)` when there is no free slot or no table, or when this is the
/// process's only ring (see `io/direct.rs`): the caller opens an ordinary
/// descriptor. Errors say which call failed.
pub(crate) async fn open_and_read_direct(
    driver: Rc<Driver>,
    path: &Path,
) -> Result<Option<DirectRead>, (&'static str, io::Error)> {
    if !crate::io::direct::several_rings() {
        return Ok(None);
    }
    let path = c_path(path).map_err(|e| ("open", e))?;
    // A chain is submitted whole: it waits for room among the orphans here.
    crate::io::op::room(&driver).await;
    let slot = driver
        .with_uring(|ring| {
            if ring.direct_available() {
                ring.acquire_direct()
            } else {
                None
            }
        })
        .flatten();
    let Some(slot) = slot else {
        return Ok(None);
    };
    let target = types::DestinationSlot::try_from_slot_target(slot)
        .map_err(|_| ("open", io::Error::other("direct slot out of range")))?;
    let buf: Vec<u8> = Vec::with_capacity(CHAIN_FIRST + 1);
    // SAFETY: the entries point at `path`'s heap bytes and at `buf`'s heap
    // capacity (`CHAIN_FIRST + 1` bytes: the first read's and the probe's),
    // both owned by the last op, which completes after the other two (the
    // chain is linked). No
    // O_CLOEXEC: a direct descriptor is never in the process's table, and
    // the kernel refuses the flag with a slot. Offset -1: the file's
    // position, so the second read starts where the first ended.
    let (heads, last) = unsafe {
        Op::submit_chain(driver.clone(), (path, buf), |(path, buf)| {
            let base = buf.as_mut_ptr();
            let open = opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                .flags(libc::O_RDONLY)
                .file_index(Some(target))
                .build()
                .flags(squeue::Flags::IO_LINK);
            let read = opcode::Read::new(types::Fixed(slot), base, CHAIN_FIRST as u32)
                .offset(u64::MAX)
                .build()
                .flags(squeue::Flags::IO_HARDLINK);
            // One byte past the first read's room, within the capacity.
            let probe = opcode::Read::new(types::Fixed(slot), base.add(CHAIN_FIRST), 1)
                .offset(u64::MAX)
                .build();
            (
                [(open, Outcome::Direct(slot)), (read, Outcome::Plain)],
                (probe, Outcome::Plain),
            )
        })
    };
    let [open, read] = heads;
    let (opened, ()) = open.await;
    let (first, ()) = read.await;
    let (second, (_path, mut buf)) = last.await;
    if let Err(e) = opened {
        // The driver took the slot back when the open failed.
        if e.raw_os_error() == Some(libc::EINVAL) {
            // This kernel cannot open into a chosen slot (before 5.15); a
            // genuine EINVAL comes back from the ordinary open.
            driver.with_uring(|ring| ring.disable_direct());
            return Ok(None);
        }
        return Err(("open", e));
    }
    let file = driver
        .with_uring(|ring| ring.direct_file(slot))
        .expect("an io_uring driver");
    let n = (first.map_err(|e| ("read", e))? as usize).min(CHAIN_FIRST);
    // The probe's byte follows the first read's only if that one filled
    // its room; after a short read (a file growing, or a file system that
    // returns less than it has) it is dropped, and reading goes on at `n`.
    let (len, at_end) = match second {
        Ok(0) => (n, true),
        Ok(_) if n == CHAIN_FIRST => (n + 1, false),
        // A short first read then a byte, or the probe failed after a
        // full first read: read on from `n`.
        Ok(_) | Err(_) => (n, false),
    };
    // SAFETY: the kernel initialized the first `n` bytes of `buf` and, when
    // the first read filled them, the probe's byte after them; all within
    // the capacity.
    unsafe { buf.set_len(len) };
    Ok(Some(DirectRead { file, buf, at_end }))
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
    let slot = file.slot();
    // SAFETY: a read of at most `len` bytes at `at`, from a slot `file`
    // keeps open.
    let (op, room) = unsafe {
        submit_read_spare(driver, buf, usize::MAX, file, |at, len| {
            opcode::Read::new(types::Fixed(slot), at, len)
                .offset(offset)
                .build()
        })
    };
    let (result, (mut buf, file)) = op.await;
    (room.extend(&mut buf, result), buf, file)
}

/// `pread` of at most `max` bytes into the spare capacity of `buf` (after
/// its length) at `offset`; the bytes read extend `buf`. The file is kept
/// open by the op until the kernel is done with it, so its descriptor
/// number can never be reused under a queued operation.
pub(crate) async fn read_at(
    driver: Rc<Driver>,
    file: Arc<File>,
    buf: Vec<u8>,
    max: usize,
    offset: u64,
) -> (io::Result<usize>, Vec<u8>) {
    let fd = file.as_raw_fd();
    // SAFETY: a read of at most `len` bytes at `at`, from a descriptor
    // `file` keeps open.
    let (op, room) = unsafe {
        submit_read_spare(driver, buf, max, Box::new(file), |at, len| {
            opcode::Read::new(types::Fd(fd), at, len)
                .offset(offset)
                .build()
        })
    };
    let (result, (mut buf, _file)) = op.await;
    (room.extend(&mut buf, result), buf)
}

/// Where a read into a buffer's spare capacity writes: after `start`
/// bytes, at most `len` of them.
struct Room {
    start: usize,
    len: u32,
}

impl Room {
    /// Extends `buf` by the bytes the kernel read into the room.
    fn extend(&self, buf: &mut Vec<u8>, result: io::Result<u32>) -> io::Result<usize> {
        let n = (result? as usize).min(self.len as usize);
        // SAFETY: the kernel initialized `n` bytes after the old length
        // (`start`), within the capacity (`start + len` is).
        unsafe { buf.set_len(self.start + n) };
        Ok(n)
    }
}

/// Submits the read `entry` builds for the spare capacity of `buf` (a
/// pointer just past its length, and at most `max` bytes); `keep` (the
/// file) belongs to the op until the completion. Plain, not `async`: the
/// callers' futures stay as small as if each built its own entry.
///
/// # Safety
/// The entry must write at most the given length at the given pointer,
/// and otherwise refer only to memory `keep` owns (as for [`Op::submit`]).
unsafe fn submit_read_spare<K: StableBuf>(
    driver: Rc<Driver>,
    buf: Vec<u8>,
    max: usize,
    keep: K,
    entry: impl FnOnce(*mut u8, u32) -> squeue::Entry,
) -> (Op<(Vec<u8>, K)>, Room) {
    let start = buf.len();
    let len = (buf.capacity() - start).min(max).min(u32::MAX as usize) as u32;
    // SAFETY: the entry writes at most `len` bytes into `buf`'s spare heap
    // capacity (`start + len` stays within the allocation), owned by the
    // op, and refers to nothing else but what `keep` owns (the caller's
    // promise).
    let op = unsafe {
        Op::submit(driver, (buf, keep), |(buf, _)| {
            entry(buf.as_mut_ptr().add(start), len)
        })
    };
    (op, Room { start, len })
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
