//! System calls that read a file only when that cannot wait for a device:
//! an open that consults nothing but the kernel's caches, reads that take
//! only what the page cache holds, and the question whether a filesystem
//! keeps its files in memory.
//!
//! ```ignore
//! let fd = sys::fs::open_cached(c"/etc/hostname")?; // None: not cached
//! ```

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::fd::{cvt, cvt_size, owned, retry};

/// The kernel's `struct open_how` (libc's cannot be built field by field).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// ramfs's `f_type` (libc has tmpfs's but not this one).
const RAMFS_MAGIC: libc::c_long = 0x8584_58f6;

/// Set once the kernel has said it has no `openat2` (before Linux 5.6) or
/// no `RESOLVE_CACHED` (before 5.12): no use asking again.
static NO_CACHED_OPEN: AtomicBool = AtomicBool::new(false);

/// Opens `path` read-only, close-on-exec and non-blocking if the kernel
/// can resolve every component from its caches (`openat2` with
/// `RESOLVE_CACHED`), so that the call never waits for a disk (nor, being
/// non-blocking, for the writer of a FIFO). `Ok(None)` when it would have
/// to wait, or when the kernel cannot tell; other errors (`ENOENT`,
/// `EACCES`, ...) are the open's answer. Reads of a regular file ignore
/// `O_NONBLOCK`.
pub(crate) fn open_cached(path: &CStr) -> io::Result<Option<OwnedFd>> {
    if NO_CACHED_OPEN.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let how = OpenHow {
        flags: (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK) as u64,
        mode: 0,
        resolve: libc::RESOLVE_CACHED,
    };
    // SAFETY: `path` is a C string and `how` a valid `struct open_how` of
    // the size passed; the kernel reads both and writes nothing.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            path.as_ptr(),
            &how as *const OpenHow,
            size_of::<OpenHow>(),
        )
    };
    if ret >= 0 {
        return Ok(Some(owned(ret as libc::c_int)));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) => Ok(None),
        // No openat2, or a `resolve` flag it does not know: the ring's
        // open answers instead (and reports a genuine error again).
        Some(libc::ENOSYS | libc::E2BIG | libc::EINVAL) => {
            NO_CACHED_OPEN.store(true, Ordering::Relaxed);
            Ok(None)
        }
        _ => Err(e),
    }
}

/// What a read that may not wait found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Nowait {
    /// This many bytes were read (0 at the end of the file).
    Read(usize),
    /// The bytes are not in memory: reading them would wait for a device.
    WouldBlock,
    /// The file's filesystem cannot promise not to wait (`RWF_NOWAIT` is
    /// refused, as tmpfs does before Linux 6.x): the caller decides.
    Unsupported,
}

/// `preadv2(RWF_NOWAIT)` of at most `max` bytes at `offset` into the spare
/// capacity of `buf`, which the bytes read extend.
pub(crate) fn read_nowait(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    offset: u64,
) -> io::Result<Nowait> {
    match read_spare(fd, buf, max, offset, libc::RWF_NOWAIT) {
        Ok(n) => Ok(Nowait::Read(n)),
        Err(e) => match e.raw_os_error() {
            Some(libc::EAGAIN) => Ok(Nowait::WouldBlock),
            Some(libc::EOPNOTSUPP) => Ok(Nowait::Unsupported),
            _ => Err(e),
        },
    }
}

/// `pread` of at most `max` bytes at `offset` into the spare capacity of
/// `buf`, which the bytes read extend. It may wait: only for a file whose
/// filesystem keeps it in memory (see [`in_memory`]).
pub(crate) fn read_at(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    offset: u64,
) -> io::Result<usize> {
    read_spare(fd, buf, max, offset, 0)
}

fn read_spare(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    offset: u64,
    flags: libc::c_int,
) -> io::Result<usize> {
    let start = buf.len();
    let len = (buf.capacity() - start).min(max);
    let iov = libc::iovec {
        iov_base: buf.spare_capacity_mut().as_mut_ptr().cast(),
        iov_len: len,
    };
    let n = retry(|| {
        // SAFETY: the kernel writes at most `len` bytes at `iov_base`, which
        // is `buf`'s spare capacity.
        cvt_size(unsafe { libc::preadv2(fd.as_raw_fd(), &iov, 1, offset as libc::off_t, flags) })
    })?;
    // SAFETY: the kernel initialized `n <= len` bytes after the length,
    // within the capacity.
    unsafe { buf.set_len(start + n.min(len)) };
    Ok(n)
}

/// Whether the file's filesystem holds its files in memory (tmpfs, ramfs),
/// so that reading one never waits for a device.
pub(crate) fn in_memory(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: statfs is plain integers, for which all zeroes is valid.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatfs writes only into the struct it is given.
    cvt(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut fs) })?;
    Ok(fs.f_type == libc::TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn scratch(dir: &str, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        // A directory per test: tests run side by side in one process.
        let dir =
            std::path::Path::new(dir).join(format!("brigade-sys-fs-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn c(path: &std::path::Path) -> std::ffi::CString {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap()
    }

    #[test]
    fn a_file_just_written_opens_from_the_caches_and_reads_whole() {
        let path = scratch(
            &std::env::temp_dir().to_string_lossy(),
            "cached",
            b"brigade",
        );
        let fd = open_cached(&c(&path))
            .unwrap()
            .expect("just written: cached");
        let mut buf = Vec::with_capacity(64);
        // The page cache holds what was just written, unless the
        // filesystem cannot promise a read without waiting.
        match read_nowait(fd.as_fd(), &mut buf, 64, 0).unwrap() {
            Nowait::Read(n) => {
                assert_eq!(n, 7);
                assert_eq!(buf, b"brigade");
            }
            Nowait::Unsupported => {
                assert_eq!(read_at(fd.as_fd(), &mut buf, 64, 0).unwrap(), 7);
                assert_eq!(buf, b"brigade");
            }
            Nowait::WouldBlock => panic!("just written, yet not in memory"),
        }
        // At the end: nothing more.
        assert_eq!(read_at(fd.as_fd(), &mut buf, 64, 7).unwrap(), 0);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_missing_file_is_the_opens_error_not_a_miss() {
        let path = scratch(&std::env::temp_dir().to_string_lossy(), "present", b"");
        let missing = path.with_file_name("absent");
        // A lookup leaves the kernel a cached "no such file" (a negative
        // dentry), which the cached open answers from.
        assert!(std::fs::metadata(&missing).is_err());
        let e = open_cached(&c(&missing)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn dev_shm_is_in_memory_and_proc_is_not() {
        let path = scratch("/dev/shm", "mem", b"x");
        let file = std::fs::File::open(&path).unwrap();
        assert!(in_memory(file.as_fd()).unwrap());
        let proc = std::fs::File::open("/proc/self/status").unwrap();
        assert!(!in_memory(proc.as_fd()).unwrap());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn reads_fill_only_the_spare_capacity_asked_for() {
        let path = scratch("/dev/shm", "spare", b"0123456789");
        let file = std::fs::File::open(&path).unwrap();
        let mut buf = b"ab".to_vec();
        buf.reserve(100);
        assert_eq!(read_at(file.as_fd(), &mut buf, 4, 3).unwrap(), 4);
        assert_eq!(buf, b"ab3456");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
