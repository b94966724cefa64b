//! The `brigade` command, run as a user runs it.

mod common;

use common::{brigade, stderr, stdout, temp_dir};

use std::process::Command;

use serde_json::Value;

/// The cells of a table row, split on runs of spaces.
fn row<'a>(table: &'a str, model: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("{model} ")))
        .expect("a row per model");
    line.split_whitespace().collect()
}

#[test]
fn the_default_exhibition_reads_twelve_hours_and_one_hour_fifty_five() {
    let out = brigade(["exhibition"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let sync = row(&table, "sync");
    assert_eq!(sync[1], "virtual");
    assert_eq!(sync[2], "12:00:00");
    assert_eq!(sync[4], "1.00×");
    assert_eq!(sync[5], "12:00:00");
    let r#async = row(&table, "async");
    assert_eq!(r#async[2], "1:00:55");
    assert_eq!(r#async[4], "11.82×");
    assert_eq!(r#async[5], "1:00:00", "the notebook's estimate");
}

#[test]
fn other_board_counts_give_the_exact_simulated_times() {
    // Few boards: Judit waits for the opponents; each round lasts one full
    // move pair, and the last board's final reply closes the exhibition.
    let out = brigade(["exhibition", "--boards", "5", "--json"]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results[0]["simulated"], "2:30:00");
    assert_eq!(results[1]["simulated_s"], 29.0 * 60.0 + 5.0 * 5.0 + 55.0);
    // Many boards: Judit never rests: boards × moves × 5 s + the last 55 s.
    let out = brigade([
        "exhibition",
        "--boards",
        "100",
        "--model",
        "async",
        "--json",
    ]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["results"][0]["simulated_s"], 100.0 * 30.0 * 5.0 + 55.0);
    assert_eq!(json["results"][0]["model"], "async");
    assert_eq!(json["params"]["boards"], 100);
}

#[test]
fn custom_durations_and_moves_are_honoured() {
    let out = brigade([
        "exhibition",
        "--boards",
        "3",
        "--moves",
        "2",
        "--master-move",
        "1m",
        "--opponent-move",
        "30s",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["results"][0]["simulated_s"], 3.0 * 2.0 * 90.0);
    // Judit is the bottleneck (3 × 60 s ≥ 90 s): 3 × 2 × 60 s + 30 s.
    assert_eq!(json["results"][1]["simulated_s"], 390.0);
}

#[test]
fn the_trace_is_chrome_json_with_well_formed_events() {
    let dir = temp_dir("trace");
    let path = dir.join("exhibition.json");
    let out = brigade([
        "exhibition",
        "--boards",
        "4",
        "--moves",
        "3",
        "--trace",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let moves: Vec<&Value> = events.iter().filter(|e| e["cat"] == "move").collect();
    assert_eq!(
        moves.len(),
        2 * 4 * 3 * 2,
        "two models × boards × moves × (master + opponent)"
    );
    for e in events {
        assert!(
            e["ph"].is_string() && e["pid"].is_u64() && e["tid"].is_u64(),
            "{e}"
        );
    }
    for m in &moves {
        assert_eq!(m["ph"], "X");
        let dur = m["dur"].as_f64().unwrap();
        assert!(dur == 5e6 || dur == 55e6, "a move lasts 5 s or 55 s: {m}");
    }
    let tracks: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    for expected in ["sync: Judit", "async: Judit", "async: board 4"] {
        assert!(
            tracks.contains(&expected),
            "missing track {expected}: {tracks:?}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_timeline_is_an_svg_with_a_row_per_board() {
    let dir = temp_dir("timeline");
    let path = dir.join("timeline.svg");
    let out = brigade(["exhibition", "--timeline", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("sync — finished at 12:00:00"));
    assert!(svg.contains("async — finished at 1:00:55"));
    assert!(svg.contains(">board 24<"));
    assert!(svg.contains("async — finished at 1:00:55 (zoomed to its own time scale)"));
    // The zoomed panel draws every move: 24 boards × 30 move pairs × 2
    // moves, Judit's once more in her row, and each board's waiting bar
    // (plus the background and the legend's four swatches).
    assert_eq!(
        svg.matches("<rect ").count(),
        1 + 4 + (24 * 30 * 2 + 24 * 30) + 24
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_hundred_thousand_boards_on_the_virtual_clock() {
    let out = brigade([
        "exhibition",
        "--boards",
        "100000",
        "--model",
        "async",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json["results"][0]["simulated_s"],
        100_000.0 * 30.0 * 5.0 + 55.0
    );
}

#[test]
fn bad_input_is_one_line_and_exit_code_two() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["exhibition", "--boards", "0"],
            "--boards must be at least 1",
        ),
        (&["exhibition", "--boards", "-3"], "invalid --boards `-3`"),
        (
            &["exhibition", "--master-move", "-5s"],
            "invalid duration `-5s`",
        ),
        (
            &["exhibition", "--opponent-move", "soon"],
            "invalid duration `soon`",
        ),
        (
            &["exhibition", "--master-move", "0s"],
            "--master-move must be longer than zero",
        ),
        (
            &["exhibition", "--model", "fibers"],
            "unknown model `fibers`",
        ),
        (
            &["exhibition", "--clock", "sundial"],
            "invalid --clock `sundial`",
        ),
        (
            &["exhibition", "--speedup", "0"],
            "must be greater than zero",
        ),
        (&["exhibition", "--boards"], "--boards needs a value"),
        (
            &["exhibition", "--frobnicate"],
            "unknown option `--frobnicate`",
        ),
        (
            &["exhibition", "--model", "threads", "--clock", "virtual"],
            "real clock only",
        ),
        (
            &["exhibition", "--master-move", "10000000000h"],
            "longer than brigade's clock reaches (1000 years)",
        ),
        (&["juggle"], "unknown command `juggle`"),
        (&["demo", "fibers"], "unknown demo `fibers`"),
        (
            &["exhibition", "--model", "processes", "--clock", "virtual"],
            "real clock only",
        ),
    ];
    for (args, expected) in cases {
        let out = brigade(*args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("brigade: error: "), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
}

#[test]
fn help_documents_every_flag_with_its_default() {
    let out = brigade(["exhibition", "--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for flag in [
        "--boards",
        "--master-move",
        "--opponent-move",
        "--moves",
        "--model",
        "--clock",
        "--speedup",
        "--json",
        "--trace",
        "--timeline",
    ] {
        assert!(help.contains(flag), "help misses {flag}");
    }
    for default in [
        "[default: 24]",
        "[default: 5s]",
        "[default: 55s]",
        "[default: 30]",
        "[default: 1000]",
    ] {
        assert!(help.contains(default), "help misses {default}");
    }
}

#[test]
fn the_async_demo_prints_hello_file_not_found_world() {
    let dir = temp_dir("demo-missing");
    let out = Command::new(env!("CARGO_BIN_EXE_brigade"))
        .args(["demo", "async"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("ran nothing yet")),
        "{text}"
    );
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| *l == needle)
            .unwrap_or_else(|| panic!("no {needle}: {text}"))
    };
    assert!(at("hello") < at("File not found") && at("File not found") < at("world"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_async_demo_prints_demo_txt_when_it_exists() {
    let dir = temp_dir("demo-present");
    std::fs::write(dir.join("demo.txt"), "Judit plays 24 boards\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_brigade"))
        .args(["demo", "async"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("hello\nJudit plays 24 boards\nworld"),
        "{text}"
    );
    assert!(!text.contains("File not found"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_threads_demo_runs_the_notebook_cell() {
    let out = brigade(["demo", "threads"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("[1, 4, 9, 16, 25]\n"), "{text}");
    assert!(
        text.contains("[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]\n"),
        "{text}"
    );
    assert_eq!(text.matches("Threading id: ").count(), 2);
    let idents: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Threading id: "))
        .collect();
    assert_ne!(idents[0], idents[1], "two threads, two idents");
    assert!(text.contains("thread1.daemon = false"));
    assert!(text.contains("thread1.is_alive() = false"));
    let name = text
        .lines()
        .find_map(|l| l.strip_prefix("thread1.name = "))
        .unwrap();
    assert!(
        name.starts_with("\"Thread-") && name.ends_with(" (func2)\""),
        "{name}"
    );
}

#[test]
fn the_processes_demo_squares_in_two_children() {
    let out = brigade(["demo", "processes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let pid = |prefix: &str| -> u32 {
        let line = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{text}"));
        line[prefix.len()..]
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (p1, p2) = (pid("p1.pid = "), pid("p2.pid = "));
    assert_ne!(p1, p2);
    assert_ne!(p1, std::process::id());
    assert!(
        text.contains(": square(2) = 4\n") && text.contains(": square(4) = 16\n"),
        "{text}"
    );
}

#[test]
fn threads_and_processes_play_on_the_real_clock() {
    let out = brigade([
        "exhibition",
        "--model",
        "threads,processes",
        "--boards",
        "4",
        "--moves",
        "3",
        "--speedup",
        "20000",
        "--json",
        "--no-progress",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    for (result, model) in json["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["threads", "processes"])
    {
        assert_eq!(result["model"], model);
        assert_eq!(result["clock"], "real");
        // Real sleeps never end early: no run beats the exact schedule
        // (3 rounds of 60 s once Judit waits for the opponents, plus the
        // boards she serves after her last wait: 2 × 60 + 4 × 5 + 55).
        let simulated = result["simulated_s"].as_f64().unwrap();
        assert!(simulated >= 195.0, "{model}: {simulated}");
    }
}

#[test]
fn a_trace_of_threads_and_processes_shows_their_lifetimes() {
    let dir = temp_dir("trace-tp");
    let path = dir.join("trace.json");
    let out = brigade([
        "exhibition",
        "--model",
        "threads,processes",
        "--boards",
        "3",
        "--moves",
        "2",
        "--speedup",
        "20000",
        "--no-progress",
        "--trace",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let count = |cat: &str| events.iter().filter(|e| e["cat"] == cat).count();
    assert_eq!(
        count("thread"),
        2 * (3 + 1),
        "each model: a thread per board and Judit's"
    );
    assert_eq!(count("process"), 3, "one child process per board");
    assert_eq!(count("move"), 2 * 3 * 2 * 2);
    // Judit keeps to a schedule: each of her moves lasts exactly 5 s and
    // none begins before the previous one ends, however late her thread
    // woke.
    let judit: Vec<f64> = events
        .iter()
        .filter(|e| {
            e["ph"] == "M"
                && e["args"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(": Judit"))
        })
        .map(|e| e["pid"].as_f64().unwrap() * 1e6 + e["tid"].as_f64().unwrap())
        .collect();
    assert_eq!(judit.len(), 2, "a Judit track per model");
    for track in judit {
        let mut moves: Vec<(f64, f64)> = events
            .iter()
            .filter(|e| {
                e["cat"] == "move"
                    && e["pid"].as_f64().unwrap() * 1e6 + e["tid"].as_f64().unwrap() == track
            })
            .map(|e| (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap()))
            .collect();
        moves.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(moves.len(), 3 * 2);
        for (ts, dur) in &moves {
            assert!((dur - 5e6).abs() < 1.0, "a move of {dur} µs at {ts}");
        }
        for pair in moves.windows(2) {
            assert!(pair[1].0 >= pair[0].0 + pair[0].1 - 1.0, "{pair:?} overlap");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}
