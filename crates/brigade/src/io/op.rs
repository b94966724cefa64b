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
pub(crate) unsafe trait StableBuf: 'static {}

// SAFETY: a Vec's elements live on the heap; moving the Vec moves only its
// pointer, length and capacity.
unsafe impl StableBuf for Vec<u8> {}
// SAFETY: a CString's bytes live on the heap.
unsafe impl StableBuf for std::ffi::CString {}
// SAFETY: a Box's contents live on the heap.
unsafe impl<T: 'static> StableBuf for Box<T> {}
// SAFETY: a tuple of stable values is stable: each keeps its own heap memory.
unsafe impl<A: StableBuf, B: StableBuf> StableBuf for (A, B) {}
// SAFETY: no memory at all.
unsafe impl StableBuf for () {}
// SAFETY: a slot number; the kernel reads no memory of it.
unsafe impl StableBuf for DirectFile {}

/// An operation in flight; resolves to the kernel's result and the data.
pub(crate) struct Op<T: StableBuf> {
    driver: Rc<Driver>,
    key: usize,
    data: Option<T>,
    cancel_on_drop: bool,
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
        let inhibit = Inhibit::new(driver.shared.clone());
        let key = driver
            .with_uring(|ring| ring.submit_op(entry, Some(inhibit), outcome))
            .expect("Op::submit is only called on an io_uring driver");
        Op {
            driver,
            key,
            data: Some(data),
            cancel_on_drop: true,
        }
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
            key,
            data: Some(()),
            cancel_on_drop: true,
        });
        let last = Op {
            driver,
            key: last,
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
        let key = self.key;
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
            let key = self.key;
            let data: Box<dyn Any> = Box::new(data);
            let cancel = self.cancel_on_drop;
            self.driver
                .with_uring(|ring| ring.abandon_op(key, data, cancel));
        }
    }
}
