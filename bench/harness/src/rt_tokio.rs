//! tokio, on its two schedulers:
//!
//! * `tokio-ct`: `Builder::new_current_thread()`, everything on the calling thread;
//! * `tokio-mt`: `Builder::new_multi_thread()`, one worker per core (2 here);
//!   the measured body runs in `block_on` and spawns onto the workers.
//!
//! The chess workloads use `tokio-ct` with `start_paused(true)`: the clock
//! is virtual and jumps to the next timer whenever every task is idle.
//! `tokio::sync::Mutex` is FIFO-fair, which the exhibition relies on.
//! The `files` workloads use `tokio::fs`, which runs each read on the
//! blocking pool, on both schedulers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{Mutex, mpsc};

use crate::measure::{self, Measured, Meter, lateness_sleeper, record_lateness, timed};
use crate::registry::Entry;
use crate::rt_std::TempFiles;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Spawn, "tokio-ct", || ct(spawn())),
        Entry::run(Workload::Spawn, "tokio-mt", || mt(spawn())),
        Entry::run(Workload::Yield, "tokio-ct", || ct(yields())),
        Entry::run(Workload::Yield, "tokio-mt", || mt(yields())),
        Entry::run(Workload::PingPong, "tokio-ct", || ct(pingpong())),
        Entry::run(Workload::PingPong, "tokio-mt", || mt(pingpong())),
        Entry::run(Workload::Timers, "tokio-ct", timers_ct),
        Entry::run(Workload::Timers, "tokio-mt", timers_mt),
        Entry::run(Workload::Lateness, "tokio-ct", lateness),
        Entry::run(Workload::Chess24, "tokio-ct", || chess(Workload::Chess24)),
        Entry::run(Workload::Chess100k, "tokio-ct", || {
            chess(Workload::Chess100k)
        }),
        Entry::run(Workload::Echo10, "tokio-ct", || ct(echo(Workload::Echo10))),
        Entry::run(Workload::Echo10, "tokio-mt", || mt(echo(Workload::Echo10))),
        Entry::run(Workload::Echo, "tokio-ct", || ct(echo(Workload::Echo))),
        Entry::run(Workload::Echo, "tokio-mt", || mt(echo(Workload::Echo))),
        Entry::run(Workload::Echo1000, "tokio-ct", || {
            ct(echo(Workload::Echo1000))
        }),
        Entry::run(Workload::Echo1000, "tokio-mt", || {
            mt(echo(Workload::Echo1000))
        }),
        Entry::run(Workload::Files, "tokio-ct", || {
            files(current_thread(), Workload::Files)
        }),
        Entry::run(Workload::Files, "tokio-mt", || {
            files(multi_thread(), Workload::Files)
        }),
        Entry::run(Workload::FilesTmpfs, "tokio-ct", || {
            files(current_thread(), Workload::FilesTmpfs)
        }),
        Entry::run(Workload::FilesTmpfs, "tokio-mt", || {
            files(multi_thread(), Workload::FilesTmpfs)
        }),
    ]
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio current_thread runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio multi_thread runtime")
}

fn ct(work: impl Future<Output = u64>) -> Measured {
    current_thread().block_on(timed(work))
}

fn mt(work: impl Future<Output = u64>) -> Measured {
    multi_thread().block_on(timed(work))
}

async fn spawn() -> u64 {
    let handles: Vec<_> = (0..w::SPAWN_TASKS)
        .map(|i| tokio::spawn(async move { i }))
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.expect("task panicked");
    }
    sum
}

async fn yields() -> u64 {
    let handles: Vec<_> = (0..w::YIELD_TASKS)
        .map(|_| {
            tokio::spawn(async {
                for _ in 0..w::YIELDS_PER_TASK {
                    tokio::task::yield_now().await;
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
}

async fn pingpong() -> u64 {
    let (to_pong, mut pong_rx) = mpsc::channel::<u64>(1);
    let (to_ping, mut ping_rx) = mpsc::channel::<u64>(1);
    let pong = tokio::spawn(async move {
        while let Some(v) = pong_rx.recv().await {
            if to_ping.send(v + 1).await.is_err() {
                break;
            }
        }
    });
    let ping = tokio::spawn(async move {
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
}

async fn timers(delays: Vec<u64>) -> u64 {
    let handles: Vec<_> = delays
        .into_iter()
        .map(|d| {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(d)).await;
                d + 1
            })
        })
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.expect("timer task panicked");
    }
    sum
}

fn timers_ct() -> Measured {
    let delays = w::timer_delays_ms();
    ct(timers(delays))
}

fn timers_mt() -> Measured {
    let delays = w::timer_delays_ms();
    mt(timers(delays))
}

fn lateness() -> Measured {
    let sleepers = w::lateness_delays_us();
    let (measured, late) = current_thread().block_on(async move {
        let meter = Meter::start();
        let tasks: Vec<_> = sleepers
            .into_iter()
            .map(|delays| tokio::spawn(lateness_sleeper(delays, tokio::time::sleep)))
            .collect();
        let (mut sum, mut late) = (0, Vec::new());
        for task in tasks {
            let (s, l) = task.await.expect("sleeper panicked");
            sum += s;
            late.extend(l);
        }
        (meter.finish(sum), late)
    });
    record_lateness(late);
    measured
}

fn chess(workload: Workload) -> Measured {
    measure::repeat(w::chess_exhibitions(workload), || exhibition(workload))
}

/// One exhibition, timed from the first board's spawn to the last board's end.
fn exhibition(workload: Workload) -> Measured {
    let rt = Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("paused tokio runtime");
    rt.block_on(timed(async {
        let master = Arc::new(Mutex::new(()));
        let start = tokio::time::Instant::now();
        let boards: Vec<_> = (0..w::chess_boards(workload))
            .map(|_| {
                let master = master.clone();
                tokio::spawn(async move {
                    for _ in 0..w::CHESS_MOVES {
                        let turn = master.lock().await;
                        tokio::time::sleep(Duration::from_secs(w::CHESS_MASTER_SECS)).await;
                        drop(turn);
                        tokio::time::sleep(Duration::from_secs(w::CHESS_OPPONENT_SECS)).await;
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

async fn echo(workload: Workload) -> u64 {
    let (connections, rounds) = w::echo_shape(workload);
    // tokio's bind listens with a backlog of 1,024, as brigade's does.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let clients: Vec<_> = (0..connections)
        .map(|conn| tokio::spawn(echo_client(addr, conn, rounds)))
        .collect();
    let mut servers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (stream, _) = listener.accept().await.expect("accept");
        servers.push(tokio::spawn(echo_serve(stream)));
    }
    let mut bytes = 0;
    for client in clients {
        bytes += client.await.expect("client panicked");
    }
    for server in servers {
        server.await.expect("server panicked");
    }
    bytes
}

async fn echo_serve(mut stream: TcpStream) {
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = [0u8; w::ECHO_MESSAGE];
    loop {
        match stream.read_exact(&mut buf).await {
            Ok(_) => stream.write_all(&buf).await.expect("server write"),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return,
            Err(e) => panic!("server read: {e}"),
        }
    }
}

async fn echo_client(addr: SocketAddr, conn: usize, rounds: usize) -> u64 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut back = [0u8; w::ECHO_MESSAGE];
    let mut bytes = 0;
    for round in 0..rounds {
        let msg = w::echo_message(conn, round);
        stream.write_all(&msg).await.expect("client write");
        stream.read_exact(&mut back).await.expect("client read");
        assert_eq!(back, msg, "echoed bytes differ");
        bytes += back.len() as u64;
    }
    bytes
}

fn files(rt: Runtime, workload: Workload) -> Measured {
    let files = TempFiles::create(workload);
    let (timing, contents) = rt.block_on(async {
        let meter = Meter::start();
        let reads: Vec<_> = files
            .paths()
            .iter()
            .map(|path| tokio::spawn(tokio::fs::read(path.clone())))
            .collect();
        let mut contents = Vec::with_capacity(reads.len());
        for read in reads {
            contents.push(read.await.expect("read task panicked").expect("read"));
        }
        (meter.stop(), contents)
    });
    timing.with_value(w::files_checksum(&contents))
}
