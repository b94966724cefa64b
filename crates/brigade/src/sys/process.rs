//! System calls for child processes: `posix_spawn`, `clone`, pidfds,
//! `waitpid`, signals, and the descriptor moves a new process makes.
//!
//! Every descriptor made here has `CLOEXEC` set from birth (the `*_CLOEXEC`
//! flags, never a later `fcntl`), so that a process started concurrently by
//! another thread cannot inherit it. The one descriptor a child needs is
//! handed over by `posix_spawn`'s file actions, which run in the child only.
//!
//! ```ignore
//! let pid = sys::process::spawn(&exe, &argv, &envp, channel.as_fd())?;
//! let status = sys::process::wait(pid, true)?;
//! ```

use std::ffi::{CStr, CString, c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::ptr;

use super::{cvt, owned};

/// `dup` with `CLOEXEC`.
pub(crate) fn dup(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a valid descriptor only allocates a new one.
    let new = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) })?;
    Ok(owned(new))
}

/// Sets `CLOEXEC` on a descriptor this process inherited without it.
pub(crate) fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_SETFD on a valid descriptor changes only its flags.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    Ok(())
}

/// Starts `exe` with `argv` and `envp`; in the child, `child_fd` becomes
/// descriptor 3 (without `CLOEXEC`), every descriptor above 3 is closed, and
/// standard input is `/dev/null`: the child holds our stdout and stderr, an
/// empty stdin, and its channel, and nothing else. (CPython's children get
/// `os.devnull` as stdin too: a child that reads it sees the end at once
/// instead of taking input meant for the parent, say from a terminal.)
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
    // end with a null pointer; the path given to addopen is a static C
    // string (glibc copies it). dup2 of a descriptor onto itself clears its
    // CLOEXEC flag (glibc >= 2.29), which is what the child needs.
    unsafe {
        let a = actions.as_mut_ptr();
        let at = attr.as_mut_ptr();
        let mut rc = libc::posix_spawn_file_actions_adddup2(a, child_fd.as_raw_fd(), 3);
        if rc == 0 {
            // Opened in the child, onto descriptor 0: the parent holds no
            // extra descriptor for it.
            rc = libc::posix_spawn_file_actions_addopen(
                a,
                0,
                c"/dev/null".as_ptr(),
                libc::O_RDONLY,
                0,
            );
        }
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
    cvt(fd as c_int)?;
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
    cvt(rc as c_int)?;
    Ok(())
}

/// How a process ended, as `waitpid` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// `exit(code)`.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
    /// It ended, but its status is gone: the kernel reaped it (the parent
    /// ignores `SIGCHLD`), or someone else did, and this kernel keeps no
    /// copy for pidfds.
    Unknown,
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

/// Reaps the child behind `pidfd` (`waitid(P_PIDFD)`), blocking if
/// `block`; `None` if it still runs.
///
/// Unlike `waitpid(pid)`, this names the child by its pidfd, so it never
/// reaps another child that was given a recycled pid. If the child is no
/// longer there to reap (`ECHILD`: the parent ignores `SIGCHLD`, so the
/// kernel reaped it at exit, or some other code of the program reaped it),
/// the status comes from the copy the kernel keeps for pidfds, where it
/// keeps one (see [`exit_info`]).
pub(crate) fn wait_pidfd(pidfd: BorrowedFd<'_>, block: bool) -> io::Result<Option<Status>> {
    let flags = libc::WEXITED | if block { 0 } else { libc::WNOHANG };
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: P_PIDFD with a pidfd we hold; `info` is a valid pointer.
        let rc = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                flags,
            )
        };
        if rc == 0 {
            // SAFETY: after a successful waitid with WEXITED, the kernel
            // filled the SIGCHLD fields of the union (all zero for a child
            // still running under WNOHANG).
            let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
            if pid == 0 {
                return Ok(None);
            }
            return Ok(Some(match info.si_code {
                libc::CLD_EXITED => Status::Code(status),
                _ => Status::Signal(status),
            }));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ECHILD) => return Ok(Some(exit_info(pidfd))),
            _ => return Err(err),
        }
    }
}

/// `struct pidfd_info` of `<linux/pidfd.h>`, its first version (64 bytes;
/// the kernel copies what both sides know).
#[repr(C)]
#[derive(Default)]
struct PidfdInfo {
    mask: u64,
    cgroupid: u64,
    pid: u32,
    tgid: u32,
    ppid: u32,
    ruid: u32,
    rgid: u32,
    euid: u32,
    egid: u32,
    suid: u32,
    sgid: u32,
    fsuid: u32,
    fsgid: u32,
    exit_code: i32,
}

/// `PIDFD_INFO_EXIT`: ask for the exit status.
const PIDFD_INFO_EXIT: u64 = 1 << 3;
/// `PIDFD_GET_INFO`: `_IOWR(0xFF, 11, struct pidfd_info)`.
const PIDFD_GET_INFO: libc::c_ulong =
    (3 << 30) | ((std::mem::size_of::<PidfdInfo>() as libc::c_ulong) << 16) | (0xFF << 8) | 11;

/// How the process behind `pidfd` ended, from the copy of its status that
/// the kernel keeps for pidfds once it is reaped (`PIDFD_GET_INFO` with
/// `PIDFD_INFO_EXIT`, Linux 6.15 and later); [`Status::Unknown`] on older
/// kernels.
pub(crate) fn exit_info(pidfd: BorrowedFd<'_>) -> Status {
    // The kernel marks an auto-reaped child dead (so waitid reports ECHILD
    // and the pidfd turns readable) a moment before it records the status
    // for pidfds: while the process is still there without the status,
    // look again, briefly. 200 looks of 50 µs bound the wait at ~10 ms,
    // spent only on a kernel that has the call but not the exit status.
    for _ in 0..200 {
        let mut info = PidfdInfo {
            mask: PIDFD_INFO_EXIT,
            ..PidfdInfo::default()
        };
        // SAFETY: PIDFD_GET_INFO writes at most the size encoded in the
        // request, which is the size of `info`.
        let rc = unsafe { libc::ioctl(pidfd.as_raw_fd(), PIDFD_GET_INFO as _, &mut info) };
        if rc != 0 {
            // No such call (before 6.13), or the process is gone and the
            // kernel kept no status (6.13, 6.14).
            return Status::Unknown;
        }
        if info.mask & PIDFD_INFO_EXIT != 0 {
            return Status::from_raw(info.exit_code);
        }
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
    Status::Unknown
}

/// Ignores `SIGPIPE`, as the Rust runtime does before `main`: a write to a
/// closed pipe then fails with `EPIPE` instead of killing the process.
pub(crate) fn ignore_sigpipe() {
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Whether `addr` lies in the main executable's loaded segments (not in a
/// shared library, the heap or a stack).
pub(crate) fn in_executable(addr: usize) -> bool {
    executable_span().is_some_and(|(start, end)| (start..end).contains(&addr))
}

/// The addresses the main executable's loaded segments span, found once
/// (a forkserver's workers inherit the answer).
pub(crate) fn executable_span() -> Option<(usize, usize)> {
    static SPAN: std::sync::OnceLock<Option<(usize, usize)>> = std::sync::OnceLock::new();
    *SPAN.get_or_init(|| {
        let mut span: Option<(usize, usize)> = None;
        // SAFETY: the callback only reads the program headers the dynamic
        // linker passes it and writes through `data`, which is `span`,
        // alive for the whole call.
        unsafe {
            libc::dl_iterate_phdr(
                Some(first_object_span),
                (&mut span as *mut Option<(usize, usize)>).cast::<c_void>(),
            )
        };
        span
    })
}

/// `dl_iterate_phdr`'s callback: the first object is the main program;
/// its span is the union of its `PT_LOAD` segments. Returns 1 to stop.
///
/// # Safety
/// Only for `dl_iterate_phdr`: `info` must point to a valid
/// `dl_phdr_info`, and `data` to an `Option<(usize, usize)>`.
unsafe extern "C" fn first_object_span(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut c_void,
) -> c_int {
    // SAFETY: the dynamic linker passes a valid info whose `dlpi_phdr`
    // points to `dlpi_phnum` headers; `data` is the caller's span.
    unsafe {
        let info = &*info;
        let headers = std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum));
        let base = info.dlpi_addr as usize;
        let loads = headers.iter().filter(|h| h.p_type == libc::PT_LOAD);
        let start = loads.clone().map(|h| base + h.p_vaddr as usize).min();
        let end = loads.map(|h| base + (h.p_vaddr + h.p_memsz) as usize).max();
        *data.cast::<Option<(usize, usize)>>() = start.zip(end);
    }
    1
}

/// The pid of this process's parent now (`getppid`): the parent that
/// started it while that lives, another process (init or a subreaper)
/// once it has died.
pub(crate) fn parent_pid() -> u32 {
    std::os::unix::process::parent_id()
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

/// Which side of [`fork_sibling`] we are on.
pub(crate) enum Sibling {
    /// The caller, with the child's pid and a pidfd for it.
    Parent {
        /// The child's pid.
        pid: libc::pid_t,
        /// A pidfd for the child.
        pidfd: OwnedFd,
    },
    /// The child.
    Child,
}

/// What glibc's `fork` restores in a child, found once in the calling
/// (main) thread: where glibc caches the thread's id, and its list of
/// robust futexes.
#[derive(Clone, Copy)]
struct MainThread {
    /// The address glibc gave the kernel with `set_tid_address` (0 if the
    /// kernel cannot tell it: `PR_GET_TID_ADDRESS` needs
    /// `CONFIG_CHECKPOINT_RESTORE`).
    tid_address: usize,
    robust_head: usize,
    robust_len: usize,
}

impl MainThread {
    fn get() -> MainThread {
        static FOUND: std::sync::OnceLock<MainThread> = std::sync::OnceLock::new();
        *FOUND.get_or_init(|| {
            let mut tid_address: usize = 0;
            // SAFETY: PR_GET_TID_ADDRESS stores one pointer at the address
            // given.
            let rc = unsafe {
                libc::prctl(
                    libc::PR_GET_TID_ADDRESS,
                    &mut tid_address as *mut usize,
                    0,
                    0,
                    0,
                )
            };
            // Use it only if it really holds this thread's id.
            // SAFETY: gettid has no arguments; the address, when the
            // kernel gives one, is glibc's field in this thread's live
            // thread control block.
            let valid = rc == 0
                && tid_address != 0
                && unsafe { *(tid_address as *const c_int) == libc::gettid() };
            let (mut robust_head, mut robust_len) = (0usize, 0usize);
            // SAFETY: get_robust_list of the calling thread (0) into two
            // valid out-pointers.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_get_robust_list,
                    0,
                    &mut robust_head as *mut usize,
                    &mut robust_len as *mut usize,
                )
            };
            if rc != 0 {
                robust_head = 0;
            }
            MainThread {
                tid_address: if valid { tid_address } else { 0 },
                robust_head,
                robust_len,
            }
        })
    }
}

/// `fork`, except that the child's parent is the caller's parent
/// (`CLONE_PARENT`), and the caller gets a pidfd for the child
/// (`CLONE_PIDFD`).
///
/// glibc's `fork` takes no flags, so this is the `clone` system call doing
/// what glibc's `_Fork` does: the kernel writes the child's thread id into
/// glibc's cached copy (`CLONE_CHILD_SETTID` at the address glibc
/// registered with `set_tid_address`), and the child registers again the
/// robust-futex list that the kernel does not carry over. glibc's `atfork`
/// handlers do not run: they guard locks that only another thread could
/// hold.
///
/// # Safety
/// The calling process must have a single thread (the child may then run
/// any code), and its parent must be ready to reap the child.
pub(crate) unsafe fn fork_sibling() -> io::Result<Sibling> {
    let thread = MainThread::get();
    let mut flags = libc::CLONE_PARENT | libc::CLONE_PIDFD;
    if thread.tid_address != 0 {
        flags |= libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID;
    }
    let mut pidfd: c_int = -1;
    // SAFETY: clone without CLONE_VM and with no new stack is fork: the
    // child runs on a copy of this stack and returns from here. `pidfd` is
    // a valid out-pointer for CLONE_PIDFD (the parent's tid slot), and the
    // child-tid address is glibc's own field, in the child's copy of the
    // memory. The caller guarantees a single thread.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as libc::c_ulong,
            0usize,
            &mut pidfd as *mut c_int,
            thread.tid_address,
            0usize,
        )
    };
    let pid = cvt(rc as c_int)?;
    if pid != 0 {
        return Ok(Sibling::Parent {
            pid,
            pidfd: owned(pidfd),
        });
    }
    if thread.robust_head != 0 {
        // SAFETY: the list head glibc registered for this thread, at the
        // same address in the child's copy of the memory.
        unsafe {
            libc::syscall(
                libc::SYS_set_robust_list,
                thread.robust_head,
                thread.robust_len,
            )
        };
    }
    // The child's one thread is not the thread whose cached id it copied.
    super::thread_life::forget_after_fork();
    Ok(Sibling::Child)
}

/// Moves `fd` to descriptor `to` (with `CLOEXEC` set) and closes every
/// descriptor above `to`: what a forked child keeps of its parent.
pub(crate) fn keep_only(fd: OwnedFd, to: RawFd) -> io::Result<OwnedFd> {
    use std::os::fd::IntoRawFd;
    // From here the number is managed by hand: it ends up as `to`.
    let raw = fd.into_raw_fd();
    if raw != to {
        // SAFETY: dup3 onto `to`, which the caller gives us.
        cvt(unsafe { libc::dup3(raw, to, libc::O_CLOEXEC) })?;
        if raw < to {
            // SAFETY: `raw` is ours (from into_raw_fd) and no longer used.
            unsafe { libc::close(raw) };
        }
    }
    // SAFETY: closes every descriptor above `to` (including `raw` if it was
    // above); nothing of ours below `to` is touched.
    cvt(unsafe { libc::close_range((to + 1) as u32, u32::MAX, 0) })?;
    Ok(owned(to))
}

/// Makes `fd` the descriptor `to` (for stdio in a forked child).
pub(crate) fn dup_onto(fd: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 onto a stdio number the caller owns.
    cvt(unsafe { libc::dup2(fd.as_raw_fd(), to) })?;
    Ok(())
}
