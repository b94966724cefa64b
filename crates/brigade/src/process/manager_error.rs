//! [`ManagerError`]: what can go wrong between a proxy and its
//! [`Manager`](super::Manager)'s server.
//!
//! ```
//! use brigade::process::ManagerError;
//!
//! let e = ManagerError::IndexOutOfRange { index: 5, len: 2 };
//! assert_eq!(e.to_string(), "list index 5 is out of range (the list has 2 elements)");
//! ```

use std::fmt;
use std::io;

use super::error::StartError;
use super::frame::FrameError;
use super::manager_wire::Refusal;

/// Why an operation on a [`Manager`](super::Manager) or one of its proxies
/// failed. A refused operation changed nothing on the server.
///
/// ```
/// use brigade::process::{Manager, ManagerError};
///
/// let mut manager = Manager::start().unwrap();
/// let d = manager.dict::<u32, String>().unwrap();
/// manager.shutdown();
/// assert!(matches!(d.get(&1), Err(ManagerError::ManagerDied)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ManagerError {
    /// The server process could not be started.
    Start(StartError),
    /// The server process is gone (shut down, killed, or ended with the
    /// process that started it). An operation under way when it died may
    /// or may not have been applied; every later one fails at once with
    /// this error.
    ManagerDied,
    /// A key or value could not be encoded (a serde `Serialize` error, a
    /// value that holds a descriptor, or more than
    /// [`MAX_PAYLOAD`](super::frame::MAX_PAYLOAD) bytes).
    Encode(FrameError),
    /// What the server sent back does not decode as the proxy's types, or
    /// is not a valid answer.
    Decode(FrameError),
    /// The object was made for other types than this proxy's (or a
    /// namespace attribute holds a value of another type).
    TypeMismatch {
        /// The type names the object (or attribute) holds.
        stored: String,
        /// The type names this proxy asked for.
        requested: &'static str,
    },
    /// A list index at or past the end (Python's `IndexError`).
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The list's length at the time.
        len: usize,
    },
    /// The function given to
    /// [`DictProxy::update_with`](super::DictProxy::update_with) panicked
    /// in the server, with this message; the entry is unchanged.
    Panicked(String),
    /// The function given to
    /// [`DictProxy::update_with`](super::DictProxy::update_with) cannot
    /// run in the server: it captures state
    /// ([`StartError::Captures`]), or lives outside the executable.
    Function(StartError),
    /// The server refused the request as malformed (a bug or a stranger
    /// on the connection; nothing was changed).
    Refused(String),
    /// A system call failed (say, making a connection with no descriptors
    /// left).
    Io(io::Error),
}

impl ManagerError {
    /// Turns the server's refusal into the proxy's error.
    pub(crate) fn refused(refusal: Refusal, requested: &'static str) -> ManagerError {
        match refusal {
            Refusal::TypeMismatch { stored } => ManagerError::TypeMismatch { stored, requested },
            Refusal::IndexOutOfRange { index, len } => ManagerError::IndexOutOfRange {
                index: index as usize,
                len: len as usize,
            },
            Refusal::Panicked(message) => ManagerError::Panicked(message),
            Refusal::Malformed(why) => ManagerError::Refused(why),
        }
    }
}

impl fmt::Display for ManagerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManagerError::Start(e) => write!(f, "cannot start the manager's server: {e}"),
            ManagerError::ManagerDied => f.write_str("the manager's server process is gone"),
            ManagerError::Encode(e) => write!(f, "cannot encode the value for the manager: {e}"),
            ManagerError::Decode(e) => {
                write!(f, "cannot decode what the manager sent back: {e}")
            }
            ManagerError::TypeMismatch { stored, requested } => write!(
                f,
                "the shared object holds `{stored}`, but this proxy uses `{requested}`"
            ),
            ManagerError::IndexOutOfRange { index, len } => write!(
                f,
                "list index {index} is out of range (the list has {len} elements)"
            ),
            ManagerError::Panicked(message) => {
                write!(f, "the update function panicked in the manager: {message}")
            }
            ManagerError::Function(e) => {
                write!(f, "the update function cannot run in the manager: {e}")
            }
            ManagerError::Refused(why) => write!(f, "the manager refused the request: {why}"),
            ManagerError::Io(e) => write!(f, "cannot reach the manager: {e}"),
        }
    }
}

impl std::error::Error for ManagerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ManagerError::Start(e) | ManagerError::Function(e) => Some(e),
            ManagerError::Encode(e) | ManagerError::Decode(e) => Some(e),
            ManagerError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StartError> for ManagerError {
    fn from(e: StartError) -> ManagerError {
        ManagerError::Start(e)
    }
}
