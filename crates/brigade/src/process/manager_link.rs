//! How a proxy reaches its [`Manager`](super::Manager)'s server: a
//! [`Link`] (the way in, and this process's connections) and a [`Remote`]
//! (one shared object seen through a link).
//!
//! The way in is a *connector*: a private `SOCK_SEQPACKET` socketpair whose
//! receiving end only the server holds, and whose sending end every proxy
//! carries (it travels to a child as a descriptor, as a
//! [`Queue`](super::Queue)'s does). To connect, a process makes a fresh
//! socketpair, sends one end through the connector (one packet, whole, so
//! many processes may connect at once) and keeps the other: that pair is
//! its own connection, which no other process shares, so answers never go
//! to the wrong reader. Nothing is named in the file system or in the
//! abstract socket namespace: only a process that was handed the connector
//! can reach the server.
//!
//! Each operation is one request packet and one answer packet on an idle
//! connection of this process. A thread that finds none idle makes
//! another, so threads of one process do not wait for each other; a
//! connection goes back to the idle list only after a whole answer, so a
//! failed operation can never leave an answer behind for the next one.
//!
//! ```
//! // Internal: the proxies use it.
//! # let _ = brigade::process::Manager::start;
//! ```

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Arc, Mutex};

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{self, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use super::frame::{self, FrameError};
use super::manager_error::ManagerError;
use super::manager_wire::{Answer, Blob, Op, Request, tag};
use super::socket::{RecvError, Socket};
use super::transfer;

/// This process's way to one server.
pub(crate) struct Link {
    /// The connector's sending end.
    connector: Socket,
    /// Connections not in use right now.
    idle: Mutex<Vec<Socket>>,
}

impl Link {
    pub(crate) fn new(connector: Socket) -> Link {
        Link {
            connector,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends one request and waits for its answer.
    pub(crate) fn call(&self, request: &Request) -> Result<Answer, ManagerError> {
        let payload = frame::to_payload(request).map_err(ManagerError::Encode)?;
        if payload.len() > frame::MAX_PAYLOAD {
            return Err(ManagerError::Encode(FrameError::TooLarge {
                len: payload.len(),
                max: frame::MAX_PAYLOAD,
            }));
        }
        let connection = self.checkout()?;
        connection.send(&payload, &[]).map_err(unreachable)?;
        let message = match connection.recv(None) {
            Ok(message) => message,
            Err(RecvError::Closed) => return Err(ManagerError::ManagerDied),
            Err(RecvError::Frame(FrameError::Io(e))) => return Err(unreachable(e)),
            Err(RecvError::Frame(e)) => return Err(ManagerError::Decode(e)),
            Err(RecvError::Timeout) => {
                return Err(ManagerError::Io(io::ErrorKind::TimedOut.into()));
            }
        };
        let answer = frame::from_payload(&message.payload).map_err(ManagerError::Decode)?;
        // A whole answer came: the connection is in step again.
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(connection);
        Ok(answer)
    }

    /// An idle connection, or a new one.
    fn checkout(&self) -> Result<Socket, ManagerError> {
        if let Some(c) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(c);
        }
        let (ours, theirs) = Socket::pair().map_err(ManagerError::Io)?;
        self.send_connection(theirs)?;
        Ok(ours)
    }

    /// Hands the server its end of a new connection.
    pub(crate) fn send_connection(&self, theirs: Socket) -> Result<(), ManagerError> {
        self.connector
            .send(&[], &[theirs.as_fd().as_raw_fd()])
            .map_err(unreachable)
        // `theirs` closes here: the server holds its own copy now (or the
        // server is gone, and the copy in flight closes with its socket, so
        // our end sees the end of the stream).
    }
}

/// The error of a failed send or receive: a closed peer is a dead server.
fn unreachable(e: io::Error) -> ManagerError {
    match e.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionRefused
        | io::ErrorKind::NotConnected => ManagerError::ManagerDied,
        _ => ManagerError::Io(e),
    }
}

impl Serialize for Link {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = transfer::attach(self.connector.as_fd()).map_err(ser::Error::custom)?;
        s.serialize_newtype_struct("Link", &index)
    }
}

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Link, D::Error> {
        let index = u32::deserialize(d)?;
        let fd = transfer::detach(index).map_err(de::Error::custom)?;
        Ok(Link::new(Socket::from_fd(fd)))
    }
}

/// One shared object, for values of the types named `types`.
pub(crate) struct Remote {
    link: Arc<Link>,
    object: u32,
    tag: u32,
    types: &'static str,
}

impl Remote {
    pub(crate) fn new(link: Arc<Link>, object: u32, types: &'static str) -> Remote {
        Remote {
            link,
            object,
            tag: tag(types),
            types,
        }
    }

    /// Applies `op` to the object; a refusal is the proxy's error.
    pub(crate) fn call(&self, op: Op) -> Result<Answer, ManagerError> {
        self.call_as(op, self.types)
    }

    /// Like [`call`](Self::call), naming `requested` as the proxy's types
    /// in a type mismatch (a namespace's attributes are typed one by one).
    pub(crate) fn call_as(&self, op: Op, requested: &'static str) -> Result<Answer, ManagerError> {
        let request = Request {
            object: self.object,
            tag: self.tag,
            op,
        };
        match self.link.call(&request)? {
            Answer::Refused(why) => Err(ManagerError::refused(why, requested)),
            answer => Ok(answer),
        }
    }

    /// Sends a proxy over the same way in, as a tuple of the link and the
    /// object's number (the types are the receiving proxy's own).
    pub(crate) fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&*self.link)?;
        t.serialize_element(&self.object)?;
        t.end()
    }

    /// The other side of [`serialize`](Self::serialize): a link of this
    /// process's own, which makes its own connections.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
        types: &'static str,
    ) -> Result<Remote, D::Error> {
        let (link, object) = <(Link, u32)>::deserialize(d)?;
        Ok(Remote::new(Arc::new(link), object, types))
    }
}

impl Clone for Remote {
    fn clone(&self) -> Remote {
        Remote {
            link: self.link.clone(),
            object: self.object,
            tag: self.tag,
            types: self.types,
        }
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("object", &self.object)
            .field("types", &self.types)
            .finish()
    }
}

/// Encodes a key or value for the server. A value that holds a descriptor
/// is refused: the server keeps bytes, not descriptors.
pub(crate) fn blob<T: Serialize + ?Sized>(value: &T) -> Result<Blob, ManagerError> {
    frame::to_payload(value)
        .map(Blob)
        .map_err(ManagerError::Encode)
}

/// Decodes a key or value the server sent back.
pub(crate) fn value<T: DeserializeOwned>(blob: &Blob) -> Result<T, ManagerError> {
    frame::from_payload(&blob.0).map_err(ManagerError::Decode)
}

/// The error for an answer of the wrong shape (a server of another build
/// would be the only cause).
pub(crate) fn unexpected(answer: &Answer) -> ManagerError {
    ManagerError::Decode(FrameError::Malformed(format!(
        "an unexpected answer from the manager: {answer:?}"
    )))
}
