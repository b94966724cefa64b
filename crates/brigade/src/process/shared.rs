//! [`SharedArray`]: a typed array in memory shared by processes, for bulk
//! data that should not be copied through a channel (Python's
//! `multiprocessing.Array`).
//!
//! The memory is an anonymous memory file (`memfd_create`, never visible in
//! any directory) mapped by every process that holds the array; passing the
//! array to a child passes the file's descriptor. Elements are plain old
//! data ([`Pod`]): any bit pattern is a valid value, so what another process
//! wrote can never be an invalid `T`.
//!
//! Access goes through a readers-writer lock that spans processes:
//! [`read`](SharedArray::read) and [`write`](SharedArray::write) take an
//! open-file-description lock (`F_OFD_SETLKW`) on the memory file, plus an
//! in-process lock for the threads that share one handle. The kernel drops
//! such a lock when its holder dies, so a crashed child never leaves the
//! array locked.
//!
//! ```
//! use brigade::process::{Process, SharedArray};
//!
//! fn fill(a: SharedArray<f64>, value: f64) {
//!     a.write().fill(value);
//! }
//!
//! let a = SharedArray::<f64>::new(1000).unwrap();
//! let mut p = Process::new(fill, (a.clone(), 2.5));
//! p.start().unwrap();
//! p.join().unwrap();
//! assert!(a.read().iter().all(|&x| x == 2.5));
//! ```

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::de::{self, Deserializer};
use serde::ser::{self, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use super::transfer;
use crate::sys::memory as sys_memory;

/// Plain old data: a `Copy` type without padding or pointers, for which
/// every bit pattern is a valid value.
///
/// # Safety
/// Implement it only for types that meet that description (integers,
/// floats, and arrays or `#[repr(C)]` structs made of them without padding).
///
/// # Examples
/// ```
/// use brigade::process::{Pod, SharedArray};
///
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// #[repr(C)]
/// struct Point {
///     x: f32,
///     y: f32,
/// }
/// // SAFETY: two f32s, no padding, and every bit pattern is a valid Point.
/// unsafe impl Pod for Point {}
///
/// let points = SharedArray::from_slice(&[Point { x: 1.0, y: 2.0 }]).unwrap();
/// assert_eq!(points.to_vec()[0].y, 2.0);
/// ```
pub unsafe trait Pod: Copy + Send + Sync + 'static {}

macro_rules! pod {
    ($($t:ty),*) => { $(
        // SAFETY: a primitive number: no padding, every bit pattern valid.
        unsafe impl Pod for $t {}
    )* };
}
pod!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);
// SAFETY: an array of Pod has no padding between elements and every bit
// pattern of each element is valid.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// A fixed-length array of `T` shared between processes; see the module.
///
/// # Examples
/// A child fills the array; the parent reads it, with no copy over a pipe:
/// ```
/// use brigade::process::{Process, SharedArray};
///
/// fn fill(data: SharedArray<u64>) {
///     for (i, slot) in data.write().iter_mut().enumerate() {
///         *slot = i as u64 * 10;
///     }
/// }
///
/// let data = SharedArray::<u64>::new(4).unwrap();
/// let mut p = Process::new(fill, (data.clone(),));
/// p.start().unwrap();
/// p.join().unwrap();
/// assert_eq!(data.to_vec(), [0, 10, 20, 30]);
/// ```
pub struct SharedArray<T: Pod> {
    map: Arc<Mapping>,
    _element: PhantomData<T>,
}

struct Mapping {
    /// This handle's own open file description: its locks are its own.
    fd: OwnedFd,
    ptr: *mut u8,
    bytes: usize,
    len: usize,
    lock: RwLock<()>,
    /// Readers in this process: the shared file lock is taken by the first
    /// and released by the last (one description holds one lock).
    readers: Mutex<usize>,
}

// SAFETY: the mapping is plain shared memory; every access to it goes
// through `lock` (in-process) and the file lock (across processes).
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/bytes come from mmap_shared; no guard outlives the
        // mapping, since guards borrow the SharedArray that holds the Arc.
        unsafe { sys_memory::munmap(self.ptr, self.bytes) };
    }
}

impl<T: Pod> SharedArray<T> {
    /// An array of `len` zeroed elements.
    ///
    /// # Examples
    /// ```
    /// let a = brigade::process::SharedArray::<i32>::new(3).unwrap();
    /// assert_eq!(a.to_vec(), [0, 0, 0]);
    /// ```
    ///
    /// # Errors
    /// The error of creating or sizing the memory file (`ENOMEM`, `EMFILE`).
    pub fn new(len: usize) -> io::Result<SharedArray<T>> {
        let bytes = len
            .checked_mul(size_of::<T>())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "array too large"))?;
        let name = c"brigade-shared-array";
        let fd = sys_memory::memfd(name, bytes)?;
        Self::map(fd, len)
    }

    /// An array holding a copy of `values`.
    ///
    /// # Examples
    /// ```
    /// let a = brigade::process::SharedArray::from_slice(&[1.5f64, 2.5]).unwrap();
    /// assert_eq!(a.read()[1], 2.5);
    /// ```
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn from_slice(values: &[T]) -> io::Result<SharedArray<T>> {
        let a = Self::new(values.len())?;
        a.write().copy_from_slice(values);
        Ok(a)
    }

    fn map(fd: OwnedFd, len: usize) -> io::Result<SharedArray<T>> {
        let bytes = len * size_of::<T>();
        if sys_memory::file_len(fd.as_fd())? < bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the shared memory file is smaller than the array",
            ));
        }
        // mmap refuses a zero length: map one byte that is never read.
        let ptr = sys_memory::mmap_shared(fd.as_fd(), bytes.max(1))?;
        Ok(SharedArray {
            map: Arc::new(Mapping {
                fd,
                ptr,
                bytes: bytes.max(1),
                len,
                lock: RwLock::new(()),
                readers: Mutex::new(0),
            }),
            _element: PhantomData,
        })
    }

    /// The number of elements.
    ///
    /// # Examples
    /// ```
    /// let a = brigade::process::SharedArray::<u8>::new(16).unwrap();
    /// assert_eq!(a.len(), 16);
    /// ```
    pub fn len(&self) -> usize {
        self.map.len
    }

    /// Whether the array has no elements.
    ///
    /// # Examples
    /// ```
    /// let a = brigade::process::SharedArray::<u8>::new(0).unwrap();
    /// assert!(a.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.len == 0
    }

    /// Locks the array for reading (many readers at once, across processes).
    ///
    /// # Examples
    /// ```
    /// let a = brigade::process::SharedArray::from_slice(&[3u8, 1, 2]).unwrap();
    /// let r1 = a.read();
    /// let r2 = a.read(); // readers share
    /// assert_eq!(r1.iter().max(), r2.iter().max());
    /// ```
    pub fn read(&self) -> ReadGuard<'_, T> {
        let local = self.map.lock.read().unwrap_or_else(|e| e.into_inner());
        let mut readers = self.map.readers.lock().unwrap_or_else(|e| e.into_inner());
        if *readers == 0 {
            let _ = sys_memory::ofd_lock(self.map.fd.as_fd(), true, false);
        }
        *readers += 1;
        drop(readers);
        ReadGuard {
            array: self,
            _local: local,
        }
    }

    /// Locks the array for writing (one writer, no readers, across
    /// processes).
    ///
    /// # Examples
    /// ```
    /// let a = brigade::process::SharedArray::<u32>::new(2).unwrap();
    /// a.write()[1] = 99;
    /// assert_eq!(a.to_vec(), [0, 99]);
    /// ```
    pub fn write(&self) -> WriteGuard<'_, T> {
        let local = self.map.lock.write().unwrap_or_else(|e| e.into_inner());
        let _ = sys_memory::ofd_lock(self.map.fd.as_fd(), false, false);
        WriteGuard {
            array: self,
            _local: local,
        }
    }

    /// A copy of the contents.
    ///
    /// # Examples
    /// ```
    /// let a = brigade::process::SharedArray::from_slice(&[7i16, 8]).unwrap();
    /// let copy = a.to_vec();
    /// a.write()[0] = 0;
    /// assert_eq!(copy, [7, 8]); // a copy: unchanged
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.read().to_vec()
    }

    fn slice(&self) -> &[T] {
        // SAFETY: the mapping holds `len` elements of T (checked against
        // the file's size when mapped), is aligned to a page, and every bit
        // pattern is a valid T (Pod). The caller holds a read or write lock
        // over the whole array, in this process and across processes, so no
        // one writes while this slice lives.
        unsafe { std::slice::from_raw_parts(self.map.ptr.cast::<T>(), self.map.len) }
    }

    #[allow(clippy::mut_from_ref)]
    fn slice_mut(&self) -> &mut [T] {
        // SAFETY: as in `slice`; the caller holds the write lock in this
        // process and across processes, so this is the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.map.ptr.cast::<T>(), self.map.len) }
    }
}

impl<T: Pod> Clone for SharedArray<T> {
    fn clone(&self) -> SharedArray<T> {
        SharedArray {
            map: self.map.clone(),
            _element: PhantomData,
        }
    }
}

/// Read access to a [`SharedArray`].
///
/// # Examples
/// ```
/// use brigade::process::{ReadGuard, SharedArray};
///
/// let a = SharedArray::from_slice(&[1u32, 2, 3]).unwrap();
/// let guard: ReadGuard<'_, u32> = a.read();
/// assert_eq!(guard.iter().sum::<u32>(), 6); // derefs to a slice
/// ```
pub struct ReadGuard<'a, T: Pod> {
    array: &'a SharedArray<T>,
    _local: RwLockReadGuard<'a, ()>,
}

impl<T: Pod> Deref for ReadGuard<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.array.slice()
    }
}

impl<T: Pod> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        let map = &self.array.map;
        let mut readers = map.readers.lock().unwrap_or_else(|e| e.into_inner());
        *readers -= 1;
        if *readers == 0 {
            let _ = sys_memory::ofd_lock(map.fd.as_fd(), true, true);
        }
    }
}

/// Write access to a [`SharedArray`].
///
/// # Examples
/// ```
/// use brigade::process::{SharedArray, WriteGuard};
///
/// let a = SharedArray::<u8>::new(3).unwrap();
/// let mut guard: WriteGuard<'_, u8> = a.write();
/// guard.copy_from_slice(&[1, 2, 3]); // derefs to a mutable slice
/// drop(guard);
/// assert_eq!(a.to_vec(), [1, 2, 3]);
/// ```
pub struct WriteGuard<'a, T: Pod> {
    array: &'a SharedArray<T>,
    _local: RwLockWriteGuard<'a, ()>,
}

impl<T: Pod> Deref for WriteGuard<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.array.slice()
    }
}

impl<T: Pod> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.array.slice_mut()
    }
}

impl<T: Pod> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        let _ = sys_memory::ofd_lock(self.array.map.fd.as_fd(), false, true);
    }
}

impl<T: Pod> Serialize for SharedArray<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = transfer::attach(self.map.fd.as_fd()).map_err(ser::Error::custom)?;
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&index)?;
        t.serialize_element(&(self.map.len as u64))?;
        t.end()
    }
}

impl<'de, T: Pod> Deserialize<'de> for SharedArray<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (index, len) = <(u32, u64)>::deserialize(d)?;
        let fd = transfer::detach(index).map_err(de::Error::custom)?;
        // A description of our own, so that our file locks exclude the
        // sender's.
        let fd = sys_memory::reopen(fd.as_fd()).map_err(de::Error::custom)?;
        let len = usize::try_from(len).map_err(de::Error::custom)?;
        if len.checked_mul(size_of::<T>()).is_none() {
            return Err(de::Error::custom("shared array length overflows"));
        }
        SharedArray::map(fd, len).map_err(de::Error::custom)
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for SharedArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedArray")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
