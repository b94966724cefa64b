//! The results, as a table for people or JSON for programs.

use std::fmt::Write;

use super::{Clock, Model, Outcome, Params};
use crate::duration::{format_hms, format_wall};

fn clock_name(clock: Clock) -> &'static str {
    match clock {
        Clock::Virtual => "virtual",
        Clock::Real => "real",
    }
}

/// Simulated speed-up over playing one game after another.
fn speedup(params: &Params, outcome: &Outcome) -> f64 {
    Model::Sync.estimate(params).as_secs_f64()
        / outcome.simulated.as_secs_f64().max(f64::MIN_POSITIVE)
}

pub fn render(params: &Params, outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Chess simultaneous exhibition: {} boards, {} move pairs, Judit {:?} per move, opponents {:?}\n",
        params.boards, params.moves, params.master_move, params.opponent_move
    );
    let header = [
        "model",
        "clock",
        "simulated",
        "wall time",
        "speed-up",
        "notebook estimate",
    ];
    let rows: Vec<[String; 6]> = outcomes
        .iter()
        .map(|o| {
            [
                o.model.name().to_string(),
                clock_name(o.clock).to_string(),
                format_hms(o.simulated),
                format_wall(o.wall),
                format!("{:.2}×", speedup(params, o)),
                format_hms(o.model.estimate(params)),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i < 2 {
                let _ = write!(s, "{cell}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(s, "{}{cell}  ", " ".repeat(pad));
            }
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(header));
    for row in &rows {
        let cells = [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]].map(|s| s.as_str());
        let _ = writeln!(out, "{}", line(cells));
    }
    out
}

/// The version of the `--json` output's schema (documented in `brigade
/// help`): raised whenever a field changes meaning or goes away; new
/// fields may appear without a raise.
pub const SCHEMA_VERSION: u32 = 1;

pub fn json(params: &Params, outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "{{\"schema_version\":{SCHEMA_VERSION},\"params\":{{\"boards\":{},\"moves\":{},\"master_move_s\":{},\"opponent_move_s\":{}}},\"results\":[",
        params.boards,
        params.moves,
        params.master_move.as_secs_f64(),
        params.opponent_move.as_secs_f64()
    );
    for (i, o) in outcomes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"model\":\"{}\",\"clock\":\"{}\",\"simulated_s\":{},\"simulated\":\"{}\",\"wall_s\":{},\
             \"speedup\":{:.4},\"estimate_s\":{},\"estimate\":\"{}\"}}",
            o.model.name(),
            clock_name(o.clock),
            o.simulated.as_secs_f64(),
            format_hms(o.simulated),
            o.wall.as_secs_f64(),
            speedup(params, o),
            o.model.estimate(params).as_secs_f64(),
            format_hms(o.model.estimate(params)),
        );
    }
    out.push_str("]}\n");
    out
}
