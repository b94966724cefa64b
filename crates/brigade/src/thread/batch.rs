//! The engine of [`ThreadPool::map`](super::ThreadPool::map): a parallel
//! loop over indexed chunks, run by the calling thread together with the
//! pool's workers, that returns only when every chunk is done.
//!
//! # Self-scheduling
//! The input is cut into more chunks than there are threads, and each
//! thread claims the next chunk with one atomic increment until none is
//! left: self-scheduling with fixed-size chunks (Kruskal and Weiss, 1985;
//! OpenMP's `schedule(dynamic, chunk)`). A thread that is slow (preempted by another
//! program, or given costlier items) simply claims fewer chunks, without
//! the deques and stealing of a work-stealing scheduler. Items cost no
//! allocation and no lock: each chunk moves its inputs out of one buffer
//! and writes its outputs in place in the preallocated result.
//!
//! # Borrowing across threads
//! The chunks' function borrows the caller's stack (the items, the result
//! buffer, the user's closure), yet pool workers are `'static` threads.
//! This is sound for the reason scoped threads are: the caller does not
//! return until no worker can touch the borrow any more. Workers are
//! invited by tasks that hold only a reference-counted [`Batch`]; a worker
//! enters by incrementing the batch's count of active helpers and leaves by
//! decrementing it. When no chunk is left the caller sets the batch's
//! `CLOSED` bit, after which no worker can enter (an invitation that
//! arrives late sees the bit and leaves without touching the borrow), and
//! waits for the active count to reach zero. The wait cannot be skipped by
//! a panic: every call of the chunk function is wrapped in `catch_unwind`.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::event_loop::Panic;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Condvar, Mutex};

/// Set in [`Batch::state`] once no helper may enter.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// The chunk function with its lifetime erased; see the module docs for
/// why it is only called while the caller is waiting.
struct ChunkFn(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync` (so `&` access from any thread is allowed)
// and is only dereferenced by threads that entered the batch, all of which
// have left before the caller's borrow ends.
unsafe impl Send for ChunkFn {}
// SAFETY: as for `Send`: shared access to a `Sync` pointee.
unsafe impl Sync for ChunkFn {}

/// One parallel loop, shared by the caller and its helpers.
pub(crate) struct Batch {
    /// `CLOSED` bit, plus the number of helpers inside.
    state: AtomicUsize,
    /// The next chunk to claim.
    next: AtomicUsize,
    chunks: usize,
    chunk_fn: ChunkFn,
    /// The caller sleeps here until the last helper leaves.
    left: Mutex<()>,
    all_left: Condvar,
    /// The first panic that escaped a chunk function.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Batch {
    /// Claims and runs chunks until none is left.
    fn run_chunks(&self) {
        loop {
            let chunk = self.next.fetch_add(1, Ordering::Relaxed);
            if chunk >= self.chunks {
                return;
            }
            // SAFETY: callers of run_chunks are the batch's owner, inside
            // `run` before it returns, or a helper between a successful
            // enter and its leave; in both cases the owner is still inside
            // `run`, so the borrow behind the pointer is alive.
            let f = unsafe { &*self.chunk_fn.0 };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(chunk))) {
                let mut first = self.panic.lock().unwrap_or_else(|e| e.into_inner());
                first.get_or_insert(payload);
            }
        }
    }

    /// What an invited worker does: enter unless closed, help, leave.
    pub(crate) fn help(&self) {
        let before = self.state.fetch_add(1, Ordering::Acquire);
        if before & CLOSED == 0 {
            self.run_chunks();
        }
        // Release: our writes happen before the owner's acquiring load.
        let before = self.state.fetch_sub(1, Ordering::Release);
        if before == CLOSED | 1 {
            // The last one out, after the owner closed: wake it. Taking the
            // lock orders this after the owner's check-then-wait.
            let _left = self.left.lock().unwrap_or_else(|e| e.into_inner());
            self.all_left.notify_all();
        }
    }
}

/// Runs `chunk_fn(0)`, ..., `chunk_fn(chunks - 1)`, each exactly once, on
/// the calling thread and on whichever helpers `invite` manages to start;
/// returns when all have returned. `invite` receives the batch and should
/// arrange for `batch.help()` to be called on other threads (any number of
/// times, at any time, even after `run` returned).
///
/// A panic escaping `chunk_fn` is caught; the first one is returned, after
/// every chunk has run.
pub(crate) fn run(
    chunks: usize,
    chunk_fn: &(dyn Fn(usize) + Sync),
    invite: impl FnOnce(&Arc<Batch>),
) -> Result<(), Panic> {
    let short: *const (dyn Fn(usize) + Sync + '_) = chunk_fn;
    // SAFETY: only the trait object's lifetime bound changes (the layout of
    // the fat pointer is the same). The extended pointer is dereferenced
    // only while this function has not returned; see `Batch::run_chunks`
    // and the wait below.
    let erased: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(short) };
    let batch = Arc::new(Batch {
        state: AtomicUsize::new(0),
        next: AtomicUsize::new(0),
        chunks,
        chunk_fn: ChunkFn(erased),
        left: Mutex::new(()),
        all_left: Condvar::new(),
        panic: Mutex::new(None),
    });
    if chunks > 1 {
        invite(&batch);
    }
    batch.run_chunks();
    // Acquire: see the helpers' writes if they all left already.
    let before = batch.state.fetch_or(CLOSED, Ordering::AcqRel);
    if before != 0 {
        let mut left = batch.left.lock().unwrap_or_else(|e| e.into_inner());
        // Acquire pairs with each helper's releasing decrement.
        while batch.state.load(Ordering::Acquire) != CLOSED {
            left = batch.all_left.wait(left).unwrap_or_else(|e| e.into_inner());
        }
        drop(left);
    }
    let panic = batch.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    match panic {
        Some(payload) => Err(Panic::new(payload)),
        None => Ok(()),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn every_chunk_runs_once_with_late_and_early_helpers() {
        let seen: Vec<AtomicUsize> = (0..64).map(|_| AtomicUsize::new(0)).collect();
        let mut late = Vec::new();
        let result = run(
            64,
            &|i| {
                seen[i].fetch_add(1, Ordering::Relaxed);
            },
            |batch| {
                for _ in 0..2 {
                    let batch = batch.clone();
                    late.push(batch.clone());
                    std::thread::spawn(move || batch.help());
                }
            },
        );
        assert!(result.is_ok());
        // Helpers invited after the batch closed leave without running.
        for batch in late {
            batch.help();
        }
        assert!(seen.iter().all(|n| n.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn a_panicking_chunk_is_reported_after_all_chunks_ran() {
        let ran = (0..8).map(|_| AtomicBool::new(false)).collect::<Vec<_>>();
        let result = run(
            8,
            &|i| {
                ran[i].store(true, Ordering::Relaxed);
                if i == 3 {
                    panic!("chunk three");
                }
            },
            |_| {},
        );
        assert_eq!(result.unwrap_err().message(), "chunk three");
        assert!(ran.iter().all(|r| r.load(Ordering::Relaxed)));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::atomic::AtomicUsize;

    #[test]
    fn the_owner_waits_for_a_helper_inside() {
        loom::model(|| {
            let done = [AtomicUsize::new(0), AtomicUsize::new(0)];
            let mut helper = None;
            run(
                2,
                &|i| {
                    done[i].fetch_add(1, Ordering::Relaxed);
                },
                |batch| {
                    let batch = batch.clone();
                    helper = Some(loom::thread::spawn(move || batch.help()));
                },
            )
            .unwrap();
            // Read right after run returns, before joining the helper: run
            // itself must have waited for it.
            assert_eq!(done[0].load(Ordering::Relaxed), 1);
            assert_eq!(done[1].load(Ordering::Relaxed), 1);
            helper.unwrap().join().unwrap();
        });
    }
}
