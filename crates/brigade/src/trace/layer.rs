//! The program's `tracing` spans and events, recorded into a brigade
//! [`Trace`] (cargo feature `tracing`), so that one timeline shows what the
//! runtime did and what the program said it was doing.
//!
//! A span is drawn each time it is *entered*, from the enter to the
//! matching exit, on a track of the thread that entered it (named
//! `spans: <thread name>`). Spans entered on one thread nest as they really
//! did (tracing keeps a stack of entered spans per thread), so the track
//! shows true nesting only. An event is an instant on the same track, named
//! by its message. A span that lives across `.await`s
//! ([`Instrument`](https://docs.rs/tracing/0.1/tracing/trait.Instrument.html))
//! is entered once per poll and so drawn once per poll.
//!
//! Timestamps follow brigade's rule: on a thread that runs a traced loop
//! they are read from the loop's clock (so on a virtual clock they are
//! virtual time, and a span inside one poll takes none of it); elsewhere
//! from the trace's real clock.
//!
//! brigade's own tracing events (targets `brigade::*`, see the feature's
//! list in [`crate::trace`]) are skipped: the trace has them already.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::Id;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::{Trace, Track};
use crate::event_loop::context;

/// A `tracing_subscriber` [`Layer`] that records spans and events into a
/// brigade [`Trace`].
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use brigade::trace::{Trace, TraceLayer};
///
/// let trace = Trace::new();
/// let subscriber = tracing_subscriber::registry().with(TraceLayer::new(&trace));
/// tracing::subscriber::with_default(subscriber, || {
///     let _work = tracing::info_span!("work").entered();
///     tracing::info!("halfway");
/// });
/// let json = trace.to_chrome_json();
/// assert!(json.contains("\"name\":\"work\"") && json.contains("\"name\":\"halfway\""));
/// ```
#[derive(Debug, Clone)]
pub struct TraceLayer {
    trace: Arc<Trace>,
}

thread_local! {
    /// The spans this thread is inside, with when each was entered.
    static ENTERED: RefCell<Vec<(Id, &'static str, Duration)>> = const { RefCell::new(Vec::new()) };
    /// This thread's track, built once.
    static TRACK: RefCell<Option<Track>> = const { RefCell::new(None) };
}

impl TraceLayer {
    /// A layer that records into `trace`.
    ///
    /// ```
    /// let trace = brigade::trace::Trace::new();
    /// let _layer = brigade::trace::TraceLayer::new(&trace);
    /// ```
    pub fn new(trace: &Arc<Trace>) -> TraceLayer {
        TraceLayer {
            trace: trace.clone(),
        }
    }

    /// Now, on the clock of this thread's traced loop if it runs one.
    fn now(&self) -> Duration {
        context::with(|core| match core {
            Some(core) if core.trace.is_some() => core.trace_now(&self.trace),
            _ => self.trace.now(),
        })
    }

    fn track() -> Track {
        TRACK.with(|track| {
            track
                .borrow_mut()
                .get_or_insert_with(|| {
                    let thread = std::thread::current();
                    let name = match thread.name() {
                        Some(name) => format!("spans: {name} ({:?})", thread.id()),
                        None => format!("spans: {:?}", thread.id()),
                    };
                    Track::Named(Cow::Owned(name))
                })
                .clone()
        })
    }
}

fn ours(target: &str) -> bool {
    target == "brigade" || target.starts_with("brigade::")
}

impl<S> Layer<S> for TraceLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if ours(span.metadata().target()) {
            return;
        }
        let at = self.now();
        ENTERED.with(|entered| entered.borrow_mut().push((id.clone(), span.name(), at)));
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let found = ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            let i = entered.iter().rposition(|(open, ..)| open == id)?;
            Some(entered.remove(i))
        });
        if let Some((_, name, since)) = found {
            let now = self.now();
            self.trace.span(
                Self::track(),
                "tracing",
                name,
                since,
                now.saturating_sub(since),
            );
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if ours(metadata.target()) {
            return;
        }
        let mut message = Message(None);
        event.record(&mut message);
        let name = message.0.unwrap_or_else(|| metadata.name().to_string());
        self.trace
            .instant(Self::track(), "tracing", name, self.now());
    }
}

/// Picks an event's `message` field.
struct Message(Option<String>);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}
