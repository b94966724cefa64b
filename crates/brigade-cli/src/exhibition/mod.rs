//! The chess simultaneous exhibition from the notebook, in four models.
//!
//! Judit Polgár plays `boards` opponents. She makes each move in
//! `master_move`, each opponent answers in `opponent_move`, and a game has
//! `moves` move pairs. Played synchronously (one game after another) the
//! notebook's numbers give 12 hours; played asynchronously (Judit moves from
//! board to board while the opponents think) about one hour.
//!
//! Every model plays the same games: a board waits for Judit, she moves
//! (holding herself, the one shared resource, for `master_move`), then its
//! opponent thinks for `opponent_move`. Boards waiting for Judit are served
//! first come, first served. The models differ in what a board is: nothing
//! (`sync`, one game after another), an event-loop task (`async`), a thread
//! (`threads`), or a child process (`processes`).

mod master;
mod processes;
mod sim;
mod sync;
pub mod table;
mod tasks;
mod threads;

use std::sync::Arc;
use std::time::Duration;

use crate::activity::Activity;

pub use sim::{Move, Sim, Who};

/// The exhibition's numbers.
#[derive(Clone, Debug)]
pub struct Params {
    pub boards: u64,
    pub master_move: Duration,
    pub opponent_move: Duration,
    pub moves: u64,
    /// On the real clock, one simulated second lasts `1 / speedup` s.
    pub speedup: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            boards: 24,
            master_move: Duration::from_secs(5),
            opponent_move: Duration::from_secs(55),
            moves: 30,
            speedup: 1000.0,
        }
    }
}

/// How simulated time passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// brigade's virtual clock: instant and deterministic.
    Virtual,
    /// Real time, scaled by the speed-up.
    Real,
}

/// Who plays the boards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    Sync,
    Async,
    Threads,
    Processes,
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Sync => "sync",
            Model::Async => "async",
            Model::Threads => "threads",
            Model::Processes => "processes",
        }
    }

    /// The clock a model runs on unless told otherwise.
    pub fn default_clock(self) -> Clock {
        match self {
            Model::Sync | Model::Async => Clock::Virtual,
            Model::Threads | Model::Processes => Clock::Real,
        }
    }

    /// The notebook's closed-form estimate: `boards × moves × (master +
    /// opponent)` one game after another; `boards × moves × master` when
    /// Judit never waits (she is the bottleneck).
    pub fn estimate(self, p: &Params) -> Duration {
        // The arguments' limits (at most 30,000,000 move pairs, within
        // brigade's clock) keep this inside a u32 and a Duration.
        let pairs = (p.boards * p.moves) as u32;
        match self {
            Model::Sync => (p.master_move + p.opponent_move) * pairs,
            _ => p.master_move * pairs,
        }
    }
}

/// One model's run.
#[derive(Debug)]
pub struct Outcome {
    pub model: Model,
    pub clock: Clock,
    /// When the last game ended, in simulated time.
    pub simulated: Duration,
    /// How long the run took for real.
    pub wall: Duration,
    /// What the run did, when it was asked to keep it (for the timeline).
    pub activity: Option<Activity>,
}

/// Runs `model`; `record` keeps every move for a timeline.
pub fn run(
    model: Model,
    clock: Clock,
    params: &Params,
    record: bool,
    trace: Option<&Arc<brigade::trace::Trace>>,
    progress: &Arc<std::sync::atomic::AtomicU64>,
) -> Result<Outcome, String> {
    let activity =
        record.then(|| Activity::new(params.boards, params.moves, model.estimate(params)));
    let sim = Sim::new(
        model,
        clock,
        params.speedup,
        activity,
        trace.cloned(),
        progress.clone(),
    );
    let started = std::time::Instant::now();
    let simulated = match model {
        Model::Sync => sync::play(params, &sim)?,
        Model::Async => tasks::play(params, &sim)?,
        Model::Threads => threads::play(params, &sim)?,
        Model::Processes => processes::play(params, &sim)?,
    };
    Ok(Outcome {
        model,
        clock,
        simulated,
        wall: started.elapsed(),
        activity: sim.take_activity(),
    })
}
