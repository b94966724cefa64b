//! The exhibition as a Gantt chart in SVG: one panel per model, all on one
//! time scale, so the synchronous twelve hours and the asynchronous one hour
//! can be compared at a glance. In each panel the first row is Judit (her
//! moves coloured by board) and each further row a board (Judit's moves in
//! the board's colour, the opponent's thinking in grey). A run much shorter
//! than the longest is drawn once more on a scale of its own, where Judit
//! can be seen moving from board to board.

use std::fmt::Write;
use std::time::Duration;

use crate::duration::format_hms;
use crate::exhibition::{Move, Outcome, Params, Who};

const WIDTH: f64 = 1200.0;
const LEFT: f64 = 110.0;
const RIGHT: f64 = 40.0;
const ROW: f64 = 14.0;
/// Boards drawn per panel; the rest are summarised in a note.
const MAX_ROWS: u64 = 40;
/// Above this many of Judit's moves, her row is drawn as merged busy spans.
const MAX_MASTER_RECTS: usize = 5_000;

pub fn render(params: &Params, outcomes: &[Outcome]) -> String {
    let longest = outcomes
        .iter()
        .map(|o| o.simulated)
        .max()
        .unwrap_or(Duration::from_secs(1));
    let span = longest.as_secs_f64().max(1.0);
    let zoomed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.simulated.as_secs_f64() * 2.0 < span)
        .collect();
    let rows = params.boards.min(MAX_ROWS);
    let panel_height = (rows as f64 + 1.0) * ROW + 50.0;
    let axis_height = 40.0;
    let height = 60.0
        + panel_height * outcomes.len() as f64
        + axis_height
        + (panel_height + axis_height) * zoomed.len() as f64;
    let scale =
        |span: f64| move |t: Duration| LEFT + t.as_secs_f64() / span * (WIDTH - LEFT - RIGHT);
    let x = scale(span);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Judit Polgár's simultaneous exhibition: \
         {} boards, {} move pairs, {}s per move for Judit, {}s per opponent move</text>",
        params.boards,
        params.moves,
        params.master_move.as_secs_f64(),
        params.opponent_move.as_secs_f64()
    );
    for (i, outcome) in outcomes.iter().enumerate() {
        let top = 50.0 + panel_height * i as f64;
        panel(&mut svg, params, outcome, top, rows, &x, "");
    }
    let mut top = 50.0 + panel_height * outcomes.len() as f64;
    axis(&mut svg, span, top + 5.0, &x);
    for outcome in zoomed {
        top += axis_height;
        let own = outcome.simulated.as_secs_f64().max(1.0);
        let x = scale(own);
        panel(
            &mut svg,
            params,
            outcome,
            top,
            rows,
            &x,
            " (zoomed to its own time scale)",
        );
        top += panel_height;
        axis(&mut svg, own, top + 5.0, &x);
    }
    svg.push_str("</svg>\n");
    svg
}

fn colour(board: u64, boards: u64) -> String {
    let hue = (board * 360 / boards.max(1)) % 360;
    format!("hsl({hue},65%,50%)")
}

fn panel(
    svg: &mut String,
    params: &Params,
    outcome: &Outcome,
    top: f64,
    rows: u64,
    x: &dyn Fn(Duration) -> f64,
    note: &str,
) {
    let _ = writeln!(
        svg,
        "<text x=\"4\" y=\"{}\" font-weight=\"bold\">{} — finished at {}{note}</text>",
        top + 10.0,
        outcome.model.name(),
        format_hms(outcome.simulated)
    );
    let row_y = |row: u64| top + 18.0 + row as f64 * ROW;
    let _ = writeln!(svg, "<text x=\"4\" y=\"{}\">Judit</text>", row_y(0) + 10.0);
    for board in 0..rows {
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"{}\">board {}</text>",
            row_y(board + 1) + 10.0,
            board + 1
        );
    }
    let master: Vec<&Move> = outcome
        .moves
        .iter()
        .filter(|m| m.who == Who::Master)
        .collect();
    if master.len() <= MAX_MASTER_RECTS {
        for m in &master {
            rect(
                svg,
                x(m.start),
                row_y(0),
                x(m.end) - x(m.start),
                &colour(m.board, params.boards),
            );
        }
    } else {
        for (start, end) in merged(&master) {
            rect(
                svg,
                x(start),
                row_y(0),
                x(end) - x(start),
                "hsl(210,60%,45%)",
            );
        }
    }
    for m in outcome.moves.iter().filter(|m| m.board < rows) {
        let fill = match m.who {
            Who::Master => colour(m.board, params.boards),
            Who::Opponent => "#c8c8c8".to_string(),
        };
        rect(
            svg,
            x(m.start),
            row_y(m.board + 1),
            x(m.end) - x(m.start),
            &fill,
        );
    }
    if params.boards > rows {
        let _ = writeln!(
            svg,
            "<text x=\"{LEFT}\" y=\"{}\" fill=\"#555\">… and {} more boards, not drawn</text>",
            row_y(rows + 1) + 10.0,
            params.boards - rows
        );
    }
}

fn rect(svg: &mut String, x: f64, y: f64, w: f64, fill: &str) {
    let _ = writeln!(
        svg,
        "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{:.1}\" fill=\"{fill}\"/>",
        w.max(0.5),
        ROW - 3.0
    );
}

/// Judit's moves merged into continuous busy spans.
fn merged(moves: &[&Move]) -> Vec<(Duration, Duration)> {
    let mut spans: Vec<(Duration, Duration)> = moves.iter().map(|m| (m.start, m.end)).collect();
    spans.sort();
    let mut out: Vec<(Duration, Duration)> = Vec::new();
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

fn axis(svg: &mut String, span: f64, y: f64, x: &dyn Fn(Duration) -> f64) {
    let steps = [
        60.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0, 604800.0,
    ];
    let step = steps
        .iter()
        .copied()
        .find(|s| span / s <= 14.0)
        .unwrap_or(span / 10.0);
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#333\"/>",
        WIDTH - RIGHT
    );
    let mut t = 0.0;
    while t <= span + 0.5 {
        let at = x(Duration::from_secs_f64(t));
        let _ = writeln!(
            svg,
            "<line x1=\"{at:.1}\" y1=\"{}\" x2=\"{at:.1}\" y2=\"{}\" stroke=\"#333\"/>\
             <text x=\"{at:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            y - 4.0,
            y + 4.0,
            y + 16.0,
            format_hms(Duration::from_secs_f64(t))
        );
        t += step;
    }
}
