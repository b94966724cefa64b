//! The Chrome trace-event format, written by hand (it is a flat JSON array
//! of small objects, not worth a serializer dependency).
//!
//! Spans become complete events (`"ph":"X"`), instants instant events
//! (`"ph":"i"`). Each track maps to a (pid, tid) pair: every loop is a
//! "process" of its own (pid 1000 + loop number) whose thread 0 holds the
//! polls and whose other threads are its tasks; brigade threads are threads
//! of pid 1; every child process is a process of its own; named tracks are
//! threads of pid 2. Metadata events name them.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Event, Kind, Track};

pub(super) fn render(events: &[Event]) -> String {
    let mut ids: BTreeMap<&Track, (u64, u64)> = BTreeMap::new();
    let mut next_named = 1;
    for event in events {
        ids.entry(&event.track)
            .or_insert_with(|| match &event.track {
                Track::Loop(n) => (1000 + *n, 0),
                Track::Task { loop_id, task } => (1000 + *loop_id, *task),
                Track::Thread(n) => (1, *n),
                Track::Process(pid) => (u64::from(*pid), 0),
                Track::Named(_) => {
                    next_named += 1;
                    (2, next_named - 1)
                }
            });
    }
    let mut out = String::from("{\"traceEvents\":[\n");
    let mut first = true;
    let mut push = |out: &mut String, line: String| {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        out.push_str(&line);
    };
    for (track, (pid, tid)) in &ids {
        let label = match track {
            Track::Loop(n) => format!("event loop {n}"),
            Track::Task { task, .. } => format!("task {task}"),
            Track::Thread(n) => format!("thread {n}"),
            Track::Process(pid) => format!("process {pid}"),
            Track::Named(name) => name.to_string(),
        };
        let kind = match track {
            Track::Process(_) => "process_name",
            _ => "thread_name",
        };
        if let Track::Loop(n) = track {
            push(
                &mut out,
                format!(
                    "{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{pid},\"tid\":0,\"args\":{{\"name\":\"event loop {n}\"}}}}"
                ),
            );
        }
        push(
            &mut out,
            format!(
                "{{\"ph\":\"M\",\"name\":\"{kind}\",\"pid\":{pid},\"tid\":{tid},\"args\":{{\"name\":{}}}}}",
                quote(&label)
            ),
        );
    }
    for event in events {
        let (pid, tid) = ids[&event.track];
        let ts = micros(event.at);
        let mut line = format!(
            "{{\"name\":{},\"cat\":{},\"pid\":{pid},\"tid\":{tid},\"ts\":{ts}",
            quote(&event.name),
            quote(event.category)
        );
        match &event.kind {
            Kind::Span { duration } => {
                let _ = write!(line, ",\"ph\":\"X\",\"dur\":{}}}", micros(*duration));
            }
            Kind::Instant => line.push_str(",\"ph\":\"i\",\"s\":\"t\"}"),
        }
        push(&mut out, line);
    }
    out.push_str("\n],\"displayTimeUnit\":\"ms\"}\n");
    out
}

/// Microseconds with three decimals, as the format expects.
fn micros(d: std::time::Duration) -> String {
    let nanos = d.as_nanos();
    format!("{}.{:03}", nanos / 1000, nanos % 1000)
}

/// A JSON string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn quotes_escape_what_json_requires() {
        assert_eq!(quote("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn micros_keep_nanosecond_precision() {
        assert_eq!(micros(Duration::from_nanos(1_234_567)), "1234.567");
    }
}
