//! Timers on the real clock, under each I/O driver: the loop sleeps in the
//! driver until a timer's deadline (a timerfd in the epoll set). These tests
//! check correctness only, never how late a timer is (the `lateness`
//! benchmark measures that): a sleep never ends before its deadline, and a
//! deadline that moves, repeats or is cancelled never leaves the loop asleep.

use std::time::Duration;

use brigade::io::DriverKind;
use brigade::time::{Instant, sleep, sleep_until, timeout};
use brigade::{Runtime, spawn};

/// A real-clock runtime on each driver this kernel offers (io_uring may be
/// refused, by the kernel or a sandbox; epoll never is), each with the
/// default spin before a deadline and with none.
fn runtimes() -> Vec<Runtime> {
    let mut rts = Vec::new();
    for spin in [None, Some(Duration::ZERO)] {
        rts.extend(spinning(spin));
    }
    rts
}

fn spinning(spin: Option<Duration>) -> Vec<Runtime> {
    let builder = |kind| {
        let builder = Runtime::builder().io_driver(kind);
        match spin {
            Some(spin) => builder.timer_spin(spin),
            None => builder,
        }
    };
    let mut rts = vec![builder(DriverKind::Epoll).build().unwrap()];
    if let Ok(rt) = builder(DriverKind::Uring).build() {
        assert_eq!(rt.io_driver(), DriverKind::Uring);
        rts.push(rt);
    }
    rts
}

/// A spin longer than any sleep here: the loop spins from the moment a
/// timer is pending, so whatever ends the wait early ended the spin.
const SPIN_ALL_THE_WAY: Duration = Duration::from_secs(10);

#[test]
fn sub_millisecond_sleeps_never_end_early() {
    for rt in runtimes() {
        rt.block_on(async {
            for us in [1u64, 50, 120, 333, 999, 1001, 1500] {
                let start = Instant::now();
                sleep(Duration::from_micros(us)).await;
                assert!(start.elapsed() >= Duration::from_micros(us), "{us} µs");
            }
        });
    }
}

#[test]
fn sleepers_with_one_deadline_all_wake() {
    for rt in runtimes() {
        rt.block_on(async {
            // The same deadline twice in a row: the second park finds the
            // timer armed for it already, and must not wait for an expiry
            // the first park consumed.
            let deadline = Instant::now() + Duration::from_micros(400);
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    spawn(async move {
                        sleep_until(deadline).await;
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            assert_eq!(sum, 28);
            assert!(Instant::now() >= deadline);
            sleep_until(deadline).await; // already past: ready at once
        });
    }
}

#[test]
fn a_cancelled_earliest_timer_does_not_strand_the_loop() {
    for rt in runtimes() {
        rt.block_on(async {
            // The loop arms its timer for the earliest deadline (the
            // sleeper's); cancelling that sleeper leaves the timer armed
            // for a deadline nobody waits for. The later sleep must still
            // end, not early, and the stale expiry must do no harm.
            let sleeper = spawn(sleep(Duration::from_micros(300)));
            brigade::yield_now().await;
            let start = Instant::now();
            let quick = timeout(Duration::from_micros(100), std::future::pending::<()>()).await;
            assert!(quick.is_err());
            sleeper.abort();
            // On a loaded machine the sleeper may have finished before the
            // abort; the loop must be right either way, so its outcome is
            // not asserted (aborting is tested in `event_loop_tasks`).
            let _ = sleeper.await;
            sleep(Duration::from_micros(900)).await;
            assert!(start.elapsed() >= Duration::from_micros(1000));
        });
    }
}

#[test]
fn a_later_timer_set_while_asleep_does_not_delay_an_earlier_one() {
    for rt in runtimes() {
        rt.block_on(async {
            // A thread's wake-up interrupts the loop's sleep for the far
            // timer; the near one set after it must be the one it waits for.
            let far = spawn(sleep(Duration::from_secs(3600)));
            let (tx, rx) = brigade::sync::oneshot::channel();
            let poke = std::thread::spawn(move || tx.send(()).unwrap());
            rx.await.unwrap();
            poke.join().unwrap();
            let start = Instant::now();
            sleep(Duration::from_micros(200)).await;
            assert!(start.elapsed() >= Duration::from_micros(200));
            far.abort();
        });
    }
}

#[test]
fn work_from_another_thread_ends_the_spin() {
    for rt in spinning(Some(SPIN_ALL_THE_WAY)) {
        rt.block_on(async {
            let start = Instant::now();
            let timer = spawn(sleep(Duration::from_secs(1)));
            let (tx, rx) = brigade::sync::oneshot::channel();
            let poke = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                tx.send(()).unwrap();
            });
            rx.await.unwrap();
            // Had the spin ignored the wake-up, it would have ended only
            // at the timer's deadline.
            assert!(start.elapsed() < Duration::from_secs(1));
            poke.join().unwrap();
            timer.abort();
        });
    }
}

#[test]
fn ready_io_ends_the_spin() {
    use brigade::io::AsyncReadExt;
    use std::io::Write;

    for rt in spinning(Some(SPIN_ALL_THE_WAY)) {
        rt.block_on(async {
            let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut ours = brigade::net::UnixStream::from_std(ours).unwrap();
            let start = Instant::now();
            let timer = spawn(sleep(Duration::from_secs(1)));
            let write = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                theirs.write_all(b"!").unwrap();
                theirs
            });
            let mut byte = [0u8; 1];
            ours.read_exact(&mut byte).await.unwrap();
            assert_eq!(&byte, b"!");
            assert!(start.elapsed() < Duration::from_secs(1));
            drop(write.join().unwrap());
            timer.abort();
        });
    }
}
