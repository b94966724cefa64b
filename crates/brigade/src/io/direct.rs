//! Direct descriptors: files a ring opens into its own table, never into
//! the process's descriptor table.
//!
//! An ordinary `openat` installs the file in the process's descriptor
//! table, which all threads share. With thousands of files open at once
//! the kernel grows that table again and again, each time waiting for an
//! RCU grace period (`expand_files` calls `synchronize_rcu`), and two
//! loops on two threads contend for its lock in every open and close.
//! io_uring can instead open a file into a table that belongs to the ring
//! (a *direct descriptor*, Linux 5.19+ for kernel-chosen slots): the
//! result of the `OPENAT` is a slot, later operations name the slot
//! (`IOSQE_FIXED_FILE`), and a ring `CLOSE` of the slot frees it. The
//! process's table is never touched, and each loop has its own.
//!
//! Only when several rings live in the process (several loops on several
//! threads, as `event_loop::run_on_threads` makes) does `fs::read` open
//! into the table. With one loop, ordinary descriptors cost less: the
//! table's contention does not arise, and an ordinary descriptor can be
//! `fstat`ed for the file's size, which a direct one cannot (measured on
//! `bench/`'s `files`: one loop reads 10,000 small files in ~90 ms with
//! ordinary descriptors and ~102 ms with direct ones; two loops take
//! ~155 ms with ordinary descriptors and ~90 ms with direct ones).
//!
//! [`DirectTable`] is one ring's table: registered lazily, on the first
//! open that wants it, with `min(RLIMIT_NOFILE, 16384)` empty slots (the
//! kernel refuses more than the soft limit). If the kernel refuses, the
//! ring opens ordinary descriptors for good.
//!
//! The table hands out the slots itself (a free list) rather than letting
//! the kernel pick one: knowing the slot before the open is submitted lets
//! the reads that follow be linked to it, so that a whole small file is
//! opened and read in one batch and one turn of the loop. A slot is taken
//! when its open is submitted and given back when the open fails or when
//! the `CLOSE` of the file in it completes; no two files ever share one.
//! A [`DirectFile`] owns one open slot: dropping it queues a ring `CLOSE`,
//! which the driver submits with its next batch and nobody awaits. An
//! `OPENAT` whose future was dropped in flight may still fill its slot; the
//! driver closes that one itself when the completion arrives.
//!
//! ```
//! // fs::read opens a file it cannot read from memory at once through a
//! // direct descriptor (with several rings in the process) or an ordinary
//! // one that the ring closes; either way nothing of it stays open.
//! # let dir = std::env::temp_dir().join(format!("brigade-direct-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("f");
//! std::fs::write(&path, b"direct").unwrap();
//! let rt = brigade::Runtime::new().unwrap();
//! assert_eq!(rt.block_on(brigade::fs::read(&path)).unwrap(), b"direct");
//! // The slot is closed by the driver in the background.
//! # for _ in 0..1000 {
//! #     if rt.io_stats().direct_files == 0 { break; }
//! #     rt.block_on(brigade::sleep(std::time::Duration::from_millis(1)));
//! # }
//! assert_eq!(rt.io_stats().direct_files, 0);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use io_uring::Submitter;

/// The most slots a ring registers: 16384 files open at once per loop is
/// beyond any batch a loop reads concurrently, and the table's memory
/// (a pointer per slot, plus the kernel's bitmap) stays small.
const MAX_SLOTS: u64 = 16384;

/// Slots whose owners let go, waiting for the driver to submit their
/// `CLOSE`. Shared with every [`DirectFile`], so that dropping one needs no
/// access to the driver (it may be dropped while the driver is busy, as
/// part of an abandoned operation's data).
type Closing = Rc<RefCell<Vec<u32>>>;

enum State {
    /// Not asked for yet: most loops never read a file.
    Untried,
    /// Registered with this many slots.
    Ready,
    /// The kernel refused, or cannot open into it: ordinary descriptors.
    Unavailable,
}

/// Rings alive in the process.
static RINGS: AtomicUsize = AtomicUsize::new(0);

/// Counts a ring as alive for as long as it is kept.
pub(crate) struct RingCount(());

impl RingCount {
    pub(crate) fn new() -> RingCount {
        RINGS.fetch_add(1, Ordering::Relaxed);
        RingCount(())
    }
}

impl Drop for RingCount {
    fn drop(&mut self) {
        RINGS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether several rings live in the process: then loops on several
/// threads share the process's descriptor table, and opening into each
/// ring's own table pays.
pub(crate) fn several_rings() -> bool {
    RINGS.load(Ordering::Relaxed) > 1
}

/// One ring's table of direct descriptors.
pub(crate) struct DirectTable {
    state: State,
    /// Slots holding an open file: opened and not yet closed.
    in_use: usize,
    /// Slots no open and no file holds, the last freed on top.
    free: Vec<u32>,
    closing: Closing,
}

impl DirectTable {
    pub(crate) fn new() -> DirectTable {
        DirectTable {
            state: State::Untried,
            in_use: 0,
            free: Vec::new(),
            closing: Rc::new(RefCell::new(Vec::new())),
        }
    }

    /// Whether files can be opened into the table; registers it on the
    /// first call.
    pub(crate) fn available(&mut self, submitter: Submitter<'_>) -> bool {
        if let State::Untried = self.state {
            let slots = crate::sys::fd::open_files_limit()
                .unwrap_or(0)
                .min(MAX_SLOTS) as u32;
            self.state = if slots > 0 && submitter.register_files_sparse(slots).is_ok() {
                self.free = (0..slots).rev().collect();
                State::Ready
            } else {
                State::Unavailable
            };
        }
        matches!(self.state, State::Ready)
    }

    /// Opens no more files into the table (the kernel cannot choose slots).
    pub(crate) fn disable(&mut self) {
        self.state = State::Unavailable;
    }

    /// A free slot to open a file into, now taken; `None` when all are.
    pub(crate) fn acquire(&mut self) -> Option<u32> {
        match self.state {
            State::Ready => self.free.pop(),
            _ => None,
        }
    }

    /// An open completed into its slot.
    pub(crate) fn opened(&mut self) {
        self.in_use += 1;
    }

    /// An open into `slot` failed: the slot is free again.
    pub(crate) fn freed(&mut self, slot: u32) {
        self.free.push(slot);
    }

    /// The `CLOSE` of `slot` completed: the slot is free again.
    pub(crate) fn closed(&mut self, slot: u32) {
        self.in_use = self.in_use.saturating_sub(1);
        self.free.push(slot);
    }

    /// Slots holding a file, including those whose `CLOSE` is queued.
    pub(crate) fn in_use(&self) -> usize {
        self.in_use
    }

    /// The owner of `slot`, which an open has just returned.
    pub(crate) fn file(&self, slot: u32) -> DirectFile {
        DirectFile {
            slot,
            closing: self.closing.clone(),
        }
    }

    /// Queues the `CLOSE` of `slot`, whose open nobody collected.
    pub(crate) fn release(&self, slot: u32) {
        self.closing.borrow_mut().push(slot);
    }

    /// The slots to close now.
    pub(crate) fn take_closing(&self) -> Vec<u32> {
        std::mem::take(&mut *self.closing.borrow_mut())
    }

    /// How many `CLOSE`s are queued and not yet submitted.
    pub(crate) fn closing(&self) -> usize {
        self.closing.borrow().len()
    }
}

/// An open file in a ring's direct table: operations name it by
/// [`slot`](Self::slot). Dropping it closes the slot (through the ring,
/// with the driver's next batch). Keep it in an operation's data while the
/// operation is in flight, so that the slot outlives the operation.
pub(crate) struct DirectFile {
    slot: u32,
    closing: Closing,
}

impl DirectFile {
    /// The slot, for `types::Fixed`.
    pub(crate) fn slot(&self) -> u32 {
        self.slot
    }
}

impl Drop for DirectFile {
    fn drop(&mut self) {
        self.closing.borrow_mut().push(self.slot);
    }
}
