//! [`DictProxy`]: a dict held by a [`Manager`](super::Manager)'s server,
//! as Python's `DictProxy` (what `manager.dict()` returns).
//!
//! Every method is one round trip to the server and one atomic step
//! there. Entries keep their insertion order, as in Python: `keys`,
//! `values` and `items` list them in the order their keys first arrived.
//!
//! ```
//! use brigade::process::Manager;
//!
//! let manager = Manager::start().unwrap();
//! let d = manager.dict::<String, u32>().unwrap();
//! d.insert("b".to_string(), 2).unwrap();
//! d.insert("a".to_string(), 1).unwrap();
//! assert_eq!(d.keys().unwrap(), ["b", "a"]);
//! ```

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::error::StartError;
use super::function::{Callable, FnRef};
use super::manager_error::ManagerError;
use super::manager_link::{Remote, blob, unexpected, value};
use super::manager_wire::{Answer, Blob, Op};

/// A shared dict from `K` to `V`; see [`Manager`](super::Manager). Clone it
/// for another thread, or pass it to a child process: each process makes
/// its own connection to the server.
///
/// Every method is one round trip and one atomic step on the server.
/// Entries keep their insertion order, as in Python. Keys are compared by
/// their encoding (equal bytes, same key), which for integers, strings and
/// tuples or enums of them is `==`.
///
/// ```
/// use brigade::process::{DictProxy, Manager, Process};
///
/// fn square_into(d: DictProxy<u64, u64>, n: u64) {
///     d.insert(n, n * n).unwrap();
/// }
///
/// let manager = Manager::start().unwrap();
/// let d = manager.dict().unwrap();
/// let mut p = Process::new(square_into, (d.clone(), 7));
/// p.start().unwrap();
/// p.join().unwrap();
/// assert_eq!(d.get(7).unwrap(), Some(49));
/// ```
pub struct DictProxy<K, V> {
    remote: Remote,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> DictProxy<K, V>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    pub(crate) fn new(remote: Remote) -> DictProxy<K, V> {
        DictProxy {
            remote,
            _types: PhantomData,
        }
    }

    /// The value of `key`, if it has one (Python's `d.get(key)`). Takes
    /// the key by value or by reference.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, String>().unwrap();
    /// d.insert(1, "one".to_string()).unwrap();
    /// assert_eq!(d.get(&1).unwrap().as_deref(), Some("one"));
    /// assert_eq!(d.get(2).unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn get(&self, key: impl Borrow<K>) -> Result<Option<V>, ManagerError> {
        let op = Op::Get(blob(key.borrow())?);
        self.maybe(op)
    }

    /// Sets `key` to `value` and returns the value it had (Python's
    /// `d[key] = value`, which returns nothing). A key already present
    /// keeps its place in the order.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<char, i32>().unwrap();
    /// assert_eq!(d.insert('x', 1).unwrap(), None);
    /// assert_eq!(d.insert('x', 2).unwrap(), Some(1));
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn insert(
        &self,
        key: impl Borrow<K>,
        value: impl Borrow<V>,
    ) -> Result<Option<V>, ManagerError> {
        let op = Op::Insert(blob(key.borrow())?, blob(value.borrow())?);
        self.maybe(op)
    }

    /// Removes `key` and returns its value, if it had one (Python's
    /// `d.pop(key, None)`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(1, 10).unwrap();
    /// assert_eq!(d.remove(1).unwrap(), Some(10));
    /// assert_eq!(d.remove(1).unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn remove(&self, key: impl Borrow<K>) -> Result<Option<V>, ManagerError> {
        let op = Op::Remove(blob(key.borrow())?);
        self.maybe(op)
    }

    /// Whether `key` has a value (Python's `key in d`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, ()>().unwrap();
    /// d.insert(1, ()).unwrap();
    /// assert!(d.contains_key(1).unwrap());
    /// assert!(!d.contains_key(2).unwrap());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn contains_key(&self, key: impl Borrow<K>) -> Result<bool, ManagerError> {
        match self.remote.call(Op::Contains(blob(key.borrow())?))? {
            Answer::Bool(b) => Ok(b),
            other => Err(unexpected(&other)),
        }
    }

    /// The number of entries (Python's `len(d)`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.update([(1, 1), (2, 2)]).unwrap();
    /// assert_eq!(d.len().unwrap(), 2);
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

    /// Whether the dict has no entries.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// assert!(d.is_empty().unwrap());
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

    /// The keys, in insertion order (a copy, as Python's `list(d.keys())`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.update([(3, 0), (1, 0)]).unwrap();
    /// assert_eq!(d.keys().unwrap(), [3, 1]);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn keys(&self) -> Result<Vec<K>, ManagerError> {
        self.many(Op::Keys)
    }

    /// The values, in their keys' insertion order (a copy).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, char>().unwrap();
    /// d.update([(3, 'c'), (1, 'a')]).unwrap();
    /// assert_eq!(d.values().unwrap(), ['c', 'a']);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn values(&self) -> Result<Vec<V>, ManagerError> {
        self.many(Op::Values)
    }

    /// The entries, in insertion order (a copy, as Python's
    /// `list(d.items())`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, char>().unwrap();
    /// d.update([(3, 'c'), (1, 'a')]).unwrap();
    /// assert_eq!(d.items().unwrap(), [(3, 'c'), (1, 'a')]);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn items(&self) -> Result<Vec<(K, V)>, ManagerError> {
        match self.remote.call(Op::Items)? {
            Answer::Pairs(pairs) => pairs
                .iter()
                .map(|(k, v)| Ok((value(k)?, value(v)?)))
                .collect(),
            other => Err(unexpected(&other)),
        }
    }

    /// Removes every entry (Python's `d.clear()`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u8, u8>().unwrap();
    /// d.insert(1, 1).unwrap();
    /// d.clear().unwrap();
    /// assert!(d.is_empty().unwrap());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn clear(&self) -> Result<(), ManagerError> {
        match self.remote.call(Op::Clear)? {
            Answer::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Inserts every pair, in one atomic step (Python's `d.update(pairs)`):
    /// no other process sees some of them without the others.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<u32, u32>().unwrap();
    /// d.update((0..10).map(|i| (i, i * i))).unwrap();
    /// assert_eq!(d.get(9).unwrap(), Some(81));
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn update<I>(&self, pairs: I) -> Result<(), ManagerError>
    where
        I: IntoIterator,
        I::Item: Borrow<(K, V)>,
    {
        let pairs = pairs
            .into_iter()
            .map(|pair| {
                let (k, v) = pair.borrow();
                Ok((blob(k)?, blob(v)?))
            })
            .collect::<Result<Vec<(Blob, Blob)>, ManagerError>>()?;
        match self.remote.call(Op::Update(pairs))? {
            Answer::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Sets `key` to `f(current value)` in one atomic step on the server,
    /// and returns the new value: a read-modify-write that no other
    /// process can interleave with (Python's proxies offer none; there a
    /// `get` and a `set` from two processes can lose an update).
    ///
    /// `f` runs in the server process, under the dict's lock: it must be a
    /// fn item or a closure that captures nothing (it is named across
    /// processes as [`Process::new`](super::Process::new)'s function is;
    /// else [`ManagerError::Function`]), and it should be quick, since the
    /// dict waits for it. It must not use this manager's proxies (the dict
    /// is locked). If it panics, the entry is unchanged and the result is
    /// [`ManagerError::Panicked`].
    ///
    /// ```
    /// use brigade::process::{DictProxy, Manager, Process};
    ///
    /// fn count(d: DictProxy<String, u64>, times: u32) {
    ///     for _ in 0..times {
    ///         d.update_with("hits".to_string(), |n: Option<u64>| n.unwrap_or(0) + 1).unwrap();
    ///     }
    /// }
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<String, u64>().unwrap();
    /// let mut workers: Vec<_> = (0..3).map(|_| Process::new(count, (d.clone(), 50))).collect();
    /// for w in &mut workers {
    ///     w.start().unwrap();
    /// }
    /// for w in &mut workers {
    ///     w.join().unwrap();
    /// }
    /// // No increment was lost.
    /// assert_eq!(d.get("hits".to_string()).unwrap(), Some(150));
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    /// [`ManagerError::Panicked`] if the function panicked in the server
    /// (the entry is unchanged), [`ManagerError::Function`] if it cannot run
    /// there.
    pub fn update_with<F>(&self, key: impl Borrow<K>, f: F) -> Result<V, ManagerError>
    where
        F: Callable<(Option<V>,), Output = V>,
    {
        // The function is named by its type: the value carries nothing.
        let _ = f;
        let function = FnRef::single::<F, (Option<V>,)>()
            .map_err(|e| ManagerError::Function(StartError::from(e)))?;
        match self.maybe(Op::UpdateWith(blob(key.borrow())?, function))? {
            Some(new) => Ok(new),
            None => Err(unexpected(&Answer::Value(None))),
        }
    }

    fn maybe(&self, op: Op) -> Result<Option<V>, ManagerError> {
        match self.remote.call(op)? {
            Answer::Value(v) => v.as_ref().map(value).transpose(),
            other => Err(unexpected(&other)),
        }
    }

    fn many<T: DeserializeOwned>(&self, op: Op) -> Result<Vec<T>, ManagerError> {
        match self.remote.call(op)? {
            Answer::Many(blobs) => blobs.iter().map(value).collect(),
            other => Err(unexpected(&other)),
        }
    }
}

impl<K, V> Clone for DictProxy<K, V> {
    fn clone(&self) -> DictProxy<K, V> {
        DictProxy {
            remote: self.remote.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, V> fmt::Debug for DictProxy<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DictProxy").field(&self.remote).finish()
    }
}

impl<K, V> Serialize for DictProxy<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.remote.serialize(s)
    }
}

impl<'de, K, V> Deserialize<'de> for DictProxy<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(DictProxy {
            remote: Remote::deserialize(d, std::any::type_name::<(K, V)>())?,
            _types: PhantomData,
        })
    }
}
