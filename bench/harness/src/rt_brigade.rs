//! brigade's column (compiled only with `--features brigade`).
//!
//! Adding a brigade workload is one function: write
//! `fn <workload>() -> Measured` below, doing the same work as the peers
//! (see [`crate::workloads`] for sizes, inputs and the check value, and any
//! `rt_*.rs` for a model: set up untimed, `Meter::start()` right before the
//! work, stop right after, return the check value), then add it to
//! [`IMPLEMENTED`]. Workloads missing from that table are reported as
//! "not built yet".
//!
//! Each workload runs on one brigade event loop (`brigade::Runtime`), the
//! counterpart of tokio's current_thread runtime; the chess workloads run
//! it on its virtual clock, as tokio's run with a paused clock.

use std::rc::Rc;
use std::time::Duration;

use brigade::Runtime;
use brigade::sync::{Mutex, mpsc};

use crate::measure::{Measured, timed};
use crate::registry::{BenchFn, Entry, Impl};
use crate::workloads::{self as w, ALL, Workload};

/// The runtime name of brigade's rows.
pub const RUNTIME: &str = "brigade";

/// brigade's implementations.
const IMPLEMENTED: &[(Workload, BenchFn)] = &[
    (Workload::Spawn, spawn),
    (Workload::Yield, yields),
    (Workload::PingPong, pingpong),
    (Workload::Timers, timers),
    (Workload::Chess24, chess24),
    (Workload::Chess100k, chess100k),
];

/// One row per workload: implemented, or not built yet.
pub fn entries() -> Vec<Entry> {
    ALL.into_iter()
        .map(|workload| {
            let imp = IMPLEMENTED.iter().find(|(w, _)| *w == workload).map_or(
                Impl::NotBuilt("no brigade implementation yet"),
                |&(_, f)| Impl::Run(f),
            );
            Entry {
                workload,
                runtime: RUNTIME,
                imp,
            }
        })
        .collect()
}

fn event_loop() -> Runtime {
    Runtime::new().expect("brigade runtime")
}

fn spawn() -> Measured {
    event_loop().block_on(timed(async {
        let handles: Vec<_> = (0..w::SPAWN_TASKS)
            .map(|i| brigade::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("task panicked");
        }
        sum
    }))
}

fn yields() -> Measured {
    event_loop().block_on(timed(async {
        let handles: Vec<_> = (0..w::YIELD_TASKS)
            .map(|_| {
                brigade::spawn(async {
                    for _ in 0..w::YIELDS_PER_TASK {
                        brigade::yield_now().await;
                    }
                    w::YIELDS_PER_TASK
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.expect("task panicked");
        }
        total
    }))
}

fn pingpong() -> Measured {
    event_loop().block_on(timed(async {
        let (to_pong, mut pong_rx) = mpsc::channel::<u64>(1);
        let (to_ping, mut ping_rx) = mpsc::channel::<u64>(1);
        let pong = brigade::spawn(async move {
            while let Some(v) = pong_rx.recv().await {
                if to_ping.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let ping = brigade::spawn(async move {
            let mut sum = 0;
            for i in 0..w::PINGPONG_ROUND_TRIPS {
                to_pong.send(i).await.expect("ponger gone");
                sum += ping_rx.recv().await.expect("ponger gone");
            }
            sum
        });
        let sum = ping.await.expect("pinger panicked");
        pong.await.expect("ponger panicked");
        sum
    }))
}

fn timers() -> Measured {
    let delays = w::timer_delays_ms();
    event_loop().block_on(timed(async move {
        let handles: Vec<_> = delays
            .into_iter()
            .map(|d| {
                brigade::spawn(async move {
                    brigade::sleep(Duration::from_millis(d)).await;
                    d + 1
                })
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("timer task panicked");
        }
        sum
    }))
}

fn chess24() -> Measured {
    chess(Workload::Chess24)
}

fn chess100k() -> Measured {
    chess(Workload::Chess100k)
}

fn chess(workload: Workload) -> Measured {
    let rt = Runtime::builder()
        .virtual_clock(true)
        .build()
        .expect("brigade runtime");
    rt.block_on(timed(async {
        let master = Rc::new(Mutex::new(()));
        let start = brigade::time::Instant::now();
        let boards: Vec<_> = (0..w::chess_boards(workload))
            .map(|_| {
                let master = master.clone();
                brigade::spawn(async move {
                    for _ in 0..w::CHESS_MOVES {
                        let turn = master.lock().await;
                        brigade::sleep(Duration::from_secs(w::CHESS_MASTER_SECS)).await;
                        drop(turn);
                        brigade::sleep(Duration::from_secs(w::CHESS_OPPONENT_SECS)).await;
                    }
                })
            })
            .collect();
        for board in boards {
            board.await.expect("board panicked");
        }
        start.elapsed().as_millis() as u64
    }))
}
