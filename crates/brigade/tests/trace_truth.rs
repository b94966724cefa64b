//! A trace shows what happened and nothing else: no nesting that did not
//! happen (on either clock), tasks' tracks under their names, and a file
//! written while the run goes on.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use brigade::trace::Trace;
use serde_json::Value;

/// Boards that all start at once and sleep in turns, while the main future
/// sleeps too: many polls share each virtual instant.
fn exhibition(trace: &Arc<Trace>, virtual_clock: bool, boards: u64) {
    let rt = brigade::Runtime::builder()
        .virtual_clock(virtual_clock)
        .trace(trace)
        .build()
        .unwrap();
    let unit = if virtual_clock {
        Duration::from_secs(1)
    } else {
        Duration::from_micros(200)
    };
    rt.block_on(async move {
        let tasks: Vec<_> = (1..=boards)
            .map(|i| {
                brigade::spawn_named(format!("board {i}"), async move {
                    for _ in 0..3 {
                        brigade::sleep(unit).await;
                        brigade::yield_now().await;
                    }
                })
            })
            .collect();
        brigade::sleep(unit * 2).await;
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// A slice of a track, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Slice {
    start: u64,
    end: u64,
}

fn nanos(v: &Value) -> u64 {
    (v.as_f64().expect("a number of microseconds") * 1000.0).round() as u64
}

/// The complete events of the JSON, per (pid, tid).
fn slices(json: &Value) -> BTreeMap<(u64, u64), Vec<Slice>> {
    let mut tracks: BTreeMap<(u64, u64), Vec<Slice>> = BTreeMap::new();
    for e in json["traceEvents"].as_array().expect("traceEvents") {
        if e["ph"] == "X" {
            let start = nanos(&e["ts"]);
            let slice = Slice {
                start,
                end: start + nanos(&e["dur"]),
            };
            let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
            tracks.entry(key).or_default().push(slice);
        }
    }
    tracks
}

/// brigade's own tracks never nest: on each, a slice starts no earlier than
/// every earlier slice ends (slices of zero length touch, never nest).
fn assert_never_nested(json: &Value) -> usize {
    let mut total = 0;
    for (track, mut slices) in slices(json) {
        slices.sort();
        let mut end = 0;
        for s in &slices {
            assert!(
                s.start >= end,
                "track {track:?}: a slice at {} ns starts inside one that ends at {end} ns",
                s.start
            );
            end = end.max(s.end);
        }
        total += slices.len();
    }
    total
}

fn parsed(trace: &Trace) -> Value {
    serde_json::from_str(&trace.to_chrome_json()).expect("valid JSON")
}

#[test]
fn polls_at_one_virtual_instant_are_never_drawn_nested() {
    let trace = Trace::new();
    exhibition(&trace, true, 200);
    let json = parsed(&trace);
    let slices = assert_never_nested(&json);
    assert!(
        slices > 200 * 3 * 2,
        "polls and sleeps were traced: {slices}"
    );
}

#[test]
fn polls_on_the_real_clock_are_never_drawn_nested() {
    let trace = Trace::new();
    exhibition(&trace, false, 50);
    let slices = assert_never_nested(&parsed(&trace));
    assert!(
        slices > 50 * 3 * 2,
        "polls and sleeps were traced: {slices}"
    );
}

#[test]
fn a_virtual_poll_takes_no_virtual_time_and_a_sleep_its_own() {
    let trace = Trace::new();
    exhibition(&trace, true, 3);
    for event in trace.events() {
        let brigade::trace::Kind::Span { duration } = event.kind else {
            continue;
        };
        match event.category {
            "poll" => assert_eq!(duration, Duration::ZERO, "{event:?}"),
            "timer" => assert!(
                [Duration::from_secs(1), Duration::from_secs(2)].contains(&duration),
                "{event:?}"
            ),
            _ => {}
        }
    }
}

#[test]
fn a_tasks_track_carries_its_spawn_named_name() {
    let trace = Trace::new();
    exhibition(&trace, true, 3);
    let json = parsed(&trace);
    let events = json["traceEvents"].as_array().unwrap();
    let names: HashMap<(u64, u64), &str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
            (key, e["args"]["name"].as_str().unwrap())
        })
        .collect();
    for board in ["board 1", "board 2", "board 3"] {
        let (&track, _) = names
            .iter()
            .find(|(_, name)| **name == board)
            .unwrap_or_else(|| panic!("no track named {board}: {names:?}"));
        let sleeps = events
            .iter()
            .filter(|e| e["cat"] == "timer")
            .filter(|e| (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap()) == track)
            .count();
        assert_eq!(sleeps, 3, "{board} slept three times on its own track");
    }
    // The main future's sleep is on a track of its own, not among the polls.
    let main = names
        .iter()
        .find(|(_, name)| name.starts_with("main future"))
        .map(|(track, _)| *track)
        .expect("a main-future track");
    let main_sleeps = events
        .iter()
        .filter(|e| e["cat"] == "timer")
        .filter(|e| (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap()) == main)
        .count();
    assert_eq!(main_sleeps, 1);
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("brigade-{name}-{}.json", std::process::id()))
}

#[test]
fn a_file_trace_is_written_while_the_run_goes_on() {
    let path = temp("stream");
    let trace = Trace::to_file(&path).unwrap();
    exhibition(&trace, true, 500);
    let during = std::fs::metadata(&path).unwrap().len();
    assert!(
        during > 64 * 1024,
        "whole chunks reach the file before the end: {during} bytes"
    );
    assert!(trace.events().is_empty(), "nothing is kept in memory");
    trace.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(text.len() as u64 > during, "finish writes the rest");
    let json: Value = serde_json::from_str(&text).expect("valid JSON once finished");
    assert!(assert_never_nested(&json) > 500 * 3 * 2);
    let named = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "thread_name" && e["args"]["name"] == "board 500")
        .count();
    assert_eq!(named, 1);
}

#[test]
fn a_file_trace_matches_the_in_memory_one() {
    let path = temp("same");
    let file = Trace::to_file(&path).unwrap();
    let memory = Trace::new();
    // The same deterministic run, twice (task ids differ, so compare what
    // does not depend on them).
    exhibition(&file, true, 5);
    exhibition(&memory, true, 5);
    file.finish().unwrap();
    let from_file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let summary = |json: &Value| {
        let mut names: Vec<(String, String, String)> = json["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let name = e["args"]["name"]
                    .as_str()
                    .or(e["name"].as_str())
                    .unwrap_or("");
                let name = name.split(' ').next().unwrap_or("").to_string();
                (e["ph"].to_string(), name, e["ts"].to_string())
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(summary(&from_file), summary(&parsed(&memory)));
}

#[test]
fn a_write_error_is_reported_by_finish_with_the_path() {
    let trace = Trace::to_file("/dev/full").unwrap();
    exhibition(&trace, true, 300);
    let error = trace.finish().unwrap_err();
    assert!(error.to_string().contains("/dev/full"), "{error}");
    assert!(trace.finish().is_ok(), "reported once");
}

#[test]
fn an_unwritable_path_is_refused_at_once_with_the_path() {
    let error = Trace::to_file("/nonexistent-dir/trace.json").unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    assert!(error.to_string().contains("/nonexistent-dir/trace.json"));
}
