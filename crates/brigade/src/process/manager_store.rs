//! The [`Manager`](super::Manager) server's objects, and how each request
//! changes one of them.
//!
//! A dict is an [`OrderedMap`]: the compact, insertion-ordered layout of
//! CPython's dict since 3.6 (Raymond Hettinger's 2012 proposal, "More
//! compact dictionaries with faster iteration"): entries sit in a vector in
//! the order they were first inserted, and a hash index maps each key to
//! its slot. Removing an entry leaves a hole that iteration skips; when
//! holes outnumber the entries, the vector is compacted. So `keys()`,
//! `values()` and `items()` come in insertion order, as in Python, and
//! replacing a value keeps its key's place.
//!
//! Keys are compared by their encoding: two keys are the same key when
//! their postcard bytes are equal. For the usual key types (integers,
//! strings, tuples and enums of them) that is exactly `==`.
//!
//! ```
//! // Internal: the server applies requests with it.
//! # let _ = brigade::process::Manager::start;
//! ```

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::child::panic_message;
use super::function::FnRef;
use super::manager_wire::{Answer, Blob, Kind, Op, Refusal, tag};

/// A map that remembers insertion order (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct OrderedMap {
    index: HashMap<Blob, usize>,
    slots: Vec<Option<(Blob, Blob)>>,
}

impl OrderedMap {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn get(&self, key: &Blob) -> Option<&Blob> {
        let slot = *self.index.get(key)?;
        self.slots[slot].as_ref().map(|(_, v)| v)
    }

    /// Sets `key` to `value`; a key already present keeps its place.
    pub(crate) fn insert(&mut self, key: Blob, value: Blob) -> Option<Blob> {
        if let Some(&slot) = self.index.get(&key) {
            let entry = self.slots[slot].as_mut()?;
            return Some(std::mem::replace(&mut entry.1, value));
        }
        self.index.insert(key.clone(), self.slots.len());
        self.slots.push(Some((key, value)));
        None
    }

    pub(crate) fn remove(&mut self, key: &Blob) -> Option<Blob> {
        let slot = self.index.remove(key)?;
        let (_, value) = self.slots[slot].take()?;
        if self.slots.len() > 2 * self.index.len() + 8 {
            self.compact();
        }
        Some(value)
    }

    /// Closes the holes, keeping the order.
    fn compact(&mut self) {
        self.slots.retain(Option::is_some);
        for (slot, entry) in self.slots.iter().enumerate() {
            if let Some((key, _)) = entry {
                if let Some(i) = self.index.get_mut(key) {
                    *i = slot;
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
    }

    /// The entries in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Blob, &Blob)> {
        self.slots.iter().flatten().map(|(k, v)| (k, v))
    }
}

/// One shared object on the server.
#[derive(Debug)]
pub(crate) struct Object {
    /// The type names it was made for, and their tag.
    types: String,
    tag: u32,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Dict(OrderedMap),
    List(Vec<Blob>),
    /// Attributes, each with its own type names.
    Namespace(HashMap<String, (u32, String, Blob)>),
}

impl Object {
    pub(crate) fn new(kind: Kind, types: String) -> Object {
        let body = match kind {
            Kind::Dict => Body::Dict(OrderedMap::default()),
            Kind::List => Body::List(Vec::new()),
            Kind::Namespace => Body::Namespace(HashMap::new()),
        };
        Object {
            tag: tag(&types),
            types,
            body,
        }
    }

    /// Applies one request made with the types tagged `tag`. A refused
    /// request changes nothing.
    pub(crate) fn apply(&mut self, tag: u32, op: Op) -> Answer {
        if tag != self.tag {
            return Answer::Refused(Refusal::TypeMismatch {
                stored: self.types.clone(),
            });
        }
        match &mut self.body {
            Body::Dict(map) => dict(map, op),
            Body::List(list) => self::list(list, op),
            Body::Namespace(attrs) => namespace(attrs, op),
        }
    }
}

fn dict(map: &mut OrderedMap, op: Op) -> Answer {
    match op {
        Op::Len => Answer::Len(map.len() as u64),
        Op::Clear => {
            map.clear();
            Answer::Done
        }
        Op::Get(key) => Answer::Value(map.get(&key).cloned()),
        Op::Insert(key, value) => Answer::Value(map.insert(key, value)),
        Op::Remove(key) => Answer::Value(map.remove(&key)),
        Op::Contains(key) => Answer::Bool(map.get(&key).is_some()),
        Op::Keys => Answer::Many(map.iter().map(|(k, _)| k.clone()).collect()),
        Op::Values => Answer::Many(map.iter().map(|(_, v)| v.clone()).collect()),
        Op::Items => Answer::Pairs(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Op::Update(pairs) => {
            for (key, value) in pairs {
                map.insert(key, value);
            }
            Answer::Done
        }
        Op::UpdateWith(key, function) => update_with(map, key, function),
        other => wrong_kind("dict", &other),
    }
}

fn list(list: &mut Vec<Blob>, op: Op) -> Answer {
    let out_of_range = |index: u64, len: usize| {
        Answer::Refused(Refusal::IndexOutOfRange {
            index,
            len: len as u64,
        })
    };
    match op {
        Op::Len => Answer::Len(list.len() as u64),
        Op::Clear => {
            list.clear();
            Answer::Done
        }
        Op::Push(value) => {
            list.push(value);
            Answer::Done
        }
        Op::Index(i) => Answer::Value(slot(i, list.len()).map(|i| list[i].clone())),
        Op::Set(i, value) => match slot(i, list.len()) {
            Some(at) => Answer::Value(Some(std::mem::replace(&mut list[at], value))),
            None => out_of_range(i, list.len()),
        },
        Op::Pop => Answer::Value(list.pop()),
        Op::ToVec => Answer::Many(list.clone()),
        Op::Extend(values) => {
            list.extend(values);
            Answer::Done
        }
        Op::InsertAt(i, value) => match usize::try_from(i) {
            Ok(at) if at <= list.len() => {
                list.insert(at, value);
                Answer::Done
            }
            _ => out_of_range(i, list.len()),
        },
        Op::RemoveAt(i) => match slot(i, list.len()) {
            Some(at) => Answer::Value(Some(list.remove(at))),
            None => out_of_range(i, list.len()),
        },
        other => wrong_kind("list", &other),
    }
}

/// Runs `function` on the current value of `key` (encoded as the
/// `(Option<V>,)` argument tuple its trampoline decodes: postcard writes an
/// `Option` as a 0 or a 1 and the value) and stores what it returns. The
/// map is changed only if the function returned.
fn update_with(map: &mut OrderedMap, key: Blob, function: FnRef) -> Answer {
    let mut args = Vec::new();
    match map.get(&key) {
        None => args.push(0),
        Some(value) => {
            args.reserve(1 + value.0.len());
            args.push(1);
            args.extend_from_slice(&value.0);
        }
    }
    let returned = catch_unwind(AssertUnwindSafe(|| function.call(&args, Vec::new())));
    match returned {
        Ok(Ok(encoded)) if encoded.fds.is_empty() => {
            let new = Blob(encoded.bytes);
            map.insert(key, new.clone());
            Answer::Value(Some(new))
        }
        Ok(Ok(_)) => Answer::Refused(Refusal::Malformed(
            "the function returned a value that holds descriptors".into(),
        )),
        Ok(Err(why)) => Answer::Refused(Refusal::Malformed(why)),
        Err(payload) => Answer::Refused(Refusal::Panicked(panic_message(&*payload))),
    }
}

/// `index` as a position in a list of `len` elements, if it is one.
fn slot(index: u64, len: usize) -> Option<usize> {
    usize::try_from(index).ok().filter(|&i| i < len)
}

fn namespace(attrs: &mut HashMap<String, (u32, String, Blob)>, op: Op) -> Answer {
    match op {
        Op::Len => Answer::Len(attrs.len() as u64),
        Op::Clear => {
            attrs.clear();
            Answer::Done
        }
        Op::GetAttr { name, tag } => match attrs.get(&name) {
            None => Answer::Value(None),
            Some((stored, types, _)) if *stored != tag => Answer::Refused(Refusal::TypeMismatch {
                stored: types.clone(),
            }),
            Some((_, _, value)) => Answer::Value(Some(value.clone())),
        },
        Op::SetAttr { name, types, value } => {
            attrs.insert(name, (tag(&types), types, value));
            Answer::Done
        }
        Op::DelAttr(name) => Answer::Bool(attrs.remove(&name).is_some()),
        other => wrong_kind("namespace", &other),
    }
}

fn wrong_kind(kind: &str, op: &Op) -> Answer {
    Answer::Refused(Refusal::Malformed(format!(
        "a {kind} has no operation {op:?}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: u8) -> Blob {
        Blob(vec![n])
    }

    #[test]
    fn the_map_keeps_insertion_order_through_removals_and_compaction() {
        let mut map = OrderedMap::default();
        for n in 0..50 {
            assert_eq!(map.insert(b(n), b(n)), None);
        }
        // Replacing keeps the place.
        assert_eq!(map.insert(b(3), b(99)), Some(b(3)));
        for n in (0..50).filter(|n| n % 3 != 0) {
            assert_eq!(map.remove(&b(n)), Some(b(n)));
        }
        assert_eq!(map.remove(&b(1)), None);
        let keys: Vec<u8> = map.iter().map(|(k, _)| k.0[0]).collect();
        let expected: Vec<u8> = (0..50).filter(|n| n % 3 == 0).collect();
        assert_eq!(keys, expected);
        assert_eq!(map.get(&b(3)), Some(&b(99)));
        assert_eq!(map.len(), expected.len());
        // Compaction happened (holes outnumbered entries) and lookups still
        // find their slots.
        assert!(map.slots.len() <= 2 * map.len() + 8);
        for n in &expected {
            assert!(map.get(&b(*n)).is_some());
        }
    }

    #[test]
    fn a_request_with_other_types_changes_nothing() {
        let mut object = Object::new(Kind::Dict, "(u32, u32)".into());
        let answer = object.apply(tag("(u8, u8)"), Op::Insert(b(1), b(1)));
        assert!(matches!(
            answer,
            Answer::Refused(Refusal::TypeMismatch { ref stored }) if stored == "(u32, u32)"
        ));
        assert!(matches!(
            object.apply(tag("(u32, u32)"), Op::Len),
            Answer::Len(0)
        ));
    }

    #[test]
    fn list_indices_past_the_end_are_refused() {
        let mut object = Object::new(Kind::List, "u8".into());
        let t = tag("u8");
        object.apply(t, Op::Push(b(1)));
        assert!(matches!(
            object.apply(t, Op::Set(1, b(2))),
            Answer::Refused(Refusal::IndexOutOfRange { index: 1, len: 1 })
        ));
        assert!(matches!(
            object.apply(t, Op::InsertAt(2, b(2))),
            Answer::Refused(Refusal::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            object.apply(t, Op::InsertAt(1, b(2))),
            Answer::Done
        ));
        assert!(matches!(object.apply(t, Op::Len), Answer::Len(2)));
    }
}
