//! brigade's own events as `tracing` spans and events (cargo feature
//! `tracing`): what the runtime does reaches whatever subscriber the
//! program installed, next to the program's own spans.
//!
//! | target | what | level |
//! | --- | --- | --- |
//! | `brigade::task` | event `spawn`, event `end` (fields `task.id`, `task.name`) | DEBUG |
//! | `brigade::task` | span `poll` around each poll of a task (same fields) | TRACE |
//! | `brigade::timer` | event `sleep` when a task's sleep begins (`secs`) | TRACE |
//! | `brigade::io` | event `wait to read` / `wait to write` when an I/O wait begins | TRACE |
//! | `brigade::thread` | span `thread` for a brigade thread's life (`thread.name`) | DEBUG |
//! | `brigade::process` | event `process ended` at a child's join (`pid`, `process.name`) | DEBUG |
//!
//! tokio (built with `tokio_unstable`) gives each task one `runtime.spawn`
//! span, created at spawn and entered at every poll; brigade emits a `poll`
//! span per poll and `spawn`/`end` events instead, with the same `task.id`
//! and `task.name` fields, so that a subscriber sees where a task's life
//! begins and ends without keeping a span open for it.
//!
//! Without the feature every function here is empty and compiles away.
//! With it, an event nobody listens to costs tracing's usual check of the
//! callsite's cached interest.

#[cfg(feature = "tracing")]
use tracing::{Level, debug, debug_span, event, trace, trace_span};

/// Held while a task is polled: the `poll` span, entered.
pub(crate) struct Polling {
    #[cfg(feature = "tracing")]
    _entered: tracing::span::EnteredSpan,
}

/// A task was spawned.
#[inline]
pub(crate) fn spawned(id: u64, label: Option<&str>) {
    #[cfg(feature = "tracing")]
    event!(target: "brigade::task", Level::DEBUG, task.id = id, task.name = label, "spawn");
    #[cfg(not(feature = "tracing"))]
    let _ = (id, label);
}

/// A task finished (with its output, a panic, or cancelled).
#[inline]
pub(crate) fn ended(id: u64, label: Option<&str>) {
    #[cfg(feature = "tracing")]
    event!(target: "brigade::task", Level::DEBUG, task.id = id, task.name = label, "end");
    #[cfg(not(feature = "tracing"))]
    let _ = (id, label);
}

/// A task is about to be polled; the span lasts as long as the guard.
#[inline]
pub(crate) fn polling(task: u64, name: Option<&str>) -> Polling {
    #[cfg(feature = "tracing")]
    return Polling {
        _entered: trace_span!(target: "brigade::task", "poll", task.id = task, task.name = name)
            .entered(),
    };
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (task, name);
        Polling {}
    }
}

/// A sleep began to wait for its timer.
#[inline]
/// The duration is computed here, only when traced: an `Instant`
/// subtraction per sleep is a measurable share of a virtual-clock loop.
pub(crate) fn sleeping(deadline: crate::time::Instant, now: crate::time::Instant) {
    #[cfg(feature = "tracing")]
    trace!(
        target: "brigade::timer",
        secs = deadline.saturating_duration_since(now).as_secs_f64(),
        "sleep"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (deadline, now);
}

/// A wait for an I/O object's readiness began.
#[inline]
pub(crate) fn waiting_for_io(write: bool) {
    #[cfg(feature = "tracing")]
    if write {
        trace!(target: "brigade::io", "wait to write");
    } else {
        trace!(target: "brigade::io", "wait to read");
    }
    #[cfg(not(feature = "tracing"))]
    let _ = write;
}

/// Held for a brigade thread's life: the `thread` span, entered.
pub(crate) struct Living {
    #[cfg(feature = "tracing")]
    _entered: tracing::span::EnteredSpan,
}

/// A brigade thread begins its target.
#[inline]
pub(crate) fn thread(name: &str) -> Living {
    #[cfg(feature = "tracing")]
    return Living {
        _entered: debug_span!(target: "brigade::thread", "thread", thread.name = name).entered(),
    };
    #[cfg(not(feature = "tracing"))]
    {
        let _ = name;
        Living {}
    }
}

/// A child process was joined.
#[inline]
pub(crate) fn process_ended(pid: u32, name: &str) {
    #[cfg(feature = "tracing")]
    debug!(target: "brigade::process", pid, process.name = name, "process ended");
    #[cfg(not(feature = "tracing"))]
    let _ = (pid, name);
}
