//! The `tracing` feature: the program's spans land in brigade's trace, and
//! brigade's events reach the program's subscriber.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use brigade::trace::{Trace, TraceLayer};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

fn virtual_runtime(trace: &Arc<Trace>) -> brigade::Runtime {
    brigade::Runtime::builder()
        .virtual_clock(true)
        .trace(trace)
        .build()
        .unwrap()
}

#[test]
fn a_user_span_appears_in_brigades_trace_file_on_the_loops_clock() {
    let path = std::env::temp_dir().join(format!("brigade-layer-{}.json", std::process::id()));
    let trace = Trace::to_file(&path).unwrap();
    let subscriber = tracing_subscriber::registry().with(TraceLayer::new(&trace));
    tracing::subscriber::with_default(subscriber, || {
        virtual_runtime(&trace).block_on(async {
            let worker = brigade::spawn_named("worker", async {
                brigade::sleep(Duration::from_secs(7)).await;
                let outer = tracing::info_span!("checkout").entered();
                tracing::info_span!("pay").in_scope(|| tracing::info!("paid"));
                drop(outer);
            });
            worker.await.unwrap();
        });
    });
    trace.finish().unwrap();
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let find = |name: &str| {
        events
            .iter()
            .find(|e| e["name"] == name && e["cat"] == "tracing")
            .unwrap_or_else(|| panic!("no {name} in the trace"))
    };
    let (checkout, pay, paid) = (find("checkout"), find("pay"), find("paid"));
    assert_eq!(checkout["ph"], "X");
    assert_eq!(pay["ph"], "X");
    assert_eq!(paid["ph"], "i");
    for e in [checkout, pay, paid] {
        assert_eq!(
            e["ts"].as_f64(),
            Some(7e6),
            "at the loop's virtual 7 s: {e}"
        );
        assert_eq!(
            (e["pid"].clone(), e["tid"].clone()),
            (checkout["pid"].clone(), checkout["tid"].clone())
        );
    }
    // brigade's own events are not recorded twice through the layer.
    assert!(
        !events
            .iter()
            .any(|e| e["cat"] == "tracing" && e["name"] == "poll")
    );
}

/// What a test subscriber saw: (target, span or event name, message, task.name).
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

struct Recorder(Seen);

struct Fields {
    message: Option<String>,
    task_name: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "task.name" {
            self.task_name = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Fields {
            message: None,
            task_name: None,
        };
        attrs.record(&mut fields);
        let meta = attrs.metadata();
        self.0.lock().unwrap().push((
            meta.target().to_string(),
            format!("span {}", meta.name()),
            fields.task_name,
        ));
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields {
            message: None,
            task_name: None,
        };
        event.record(&mut fields);
        self.0.lock().unwrap().push((
            event.metadata().target().to_string(),
            fields.message.unwrap_or_default(),
            fields.task_name,
        ));
    }
}

#[test]
fn brigades_spawns_polls_and_waits_reach_a_tracing_subscriber() {
    let seen: Seen = Arc::default();
    let subscriber = tracing_subscriber::registry().with(Recorder(seen.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let rt = brigade::Runtime::builder()
            .virtual_clock(true)
            .build()
            .unwrap();
        rt.block_on(async {
            brigade::spawn_named("worker", brigade::sleep(Duration::from_secs(1)))
                .await
                .unwrap();
        });
    });
    let seen = seen.lock().unwrap();
    let has = |target: &str, what: &str| {
        seen.iter().any(|(t, w, name)| {
            t == target
                && w == what
                && (target != "brigade::task" || name.as_deref() == Some("worker"))
        })
    };
    assert!(has("brigade::task", "spawn"), "{seen:?}");
    assert!(has("brigade::task", "span poll"), "{seen:?}");
    assert!(has("brigade::task", "end"), "{seen:?}");
    assert!(has("brigade::timer", "sleep"), "{seen:?}");
    let polls = seen.iter().filter(|(_, w, _)| w == "span poll").count();
    assert_eq!(polls, 2, "polled once to sleep, once to finish: {seen:?}");
}

#[test]
fn a_brigade_thread_is_a_tracing_span() {
    // A new thread starts with the global default subscriber; only this
    // test of the binary sets it, and only this test starts brigade threads.
    let seen: Seen = Arc::default();
    let subscriber = tracing_subscriber::registry().with(Recorder(seen.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let mut thread = brigade::thread::Thread::builder()
        .name("loader")
        .spawn(|| tracing::info!("loading"))
        .unwrap();
    thread.join().unwrap();
    let seen = seen.lock().unwrap();
    let span = seen
        .iter()
        .position(|(t, w, _)| t == "brigade::thread" && w == "span thread");
    let event = seen.iter().position(|(_, w, _)| w == "loading");
    assert!(
        matches!((span, event), (Some(s), Some(e)) if s < e),
        "the thread's span opens before its target runs: {seen:?}"
    );
}
