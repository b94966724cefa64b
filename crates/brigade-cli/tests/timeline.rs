//! The timeline reads at any scale: every board is drawn (alone or in a
//! density band), nothing is thinner than a pixel, the file stays near a
//! megabyte, and the axis ticks are round times.

mod common;

use common::temp_dir;

use std::process::Command;

/// Runs the exhibition with `args` and returns the timeline it drew.
fn timeline(name: &str, args: &[&str]) -> String {
    let dir = temp_dir(name);
    let path = dir.join("timeline.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_brigade"))
        .arg("exhibition")
        .args(args)
        .arg("--timeline")
        .arg(&path)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    svg
}

/// The value of `name="…"` in `element`.
fn attr<'a>(element: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let at = element
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {element}"))
        + key.len();
    &element[at..at + element[at..].find('"').unwrap()]
}

/// Every element (up to its `>`) that starts with `prefix`.
fn elements<'a>(svg: &'a str, prefix: &str) -> Vec<&'a str> {
    svg.match_indices(prefix)
        .map(|(at, _)| &svg[at..at + svg[at..].find('>').unwrap()])
        .collect()
}

/// Checks that the rows of each panel cover boards 1..=`boards` once, in
/// order, and hold every move; returns the number of panels.
fn every_board_accounted_for(svg: &str, boards: u64, moves: u64) -> usize {
    let rows = elements(svg, "<text class=\"row\"");
    assert!(!rows.is_empty());
    let mut panels = 0;
    let mut next = 1;
    let mut judit = 0;
    let mut opponent = 0;
    for row in rows {
        let (first, last) = attr(row, "data-boards").split_once('-').unwrap();
        let (first, last): (u64, u64) = (first.parse().unwrap(), last.parse().unwrap());
        if first == 1 {
            assert_eq!(next, 1, "a panel ended early, at board {next}");
            panels += 1;
        }
        assert_eq!(first, next, "rows must follow each other: {row}");
        assert!(last >= first);
        judit += attr(row, "data-judit-moves").parse::<u64>().unwrap();
        opponent += attr(row, "data-opponent-moves").parse::<u64>().unwrap();
        next = if last == boards { 1 } else { last + 1 };
    }
    assert_eq!(next, 1, "the last panel stops short of board {boards}");
    assert_eq!(judit, panels as u64 * boards * moves, "Judit's moves");
    assert_eq!(
        opponent,
        panels as u64 * boards * moves,
        "the opponents' moves"
    );
    panels
}

/// No band stroke or rectangle is narrower than `min` pixels.
fn nothing_thinner_than(svg: &str, min: f64) {
    for path in elements(svg, "<path ") {
        for segment in attr(path, "d").split('M').skip(1) {
            let width: f64 = segment.split_once('h').unwrap().1.parse().unwrap();
            assert!(width >= min, "a stroke {width} px wide");
        }
    }
    for rect in elements(svg, "<rect x=") {
        let width: f64 = attr(rect, "width").parse().unwrap();
        assert!(width >= min, "a rectangle {width} px wide: {rect}");
    }
}

#[test]
fn a_hundred_thousand_boards_fit_in_a_megabyte_with_every_board_drawn() {
    let svg = timeline("100k", &["--boards", "100000", "--moves", "2"]);
    assert!(svg.len() < 1_200_000, "{} bytes", svg.len());
    // sync, async, and async zoomed to its own scale.
    assert_eq!(every_board_accounted_for(&svg, 100_000, 2), 3);
    assert_eq!(svg.matches("<text class=\"row\"").count(), 3 * 40);
    assert!(svg.contains(">boards 97501–100000<"));
    nothing_thinner_than(&svg, 1.0);
}

#[test]
fn a_thousand_boards_are_drawn_in_bands_of_twenty_five() {
    let svg = timeline("1k", &["--boards", "1000"]);
    assert_eq!(every_board_accounted_for(&svg, 1000, 30), 3);
    assert!(svg.contains(">boards 1–25<") && svg.contains(">boards 976–1000<"));
    nothing_thinner_than(&svg, 1.0);
    // The sync panel is not empty: its boards wait, then play, in bands.
    let sync = &svg[svg.find("sync — finished").unwrap()..svg.find("async — finished").unwrap()];
    assert!(sync.matches("<path ").count() > 3, "{sync}");
    assert!(svg.contains("each row holds about 25 consecutive boards"));
}

#[test]
fn the_legend_names_the_four_states() {
    let svg = timeline("legend", &["--boards", "3", "--moves", "2"]);
    for state in [
        ">Judit moving<",
        ">opponent thinking<",
        ">waiting for Judit<",
        ">game over<",
    ] {
        assert!(svg.contains(state), "the legend misses {state}");
    }
    assert_eq!(every_board_accounted_for(&svg, 3, 2), 3);
}

#[test]
fn moves_of_about_a_pixel_stay_under_the_size_bound() {
    // Forty boards whose moves are each about a pixel wide: the worst case
    // for merging neighbours of equal colour.
    let svg = timeline(
        "noisy",
        &[
            "--boards",
            "40",
            "--moves",
            "400",
            "--master-move",
            "1s",
            "--opponent-move",
            "37s",
        ],
    );
    assert!(svg.len() < 1_200_000, "{} bytes", svg.len());
    assert_eq!(every_board_accounted_for(&svg, 40, 400), 3);
    nothing_thinner_than(&svg, 0.6);
}

#[test]
fn axis_ticks_are_round_times_from_zero() {
    for (name, args, unit) in [
        ("ax24", &["--boards", "24"][..], " h"),
        ("ax1k", &["--boards", "1000"][..], " d"),
        (
            "axs",
            &[
                "--boards",
                "2",
                "--moves",
                "1",
                "--master-move",
                "1s",
                "--opponent-move",
                "2s",
            ][..],
            " s",
        ),
    ] {
        let svg = timeline(name, args);
        let ticks = elements(&svg, "<text class=\"tick\"");
        assert!(ticks.len() >= 4, "{name}");
        let mut axes = 0;
        for tick in ticks {
            let t: f64 = attr(tick, "data-s").parse().unwrap();
            let step: f64 = attr(tick, "data-step").parse().unwrap();
            let multiple = t / step;
            assert!(
                (multiple - multiple.round()).abs() < 1e-9,
                "{name}: {t} is not a multiple of {step}"
            );
            // A step is 1, 2 or 5 of a unit, or a clock's 15 and 30
            // minutes or 3, 6 and 12 hours.
            let round = [0.001, 1.0, 60.0, 3600.0, 86_400.0].iter().any(|unit| {
                let m = step / unit;
                let decade = 10f64.powf(m.log10().floor());
                let lead = m / decade;
                [1.0, 2.0, 5.0].iter().any(|r| (lead - r).abs() < 1e-9)
            }) || [15.0, 30.0, 900.0, 1800.0, 10_800.0, 21_600.0, 43_200.0]
                .contains(&step);
            assert!(round, "{name}: step {step}");
            if t == 0.0 {
                axes += 1;
            }
        }
        assert!(axes >= 1, "{name}: an axis starts at 0");
        assert!(
            svg.contains(&format!("{unit}</text>")),
            "{name}: labels in{unit}"
        );
    }
}

#[test]
fn the_default_timeline_shows_twelve_hours_against_one() {
    let svg = timeline("default", &[]);
    // The shared axis reaches 12 h; the async panel's finish line is at
    // about a twelfth of the sync one's.
    assert!(svg.contains(">12 h</text>"));
    let finishes: Vec<f64> = elements(&svg, "<line x1=")
        .into_iter()
        .filter(|l| l.contains("#c0392b"))
        .map(|l| attr(l, "x1").parse().unwrap())
        .collect();
    assert_eq!(finishes.len(), 3, "a finish line per panel");
    let left = 130.0;
    let ratio = (finishes[0] - left) / (finishes[1] - left);
    assert!((ratio - 43_200.0 / 3_655.0).abs() < 0.1, "{ratio}");
}

#[test]
fn real_clock_runs_are_drawn_too() {
    let svg = timeline(
        "real",
        &[
            "--model",
            "threads,processes",
            "--boards",
            "3",
            "--moves",
            "2",
            "--speedup",
            "5000",
            "--no-progress",
        ],
    );
    assert!(svg.contains("threads — finished at") && svg.contains("processes — finished at"));
    // Two panels, and a third if one real-clock run took under half the
    // other's simulated time.
    assert!(every_board_accounted_for(&svg, 3, 2) >= 2);
}
