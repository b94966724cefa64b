//! [`NamespaceProxy`]: named attributes held by a
//! [`Manager`](super::Manager)'s server, as Python's `manager.Namespace()`.
//!
//! Python sets and reads attributes (`ns.x = 1`, `ns.x`); here they are
//! named values, each of its own serde type: [`set`](NamespaceProxy::set)
//! records the value's type, and [`get`](NamespaceProxy::get) with another
//! type is [`ManagerError::TypeMismatch`], never a misread value.
//!
//! ```
//! use brigade::process::{Manager, ManagerError};
//!
//! let manager = Manager::start().unwrap();
//! let ns = manager.namespace().unwrap();
//! ns.set("name", &"run-7".to_string()).unwrap();
//! ns.set("epoch", &3u32).unwrap();
//! assert_eq!(ns.get::<u32>("epoch").unwrap(), Some(3));
//! assert!(matches!(ns.get::<u64>("epoch"), Err(ManagerError::TypeMismatch { .. })));
//! ```

use std::fmt;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::manager_error::ManagerError;
use super::manager_link::{Remote, blob, unexpected, value};
use super::manager_wire::{Answer, Op, tag};

/// Shared named attributes; see [`Manager`](super::Manager). Clone it for
/// another thread, or pass it to a child process.
///
/// Each attribute is a named value of its own type:
/// [`set`](Self::set) records the type, and [`get`](Self::get) with
/// another type is [`ManagerError::TypeMismatch`], never a misread value.
///
/// ```
/// use brigade::process::{Manager, NamespaceProxy, Process};
///
/// fn finish(ns: NamespaceProxy) {
///     ns.set("done", &true).unwrap();
/// }
///
/// let manager = Manager::start().unwrap();
/// let ns = manager.namespace().unwrap();
/// let mut p = Process::new(finish, (ns.clone(),));
/// p.start().unwrap();
/// p.join().unwrap();
/// assert_eq!(ns.get::<bool>("done").unwrap(), Some(true));
/// ```
#[derive(Clone)]
pub struct NamespaceProxy {
    remote: Remote,
}

impl NamespaceProxy {
    /// The type names a namespace object is made for.
    pub(crate) const TYPES: &'static str = "brigade::process::NamespaceProxy";

    pub(crate) fn new(remote: Remote) -> NamespaceProxy {
        NamespaceProxy { remote }
    }

    /// The value of attribute `name`, or `None` if it has none (Python's
    /// `getattr(ns, name, None)`). An attribute of another type than `T`
    /// is [`ManagerError::TypeMismatch`].
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// assert_eq!(ns.get::<u8>("missing").unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ManagerError> {
        let requested = std::any::type_name::<T>();
        let op = Op::GetAttr {
            name: name.to_string(),
            tag: tag(requested),
        };
        match self.remote.call_as(op, requested)? {
            Answer::Value(v) => v.as_ref().map(value).transpose(),
            other => Err(unexpected(&other)),
        }
    }

    /// Sets attribute `name` to `value`, whatever it held before and of
    /// whatever type (Python's `setattr(ns, name, value)`). The attribute
    /// is then of type `T`, the type [`get`](Self::get) reads it as; so
    /// `T` is an owned type (`String`, not `&str`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// ns.set("x", &1u8).unwrap();
    /// ns.set("x", &"now a string".to_string()).unwrap();
    /// assert_eq!(ns.get::<String>("x").unwrap().as_deref(), Some("now a string"));
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn set<T: Serialize + DeserializeOwned>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<(), ManagerError> {
        let op = Op::SetAttr {
            name: name.to_string(),
            types: std::any::type_name::<T>().to_string(),
            value: blob(value)?,
        };
        match self.remote.call(op)? {
            Answer::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Removes attribute `name`; whether it had one (Python's
    /// `delattr(ns, name)`, which raises `AttributeError` if not).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// ns.set("x", &1u8).unwrap();
    /// assert!(ns.delete("x").unwrap());
    /// assert!(!ns.delete("x").unwrap());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    #[doc(alias = "delattr")]
    pub fn delete(&self, name: &str) -> Result<bool, ManagerError> {
        match self.remote.call(Op::DelAttr(name.to_string()))? {
            Answer::Bool(b) => Ok(b),
            other => Err(unexpected(&other)),
        }
    }
}

impl fmt::Debug for NamespaceProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NamespaceProxy").field(&self.remote).finish()
    }
}

impl Serialize for NamespaceProxy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.remote.serialize(s)
    }
}

impl<'de> Deserialize<'de> for NamespaceProxy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(NamespaceProxy {
            remote: Remote::deserialize(d, NamespaceProxy::TYPES)?,
        })
    }
}
