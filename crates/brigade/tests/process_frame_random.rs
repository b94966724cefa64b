//! The frame decoders against a hundred thousand hostile inputs, on stable
//! Rust, in every CI run.
//!
//! Valid frames of several value types are made, then mutated the ways a
//! broken or hostile peer would mangle them: bit flips, cuts, extra bytes,
//! random header kind, version and length fields, spliced random bytes,
//! and plain random bytes. Each input goes to [`frame::decode`] for every
//! value type and to [`frame::read_frame`] through three readers: a plain
//! slice, one that returns short reads and `Interrupted` errors, and one
//! that fails with an I/O error part way.
//!
//! The oracle is the format's specification (the table in `frame.rs`),
//! written again here independently of the library: from the bytes alone
//! it says which error the header must give, or which payload `read_frame`
//! must return and how many bytes it may consume. So the test checks more
//! than "no panic": every refusal must be the right typed error, every
//! valid frame must round-trip, and `read_frame` never returns more than
//! the limit it was given nor reads past the frame.
//!
//! A tiny xorshift generator, seeded, drives it all: no dependency, and a
//! failure names the input (in hex) to replay. `BRIGADE_SOAK=n` runs
//! `1,000,000 * n` inputs instead of 100,000; the figures are printed on
//! one `decoder:` line, which `scripts/soak.sh` collects, and
//! `BRIGADE_SEED=<u64>` draws other inputs (the line names the seed). The
//! coverage-guided counterpart is in `fuzz/` (cargo-fuzz, nightly).

use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use brigade::process::frame::{self, FrameError, HEADER_LEN, MAX_PAYLOAD};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

fn soak() -> u64 {
    std::env::var("BRIGADE_SOAK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Message {
    Empty,
    Number(u32),
    Named { name: String, weights: Vec<i16> },
    Nested(Option<Box<Message>>, bool),
    Float(f64),
}

type Record = (u32, String, Vec<u64>, Option<(i8, bool)>);

fn random_string(rng: &mut Rng) -> String {
    let len = rng.below(12) as usize;
    (0..len)
        .map(|_| char::from_u32(0x20 + rng.below(0x3000) as u32).unwrap_or('?'))
        .collect()
}

fn random_message(rng: &mut Rng, depth: u32) -> Message {
    match rng.below(if depth > 2 { 4 } else { 5 }) {
        0 => Message::Empty,
        1 => Message::Number(rng.next() as u32),
        2 => Message::Named {
            name: random_string(rng),
            weights: (0..rng.below(6)).map(|_| rng.next() as i16).collect(),
        },
        // Finite, so that equality means a round trip.
        3 => Message::Float((rng.next() >> 11) as f64 / 7.0),
        _ => Message::Nested(
            (rng.below(2) == 0).then(|| Box::new(random_message(rng, depth + 1))),
            rng.below(2) == 0,
        ),
    }
}

fn random_record(rng: &mut Rng) -> Record {
    (
        rng.next() as u32,
        random_string(rng),
        (0..rng.below(5))
            .map(|_| rng.next() >> rng.below(64))
            .collect(),
        (rng.below(2) == 0).then(|| (rng.next() as i8, rng.below(2) == 0)),
    )
}

/// A valid frame of a random value of a random type; checks that it
/// round-trips on the way.
fn valid_frame(rng: &mut Rng) -> Vec<u8> {
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: T) -> Vec<u8> {
        let bytes = frame::encode(&v).unwrap();
        assert_eq!(frame::decode::<T>(&bytes).unwrap(), v, "round trip");
        let mut stream = &bytes[..];
        let payload = frame::read_frame(&mut stream, MAX_PAYLOAD)
            .unwrap()
            .unwrap();
        assert_eq!(payload, bytes[HEADER_LEN..], "read_frame round trip");
        assert!(stream.is_empty());
        bytes
    }
    match rng.below(6) {
        0 => round_trip(rng.next() as u8),
        1 => round_trip(rng.next()),
        2 => round_trip(random_string(rng)),
        3 => round_trip((0..rng.below(8)).map(|_| rng.next()).collect::<Vec<u64>>()),
        4 => round_trip(random_record(rng)),
        _ => round_trip(random_message(rng, 0)),
    }
}

/// One of the mutations a broken peer could make.
fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        match rng.below(9) {
            0 if !bytes.is_empty() => {
                let bit = rng.below(bytes.len() as u64 * 8);
                bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
            }
            1 => bytes.truncate(rng.below(bytes.len() as u64 + 1) as usize),
            2 => {
                let extra = rng.below(16) as usize;
                bytes.extend(rng.bytes(extra));
            }
            3 if bytes.len() > 3 => bytes[3] = rng.below(4) as u8,
            4 if bytes.len() > 2 => bytes[2] = rng.next() as u8,
            5 if bytes.len() >= HEADER_LEN => {
                let len = match rng.below(4) {
                    // Off by a little from the truth.
                    0 => ((bytes.len() - HEADER_LEN) as u32)
                        .wrapping_add(rng.below(5) as u32)
                        .wrapping_sub(2),
                    1 => u32::MAX - rng.below(3) as u32,
                    2 => MAX_PAYLOAD as u32 + rng.below(3) as u32 - 1,
                    _ => rng.next() as u32,
                };
                bytes[4..HEADER_LEN].copy_from_slice(&len.to_le_bytes());
            }
            6 if !bytes.is_empty() => {
                let at = rng.below(bytes.len() as u64) as usize;
                let n = (rng.below(8) as usize).min(bytes.len() - at);
                let fill = rng.bytes(n);
                bytes[at..at + n].copy_from_slice(&fill);
            }
            7 => {
                let n = rng.below(40) as usize;
                bytes = rng.bytes(n);
            }
            _ => {
                // A valid header in front of random bytes: the payload
                // decoder, not the header check, has to refuse them.
                let n = rng.below(40) as usize;
                let mut out = b"BG\x01\x00".to_vec();
                out.extend_from_slice(&(n as u32).to_le_bytes());
                out.extend(rng.bytes(n));
                bytes = out;
            }
        }
    }
    bytes
}

/// What the specification says about a frame's header, given a limit:
/// `Ok((kind, len))`, or the error it must be refused with (shown as the
/// error's `Debug` text).
fn spec_header(bytes: &[u8], max: usize) -> Result<(u8, usize), String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "Truncated {{ expected: {HEADER_LEN}, got: {} }}",
            bytes.len()
        ));
    }
    if bytes[..2] != *b"BG" {
        return Err(format!("BadMagic({:?})", [bytes[0], bytes[1]]));
    }
    if bytes[2] != 1 {
        return Err(format!("UnsupportedVersion({})", bytes[2]));
    }
    if bytes[3] > 1 {
        return Err(format!("UnknownKind({})", bytes[3]));
    }
    let len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    if len > max {
        return Err(format!("TooLarge {{ len: {len}, max: {max} }}"));
    }
    Ok((bytes[3], len))
}

fn shown(e: &FrameError) -> String {
    match e {
        FrameError::Io(e) => format!("Io({:?})", e.kind()),
        // The decoder's own wording is not part of the format.
        FrameError::Malformed(_) => "Malformed".to_string(),
        other => format!("{other:?}"),
    }
}

/// What `decode::<T>` must do with `bytes`: every header and length check
/// is decided by the specification; only the payload's validity as a `T`
/// is left to the decoder (a value or `Malformed`, nothing else).
fn check_decode<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> bool {
    let got = catch_unwind(AssertUnwindSafe(|| frame::decode::<T>(bytes)))
        .unwrap_or_else(|_| panic!("decode panicked on {}", hex(bytes)));
    let expected = spec_header(bytes, MAX_PAYLOAD).and_then(|(kind, len)| {
        let want = HEADER_LEN + len;
        if kind == 1 {
            Err("Malformed".to_string())
        } else if bytes.len() < want {
            Err(format!(
                "Truncated {{ expected: {want}, got: {} }}",
                bytes.len()
            ))
        } else if bytes.len() > want {
            Err(format!(
                "Trailing {{ expected: {want}, got: {} }}",
                bytes.len()
            ))
        } else {
            Ok(())
        }
    });
    match (expected, got) {
        (Ok(()), Ok(value)) => {
            // A decoded value is a real value: it encodes again.
            frame::encode(&value).unwrap();
            true
        }
        (Ok(()), Err(FrameError::Malformed(_))) => false,
        (want, got) => {
            let got = got.map(|_| ()).map_err(|e| shown(&e));
            assert_eq!(got, want, "decode of {}", hex(bytes));
            false
        }
    }
}

/// What `read_frame(stream, max)` must return when the stream holds
/// `bytes` and then ends (`fails`: then fails with an I/O error instead),
/// and how many bytes it may consume.
fn spec_read_frame(bytes: &[u8], max: usize, fails: bool) -> Result<Vec<u8>, String> {
    let out_of_bytes = |want: usize, got: usize| {
        if fails {
            Err("Io(ConnectionReset)".to_string())
        } else if got == 0 {
            Err("None".to_string())
        } else {
            Err(format!("Truncated {{ expected: {want}, got: {got} }}"))
        }
    };
    if bytes.len() < HEADER_LEN {
        return out_of_bytes(HEADER_LEN, bytes.len());
    }
    let (kind, len) = spec_header(bytes, max)?;
    if kind == 1 {
        return Err("UnknownKind(1)".to_string());
    }
    if bytes.len() < HEADER_LEN + len {
        return out_of_bytes(HEADER_LEN + len, bytes.len());
    }
    Ok(bytes[HEADER_LEN..HEADER_LEN + len].to_vec())
}

/// Returns at most a few bytes per call, and now and then `Interrupted`
/// (which a reader must retry), then either the end or an error.
struct Choppy<'a> {
    data: &'a [u8],
    rng: Rng,
    fails: bool,
    consumed: usize,
}

impl Read for Choppy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.rng.below(5) == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.data.is_empty() {
            return if self.fails {
                Err(io::ErrorKind::ConnectionReset.into())
            } else {
                Ok(0)
            };
        }
        let n = (1 + self.rng.below(7) as usize)
            .min(buf.len())
            .min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.consumed += n;
        Ok(n)
    }
}

fn check_read_frame(rng: &mut Rng, bytes: &[u8]) -> bool {
    let limits = [
        0,
        rng.below(64) as usize,
        bytes.len().saturating_sub(HEADER_LEN),
        MAX_PAYLOAD,
    ];
    let max = limits[rng.below(4) as usize];
    // A stream may cut off (error) anywhere: at a random point, or past
    // the end (then it just ends).
    let cut = rng.below(bytes.len() as u64 + 4) as usize;
    let fails = cut < bytes.len();
    let available = &bytes[..cut.min(bytes.len())];
    let mut ok = false;
    for style in 0..3 {
        let mut reader = Choppy {
            data: available,
            rng: Rng(rng.next() | 1),
            fails,
            consumed: 0,
        };
        // Style 0 reads whole slices: no chops, no interruptions.
        let got = catch_unwind(AssertUnwindSafe(|| {
            if style == 0 {
                let mut plain = PlainThenMaybeFail {
                    data: available,
                    fails,
                };
                let r = frame::read_frame(&mut plain, max);
                (r, available.len() - plain.data.len())
            } else {
                let r = frame::read_frame(&mut reader, max);
                (r, reader.consumed)
            }
        }))
        .unwrap_or_else(|_| panic!("read_frame panicked on {} (max {max})", hex(bytes)));
        let (got, consumed) = got;
        let expected = spec_read_frame(available, max, fails);
        match (&expected, got) {
            (Ok(want), Ok(Some(payload))) => {
                assert!(payload.len() <= max, "more than the limit");
                assert_eq!(&payload, want, "payload of {}", hex(bytes));
                assert_eq!(consumed, HEADER_LEN + want.len(), "read past the frame");
                ok = true;
            }
            (want, got) => {
                let got = match got {
                    Ok(Some(p)) => Ok(p),
                    Ok(None) => Err("None".to_string()),
                    Err(e) => Err(shown(&e)),
                };
                assert_eq!(
                    &got,
                    want,
                    "read_frame(max {max}, fails {fails}) of {}",
                    hex(bytes)
                );
            }
        }
    }
    ok
}

/// A slice that hands over as much as asked, then ends or fails.
struct PlainThenMaybeFail<'a> {
    data: &'a [u8],
    fails: bool,
}

impl Read for PlainThenMaybeFail<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() && self.fails {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn mutated_frames_are_values_or_typed_errors_never_panics() {
    let inputs = if soak() == 0 {
        100_000
    } else {
        1_000_000 * soak()
    };
    let seed = std::env::var("BRIGADE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x853c_49e6_748f_ea9b_u64)
        | 1;
    let mut rng = Rng(seed);
    let (mut decoded, mut refused, mut streamed) = (0u64, 0u64, 0u64);
    for n in 0..inputs {
        let original = valid_frame(&mut rng);
        // One input in sixteen goes in unmutated: it must decode.
        let bytes = if n % 16 == 0 {
            original
        } else {
            mutate(&mut rng, original)
        };
        for accepted in [
            check_decode::<u8>(&bytes),
            check_decode::<u64>(&bytes),
            check_decode::<String>(&bytes),
            check_decode::<Vec<u64>>(&bytes),
            check_decode::<Record>(&bytes),
            check_decode::<Message>(&bytes),
        ] {
            if accepted {
                decoded += 1;
            } else {
                refused += 1;
            }
        }
        if check_read_frame(&mut rng, &bytes) {
            streamed += 1;
        }
    }
    println!(
        "decoder: seed={seed} inputs={inputs} decode_calls={} values={decoded} typed_errors={refused} \
         read_frame_calls={} read_frame_payloads={streamed} panics=0",
        decoded + refused,
        3 * inputs
    );
    // The mix must exercise both sides, or the test proves little.
    assert!(decoded > inputs / 20, "too few inputs decoded: {decoded}");
    assert!(refused > inputs, "too few inputs refused: {refused}");
}

#[test]
fn concatenated_frames_are_read_one_by_one() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..2_000 {
        let frames: Vec<Vec<u8>> = (0..1 + rng.below(5))
            .map(|_| valid_frame(&mut rng))
            .collect();
        let stream: Vec<u8> = frames.concat();
        let mut reader = Choppy {
            data: &stream,
            rng: Rng(rng.next() | 1),
            fails: false,
            consumed: 0,
        };
        for f in &frames {
            let payload = frame::read_frame(&mut reader, MAX_PAYLOAD)
                .unwrap()
                .unwrap();
            assert_eq!(payload, f[HEADER_LEN..]);
        }
        assert!(
            frame::read_frame(&mut reader, MAX_PAYLOAD)
                .unwrap()
                .is_none()
        );
    }
}
