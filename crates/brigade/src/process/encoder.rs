//! The encoder of every message between processes: postcard's wire format,
//! written by brigade's own serde `Serializer`.
//!
//! # Why not postcard's own serializer
//!
//! Messages are in [postcard]'s format (version 1 of its specification), and
//! postcard decodes them. It encodes them correctly too, but slowly for the
//! data a process pool moves most: numbers. postcard writes each varint into
//! a buffer on the stack, then hands the slice to its output, which copies it
//! with a `memcpy` of a length the compiler cannot see. This encoder writes
//! the varint's bytes straight into the output instead: it appends a fixed
//! ten zero bytes (two stores, no call), writes the varint over them and cuts
//! the output back to its length. For a chunk of a pool map's numbers that
//! takes a fraction of postcard's time, and encoding is most of what a
//! worker does for `n ↦ n²` (BENCHMARKS.md, `procpool`).
//!
//! # The format, as written here
//!
//! | value | bytes |
//! | ----- | ----- |
//! | `bool`, `u8`, `i8` | one byte |
//! | `u16` to `u128`, `usize` | LEB128 varint: 7 bits per byte, low first, high bit set on all but the last |
//! | `i16` to `i128` | zigzag (`(n << 1) ^ (n >> bits-1)`), then varint |
//! | `f32`, `f64` | the IEEE bits, little-endian |
//! | `char` | as the `str` of its UTF-8 encoding |
//! | `str`, bytes | varint length, then the bytes |
//! | `None` / `Some(v)` | `0` / `1` then `v` |
//! | unit, unit struct | nothing |
//! | enum variant | varint of the variant's index, then its fields |
//! | sequence, map | varint length (it must be known), then the items |
//! | tuple, struct | the fields in order, no length |
//!
//! The tests compare every kind of value byte for byte with
//! `postcard::to_stdvec`, so the two cannot drift apart unnoticed.
//!
//! [postcard]: https://docs.rs/postcard

use std::fmt;

use serde::Serialize;
use serde::ser;

/// Encodes `value` into a new `Vec`.
pub(crate) fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder { out: Vec::new() };
    value.serialize(&mut encoder)?;
    Ok(encoder.out)
}

/// Why a value could not be encoded: its `Serialize` impl failed (the text
/// is its own), a sequence or map did not tell its length up front, or a
/// `Display` used by `collect_str` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodeError(String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(why: T) -> Self {
        EncodeError(why.to_string())
    }
}

fn length_unknown() -> EncodeError {
    EncodeError("the length of a sequence or map must be known before it is encoded".into())
}

/// The output being written.
struct Encoder {
    out: Vec<u8>,
}

impl Encoder {
    /// Appends `n` as a LEB128 varint (at most 10 bytes for 64 bits).
    #[inline(always)]
    fn varint(&mut self, n: u64) {
        let at = self.out.len();
        // A fixed-size append is two stores; the varint overwrites it and
        // the output is cut back to the varint's length.
        self.out.extend_from_slice(&[0; 10]);
        let room = &mut self.out[at..at + 10];
        let mut rest = n;
        let mut i = 0;
        while rest >= 0x80 {
            room[i] = rest as u8 | 0x80;
            rest >>= 7;
            i += 1;
        }
        room[i] = rest as u8;
        self.out.truncate(at + i + 1);
    }

    /// Appends a 128-bit `n` as a varint (at most 19 bytes).
    fn varint128(&mut self, n: u128) {
        let mut rest = n;
        while rest >= 0x80 {
            self.out.push(rest as u8 | 0x80);
            rest >>= 7;
        }
        self.out.push(rest as u8);
    }

    /// Starts an enum variant with fields: its index, then (the caller's)
    /// the fields.
    fn variant(&mut self, index: u32) -> &mut Self {
        self.varint(index.into());
        self
    }

    fn length(&mut self, len: usize) {
        self.varint(len as u64);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.length(bytes.len());
        self.out.extend_from_slice(bytes);
    }
}

/// Zigzag: small magnitudes of either sign become small unsigned numbers.
#[inline(always)]
fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn zigzag128(n: i128) -> u128 {
    ((n << 1) ^ (n >> 127)) as u128
}

impl ser::Serializer for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out.push(u8::from(v));
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.out.push(v as u8);
        Ok(())
    }

    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.varint(zigzag(v.into()));
        Ok(())
    }

    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.varint(zigzag(v.into()));
        Ok(())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.varint(zigzag(v));
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.varint128(zigzag128(v));
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.out.push(v);
        Ok(())
    }

    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.varint(v.into());
        Ok(())
    }

    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.varint(v.into());
        Ok(())
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.varint(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.varint128(v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.bytes(v.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.bytes(v.as_bytes());
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        self.bytes(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), EncodeError> {
        self.out.push(0);
        Ok(())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), EncodeError> {
        self.out.push(1);
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), EncodeError> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.varint(index.into());
        Ok(())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.varint(index.into());
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self, EncodeError> {
        let len = len.ok_or_else(length_unknown)?;
        // Room for one byte per item up front, so that a long sequence's
        // output grows in a few large steps rather than many doublings
        // (capped: the length is only the `Serialize` impl's word).
        self.out.reserve(len.min(1 << 16));
        self.length(len);
        Ok(self)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self, EncodeError> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, EncodeError> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self, EncodeError> {
        Ok(self.variant(index))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self, EncodeError> {
        self.length(len.ok_or_else(length_unknown)?);
        Ok(self)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, EncodeError> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self, EncodeError> {
        Ok(self.variant(index))
    }

    fn collect_str<T: ?Sized + fmt::Display>(self, value: &T) -> Result<(), EncodeError> {
        // The length comes first, so the text is formatted before it is
        // written (postcard formats it twice, counting the first time; one
        // `String` is simpler and no slower for the short texts this sees).
        let text = value.to_string();
        self.bytes(text.as_bytes());
        Ok(())
    }
}

/// Sequences, tuples and their kin are their items, one after another.
macro_rules! items {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for &mut Encoder {
            type Ok = ();
            type Error = EncodeError;

            #[inline]
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), EncodeError> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), EncodeError> {
                Ok(())
            }
        }
    )*};
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for &mut Encoder {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), EncodeError> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), EncodeError> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// Struct fields are their values in order; the names are not sent.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for &mut Encoder {
            type Ok = ();
            type Error = EncodeError;

            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                _name: &'static str,
                value: &T,
            ) -> Result<(), EncodeError> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), EncodeError> {
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::ser::SerializeSeq;
    use std::collections::BTreeMap;

    /// Encodes `value` both ways and insists on the same bytes.
    fn same<T: Serialize + fmt::Debug>(value: T) {
        let ours = to_vec(&value).unwrap();
        let theirs = postcard::to_stdvec(&value).unwrap();
        assert_eq!(ours, theirs, "{value:?}");
    }

    #[test]
    fn integers_at_every_varint_length_match_postcard() {
        for shift in 0..64 {
            for delta in [-1i128, 0, 1] {
                let n = (1i128 << shift) + delta;
                same(n as u64);
                same(n as i64);
                same((n as i64).wrapping_neg());
                same(n as u32);
                same(n as i32);
                same(n as u16);
                same(n as i16);
                same(n as usize);
                same(n as isize);
                same(n as u128);
                same(n);
            }
        }
        for n in [u128::MAX, u128::MAX >> 1, 1 << 127, 1 << 100] {
            same(n);
            same(n as i128);
            same((n as i128).wrapping_neg());
        }
        same(i128::MIN);
        same((
            i64::MIN,
            i64::MAX,
            u64::MAX,
            i32::MIN,
            i16::MIN,
            i8::MIN,
            u8::MAX,
        ));
    }

    #[test]
    fn floats_chars_strings_and_bytes_match_postcard() {
        same((
            0.0f32,
            -1.5f32,
            f32::NAN,
            f32::INFINITY,
            f64::MIN_POSITIVE,
            -0.0f64,
        ));
        same(['a', 'é', '€', '🦀']);
        same(("", "kitchen", "brigade de cuisine €".repeat(20)));
        same(serde_bytes_like(vec![0u8; 300]));
        same((true, false, (), Some(3u8), None::<u64>, Some(Some(()))));
    }

    /// A `Vec<u8>` that serializes as bytes (serde's `serialize_bytes`).
    fn serde_bytes_like(v: Vec<u8>) -> impl Serialize + fmt::Debug {
        #[derive(Debug)]
        struct Bytes(Vec<u8>);
        impl Serialize for Bytes {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
        Bytes(v)
    }

    #[derive(Serialize, Debug)]
    struct Unit;

    #[derive(Serialize, Debug)]
    struct Newtype(u64);

    #[derive(Serialize, Debug)]
    struct Pair(i32, String);

    #[derive(Serialize, Debug)]
    struct Board {
        id: u32,
        moves: Vec<(u8, u8)>,
        name: Option<String>,
    }

    #[derive(Serialize, Debug)]
    enum Move {
        Resign,
        Piece(char),
        To(u8, u8),
        Castle { long: bool, check: Option<bool> },
    }

    #[test]
    fn structs_enums_and_collections_match_postcard() {
        same((Unit, Newtype(300), Pair(-7, "x".into())));
        same(Board {
            id: 1 << 20,
            moves: vec![(1, 2), (200, 255)],
            name: Some("Judit".into()),
        });
        same(vec![
            Move::Resign,
            Move::Piece('♞'),
            Move::To(4, 4),
            Move::Castle {
                long: true,
                check: None,
            },
        ]);
        let mut map = BTreeMap::new();
        map.insert("a".to_string(), vec![1u64, 1 << 40]);
        map.insert("b".to_string(), Vec::new());
        same(map);
        same((0..10_000u64).map(|n| n * n).collect::<Vec<_>>());
        same([[1u16; 3]; 2]);
    }

    #[test]
    fn collect_str_writes_the_text_as_a_string() {
        struct Shown(u32);
        impl fmt::Debug for Shown {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "board #{}", self.0)
            }
        }
        impl Serialize for Shown {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&format_args!("{self:?}"))
            }
        }
        same(Shown(12));
        assert_eq!(to_vec(&Shown(7)).unwrap(), b"\x08board #7");
    }

    #[test]
    fn a_sequence_of_unknown_length_is_refused() {
        struct Unsized;
        impl Serialize for Unsized {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let seq = s.serialize_seq(None)?;
                seq.end()
            }
        }
        let err = to_vec(&Unsized).unwrap_err();
        assert!(err.to_string().contains("must be known"), "{err}");
        assert!(postcard::to_stdvec(&Unsized).is_err());
    }

    #[test]
    fn a_custom_error_keeps_its_text() {
        struct Refuses;
        impl Serialize for Refuses {
            fn serialize<S: ser::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("this value stays home"))
            }
        }
        assert_eq!(
            to_vec(&(1u8, Refuses)).unwrap_err().to_string(),
            "this value stays home"
        );
    }

    #[test]
    fn what_it_writes_postcard_reads_back() {
        let board = (7u32, vec![(-3i64, 'q', Some(2.5f64))], "e4".to_string());
        let bytes = to_vec(&board).unwrap();
        type Played = (u32, Vec<(i64, char, Option<f64>)>, String);
        let back: Played = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, board);
    }
}
