//! [`Manager`]: a server process that holds shared objects (dicts, lists,
//! namespaces) which many processes use at once through typed proxies, as
//! Python's `multiprocessing.Manager()` (a `SyncManager`).
//!
//! The server process owns every object; a proxy holds none of the data,
//! and each of its methods is one request and one answer through a private
//! connection (a page of shared memory, and a unix socket beside it). The
//! whole story (atomicity, failures, types, the trust
//! model, the differences from Python) is on [`Manager`], where the API
//! documentation shows it.
//!
//! ```
//! use brigade::process::Manager;
//!
//! let manager = Manager::start().unwrap();
//! let d = manager.dict::<u32, u32>().unwrap();
//! d.insert(1, 2).unwrap();
//! assert_eq!(d.get(1).unwrap(), Some(2));
//! ```

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::StartError;
use super::handle::Process;
use super::manager_dict::DictProxy;
use super::manager_error::ManagerError;
use super::manager_link::{Link, Remote, unexpected};
use super::manager_list::ListProxy;
use super::manager_namespace::NamespaceProxy;
use super::manager_server::{self, Inbox};
use super::manager_wire::{Answer, Kind, Op, Request};
use super::socket::Socket;

/// A server process holding shared objects (dicts, lists, namespaces)
/// that many processes use at once through typed proxies, as Python's
/// `multiprocessing.Manager()`.
///
/// # The idea
/// [`Manager::start`] starts a child process (a brigade [`Process`]
/// running the server function) that owns every shared object. A proxy
/// ([`DictProxy`], [`ListProxy`], [`NamespaceProxy`]) holds no data: each
/// of its methods is one request to the server and one answer back, encoded
/// with postcard, through a private connection: a page of shared memory
/// that the client and its server thread both map and take turns on, with
/// a unix socket beside it (to connect, to carry a message too large for
/// the page in brigade's [frames](super::frame), and to tell either side
/// that the other is gone). The server applies each request whole, under
/// the object's lock, so every method is atomic. Proxies are `Clone` and
/// serde-serializable: pass one to a child ([`Process::new`], a pool's
/// arguments, a [`Queue`](super::Queue) message) and the child makes its
/// own connections to the same server (one set per process, shared by all
/// its proxies of that manager; a thread that finds every connection busy
/// opens another, so threads do not wait for each other). A proxy carries
/// a descriptor, and one message carries at most 64: a pool chunk of more
/// than 64 tasks that each carry a proxy is refused with a typed encode
/// error (pass the proxy in the pool's initializer instead).
///
/// A request or answer that fits the page (about 4 KiB encoded) is
/// written into it and handed over by flipping a state word, with no
/// system call. A side that waits for the other (a proxy for its answer, a
/// server thread for its client's next request) polls that word for up to
/// 40 µs (a few microseconds of pure spinning, then yielding the processor
/// between polls) and then sleeps on it (a futex); the side that hands over
/// makes the system call that wakes it only if it sleeps. Back-to-back
/// operations thus skip the sleep and wake-up that would cost more than
/// the rest of the round trip, at the price of that much processor time
/// when the other side is slow. A larger message travels on the socket (a
/// sequenced packet, or a sealed memory file for a large one) and the page
/// says so.
///
/// ```
/// use brigade::process::{DictProxy, Manager, Process};
///
/// fn record(scores: DictProxy<String, u32>, name: String, score: u32) {
///     scores.insert(name, score).unwrap();
/// }
///
/// let manager = Manager::start().unwrap();
/// let scores = manager.dict::<String, u32>().unwrap();
/// let mut children: Vec<_> = [("ada", 3), ("grace", 5)]
///     .into_iter()
///     .map(|(name, score)| Process::new(record, (scores.clone(), name.to_string(), score)))
///     .collect();
/// for child in &mut children {
///     child.start().unwrap();
/// }
/// for child in &mut children {
///     child.join().unwrap();
/// }
/// assert_eq!(scores.len().unwrap(), 2);
/// assert_eq!(scores.get("grace".to_string()).unwrap(), Some(5));
/// ```
///
/// # Atomicity and failures
/// - One method is one atomic step on the server. A sequence of them is
///   not: `get` then `insert` from two processes can lose an update, as in
///   Python. For a read-modify-write of one entry,
///   [`DictProxy::update_with`] runs a function on the server, atomically;
///   otherwise guard the sequence with a cross-process lock, or give each
///   process its own keys.
/// - A client that dies, even in the middle of sending a large value,
///   never leaves a half-applied change: the server reads a request only
///   after the client has written all of it and handed the turn over (one
///   atomic store), and a large one is one sequenced packet (riding in a
///   sealed memory file written beforehand), which the server receives
///   whole or not at all. The server goes on serving everyone else.
/// - A dead server (shut down, killed, or gone with the process that
///   started it) is [`ManagerError::ManagerDied`] from every proxy, never a
///   hang: a proxy that calls after the death learns it from the closed
///   socket as soon as its 40 µs of polling end; one already asleep waiting
///   for an answer checks the socket between naps of at most 20 ms. (A
///   server that is alive but busy, say with a slow
///   [`update_with`](DictProxy::update_with) function, is waited for.)
///
/// # Lifetime
/// As in Python, the server frees an object when its last proxy, in any
/// process, is gone: it keeps a reference count per object and per client
/// process. Making an object counts its first proxy; a clone is one more,
/// a drop one fewer (each a round trip to the server); a proxy serialized
/// to another process (a child's arguments, a pool task, a
/// [`Queue`](super::Queue) message) is counted to its sender while in
/// flight and then to its receiver. A process that ends, even killed, gives
/// up all its counts when the server sees its connections close (at once
/// for a server thread that is polling, within about 200 ms for one
/// asleep): what only it held is freed, and nothing that others hold.
/// [`live_objects`](Self::live_objects) says how many objects are held. A
/// count the server cannot be asked for (a system call failed on the way)
/// is never given up either: such a clone holds no count of its own (it
/// reaches the object while others hold it), and a message that carries
/// such a copy is refused with an encode error. A
/// serialized proxy that never arrives stays counted to its sender until
/// the sender's process lets go of the manager (drops its last proxy of it,
/// or ends).
/// The other way round, a copy in flight lives only as long as its
/// sender's counts: a process that sends a proxy and then lets go of the
/// manager before the copy arrives (a child that returns a proxy, or puts
/// one in a [`Queue`](super::Queue), and ends) may leave the receiver a
/// proxy of an object already freed, whose calls fail with
/// [`ManagerError::Refused`]. Unless the receiver holds a proxy of the
/// object too, such a sender keeps one of its own until the receiver has
/// its copy (Python asks the same of every sender).
///
/// ```
/// use brigade::process::Manager;
///
/// let manager = Manager::start().unwrap();
/// let d = manager.dict::<u8, u8>().unwrap();
/// let copy = d.clone();
/// drop(d);
/// assert_eq!(manager.live_objects().unwrap(), 1);
/// drop(copy);
/// assert_eq!(manager.live_objects().unwrap(), 0);
/// ```
///
/// # Types
/// A proxy is typed (`DictProxy<K, V>`); the server keeps each value as the
/// bytes the proxy encoded, and checks every request against the type
/// names the object was made for. Two proxies of one object with
/// different types get [`ManagerError::TypeMismatch`], never a value
/// decoded as the wrong type, and never a panic. Dict keys are compared by
/// their encoding (equal bytes, same key): for integers, strings and
/// tuples or enums of them that is `==`.
///
/// # Trust model
/// Only processes that were handed a proxy (or the [`Manager`]) can reach
/// the server: the way in is a socket descriptor that travels with the
/// proxy, like a [`Queue`](super::Queue)'s, and no name is created in the
/// file system or in the abstract socket namespace. Anyone who holds it is
/// trusted with the objects, as a process is trusted with a pipe it
/// inherited. The server never runs code a client sends: it stores bytes
/// and compares them, and the one function a client can name
/// ([`DictProxy::update_with`]) is a function of the server's own
/// executable, checked as a child process checks its function.
///
/// # Differences from Python
/// - No address and `authkey`: an unrelated process cannot `connect()` to
///   a running manager; the descriptor is the capability.
/// - The server dies with the process that started it (it is a daemon
///   child), so a killed program leaves no server behind; Python's may
///   outlive a killed parent.
/// - A proxy in flight is counted to its sender until the receiver
///   adopts it, so a parent may drop its proxy as soon as it has handed a
///   copy to a child; Python counts a copy only once it is unpickled, and
///   the sender must keep its own until then.
/// - No registering of arbitrary classes (`BaseManager.register`): the
///   server holds dicts, lists and namespaces of serde values. Values that
///   hold descriptors (a `Connection`, a `Queue`) cannot be stored.
/// - Methods return `Result`s where Python raises (`KeyError` is
///   `Ok(None)` from `get`, `IndexError` is
///   [`ManagerError::IndexOutOfRange`]), and list indices are `usize`
///   (no negative indices).
///
/// Dropping the `Manager` (or [`shutdown`](Self::shutdown)) ends the
/// server: every proxy then returns [`ManagerError::ManagerDied`].
pub struct Manager {
    process: Process<()>,
    link: Arc<Link>,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

impl Manager {
    /// Starts the server process and waits until it serves (Python's
    /// `multiprocessing.Manager()`, which starts a `SyncManager`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// assert!(manager.pid().is_some());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::Start`] if the server process cannot be started,
    /// [`ManagerError::Io`] if a system call fails.
    pub fn start() -> Result<Manager, ManagerError> {
        let (outbox, inbox) = Socket::pair().map_err(StartError::Io)?;
        // The argument is encoded (its descriptor duplicated) here, and the
        // duplicate is sent and closed by `start`: afterwards only the
        // server holds the receiving end, so its death closes the way in.
        let mut process = Process::new(manager_server::run, (Inbox(inbox),))
            .daemon(true)
            .with_name(format!(
                "SyncManager-{}",
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
        process.start()?;
        let manager = Manager {
            process,
            link: Link::shared(outbox),
        };
        let ping = Request {
            object: 0,
            tag: 0,
            op: Op::Ping,
        };
        match manager.link.call(&ping) {
            Ok(_) => Ok(manager),
            Err(ManagerError::ManagerDied) => {
                let mut manager = manager;
                let why = match manager
                    .process
                    .join_timeout(std::time::Duration::from_secs(5))
                {
                    Err(e) => e.to_string(),
                    Ok(()) => "it ended at once".to_string(),
                };
                Err(ManagerError::Start(StartError::Io(io::Error::other(
                    format!("the manager's server process did not start: {why}"),
                ))))
            }
            Err(e) => Err(e),
        }
    }

    /// The server process's id, while it runs.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let mut manager = Manager::start().unwrap();
    /// assert_ne!(manager.pid(), Some(std::process::id()));
    /// manager.shutdown();
    /// assert_eq!(manager.pid(), None);
    /// ```
    pub fn pid(&self) -> Option<u32> {
        if self.process.is_alive() {
            self.process.pid()
        } else {
            None
        }
    }

    /// Ends the server process and reaps it (Python's `shutdown()`). Every
    /// object is gone; every proxy, in any process, then returns
    /// [`ManagerError::ManagerDied`]. Calling it again does nothing.
    ///
    /// ```
    /// use brigade::process::{Manager, ManagerError};
    ///
    /// let mut manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// manager.shutdown();
    /// assert!(matches!(l.len(), Err(ManagerError::ManagerDied)));
    /// manager.shutdown();
    /// ```
    pub fn shutdown(&mut self) {
        // Nothing to flush: the objects live only in the server.
        let _ = self.process.kill();
        let _ = self.process.join();
    }

    /// A new, empty shared dict (Python's `manager.dict()`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let d = manager.dict::<String, Vec<u8>>().unwrap();
    /// assert!(d.is_empty().unwrap());
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn dict<K, V>(&self) -> Result<DictProxy<K, V>, ManagerError>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let types = std::any::type_name::<(K, V)>();
        Ok(DictProxy::new(self.create(Kind::Dict, types)?))
    }

    /// A new, empty shared list (Python's `manager.list()`).
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<f64>().unwrap();
    /// l.push(1.5).unwrap();
    /// assert_eq!(l.to_vec().unwrap(), [1.5]);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn list<T>(&self) -> Result<ListProxy<T>, ManagerError>
    where
        T: Serialize + DeserializeOwned,
    {
        let types = std::any::type_name::<T>();
        Ok(ListProxy::new(self.create(Kind::List, types)?))
    }

    /// A new, empty shared namespace (Python's `manager.Namespace()`):
    /// named attributes, each holding a value of its own type.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let ns = manager.namespace().unwrap();
    /// ns.set("epoch", &3u32).unwrap();
    /// assert_eq!(ns.get::<u32>("epoch").unwrap(), Some(3));
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Encode`] / [`ManagerError::Decode`] for values that do
    /// not encode or decode, [`ManagerError::TypeMismatch`] if the object was
    /// made for other types, [`ManagerError::Io`] if a system call fails.
    pub fn namespace(&self) -> Result<NamespaceProxy, ManagerError> {
        Ok(NamespaceProxy::new(
            self.create(Kind::Namespace, NamespaceProxy::TYPES)?,
        ))
    }

    /// How many shared objects the server holds now (Python's
    /// `_number_of_objects()`): those that some proxy, in some process,
    /// still reaches.
    ///
    /// ```
    /// use brigade::process::Manager;
    ///
    /// let manager = Manager::start().unwrap();
    /// let l = manager.list::<u8>().unwrap();
    /// assert_eq!(manager.live_objects().unwrap(), 1);
    /// drop(l);
    /// assert_eq!(manager.live_objects().unwrap(), 0);
    /// ```
    ///
    /// # Errors
    /// [`ManagerError::ManagerDied`] once the manager process is gone,
    /// [`ManagerError::Io`] if a system call fails.
    pub fn live_objects(&self) -> Result<usize, ManagerError> {
        let request = Request {
            object: 0,
            tag: 0,
            op: Op::LiveObjects,
        };
        match self.link.call(&request)? {
            Answer::Len(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            other => Err(unexpected(&other)),
        }
    }

    fn create(&self, kind: Kind, types: &'static str) -> Result<Remote, ManagerError> {
        let request = Request {
            object: 0,
            tag: 0,
            op: Op::Create {
                kind,
                types: types.to_string(),
            },
        };
        match self.link.call(&request)? {
            Answer::Created(id) => Ok(Remote::new(self.link.clone(), id, types)),
            Answer::Refused(why) => Err(ManagerError::refused(why, types)),
            other => Err(unexpected(&other)),
        }
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}
