//! The command follows the usual conventions: `--version`, `--flag=value`,
//! exit code 2 for usage errors and 1 for failures at run time, one line
//! per error, never a panic, a hang or an unbounded run on bad input.

mod common;

use common::{brigade, stderr, stdout, temp_dir};

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Output};

use serde_json::Value;

/// Exit code `code`, one line on standard error containing `expected`,
/// nothing on standard output.
fn assert_one_line_error(out: &Output, code: i32, expected: &str, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: {}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("brigade: error: "), "{what}: {err}");
    assert!(err.contains(expected), "{what}: {err}");
    assert!(stdout(out).is_empty(), "{what}: {}", stdout(out));
}

#[test]
fn version_prints_the_package_version() {
    for flag in ["--version", "-V", "version"] {
        let out = brigade([flag]);
        assert!(out.status.success(), "{flag}");
        assert_eq!(
            stdout(&out),
            format!("brigade {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn flag_equals_value_is_the_same_as_flag_space_value() {
    let spaced = brigade(["exhibition", "--boards", "5", "--moves", "3", "--json"]);
    let joined = brigade(["exhibition", "--boards=5", "--moves=3", "--json"]);
    assert!(joined.status.success(), "{}", stderr(&joined));
    let a: Value = serde_json::from_str(&stdout(&spaced)).unwrap();
    let b: Value = serde_json::from_str(&stdout(&joined)).unwrap();
    assert_eq!(b["params"]["boards"], 5);
    assert_eq!(b["params"]["moves"], 3);
    assert_eq!(
        a["results"][0]["simulated_s"],
        b["results"][0]["simulated_s"]
    );
    assert_eq!(
        a["results"][1]["simulated_s"],
        b["results"][1]["simulated_s"]
    );
    let out = brigade(["exhibition", "--model=async", "--master-move=1m", "--json"]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["results"].as_array().unwrap().len(), 1);
    assert_eq!(json["params"]["master_move_s"], 60.0);
}

#[test]
fn a_flag_without_a_value_refuses_one() {
    let out = brigade(["exhibition", "--json=yes"]);
    assert_one_line_error(&out, 2, "--json takes no value", "--json=yes");
}

#[test]
fn non_utf8_arguments_are_usage_errors_not_panics() {
    let bad = || OsString::from_vec(vec![b'4', 0xff, 0xfe]);
    let cases: Vec<(Vec<OsString>, &str)> = vec![
        (
            vec!["exhibition".into(), "--boards".into(), bad()],
            "not valid UTF-8",
        ),
        (
            vec!["exhibition".into(), "--model".into(), bad()],
            "not valid UTF-8",
        ),
        (vec![bad()], "not valid UTF-8"),
        (vec!["demo".into(), bad()], "not valid UTF-8"),
        (vec!["exhibition".into(), bad()], "unexpected argument"),
    ];
    for (args, expected) in cases {
        let out = brigade(&args);
        assert_one_line_error(&out, 2, expected, &format!("{args:?}"));
    }
}

#[test]
fn a_non_utf8_trace_path_is_a_path_like_any_other() {
    let dir = temp_dir("non-utf8");
    let mut path = dir.clone().into_os_string().into_vec();
    path.extend_from_slice(b"/trace-\xff.json");
    let path = OsString::from_vec(path);
    let args: Vec<OsString> = vec![
        "exhibition".into(),
        "--boards".into(),
        "2".into(),
        "--moves".into(),
        "1".into(),
        "--trace".into(),
        path.clone(),
    ];
    let out = brigade(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let trace: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(trace["traceEvents"].is_array());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn too_many_boards_or_moves_are_refused_before_the_run() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["exhibition", "--boards", "4294967296"],
            "more than the 1000000 an exhibition takes",
        ),
        (
            &["exhibition", "--model", "sync", "--boards", "4294967295"],
            "more than the 1000000 an exhibition takes",
        ),
        (
            &["exhibition", "--boards", "18446744073709551616"],
            "invalid --boards",
        ),
        (
            &["exhibition", "--boards", "1000000", "--moves", "31"],
            "more than the 30000000 move pairs",
        ),
        (
            &["exhibition", "--moves", "18446744073709551615"],
            "move pairs",
        ),
        (
            &["exhibition", "--model", "threads", "--boards", "10001"],
            "at most 10000 boards",
        ),
        (
            &["exhibition", "--model", "all", "--boards", "1001"],
            "at most 1000 boards",
        ),
    ];
    for (args, expected) in cases {
        assert_one_line_error(&brigade(*args), 2, expected, &format!("{args:?}"));
    }
}

#[test]
fn bad_durations_are_one_line_errors() {
    let cases: &[(&str, &str)] = &[
        ("1h1h", "units go largest first, each once"),
        ("30s1m", "units go largest first"),
        ("99999999999999999999h", "invalid duration"),
        (
            "18446744073709551615s18446744073709551615ms",
            "invalid duration",
        ),
        ("1e400", "invalid duration"),
        ("inf", "invalid duration"),
        ("NaN", "invalid duration"),
        ("5000000000h", "longer than brigade's clock reaches"),
    ];
    for (text, expected) in cases {
        let out = brigade(["exhibition", "--master-move", text]);
        assert_one_line_error(&out, 2, expected, text);
    }
}

#[test]
fn a_timeline_that_is_not_svg_is_refused() {
    for name in ["x.png", "x", "x.svg.pdf"] {
        let out = brigade(["exhibition", "--timeline", name]);
        assert_one_line_error(&out, 2, "SVG only", name);
        assert!(!std::path::Path::new(name).exists());
    }
}

#[test]
fn unwritable_outputs_fail_at_run_time_with_code_one_before_the_run() {
    for (flag, file, what) in [
        ("--trace", "/nonexistent-dir/t.json", "the trace"),
        ("--timeline", "/nonexistent-dir/t.svg", "the timeline"),
    ] {
        // A large run that would take long: the check comes first.
        let out = brigade(["exhibition", "--boards", "1000000", flag, file]);
        assert_one_line_error(&out, 1, &format!("cannot write {what} to {file}"), flag);
    }
}

#[test]
fn usage_errors_exit_with_two() {
    for args in [
        &["juggle"][..],
        &["exhibition", "--frobnicate"],
        &["exhibition", "--boards"],
        &["demo", "async", "threads"],
        &["--frobnicate"],
    ] {
        let out = brigade(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}");
    }
}

#[test]
fn json_carries_its_schema_version_and_help_documents_the_schema() {
    let out = brigade(["exhibition", "--boards", "2", "--moves", "1", "--json"]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["schema_version"], 1);
    let help = stdout(&brigade(["help"]));
    assert!(help.contains("JSON OUTPUT (--json), schema_version 1"));
    // Every field the output has is documented.
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.extend(
        json["params"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str()),
    );
    fields.extend(
        json["results"][0]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str()),
    );
    for field in fields {
        assert!(help.contains(field), "help misses the field {field}");
    }
}

#[test]
fn demo_names_errors_other_than_a_missing_file() {
    let dir = temp_dir("demo-dir");
    std::fs::create_dir(dir.join("demo.txt")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_brigade"))
        .args(["demo", "async"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("File not found"), "{text}");
    assert!(
        text.contains("Cannot read demo.txt: Is a directory"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let dir = temp_dir("demo-latin1");
    std::fs::write(dir.join("demo.txt"), b"caf\xe9\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_brigade"))
        .args(["demo", "async"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(!text.contains("File not found"), "{text}");
    assert!(text.contains("Cannot read demo.txt: "), "{text}");
    assert!(text.contains("UTF-8"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_real_clock_move_shorter_than_a_timer_tick_is_warned_about() {
    let run = |speedup: &str| {
        brigade([
            "exhibition",
            "--model",
            "threads",
            "--boards",
            "2",
            "--moves",
            "1",
            "--no-progress",
            "--json",
            "--speedup",
            speedup,
        ])
    };
    let fast = run("100000");
    assert!(fast.status.success(), "{}", stderr(&fast));
    let err = stderr(&fast);
    assert!(
        err.starts_with("brigade: warning: at --speedup 100000 a 5s move lasts 0.050 ms"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let fine = run("1000");
    assert!(fine.status.success());
    assert!(stderr(&fine).is_empty(), "{}", stderr(&fine));
    // The virtual clock has no resolution to miss.
    let out = brigade([
        "exhibition",
        "--speedup",
        "1000000",
        "--boards",
        "2",
        "--moves",
        "1",
    ]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}
