//! A region: one small `#[repr(C)]` state structure in an anonymous memory
//! file, mapped by every process that holds it, and carried to another
//! process as its descriptor, the way [`SharedArray`](super::SharedArray)
//! is. The cross-process [`Lock`](super::Lock), [`Value`](super::Value),
//! [`Semaphore`](super::Semaphore), [`Event`](super::Event),
//! [`Condition`](super::Condition), [`Barrier`](super::Barrier) and
//! [`JoinableQueue`](super::JoinableQueue) each keep their state in one.
//!
//! The state holds atomics (futex words), robust mutexes and plain old data
//! only: nothing in it points anywhere, so each process may map it at
//! another address, and any bit pattern is a valid state. Its atomics are
//! `std`'s, not the `crate::loom` shim's: loom's model types cannot live in
//! memory that another process reads.
//!
//! ```
//! use brigade::process::{Event, Process};
//!
//! // An Event is a region; passing it to a child passes the memory file.
//! fn set(e: Event) {
//!     e.set();
//! }
//!
//! let e = Event::new().unwrap();
//! let mut p = Process::new(set, (e.clone(),));
//! p.start().unwrap();
//! p.join().unwrap();
//! assert!(e.is_set());
//! ```

use std::ffi::CStr;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};

use super::transfer;
use crate::sys::memory as sys_memory;

/// A state structure that may live in memory shared between processes.
///
/// # Safety
/// Every bit pattern (all zeroes included) is a valid value, it holds no
/// pointers, and all its mutation goes through interior mutability that is
/// sound across threads (atomics, robust mutexes, data under such a mutex).
pub(crate) unsafe trait SharedState: Sync + Send + 'static {
    /// Whether a thread of this process holds a robust mutex inside: then
    /// the memory must stay mapped even once the last handle is gone (a
    /// guard was forgotten), since that thread's robust list links to it.
    fn held_in_this_process(&self) -> bool {
        false
    }
}

/// One `S` in shared memory; clones and copies in other processes share it.
pub(crate) struct Region<S: SharedState> {
    map: Arc<Mapping>,
    _state: PhantomData<S>,
}

struct Mapping {
    fd: OwnedFd,
    ptr: *mut u8,
    bytes: usize,
    /// `S::held_in_this_process` on this mapping's state.
    held: fn(*const u8) -> bool,
}

// SAFETY: the mapping is shared memory whose contents are only reached
// through `&S`, and S is Sync (SharedState).
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        if (self.held)(self.ptr) {
            // A forgotten guard: a thread of ours holds a mutex in here and
            // its robust list links to it. Keep the page mapped for good
            // (the price of `mem::forget` on a guard is one page).
            return;
        }
        // SAFETY: ptr/bytes come from mmap_shared, every `&S` borrows a
        // Region that holds this Arc, so none outlives the mapping, and no
        // thread's robust list links into it (checked above).
        unsafe { sys_memory::munmap(self.ptr, self.bytes) };
    }
}

impl<S: SharedState> Region<S> {
    /// A zeroed `S` in a fresh memory file, then `init` on it (before any
    /// other process or thread can see it).
    pub(crate) fn new(name: &CStr, init: impl FnOnce(&S) -> io::Result<()>) -> io::Result<Self> {
        let fd = sys_memory::memfd(name, size_of::<S>().max(1))?;
        let region = Self::map(fd)?;
        init(region.state())?;
        Ok(region)
    }

    /// The region in a memory file another process made and sent some
    /// other way than as a serialized region: it must hold at least one `S`.
    pub(crate) fn open(fd: OwnedFd) -> io::Result<Self> {
        Self::map(fd)
    }

    /// The memory file, to send to another process.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.map.fd.as_fd()
    }

    fn map(fd: OwnedFd) -> io::Result<Self> {
        let bytes = size_of::<S>().max(1);
        if sys_memory::file_len(fd.as_fd())? < bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the shared memory file is smaller than its state",
            ));
        }
        let ptr = sys_memory::mmap_shared(fd.as_fd(), bytes)?;
        Ok(Region {
            map: Arc::new(Mapping {
                fd,
                ptr,
                bytes,
                held: held_in_this_process::<S>,
            }),
            _state: PhantomData,
        })
    }

    /// The shared state.
    pub(crate) fn state(&self) -> &S {
        // SAFETY: the mapping holds at least size_of::<S>() bytes (checked
        // when mapped) at a page-aligned address; any bit pattern is a valid
        // S and all mutation is interior (SharedState), so a shared
        // reference is sound for as long as the mapping, which `self` keeps.
        unsafe { &*self.map.ptr.cast::<S>() }
    }
}

fn held_in_this_process<S: SharedState>(ptr: *const u8) -> bool {
    // SAFETY: `ptr` is the start of a live mapping of at least
    // size_of::<S>() bytes holding an S (any bit pattern is one); the
    // Mapping that calls this still maps it.
    unsafe { &*ptr.cast::<S>() }.held_in_this_process()
}

impl<S: SharedState> Clone for Region<S> {
    fn clone(&self) -> Self {
        Region {
            map: self.map.clone(),
            _state: PhantomData,
        }
    }
}

impl<S: SharedState> Serialize for Region<S> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let index = transfer::attach(self.map.fd.as_fd()).map_err(ser::Error::custom)?;
        index.serialize(s)
    }
}

impl<'de, S: SharedState> Deserialize<'de> for Region<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let index = u32::deserialize(d)?;
        let fd = transfer::detach(index).map_err(de::Error::custom)?;
        Region::map(fd).map_err(de::Error::custom)
    }
}
