//! Futexes on shared memory: sleep while a 32-bit word holds a value, and
//! wake the sleepers on a word (futex(2)).
//!
//! These are the *shared* operations (no `FUTEX_PRIVATE_FLAG`): the kernel
//! keys a sleeper by the page and offset of the word, not by the address in
//! one process, so a word in a memory file mapped by several processes
//! wakes sleepers in all of them, wherever each mapped it.
//!
//! ```ignore
//! let word = AtomicU32::new(0);
//! // Returns at once: the word does not hold 1.
//! sys::futex::wait(&word, 1, None);
//! sys::futex::wake(&word, u32::MAX);
//! ```

use std::ptr;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `word` holds `expected`, at most `timeout`. Returns `false`
/// if the timeout passed, `true` otherwise: woken, the word already held
/// another value, or a signal interrupted the sleep. Callers re-check their
/// condition either way (a wake-up may be for someone else).
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: FUTEX_WAIT reads the aligned 32-bit word `word` points to
    // (valid for the call: it is borrowed) and an optional relative
    // timespec that lives on this stack frame for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
            ptr::null::<u32>(),
            0u32,
        )
    };
    !(rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT))
}

/// Wakes at most `n` sleepers on `word`, in any process; returns how many
/// woke.
pub(crate) fn wake(word: &AtomicU32, n: u32) -> usize {
    let n = n.min(i32::MAX as u32);
    // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it reads
    // no memory through it and writes none.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            n,
            ptr::null::<libc::timespec>(),
            ptr::null::<u32>(),
            0u32,
        )
    };
    rc.max(0) as usize
}
