//! Fuzzes `frame::decode`: any bytes, decoded as each of several value
//! types, must give a value or a typed `FrameError`, never a panic, a hang
//! or an allocation out of proportion to the input. A value that decodes
//! must encode again, and its encoding must survive another round trip
//! unchanged.

#![no_main]

use brigade::process::frame;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
enum Message {
    Empty,
    Number(u32),
    Named { name: String, weights: Vec<i16> },
    Nested(Option<Box<Message>>, bool),
    Float(f64),
}

type Record = (u32, String, Vec<u64>, Option<(i8, bool)>);

/// Decodes `data` as a `T`; if that works, the value's own encoding must
/// decode, and encode to the same bytes again (a fixed point after one
/// round: postcard may accept a non-canonical varint, but never produce
/// one).
fn check<T: Serialize + DeserializeOwned>(data: &[u8]) {
    if let Ok(value) = frame::decode::<T>(data) {
        let once = frame::encode(&value).expect("a decoded value encodes");
        let again: T = frame::decode(&once).expect("an encoded value decodes");
        let twice = frame::encode(&again).expect("a decoded value encodes");
        assert_eq!(once, twice, "encoding is not stable");
    }
}

fuzz_target!(|data: &[u8]| {
    check::<u8>(data);
    check::<u64>(data);
    check::<String>(data);
    check::<Vec<u64>>(data);
    check::<Record>(data);
    check::<Message>(data);
});
