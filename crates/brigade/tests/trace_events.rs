//! The runtime's trace, written as Chrome/Perfetto JSON and parsed back.

use std::time::Duration;

use brigade::trace::{Kind, Trace, Track};
use serde_json::Value;

fn traced_run(trace: &std::sync::Arc<Trace>) {
    let rt = brigade::Runtime::builder()
        .virtual_clock(true)
        .trace(trace)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (1..=3u64)
            .map(|i| {
                brigade::spawn_named(format!("board {i}"), async move {
                    brigade::sleep(Duration::from_secs(i * 10)).await;
                    brigade::sleep(Duration::from_secs(5)).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn a_traced_run_records_spawns_polls_ends_and_timer_waits_in_virtual_time() {
    let trace = Trace::new();
    traced_run(&trace);
    let events = trace.events();
    let named = |name: &str| events.iter().filter(|e| e.name == name).count();
    assert_eq!(named("spawn board 2"), 1);
    assert_eq!(named("end board 2"), 1);
    assert!(
        named("board 2") >= 3,
        "polled at start and after each sleep"
    );
    let wakes: Vec<_> = events.iter().filter(|e| e.category == "wake").collect();
    assert_eq!(
        wakes.len(),
        6,
        "each task is woken by each of its two timers"
    );
    assert!(wakes.iter().all(|w| matches!(w.track, Track::Task { .. })));
    let sleeps: Vec<_> = events.iter().filter(|e| e.category == "timer").collect();
    assert_eq!(sleeps.len(), 6);
    for s in &sleeps {
        assert!(matches!(s.track, Track::Task { .. }));
    }
    let mut waits: Vec<(u64, u64)> = sleeps
        .iter()
        .map(|s| match s.kind {
            Kind::Span { duration } => (s.at.as_secs(), duration.as_secs()),
            Kind::Instant => panic!("a wait is a span"),
        })
        .collect();
    waits.sort();
    assert_eq!(
        waits,
        [(0, 10), (0, 20), (0, 30), (10, 5), (20, 5), (30, 5)]
    );
}

#[test]
fn the_chrome_json_is_well_formed_and_names_its_tracks() {
    let trace = Trace::new();
    traced_run(&trace);
    let json: Value = serde_json::from_str(&trace.to_chrome_json()).expect("valid JSON");
    let events = json["traceEvents"].as_array().expect("a traceEvents array");
    assert!(!events.is_empty());
    for e in events {
        let ph = e["ph"].as_str().expect("every event has a phase");
        assert!(["X", "i", "M"].contains(&ph), "unexpected phase {ph}");
        assert!(e["pid"].is_u64() && e["tid"].is_u64(), "{e}");
        if ph != "M" {
            assert!(
                e["ts"].is_number() && e["name"].is_string() && e["cat"].is_string(),
                "{e}"
            );
        }
        if ph == "X" {
            assert!(e["dur"].as_f64().unwrap() >= 0.0);
        }
    }
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("event loop ")),
        "{names:?}"
    );
    let sleep_us: Vec<f64> = events
        .iter()
        .filter(|e| e["cat"] == "timer")
        .map(|e| e["dur"].as_f64().unwrap())
        .collect();
    assert!(
        sleep_us.contains(&30_000_000.0),
        "a 30 s wait lasts 30,000,000 µs: {sleep_us:?}"
    );
}

#[test]
fn writing_to_an_unwritable_path_names_the_path() {
    let trace = Trace::new();
    let error = trace
        .write_chrome_json("/nonexistent-dir/trace.json")
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    assert!(
        error.to_string().contains("/nonexistent-dir/trace.json"),
        "{error}"
    );
}

#[test]
fn waits_for_io_are_spans_on_the_waiting_task() {
    use brigade::io::{AsyncReadExt, AsyncWriteExt, DriverKind};
    use brigade::net::{TcpListener, TcpStream};
    for driver in [DriverKind::Epoll, DriverKind::Uring] {
        let trace = Trace::new();
        let Ok(rt) = brigade::Runtime::builder()
            .io_driver(driver)
            .trace(&trace)
            .build()
        else {
            continue; // io_uring refused by this kernel: the epoll run stands
        };
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = brigade::spawn_named("server", async move {
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                conn.read_exact(&mut buf).await.unwrap();
                buf
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            for _ in 0..3 {
                brigade::yield_now().await; // the server waits to read meanwhile
            }
            client.write_all(b"hello").await.unwrap();
            assert_eq!(&server.await.unwrap(), b"hello");
        });
        let waits: Vec<_> = trace
            .events()
            .into_iter()
            .filter(|e| e.category == "io")
            .collect();
        assert!(
            waits
                .iter()
                .any(|e| e.name == "wait to read" && matches!(e.track, Track::Task { .. })),
            "{driver:?}: {waits:?}"
        );
    }
}
