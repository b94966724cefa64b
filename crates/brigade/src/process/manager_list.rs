//! [`ListProxy`]: a list held by a [`Manager`](super::Manager)'s server,
//! as Python's `ListProxy` (what `manager.list()` returns).
//!
//! Every method is one round trip to the server and one atomic step
//! there. Indices are `usize`, as in a `Vec`: Python's negative indices
//! (counting from the end) are not offered, and an index past the end is
//! [`ManagerError::IndexOutOfRange`] (Python's `IndexError`).
//!
//! ```
//! use brigade::process::Manager;
//!
//! let manager = Manager::start().unwrap();
//! let l = manager.list::<u32>().unwrap();
//! l.extend([1, 2, 3]).unwrap();
//! assert_eq!(l.pop().unwrap(), Some(3));
//! assert_eq!(l.to_vec().unwrap(), [1, 2]);
//! ```

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::manager_error::ManagerError;
use super::manager_link::{Remote, blob, unexpected, value};
use super::manager_wire::{Answer, Blob, Op};

/// A shared list of `T`; see [`Manager`](super::Manager). Clone it for
/// another thread, or pass it to a child process: each process makes its
/// own connection to the server.
///
/// Every method is one round trip and one atomic step on the server.
/// Indices are `usize`, as in a `Vec` (no negative indices from the end);
/// past the end they are [`ManagerError::IndexOutOfRange`] (Python's
/// `IndexError`).
///
/// ```
/// use brigade::process::{ListProxy, Manager, Process};
///
/// fn log(l: ListProxy<String>, line: String) {
///     l.push(line).unwrap();
/// }
///
/// let manager = Manager::start().unwrap();
/// let l = manager.list().unwrap();
/// let mut p = Process::new(log, (l.clone(), "from the child".to_string()));
/// p.start().unwrap();
/// p.join().unwrap();
/// assert_eq!(l.to_vec().unwrap(), ["from the child"]);
/// ```
pub struct ListProxy<T> {
    remote: Remote,
    _element: PhantomData<fn() -> T>,
}

impl<T> ListProxy<T>
where
    T: Serialize + DeserializeOwned,
{
    pub(crate) fn new(remote: Remote) -> ListProxy<T> {
        ListProxy {
            remote,
            _element: PhantomData,
        }
    }

    /// Appends `value` at the end (Python's `l.append(value)`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.push(1).unwrap();
    /// l.push(&2).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [1, 2]);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    #[doc(alias = "append")]
    pub fn push(&self, value: impl Borrow<T>) -> Result<(), ManagerError> {
        self.done(Op::Push(blob(value.borrow())?))
    }

    /// The element at `index`, or `None` past the end (Python's `l[i]`,
    /// which raises `IndexError` there).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.push(7).unwrap();
    /// assert_eq!(l.get(0).unwrap(), Some(7));
    /// assert_eq!(l.get(1).unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn get(&self, index: usize) -> Result<Option<T>, ManagerError> {
        match self.remote.call(Op::Index(index as u64))? {
            Answer::Value(v) => v.as_ref().map(value).transpose(),
            other => Err(unexpected(&other)),
        }
    }

    /// Replaces the element at `index` and returns the old one (Python's
    /// `l[i] = value`).
    ///
    /// ```
    /// use brigade::process::{Manager, ManagerError};
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.push(1).unwrap();
    /// assert_eq!(l.set(0, 5).unwrap(), 1);
    /// assert!(matches!(l.set(1, 5), Err(ManagerError::IndexOutOfRange { index: 1, len: 1 })));
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    /// [`ManagerError::IndexOutOfRange`] for an index past the end.
    pub fn set(&self, index: usize, value: impl Borrow<T>) -> Result<T, ManagerError> {
        self.taken(Op::Set(index as u64, blob(value.borrow())?))
    }

    /// Removes the last element and returns it, or `None` if the list is
    /// empty (Python's `l.pop()`, which raises `IndexError` then).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// assert_eq!(l.pop().unwrap(), None);
    /// l.push(1).unwrap();
    /// assert_eq!(l.pop().unwrap(), Some(1));
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn pop(&self) -> Result<Option<T>, ManagerError> {
        match self.remote.call(Op::Pop)? {
            Answer::Value(v) => v.as_ref().map(value).transpose(),
            other => Err(unexpected(&other)),
        }
    }

    /// The number of elements (Python's `len(l)`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.extend([1, 2]).unwrap();
    /// assert_eq!(l.len().unwrap(), 2);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn len(&self) -> Result<usize, ManagerError> {
        match self.remote.call(Op::Len)? {
            Answer::Len(n) => Ok(n as usize),
            other => Err(unexpected(&other)),
        }
    }

    /// Whether the list has no elements.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// assert!(manager.list::<u8>().unwrap().is_empty().unwrap());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// A copy of every element (Python's `list(l)` or `l[:]`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<char>().unwrap();
    /// l.extend(['a', 'b']).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), ['a', 'b']);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn to_vec(&self) -> Result<Vec<T>, ManagerError> {
        match self.remote.call(Op::ToVec)? {
            Answer::Many(blobs) => blobs.iter().map(value).collect(),
            other => Err(unexpected(&other)),
        }
    }

    /// Appends every value, in one atomic step (Python's `l.extend(values)`):
    /// no other process's element lands between them.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u32>().unwrap();
    /// l.extend(0..3).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [0, 1, 2]);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn extend<I>(&self, values: I) -> Result<(), ManagerError>
    where
        I: IntoIterator,
        I::Item: Borrow<T>,
    {
        let values = values
            .into_iter()
            .map(|v| blob(v.borrow()))
            .collect::<Result<Vec<Blob>, ManagerError>>()?;
        self.done(Op::Extend(values))
    }

    /// Inserts `value` before `index`; `index` may be the length, which
    /// appends (Python's `l.insert(i, value)`, which clamps an index past
    /// the end; here that is [`ManagerError::IndexOutOfRange`], as
    /// `Vec::insert` refuses it).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.extend([1, 3]).unwrap();
    /// l.insert(1, 2).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [1, 2, 3]);
    /// assert!(l.insert(9, 0).is_err());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    /// [`ManagerError::IndexOutOfRange`] for an index past the end.
    pub fn insert(&self, index: usize, value: impl Borrow<T>) -> Result<(), ManagerError> {
        self.done(Op::InsertAt(index as u64, blob(value.borrow())?))
    }

    /// Removes the element at `index` and returns it (Python's `l.pop(i)`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.extend([1, 2, 3]).unwrap();
    /// assert_eq!(l.remove(0).unwrap(), 1);
    /// assert_eq!(l.to_vec().unwrap(), [2, 3]);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    /// [`ManagerError::IndexOutOfRange`] for an index past the end.
    pub fn remove(&self, index: usize) -> Result<T, ManagerError> {
        self.taken(Op::RemoveAt(index as u64))
    }

    /// Removes every element (Python's `l.clear()`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// l.push(1).unwrap();
    /// l.clear().unwrap();
    /// assert!(l.is_empty().unwrap());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn clear(&self) -> Result<(), ManagerError> {
        self.done(Op::Clear)
    }

    fn done(&self, op: Op) -> Result<(), ManagerError> {
        match self.remote.call(op)? {
            Answer::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    fn taken(&self, op: Op) -> Result<T, ManagerError> {
        match self.remote.call(op)? {
            Answer::Value(Some(v)) => value(&v),
            other => Err(unexpected(&other)),
        }
    }
}

impl<T> Clone for ListProxy<T> {
    fn clone(&self) -> ListProxy<T> {
        ListProxy {
            remote: self.remote.clone(),
            _element: PhantomData,
        }
    }
}

impl<T> fmt::Debug for ListProxy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ListProxy").field(&self.remote).finish()
    }
}

impl<T> Serialize for ListProxy<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.remote.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for ListProxy<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ListProxy {
            remote: Remote::deserialize(d, std::any::type_name::<T>())?,
            _element: PhantomData,
        })
    }
}
