//! System calls for child processes: private socketpairs, `posix_spawn`,
//! pidfds, `waitpid`, signals, descriptor passing and shared memory.
//!
//! Every descriptor made here has `CLOEXEC` set from birth (the `*_CLOEXEC`
//! flags, never a later `fcntl`), so that a process started concurrently by
//! another thread cannot inherit it. The one descriptor a child needs is
//! handed over by `posix_spawn`'s file actions, which run in the child only.
//!
//! ```ignore
//! let (a, b) = sys::process::seqpacket_pair()?;
//! sys::process::send(&a, b"hi", &[])?;
//! ```

use std::ffi::{CStr, CString, c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::time::{Duration, Instant};

/// Returns the error of the last call if `ret` is -1.
fn check(ret: c_int) -> io::Result<c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wraps a descriptor that a successful call has just returned.
fn owned(fd: c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel to this call and nothing
    // else holds it, so ownership is ours to take.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A connected pair of `AF_UNIX` `SOCK_SEQPACKET` sockets: every `send` is
/// delivered whole by one `recv`, so several readers never split a message.
pub(crate) fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is a valid, writable array of two ints.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// `dup` with `CLOEXEC`.
pub(crate) fn dup(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a valid descriptor only allocates a new one.
    let new = check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) })?;
    Ok(owned(new))
}

/// Sets `CLOEXEC` on a descriptor this process inherited without it.
pub(crate) fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_SETFD on a valid descriptor changes only its flags.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    Ok(())
}

/// Starts `exe` with `argv` and `envp`; in the child, `child_fd` becomes
/// descriptor 3 (without `CLOEXEC`) and every descriptor above 3 is closed,
/// so the child holds its stdio and its channel and nothing else.
///
/// `posix_spawn` is safe to call from a multithreaded process: glibc runs
/// the file actions in a `vfork`-like child that calls nothing but
/// async-signal-safe functions before `execve`.
pub(crate) fn spawn(
    exe: &CStr,
    argv: &[CString],
    envp: &[CString],
    child_fd: BorrowedFd<'_>,
) -> io::Result<libc::pid_t> {
    let mut argv_ptrs: Vec<*mut libc::c_char> =
        argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv_ptrs.push(ptr::null_mut());
    let mut envp_ptrs: Vec<*mut libc::c_char> =
        envp.iter().map(|e| e.as_ptr().cast_mut()).collect();
    envp_ptrs.push(ptr::null_mut());

    let mut actions = std::mem::MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
    // SAFETY: init writes the whole structure; it is destroyed below.
    let rc = unsafe { libc::posix_spawn_file_actions_init(actions.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    let mut attr = std::mem::MaybeUninit::<libc::posix_spawnattr_t>::uninit();
    // SAFETY: as above, for the attributes.
    let rc = unsafe { libc::posix_spawnattr_init(attr.as_mut_ptr()) };
    if rc != 0 {
        // SAFETY: `actions` was initialized above.
        unsafe { libc::posix_spawn_file_actions_destroy(actions.as_mut_ptr()) };
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: both structures are initialized; the pointers in argv_ptrs and
    // envp_ptrs point into CStrings that outlive the call, and both arrays
    // end with a null pointer. dup2 of a descriptor onto itself clears its
    // CLOEXEC flag (glibc >= 2.29), which is what the child needs.
    unsafe {
        let a = actions.as_mut_ptr();
        let at = attr.as_mut_ptr();
        let mut rc = libc::posix_spawn_file_actions_adddup2(a, child_fd.as_raw_fd(), 3);
        if rc == 0 {
            rc = libc::posix_spawn_file_actions_addclosefrom_np(a, 4);
        }
        // The child starts with an empty signal mask whatever the mask of
        // the thread that started it.
        let mut empty = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut empty);
        if rc == 0 {
            rc = libc::posix_spawnattr_setsigmask(at, &empty);
        }
        if rc == 0 {
            rc = libc::posix_spawnattr_setflags(at, libc::POSIX_SPAWN_SETSIGMASK as _);
        }
        let mut pid: libc::pid_t = 0;
        if rc == 0 {
            rc = libc::posix_spawn(
                &mut pid,
                exe.as_ptr(),
                a,
                at,
                argv_ptrs.as_ptr(),
                envp_ptrs.as_ptr(),
            );
        }
        libc::posix_spawn_file_actions_destroy(a);
        libc::posix_spawnattr_destroy(at);
        if rc == 0 {
            Ok(pid)
        } else {
            Err(io::Error::from_raw_os_error(rc))
        }
    }
}

/// A descriptor that becomes readable when process `pid` exits.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // (always CLOEXEC).
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    check(fd as c_int)?;
    Ok(owned(fd as c_int))
}

/// Sends `signal` to the process behind `pidfd`. A pidfd cannot name a
/// recycled pid, so this never signals a stranger.
pub(crate) fn pidfd_kill(pidfd: BorrowedFd<'_>, signal: c_int) -> io::Result<()> {
    // SAFETY: pidfd_send_signal with a null info and no flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    check(rc as c_int)?;
    Ok(())
}

/// How a process ended, as `waitpid` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// `exit(code)`.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Status {
    pub(crate) fn from_raw(raw: c_int) -> Status {
        if libc::WIFSIGNALED(raw) {
            Status::Signal(libc::WTERMSIG(raw))
        } else {
            Status::Code(libc::WEXITSTATUS(raw))
        }
    }
}

/// Reaps child `pid`, blocking if `block`; `None` if it still runs.
pub(crate) fn wait(pid: libc::pid_t, block: bool) -> io::Result<Option<Status>> {
    let flags = if block { 0 } else { libc::WNOHANG };
    loop {
        let mut raw: c_int = 0;
        // SAFETY: `raw` is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut raw, flags) };
        match rc {
            -1 => {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            0 => return Ok(None),
            _ => return Ok(Some(Status::from_raw(raw))),
        }
    }
}

/// Waits until `fd` is readable (or hung up) or `timeout` passes; returns
/// whether it is. `None` waits for ever.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so that a short wait never becomes a busy loop.
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as c_int
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        match rc {
            -1 => {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
            0 => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(false);
                }
            }
            _ => return Ok(true),
        }
    }
}

/// Blocks until the peer of `fd` has closed its end (`POLLHUP`).
pub(crate) fn wait_hangup(fd: BorrowedFd<'_>) {
    loop {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, -1) };
        if rc > 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            return;
        }
    }
}

/// Most descriptors one message carries (the kernel's `SCM_MAX_FD` is 253).
pub(crate) const MAX_FDS: usize = 64;

/// Sends one message with `fds` attached; never raises `SIGPIPE`.
/// `nonblocking` turns a full socket buffer into `WouldBlock`.
pub(crate) fn send(
    fd: BorrowedFd<'_>,
    bytes: &[u8],
    fds: &[RawFd],
    nonblocking: bool,
) -> io::Result<()> {
    if fds.len() > MAX_FDS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many descriptors in one message",
        ));
    }
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr().cast_mut().cast::<c_void>(),
        iov_len: bytes.len(),
    };
    let mut control = [0u64; 64];
    // SAFETY: zeroed msghdr is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let payload = std::mem::size_of_val(fds) as u32;
        // SAFETY: CMSG_SPACE is arithmetic; `control` (512 bytes) holds the
        // space for MAX_FDS descriptors (24 + 256 bytes), and the cmsg
        // pointer returned by CMSG_FIRSTHDR points into it.
        unsafe {
            msg.msg_control = control.as_mut_ptr().cast::<c_void>();
            msg.msg_controllen = libc::CMSG_SPACE(payload) as usize;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as usize;
            ptr::copy_nonoverlapping(
                fds.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                payload as usize,
            );
        }
    }
    let mut flags = libc::MSG_NOSIGNAL;
    if nonblocking {
        flags |= libc::MSG_DONTWAIT;
    }
    loop {
        // SAFETY: `msg` points at `iov` and `control`, both alive.
        let rc = unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, flags) };
        if rc >= 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// What one `recv` returned.
pub(crate) struct Received {
    /// Bytes written into the buffer; 0 means the peer has closed.
    pub(crate) len: usize,
    /// The message did not fit the buffer and was cut.
    pub(crate) truncated: bool,
    /// Descriptors that came with it (CLOEXEC).
    pub(crate) fds: Vec<OwnedFd>,
}

/// Receives one message into `buf`. `nonblocking` turns "nothing yet" into
/// `WouldBlock`.
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], nonblocking: bool) -> io::Result<Received> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast::<c_void>(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 64];
    // SAFETY: zeroed msghdr is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast::<c_void>();
    msg.msg_controllen = std::mem::size_of_val(&control);
    let mut flags = libc::MSG_CMSG_CLOEXEC;
    if nonblocking {
        flags |= libc::MSG_DONTWAIT;
    }
    let len = loop {
        // SAFETY: `msg` points at `iov` (into `buf`) and `control`.
        let rc = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, flags) };
        if rc >= 0 {
            break rc as usize;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: the kernel filled `control` up to msg_controllen; the CMSG
    // macros walk only inside it, and each SCM_RIGHTS payload is an array of
    // descriptors now owned by this process.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg);
                let bytes = (*cmsg).cmsg_len - (data as usize - cmsg as usize);
                let n = bytes / std::mem::size_of::<c_int>();
                for i in 0..n {
                    let raw = ptr::read_unaligned(data.cast::<c_int>().add(i));
                    fds.push(owned(raw));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let truncated = msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0;
    Ok(Received {
        len,
        truncated,
        fds,
    })
}

/// Raises the socket's send buffer towards `bytes` (the kernel caps it at
/// `wmem_max`); a larger buffer lets bigger messages travel inline.
pub(crate) fn set_send_buffer(fd: BorrowedFd<'_>, bytes: usize) {
    let value = bytes.min(c_int::MAX as usize) as c_int;
    // SAFETY: setsockopt reads one int from a valid pointer.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&value as *const c_int).cast::<c_void>(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        );
    }
}

/// An anonymous memory file of `len` bytes (never visible in any
/// directory), `CLOEXEC`.
pub(crate) fn memfd(name: &CStr, len: usize) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid C string.
    let fd = owned(check(unsafe {
        libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC)
    })?);
    // SAFETY: ftruncate on a valid descriptor.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) })?;
    Ok(fd)
}

/// A memory file for one message: sealable, so that once written it can
/// be frozen with [`seal`].
pub(crate) fn sealable_memfd(name: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid C string.
    let fd = check(unsafe {
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
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, SEALS) })?;
    Ok(())
}

/// Whether a memory file has been frozen by [`seal`].
pub(crate) fn is_sealed(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: F_GET_SEALS on a valid descriptor.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    seals != -1 && seals & SEALS == SEALS
}

/// The size of the file behind `fd`.
pub(crate) fn file_len(fd: BorrowedFd<'_>) -> io::Result<usize> {
    // SAFETY: fstat fills a zeroed stat structure.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out-pointer.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(st.st_size as usize)
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

/// Ignores `SIGPIPE`, as the Rust runtime does before `main`: a write to a
/// closed pipe then fails with `EPIPE` instead of killing the process.
pub(crate) fn ignore_sigpipe() {
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// The number of the executable's first loaded byte, or `None` if `addr`
/// is not inside a loaded object.
pub(crate) fn object_base(addr: usize) -> Option<usize> {
    // SAFETY: dladdr only reads the dynamic linker's map of loaded objects;
    // it does not dereference `addr`. A zeroed Dl_info is a valid out-param.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr as *const c_void, &mut info) == 0 || info.dli_fbase.is_null() {
            None
        } else {
            Some(info.dli_fbase as usize)
        }
    }
}

/// The base address of the main executable (found through its entry point).
pub(crate) fn executable_base() -> Option<usize> {
    // SAFETY: getauxval reads the auxiliary vector the kernel passed.
    let entry = unsafe { libc::getauxval(libc::AT_ENTRY) } as usize;
    object_base(entry)
}

/// Exits at once, without running `atexit` handlers or destructors.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Kills this process with `SIGKILL`.
pub(crate) fn kill_self() -> ! {
    // SAFETY: kill of our own pid; SIGKILL cannot be caught.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    exit_now(137)
}

/// `read` that retries on `EINTR`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let rc =
            unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast::<c_void>(), buf.len()) };
        if rc >= 0 {
            return Ok(rc as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// `write` of the whole buffer, without `SIGPIPE` surprises (callers ignore
/// `SIGPIPE`).
pub(crate) fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for reads of its length.
        let rc = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast::<c_void>(), buf.len()) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        buf = &buf[rc as usize..];
    }
    Ok(())
}

/// A pipe, both ends `CLOEXEC`: (read end, write end).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is a valid array of two ints.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// Which side of a `fork` we are on.
pub(crate) enum Forked {
    /// The parent, with the child's pid.
    Parent(libc::pid_t),
    /// The child.
    Child,
}

/// `fork`.
///
/// # Safety
/// The calling process must have a single thread: otherwise the child may
/// only call async-signal-safe functions until it execs.
pub(crate) unsafe fn fork() -> io::Result<Forked> {
    // SAFETY: the caller guarantees a single-threaded process, in which the
    // child is a faithful copy that may run any code.
    let pid = check(unsafe { libc::fork() })?;
    Ok(if pid == 0 {
        Forked::Child
    } else {
        Forked::Parent(pid)
    })
}

/// Moves `fd` to descriptor `to` (clearing `CLOEXEC`) and closes every
/// descriptor above `to`: what a forked child keeps of its parent.
pub(crate) fn keep_only(fd: OwnedFd, to: RawFd) -> io::Result<()> {
    use std::os::fd::IntoRawFd;
    // From here the number is managed by hand: it ends up as `to`.
    let raw = fd.into_raw_fd();
    if raw != to {
        // SAFETY: dup2 onto `to`, which the caller gives us; the copy has
        // CLOEXEC clear.
        check(unsafe { libc::dup2(raw, to) })?;
        if raw < to {
            // SAFETY: `raw` is ours (from into_raw_fd) and no longer used.
            unsafe { libc::close(raw) };
        }
    } else {
        // SAFETY: clearing CLOEXEC on a descriptor we own.
        check(unsafe { libc::fcntl(to, libc::F_SETFD, 0) })?;
    }
    // SAFETY: closes every descriptor above `to` (including `raw` if it was
    // above); nothing of ours below `to` is touched.
    check(unsafe { libc::close_range((to + 1) as u32, u32::MAX, 0) })?;
    Ok(())
}

/// Makes `fd` the descriptor `to` (for stdio in a forked child).
pub(crate) fn dup_onto(fd: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 onto a stdio number the caller owns.
    check(unsafe { libc::dup2(fd.as_raw_fd(), to) })?;
    Ok(())
}

/// Polls several descriptors for readability; returns which are ready.
pub(crate) fn poll_many(
    fds: &[BorrowedFd<'_>],
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as c_int);
    loop {
        // SAFETY: `pfds` is a valid array of its length.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if rc >= 0 {
            return Ok(pfds.iter().map(|p| p.revents != 0).collect());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Reaps child `pid` (blocking) and returns its raw wait status.
pub(crate) fn wait_raw(pid: libc::pid_t) -> io::Result<Option<c_int>> {
    loop {
        let mut raw: c_int = 0;
        // SAFETY: `raw` is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut raw, 0) };
        if rc > 0 {
            return Ok(Some(raw));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Waits until `fd` can be written, for at most `ms` milliseconds (-1: no
/// limit); returns whether it can.
pub(crate) fn poll_writable(fd: BorrowedFd<'_>, ms: c_int) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    match rc {
        -1 => {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(err)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
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
    let new = check(unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) })?;
    Ok(owned(new))
}

/// Shuts a socket down both ways: its peer sees the end of the stream.
pub(crate) fn shutdown(fd: BorrowedFd<'_>) {
    // SAFETY: shutdown on a valid descriptor changes only the socket state.
    unsafe { libc::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR) };
}

/// Whether descriptor number `fd` is open and is a `SOCK_SEQPACKET` socket
/// (used before taking ownership of an inherited descriptor).
pub(crate) fn is_seqpacket(fd: RawFd) -> bool {
    let mut kind: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt on a number that may not be open only fails with
    // EBADF/ENOTSOCK; it writes one int into `kind`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut c_int).cast::<c_void>(),
            &mut len,
        )
    };
    rc == 0 && kind == libc::SOCK_SEQPACKET
}
