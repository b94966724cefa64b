//! Frames: how one message travels between processes, and how a receiver
//! refuses bytes it cannot trust.
//!
//! A frame is an 8-byte header followed by the payload:
//!
//! | bytes | meaning |
//! | ----- | ------- |
//! | 0..2  | magic `b"BG"` |
//! | 2     | format version (1) |
//! | 3     | kind: 0 = payload inline, 1 = payload in an attached memory file |
//! | 4..8  | payload length, little-endian `u32` |
//!
//! Values are encoded with [postcard], a compact serde format whose decoder
//! reads only from the bytes it is given, so a length field inside a value
//! can never make it read, or allocate, past the end of the frame.
//!
//! A receiver checks everything before it trusts anything: an unknown magic,
//! version or kind, a length above the limit, fewer bytes than announced
//! (truncated) or more (trailing garbage) are each a [`FrameError`]. The
//! length field is never used to size an allocation before the bytes it
//! announces have arrived: [`read_frame`] grows its buffer only as data comes.
//!
//! ```
//! use brigade::process::frame::{self, FrameError};
//!
//! let bytes = frame::encode(&(1u8, "two".to_string())).unwrap();
//! let back: (u8, String) = frame::decode(&bytes).unwrap();
//! assert_eq!(back, (1, "two".to_string()));
//!
//! // Cut it short: a typed error, not a panic or a bogus value.
//! let cut = &bytes[..bytes.len() - 1];
//! assert!(matches!(frame::decode::<(u8, String)>(cut), Err(FrameError::Truncated { .. })));
//! ```
//!
//! [postcard]: https://docs.rs/postcard

use std::fmt;
use std::io::{self, Read};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Length of the frame header.
pub const HEADER_LEN: usize = 8;
/// The largest payload a frame may announce: 1 GiB. Bulk data larger than
/// this belongs in a [`SharedArray`](super::SharedArray).
pub const MAX_PAYLOAD: usize = 1 << 30;

/// The default limit on one message between a parent and its
/// [`Process`](super::Process) or [`ProcessPool`](super::ProcessPool)
/// workers, either way: 256 MiB. Each sets its own with
/// `max_message_size` (at most [`MAX_PAYLOAD`]); a peer that announces
/// more is refused before anything is allocated for it.
///
/// ```
/// use brigade::process::frame::{DEFAULT_MAX_MESSAGE, MAX_PAYLOAD};
/// assert!(DEFAULT_MAX_MESSAGE <= MAX_PAYLOAD);
/// ```
pub const DEFAULT_MAX_MESSAGE: usize = 256 << 20;

const MAGIC: [u8; 2] = *b"BG";
const VERSION: u8 = 1;

/// Where a frame's payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Right after the header.
    Inline = 0,
    /// In a memory file sent along with the header.
    File = 1,
}

/// A parsed, checked header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) kind: Kind,
    pub(crate) len: usize,
}

/// Why bytes were refused as a frame, or a value could not be encoded.
///
/// # Examples
/// ```
/// use brigade::process::frame::{self, FrameError};
///
/// let mut bytes = frame::encode(&42u32).unwrap();
/// bytes[0] ^= 0xff;
/// assert!(matches!(frame::decode::<u32>(&bytes), Err(FrameError::BadMagic(_))));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum FrameError {
    /// The header does not start with brigade's magic bytes.
    BadMagic([u8; 2]),
    /// A frame of a format version this build does not speak.
    UnsupportedVersion(u8),
    /// A payload kind this build does not know.
    UnknownKind(u8),
    /// The announced payload is larger than the limit.
    TooLarge {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Fewer bytes arrived than the header announced.
    Truncated {
        /// Bytes announced (header included).
        expected: usize,
        /// Bytes that arrived.
        got: usize,
    },
    /// More bytes arrived than the header announced.
    Trailing {
        /// Bytes announced (header included).
        expected: usize,
        /// Bytes that arrived.
        got: usize,
    },
    /// The payload is not a valid encoding of the expected type.
    Malformed(String),
    /// The value could not be encoded (a serde `Serialize` error).
    Encode(String),
    /// Reading the frame failed.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadMagic(m) => write!(f, "not a brigade frame (magic bytes {m:02x?})"),
            FrameError::UnsupportedVersion(v) => write!(f, "unsupported frame version {v}"),
            FrameError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max} bytes")
            }
            FrameError::Truncated { expected, got } => {
                write!(f, "truncated frame: {got} of {expected} bytes arrived")
            }
            FrameError::Trailing { expected, got } => {
                write!(
                    f,
                    "frame of {expected} bytes followed by {} stray bytes",
                    got - expected
                )
            }
            FrameError::Malformed(e) => write!(f, "malformed message: {e}"),
            FrameError::Encode(e) => write!(f, "cannot encode the value: {e}"),
            FrameError::Io(e) => write!(f, "cannot read the frame: {e}"),
        }
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FrameError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Encodes `value` as bytes (the payload of a frame, no header), in
/// postcard's format (see [`encoder`](super::encoder)).
pub(crate) fn to_payload<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FrameError> {
    super::encoder::to_vec(value).map_err(|e| FrameError::Encode(e.to_string()))
}

/// Decodes a whole payload; leftover bytes are an error.
pub(crate) fn from_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FrameError> {
    let (value, rest) = take_from_payload(bytes)?;
    if !rest.is_empty() {
        return Err(FrameError::Malformed(format!(
            "{} stray bytes after the value",
            rest.len()
        )));
    }
    Ok(value)
}

/// Decodes a value from the front of `bytes` and returns the rest.
pub(crate) fn take_from_payload<T: DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, &[u8]), FrameError> {
    postcard::take_from_bytes(bytes).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Writes a header for `len` payload bytes.
pub(crate) fn header(kind: Kind, len: usize) -> Result<[u8; HEADER_LEN], FrameError> {
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_PAYLOAD,
        });
    }
    let mut h = [0u8; HEADER_LEN];
    h[..2].copy_from_slice(&MAGIC);
    h[2] = VERSION;
    h[3] = kind as u8;
    h[4..].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(h)
}

/// Parses and checks a header against the limit `max`.
pub(crate) fn parse_header(bytes: &[u8], max: usize) -> Result<Header, FrameError> {
    if bytes.len() < HEADER_LEN {
        return Err(FrameError::Truncated {
            expected: HEADER_LEN,
            got: bytes.len(),
        });
    }
    if bytes[..2] != MAGIC {
        return Err(FrameError::BadMagic([bytes[0], bytes[1]]));
    }
    if bytes[2] != VERSION {
        return Err(FrameError::UnsupportedVersion(bytes[2]));
    }
    let kind = match bytes[3] {
        0 => Kind::Inline,
        1 => Kind::File,
        k => return Err(FrameError::UnknownKind(k)),
    };
    let len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok(Header { kind, len })
}

/// Checks a whole inline frame and returns its payload.
pub(crate) fn inline_payload(bytes: &[u8], max: usize) -> Result<&[u8], FrameError> {
    let header = parse_header(bytes, max)?;
    if header.kind != Kind::Inline {
        return Err(FrameError::Malformed(
            "a file frame arrived without its file".into(),
        ));
    }
    let expected = HEADER_LEN + header.len;
    match bytes.len() {
        got if got < expected => Err(FrameError::Truncated { expected, got }),
        got if got > expected => Err(FrameError::Trailing { expected, got }),
        _ => Ok(&bytes[HEADER_LEN..]),
    }
}

/// Encodes `value` as one inline frame (header and payload).
///
/// # Examples
/// ```
/// use brigade::process::frame;
///
/// let bytes = frame::encode(&("id", 7u8)).unwrap();
/// assert_eq!(frame::decode::<(String, u8)>(&bytes).unwrap(), ("id".to_string(), 7));
/// ```
///
/// # Errors
/// [`FrameError`] if the value cannot be encoded, or its encoding is
/// larger than [`MAX_PAYLOAD`].
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FrameError> {
    let payload = to_payload(value)?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&header(Kind::Inline, payload.len())?);
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Decodes one inline frame made by [`encode`], checking every field.
///
/// # Examples
/// ```
/// use brigade::process::frame::{self, FrameError};
///
/// let bytes = frame::encode(&vec![1u16, 2, 3]).unwrap();
/// assert_eq!(frame::decode::<Vec<u16>>(&bytes).unwrap(), [1, 2, 3]);
/// let cut = &bytes[..bytes.len() - 1];
/// assert!(matches!(frame::decode::<Vec<u16>>(cut), Err(FrameError::Truncated { .. })));
/// ```
///
/// # Errors
/// A [`FrameError`] for every way the bytes can be wrong: bad magic, an
/// unknown version or kind, a length over the limit, missing or extra
/// bytes, a payload that does not decode as `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FrameError> {
    from_payload(inline_payload(bytes, MAX_PAYLOAD)?)
}

/// Reads one inline frame from a byte stream, refusing frames whose payload
/// exceeds `max`. The buffer grows in steps of at most 64 KiB as bytes
/// arrive, so a corrupt length costs no more memory than the bytes actually
/// sent. End of stream before the first byte is `Ok(None)`.
///
/// # Examples
/// ```
/// use brigade::process::frame;
///
/// let mut stream = Vec::new();
/// stream.extend(frame::encode(&1u8).unwrap());
/// stream.extend(frame::encode(&2u8).unwrap());
/// let mut reader = stream.as_slice();
/// let first = frame::read_frame(&mut reader, 1024).unwrap().unwrap();
/// assert!(frame::encode(&1u8).unwrap().ends_with(&first)); // the payload alone
/// assert!(frame::read_frame(&mut reader, 1024).unwrap().is_some());
/// assert!(frame::read_frame(&mut reader, 1024).unwrap().is_none()); // the end
/// ```
///
/// # Errors
/// [`FrameError`] for a bad header, a payload over `max`, a stream that
/// ends inside a frame, or a read that fails.
pub fn read_frame<R: Read>(reader: &mut R, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
    const STEP: usize = 64 * 1024;
    let mut head = [0u8; HEADER_LEN];
    let got = read_up_to(reader, &mut head)?;
    if got == 0 {
        return Ok(None);
    }
    if got < HEADER_LEN {
        return Err(FrameError::Truncated {
            expected: HEADER_LEN,
            got,
        });
    }
    let header = parse_header(&head, max)?;
    if header.kind != Kind::Inline {
        return Err(FrameError::UnknownKind(header.kind as u8));
    }
    let mut payload = Vec::with_capacity(header.len.min(STEP));
    while payload.len() < header.len {
        let want = (header.len - payload.len()).min(STEP);
        let start = payload.len();
        payload.resize(start + want, 0);
        let n = read_up_to(reader, &mut payload[start..])?;
        payload.truncate(start + n);
        if n < want {
            return Err(FrameError::Truncated {
                expected: HEADER_LEN + header.len,
                got: HEADER_LEN + payload.len(),
            });
        }
    }
    Ok(Some(payload))
}

/// Fills `buf` unless the stream ends first; returns how much was read.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, FrameError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small xorshift generator: the fuzz tests need no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn a_sequence_is_decoded_whole_and_checked() {
        let back: Vec<u64> = from_payload(&to_payload(&[3u64, 4, 5][..]).unwrap()).unwrap();
        assert_eq!(back, [3, 4, 5]);
        // Stray bytes after the sequence.
        let mut stray = to_payload(&[6u64][..]).unwrap();
        stray.push(0);
        assert!(matches!(
            from_payload::<Vec<u64>>(&stray),
            Err(FrameError::Malformed(_))
        ));
        // A length that announces more items than arrive: refused.
        let lying = [0xff, 0xff, 0xff, 0xff, 0x0f, 7];
        assert!(from_payload::<Vec<u64>>(&lying).is_err());
    }

    type Sample = (u32, String, Vec<u64>, Option<(i8, bool)>);

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        for _ in 0..20_000 {
            let len = (rng.next() % 64) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Half the time give it a valid header so the payload is fuzzed.
            if rng.next() % 2 == 0 && len >= HEADER_LEN {
                let h = header(Kind::Inline, len - HEADER_LEN).unwrap();
                bytes[..HEADER_LEN].copy_from_slice(&h);
            }
            let _ = decode::<Sample>(&bytes);
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let value: Sample = (7, "hello".into(), vec![1, 2, 300], Some((-1, true)));
        let bytes = encode(&value).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode::<Sample>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(decode::<Sample>(&bytes).unwrap(), value);
    }

    #[test]
    fn huge_length_inside_the_payload_is_refused_without_allocating() {
        // A Vec<u64> claiming u32::MAX elements, in a 10-byte payload.
        let payload = [0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3, 4, 5];
        let mut bytes = header(Kind::Inline, payload.len()).unwrap().to_vec();
        bytes.extend_from_slice(&payload);
        assert!(matches!(
            decode::<Vec<u64>>(&bytes),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn stream_reader_refuses_oversized_and_truncated_frames() {
        let mut big = header(Kind::Inline, 10).unwrap().to_vec();
        big[4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            read_frame(&mut &big[..], 1024),
            Err(FrameError::TooLarge { .. })
        ));
        // Announces 1 GiB, sends 3 bytes: the reader fails after 3 bytes
        // with a buffer of at most one step.
        let mut lying = header(Kind::Inline, MAX_PAYLOAD).unwrap().to_vec();
        lying.extend_from_slice(b"abc");
        match read_frame(&mut &lying[..], MAX_PAYLOAD) {
            Err(FrameError::Truncated { got, .. }) => assert_eq!(got, HEADER_LEN + 3),
            other => panic!("expected Truncated, got {other:?}"),
        }
        let good = encode(&5u16).unwrap();
        let mut stream = &good[..];
        let payload = read_frame(&mut stream, 1024).unwrap().unwrap();
        assert_eq!(from_payload::<u16>(&payload).unwrap(), 5);
        assert!(read_frame(&mut stream, 1024).unwrap().is_none());
    }

    #[test]
    fn bad_headers_are_named() {
        let good = encode(&1u8).unwrap();
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(matches!(decode::<u8>(&bad), Err(FrameError::BadMagic(_))));
        let mut bad = good.clone();
        bad[2] = 9;
        assert!(matches!(
            decode::<u8>(&bad),
            Err(FrameError::UnsupportedVersion(9))
        ));
        let mut bad = good.clone();
        bad[3] = 7;
        assert!(matches!(
            decode::<u8>(&bad),
            Err(FrameError::UnknownKind(7))
        ));
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            decode::<u8>(&long),
            Err(FrameError::Trailing { .. })
        ));
    }
}
