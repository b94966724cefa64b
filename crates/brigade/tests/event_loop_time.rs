//! Timers on the virtual clock: sleep, timeout boundaries, interval,
//! determinism.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use brigade::time::{Instant, MissedTicks, interval, sleep, sleep_until, timeout, timeout_at};
use brigade::{Runtime, spawn};

fn virtual_rt() -> Runtime {
    Runtime::builder().virtual_clock(true).build().unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[brigade::test(virtual)]
async fn twelve_virtual_hours_pass_at_once() {
    let start = Instant::now();
    sleep(secs(12 * 3600)).await;
    assert_eq!(start.elapsed(), secs(12 * 3600));
}

#[brigade::test(virtual)]
async fn sleepers_wake_in_deadline_order_at_their_exact_time() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let start = Instant::now();
    let tasks: Vec<_> = [5u64, 1, 3, 2, 4, 1_000_000]
        .into_iter()
        .map(|s| {
            let log = log.clone();
            spawn(async move {
                sleep(secs(s)).await;
                log.borrow_mut().push((s, start.elapsed()));
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let log = log.borrow();
    let order: Vec<u64> = log.iter().map(|(s, _)| *s).collect();
    assert_eq!(order, [1, 2, 3, 4, 5, 1_000_000]);
    for (s, elapsed) in log.iter() {
        assert_eq!(*elapsed, secs(*s));
    }
}

#[brigade::test(virtual)]
async fn sub_millisecond_sleeps_wake_at_their_exact_instant() {
    let start = Instant::now();
    sleep(Duration::from_micros(300)).await;
    assert_eq!(start.elapsed(), Duration::from_micros(300));
    sleep(Duration::from_micros(1200)).await;
    assert_eq!(start.elapsed(), Duration::from_micros(1500));
    // Below the microsecond tick, a deadline rounds up: never early.
    sleep(Duration::from_nanos(300_001)).await;
    assert_eq!(start.elapsed(), Duration::from_micros(1801));
}

/// Sleeps of `micros` each, started together; returns (label, wake time)
/// in the order they woke.
async fn wake_log(micros: &[u64], cancel: &[usize]) -> Vec<(u64, Duration)> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let start = Instant::now();
    let tasks: Vec<_> = micros
        .iter()
        .map(|&us| {
            let log = log.clone();
            spawn(async move {
                sleep(Duration::from_micros(us)).await;
                log.borrow_mut().push((us, start.elapsed()));
            })
        })
        .collect();
    // Let every task set its timer before some are cancelled.
    brigade::yield_now().await;
    for (i, task) in tasks.iter().enumerate() {
        if cancel.contains(&i) {
            task.abort();
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    log.take()
}

#[brigade::test(virtual)]
async fn deadlines_within_one_millisecond_fire_in_order_each_at_its_instant() {
    // All within the first millisecond and the next: one millisecond slot
    // of a coarser wheel would wake them together, at 1 ms or 2 ms.
    let micros = [999, 1, 500, 250, 1001, 750, 2, 1999, 1000];
    let log = wake_log(&micros, &[]).await;
    let mut sorted = micros.to_vec();
    sorted.sort();
    let order: Vec<u64> = log.iter().map(|(us, _)| *us).collect();
    assert_eq!(order, sorted);
    for (us, woke) in log {
        assert_eq!(woke, Duration::from_micros(us));
    }
}

#[brigade::test(virtual)]
async fn cancelled_sub_millisecond_timers_leave_the_others_exact() {
    // Cancel the earliest, one in the middle and one that shares its
    // microsecond with a survivor.
    let micros = [100, 200, 300, 300, 400, 900];
    let log = wake_log(&micros, &[0, 2, 4]).await;
    assert_eq!(
        log,
        [200, 300, 900].map(|us| (us, Duration::from_micros(us)))
    );
    // Nothing left behind: the next sleep wakes at its own deadline.
    let start = Instant::now();
    sleep(Duration::from_micros(7)).await;
    assert_eq!(start.elapsed(), Duration::from_micros(7));
}

#[brigade::test(virtual)]
async fn a_zero_sleep_and_a_past_deadline_are_ready_at_once() {
    let start = Instant::now();
    sleep(Duration::ZERO).await;
    sleep_until(start - secs(1)).await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[brigade::test(virtual)]
async fn timeout_returns_the_value_when_the_future_is_ready_in_time() {
    let value = timeout(secs(10), async {
        sleep(secs(9)).await;
        "made it"
    })
    .await;
    assert_eq!(value, Ok("made it"));
}

#[brigade::test(virtual)]
async fn at_the_boundary_the_future_wins() {
    // Both the inner sleep and the deadline fall on the same instant.
    let value = timeout(secs(10), sleep(secs(10))).await;
    assert!(
        value.is_ok(),
        "a future ready exactly at the deadline returns its value"
    );
}

#[brigade::test(virtual)]
async fn timeout_elapses_exactly_at_the_deadline_and_cancels_the_future() {
    struct Flag(Rc<RefCell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let dropped = Rc::new(RefCell::new(false));
    let flag = Flag(dropped.clone());
    let start = Instant::now();
    let result = timeout(secs(10), async move {
        let _flag = flag;
        sleep(secs(11)).await;
    })
    .await;
    let error = result.unwrap_err();
    assert_eq!(start.elapsed(), secs(10));
    assert_eq!(error.duration(), Some(secs(10)));
    assert_eq!(error.to_string(), "timed out after 10s");
    assert!(*dropped.borrow(), "the timed-out future was dropped");
}

#[brigade::test(virtual)]
async fn timeout_at_uses_an_absolute_deadline() {
    let deadline = Instant::now() + secs(3);
    assert!(timeout_at(deadline, sleep(secs(4))).await.is_err());
    assert_eq!(Instant::now(), deadline);
}

#[brigade::test(virtual)]
async fn a_zero_timeout_still_returns_a_ready_value() {
    assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1));
}

#[brigade::test(virtual)]
async fn interval_ticks_on_schedule() {
    let start = Instant::now();
    let mut ticker = interval(secs(5));
    for k in 0..4u64 {
        let at = ticker.tick().await;
        assert_eq!(at - start, secs(5 * k));
    }
}

/// Ticks seen when the task is busy for 12 s right after the first tick of
/// a 5 s interval.
async fn ticks_after_a_stall(behavior: MissedTicks) -> Vec<u64> {
    let start = Instant::now();
    let mut ticker = interval(secs(5));
    ticker.set_missed_ticks(behavior);
    ticker.tick().await;
    sleep(secs(12)).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        ticker.tick().await;
        seen.push((Instant::now() - start).as_secs());
    }
    seen
}

#[test]
fn missed_ticks_burst_delay_or_skip_as_documented() {
    let burst = virtual_rt().block_on(ticks_after_a_stall(MissedTicks::Burst));
    assert_eq!(
        burst,
        [12, 12, 15],
        "burst: catch up at once, keep the schedule"
    );
    let delay = virtual_rt().block_on(ticks_after_a_stall(MissedTicks::Delay));
    assert_eq!(
        delay,
        [12, 17, 22],
        "delay: a new schedule from the late tick"
    );
    let skip = virtual_rt().block_on(ticks_after_a_stall(MissedTicks::Skip));
    assert_eq!(
        skip,
        [12, 15, 20],
        "skip: drop missed ticks, keep the schedule"
    );
}

/// A program whose event order depends on the scheduler: many tasks,
/// simultaneous and staggered sleeps, yields.
fn event_log(seed: Option<u64>) -> Vec<String> {
    let mut builder = Runtime::builder().virtual_clock(true);
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    let rt = builder.build().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    rt.block_on({
        let log = log.clone();
        async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..20u64)
                .map(|i| {
                    let log = log.clone();
                    spawn(async move {
                        for round in 0..3 {
                            sleep(Duration::from_millis(100 * (i % 3))).await;
                            brigade::yield_now().await;
                            let t = (Instant::now() - start).as_millis();
                            log.borrow_mut().push(format!("{t}ms task{i} round{round}"));
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    log.take()
}

#[test]
fn the_same_program_gives_the_same_event_log_every_run() {
    let first = event_log(None);
    assert_eq!(first.len(), 60);
    for _ in 0..3 {
        assert_eq!(event_log(None), first);
    }
}

#[test]
fn the_same_seed_gives_the_same_order_and_seeds_reorder_simultaneous_events() {
    let a = event_log(Some(7));
    assert_eq!(event_log(Some(7)), a);
    let others: Vec<_> = (1..=5).map(|s| event_log(Some(s * 1000))).collect();
    assert!(
        others.iter().any(|o| *o != a),
        "some seed reorders simultaneous wake-ups"
    );
    // Whatever the seed, each event happens at the same virtual time.
    let mut times_a: Vec<&str> = a.iter().map(|e| e.split(' ').next().unwrap()).collect();
    let mut times_b: Vec<&str> = others[0]
        .iter()
        .map(|e| e.split(' ').next().unwrap())
        .collect();
    times_a.sort();
    times_b.sort();
    assert_eq!(times_a, times_b);
}

#[test]
fn a_million_pending_timers_can_be_set_and_cancelled() {
    virtual_rt().block_on(async {
        let sleeps: Vec<_> = (0..1_000_000u64)
            .map(|i| sleep(Duration::from_millis(i % 100_000 + 1)))
            .collect();
        let mut sleeps: Vec<_> = sleeps.into_iter().map(Box::pin).collect();
        // Register them all by polling each once.
        std::future::poll_fn(|cx| {
            for s in &mut sleeps {
                assert!(s.as_mut().poll(cx).is_pending());
            }
            std::task::Poll::Ready(())
        })
        .await;
        drop(sleeps); // cancels a million entries
        let start = Instant::now();
        sleep(secs(1)).await;
        assert_eq!(start.elapsed(), secs(1));
    });
}

use std::future::Future;

/// Counts the polls of a future, and gives up (`false`) after `cap` of
/// them: a future that is polled without end shows as a failure instead
/// of a hang.
struct CountPolls<F> {
    inner: std::pin::Pin<Box<F>>,
    polls: Rc<std::cell::Cell<u32>>,
    cap: u32,
}

impl<F: std::future::Future<Output = ()>> std::future::Future for CountPolls<F> {
    type Output = bool;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<bool> {
        let n = self.polls.get() + 1;
        self.polls.set(n);
        if n > self.cap {
            return std::task::Poll::Ready(false);
        }
        self.inner.as_mut().poll(cx).map(|()| true)
    }
}

#[test]
fn deadlines_beyond_the_horizon_never_come_and_never_spin() {
    // Two sleeps of 10^16 s: the second's deadline does not fit the clock's
    // milliseconds, and once made the loop fire and re-arm it for ever.
    // Both lie beyond the horizon: they never end, set no timer, and the
    // loop waits asleep until something else happens (here, a message from
    // another thread; its delay only ends the test, nothing depends on it).
    let rt = virtual_rt();
    let polls = Rc::new(std::cell::Cell::new(0));
    let (tx, rx) = brigade::sync::oneshot::channel::<()>();
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let _ = tx.send(());
    });
    let (far_ended, elapsed) = rt.block_on(async {
        let start = Instant::now();
        let mut far = spawn(CountPolls {
            inner: Box::pin(async {
                sleep(Duration::from_secs(10u64.pow(16))).await;
                sleep(Duration::from_secs(10u64.pow(16))).await;
            }),
            polls: polls.clone(),
            cap: 1000,
        });
        let mut rx = rx;
        let far_ended = std::future::poll_fn(|cx| {
            use std::future::Future;
            use std::pin::Pin;
            if let std::task::Poll::Ready(r) = Pin::new(&mut far).poll(cx) {
                return std::task::Poll::Ready(Some(r.unwrap()));
            }
            Pin::new(&mut rx).poll(cx).map(|_| None)
        })
        .await;
        (far_ended, start.elapsed())
    });
    waker.join().unwrap();
    assert_eq!(far_ended, None, "the far sleeps ended, or spun");
    assert_eq!(polls.get(), 1, "polled again without a reason");
    // Time did not jump towards a deadline that never comes.
    assert_eq!(elapsed, Duration::ZERO);
    rt.block_on(async {
        // Just inside the horizon, a timer still fires, exactly.
        let start = Instant::now();
        let near = brigade::time::HORIZON - secs(1) - start.elapsed();
        sleep(near - secs(3600)).await;
        assert_eq!(start.elapsed(), near - secs(3600));
    });
}

#[brigade::test(virtual)]
async fn a_zero_sleep_yields_once_so_two_tasks_interleave() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let start = Instant::now();
    let tasks: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let log = log.clone();
            spawn(async move {
                for i in 0..3 {
                    log.borrow_mut().push(format!("{name}{i}"));
                    sleep(Duration::ZERO).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[brigade::test(virtual)]
async fn a_zero_sleep_is_pending_exactly_once() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let mut cx = Context::from_waker(Waker::noop());
    let mut zero = std::pin::pin!(sleep(Duration::ZERO));
    assert!(zero.as_mut().poll(&mut cx).is_pending());
    assert!(zero.as_mut().poll(&mut cx).is_ready());
    // A positive sleep already due, and a zero timeout, do not yield.
    let mut due = std::pin::pin!(sleep_until(Instant::now()));
    assert_eq!(due.as_mut().poll(&mut cx), Poll::Ready(()));
    let mut zero_timeout = std::pin::pin!(timeout(Duration::ZERO, std::future::pending::<()>()));
    assert!(matches!(
        zero_timeout.as_mut().poll(&mut cx),
        Poll::Ready(Err(_))
    ));
}

#[brigade::test(virtual)]
async fn interval_reset_restarts_the_schedule_one_period_from_now() {
    let start = Instant::now();
    let mut ticker = interval(secs(10));
    assert_eq!(ticker.tick().await - start, secs(0));
    assert_eq!(ticker.tick().await - start, secs(10));
    sleep(secs(3)).await;
    ticker.reset();
    assert_eq!(ticker.tick().await - start, secs(23));
    assert_eq!(ticker.tick().await - start, secs(33));
    ticker.reset_immediately();
    assert_eq!(ticker.tick().await - start, secs(33));
    assert_eq!(ticker.tick().await - start, secs(43));
    ticker.reset_after(secs(1));
    assert_eq!(ticker.tick().await - start, secs(44));
    ticker.reset_at(start + secs(100));
    assert_eq!(ticker.tick().await - start, secs(100));
    assert_eq!(ticker.tick().await - start, secs(110));
}

#[brigade::test(virtual)]
async fn interval_reset_while_a_tick_is_pending_moves_it() {
    let start = Instant::now();
    let mut ticker = interval(secs(10));
    ticker.tick().await;
    // Poll the next tick once (pending, timer set), then move it.
    {
        let pending = timeout(secs(4), ticker.tick()).await;
        assert!(pending.is_err());
    }
    ticker.reset_after(secs(2));
    assert_eq!(ticker.tick().await - start, secs(6));
}

#[brigade::test(virtual)]
async fn a_timeout_can_be_read_moved_and_lifted() {
    let start = Instant::now();
    let mut t = std::pin::pin!(timeout(secs(5), sleep(secs(8))));
    assert_eq!(t.deadline(), Some(start + secs(5)));
    assert!(!t.expired());
    // Lifted: no deadline at all.
    t.as_mut().reschedule(None);
    assert_eq!(t.deadline(), None);
    assert!(t.as_mut().await.is_ok());
    assert_eq!(start.elapsed(), secs(8));

    // Moved earlier while it runs: expires at the new deadline.
    let mut t = std::pin::pin!(timeout(secs(60), sleep(secs(60))));
    let first = timeout(secs(1), t.as_mut()).await;
    assert!(first.is_err(), "the outer timeout gave up first");
    t.as_mut().reschedule(Some(start + secs(10)));
    let error = t.as_mut().await.unwrap_err();
    assert!(t.expired());
    assert_eq!(start.elapsed(), secs(10));
    assert_eq!(error.duration(), None, "rescheduled: no duration to report");
    // Once expired, rescheduling does nothing.
    t.as_mut().reschedule(None);
    assert!(t.expired());
    assert_eq!(t.deadline(), Some(start + secs(10)));
}

#[brigade::test(virtual)]
async fn a_timeout_rescheduled_into_the_past_expires_at_its_next_poll() {
    let start = Instant::now();
    let mut t = std::pin::pin!(timeout(secs(60), sleep(secs(60))));
    let _ = timeout(secs(1), t.as_mut()).await;
    t.as_mut().reschedule(Some(start));
    assert!(t.as_mut().await.is_err());
    assert_eq!(start.elapsed(), secs(1));
}
