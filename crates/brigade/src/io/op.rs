//! [`Op`]: one io_uring operation as a future that owns its buffers.
//!
//! The kernel reads and writes an operation's memory asynchronously, at any
//! time until it posts the completion. Rust's futures may be dropped at any
//! `.await`, so a future cannot *lend* memory to the kernel: it must *give*
//! it. An `Op<T>` owns `T` (for example a `Vec<u8>` and a path), whose heap
//! memory the submitted entry points at. When the completion arrives, the
//! future hands `T` back with the result. If the future is dropped first,
//! `T` moves into the driver's slot for the operation and stays there until
//! the completion, and the driver asks the kernel to cancel. This is the
//! ownership rule of tokio-uring and glommio; see [`crate::io`].
//!
//! Such orphaned buffers are bounded (see `io/orphans.rs`): while they
//! hold the loop's limit, a new `Op` is built but not submitted, and its
//! first poll waits for room. Dropped before that, it never reached the
//! kernel and frees its data at once.

use std::any::Any;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use io_uring::squeue;

use super::direct::DirectFile;
use super::driver::Driver;
use super::uring::Outcome;
use crate::event_loop::blocking::Inhibit;

/// Memory an operation may point the kernel at: its heap allocations must
/// not move while the value is moved (true of `Vec`, `Box`, `CString`).
///
/// # Safety
/// Moving a value of the type must not move any memory an entry built from
/// it refers to.
pub(crate) unsafe trait StableBuf: 'static {
    /// The heap memory the value holds, in bytes: what the driver keeps
    /// alive if the operation is orphaned (see `io/orphans.rs`).
    fn held_bytes(&self) -> usize {
        0
    }
}

// SAFETY: a Vec's elements live on the heap; moving the Vec moves only its
// pointer, length and capacity.
unsafe impl StableBuf for Vec<u8> {
    fn held_bytes(&self) -> usize {
        self.capacity()
    }
}
// SAFETY: a CString's bytes live on the heap.
unsafe impl StableBuf for std::ffi::CString {
    fn held_bytes(&self) -> usize {
        self.as_bytes_with_nul().len()
    }
}
// SAFETY: a Box's contents live on the heap.
unsafe impl<T: 'static> StableBuf for Box<T> {
    fn held_bytes(&self) -> usize {
        std::mem::size_of::<T>()
    }
}
// SAFETY: a tuple of stable values is stable: each keeps its own heap memory.
unsafe impl<A: StableBuf, B: StableBuf> StableBuf for (A, B) {
    fn held_bytes(&self) -> usize {
        self.0.held_bytes() + self.1.held_bytes()
    }
}
// SAFETY: no memory at all.
unsafe impl StableBuf for () {}
// SAFETY: a slot number; the kernel reads no memory of it.
unsafe impl StableBuf for DirectFile {}

/// An operation in flight; resolves to the kernel's result and the data.
pub(crate) struct Op<T: StableBuf> {
    driver: Rc<Driver>,
    stage: Stage,
    data: Option<T>,
    cancel_on_drop: bool,
}

/// Whether an operation has reached the driver.
enum Stage {
    /// Built, and waiting for room among the orphans before submission.
    Queued(squeue::Entry, Outcome),
    /// Submitted under this key.
    Submitted(usize),
}

impl<T: StableBuf> Op<T> {
    /// Submits the entry `build` makes from `data`'s memory.
    ///
    /// # Safety
    /// Every pointer in the entry must point into memory owned by `data`
    /// (heap memory, by [`StableBuf`]) or be valid for the whole program.
    pub(crate) unsafe fn submit(
        driver: Rc<Driver>,
        data: T,
        build: impl FnOnce(&mut T) -> squeue::Entry,
    ) -> Op<T> {
        // SAFETY: the caller's promise is this function's.
        unsafe { Op::submit_yielding(driver, data, Outcome::Plain, build) }
    }

    /// Like [`submit`](Self::submit), for an operation whose successful
    /// result holds `outcome` (a new descriptor or direct slot): if the
    /// future is dropped before taking it, the driver closes it.
    ///
    /// # Safety
    /// As for [`submit`](Self::submit).
    pub(crate) unsafe fn submit_yielding(
        driver: Rc<Driver>,
        mut data: T,
        outcome: Outcome,
        build: impl FnOnce(&mut T) -> squeue::Entry,
    ) -> Op<T> {
        let entry = build(&mut data);
        let mut op = Op {
            driver,
            stage: Stage::Queued(entry, outcome),
            data: Some(data),
            cancel_on_drop: true,
        };
        // Submitted now, unless orphans hold the limit: then the first
        // poll waits for room.
        let room = op.driver.with_uring(|ring| ring.has_room());
        if room.expect("Op::submit is only called on an io_uring driver") {
            op.start();
        }
        op
    }

    /// Hands a queued operation to the driver (it is then in flight).
    fn start(&mut self) {
        let placeholder = Stage::Submitted(usize::MAX);
        let Stage::Queued(entry, outcome) = std::mem::replace(&mut self.stage, placeholder) else {
            return;
        };
        let inhibit = Inhibit::new(self.driver.shared.clone());
        let key = self
            .driver
            .with_uring(|ring| ring.submit_op(entry, Some(inhibit), outcome))
            .expect("Op::submit is only called on an io_uring driver");
        self.stage = Stage::Submitted(key);
    }

    /// Submits the entries `build` makes from `data`'s memory as one chain
    /// (see `UringBackend::submit_chain_ops`: `build` sets each entry's
    /// link flag, and says what its result holds): `H` heads, then the
    /// last. `data` belongs to the last operation, which completes after
    /// all the others: the kernel is done with every entry by then.
    /// Dropping the future of a head still in flight cancels it, which
    /// fails the rest of the chain.
    ///
    /// # Safety
    /// As for [`submit`](Self::submit), for every entry; and the chain must
    /// be linked, so that the last entry completes last.
    pub(crate) unsafe fn submit_chain<const H: usize>(
        driver: Rc<Driver>,
        mut data: T,
        build: impl FnOnce(&mut T) -> ([(squeue::Entry, Outcome); H], (squeue::Entry, Outcome)),
    ) -> ([Op<()>; H], Op<T>) {
        let (heads, last) = build(&mut data);
        let inhibit = Inhibit::new(driver.shared.clone());
        let (heads, last) = driver
            .with_uring(|ring| ring.submit_chain_ops(heads, last, Some(inhibit)))
            .expect("Op::submit_chain is only called on an io_uring driver");
        let heads = heads.map(|key| Op {
            driver: driver.clone(),
            stage: Stage::Submitted(key),
            data: Some(()),
            cancel_on_drop: true,
        });
        let last = Op {
            driver,
            stage: Stage::Submitted(last),
            data: Some(data),
            cancel_on_drop: false,
        };
        (heads, last)
    }

    /// Lets the operation run to completion if the future is dropped
    /// (writes: dropping a file must not lose data it accepted).
    pub(crate) fn finish_on_drop(mut self) -> Op<T> {
        self.cancel_on_drop = false;
        self
    }
}

// The data is never pinned: the kernel sees only its heap memory.
impl<T: StableBuf> Unpin for Op<T> {}

impl<T: StableBuf> Future for Op<T> {
    type Output = (io::Result<u32>, T);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if matches!(self.stage, Stage::Queued(..)) {
            let room = self
                .driver
                .with_uring(|ring| ring.wait_for_room(cx.waker()))
                .unwrap_or(true);
            if !room {
                return Poll::Pending;
            }
            self.start();
        }
        let Stage::Submitted(key) = self.stage else {
            unreachable!("started above");
        };
        let done = self
            .driver
            .with_uring(|ring| ring.poll_op(key, cx.waker()))
            .flatten();
        match done {
            None => Poll::Pending,
            Some(result) => {
                let data = self.data.take().expect("an Op completes once");
                let result = if result < 0 {
                    Err(io::Error::from_raw_os_error(-result))
                } else {
                    Ok(result as u32)
                };
                Poll::Ready((result, data))
            }
        }
    }
}

impl<T: StableBuf> Drop for Op<T> {
    fn drop(&mut self) {
        if let Some(data) = self.data.take() {
            if matches!(self.stage, Stage::Queued(..)) {
                if self.cancel_on_drop {
                    // It never reached the kernel: nothing refers to `data`.
                    return;
                }
                // A write that must not be lost still happens.
                self.start();
            }
            let Stage::Submitted(key) = self.stage else {
                return;
            };
            let held = data.held_bytes();
            let data: Box<dyn Any> = Box::new(data);
            let cancel = self.cancel_on_drop;
            self.driver
                .with_uring(|ring| ring.abandon_op(key, data, held, cancel));
        }
    }
}

/// Waits until orphaned operations leave room for new ones (see
/// `io/orphans.rs`): for operations submitted otherwise than by
/// [`Op::submit`], such as chains.
pub(crate) async fn room(driver: &Driver) {
    std::future::poll_fn(|cx| {
        let room = driver
            .with_uring(|ring| ring.wait_for_room(cx.waker()))
            .unwrap_or(true);
        if room { Poll::Ready(()) } else { Poll::Pending }
    })
    .await
}
