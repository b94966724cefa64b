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
//! One process has one link per server, however many proxies of that
//! server reach it (they are matched by the identity of the connector
//! socket), so a pool task that carries a proxy reuses the worker's
//! connections. A connection is a socketpair and a page of shared memory
//! (a [`Slot`], sent to the server with the socket's end in one packet):
//! each operation writes its request into the slot and waits there for the
//! answer, and a message too large for the slot goes on the socket (see
//! [`manager_slot`](super::manager_slot)). Each operation takes an idle
//! connection of this process; a thread that finds none idle makes
//! another, so threads of one process do not wait for each other. A
//! connection goes back to the idle list only in step: after a whole
//! answer, or after a failure that left nothing of the server's on its
//! way (the slot's turn is the client's, the socket holds nothing). So a
//! failed operation can never leave an answer behind for the next one,
//! and a transient failure (say, `EMFILE`) does not close a connection,
//! which at the link's last would make the server give up the process's
//! counts (see [`manager_refs`](super::manager_refs)).
//!
//! ```
//! // Internal: the proxies use it.
//! # let _ = brigade::process::Manager::start;
//! ```

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{self, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use super::frame::{self, FrameError};
use super::manager_error::ManagerError;
use super::manager_refs::ClientId;
use super::manager_slot::{CLIENT, Message as SlotMessage, PeerGone, SERVER, Slot};
use super::manager_wire::{Answer, Blob, Op, Request, tag};
use super::region::Region;
use super::socket::{Message, RecvError, Socket};
use super::transfer;
use crate::sys::memory as sys_memory;
use crate::sys::socket as sys_socket;

/// This process's way to one server.
pub(crate) struct Link {
    /// The connector's sending end.
    connector: Socket,
    /// Connections not in use right now.
    idle: Mutex<Vec<Connection>>,
    /// This link's id as a client of the server, which counts the proxies
    /// it holds under it (see [`manager_refs`](super::manager_refs)).
    id: ClientId,
}

impl Link {
    pub(crate) fn new(connector: Socket) -> Link {
        Link {
            connector,
            idle: Mutex::new(Vec::new()),
            id: fresh_id(),
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
        let answer = connection
            .round_trip(&payload)
            .and_then(|bytes| frame::from_payload(&bytes).map_err(ManagerError::Decode));
        // Kept after a failure too, if nothing of the server's is on its
        // way: a connection closed on a transient error (say, `EMFILE`)
        // would tell the server that this client may be gone, and at its
        // last connection the server frees everything the process holds.
        if connection.in_step() {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(connection);
        }
        answer
    }

    /// An idle connection, or a new one.
    fn checkout(&self) -> Result<Connection, ManagerError> {
        if let Some(c) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(c);
        }
        let (ours, theirs) = Socket::pair().map_err(ManagerError::Io)?;
        // Sized for good, so that the server may trust its mapping (it
        // refuses a file that we could shrink under it); fresh, so zeroed:
        // the client's turn.
        let slot = sys_memory::fixed_size_memfd(c"brigade-manager-slot", size_of::<Slot>())
            .and_then(Region::<Slot>::open)
            .map_err(ManagerError::Io)?;
        let mut hello = WITH_SLOT.to_vec();
        hello.extend_from_slice(&self.id.to_le_bytes());
        self.connector
            .send(&hello, &[theirs.as_fd().as_raw_fd(), slot.fd().as_raw_fd()])
            .map_err(unreachable)?;
        // `theirs` closes here: the server holds its own copy now (or the
        // server is gone, and the copy in flight closes with its socket, so
        // our end sees the end of the stream). The slot stays mapped (and
        // its file open) with the connection.
        Ok(Connection { socket: ours, slot })
    }

    /// Hands the server its end of a new connection with no slot (every
    /// message on the socket).
    #[cfg(test)]
    pub(crate) fn send_connection(&self, theirs: Socket) -> Result<(), ManagerError> {
        self.connector
            .send(&[], &[theirs.as_fd().as_raw_fd()])
            .map_err(unreachable)
    }
}

/// A random id for a new link: the process id hashed with a random key,
/// so two links alive at once share one only by a 1-in-2^64 chance.
fn fresh_id() -> ClientId {
    use std::hash::{BuildHasher, Hasher};
    // Seeded from the system's randomness, once per process, and moved on
    // at every call.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// The start of a connector packet's payload that says its two
/// descriptors are a connection's socket and its [`Slot`]'s memory file;
/// the client's id (8 bytes, little-endian) follows.
pub(crate) const WITH_SLOT: &[u8] = b"slot";

/// One connection of this process to the server: its socket, and the
/// shared-memory slot that carries requests and answers that fit in it
/// (see [`manager_slot`](super::manager_slot)).
struct Connection {
    socket: Socket,
    slot: Region<Slot>,
}

/// How long a client sleeps, at most, before it checks that the server
/// lives (its naps double up to this).
const CLIENT_NAP: Duration = Duration::from_millis(20);

impl Connection {
    /// Whether the next call may use this connection: the turn is the
    /// client's (the server is done, or was never asked), nothing waits on
    /// the socket, and the server's end is open.
    fn in_step(&self) -> bool {
        let socket = self.socket.as_fd();
        self.slot.state().is_turn(CLIENT)
            && sys_socket::queued_bytes(socket) == 0
            && !sys_socket::peer_closed(socket)
    }

    /// Sends a request's payload and returns the answer's.
    fn round_trip(&self, payload: &[u8]) -> Result<Vec<u8>, ManagerError> {
        let slot = self.slot.state();
        if !slot.write(payload) {
            // Too large for the slot: on the socket, sent before the turn
            // is handed over, so the server finds it there.
            self.socket.send(payload, &[]).map_err(unreachable)?;
            slot.write_on_socket();
        }
        slot.hand_over(SERVER);
        let socket = self.socket.as_fd();
        slot.wait_turn(CLIENT, || sys_socket::peer_closed(socket), CLIENT_NAP)
            .map_err(|PeerGone| ManagerError::ManagerDied)?;
        match slot.read() {
            Ok(SlotMessage::Here(bytes)) => Ok(bytes),
            Ok(SlotMessage::OnSocket) => receive(self.socket.recv(None)),
            Err(why) => Err(ManagerError::Decode(FrameError::Malformed(why))),
        }
    }
}

/// An answer's payload from a socket, or the error a proxy returns.
fn receive(received: Result<Message, RecvError>) -> Result<Vec<u8>, ManagerError> {
    match received {
        Ok(message) => Ok(message.payload),
        Err(RecvError::Closed) => Err(ManagerError::ManagerDied),
        Err(RecvError::Frame(FrameError::Io(e))) => Err(unreachable(e)),
        Err(RecvError::Frame(e)) => Err(ManagerError::Decode(e)),
        Err(RecvError::Timeout) => Err(ManagerError::Io(io::ErrorKind::TimedOut.into())),
    }
}

/// How long a waiting side polls before it sleeps (see [`receive_soon`]).
const SPIN: Duration = Duration::from_micros(30);

/// Receives one message, polling for up to [`SPIN`] before sleeping in
/// the kernel. An answer (or a client's next request) usually comes within
/// a few microseconds, and catching it awake saves a sleep and a wake-up
/// (on a virtual machine, an idle processor's halt and the interrupt that
/// ends it), which are most of a round trip's cost. Between polls the
/// thread yields, so that on a busy processor the other side (or anyone
/// else) runs instead of waiting for the poller; a longer wait sleeps as
/// usual, so an idle side costs nothing.
pub(crate) fn receive_soon(socket: &Socket) -> Result<Message, RecvError> {
    let start = Instant::now();
    loop {
        if let Some(received) = socket.recv_ready(frame::MAX_PAYLOAD) {
            return received;
        }
        if start.elapsed() >= SPIN {
            return socket.recv(None);
        }
        std::thread::yield_now();
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

/// A link as it arrives in a process: the one this process already has to
/// the same server, if any, so that every proxy of one manager in one
/// process shares its connections (a pool task that carries a proxy does
/// not cost the server a new connection and thread).
struct Arrived(Arc<Link>);

impl<'de> Deserialize<'de> for Arrived {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Arrived, D::Error> {
        let index = u32::deserialize(d)?;
        let fd = transfer::detach(index).map_err(de::Error::custom)?;
        Ok(Arrived(Link::shared(Socket::from_fd(fd))))
    }
}

/// This process's links, by the identity of their connector socket. An
/// entry whose link is alive names that very socket (its identity cannot be
/// reused while it is open); dead entries are pruned as links are added.
static LINKS: Mutex<Vec<(SocketId, Weak<Link>)>> = Mutex::new(Vec::new());

/// A socket's device and inode numbers.
type SocketId = (u64, u64);

impl Link {
    /// The live link of this process to the server `connector` leads to,
    /// or a new one. (The duplicate `connector` closes if it is not needed.)
    pub(crate) fn shared(connector: Socket) -> Arc<Link> {
        let Ok(id) = sys_socket::identity(connector.as_fd()) else {
            return Arc::new(Link::new(connector));
        };
        let mut links = LINKS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(link) = links
            .iter()
            .filter(|(known, _)| *known == id)
            .find_map(|(_, link)| link.upgrade())
        {
            return link;
        }
        links.retain(|(_, link)| link.strong_count() > 0);
        let link = Arc::new(Link::new(connector));
        links.push((id, Arc::downgrade(&link)));
        link
    }
}

/// One shared object, for values of the types named `types`.
pub(crate) struct Remote {
    link: Arc<Link>,
    object: u32,
    tag: u32,
    types: &'static str,
    /// Whether the server counts this proxy: only a counted proxy gives a
    /// count up when it drops, so one whose count failed (a connection
    /// broken by a transient error) never takes away another's.
    counted: bool,
}

impl Remote {
    /// A proxy the server already counts (the one `Create` made).
    pub(crate) fn new(link: Arc<Link>, object: u32, types: &'static str) -> Remote {
        Remote {
            link,
            object,
            tag: tag(types),
            types,
            counted: true,
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

    /// Asks the server to count (or uncount) this proxy; whether it did.
    /// A failure needs no other answer: a dead server counts nothing, and
    /// a live one refuses only an object already freed, which this proxy's
    /// calls then report.
    fn count(&self, op: Op) -> bool {
        count(&self.link, self.object, self.tag, op).is_ok()
    }

    /// Sends a proxy over the same way in, as a tuple of the link, the
    /// object's number and the sender's client id (the types are the
    /// receiving proxy's own). The copy in flight is counted to the sender
    /// until the receiver adopts it, from the moment the whole message is
    /// encoded (before it can be sent): a message that fails to encode
    /// counts nothing, and one whose copy the server cannot be asked to
    /// count is refused (on arrival, an uncounted copy of a live object
    /// would adopt the sender's own count).
    pub(crate) fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(3)?;
        t.serialize_element(&*self.link)?;
        t.serialize_element(&self.object)?;
        t.serialize_element(&self.link.id)?;
        let done = t.end()?;
        let (link, object, tag) = (self.link.clone(), self.object, self.tag);
        transfer::once_encoded(move || {
            // A refusal says the object is gone: the copy may travel, and
            // its adoption will fail just as harmlessly.
            match count(&link, object, tag, Op::IncRef) {
                Ok(()) | Err(ManagerError::Refused(_)) => Ok(()),
                Err(e) => Err(format!("cannot count the proxy in flight: {e}")),
            }
        });
        Ok(done)
    }

    /// The other side of [`serialize`](Self::serialize): a link of this
    /// process's own, which makes its own connections, and takes over the
    /// count of the copy in flight.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
        types: &'static str,
    ) -> Result<Remote, D::Error> {
        let (Arrived(link), object, from) = <(Arrived, u32, ClientId)>::deserialize(d)?;
        let mut remote = Remote::new(link, object, types);
        remote.counted = remote.count(Op::Adopt { from });
        Ok(remote)
    }
}

impl Clone for Remote {
    /// One more proxy of the object: one more count on the server.
    fn clone(&self) -> Remote {
        Remote {
            link: self.link.clone(),
            object: self.object,
            tag: self.tag,
            types: self.types,
            counted: self.count(Op::IncRef),
        }
    }
}

impl Drop for Remote {
    /// One proxy fewer: at the last, in any process, the server frees the
    /// object.
    fn drop(&mut self) {
        if self.counted {
            self.count(Op::DecRef);
        }
    }
}

/// Sends a count operation for one object; `Ok` if the server did it.
fn count(link: &Link, object: u32, tag: u32, op: Op) -> Result<(), ManagerError> {
    match link.call(&Request { object, tag, op })? {
        Answer::Done => Ok(()),
        Answer::Refused(why) => Err(ManagerError::refused(why, "")),
        other => Err(unexpected(&other)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_arriving_in_one_process_share_its_link() {
        // A server of its own: serializing and arriving count the proxy.
        let (outbox, inbox) = Socket::pair().unwrap();
        std::thread::spawn(move || crate::process::manager_server::serve(inbox));
        let original = Link::shared(outbox);
        let remote = Remote::new(original.clone(), 3, "u8");
        let mut arrived = Vec::new();
        for _ in 0..3 {
            let wire = transfer::encode(&RemoteWire(&remote)).unwrap();
            let back: Arrived2 = transfer::decode(&wire.bytes, wire.fds).unwrap();
            arrived.push(back.0);
        }
        // Each arrived with a duplicate descriptor of the same connector:
        // all of them use the link this process already has.
        for r in &arrived {
            assert!(Arc::ptr_eq(&r.link, &original));
            assert_eq!(r.object, 3);
        }
        // Another server's connector gets a link of its own.
        let (other, _inbox) = Socket::pair().unwrap();
        assert!(!Arc::ptr_eq(&Link::shared(other), &original));
    }

    /// A stand-in server on `inbox`: answers `Done` to everything and
    /// records each operation, except that it drops the connection on an
    /// `IncRef`, as a connection broken by a transient error would leave
    /// the caller.
    fn recording_server(inbox: Socket) -> Arc<Mutex<Vec<Op>>> {
        use super::super::manager_slot::Message as Here;
        let ops = Arc::new(Mutex::new(Vec::new()));
        let seen = ops.clone();
        std::thread::spawn(move || {
            while let Ok(hello) = inbox.recv(None) {
                let mut fds = hello.fds.into_iter();
                let (Some(socket), Some(file)) = (fds.next(), fds.next()) else {
                    continue;
                };
                let (socket, seen) = (Socket::from_fd(socket), seen.clone());
                let slot = Region::<Slot>::open(file).unwrap();
                std::thread::spawn(move || {
                    let s = slot.state();
                    let gone = || sys_socket::peer_closed(socket.as_fd());
                    while s.wait_turn(SERVER, gone, Duration::from_millis(5)).is_ok() {
                        let Ok(Here::Here(bytes)) = s.read() else {
                            return;
                        };
                        let request: Request = frame::from_payload(&bytes).unwrap();
                        let fail = matches!(request.op, Op::IncRef);
                        seen.lock().unwrap().push(request.op);
                        if fail {
                            return;
                        }
                        assert!(s.write(&frame::to_payload(&Answer::Done).unwrap()));
                        s.hand_over(CLIENT);
                    }
                });
            }
        });
        ops
    }

    #[test]
    fn a_clone_whose_count_failed_never_gives_up_anothers() {
        let (outbox, inbox) = Socket::pair().unwrap();
        let ops = recording_server(inbox);
        let link = Arc::new(Link::new(outbox));
        let remote = Remote::new(link, 5, "u8");
        // The clone's IncRef fails (its connection breaks): it holds no
        // count, so its drop must not take away the original's.
        let copy = remote.clone();
        drop(copy);
        let decrefs = |ops: &Mutex<Vec<Op>>| {
            let ops = ops.lock().unwrap();
            ops.iter().filter(|op| matches!(op, Op::DecRef)).count()
        };
        assert_eq!(decrefs(&ops), 0, "a DecRef for a count never taken");
        drop(remote);
        assert_eq!(decrefs(&ops), 1);
    }

    #[test]
    fn a_proxy_whose_copy_in_flight_was_not_counted_is_not_sent() {
        let (outbox, inbox) = Socket::pair().unwrap();
        let ops = recording_server(inbox);
        let link = Arc::new(Link::new(outbox));
        let remote = Remote::new(link, 5, "u8");
        // Sent uncounted, the copy would adopt (take away) the sender's own
        // count on arrival: the message is refused instead.
        assert!(transfer::encode(&RemoteWire(&remote)).is_err());
        assert!(
            ops.lock()
                .unwrap()
                .iter()
                .any(|op| matches!(op, Op::IncRef))
        );
    }

    struct RemoteWire<'a>(&'a Remote);

    impl Serialize for RemoteWire<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.serialize(s)
        }
    }

    struct Arrived2(Remote);

    impl<'de> Deserialize<'de> for Arrived2 {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Remote::deserialize(d, "u8").map(Arrived2)
        }
    }
}
