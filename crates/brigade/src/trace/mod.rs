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
//! # What a trace promises
//!
//! A timeline shows nesting only where it happened. Each track holds
//! one kind of thing at a time:
//!
//! - a loop's track holds its polls, one after another, and its spawns and
//!   ends as instants;
//! - the loop's *main future* track holds the waits (timers, I/O) of the
//!   future given to `block_on`, and each task's track holds that task's
//!   waits and wake-ups; a task's track carries its
//!   [`spawn_named`](crate::spawn_named) name;
//! - each brigade thread and each child process has a track with its
//!   lifetime, named after it; a child process keeps its own pid, and no
//!   loop's track ever uses a number that a pid can take.
//!
//! **Durations on the virtual clock.** A virtual clock stands still while
//! the loop runs and jumps only when every task waits, so a poll takes no
//! virtual time at all: on a virtual loop a poll is a slice of zero
//! duration at the instant it ran; viewers draw zero-length slices that
//! share an instant side by side, never one inside another. (Giving it its real duration, as brigade
//! once did, made polls that start at the same virtual instant overlap,
//! and a viewer drew them nested, a thousand deep.) Waits on a virtual loop
//! last exactly their virtual time. How long polls take in real time is
//! the real clock's business: trace the same run with the real clock.
//!
//! A task that waits on several things at once (`join!`, `select!`, a
//! `timeout`) shows all those waits on its one track. Waits that overlap
//! there without one containing the other would be drawn nested: the one
//! case where the format cannot say what happened (the slices' times stay
//! right).
//!
//! # Memory
//!
//! [`Trace::to_file`] streams: every event is encoded as it is recorded
//! and written in chunks of 64 KiB, so the trace holds a chunk and the
//! names of the program's [`Track::Named`] tracks, whatever the run's
//! length. [`Trace::finish`] closes the file. [`Trace::new`] keeps the
//! events in memory instead, for tests and short runs that inspect them
//! with [`Trace::events`].
//!
//! # With `tracing` (cargo feature `tracing`)
//!
//! brigade's task, I/O, thread and process events are also emitted as
//! [`tracing`](https://docs.rs/tracing) spans and events, for whatever
//! subscriber the program installed (the list is in `trace/emit.rs`:
//! `spawn`, `poll`, `end` under target `brigade::task`, `sleep` under
//! `brigade::timer`, `wait to read`/`wait to write` under `brigade::io`, a
//! `thread` span under `brigade::thread`, `process ended` under
//! `brigade::process`). The other way round, `TraceLayer` is a
//! `tracing_subscriber` layer that records the program's own spans and
//! events into a brigade trace, so that one timeline shows both.
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
pub(crate) mod emit;
#[cfg(feature = "tracing")]
mod layer;
mod stream;

#[cfg(feature = "tracing")]
pub use layer::TraceLayer;

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use stream::Stream;

/// A shared, thread-safe recorder of runtime events.
///
/// ```
/// let trace = brigade::trace::Trace::new();
/// let rt = brigade::Runtime::builder().trace(&trace).build().unwrap();
/// rt.block_on(async { brigade::spawn(async {}).await.unwrap() });
/// assert!(trace.events().iter().any(|e| e.category == "poll"));
/// ```
#[derive(Debug)]
pub struct Trace {
    sink: Mutex<Sink>,
    origin: std::time::Instant,
}

/// Where a trace's events go.
#[derive(Debug)]
enum Sink {
    /// Kept, with the tracks' names, for [`Trace::events`].
    Memory(Vec<Record>),
    /// Encoded and written to a file as they come.
    File(chrome::Encoder, Stream),
}

/// What an in-memory trace keeps.
#[derive(Debug)]
enum Record {
    Event(Event),
    Label(Track, Cow<'static, str>),
}

/// Where an event is drawn.
///
/// ```
/// use brigade::trace::Track;
///
/// let board = Track::Named("board 1".into());
/// assert_ne!(board, Track::Loop(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Track {
    /// An event loop, by its number: its polls, spawns and ends.
    Loop(u64),
    /// The future a loop's `block_on` runs, by the loop's number: what it
    /// waited for.
    Main(u64),
    /// One task of a loop: what it waited for, and its wake-ups.
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
///
/// ```
/// use std::time::Duration;
/// use brigade::trace::Kind;
///
/// let poll = Kind::Span { duration: Duration::ZERO };
/// assert_ne!(poll, Kind::Instant);
/// ```
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
///
/// ```
/// use std::time::Duration;
/// use brigade::trace::{Event, Kind, Trace, Track};
///
/// let trace = Trace::new();
/// trace.record(Event {
///     track: Track::Named("notes".into()),
///     name: "checkpoint".into(),
///     category: "app",
///     at: Duration::from_millis(5),
///     kind: Kind::Instant,
/// });
/// assert_eq!(trace.events()[0].name, "checkpoint");
/// ```
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
    /// An empty trace kept in memory, shared so that loops, threads and
    /// processes can all record into it. Its memory grows with the run;
    /// for long runs use [`Trace::to_file`].
    ///
    /// ```
    /// let trace = brigade::trace::Trace::new();
    /// assert!(trace.events().is_empty());
    /// ```
    pub fn new() -> Arc<Trace> {
        Trace::with(Sink::Memory(Vec::new()))
    }

    /// A trace that streams to the Chrome/Perfetto JSON file at `path`
    /// (created, or truncated), in bounded memory. Call
    /// [`finish`](Trace::finish) once the run is over; dropping the last
    /// reference finishes it too, without a report of errors.
    ///
    /// An error names the path. Its [`events`](Trace::events) are empty:
    /// they are in the file.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("brigade-doc-{}.json", std::process::id()));
    /// let trace = brigade::trace::Trace::to_file(&path).unwrap();
    /// let rt = brigade::Runtime::builder().virtual_clock(true).trace(&trace).build().unwrap();
    /// rt.block_on(async { brigade::spawn_named("worker", async {}).await.unwrap() });
    /// trace.finish().unwrap();
    /// let json = std::fs::read_to_string(&path).unwrap();
    /// assert!(json.contains("\"worker\"") && json.ends_with("}\n"));
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn to_file(path: impl AsRef<Path>) -> std::io::Result<Arc<Trace>> {
        let stream = Stream::create(path.as_ref())?;
        Ok(Trace::with(Sink::File(chrome::Encoder::default(), stream)))
    }

    fn with(sink: Sink) -> Arc<Trace> {
        Arc::new(Trace {
            sink: Mutex::new(sink),
            origin: std::time::Instant::now(),
        })
    }

    /// Time since the trace began, on the real clock.
    ///
    /// ```
    /// let trace = brigade::trace::Trace::new();
    /// assert!(trace.now() <= trace.now());
    /// ```
    pub fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sink(&self) -> std::sync::MutexGuard<'_, Sink> {
        self.sink.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an event.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::trace::{Event, Kind, Trace, Track};
    ///
    /// let trace = Trace::new();
    /// trace.record(Event {
    ///     track: Track::Named("notes".into()),
    ///     name: "note".into(),
    ///     category: "app",
    ///     at: Duration::ZERO,
    ///     kind: Kind::Instant,
    /// });
    /// assert_eq!(trace.events().len(), 1);
    /// ```
    pub fn record(&self, event: Event) {
        match &mut *self.sink() {
            Sink::Memory(records) => records.push(Record::Event(event)),
            Sink::File(encoder, stream) => {
                if stream.open() {
                    encoder.event(&mut stream.buf, &event);
                    stream.flush_if_full();
                }
            }
        }
    }

    /// Names a track (the loops do it for their tasks, at spawn).
    pub(crate) fn label(&self, track: Track, name: impl Into<Cow<'static, str>>) {
        match &mut *self.sink() {
            Sink::Memory(records) => records.push(Record::Label(track, name.into())),
            Sink::File(encoder, stream) => {
                if stream.open() {
                    encoder.label(&mut stream.buf, &track, &name.into());
                    stream.flush_if_full();
                }
            }
        }
    }

    /// Records a span.
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::trace::{Trace, Track};
    ///
    /// let trace = Trace::new();
    /// let track = Track::Named("board 1".into());
    /// trace.span(track, "move", "e4", Duration::ZERO, Duration::from_secs(5));
    /// assert!(trace.to_chrome_json().contains("\"dur\":5000000.000"));
    /// ```
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
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::trace::{Trace, Track};
    ///
    /// let trace = Trace::new();
    /// trace.instant(Track::Named("log".into()), "app", "ready", Duration::ZERO);
    /// assert!(trace.to_chrome_json().contains("\"ph\":\"i\""));
    /// ```
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

    /// A copy of the events recorded so far, in recording order (empty for
    /// a trace made by [`to_file`](Trace::to_file), whose events are in its
    /// file).
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::trace::{Trace, Track};
    ///
    /// let trace = Trace::new();
    /// trace.instant(Track::Loop(1), "app", "tick", Duration::ZERO);
    /// assert_eq!(trace.events()[0].name, "tick");
    /// ```
    pub fn events(&self) -> Vec<Event> {
        match &*self.sink() {
            Sink::Memory(records) => records
                .iter()
                .filter_map(|r| match r {
                    Record::Event(e) => Some(e.clone()),
                    Record::Label(..) => None,
                })
                .collect(),
            Sink::File(..) => Vec::new(),
        }
    }

    /// The trace as Chrome/Perfetto trace-event JSON (with no events for a
    /// trace made by [`to_file`](Trace::to_file)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use brigade::trace::{Trace, Track};
    ///
    /// let trace = Trace::new();
    /// trace.instant(Track::Named("log".into()), "app", "ready", Duration::ZERO);
    /// assert!(trace.to_chrome_json().starts_with("{\"traceEvents\":["));
    /// ```
    pub fn to_chrome_json(&self) -> String {
        let mut out = chrome::HEADER.to_vec();
        if let Sink::Memory(records) = &*self.sink() {
            let mut encoder = chrome::Encoder::default();
            for record in records {
                match record {
                    Record::Event(e) => encoder.event(&mut out, e),
                    Record::Label(track, name) => encoder.label(&mut out, track, name),
                }
            }
        }
        out.extend_from_slice(chrome::FOOTER);
        String::from_utf8(out).expect("the encoder writes UTF-8")
    }

    /// Writes the trace as Chrome/Perfetto trace-event JSON to `path` (see
    /// [`to_chrome_json`](Trace::to_chrome_json)). An error names the path.
    ///
    /// ```
    /// let trace = brigade::trace::Trace::new();
    /// let err = trace.write_chrome_json("/nonexistent-dir/t.json").unwrap_err();
    /// assert!(err.to_string().contains("/nonexistent-dir/t.json"));
    /// ```
    pub fn write_chrome_json(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_chrome_json()).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot write trace to {}: {e}", path.display()),
            )
        })
    }

    /// Ends a trace made by [`to_file`](Trace::to_file): writes what is
    /// buffered and closes the JSON. Returns the first error met while
    /// writing (naming the path); events recorded later are dropped. Does
    /// nothing for an in-memory trace, or a second time.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("brigade-finish-{}.json", std::process::id()));
    /// let trace = brigade::trace::Trace::to_file(&path).unwrap();
    /// trace.finish().unwrap();
    /// trace.finish().unwrap();
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"traceEvents\":[\n\n],\"displayTimeUnit\":\"ms\"}\n");
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn finish(&self) -> std::io::Result<()> {
        match &mut *self.sink() {
            Sink::Memory(_) => Ok(()),
            Sink::File(_, stream) => stream.finish(),
        }
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The process-wide trace that threads and processes record into, if set.
static GLOBAL: OnceLock<Arc<Trace>> = OnceLock::new();

/// Makes `trace` the process-wide trace for threads and processes (loops
/// take theirs from [`Builder::trace`](crate::event_loop::Builder::trace)).
/// Returns false if one was already set.
///
/// ```
/// let trace = brigade::trace::Trace::new();
/// if brigade::trace::set_global(&trace) {
///     assert!(brigade::trace::global().is_some());
/// }
/// ```
pub fn set_global(trace: &Arc<Trace>) -> bool {
    GLOBAL.set(trace.clone()).is_ok()
}

/// The process-wide trace, if one was set.
///
/// ```
/// let _maybe = brigade::trace::global();
/// ```
pub fn global() -> Option<&'static Arc<Trace>> {
    GLOBAL.get()
}
