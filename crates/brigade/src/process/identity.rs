//! Who is running: [`current_process`], [`parent_process`] and
//! [`active_children`], Python's `multiprocessing` functions of the same
//! names.
//!
//! A child learns who it is from its parent: the greeting every child gets
//! (the `Hello` of `child.rs`) carries the name the parent gave it, its
//! daemon flag, and the parent's pid and name. The program started from the
//! shell is `MainProcess`, as in Python. The parent keeps a list of the
//! children it started with [`Process`](super::Process), each as a weak
//! reference to the child's handle; `active_children` drops from it the
//! children that have ended (reaping them, as Python's `active_children`
//! joins finished ones) and those whose `Process` is gone.
//!
//! ```
//! use brigade::process::{self, Process};
//!
//! fn whoami() -> (String, Option<u32>) {
//!     let parent = process::parent_process().map(|p| p.pid().unwrap_or(0));
//!     (process::current_process().name().to_owned(), parent)
//! }
//!
//! assert_eq!(process::current_process().name(), "MainProcess");
//! assert!(process::parent_process().is_none());
//! let mut p = Process::new(whoami, ()).with_name("baker");
//! p.start().unwrap();
//! let (name, parent) = p.join().unwrap();
//! assert_eq!(name, "baker");
//! assert_eq!(parent, Some(std::process::id()));
//! ```

use std::fmt;
use std::sync::{Mutex, OnceLock, Weak};

use super::spawn::Child;

/// What a child was told about itself and its parent.
struct Identity {
    name: String,
    daemon: bool,
    parent_pid: u32,
    parent_name: String,
}

static IDENTITY: OnceLock<Identity> = OnceLock::new();

/// Records who this child is; called once, when its greeting arrives.
pub(crate) fn set_child_identity(name: String, daemon: bool, parent_pid: u32, parent_name: String) {
    let _ = IDENTITY.set(Identity {
        name,
        daemon,
        parent_pid,
        parent_name,
    });
}

/// A child this process started and may still be running.
struct Started {
    name: String,
    daemon: bool,
    child: Weak<Child>,
}

static CHILDREN: Mutex<Vec<Started>> = Mutex::new(Vec::new());

/// Adds a child started by a [`Process`](super::Process) to the list of
/// [`active_children`].
pub(crate) fn register_child(name: &str, daemon: bool, child: Weak<Child>) {
    let mut children = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    // Keep the list from growing with children nobody asks about.
    children.retain(|c| c.child.strong_count() > 0);
    children.push(Started {
        name: name.to_owned(),
        daemon,
        child,
    });
}

enum Whom {
    /// This process: alive while anyone can ask.
    Current,
    /// The parent: alive while this process is still its child.
    Parent,
    /// A child: alive until it ends.
    Child(Weak<Child>),
}

/// A process seen from this one (Python's `Process` objects returned by
/// `current_process`, `parent_process` and `active_children`): its name,
/// pid and daemon flag, and whether it is alive.
///
/// ```
/// let me = brigade::process::current_process();
/// assert_eq!(me.pid(), Some(std::process::id()));
/// assert!(me.is_alive() && !me.is_daemon());
/// ```
pub struct ProcessRef {
    name: String,
    pid: Option<u32>,
    daemon: bool,
    whom: Whom,
}

impl ProcessRef {
    /// The process's name: `MainProcess` for the program, the name given
    /// to a [`Process`](super::Process) (`Process-N` by default) in its
    /// child, and `SpawnPoolWorker-N` or `ForkServerPoolWorker-N` in a
    /// pool worker.
    ///
    /// ```
    /// assert_eq!(brigade::process::current_process().name(), "MainProcess");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id (`None` only for a forkserver child whose fork
    /// failed).
    ///
    /// ```
    /// let me = brigade::process::current_process();
    /// assert_eq!(me.pid(), Some(std::process::id()));
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the process is a daemon (the program itself is not; a pool
    /// worker is).
    ///
    /// ```
    /// assert!(!brigade::process::current_process().is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.daemon
    }

    /// Whether the process is alive now. For the parent (Python's
    /// `parent_process().is_alive()`): whether this process is still its
    /// child, which ends when the parent dies and the child is handed to
    /// another.
    ///
    /// ```
    /// assert!(brigade::process::current_process().is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        match &self.whom {
            Whom::Current => true,
            Whom::Parent => self.pid == Some(crate::sys::process::parent_pid()),
            Whom::Child(child) => child.upgrade().is_some_and(|c| c.try_status().is_none()),
        }
    }
}

impl fmt::Debug for ProcessRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessRef")
            .field("name", &self.name)
            .field("pid", &self.pid)
            .field("daemon", &self.daemon)
            .finish()
    }
}

/// This process (Python's `multiprocessing.current_process()`): named
/// `MainProcess` in the program, and in a child the name its parent gave
/// it.
///
/// ```
/// use brigade::process::{self, Process};
///
/// fn my_name() -> String {
///     process::current_process().name().to_owned()
/// }
///
/// assert_eq!(process::current_process().name(), "MainProcess");
/// let mut p = Process::new(my_name, ()).with_name("worker-7");
/// p.start().unwrap();
/// assert_eq!(p.join().unwrap(), "worker-7");
/// ```
pub fn current_process() -> ProcessRef {
    let (name, daemon) = match IDENTITY.get() {
        Some(me) => (me.name.clone(), me.daemon),
        None => ("MainProcess".to_owned(), false),
    };
    ProcessRef {
        name,
        pid: Some(std::process::id()),
        daemon,
        whom: Whom::Current,
    }
}

/// The process that started this one (Python's
/// `multiprocessing.parent_process()`, 3.8+): `None` in the program
/// itself; in a child, its parent's pid and name, and whether it is still
/// alive.
///
/// ```
/// use brigade::process::{self, Process};
///
/// fn parent() -> Option<(u32, String, bool)> {
///     process::parent_process().map(|p| (p.pid().unwrap(), p.name().to_owned(), p.is_alive()))
/// }
///
/// assert!(process::parent_process().is_none());
/// let mut p = Process::new(parent, ());
/// p.start().unwrap();
/// let (pid, name, alive) = p.join().unwrap().unwrap();
/// assert_eq!(pid, std::process::id());
/// assert_eq!(name, "MainProcess");
/// assert!(alive);
/// ```
pub fn parent_process() -> Option<ProcessRef> {
    let me = IDENTITY.get()?;
    Some(ProcessRef {
        name: me.parent_name.clone(),
        pid: Some(me.parent_pid),
        daemon: false,
        whom: Whom::Parent,
    })
}

/// The children this process started with a [`Process`](super::Process)
/// that are still running (Python's `multiprocessing.active_children()`),
/// in the order they were started. Children that have ended are reaped and
/// dropped from the list, as Python joins them.
///
/// Differences from Python: pool workers are not listed (Python lists a
/// `Pool`'s workers too), and a child whose `Process` was dropped is not
/// listed either (brigade's reaper owns it then).
///
/// ```
/// use std::sync::mpsc;
/// use brigade::process::{self, Process, Queue};
///
/// fn wait_for(q: Queue<()>) { q.get().unwrap() }
///
/// let q = Queue::new().unwrap();
/// let mut p = Process::new(wait_for, (q.clone(),)).with_name("sleeper");
/// p.start().unwrap();
/// let names: Vec<String> = process::active_children().iter().map(|c| c.name().to_owned()).collect();
/// assert!(names.contains(&"sleeper".to_owned()));
/// q.put(&()).unwrap();
/// p.join().unwrap();
/// assert!(process::active_children().iter().all(|c| c.pid() != p.pid()));
/// ```
pub fn active_children() -> Vec<ProcessRef> {
    let mut children = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    let mut alive = Vec::new();
    children.retain(|started| {
        let Some(child) = started.child.upgrade() else {
            return false;
        };
        if child.try_status().is_some() {
            return false; // ended, and now reaped
        }
        alive.push(ProcessRef {
            name: started.name.clone(),
            pid: child.pid(),
            daemon: started.daemon,
            whom: Whom::Child(started.child.clone()),
        });
        true
    });
    alive
}
