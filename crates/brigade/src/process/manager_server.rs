//! The [`Manager`](super::Manager)'s server: the function its child
//! process runs.
//!
//! The main thread waits on the connector (see
//! [`manager_link`](super::manager_link)) and starts one thread per
//! connection that arrives. A connection's thread takes one request at a
//! time from the connection's slot (see
//! [`manager_slot`](super::manager_slot)), applies it under its object's
//! lock, and puts the answer in its place. So many clients are served at
//! once, each operation is atomic, and operations on different objects do
//! not wait for each other. (A connection that arrives with no slot is
//! served on its socket alone, one packet each way.)
//!
//! A request is applied only once it has arrived whole: the client hands
//! the slot's turn over only after writing all of it, and one too large
//! for the slot is one sequenced packet, which the kernel delivers whole or
//! not at all (a large one travels in a sealed memory file written before
//! the packet is sent). A client killed in the middle of sending therefore
//! sends nothing;
//! bytes that are no request (a stranger, a bug) are answered with a
//! refusal that changes nothing, and the connection goes on. A slot's
//! memory file must come sealed against shrinking (a client that shrank it
//! under the server's mapping would kill the server, `SIGBUS`, at its next
//! read): one that is not is refused with its connection. A client that
//! goes away ends only its own thread (which, asleep on the slot, checks
//! the socket for the client's hang-up between naps of at most 200 ms).
//!
//! ```
//! // Internal: Manager::start runs it in a child process.
//! # let _ = brigade::process::Manager::start;
//! ```

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};

use super::frame::{self, FrameError};
use super::manager_link::{WITH_SLOT, receive_soon};
use super::manager_refs::{ClientId, Holders};
use super::manager_slot::{CLIENT, Message as SlotMessage, SERVER, Slot};
use super::manager_store::Object;
use super::manager_wire::{Answer, Op, Refusal, Request};
use super::region::Region;
use super::socket::{RecvError, Socket};
use super::transfer;
use crate::sys::memory as sys_memory;
use crate::sys::socket as sys_socket;

/// The connector's receiving end, as it travels to the server process.
pub(crate) struct Inbox(pub(crate) Socket);

impl Serialize for Inbox {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = transfer::attach(self.0.as_fd()).map_err(ser::Error::custom)?;
        s.serialize_newtype_struct("Inbox", &index)
    }
}

impl<'de> Deserialize<'de> for Inbox {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Inbox, D::Error> {
        let index = u32::deserialize(d)?;
        let fd = transfer::detach(index).map_err(de::Error::custom)?;
        Ok(Inbox(Socket::from_fd(fd)))
    }
}

/// The server process's function: serves until every sending end of the
/// connector is closed (in practice, until the manager kills it).
pub(crate) fn run(inbox: Inbox) {
    serve(inbox.0);
}

/// Every object of one server, by number, and who holds each (see
/// [`manager_refs`](super::manager_refs)). A freed object's number is not
/// used again.
#[derive(Default)]
struct Objects {
    table: RwLock<Vec<Option<Arc<Mutex<Object>>>>>,
    // Never locked together with `table` (so in no order that could
    // deadlock): the counts say what to free, then the table lets go.
    holders: Mutex<Holders>,
}

impl Objects {
    fn apply(&self, request: Request, client: ClientId) -> Answer {
        let gone = || {
            Answer::Refused(Refusal::Malformed(format!(
                "the manager has no object #{}",
                request.object
            )))
        };
        match request.op {
            Op::Ping => Answer::Done,
            Op::Create { kind, types } => {
                let id = {
                    let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
                    let Ok(id) = u32::try_from(table.len()) else {
                        return Answer::Refused(Refusal::Malformed(
                            "the manager holds too many objects".into(),
                        ));
                    };
                    table.push(Some(Arc::new(Mutex::new(Object::new(kind, types)))));
                    id
                };
                self.holders().created(client, id);
                Answer::Created(id)
            }
            Op::IncRef => match self.holders().incref(client, request.object) {
                true => Answer::Done,
                false => gone(),
            },
            Op::Adopt { from } => match self.holders().adopt(client, request.object, from) {
                true => Answer::Done,
                false => gone(),
            },
            Op::DecRef => {
                if self.holders().decref(client, request.object) {
                    self.free(&[request.object]);
                }
                Answer::Done
            }
            Op::LiveObjects => Answer::Len(self.holders().live() as u64),
            op => {
                let object = self
                    .table
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(request.object as usize)
                    .cloned()
                    .flatten();
                match object {
                    Some(object) => object
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .apply(request.tag, op),
                    None => gone(),
                }
            }
        }
    }

    fn holders(&self) -> std::sync::MutexGuard<'_, Holders> {
        self.holders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Frees objects no one holds. (A request already under way on one
    /// finishes on its own reference and is then dropped.)
    fn free(&self, objects: &[u32]) {
        if objects.is_empty() {
            return;
        }
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        for &object in objects {
            if let Some(entry) = table.get_mut(object as usize) {
                *entry = None;
            }
        }
    }

    /// A connection of `client` closed.
    fn disconnect(&self, client: ClientId) {
        let freed = self.holders().disconnect(client);
        self.free(&freed);
    }
}

/// Serves on `connector`: one thread per connection.
pub(crate) fn serve(connector: Socket) {
    let objects = Arc::new(Objects::default());
    loop {
        let message = match connector.recv(None) {
            Ok(message) => message,
            Err(RecvError::Closed) => return,
            // A bad packet on the connector: nothing to answer; wait for
            // the next.
            Err(RecvError::Frame(FrameError::Io(_))) => return,
            Err(RecvError::Frame(_) | RecvError::Timeout) => continue,
        };
        if let Some(client) = client_of(&message.payload) {
            let mut fds = message.fds.into_iter();
            let (Some(socket), Some(file), None) = (fds.next(), fds.next(), fds.next()) else {
                continue;
            };
            // A file that is no slot, or one whose client could shrink it
            // under our mapping (a read past its end would kill the whole
            // server with SIGBUS): the connection is dropped, and its client
            // sees the end instead of waiting.
            if !sys_memory::is_fixed_size(file.as_fd()) {
                continue;
            }
            let Ok(slot) = Region::<Slot>::open(file) else {
                continue;
            };
            // Counted before the thread starts, so that another connection
            // of the client that ends first does not release its counts.
            objects.holders().connect(client);
            let theirs = objects.clone();
            let started = std::thread::Builder::new()
                .name("brigade-manager".into())
                .spawn(move || {
                    serve_slot(&Socket::from_fd(socket), &slot, &theirs, client);
                    theirs.disconnect(client);
                });
            if started.is_err() {
                objects.disconnect(client);
            }
            continue;
        }
        for fd in message.fds {
            // A client of its own, which holds what it creates.
            let client = PLAIN_CLIENTS.fetch_sub(1, Ordering::Relaxed);
            objects.holders().connect(client);
            let theirs = objects.clone();
            // A connection that cannot get a thread is dropped: its client
            // sees the end instead of waiting.
            let started = std::thread::Builder::new()
                .name("brigade-manager".into())
                .spawn(move || {
                    serve_connection(&Socket::from_fd(fd), &theirs, client);
                    theirs.disconnect(client);
                });
            if started.is_err() {
                objects.disconnect(client);
            }
        }
    }
}

/// The ids given to connections that came with no slot (and so with no
/// client id): counted down from the top, where a client's random id is
/// as good as never found.
static PLAIN_CLIENTS: AtomicU64 = AtomicU64::new(u64::MAX);

/// The client id in a connector packet that brings a connection with a
/// slot ([`WITH_SLOT`] and 8 bytes), or `None`.
fn client_of(payload: &[u8]) -> Option<ClientId> {
    let id = payload.strip_prefix(WITH_SLOT)?;
    Some(u64::from_le_bytes(id.try_into().ok()?))
}

/// How long a server thread sleeps, at most, before it checks that its
/// client lives (its naps double up to this). Only an idle connection
/// sleeps that long, and noticing its client's death late only keeps a
/// thread, and the dead client's counts, a little longer.
const SERVER_NAP: Duration = Duration::from_millis(200);

/// Answers one connection's requests through its slot (see
/// [`manager_slot`](super::manager_slot)), one at a time, until the client
/// closes its end.
fn serve_slot(connection: &Socket, slot: &Region<Slot>, objects: &Objects, client: ClientId) {
    let slot = slot.state();
    let socket = connection.as_fd();
    loop {
        if slot
            .wait_turn(SERVER, || sys_socket::peer_closed(socket), SERVER_NAP)
            .is_err()
        {
            return;
        }
        let answer = match slot.read() {
            Ok(SlotMessage::Here(bytes)) => answer(Ok(bytes), objects, client),
            // Sent before the turn was handed over: it is there (or the
            // client lied and is gone, and the receive sees the end).
            Ok(SlotMessage::OnSocket) => match connection.recv(None) {
                Ok(message) if !message.fds.is_empty() => Some(no_descriptors()),
                Ok(message) => answer(Ok(message.payload), objects, client),
                Err(e) => answer(Err(e), objects, client),
            },
            Err(why) => Some(Answer::Refused(Refusal::Malformed(why))),
        };
        let Some(bytes) = answer.and_then(|a| encode(&a)) else {
            return;
        };
        if !slot.write(&bytes) {
            if connection.send(&bytes, &[]).is_err() {
                return;
            }
            slot.write_on_socket();
        }
        slot.hand_over(CLIENT);
    }
}

/// Answers one connection's requests on its socket alone, one at a time,
/// until it closes (a connection made with no slot).
fn serve_connection(connection: &Socket, objects: &Objects, client: ClientId) {
    loop {
        let answer = match receive_soon(connection) {
            Ok(message) if !message.fds.is_empty() => Some(no_descriptors()),
            Ok(message) => answer(Ok(message.payload), objects, client),
            Err(RecvError::Timeout) => continue,
            Err(e) => answer(Err(e), objects, client),
        };
        let Some(bytes) = answer.and_then(|a| encode(&a)) else {
            return;
        };
        if connection.send(&bytes, &[]).is_err() {
            return;
        }
    }
}

fn no_descriptors() -> Answer {
    Answer::Refused(Refusal::Malformed(
        "a request carries no descriptors".into(),
    ))
}

/// The answer to what arrived, or `None` if the connection has ended.
fn answer(
    received: Result<Vec<u8>, RecvError>,
    objects: &Objects,
    client: ClientId,
) -> Option<Answer> {
    Some(match received {
        Ok(payload) => match frame::from_payload::<Request>(&payload) {
            Ok(request) => objects.apply(request, client),
            Err(e) => Answer::Refused(Refusal::Malformed(e.to_string())),
        },
        Err(RecvError::Closed | RecvError::Frame(FrameError::Io(_)) | RecvError::Timeout) => {
            return None;
        }
        // The packet was taken whole: the connection is still in step.
        Err(RecvError::Frame(e)) => Answer::Refused(Refusal::Malformed(e.to_string())),
    })
}

/// An answer's payload; one too large for a message is said instead of
/// sent (say, the keys of a huge dict): the client gets a reason, not a
/// closed connection.
fn encode(answer: &Answer) -> Option<Vec<u8>> {
    let bytes = frame::to_payload(answer).ok()?;
    if bytes.len() <= frame::MAX_PAYLOAD {
        return Some(bytes);
    }
    let refusal = Answer::Refused(Refusal::Malformed(format!(
        "the answer takes {} bytes, more than the limit of {} on one message",
        bytes.len(),
        frame::MAX_PAYLOAD
    )));
    frame::to_payload(&refusal).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    use crate::process::frame::{HEADER_LEN, Kind as FrameKind};
    use crate::process::manager_error::ManagerError;
    use crate::process::manager_link::{Link, Remote, blob, value};
    use crate::process::manager_slot::CAPACITY;
    use crate::process::manager_wire::{Kind, tag};

    fn call(connection: &Socket, request: &Request) -> Answer {
        connection
            .send(&frame::to_payload(request).unwrap(), &[])
            .unwrap();
        frame::from_payload(&connection.recv(None).unwrap().payload).unwrap()
    }

    #[test]
    fn half_a_frame_or_garbage_changes_nothing_and_the_server_goes_on() {
        let (outbox, inbox) = Socket::pair().unwrap();
        let server = std::thread::spawn(move || serve(inbox));
        let link = Arc::new(Link::new(outbox));
        let types = "(u32, u32)";
        let Answer::Created(id) = link
            .call(&Request {
                object: 0,
                tag: 0,
                op: Op::Create {
                    kind: Kind::Dict,
                    types: types.into(),
                },
            })
            .unwrap()
        else {
            panic!("not created");
        };
        let dict = Remote::new(link.clone(), id, types);
        dict.call(Op::Insert(blob(&1u32).unwrap(), blob(&10u32).unwrap()))
            .unwrap();

        // A raw connection of our own, through the same connector.
        let (raw, theirs) = Socket::pair().unwrap();
        let request = Request {
            object: id,
            tag: tag(types),
            op: Op::Insert(blob(&2u32).unwrap(), blob(&20u32).unwrap()),
        };
        let whole = frame::to_payload(&request).unwrap();
        let mut framed = frame::header(FrameKind::Inline, whole.len())
            .unwrap()
            .to_vec();
        framed.extend_from_slice(&whole);
        link_send_connection(&link, theirs);
        // The first half of the frame, as a client killed mid-write would
        // leave it if packets could be split: refused, nothing applied.
        raw.send_raw(&framed[..HEADER_LEN + whole.len() / 2])
            .unwrap();
        let answer: Answer = frame::from_payload(&raw.recv(None).unwrap().payload).unwrap();
        assert!(matches!(answer, Answer::Refused(Refusal::Malformed(_))));
        // Plain garbage, then a request whose payload is cut short.
        raw.send_raw(b"garbage").unwrap();
        let answer: Answer = frame::from_payload(&raw.recv(None).unwrap().payload).unwrap();
        assert!(matches!(answer, Answer::Refused(_)));
        raw.send(&whole[..whole.len() - 1], &[]).unwrap();
        let answer: Answer = frame::from_payload(&raw.recv(None).unwrap().payload).unwrap();
        assert!(matches!(answer, Answer::Refused(Refusal::Malformed(_))));
        // The raw client goes away; the dict is as it was, and served.
        drop(raw);
        let answer = dict.call(Op::Get(blob(&2u32).unwrap())).unwrap();
        assert!(matches!(answer, Answer::Value(None)));
        let Answer::Value(Some(ten)) = dict.call(Op::Get(blob(&1u32).unwrap())).unwrap() else {
            panic!("lost the entry");
        };
        assert_eq!(value::<u32>(&ten).unwrap(), 10);
        // A well-formed request on another connection still works.
        let (good, theirs) = Socket::pair().unwrap();
        link_send_connection(&link, theirs);
        assert!(matches!(call(&good, &request), Answer::Value(None)));
        assert!(matches!(dict.call(Op::Len).unwrap(), Answer::Len(2)));
        // Every sending end closed: the server ends.
        drop((dict, link, good));
        server.join().unwrap();
    }

    fn dict_of_bytes(link: &Arc<Link>) -> Remote {
        let types = "(u32, alloc::vec::Vec<u8>)";
        let request = Request {
            object: 0,
            tag: 0,
            op: Op::Create {
                kind: Kind::Dict,
                types: types.into(),
            },
        };
        let Answer::Created(id) = link.call(&request).unwrap() else {
            panic!("not created");
        };
        Remote::new(link.clone(), id, types)
    }

    #[test]
    fn messages_around_the_slot_size_travel_whole_through_slot_or_socket() {
        let (outbox, inbox) = Socket::pair().unwrap();
        let server = std::thread::spawn(move || serve(inbox));
        let link = Arc::new(Link::new(outbox));
        let dict = dict_of_bytes(&link);
        // From requests and answers that fit the slot to ones that go on
        // the socket, one byte at a time across the edge, on one
        // connection (so each path follows the other).
        for len in CAPACITY - 24..CAPACITY + 8 {
            let key = blob(&(len as u32)).unwrap();
            let v = vec![len as u8; len];
            dict.call(Op::Insert(key.clone(), blob(&v).unwrap()))
                .unwrap();
            let Answer::Value(Some(back)) = dict.call(Op::Get(key)).unwrap() else {
                panic!("lost the value of {len} bytes");
            };
            assert_eq!(value::<Vec<u8>>(&back).unwrap(), v);
        }
        assert!(matches!(dict.call(Op::Len).unwrap(), Answer::Len(32)));
        drop((dict, link));
        server.join().unwrap();
    }

    #[test]
    fn a_server_gone_while_a_client_waits_is_manager_died() {
        let (outbox, inbox) = Socket::pair().unwrap();
        let link = Arc::new(Link::new(outbox));
        let caller = link.clone();
        let client = std::thread::spawn(move || {
            caller.call(&Request {
                object: 0,
                tag: 0,
                op: Op::Ping,
            })
        });
        // The "server" takes the connection and its slot, never answers,
        // waits until the client sleeps on the slot, and goes away: the
        // client must wake by itself and see it.
        let connection = inbox.recv(None).unwrap();
        assert!(client_of(&connection.payload).is_some());
        let mut fds = connection.fds.into_iter();
        let (socket, file) = (fds.next().unwrap(), fds.next().unwrap());
        let slot = Region::<Slot>::open(file).unwrap();
        while !slot.state().waiter_sleeps() {
            std::thread::yield_now();
        }
        drop(socket);
        assert!(matches!(
            client.join().unwrap(),
            Err(ManagerError::ManagerDied)
        ));
    }

    #[test]
    fn a_client_gone_while_its_server_thread_waits_ends_the_thread() {
        let (ours, theirs) = Socket::pair().unwrap();
        let slot = Region::<Slot>::new(c"slot-test", |_| Ok(())).unwrap();
        let server_slot = slot.clone();
        let objects = Arc::new(Objects::default());
        let thread = std::thread::spawn(move || serve_slot(&theirs, &server_slot, &objects, 1));
        // A request that fits, answered through the slot.
        let request = frame::to_payload(&Request {
            object: 0,
            tag: 0,
            op: Op::Ping,
        })
        .unwrap();
        let s = slot.state();
        let ask = |request: &[u8]| {
            assert!(s.write(request));
            s.hand_over(SERVER);
            s.wait_turn(CLIENT, || false, Duration::from_millis(20))
                .unwrap();
            let SlotMessage::Here(answer) = s.read().unwrap() else {
                panic!("the answer is not in the slot");
            };
            frame::from_payload::<Answer>(&answer).unwrap()
        };
        assert!(matches!(ask(&request), Answer::Done));
        // Bytes that are no request: refused, and the connection goes on.
        assert!(matches!(
            ask(b"\xff\xff\xff"),
            Answer::Refused(Refusal::Malformed(_))
        ));
        // The client goes away with no request in flight: the thread,
        // asleep on the slot, notices the closed socket and ends.
        drop(ours);
        thread.join().unwrap();
    }

    #[test]
    fn a_slot_whose_size_a_client_could_change_is_refused() {
        // A client that could shrink the slot's file under the server's
        // mapping would kill the server (SIGBUS) at its next read.
        let (outbox, inbox) = Socket::pair().unwrap();
        std::thread::spawn(move || serve(inbox));
        let (ours, theirs) = Socket::pair().unwrap();
        let unsealed = Region::<Slot>::new(c"slot-test", |_| Ok(())).unwrap();
        let mut hello = WITH_SLOT.to_vec();
        hello.extend_from_slice(&7u64.to_le_bytes());
        outbox
            .send(
                &hello,
                &[theirs.as_fd().as_raw_fd(), unsealed.fd().as_raw_fd()],
            )
            .unwrap();
        drop(theirs);
        // Refused: the server drops the connection, and says so by closing
        // it (a server that took it would keep it open).
        assert!(matches!(
            ours.recv(Some(Duration::from_secs(30))),
            Err(RecvError::Closed)
        ));
        // A proxy's own connections are served.
        let link = Arc::new(Link::new(outbox));
        let ping = Request {
            object: 0,
            tag: 0,
            op: Op::Ping,
        };
        assert!(matches!(link.call(&ping), Ok(Answer::Done)));
    }

    /// Hands the server one end of a connection made by hand.
    fn link_send_connection(link: &Link, theirs: Socket) {
        link.send_connection(theirs).unwrap();
    }
}
