//! The exhibition as a Gantt chart in SVG, readable at any number of
//! boards: one panel per model, all on one time scale, so the synchronous
//! twelve hours and the asynchronous one hour can be compared at a glance.
//!
//! In each panel the first row is Judit and each further row a board, or,
//! past [`MAX_ROWS`](crate::activity::MAX_ROWS) boards, a group of
//! consecutive boards. A board is in one of four states: Judit is moving
//! at it (blue), its opponent is thinking (grey), it waits for Judit
//! (sand), or its game is over (white). Where a row is a group, or a move
//! is narrower than a pixel, the row is drawn as a density band: each
//! pixel column blends the four colours in proportion to the board-time
//! spent in each state (from [`Activity`](crate::activity::Activity)), so
//! nothing falls below a pixel and disappears. Runs of equal colour merge
//! into one stroke, and if the chart would still take too many strokes
//! the columns widen, which keeps the file near a megabyte at most.
//!
//! A run much shorter than the longest is drawn once more on a scale of
//! its own, where, with few boards, Judit can be seen moving from board to
//! board.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::activity::{Activity, Shares, Summary};
use crate::axis;
use crate::duration::format_hms;
use crate::exhibition::{Outcome, Params, Who};

const WIDTH: f64 = 1200.0;
const LEFT: f64 = 130.0;
const RIGHT: f64 = 40.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;
const ROW: f64 = 12.0;
const BAR: f64 = 10.0;
const HEADER: f64 = 84.0;
const AXIS: f64 = 34.0;

const JUDIT: [f64; 3] = [37.0, 99.0, 178.0];
const OPPONENT: [f64; 3] = [150.0, 150.0, 150.0];
const WAITING: [f64; 3] = [238.0, 196.0, 110.0];
const OVER: [f64; 3] = [255.0, 255.0, 255.0];

/// The most bytes the panels take; the header, legend and labels add a few
/// kilobytes, so a chart stays under about a megabyte.
const MAX_BYTES: usize = 900_000;
/// Bytes a move drawn as a rectangle takes, about (Judit's moves are drawn
/// twice: in her row and in the board's).
const RECT_BYTES: usize = 110;
/// Widest pixel column a band is sampled in.
const MAX_COLUMN: f64 = 16.0;
/// Widest window, in pixels, a band column averages over.
const MAX_WINDOW: f64 = 6.0;

/// One panel to draw: a run on a time scale.
struct Panel<'a> {
    outcome: &'a Outcome,
    activity: &'a Activity,
    summary: Summary,
    span: f64,
    zoomed: bool,
}

impl Panel<'_> {
    fn x(&self, t: f64) -> f64 {
        LEFT + t / self.span * PLOT
    }

    fn height(&self) -> f64 {
        20.0 + (self.activity.rows() as f64 + 1.0) * ROW + 8.0
    }

    /// Moves one by one, when the run kept them, every move is at least a
    /// pixel wide, and they fit in `budget` bytes.
    fn exact(&self, params: &Params, budget: usize) -> bool {
        let shortest = params.master_move.min(params.opponent_move).as_secs_f64();
        self.activity.kept().is_some_and(|moves| {
            shortest / self.span * PLOT >= 1.0 && moves.len() * RECT_BYTES <= budget
        })
    }
}

/// Draws the runs' timeline; runs without an activity record are skipped.
pub fn render(params: &Params, outcomes: &[Outcome]) -> String {
    let recorded: Vec<(&Outcome, &Activity)> = outcomes
        .iter()
        .filter_map(|o| o.activity.as_ref().map(|a| (o, a)))
        .collect();
    let longest = recorded
        .iter()
        .map(|(o, _)| o.simulated.as_secs_f64())
        .fold(1e-3, f64::max);
    let mut panels: Vec<Panel> = recorded
        .iter()
        .map(|&(outcome, activity)| Panel {
            outcome,
            activity,
            summary: activity.summary(),
            span: longest,
            zoomed: false,
        })
        .collect();
    for &(outcome, activity) in &recorded {
        let own = outcome.simulated.as_secs_f64();
        if own * 2.0 < longest && own > 0.0 {
            panels.push(Panel {
                outcome,
                activity,
                summary: activity.summary(),
                span: own,
                zoomed: true,
            });
        }
    }
    // Finer columns first; wider ones only if the file would grow too
    // large. At the widest, a band panel takes some 40 kB.
    let share = MAX_BYTES / panels.len().max(1);
    let mut column = 1.0;
    let mut body = draw(params, &panels, column, share);
    while body.len() > MAX_BYTES && column < MAX_COLUMN {
        column *= 2.0;
        body = draw(params, &panels, column, share);
    }
    let height = HEADER
        + panels.iter().map(Panel::height).sum::<f64>()
        + AXIS * (1 + panels.iter().filter(|p| p.zoomed).count()) as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        svg,
        "<text x=\"4\" y=\"22\" font-size=\"16\" font-weight=\"bold\">Judit Polgár's simultaneous exhibition: \
         {} boards, {} move pairs, {}s per move for Judit, {}s per opponent move</text>",
        params.boards,
        params.moves,
        params.master_move.as_secs_f64(),
        params.opponent_move.as_secs_f64()
    );
    legend(&mut svg, params, panels.first().map(|p| p.activity));
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

fn legend(svg: &mut String, params: &Params, activity: Option<&Activity>) {
    let mut x = 4.0;
    for (colour, text) in [
        (JUDIT, "Judit moving"),
        (OPPONENT, "opponent thinking"),
        (WAITING, "waiting for Judit"),
        (OVER, "game over"),
    ] {
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"36\" width=\"18\" height=\"{BAR}\" fill=\"{}\" stroke=\"#888\" stroke-width=\"0.5\"/>\
             <text x=\"{}\" y=\"45\">{text}</text>",
            hex(colour),
            x + 24.0
        );
        x += 24.0 + 7.0 * text.len() as f64 + 20.0;
    }
    let per_row = activity.map_or(1, |a| params.boards.div_ceil(a.rows()));
    let grouping = if per_row > 1 {
        format!("each row holds about {per_row} consecutive boards; ")
    } else {
        String::new()
    };
    let _ = writeln!(
        svg,
        "<text x=\"4\" y=\"64\" fill=\"#444\">Dense rows blend the colours by the share of board-time in each \
         state: {grouping}pale blue in Judit's row means she is idle part of the time.</text>"
    );
}

/// Every panel and axis.
fn draw(params: &Params, panels: &[Panel], column: f64, share: usize) -> String {
    let mut svg = String::new();
    let mut top = HEADER;
    let shared = panels.iter().filter(|p| !p.zoomed).count();
    for (i, panel) in panels.iter().enumerate() {
        draw_panel(&mut svg, params, panel, top, column, share);
        top += panel.height();
        if panel.zoomed || i + 1 == shared {
            let first = if panel.zoomed {
                top - panel.height()
            } else {
                HEADER
            };
            axis(&mut svg, panel, first, top);
            top += AXIS;
        }
    }
    svg
}

fn draw_panel(
    svg: &mut String,
    params: &Params,
    panel: &Panel,
    top: f64,
    column: f64,
    share: usize,
) {
    let outcome = panel.outcome;
    let activity = panel.activity;
    let _ = writeln!(
        svg,
        "<text x=\"4\" y=\"{}\" font-weight=\"bold\">{} — finished at {}{}</text>",
        top + 13.0,
        outcome.model.name(),
        format_hms(outcome.simulated),
        if panel.zoomed {
            " (zoomed to its own time scale)"
        } else {
            ""
        }
    );
    let row_y = |row: u64| top + 20.0 + row as f64 * ROW;
    let _ = writeln!(svg, "<text x=\"4\" y=\"{}\">Judit</text>", row_y(0) + 9.0);
    for row in 0..activity.rows() {
        let boards = activity.boards_of(row);
        let [judit, opponent] = activity.counts(row);
        let name = if boards.end - boards.start == 1 {
            format!("board {}", boards.end)
        } else {
            format!("boards {}–{}", boards.start + 1, boards.end)
        };
        let _ = writeln!(
            svg,
            "<text class=\"row\" data-boards=\"{}-{}\" data-judit-moves=\"{judit}\" \
             data-opponent-moves=\"{opponent}\" x=\"4\" y=\"{}\">{name}</text>",
            boards.start + 1,
            boards.end,
            row_y(row + 1) + 9.0,
        );
    }
    if panel.exact(params, share) {
        exact(svg, panel, &row_y);
    } else {
        let pair = (params.master_move + params.opponent_move).as_secs_f64();
        bands(svg, panel, &row_y, column, pair);
    }
    let finish = panel.x(outcome.simulated.as_secs_f64());
    let _ = writeln!(
        svg,
        "<line x1=\"{finish:.1}\" y1=\"{}\" x2=\"{finish:.1}\" y2=\"{}\" stroke=\"#c0392b\" stroke-width=\"1.5\"/>",
        row_y(0) - 2.0,
        row_y(activity.rows() + 1)
    );
}

/// Every move as a rectangle, over each board's waiting time.
fn exact(svg: &mut String, panel: &Panel, row_y: &dyn Fn(u64) -> f64) {
    let moves = panel.activity.kept().unwrap_or_default();
    let mut game_end = vec![0.0_f64; panel.activity.rows() as usize];
    for m in moves {
        let row = panel.activity.row_of(m.board) as usize;
        game_end[row] = game_end[row].max(m.end.as_secs_f64());
    }
    for (row, end) in game_end.iter().enumerate() {
        rect(
            svg,
            panel.x(0.0),
            row_y(row as u64 + 1),
            panel.x(*end) - LEFT,
            WAITING,
        );
    }
    for m in moves {
        let (x0, x1) = (panel.x(m.start.as_secs_f64()), panel.x(m.end.as_secs_f64()));
        // A hairline gap keeps consecutive moves apart.
        let width = (x1 - x0 - 0.4).max(0.6);
        let row = panel.activity.row_of(m.board) + 1;
        match m.who {
            Who::Master => {
                rect(svg, x0, row_y(0), width, JUDIT);
                rect(svg, x0, row_y(row), width, JUDIT);
            }
            Who::Opponent => rect(svg, x0, row_y(row), width, OPPONENT),
        }
    }
}

fn rect(svg: &mut String, x: f64, y: f64, w: f64, colour: [f64; 3]) {
    let _ = writeln!(
        svg,
        "<rect x=\"{x:.2}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{BAR}\" fill=\"{}\"/>",
        hex(colour)
    );
}

/// Each row sampled in columns `column` pixels wide; equal neighbours
/// merge, and each colour is one path of horizontal strokes.
///
/// A column averages over a window of at least two move pairs (up to
/// [`MAX_WINDOW`] pixels): the games repeat with about that period, and
/// sampled in narrower columns they would draw moiré stripes instead of
/// an even tint.
fn bands(svg: &mut String, panel: &Panel, row_y: &dyn Fn(u64) -> f64, column: f64, pair: f64) {
    let columns = (PLOT / column).ceil() as usize;
    let seconds = panel.span / PLOT * column;
    let window = (2.0 * pair).clamp(seconds, seconds.max(MAX_WINDOW * panel.span / PLOT));
    let end = panel.outcome.simulated.as_secs_f64();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    let rows = panel.activity.rows() as usize;
    for row in 0..=rows {
        let y = row_y(row as u64) + BAR / 2.0;
        let mut run: Option<(String, usize)> = None;
        let mut flush = |run: Option<(String, usize)>, upto: usize| {
            if let Some((colour, from)) = run {
                let path = paths.entry(colour).or_default();
                let x0 = LEFT + from as f64 * column;
                let x1 = (LEFT + upto as f64 * column).min(LEFT + PLOT);
                let _ = write!(path, "M{x0:.1} {y}h{:.1}", x1 - x0);
            }
        };
        for c in 0..columns {
            let middle = (c as f64 + 0.5) * seconds;
            let t0 = (middle - window / 2.0).max(0.0);
            let t1 = (middle + window / 2.0).min(end);
            let colour = if c as f64 * seconds >= end || t1 <= t0 {
                None
            } else if row == 0 {
                let busy = panel.summary.judit(t0, t1);
                Some(blend(Shares {
                    master: busy,
                    opponent: 0.0,
                    waiting: 0.0,
                }))
            } else {
                Some(blend(panel.summary.row(row - 1, t0, t1)))
            }
            .filter(|c| c != "#ffffff");
            match (&run, colour) {
                (Some((same, _)), Some(colour)) if *same == colour => {}
                (_, colour) => {
                    flush(run.take(), c);
                    run = colour.map(|colour| (colour, c));
                }
            }
        }
        flush(run, columns);
    }
    for (colour, d) in paths {
        let _ = writeln!(
            svg,
            "<path fill=\"none\" stroke=\"{colour}\" stroke-width=\"{BAR}\" d=\"{d}\"/>"
        );
    }
}

/// The four states' colours mixed by their shares, rounded to steps of 8
/// so that nearly equal neighbours merge.
fn blend(s: Shares) -> String {
    let over = (1.0 - s.master - s.opponent - s.waiting).max(0.0);
    let mut mixed = [0.0; 3];
    for (i, channel) in mixed.iter_mut().enumerate() {
        *channel = s.master * JUDIT[i]
            + s.opponent * OPPONENT[i]
            + s.waiting * WAITING[i]
            + over * OVER[i];
    }
    hex(mixed.map(|c| ((c / 8.0).round() * 8.0).min(255.0)))
}

fn hex(rgb: [f64; 3]) -> String {
    let [r, g, b] = rgb.map(|c| c.round().clamp(0.0, 255.0) as u8);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The time axis under `panel`, with light grid lines up to `first`.
fn axis(svg: &mut String, panel: &Panel, first: f64, y: f64) {
    let y = y + 6.0;
    let (step, ticks) = axis::ticks(panel.span);
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#333\"/>",
        LEFT + PLOT
    );
    for t in ticks {
        let at = panel.x(t);
        let _ = writeln!(
            svg,
            "<line x1=\"{at:.1}\" y1=\"{}\" x2=\"{at:.1}\" y2=\"{y}\" stroke=\"#ddd\" stroke-width=\"0.5\"/>\
             <line x1=\"{at:.1}\" y1=\"{y}\" x2=\"{at:.1}\" y2=\"{}\" stroke=\"#333\"/>\
             <text class=\"tick\" data-s=\"{t}\" data-step=\"{step}\" x=\"{at:.1}\" y=\"{}\" \
             text-anchor=\"middle\">{}</text>",
            first + 18.0,
            y + 4.0,
            y + 16.0,
            axis::label(t, step)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#555\">simulated time</text>",
        LEFT - 8.0,
        y + 16.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blending_keeps_pure_states_and_mixes_the_rest() {
        let pure = |master, opponent, waiting| {
            blend(Shares {
                master,
                opponent,
                waiting,
            })
        };
        assert_eq!(pure(0.0, 0.0, 0.0), "#ffffff");
        assert_eq!(pure(0.0, 1.0, 0.0), "#989898");
        assert_ne!(pure(0.5, 0.0, 0.5), pure(0.0, 0.0, 1.0));
    }
}
