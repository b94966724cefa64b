//! [`Value`]: one plain-old-data value in shared memory with a lock of its
//! own, as Python's `multiprocessing.Value`.
//!
//! The value and its robust lock (see [`Lock`](super::Lock)) share one
//! anonymous memory file. [`lock`](Value::lock) gives a guard that derefs
//! to the value, the counterpart of Python's
//! `with v.get_lock(): v.value += 1`; [`get`](Value::get) and
//! [`set`](Value::set) each take the lock once, as Python's `v.value` does.
//! A process that dies holding the lock leaves it to the next acquirer with
//! [`LockError::OwnerDied`], carrying the guard.
//!
//! ```
//! let v = brigade::process::Value::new(1u32).unwrap();
//! *v.lock().unwrap() += 1;
//! assert_eq!(v.get().unwrap(), 2);
//! ```

use std::cell::UnsafeCell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::lock_error::{LockError, Wait, acquire};
use super::region::{Region, SharedState};
use super::shared::Pod;
use crate::sys::robust::RobustMutex;

#[repr(C)]
struct ValueState<T> {
    mutex: RobustMutex,
    value: UnsafeCell<T>,
}

// SAFETY: the mutex is plain bytes changed only by the C library's atomic
// operations; the value is Pod (every bit pattern valid, no pointers) and
// is read or written only under the mutex.
unsafe impl<T: Pod> SharedState for ValueState<T> {
    fn held_in_this_process(&self) -> bool {
        self.mutex.held_in_this_process()
    }
}
// SAFETY: as above: access to the cell is serialized by the mutex.
unsafe impl<T: Pod> Sync for ValueState<T> {}

/// A `T` in memory shared between processes, with its own lock (Python's
/// `multiprocessing.Value`). Clone it to share it among threads; pass it to
/// a child to share it there. The lock is robust, as a [`Lock`](super::Lock)
/// is: a holder's death is [`LockError::OwnerDied`] for the next one, with
/// the guard (and whatever the dead holder wrote).
///
/// ```
/// use brigade::process::{Process, Value};
///
/// fn count(v: Value<u64>, n: u64) {
///     for _ in 0..n {
///         let mut g = v.lock().unwrap();
///         *g += 1;
///     }
/// }
///
/// let v = Value::new(0u64).unwrap();
/// let mut a = Process::new(count, (v.clone(), 500));
/// let mut b = Process::new(count, (v.clone(), 500));
/// a.start().unwrap();
/// b.start().unwrap();
/// a.join().unwrap();
/// b.join().unwrap();
/// assert_eq!(v.get().unwrap(), 1000);
/// ```
///
/// # Differences from Python
/// - The type is a Rust type ([`Pod`]), not a ctypes code (`'i'`, `'d'`).
/// - There is no `lock=False` variant: the uncontended lock costs one
///   atomic operation each way. For a lock-free counter, share an atomic
///   through a [`SharedArray`](super::SharedArray) instead.
/// - `v.value += 1` in Python is two separate locked steps (a lost update
///   waiting to happen); here [`lock`](Value::lock) makes the natural form
///   the correct one, and [`update`](Value::update) does it in one call.
pub struct Value<T: Pod> {
    region: Region<ValueState<T>>,
}

impl<T: Pod> Value<T> {
    /// A shared value holding `value`.
    ///
    /// ```
    /// let v = brigade::process::Value::new(1.5f64).unwrap();
    /// assert_eq!(v.get().unwrap(), 1.5);
    /// ```
    ///
    /// # Errors
    /// The error of creating the shared memory it lives in (`ENOMEM`,
    /// `EMFILE`).
    pub fn new(value: T) -> io::Result<Value<T>> {
        let region = Region::new(c"brigade-value", |s: &ValueState<T>| {
            // SAFETY: the region is fresh, seen by no one else yet; the
            // cell is written before anyone could read it.
            unsafe {
                s.value.get().write(value);
                s.mutex.init(false)
            }
        })?;
        Ok(Value { region })
    }

    /// Locks the value; the guard derefs to it and releases the lock when
    /// dropped (Python: `with v.get_lock(): ...`).
    ///
    /// ```
    /// let v = brigade::process::Value::new(0u64).unwrap();
    /// {
    ///     let mut g = v.lock().unwrap();
    ///     *g += 1;
    /// }
    /// assert_eq!(v.get().unwrap(), 1);
    /// ```
    ///
    /// # Errors
    /// [`LockError::OwnerDied`], holding the guard, if the previous holder
    /// died holding the lock (what it protects may be half-updated); [`LockError::WouldDeadlock`] if this thread holds it
    /// already; [`LockError::Io`] if the system refuses.
    pub fn lock(&self) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        self.lock_with(Wait::Forever)
    }

    /// Locks the value, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let v = brigade::process::Value::new(3i32).unwrap();
    /// assert_eq!(*v.lock_timeout(Duration::from_millis(5)).unwrap(), 3);
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] when the time runs out; else as [`lock`](Self::lock).
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        self.lock_with(Wait::For(timeout))
    }

    /// Locks the value if no one holds its lock.
    ///
    /// ```
    /// let v = brigade::process::Value::new(3i32).unwrap();
    /// let g = v.try_lock().unwrap();
    /// # drop(g);
    /// ```
    ///
    /// # Errors
    /// [`LockError::Timeout`] if another thread or process holds it; else as
    /// [`lock`](Self::lock).
    pub fn try_lock(&self) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        self.lock_with(Wait::Never)
    }

    fn lock_with(&self, wait: Wait) -> Result<ValueGuard<'_, T>, LockError<ValueGuard<'_, T>>> {
        let state = self.region.state();
        acquire(&state.mutex, wait, || ValueGuard {
            state,
            _thread_bound: PhantomData,
        })
    }

    /// A copy of the value, read under the lock (Python: `v.value`).
    ///
    /// ```
    /// let v = brigade::process::Value::new([1u8, 2]).unwrap();
    /// assert_eq!(v.get().unwrap(), [1, 2]);
    /// ```
    ///
    /// # Errors
    /// As [`lock`](Self::lock); [`LockError::OwnerDied`] holds the value
    /// read.
    pub fn get(&self) -> Result<T, LockError<T>> {
        match self.lock() {
            Ok(g) => Ok(*g),
            Err(e) => Err(e.map(|g| *g)),
        }
    }

    /// Replaces the value under the lock (Python: `v.value = x`). After a
    /// dead holder, the value was still written: the error says so.
    ///
    /// ```
    /// let v = brigade::process::Value::new(0i64).unwrap();
    /// v.set(-4).unwrap();
    /// assert_eq!(v.get().unwrap(), -4);
    /// ```
    ///
    /// # Errors
    /// As [`lock`](Self::lock); the value is written either way once the
    /// lock is held.
    pub fn set(&self, value: T) -> Result<(), LockError<()>> {
        self.update(|v| *v = value)
    }

    /// Runs `f` on the value under the lock, once (after a dead holder too;
    /// the error then says so).
    ///
    /// ```
    /// let v = brigade::process::Value::new(10u32).unwrap();
    /// v.update(|n| *n *= 3).unwrap();
    /// assert_eq!(v.get().unwrap(), 30);
    /// ```
    ///
    /// # Errors
    /// As [`lock`](Self::lock); [`LockError::OwnerDied`] holds what `f`
    /// returned (`f` ran).
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R, LockError<R>> {
        match self.lock() {
            Ok(mut g) => Ok(f(&mut g)),
            Err(e) => Err(e.map(|mut g| f(&mut g))),
        }
    }
}

/// The locked value of a [`Value`]: derefs to `T`; dropping it releases
/// the lock.
///
/// ```
/// let v = brigade::process::Value::new(1u8).unwrap();
/// let mut g: brigade::process::ValueGuard<'_, u8> = v.lock().unwrap();
/// *g = 2;
/// drop(g);
/// assert_eq!(v.get().unwrap(), 2);
/// ```
pub struct ValueGuard<'a, T: Pod> {
    state: &'a ValueState<T>,
    _thread_bound: PhantomData<*const ()>,
}

impl<T: Pod> Deref for ValueGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the value's lock, so no one writes it
        // meanwhile (in this process or another); the cell holds a valid T
        // (Pod: any bit pattern) in the mapping the borrow keeps alive.
        unsafe { &*self.state.value.get() }
    }
}

impl<T: Pod> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference
        // made through this guard, and the lock excludes every other.
        unsafe { &mut *self.state.value.get() }
    }
}

impl<T: Pod> Drop for ValueGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard exists only while this thread holds the mutex
        // (it is !Send), and releases once.
        unsafe { self.state.mutex.unlock() };
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for ValueGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Pod> Clone for Value<T> {
    fn clone(&self) -> Value<T> {
        Value {
            region: self.region.clone(),
        }
    }
}

impl<T: Pod> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.region.serialize(s)
    }
}

impl<'de, T: Pod> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Value {
            region: Region::deserialize(d)?,
        })
    }
}

impl<T: Pod> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value").finish_non_exhaustive()
    }
}
