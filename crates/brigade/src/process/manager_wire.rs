//! The [`Manager`](super::Manager)'s wire protocol: one [`Request`] from a
//! proxy, one [`Answer`] from the server, each one postcard payload that
//! travels in a connection's shared-memory slot or, when too large for it,
//! as a [frame](super::frame) in one sequenced packet.
//!
//! The server never decodes the user's keys and values: they travel and are
//! stored as [`Blob`]s, the postcard encoding the proxy made. What the
//! server checks instead is a *type tag*: each object records the type
//! names it was created for (and their hash, the tag), every request
//! carries the tag of the proxy's types, and a request whose tag differs is
//! refused with the stored names, before any value is decoded. A value can
//! therefore never be decoded as another type by accident.
//!
//! ```
//! // Internal: a proxy and the server speak it; nothing to call.
//! # let _ = brigade::process::Manager::start;
//! ```

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::function::FnRef;

/// One encoded key or value, opaque to the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Blob(pub(crate) Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // As bytes, not as a sequence of numbers: one length and one copy.
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Blob, D::Error> {
        d.deserialize_byte_buf(BlobVisitor)
    }
}

struct BlobVisitor;

impl<'de> Visitor<'de> for BlobVisitor {
    type Value = Blob;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an encoded value (bytes)")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
        Ok(Blob(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
        Ok(Blob(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
        let mut bytes = Vec::new();
        while let Some(b) = seq.next_element::<u8>()? {
            bytes.push(b);
        }
        Ok(Blob(bytes))
    }
}

/// The kinds of shared object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Kind {
    Dict,
    List,
    Namespace,
}

/// One operation on one object.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    /// The object (ignored by `Ping` and `Create`).
    pub(crate) object: u32,
    /// The tag of the proxy's types (see the module docs).
    pub(crate) tag: u32,
    pub(crate) op: Op,
}

/// What to do. Each is applied whole, under the object's lock, after the
/// request has arrived whole.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Op {
    /// Is the server there? Answered `Done`.
    Ping,
    /// A new object for values of the named types; answered `Created`.
    Create {
        kind: Kind,
        types: String,
    },
    /// One more count on the object for the sending client (a proxy
    /// cloned, or serialized to travel); `Done`, or refused if it is gone.
    IncRef,
    /// One count fewer for the sending client (a proxy dropped); `Done`.
    DecRef,
    /// The sending client takes over a count that client `from` made for
    /// a proxy in flight; `Done`, or refused if the object is gone.
    Adopt {
        from: u64,
    },
    /// How many objects the server holds; answered `Len`.
    LiveObjects,
    /// Any object: its number of entries, elements or attributes.
    Len,
    /// Any object: removes everything.
    Clear,
    // A dict.
    Get(Blob),
    Insert(Blob, Blob),
    Remove(Blob),
    Contains(Blob),
    Keys,
    Values,
    Items,
    Update(Vec<(Blob, Blob)>),
    /// Sets the key to what the named function (a function of this very
    /// executable, see [`function`](super::function)) returns for its
    /// current value.
    UpdateWith(Blob, FnRef),
    // A list.
    Push(Blob),
    Index(u64),
    Set(u64, Blob),
    Pop,
    ToVec,
    Extend(Vec<Blob>),
    InsertAt(u64, Blob),
    RemoveAt(u64),
    // A namespace: attributes typed one by one.
    GetAttr {
        name: String,
        tag: u32,
    },
    SetAttr {
        name: String,
        types: String,
        value: Blob,
    },
    DelAttr(String),
}

/// The server's answer to one request.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Answer {
    Done,
    Created(u32),
    Value(Option<Blob>),
    Bool(bool),
    Len(u64),
    Many(Vec<Blob>),
    Pairs(Vec<(Blob, Blob)>),
    Refused(Refusal),
}

/// Why the server did not apply a request (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Refusal {
    /// The object's types are not the proxy's: here are the stored names.
    TypeMismatch { stored: String },
    /// A list index past the end.
    IndexOutOfRange { index: u64, len: u64 },
    /// The function of an `UpdateWith` panicked, with this message.
    Panicked(String),
    /// The request makes no sense (an unknown object, an operation of
    /// another kind of object, bytes that are no request).
    Malformed(String),
}

/// The tag of a type name: 32-bit FNV-1a, enough to tell apart the few
/// types a program shares, and cheap to carry in every request. The names
/// come from one executable (server and clients run the same build), so
/// the same type always has the same name.
pub(crate) fn tag(types: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in types.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::frame;

    #[test]
    fn blobs_travel_as_bytes() {
        let blob = Blob(vec![1, 2, 3, 200]);
        let bytes = frame::to_payload(&blob).unwrap();
        // One length byte, then the bytes themselves.
        assert_eq!(bytes, [4, 1, 2, 3, 200]);
        assert_eq!(frame::from_payload::<Blob>(&bytes).unwrap(), blob);
    }

    #[test]
    fn tags_differ_for_different_names() {
        assert_ne!(tag("u32"), tag("u64"));
        assert_eq!(tag("alloc::string::String"), tag("alloc::string::String"));
    }
}
