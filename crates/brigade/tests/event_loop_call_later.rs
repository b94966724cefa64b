//! The loop's timed callbacks (call_later, call_at, TimerHandle) on the
//! virtual clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brigade::time::{Instant, sleep};
use brigade::{Handle, Runtime};

fn virtual_rt() -> Runtime {
    Runtime::builder().virtual_clock(true).build().unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

type Log = Arc<Mutex<Vec<(String, Duration)>>>;

fn note(log: &Log, what: &str, start: Instant) {
    log.lock()
        .unwrap()
        .push((what.to_string(), start.elapsed()));
}

#[test]
fn callbacks_fire_at_their_time_in_order_among_sleeps() {
    let rt = virtual_rt();
    let log: Log = Arc::default();
    rt.block_on(async {
        let start = Instant::now();
        let handle = Handle::current();
        for (name, s) in [("c3", 3), ("c1", 1), ("c1bis", 1)] {
            let log = log.clone();
            handle
                .call_later(secs(s), move || note(&log, name, start))
                .unwrap();
        }
        let log2 = log.clone();
        handle
            .call_at(start + secs(2), move || note(&log2, "at2", start))
            .unwrap();
        sleep(secs(2)).await;
        note(&log, "task2", start);
        sleep(secs(5)).await;
    });
    let log = log.lock().unwrap();
    let got: Vec<_> = log.iter().map(|(n, t)| (n.as_str(), t.as_secs())).collect();
    // Same deadline: callbacks in the order set; the task sleeping until
    // `at2`'s time set its timer later, and runs after the callbacks.
    assert_eq!(
        got,
        [("c1", 1), ("c1bis", 1), ("at2", 2), ("task2", 2), ("c3", 3)]
    );
}

#[test]
fn the_virtual_clock_jumps_to_a_callback_when_the_loop_is_idle() {
    let rt = virtual_rt();
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        let (tx, rx) = brigade::sync::oneshot::channel();
        Handle::current()
            .call_later(secs(3600), move || {
                let _ = tx.send(());
            })
            .unwrap();
        // Nothing else to wait for: time jumps to the callback.
        rx.await.unwrap();
        start.elapsed()
    });
    assert_eq!(elapsed, secs(3600));
}

#[test]
fn a_cancelled_callback_never_runs_and_is_dropped_at_once() {
    let rt = virtual_rt();
    let ran = Arc::new(AtomicUsize::new(0));
    let flag = ran.clone();
    let timer = rt.call_later(secs(1), move || {
        flag.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(Arc::strong_count(&ran), 2);
    assert!(!timer.cancelled());
    timer.cancel();
    timer.cancel(); // twice is fine
    assert!(timer.cancelled());
    assert_eq!(Arc::strong_count(&ran), 1, "the callback was dropped");
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        sleep(secs(5)).await;
        start.elapsed()
    });
    assert_eq!(elapsed, secs(5));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn a_cancelled_timer_does_not_drag_the_virtual_clock() {
    let rt = virtual_rt();
    rt.block_on(async {
        let start = Instant::now();
        let timer = Handle::current().call_later(secs(100), || {}).unwrap();
        timer.cancel();
        // A wake-up from another thread after a while: if the cancelled
        // timer were still in the wheel, time would jump to it first.
        let (tx, rx) = brigade::sync::oneshot::channel();
        let t = std::thread::spawn(move || tx.send(()).unwrap());
        rx.await.unwrap();
        t.join().unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn another_thread_sets_and_cancels_timers() {
    let rt = virtual_rt();
    let handle = rt.handle();
    let log: Log = Arc::default();
    let (l1, l2) = (log.clone(), log.clone());
    let (kept, cancelled) = std::thread::spawn(move || {
        let kept = handle
            .call_later(secs(10), move || {
                l1.lock().unwrap().push(("kept".into(), Duration::ZERO))
            })
            .unwrap();
        let cancelled = handle
            .call_later(secs(5), move || {
                l2.lock().unwrap().push(("no".into(), Duration::ZERO))
            })
            .unwrap();
        // Not armed yet: the loop does not run.
        assert_eq!(kept.when(), None);
        cancelled.cancel();
        (kept, cancelled)
    })
    .join()
    .unwrap();
    let start = rt.block_on(async {
        brigade::yield_now().await; // one turn: the loop arms the timers
        Instant::now()
    });
    // The delay counts from the loop's turn that armed it, on its clock.
    assert_eq!(kept.when(), Some(start + secs(10)));
    assert_eq!(cancelled.when(), None, "cancelled before it was armed");
    rt.block_on(sleep(secs(20)));
    let names: Vec<_> = log.lock().unwrap().iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, ["kept"]);
    // Cancelling from another thread once armed.
    let late = Arc::new(AtomicUsize::new(0));
    let flag = late.clone();
    let timer = rt.call_later(secs(1), move || {
        flag.fetch_add(1, Ordering::SeqCst);
    });
    std::thread::spawn(move || timer.cancel()).join().unwrap();
    rt.block_on(sleep(secs(2)));
    assert_eq!(late.load(Ordering::SeqCst), 0);
}

#[test]
fn block_on_does_not_wait_for_pending_callbacks_and_drop_discards_them() {
    let rt = virtual_rt();
    let ran = Arc::new(AtomicUsize::new(0));
    let flag = ran.clone();
    let timer = rt.call_later(secs(60), move || {
        flag.fetch_add(1, Ordering::SeqCst);
    });
    let start = rt.block_on(async { Instant::now() });
    rt.block_on(sleep(secs(30)));
    assert_eq!(ran.load(Ordering::SeqCst), 0, "not due yet");
    assert_eq!(timer.when(), Some(start + secs(60)));
    drop(rt);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    drop(timer);
    assert_eq!(Arc::strong_count(&ran), 1, "dropped unrun, nothing leaked");
}

#[test]
fn a_past_time_runs_at_the_next_turn_and_callbacks_may_use_the_loop() {
    let rt = virtual_rt();
    let log: Log = Arc::default();
    rt.block_on(async {
        let start = Instant::now();
        let handle = Handle::current();
        let log2 = log.clone();
        let h2 = handle.clone();
        handle
            .call_at(start - secs(1), move || {
                note(&log2, "past", start);
                // A callback may set another, and spawn.
                let log3 = log2.clone();
                h2.call_later(secs(2), move || note(&log3, "chained", start))
                    .unwrap();
                let log4 = log2.clone();
                drop(brigade::spawn(async move { note(&log4, "spawned", start) }));
            })
            .unwrap();
        sleep(secs(3)).await;
    });
    let got: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(n, t)| (n.clone(), t.as_secs()))
        .collect();
    let want = [("past", 0), ("spawned", 0), ("chained", 2)].map(|(n, t)| (n.to_string(), t));
    assert_eq!(got, want);
}

#[test]
fn a_panicking_callback_does_not_stop_the_others() {
    let rt = virtual_rt();
    let ran = Arc::new(AtomicUsize::new(0));
    let flag = ran.clone();
    rt.call_later(secs(1), || panic!("callback failed"));
    rt.call_later(secs(1), move || {
        flag.fetch_add(1, Ordering::SeqCst);
    });
    rt.block_on(sleep(secs(2)));
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn a_closed_loop_hands_the_callback_back() {
    let rt = virtual_rt();
    let handle = rt.handle();
    drop(rt);
    let ran = Arc::new(AtomicUsize::new(0));
    let flag = ran.clone();
    let result = handle.call_later(secs(1), move || {
        flag.fetch_add(1, Ordering::SeqCst);
    });
    let Err(closed) = result else {
        panic!("the loop is gone")
    };
    (closed.0)(); // the very callback, handed back
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert!(handle.call_at(Instant::now(), || ()).is_err());
}

#[test]
fn timers_beyond_the_horizon_never_fire_and_do_not_move_the_clock() {
    let rt = virtual_rt();
    let timer = rt.call_later(brigade::time::HORIZON * 2, || unreachable!());
    rt.block_on(async {
        let start = Instant::now();
        sleep(secs(1)).await;
        assert_eq!(start.elapsed(), secs(1));
    });
    assert!(timer.when().is_some());
}
