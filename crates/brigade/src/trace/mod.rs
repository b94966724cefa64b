//! Tracing: a record of what the runtime did, as a timeline a person can
//! look at.
//!
//! A [`Trace`] collects events from event loops (task spawns, polls,
//! wake-ups, timer waits, waits for I/O), threads and processes (their
//! lifetimes, once [`set_global`] names the trace), and writes them as a
//! Chrome/Perfetto trace-event JSON file: open it at `ui.perfetto.dev` or in
//! `chrome://tracing`. Each loop, thread and process gets its own track.
//! Timestamps on a loop are read from the loop's clock, so a trace of a
//! virtual-clock run shows simulated time.
//!
//! Tracing costs one branch per event while disabled.
//!
//! ```
//! use std::time::Duration;
//! use brigade::trace::Trace;
//!
//! let trace = Trace::new();
//! let rt = brigade::Runtime::builder().virtual_clock(true).trace(&trace).build().unwrap();
//! rt.block_on(async {
//!     let task = brigade::spawn_named("sleeper", brigade::sleep(Duration::from_secs(5)));
//!     task.await.unwrap();
//! });
//! let json = trace.to_chrome_json();
//! assert!(json.contains("\"name\":\"sleeper\""));
//! ```

mod chrome;

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A shared, thread-safe recorder of runtime events.
#[derive(Debug)]
pub struct Trace {
    events: Mutex<Vec<Event>>,
    origin: std::time::Instant,
}

/// Where an event is drawn.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Track {
    /// An event loop, by its number: its polls and wake-ups.
    Loop(u64),
    /// One task of a loop: what it waited for.
    Task {
        /// The loop's number.
        loop_id: u64,
        /// The task's id.
        task: u64,
    },
    /// A thread, by its brigade ident.
    Thread(u64),
    /// A process, by its pid.
    Process(u32),
    /// A track named by the program (a board of the exhibition, say).
    Named(Cow<'static, str>),
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Something that lasted from `at` for `duration` (a poll, a thread's
    /// life, a sleep).
    Span {
        /// How long it lasted.
        duration: Duration,
    },
    /// Something that happened at one instant (a spawn, a wake-up).
    Instant,
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The track it belongs to.
    pub track: Track,
    /// What it is called (a task's name, `poll`, `sleep`, ...).
    pub name: Cow<'static, str>,
    /// A category: `task`, `poll`, `wake`, `timer`, `thread`, `process`, ...
    pub category: &'static str,
    /// When it happened, since the trace's origin (or, on a virtual loop,
    /// since the loop started).
    pub at: Duration,
    /// A span or an instant.
    pub kind: Kind,
}

impl Trace {
    /// An empty trace, shared so that loops, threads and processes can all
    /// record into it.
    pub fn new() -> Arc<Trace> {
        Arc::new(Trace {
            events: Mutex::new(Vec::new()),
            origin: std::time::Instant::now(),
        })
    }

    /// Time since the trace began, on the real clock.
    pub fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Records an event.
    pub fn record(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }

    /// Records a span.
    pub fn span(
        &self,
        track: Track,
        category: &'static str,
        name: impl Into<Cow<'static, str>>,
        at: Duration,
        duration: Duration,
    ) {
        self.record(Event {
            track,
            name: name.into(),
            category,
            at,
            kind: Kind::Span { duration },
        });
    }

    /// Records an instant.
    pub fn instant(
        &self,
        track: Track,
        category: &'static str,
        name: impl Into<Cow<'static, str>>,
        at: Duration,
    ) {
        self.record(Event {
            track,
            name: name.into(),
            category,
            at,
            kind: Kind::Instant,
        });
    }

    /// A copy of the events recorded so far, in recording order.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The trace as Chrome/Perfetto trace-event JSON.
    pub fn to_chrome_json(&self) -> String {
        chrome::render(&self.events())
    }

    /// Writes the trace as Chrome/Perfetto trace-event JSON to `path`.
    pub fn write_chrome_json(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_chrome_json()).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot write trace to {}: {e}", path.display()),
            )
        })
    }
}

/// The process-wide trace that threads and processes record into, if set.
static GLOBAL: OnceLock<Arc<Trace>> = OnceLock::new();

/// Makes `trace` the process-wide trace for threads and processes (loops
/// take theirs from [`Builder::trace`](crate::event_loop::Builder::trace)).
/// Returns false if one was already set.
pub fn set_global(trace: &Arc<Trace>) -> bool {
    GLOBAL.set(trace.clone()).is_ok()
}

/// The process-wide trace, if one was set.
pub fn global() -> Option<&'static Arc<Trace>> {
    GLOBAL.get()
}
