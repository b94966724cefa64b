//! Slow polls: a task that blocks its loop past `slow_callback_duration`
//! is reported once, by name or id, with the time it took.
//!
//! The blocking here is real (`std::thread::sleep` inside a poll): what is
//! measured is how long a poll held the loop. Every assertion holds
//! however slow the machine is: a poll that sleeps 40 ms takes at least
//! 40 ms.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use brigade::event_loop::SlowPoll;
use brigade::{Runtime, spawn, spawn_named};

fn blocks_the_loop() {
    std::thread::sleep(Duration::from_millis(40));
}

fn runtime(threshold: Option<Duration>, reports: &Arc<Mutex<Vec<SlowPoll>>>) -> Runtime {
    let sink = reports.clone();
    Runtime::builder()
        .virtual_clock(true)
        .slow_callback_duration(threshold)
        .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.clone()))
        .build()
        .unwrap()
}

#[test]
fn a_poll_that_blocks_the_loop_is_reported_once_by_name_or_id() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let rt = runtime(Some(Duration::from_millis(20)), &reports);
    let unnamed_id = rt.block_on(async {
        let named = spawn_named("cruncher", async { blocks_the_loop() });
        let unnamed = spawn(async { blocks_the_loop() });
        let id = unnamed.id();
        named.await.unwrap();
        unnamed.await.unwrap();
        id
    });
    let reports = reports.lock().unwrap();
    let of = |name: &str| -> Vec<&SlowPoll> { reports.iter().filter(|r| r.task == name).collect() };
    // Each task was polled once, slowly: one report each.
    let cruncher = of("cruncher");
    assert_eq!(cruncher.len(), 1, "{reports:?}");
    assert!(cruncher[0].duration >= Duration::from_millis(40));
    assert_eq!(cruncher[0].threshold, Duration::from_millis(20));
    let text = cruncher[0].to_string();
    assert!(
        text.contains("cruncher blocked the event loop for"),
        "{text}"
    );
    let unnamed = of(&format!("task {unnamed_id}"));
    assert_eq!(unnamed.len(), 1, "{reports:?}");
}

#[test]
fn the_main_future_is_watched_too_and_none_turns_reports_off() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    runtime(Some(Duration::from_millis(20)), &reports).block_on(async { blocks_the_loop() });
    assert_eq!(reports.lock().unwrap()[0].task, "the main future");

    let silent = Arc::new(Mutex::new(Vec::new()));
    runtime(None, &silent).block_on(async {
        blocks_the_loop();
        spawn_named("cruncher", async { blocks_the_loop() })
            .await
            .unwrap();
    });
    assert!(silent.lock().unwrap().is_empty());
}

#[test]
fn a_hook_that_panics_does_not_break_the_loop() {
    let rt = Runtime::builder()
        .slow_callback_duration(Some(Duration::from_millis(20)))
        .on_slow_poll(|_| panic!("the hook fails"))
        .build()
        .unwrap();
    let value = rt.block_on(async {
        spawn(async {
            blocks_the_loop();
            7
        })
        .await
        .unwrap()
    });
    assert_eq!(value, 7);
}
