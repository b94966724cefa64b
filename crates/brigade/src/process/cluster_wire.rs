//! What a cluster pool writes to the broker: the keys, and the entries of
//! its streams.
//!
//! Under a namespace `ns` (one build's work; see
//! [`Cluster::namespace`](super::Cluster::namespace)):
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `ns:tasks` | stream, group `workers` | every client's tasks; workers read it as one consumer group |
//! | `ns:client:ID` | string | the client is alive (its time to live is renewed while it runs) |
//! | `ns:results:ID` | stream | the client's results, read by the client alone |
//! | `ns:attempts:ID` | hash | how many times each of the client's tasks was started, and how the last attempt ended |
//!
//! Every key has a time to live, renewed while its owner runs, so a client
//! that dies leaves nothing behind once it passes. An entry carries one
//! field, `d`: a postcard-encoded [`TaskEntry`] or [`ResultEntry`].
//!
//! ```
//! // The entries are internal; the key layout above is the contract.
//! # let _ = brigade::process::Cluster::new("redis://127.0.0.1/");
//! ```

use serde::{Deserialize, Serialize};

/// The consumer group of the workers.
pub(crate) const GROUP: &str = "workers";
/// The one field of every entry.
pub(crate) const FIELD: &str = "d";

pub(crate) fn tasks_key(ns: &str) -> String {
    format!("{ns}:tasks")
}
pub(crate) fn client_key(ns: &str, client: &str) -> String {
    format!("{ns}:client:{client}")
}
pub(crate) fn results_key(ns: &str, client: &str) -> String {
    format!("{ns}:results:{client}")
}
pub(crate) fn attempts_key(ns: &str, client: &str) -> String {
    format!("{ns}:attempts:{client}")
}

/// One task, as a client queues it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskEntry {
    pub(crate) client: String,
    pub(crate) seq: u64,
    /// The client's build identity.
    pub(crate) build: String,
    pub(crate) max_attempts: u32,
    /// The limit on the encoded result.
    pub(crate) max_message: u64,
    /// The time to live of the keys the worker writes for this client.
    pub(crate) ttl_ms: u64,
    /// A `Call` frame and the encoded arguments, as a local worker gets them.
    #[serde(with = "bytes")]
    pub(crate) payload: Vec<u8>,
    /// The pool's time limit on one task, enforced by the worker as a
    /// local pool does (the process is killed).
    pub(crate) timeout_ms: Option<u64>,
    /// The pool's initializer, as a `Call` frame and its encoded
    /// arguments: the worker's processes that run the task have run it.
    pub(crate) initializer: Option<Vec<u8>>,
}

/// One result, as a worker answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ResultEntry {
    pub(crate) seq: u64,
    pub(crate) outcome: Outcome,
}

/// How a task ended on the worker's side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Outcome {
    /// A local worker's reply (a `Reply` frame and the encoded result),
    /// and the pid of the process that ran it, on the worker's machine.
    Reply {
        pid: u32,
        #[serde(with = "bytes")]
        payload: Vec<u8>,
    },
    /// The task killed its worker on every allowed attempt.
    Poisoned { attempts: u32, last: String },
    /// The task ran past the pool's time limit; its process was killed.
    TimedOut { pid: u32 },
    /// The pool's initializer panicked in the process started for the task.
    Panicked { pid: u32, message: String },
    /// The worker runs another build.
    Mismatch { worker: String },
    /// The worker could not run it (a broken channel to its process, a
    /// result that cannot travel).
    Failed(String),
}

/// Bytes as one length-prefixed block (postcard's `Vec<u8>` is already
/// that; this only spares the per-element visitor).
mod bytes {
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

/// The entries `(id, d)` of a reply that lists them: `XRANGE`, or the
/// second element of `XAUTOCLAIM`. A deleted entry (no fields) has `None`.
pub(crate) fn entries(list: &redis::Value) -> Vec<(String, Option<Vec<u8>>)> {
    let redis::Value::Array(items) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let redis::Value::Array(parts) = item else {
                return None;
            };
            let id = text(parts.first()?)?;
            let data = match parts.get(1) {
                Some(redis::Value::Array(fields)) => fields
                    .chunks(2)
                    .find(|kv| kv.first().and_then(text).as_deref() == Some(FIELD))
                    .and_then(|kv| match kv.get(1) {
                        Some(redis::Value::BulkString(b)) => Some(b.clone()),
                        _ => None,
                    }),
                _ => None,
            };
            Some((id, data))
        })
        .collect()
}

/// The entries of an `XREAD`/`XREADGROUP` reply (one stream); none on a
/// timeout.
pub(crate) fn read_entries(reply: &redis::Value) -> Vec<(String, Option<Vec<u8>>)> {
    match reply {
        redis::Value::Array(streams) => streams
            .iter()
            .flat_map(|s| match s {
                redis::Value::Array(kv) if kv.len() == 2 => entries(&kv[1]),
                _ => Vec::new(),
            })
            .collect(),
        redis::Value::Map(streams) => streams.iter().flat_map(|(_, v)| entries(v)).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn text(v: &redis::Value) -> Option<String> {
    match v {
        redis::Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_postcard() {
        let task = TaskEntry {
            client: "c".into(),
            seq: 7,
            build: "b".into(),
            max_attempts: 3,
            max_message: 10,
            ttl_ms: 1000,
            payload: vec![1, 2, 3],
            timeout_ms: Some(250),
            initializer: Some(vec![4]),
        };
        let bytes = postcard::to_allocvec(&task).unwrap();
        let back: TaskEntry = postcard::from_bytes(&bytes).unwrap();
        assert_eq!((back.seq, back.payload), (7, vec![1, 2, 3]));
        assert_eq!(
            (back.timeout_ms, back.initializer),
            (Some(250), Some(vec![4]))
        );
    }

    #[test]
    fn stream_replies_are_read_and_deleted_entries_kept_apart() {
        use redis::Value::{Array, BulkString};
        let reply = Array(vec![Array(vec![
            BulkString(b"ns:tasks".to_vec()),
            Array(vec![
                Array(vec![
                    BulkString(b"1-0".to_vec()),
                    Array(vec![BulkString(b"d".to_vec()), BulkString(vec![9])]),
                ]),
                Array(vec![BulkString(b"2-0".to_vec()), redis::Value::Nil]),
            ]),
        ])]);
        let got = read_entries(&reply);
        assert_eq!(
            got,
            vec![("1-0".into(), Some(vec![9])), ("2-0".into(), None)]
        );
        assert!(read_entries(&redis::Value::Nil).is_empty());
    }
}
