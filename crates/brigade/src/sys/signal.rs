//! Unix signals: a process-wide handler that turns each delivery into a
//! write to the eventfds of the loops listening for it (the self-pipe trick
//! of mio and tokio, with eventfds).
//!
//! A signal handler may only do async-signal-safe work: here, atomic loads
//! and `write(2)`. Listeners live in a fixed table of slots whose eventfds
//! are created once and never closed, so the handler can never write to a
//! descriptor that was closed and reused: a listener that goes away only
//! clears its slot's mask, and the next user of the slot drains any late
//! write.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use super::fd::{cvt, eventfd, eventfd_drain};

/// How many listeners (`Signal` streams) may exist at once.
pub(crate) const SLOTS: usize = 64;

struct Slot {
    /// The signals this slot listens for (bit `n` for signal `n`); 0 when free.
    mask: AtomicU64,
    /// The slot's eventfd, or -1 before first use.
    fd: AtomicI32,
}

static TABLE: [Slot; SLOTS] = [const {
    Slot {
        mask: AtomicU64::new(0),
        fd: AtomicI32::new(-1),
    }
}; SLOTS];

/// Keeps the slots' eventfds alive for the life of the process.
static OWNED: OnceLock<Mutex<Vec<Option<OwnedFd>>>> = OnceLock::new();
/// Whether our handler is installed for signal `n`.
static INSTALLED: [AtomicBool; 65] = [const { AtomicBool::new(false) }; 65];

extern "C" fn handler(signal: libc::c_int) {
    // The interrupted code may be between a failed call and its errno
    // check: keep errno as we found it.
    // SAFETY: __errno_location returns the calling thread's errno slot,
    // valid for the thread's lifetime; reading it is async-signal-safe.
    let saved_errno = unsafe { *libc::__errno_location() };
    let bit = 1u64 << (signal as u32 & 63);
    let one = 1u64.to_ne_bytes();
    for slot in &TABLE {
        if slot.mask.load(Ordering::Acquire) & bit != 0 {
            let fd = slot.fd.load(Ordering::Acquire);
            if fd >= 0 {
                // SAFETY: write is async-signal-safe; `fd` is an eventfd
                // that is never closed; the buffer is 8 valid bytes.
                unsafe { libc::write(fd, one.as_ptr().cast(), 8) };
            }
        }
    }
    // SAFETY: as above; writing the thread's own errno slot.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// Signals that cannot be caught, or that mean the process is broken.
pub(crate) fn is_forbidden(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGKILL | libc::SIGSTOP | libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE
    ) || !(1..=64).contains(&signal)
}

fn install(signal: i32) -> io::Result<()> {
    if INSTALLED[signal as usize].load(Ordering::Acquire) {
        return Ok(());
    }
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if INSTALLED[signal as usize].load(Ordering::Acquire) {
        return Ok(());
    }
    // SAFETY: sigaction is plain data; all zeroes is a valid value.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as *const () as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action.sa_mask` is a valid sigset_t to empty.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is a valid sigaction whose handler only does
    // async-signal-safe work; the old action is not asked for.
    cvt(unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) })?;
    INSTALLED[signal as usize].store(true, Ordering::Release);
    Ok(())
}

/// A claimed slot: its eventfd becomes readable when one of its signals
/// arrives. Releasing it (drop) stops the deliveries.
pub(crate) struct Listener {
    index: usize,
}

impl Listener {
    /// Installs the handler for `signal` and claims a slot for it.
    pub(crate) fn new(signal: i32) -> io::Result<Listener> {
        install(signal)?;
        let owned = OWNED.get_or_init(|| Mutex::new((0..SLOTS).map(|_| None).collect()));
        let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
        let index = (0..SLOTS)
            .find(|i| TABLE[*i].mask.load(Ordering::Acquire) == 0)
            .ok_or_else(|| {
                io::Error::other(format!("more than {SLOTS} signal listeners at once"))
            })?;
        let slot = &TABLE[index];
        match &owned[index] {
            Some(fd) => eventfd_drain(fd),
            None => {
                let fd = eventfd()?;
                slot.fd.store(fd.as_raw_fd(), Ordering::Release);
                owned[index] = Some(fd);
            }
        }
        slot.mask
            .store(1u64 << (signal as u32 & 63), Ordering::Release);
        Ok(Listener { index })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        TABLE[self.index].fd.load(Ordering::Acquire)
    }
}

impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.raw_fd()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        TABLE[self.index].mask.store(0, Ordering::Release);
    }
}
