//! The Chrome trace-event format, written by hand (it is a flat JSON array
//! of small objects, not worth a serializer dependency), one event at a
//! time so that a trace can stream to its file.
//!
//! Spans become complete events (`"ph":"X"`), instants instant events
//! (`"ph":"i"`), track names metadata events (`"ph":"M"`, which the format
//! allows anywhere in the array). Each track maps to a (pid, tid) pair
//! computed from the track alone, so that the encoder keeps no table of
//! tracks (only of the program's named tracks):
//!
//! | track | pid | tid |
//! | --- | --- | --- |
//! | child process `p` | `p` | `p` |
//! | brigade thread `n` | this process's pid | `n` |
//! | loop `n`: its polls | `LIMIT + 2 + n` | 0 |
//! | loop `n`: its main future | `LIMIT + 2 + n` | 1 |
//! | loop `n`: task `t` | `LIMIT + 2 + n` | `t + 1` |
//! | named track | `LIMIT + 1` | 1, 2, ... in order of first use |
//!
//! `LIMIT` is Linux's `PID_MAX_LIMIT` (2²²): no process id reaches it, so a
//! child process never shares its pid with a loop or the named tracks.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use super::{Event, Kind, Track};

/// Linux's `PID_MAX_LIMIT` on 64-bit systems: every process id is below it.
const PID_LIMIT: u64 = 1 << 22;
/// The pseudo-process that holds the program's named tracks.
const NAMED_PID: u64 = PID_LIMIT + 1;

/// The start of the file; [`FOOTER`] closes it.
pub(super) const HEADER: &[u8] = b"{\"traceEvents\":[\n";
/// The end of the file.
pub(super) const FOOTER: &[u8] = b"\n],\"displayTimeUnit\":\"ms\"}\n";

/// Turns events into lines of the array, remembering only what it must:
/// whether a line was written (for the commas), the named tracks' tids,
/// and whether the two shared pseudo-processes were named yet.
#[derive(Debug, Default)]
pub(super) struct Encoder {
    written: bool,
    named: HashMap<Cow<'static, str>, u64>,
    threads_named: bool,
}

impl Encoder {
    /// Appends `event` to `out`, after any metadata its track needs first.
    pub(super) fn event(&mut self, out: &mut Vec<u8>, event: &Event) {
        let (pid, tid) = self.ids(out, &event.track);
        self.separate(out);
        let _ = write!(out, "{{\"name\":");
        quote(out, &event.name);
        let _ = write!(out, ",\"cat\":");
        quote(out, event.category);
        let _ = write!(out, ",\"pid\":{pid},\"tid\":{tid},\"ts\":");
        micros(out, event.at);
        match &event.kind {
            Kind::Span { duration } => {
                let _ = write!(out, ",\"ph\":\"X\",\"dur\":");
                micros(out, *duration);
                out.push(b'}');
            }
            Kind::Instant => out.extend_from_slice(b",\"ph\":\"i\",\"s\":\"t\"}"),
        }
    }

    /// Appends the metadata that names `track`.
    pub(super) fn label(&mut self, out: &mut Vec<u8>, track: &Track, name: &str) {
        let (pid, tid) = self.ids(out, track);
        if let Track::Loop(n) = track {
            self.metadata(out, "process_name", pid, 0, &format!("event loop {n}"));
        }
        if let Track::Process(_) = track {
            self.metadata(out, "process_name", pid, tid, name);
        }
        self.metadata(out, "thread_name", pid, tid, name);
    }

    /// The (pid, tid) of `track`, naming the pseudo-process it belongs to
    /// the first time one is used.
    fn ids(&mut self, out: &mut Vec<u8>, track: &Track) -> (u64, u64) {
        let loop_pid = |n: u64| PID_LIMIT + 2 + n;
        match track {
            Track::Loop(n) => (loop_pid(*n), 0),
            Track::Main(n) => (loop_pid(*n), 1),
            Track::Task { loop_id, task } => (loop_pid(*loop_id), task + 1),
            Track::Process(pid) => (u64::from(*pid), u64::from(*pid)),
            Track::Thread(n) => {
                let pid = u64::from(std::process::id());
                if !std::mem::replace(&mut self.threads_named, true) {
                    let label = format!("brigade threads (pid {pid})");
                    self.metadata(out, "process_name", pid, 0, &label);
                }
                (pid, *n)
            }
            Track::Named(name) => {
                if let Some(tid) = self.named.get(name) {
                    return (NAMED_PID, *tid);
                }
                let tid = self.named.len() as u64 + 1;
                if tid == 1 {
                    self.metadata(out, "process_name", NAMED_PID, 0, "program tracks");
                }
                self.named.insert(name.clone(), tid);
                self.metadata(out, "thread_name", NAMED_PID, tid, name);
                (NAMED_PID, tid)
            }
        }
    }

    fn metadata(&mut self, out: &mut Vec<u8>, kind: &str, pid: u64, tid: u64, name: &str) {
        self.separate(out);
        let _ = write!(
            out,
            "{{\"ph\":\"M\",\"name\":\"{kind}\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"name\":"
        );
        quote(out, name);
        out.extend_from_slice(b"}}");
    }

    fn separate(&mut self, out: &mut Vec<u8>) {
        if std::mem::replace(&mut self.written, true) {
            out.extend_from_slice(b",\n");
        }
    }
}

/// Microseconds with three decimals, as the format expects.
fn micros(out: &mut Vec<u8>, d: Duration) {
    let nanos = d.as_nanos();
    let _ = write!(out, "{}.{:03}", nanos / 1000, nanos % 1000);
}

/// A JSON string literal.
fn quote(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn quotes_escape_what_json_requires() {
        let mut out = Vec::new();
        quote(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001é\"".as_bytes());
    }

    #[test]
    fn micros_keep_nanosecond_precision() {
        let mut out = Vec::new();
        micros(&mut out, Duration::from_nanos(1_234_567));
        assert_eq!(out, b"1234.567");
    }

    #[test]
    fn a_child_process_never_shares_a_pid_with_a_loop_or_named_tracks() {
        let mut encoder = Encoder::default();
        let mut out = Vec::new();
        let largest_pid = (PID_LIMIT - 1) as u32;
        let (child, _) = encoder.ids(&mut out, &Track::Process(largest_pid));
        let (first_loop, _) = encoder.ids(&mut out, &Track::Loop(0));
        let (named, _) = encoder.ids(&mut out, &Track::Named("x".into()));
        assert!(
            child < named && named < first_loop,
            "{child} {named} {first_loop}"
        );
    }

    #[test]
    fn a_named_track_keeps_its_tid_and_is_named_once() {
        let mut encoder = Encoder::default();
        let mut out = Vec::new();
        let a = encoder.ids(&mut out, &Track::Named("a".into()));
        let b = encoder.ids(&mut out, &Track::Named("b".into()));
        assert_eq!(encoder.ids(&mut out, &Track::Named("a".into())), a);
        assert_ne!(a, b);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("\"thread_name\"").count(), 2, "{text}");
    }
}
