//! Fuzzes `frame::read_frame`: the first input byte picks the limit and
//! how the stream hands over its bytes (all at once, a few at a time, with
//! `Interrupted` errors, failing at the end); the rest is the stream. It
//! must give a payload no longer than the limit, the end of the stream, or
//! a typed error; it must never read past the frame it returns, and never
//! panic.

#![no_main]

use std::io::{self, Read};

use brigade::process::frame::{self, HEADER_LEN, MAX_PAYLOAD};
use libfuzzer_sys::fuzz_target;

/// Hands over at most `chunk` bytes per read, interrupts every
/// `interrupt`-th read, and at the end returns 0 or, if `fails`, an error.
struct Stream<'a> {
    data: &'a [u8],
    chunk: usize,
    interrupt: u8,
    reads: u8,
    fails: bool,
}

impl Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads = self.reads.wrapping_add(1);
        if self.interrupt > 0 && self.reads % self.interrupt == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.data.is_empty() && self.fails {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        let n = buf.len().min(self.data.len()).min(self.chunk);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, data)) = input.split_first() else {
        return;
    };
    let max = match knobs & 3 {
        0 => 0,
        1 => 16,
        2 => data.len().saturating_sub(HEADER_LEN),
        _ => MAX_PAYLOAD,
    };
    let mut stream = Stream {
        data,
        chunk: if knobs & 4 == 0 {
            usize::MAX
        } else {
            1 + ((knobs as usize >> 5) & 3)
        },
        // Never every read: a stream that only ever interrupts would
        // rightly be retried forever.
        interrupt: match (knobs >> 3) & 3 {
            0 => 0,
            k => k + 1,
        },
        reads: 0,
        fails: knobs & 0x80 != 0,
    };
    match frame::read_frame(&mut stream, max) {
        Ok(Some(payload)) => {
            assert!(payload.len() <= max, "a payload above the limit");
            let consumed = data.len() - stream.data.len();
            assert_eq!(consumed, HEADER_LEN + payload.len(), "read past the frame");
            assert_eq!(payload, data[HEADER_LEN..consumed], "payload changed");
        }
        Ok(None) => assert!(data.is_empty(), "the end reported with bytes in the stream"),
        Err(_) => {}
    }
});
