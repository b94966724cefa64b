//! System calls for shared memory: anonymous memory files (`memfd`),
//! seals, mappings, and open-file-description locks; and how much freed
//! memory the C allocator keeps.
//!
//! A memory file has no name in any directory, so no other user can reach
//! it; it travels between processes only as a descriptor.
//!
//! ```ignore
//! let fd = sys::memory::memfd(c"data", 4096)?;
//! let ptr = sys::memory::mmap_shared(fd.as_fd(), 4096)?;
//! ```

use std::ffi::{CStr, CString, c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::ptr;

use super::{cvt, owned};

/// An anonymous memory file of `len` bytes (never visible in any
/// directory), `CLOEXEC`.
pub(crate) fn memfd(name: &CStr, len: usize) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid C string.
    let fd = owned(cvt(unsafe {
        libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC)
    })?);
    // SAFETY: ftruncate on a valid descriptor.
    cvt(unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) })?;
    Ok(fd)
}

/// A memory file for one message: sealable, so that once written it can
/// be frozen with [`seal`].
pub(crate) fn sealable_memfd(name: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid C string.
    let fd = cvt(unsafe {
        libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
    })?;
    Ok(owned(fd))
}

const SEALS: c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// Freezes a memory file: no one, the sender included, can change its
/// size or contents any more.
pub(crate) fn seal(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_ADD_SEALS on a valid descriptor.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, SEALS) })?;
    Ok(())
}

/// Whether a memory file has been frozen by [`seal`].
pub(crate) fn is_sealed(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: F_GET_SEALS on a valid descriptor.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    seals != -1 && seals & SEALS == SEALS
}

const SIZE_SEALS: c_int = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW;

/// An anonymous memory file of `len` bytes whose size is sealed: no one
/// can shrink it (so no mapping of it can fault past its end, `SIGBUS`),
/// grow it, or change the seals; its contents stay writable. `CLOEXEC`.
pub(crate) fn fixed_size_memfd(name: &CStr, len: usize) -> io::Result<OwnedFd> {
    let fd = sealable_memfd(name)?;
    // SAFETY: ftruncate on a valid descriptor.
    cvt(unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) })?;
    // SAFETY: F_ADD_SEALS on a valid descriptor.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, SIZE_SEALS) })?;
    Ok(fd)
}

/// Whether no one can shrink the file behind `fd` any more (it is a
/// memory file sealed against it, as [`fixed_size_memfd`] makes them).
pub(crate) fn is_fixed_size(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: F_GET_SEALS on a valid descriptor.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    seals != -1 && seals & libc::F_SEAL_SHRINK != 0
}

/// The size of the file behind `fd`.
pub(crate) fn file_len(fd: BorrowedFd<'_>) -> io::Result<usize> {
    // SAFETY: fstat fills a zeroed stat structure.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out-pointer.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(st.st_size as usize)
}

/// How many bytes of storage the file behind `fd` holds (`st_blocks`, in
/// 512-byte units). A sparse file holds less than its size: its holes cost
/// whoever made it nothing.
pub(crate) fn file_stored_bytes(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // SAFETY: fstat fills a zeroed stat structure.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out-pointer.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok((st.st_blocks as u64).saturating_mul(512))
}

/// Maps `len` bytes of `fd` shared and read-write. `len` must be non-zero.
pub(crate) fn mmap_shared(fd: BorrowedFd<'_>, len: usize) -> io::Result<*mut u8> {
    // SAFETY: a fresh mapping chosen by the kernel; it aliases nothing of
    // ours.
    let ptr = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(ptr.cast::<u8>())
}

/// Unmaps what [`mmap_shared`] mapped.
///
/// # Safety
/// `ptr` and `len` come from one `mmap_shared` call, and no reference into
/// the mapping outlives this call.
pub(crate) unsafe fn munmap(ptr: *mut u8, len: usize) {
    // SAFETY: the caller's contract.
    unsafe { libc::munmap(ptr.cast::<c_void>(), len) };
}

/// Takes (or, with `unlock`, releases) an open-file-description lock on
/// the whole file: shared if `shared`, else exclusive. Blocks until granted.
/// The kernel releases it when the description is closed, so a process
/// that dies holding it frees it.
pub(crate) fn ofd_lock(fd: BorrowedFd<'_>, shared: bool, unlock: bool) -> io::Result<()> {
    // SAFETY: a zeroed flock is valid; the fields are set below.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = if unlock {
        libc::F_UNLCK
    } else if shared {
        libc::F_RDLCK
    } else {
        libc::F_WRLCK
    } as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    loop {
        // SAFETY: F_OFD_SETLKW reads one flock structure.
        let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLKW, &fl) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A new open file description of the file behind `fd` (through
/// `/proc/self/fd`), so that its locks are its own.
pub(crate) fn reopen(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let path = CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no nul");
    // SAFETY: a valid path; open returns a new descriptor.
    let new = cvt(unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) })?;
    Ok(owned(new))
}

/// Asks the C allocator to keep up to `keep` bytes of freed heap for the
/// next allocations instead of returning it to the kernel at once (glibc's
/// `M_TRIM_THRESHOLD`), and to serve blocks below `keep / 2` from that heap
/// rather than from mappings of their own (`M_MMAP_THRESHOLD`). Memory
/// given back and taken again costs a page fault per 4 KiB page; a process
/// that runs task after task of the same size would otherwise pay them on
/// every task. Returns whether the allocator took both settings (a C
/// library other than glibc may ignore them).
pub(crate) fn keep_freed_heap(keep: usize) -> bool {
    let keep = c_int::try_from(keep).unwrap_or(c_int::MAX);
    // SAFETY: mallopt only changes the allocator's tunables; any value is
    // accepted or refused (returning 0), never undefined.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, keep) == 1
            && libc::mallopt(libc::M_MMAP_THRESHOLD, keep / 2) == 1
    }
}
