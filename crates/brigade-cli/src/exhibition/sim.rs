//! The simulation's clock and log: the same model code runs on brigade's
//! virtual clock or on the real one scaled by a speed-up.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brigade::trace::{Trace, Track};

use super::{Clock, Model};
use crate::activity::Activity;

/// Who made a move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Master,
    Opponent,
}

/// One move on one board, in simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    pub board: u64,
    pub who: Who,
    pub start: Duration,
    pub end: Duration,
}

/// Shared by every board of one run. Cheap to clone, `Send`.
#[derive(Clone)]
pub struct Sim {
    model: Model,
    clock: Clock,
    speedup: f64,
    origin: Arc<Mutex<Option<brigade::time::Instant>>>,
    activity: Option<Arc<Mutex<Option<Activity>>>>,
    trace: Option<Arc<Trace>>,
    progress: Arc<AtomicU64>,
}

impl Sim {
    pub fn new(
        model: Model,
        clock: Clock,
        speedup: f64,
        activity: Option<Activity>,
        trace: Option<Arc<Trace>>,
        progress: Arc<AtomicU64>,
    ) -> Sim {
        Sim {
            model,
            clock,
            speedup,
            origin: Arc::new(Mutex::new(None)),
            activity: activity.map(|a| Arc::new(Mutex::new(Some(a)))),
            trace,
            progress,
        }
    }

    /// The runtime a model's event loop should use.
    pub fn runtime(&self) -> Result<brigade::Runtime, String> {
        // No slow-poll warnings (on by default in debug builds): standard
        // error carries the run's errors, one line each, and a poll made
        // slow by a busy machine is none.
        let mut builder = brigade::Runtime::builder()
            .virtual_clock(self.clock == Clock::Virtual)
            .slow_callback_duration(None);
        if let Some(trace) = &self.trace {
            builder = builder.trace(trace);
        }
        builder
            .build()
            .map_err(|e| format!("cannot start the event loop: {e}"))
    }

    /// Marks time zero (call once, on the loop, before the games start).
    pub fn start(&self) {
        *self.origin.lock().unwrap() = Some(brigade::time::Instant::now());
    }

    /// Simulated time since `start`.
    pub fn now(&self) -> Duration {
        let origin = self.origin.lock().unwrap().expect("Sim::start was called");
        let real = origin.elapsed();
        match self.clock {
            Clock::Virtual => real,
            Clock::Real => real.mul_f64(self.speedup),
        }
    }

    /// Simulated time at `instant` (on the real clock; not before `start`).
    pub fn at(&self, instant: std::time::Instant) -> Duration {
        let origin = self.origin.lock().unwrap().expect("Sim::start was called");
        let real = instant.saturating_duration_since(origin.into_std());
        match self.clock {
            Clock::Virtual => real,
            Clock::Real => real.mul_f64(self.speedup),
        }
    }

    /// Simulated time at `instant` of the loop's clock (virtual or real).
    pub fn at_loop(&self, instant: brigade::time::Instant) -> Duration {
        let origin = self.origin.lock().unwrap().expect("Sim::start was called");
        let real = instant.saturating_duration_since(origin);
        match self.clock {
            Clock::Virtual => real,
            Clock::Real => real.mul_f64(self.speedup),
        }
    }

    /// How long to really wait for `simulated` time to pass.
    pub fn scaled(&self, simulated: Duration) -> Duration {
        match self.clock {
            Clock::Virtual => simulated,
            Clock::Real => simulated.div_f64(self.speedup),
        }
    }

    /// Sleeps on the loop for `simulated` time.
    pub async fn sleep(&self, simulated: Duration) {
        brigade::sleep(self.scaled(simulated)).await
    }

    /// Notes that `who` moved on `board` from `start` until now.
    pub fn moved(&self, board: u64, who: Who, start: Duration) {
        self.moved_until(board, who, start, self.now());
    }

    /// Notes that `who` moved on `board` from `start` until `end`.
    pub fn moved_until(&self, board: u64, who: Who, start: Duration, end: Duration) {
        self.progress.fetch_add(1, Ordering::Relaxed);
        if let Some(activity) = &self.activity {
            if let Some(activity) = &mut *activity.lock().unwrap() {
                activity.add(Move {
                    board,
                    who,
                    start,
                    end,
                });
            }
        }
        if let Some(trace) = &self.trace {
            let (track, name): (Cow<'static, str>, Cow<'static, str>) = match who {
                Who::Master => (
                    format!("{}: Judit", self.model.name()).into(),
                    format!("board {}", board + 1).into(),
                ),
                Who::Opponent => (
                    format!("{}: board {}", self.model.name(), board + 1).into(),
                    "opponent".into(),
                ),
            };
            trace.span(Track::Named(track), "move", name, start, end - start);
        }
    }

    /// What the run did, for the timeline, if it was asked to keep it.
    pub fn take_activity(&self) -> Option<Activity> {
        self.activity
            .as_ref()
            .and_then(|a| a.lock().unwrap().take())
    }
}
