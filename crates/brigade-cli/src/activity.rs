//! What a run did, gathered for the timeline in memory that does not grow
//! with the run.
//!
//! A timeline cannot draw a million boards' sixty million moves, and need
//! not keep them: a pixel column shows how much of its time each row spent
//! in each state. So each move is added, as it ends, to fixed-size
//! histograms over time: one per row of the chart (Judit, and each group of
//! consecutive boards) and per state (Judit moving at the board, its
//! opponent thinking), plus when each game ended. A board's time that is in
//! none of these, before its game ends, is time spent waiting for Judit.
//!
//! The run's length is not known in advance, so the bins start narrow and
//! double in width (neighbours merge) whenever a move ends past the last
//! one, the way a streaming histogram with a fixed number of bins keeps its
//! resolution within a factor of two of the best (see Ben-Haim and
//! Tom-Tov, "A Streaming Parallel Decision Tree Algorithm", JMLR 2010,
//! for the general idea; here the bins stay equal in width). A move
//! that covers many bins is added in constant time through a difference
//! array over the bins it covers whole.
//!
//! Runs small enough to draw move by move also keep every move.

use std::time::Duration;

use crate::exhibition::{Move, Who};

/// Bins per histogram row: after the last doubling the run covers at least
/// half of them, more than the chart has pixel columns.
pub const BINS: usize = 4096;
/// Rows of boards on a chart; more boards are grouped, consecutive boards
/// sharing a row.
pub const MAX_ROWS: u64 = 40;
/// Moves kept one by one for the chart, at most (about 5 MB).
const MAX_KEPT_MOVES: usize = 100_000;

/// Time spent per bin, for several rows.
struct Histogram {
    /// Seconds added to single bins.
    partial: Vec<f64>,
    /// Difference array: `+1` where a run of wholly covered bins starts,
    /// `-1` after it ends.
    whole: Vec<f64>,
}

impl Histogram {
    fn new(rows: usize) -> Histogram {
        Histogram {
            partial: vec![0.0; rows * BINS],
            whole: vec![0.0; rows * BINS + 1],
        }
    }

    /// Adds `[start, end)` seconds to `row`, with bins `width` wide; `end`
    /// is below `BINS * width`.
    fn add(&mut self, row: usize, start: f64, end: f64, width: f64) {
        let base = row * BINS;
        let first = ((start / width) as usize).min(BINS - 1);
        let last = ((end / width) as usize).min(BINS - 1);
        if first == last {
            self.partial[base + first] += end - start;
            return;
        }
        self.partial[base + first] += (first + 1) as f64 * width - start;
        self.partial[base + last] += end - last as f64 * width;
        if last > first + 1 {
            self.whole[base + first + 1] += 1.0;
            self.whole[base + last] -= 1.0;
        }
    }

    /// Seconds in each bin of `row`.
    fn values(&self, row: usize, width: f64) -> Vec<f64> {
        let base = row * BINS;
        let mut covered = 0.0;
        (0..BINS)
            .map(|i| {
                covered += self.whole[base + i];
                self.partial[base + i] + covered * width
            })
            .collect()
    }

    /// Merges neighbouring bins: every row now spans twice the time.
    fn double(&mut self, rows: usize, width: f64) {
        for row in 0..rows {
            let values = self.values(row, width);
            let base = row * BINS;
            for i in 0..BINS {
                self.partial[base + i] = if i < BINS / 2 {
                    values[2 * i] + values[2 * i + 1]
                } else {
                    0.0
                };
            }
        }
        self.whole.iter_mut().for_each(|w| *w = 0.0);
    }
}

/// One model's run, summarised for drawing.
pub struct Activity {
    boards: u64,
    rows: u64,
    moves_per_game: u64,
    /// Seconds per bin.
    width: f64,
    /// Row 0: Judit at any board.
    judit: Histogram,
    /// Per row of boards: board-seconds of Judit's moves at them.
    master: Histogram,
    /// Per row of boards: board-seconds of their opponents' thinking.
    opponent: Histogram,
    /// Per row of boards: games that ended in each bin (a count; kept as
    /// seconds-free values in `partial`).
    ended: Histogram,
    /// Opponent moves so far, per board: the last one ends its game.
    replies: Vec<u32>,
    /// Moves per row of boards: Judit's, the opponents'.
    counts: Vec<[u64; 2]>,
    kept: Option<Vec<Move>>,
    end: f64,
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity")
            .field("boards", &self.boards)
            .field("rows", &self.rows)
            .field("bin_seconds", &self.width)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl Activity {
    /// Room for `boards` games of `moves` move pairs, expected to last
    /// about `expected` (the bins widen if they last longer).
    pub fn new(boards: u64, moves: u64, expected: Duration) -> Activity {
        let rows = boards.clamp(1, MAX_ROWS);
        let keep = boards <= MAX_ROWS
            && boards.saturating_mul(moves).saturating_mul(2) <= MAX_KEPT_MOVES as u64;
        Activity {
            boards,
            rows,
            moves_per_game: moves,
            width: (expected.as_secs_f64() / BINS as f64).max(1e-9),
            judit: Histogram::new(1),
            master: Histogram::new(rows as usize),
            opponent: Histogram::new(rows as usize),
            ended: Histogram::new(rows as usize),
            replies: vec![0; usize::try_from(boards).unwrap_or(0)],
            counts: vec![[0; 2]; rows as usize],
            kept: keep.then(Vec::new),
            end: 0.0,
        }
    }

    /// The row that draws `board`.
    pub fn row_of(&self, board: u64) -> u64 {
        board * self.rows / self.boards.max(1)
    }

    /// The boards a row draws, `first..end`.
    pub fn boards_of(&self, row: u64) -> std::ops::Range<u64> {
        let start = |r: u64| (r * self.boards).div_ceil(self.rows);
        start(row)..start(row + 1)
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Judit's and the opponents' moves drawn in `row`.
    pub fn counts(&self, row: u64) -> [u64; 2] {
        self.counts[row as usize]
    }

    /// Every move, if the run was small enough to keep them.
    pub fn kept(&self) -> Option<&[Move]> {
        self.kept.as_deref()
    }

    /// Notes a move.
    pub fn add(&mut self, m: Move) {
        if m.board >= self.boards {
            return;
        }
        let (start, end) = (m.start.as_secs_f64(), m.end.as_secs_f64());
        while end >= BINS as f64 * self.width {
            let rows = self.rows as usize;
            self.judit.double(1, self.width);
            self.master.double(rows, self.width);
            self.opponent.double(rows, self.width);
            self.ended.double(rows, self.width);
            self.width *= 2.0;
        }
        self.end = self.end.max(end);
        let row = self.row_of(m.board) as usize;
        match m.who {
            Who::Master => {
                self.judit.add(0, start, end, self.width);
                self.master.add(row, start, end, self.width);
                self.counts[row][0] += 1;
            }
            Who::Opponent => {
                self.opponent.add(row, start, end, self.width);
                self.counts[row][1] += 1;
                let replies = &mut self.replies[m.board as usize];
                *replies += 1;
                if u64::from(*replies) == self.moves_per_game {
                    let bin = ((end / self.width) as usize).min(BINS - 1);
                    self.ended.partial[row * BINS + bin] += 1.0;
                }
            }
        }
        if let Some(kept) = &mut self.kept {
            kept.push(m);
        }
    }

    /// What each row did over time, ready to be sampled by the chart.
    pub fn summary(&self) -> Summary {
        let rows = self.rows as usize;
        let cumulative = |values: Vec<f64>| {
            let mut sum = 0.0;
            let mut out = Vec::with_capacity(BINS + 1);
            out.push(0.0);
            for v in values {
                sum += v;
                out.push(sum);
            }
            out
        };
        let per_row = |h: &Histogram| {
            (0..rows)
                .map(|r| cumulative(h.values(r, self.width)))
                .collect()
        };
        Summary {
            width: self.width,
            judit: cumulative(self.judit.values(0, self.width)),
            master: per_row(&self.master),
            opponent: per_row(&self.opponent),
            ended: (0..rows)
                .map(|r| cumulative(self.ended.partial[r * BINS..(r + 1) * BINS].to_vec()))
                .collect(),
            sizes: (0..self.rows)
                .map(|r| self.boards_of(r).count() as f64)
                .collect(),
        }
    }
}

/// Running totals over the bins, so that any stretch of time can be read
/// in constant time.
pub struct Summary {
    width: f64,
    judit: Vec<f64>,
    master: Vec<Vec<f64>>,
    opponent: Vec<Vec<f64>>,
    ended: Vec<Vec<f64>>,
    sizes: Vec<f64>,
}

/// Shares of a row's board-time over a stretch, each in `0..=1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shares {
    pub master: f64,
    pub opponent: f64,
    pub waiting: f64,
}

impl Summary {
    /// The running total at `t` seconds, the last bin spread evenly.
    fn at(totals: &[f64], width: f64, t: f64) -> f64 {
        let bins = t / width;
        let i = (bins as usize).min(BINS);
        if i >= BINS {
            return totals[BINS];
        }
        let frac = bins - i as f64;
        totals[i] + (totals[i + 1] - totals[i]) * frac
    }

    /// The share of `[t0, t1)` Judit spent moving.
    pub fn judit(&self, t0: f64, t1: f64) -> f64 {
        let busy = Self::at(&self.judit, self.width, t1) - Self::at(&self.judit, self.width, t0);
        (busy / (t1 - t0)).clamp(0.0, 1.0)
    }

    /// How the boards of `row` spent `[t0, t1)`.
    pub fn row(&self, row: usize, t0: f64, t1: f64) -> Shares {
        let span =
            |totals: &[f64]| Self::at(totals, self.width, t1) - Self::at(totals, self.width, t0);
        let board_time = self.sizes[row] * (t1 - t0);
        let master = span(&self.master[row]) / board_time;
        let opponent = span(&self.opponent[row]) / board_time;
        let over = Self::at(&self.ended[row], self.width, (t0 + t1) / 2.0) / self.sizes[row];
        let master = master.clamp(0.0, 1.0);
        let opponent = opponent.clamp(0.0, 1.0 - master);
        let waiting = (1.0 - over - master - opponent).clamp(0.0, 1.0);
        Shares {
            master,
            opponent,
            waiting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(board: u64, who: Who, start: u64, end: u64) -> Move {
        Move {
            board,
            who,
            start: Duration::from_secs(start),
            end: Duration::from_secs(end),
        }
    }

    #[test]
    fn boards_are_grouped_into_rows_that_cover_them_all_once() {
        for boards in [1, 7, 40, 41, 1000, 99_999] {
            let a = Activity::new(boards, 1, Duration::from_secs(1));
            let mut next = 0;
            for row in 0..a.rows() {
                let range = a.boards_of(row);
                assert_eq!(range.start, next, "{boards}");
                assert!(!range.is_empty());
                for board in [range.start, range.end - 1] {
                    assert_eq!(a.row_of(board), row, "{boards}: board {board}");
                }
                next = range.end;
            }
            assert_eq!(next, boards);
        }
    }

    #[test]
    fn time_is_kept_through_doublings() {
        // Expected 10 s, lasts 10,000 s: the bins double ten times.
        let mut a = Activity::new(2, 2, Duration::from_secs(10));
        a.add(mv(0, Who::Master, 0, 5));
        a.add(mv(0, Who::Opponent, 5, 9_000));
        a.add(mv(1, Who::Master, 9_000, 9_005));
        a.add(mv(0, Who::Master, 9_005, 9_010));
        let s = a.summary();
        let whole = 10_000.0;
        assert!((s.judit(0.0, whole) * whole - 15.0).abs() < 1e-6);
        let row0 = s.row(0, 0.0, whole);
        assert!((row0.opponent * whole - 8_995.0).abs() < 1e-6);
        assert!((row0.master * whole - 10.0).abs() < 1e-6);
        assert_eq!(a.counts(0), [2, 1]);
        assert_eq!(a.counts(1), [1, 0]);
    }

    #[test]
    fn a_finished_game_stops_waiting() {
        let mut a = Activity::new(1, 1, Duration::from_secs(100));
        a.add(mv(0, Who::Master, 10, 20));
        a.add(mv(0, Who::Opponent, 20, 50));
        let s = a.summary();
        // Within a bin, time is read as spread evenly: a bin is 1/4096 of
        // the expected 100 s.
        let before = s.row(0, 0.0, 9.9);
        assert!((before.waiting - 1.0).abs() < 1e-9, "{before:?}");
        let during = s.row(0, 10.1, 19.9);
        assert!((during.master - 1.0).abs() < 1e-9, "{during:?}");
        let after = s.row(0, 60.0, 90.0);
        assert_eq!(
            after.waiting + after.master + after.opponent,
            0.0,
            "{after:?}"
        );
    }
}
