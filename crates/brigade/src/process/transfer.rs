//! Values that carry descriptors: how a [`Connection`](super::Connection),
//! a [`Queue`](super::Queue) or a [`SharedArray`](super::SharedArray)
//! travels to another process inside an ordinary serde value.
//!
//! While [`encode`] runs, such a value's `Serialize` impl hands its
//! descriptor to [`attach`], which keeps a duplicate and writes its index;
//! the descriptors then ride along with the bytes (`SCM_RIGHTS`). On the
//! other side [`decode`] makes the received descriptors available, and the
//! value's `Deserialize` impl takes its own back by index with [`detach`].
//! This is how Python pickles a `Connection` for a child process.
//!
//! Outside of `encode` and `decode` (say, with `serde_json`), such values
//! refuse to serialize: a descriptor number means nothing in another
//! process.
//!
//! ```
//! use brigade::process::pipe;
//!
//! // A Connection inside a tuple inside a Vec would ride along to a child.
//! let (a, b) = pipe::<u8>().unwrap();
//! let back = brigade::process::frame::encode(&vec![(1, b)]);
//! // Plain framing has no descriptor channel: refused, not silently wrong.
//! assert!(back.is_err());
//! # drop(a);
//! ```

use std::cell::RefCell;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::frame::{self, FrameError};
use crate::sys::{process as sys_process, socket as sys_socket};

thread_local! {
    static OUTGOING: RefCell<Option<Vec<OwnedFd>>> = const { RefCell::new(None) };
    static INCOMING: RefCell<Option<Vec<Option<OwnedFd>>>> = const { RefCell::new(None) };
    /// Why the last `attach` or `detach` failed. postcard's error for a
    /// `Serialize` impl's own failure carries no message ("Serde
    /// Serialization Error"), so the reason (say, `EMFILE` from the
    /// duplicate) is kept here and put back into the error `encode` or
    /// `decode` returns.
    static FAILURE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// What values inside the message being encoded asked to do once it
    /// is encoded whole (see [`once_encoded`]).
    static ON_ENCODED: RefCell<Option<Vec<OnEncoded>>> = const { RefCell::new(None) };
}

/// A step that a value's `Serialize` impl defers until the whole message
/// is encoded.
type OnEncoded = Box<dyn FnOnce() -> Result<(), String>>;

/// Records why a descriptor could not travel, and hands the reason on.
fn failed(why: String) -> String {
    FAILURE.with(|f| *f.borrow_mut() = Some(why.clone()));
    why
}

/// The reason recorded by `failed` since the last call, if any.
fn take_failure() -> Option<String> {
    FAILURE.with(|f| f.borrow_mut().take())
}

/// Makes this thread's descriptor tables now (registering their
/// destructors), rather than at the first message.
pub(crate) fn prepare() {
    OUTGOING.with(|_| ());
    INCOMING.with(|_| ());
}

/// An encoded value and the descriptors it refers to.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    pub(crate) bytes: Vec<u8>,
    pub(crate) fds: Vec<OwnedFd>,
}

impl Encoded {
    /// The raw numbers, for `sendmsg`.
    pub(crate) fn raw_fds(&self) -> Vec<RawFd> {
        self.fds.iter().map(|fd| fd.as_raw_fd()).collect()
    }
}

/// Encodes `value`, collecting the descriptors of the values inside it.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Encoded, FrameError> {
    let previous = OUTGOING.with(|o| o.borrow_mut().replace(Vec::new()));
    let previous_steps = ON_ENCODED.with(|s| s.borrow_mut().replace(Vec::new()));
    take_failure();
    let bytes = frame::to_payload(value).map_err(|e| match take_failure() {
        Some(why) => FrameError::Encode(why),
        None => e,
    });
    let fds = OUTGOING.with(|o| std::mem::replace(&mut *o.borrow_mut(), previous));
    let steps = ON_ENCODED.with(|s| std::mem::replace(&mut *s.borrow_mut(), previous_steps));
    let fds = fds.unwrap_or_default();
    if fds.len() > sys_socket::MAX_FDS {
        return Err(FrameError::Encode(format!(
            "a message carries at most {} descriptors",
            sys_socket::MAX_FDS
        )));
    }
    let bytes = bytes?;
    // Encoded whole: only now do the deferred steps happen (a message
    // refused above drops them undone). A step that fails refuses the
    // message, and the steps after it are dropped undone.
    for step in steps.unwrap_or_default() {
        step().map_err(FrameError::Encode)?;
    }
    Ok(Encoded { bytes, fds })
}

/// Called by a `Serialize` impl during [`encode`]: runs `step` once the
/// whole message is encoded, and never if the encoding fails (a proxy
/// counts its copy in flight this way, so that a refused message leaves
/// no count behind). A step's error refuses the message. Outside of
/// `encode`, `step` is dropped undone; the value's `attach` fails there
/// anyway.
pub(crate) fn once_encoded(step: impl FnOnce() -> Result<(), String> + 'static) {
    ON_ENCODED.with(|s| {
        if let Some(steps) = s.borrow_mut().as_mut() {
            steps.push(Box::new(step));
        }
    });
}

/// Decodes `bytes`, offering `fds` to the values inside it.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    fds: Vec<OwnedFd>,
) -> Result<T, FrameError> {
    let fds = fds.into_iter().map(Some).collect();
    let previous = INCOMING.with(|i| i.borrow_mut().replace(fds));
    take_failure();
    let value = frame::from_payload(bytes).map_err(|e| match take_failure() {
        Some(why) => FrameError::Malformed(why),
        None => e,
    });
    INCOMING.with(|i| *i.borrow_mut() = previous);
    value
}

/// Called by a `Serialize` impl: keeps a duplicate of `fd` to send along
/// and returns its index in the message.
pub(crate) fn attach(fd: BorrowedFd<'_>) -> Result<u32, String> {
    OUTGOING.with(|o| {
        let mut o = o.borrow_mut();
        let Some(list) = o.as_mut() else {
            return Err("this value holds a descriptor and can only be sent to \
                        another process by brigade (as an argument, a result, \
                        or a Pipe/Queue message)"
                .to_string());
        };
        let dup = sys_process::dup(fd)
            .map_err(|e| failed(format!("cannot duplicate a descriptor: {e}")))?;
        list.push(dup);
        Ok((list.len() - 1) as u32)
    })
}

/// Called by a `Deserialize` impl: takes the descriptor sent at `index`.
pub(crate) fn detach(index: u32) -> Result<OwnedFd, String> {
    INCOMING.with(|i| {
        let mut i = i.borrow_mut();
        let list = i
            .as_mut()
            .ok_or("a descriptor-carrying value arrived outside of brigade's channels")?;
        list.get_mut(index as usize)
            .and_then(Option::take)
            .ok_or_else(|| failed(format!("descriptor #{index} is missing from the message")))
    })
}
