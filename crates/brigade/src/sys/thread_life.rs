//! Who a thread is, over time, and whether it still lives: what a lock
//! word that names its holder needs to tell a dead holder from a busy one.
//!
//! A thread id alone names a thread only while it lives: once the thread
//! ends, the kernel may hand the same id to a new thread (after the ids
//! wrap around `pid_max`). So a thread's *identity* here is its id (below
//! 2^22, the kernel's `PID_MAX_LIMIT`) together with an 8-bit *tag* taken
//! from its start time (field 22 of `/proc/<tid>/stat`, in clock ticks
//! since boot), packed in 30 bits: a later thread with the same id has
//! another tag unless their start times agree modulo 256 ticks.
//!
//! The calling thread's identity is read once and cached per thread
//! (`gettid` is a system call, and a lock's fast path must not make one).
//! A forked child inherits that cache from the forking thread while being
//! another thread, so the cache is forgotten in the child of every fork:
//! glibc's `fork` runs the `pthread_atfork` child handler registered here,
//! and brigade's own `clone` (`fork_sibling`) calls [`forget_after_fork`].
//!
//! ```ignore
//! let me = sys::thread_life::current();
//! assert_eq!(sys::thread_life::life(me.tid()), Life::Alive { tag: Some(me.tag()) });
//! ```

use std::cell::Cell;
use std::io;
use std::sync::Once;

/// A thread's identity: its id in bits 0 to 21, its tag in bits 22 to 29.
/// Never 0 (thread ids are positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity(pub(crate) u32);

/// The bits of an [`Identity`] that hold the thread id.
pub(crate) const TID_BITS: u32 = (1 << 22) - 1;
/// The bits of an [`Identity`].
pub(crate) const IDENTITY_BITS: u32 = (1 << 30) - 1;

impl Identity {
    /// The thread id.
    pub(crate) fn tid(self) -> u32 {
        self.0 & TID_BITS
    }

    /// The tag: 8 bits of the thread's start time.
    pub(crate) fn tag(self) -> u32 {
        self.0 >> 22
    }
}

/// The tag of a thread that started `start` clock ticks after boot.
fn tag(start: u64) -> u32 {
    (start & 0xff) as u32
}

thread_local! {
    /// The calling thread's identity, 0 until first asked for.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
}

static ATFORK: Once = Once::new();

/// The calling thread's identity; the first call in a thread reads
/// `/proc/thread-self/stat`, later ones a thread-local word.
#[inline]
pub(crate) fn current() -> Identity {
    let cached = CURRENT.with(Cell::get);
    if cached != 0 {
        return Identity(cached);
    }
    current_slow()
}

#[cold]
fn current_slow() -> Identity {
    ATFORK.call_once(|| {
        // SAFETY: registers a child handler that only writes a
        // thread-local word of the calling thread (async-signal-safe:
        // the `const` thread-local has no lazy initialization and no
        // destructor). The call fails only for lack of memory, and then
        // brigade's own forks still forget the cache.
        unsafe { libc::pthread_atfork(None, None, Some(forget_in_child)) };
    });
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::gettid() } as u32 & TID_BITS;
    // If /proc cannot tell (not mounted), the tag is 0; a contender that
    // cannot read /proc either compares no tags.
    let tag = match stat(tid) {
        Ok(Some(s)) => tag(s.start),
        _ => 0,
    };
    let id = tid | (tag << 22);
    CURRENT.with(|c| c.set(id));
    Identity(id)
}

extern "C" fn forget_in_child() {
    forget_after_fork();
}

/// Forgets the calling thread's cached identity: called in a forked child,
/// whose one thread has another id than the thread it copies.
pub(crate) fn forget_after_fork() {
    CURRENT.with(|c| c.set(0));
}

/// Whether a thread lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Life {
    /// No thread has this id, or only a dead one (a zombie, not yet reaped
    /// by its parent, or a main thread that ended before its process).
    Gone,
    /// A thread with this id runs; `tag` is its tag, if `/proc` could
    /// tell.
    Alive { tag: Option<u32> },
}

/// Whether thread `tid` (of any process in this pid namespace) lives.
pub(crate) fn life(tid: u32) -> Life {
    match stat(tid) {
        Ok(Some(s)) if s.dead => Life::Gone,
        Ok(Some(s)) => Life::Alive {
            tag: Some(tag(s.start)),
        },
        Ok(None) => Life::Gone,
        Err(_) => {
            // No /proc (or no right to read it): signal 0 only checks that
            // the id names a task, a zombie included.
            // SAFETY: kill with signal 0 sends nothing; it only looks `tid` up.
            let rc = unsafe { libc::kill(tid as libc::pid_t, 0) };
            if rc == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
                Life::Gone
            } else {
                Life::Alive { tag: None }
            }
        }
    }
}

struct Stat {
    dead: bool,
    start: u64,
}

/// Reads `/proc/<tid>/stat` (a thread id not listed in `/proc` is still
/// found there); `None` when no task has the id.
fn stat(tid: u32) -> io::Result<Option<Stat>> {
    let text = match std::fs::read_to_string(format!("/proc/{tid}/stat")) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(Some(parse_stat(&text).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc stat line")
    })?))
}

/// The state and start time of a stat line. The command name (field 2) is
/// in parentheses and may hold spaces and parentheses itself, so fields
/// are counted from the last `)`: state is field 3, start time field 22.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    let start: u64 = fields.nth(18)?.parse().ok()?;
    Some(Stat {
        dead: matches!(state, "Z" | "X" | "x"),
        start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calling_thread_is_alive_with_its_start_time() {
        let me = current();
        assert_eq!(me.tid(), unsafe_free_gettid());
        assert_eq!(
            life(me.tid()),
            Life::Alive {
                tag: Some(me.tag())
            }
        );
        assert_eq!(current(), me, "cached");
    }

    fn unsafe_free_gettid() -> u32 {
        super::super::gettid() as u32
    }

    #[test]
    fn an_ended_thread_is_gone() {
        let id = std::thread::spawn(current).join().unwrap();
        assert_ne!(id, current());
        assert_eq!(life(id.tid()), Life::Gone);
    }

    #[test]
    fn stat_lines_are_read_from_the_last_parenthesis() {
        let line = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    123456 1000 10 18446744073709551615";
        let s = parse_stat(line).unwrap();
        assert!(!s.dead);
        assert_eq!(s.start, 123456);
        let zombie = line.replace(") S ", ") Z ");
        assert!(parse_stat(&zombie).unwrap().dead);
        assert!(parse_stat("42 (x) S 1").is_none());
    }
}
