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
//! Each async workload runs on one brigade event loop (`brigade::Runtime`),
//! the counterpart of tokio's current_thread runtime; the chess workloads
//! run it on its virtual clock, as tokio's run with a paused clock, and
//! share the master through `brigade::sync::LocalMutex`, the lock for the
//! tasks of one loop.
//! `threads` uses `brigade::thread::Thread`, `poolmap` its `ThreadPool`,
//! `procs` `brigade::process::Process` (start method `spawn`; the extra row
//! `brigade-forkserver` is the same with the forkserver) and `procpool` its
//! `ProcessPool` with 2 workers and automatic chunking (the same chunk
//! size, [`w::PROCPOOL_CHUNK`], that every peer's pool is given), started
//! and warmed before the measured window, as every pool is.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brigade::Runtime;
use brigade::io::{AsyncReadExt, AsyncWriteExt, DriverKind};
use brigade::net::{ListenOptions, TcpListener, TcpStream};
use brigade::sync::{LocalMutex, mpsc};

use crate::measure::{self, Measured, Meter, lateness_sleeper, record_lateness, timed};
use crate::registry::{BenchFn, Entry, Impl};
use crate::rt_std::TempFiles;
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
    (Workload::Threads, threads),
    (Workload::PoolMap, poolmap),
    (Workload::Procs, procs),
    (Workload::ProcPool, procpool),
    (Workload::ProcRtt, procrtt),
    (Workload::Echo10, || echo(Workload::Echo10)),
    (Workload::Echo, || echo(Workload::Echo)),
    (Workload::Echo1000, || echo(Workload::Echo1000)),
    (Workload::Files, || files(Workload::Files)),
    (Workload::FilesTmpfs, || files(Workload::FilesTmpfs)),
    (Workload::Threads1, threads_one_at_a_time),
    (Workload::Broadcast, crate::rt_brigade_sync::fan_out),
    (Workload::RwLock, crate::rt_brigade_sync::read_heavy),
    (Workload::JoinSet, crate::rt_brigade_sync::join_set),
    (Workload::MpLock, crate::rt_brigade_shared::lock_uncontended),
    (Workload::MpLock2, crate::rt_brigade_shared::lock_contended),
    (Workload::MpValue, crate::rt_brigade_shared::value_contended),
    (Workload::Manager, crate::rt_brigade_shared::manager_dict),
    (Workload::Lateness, lateness),
    (Workload::ClusterMap, crate::rt_brigade_cluster::cluster_map),
    (Workload::ClusterRtt, crate::rt_brigade_cluster::cluster_rtt),
];

/// Extra rows: processes started by the forkserver; the same I/O work on the
/// epoll driver (files on the blocking pool); echo on one loop per core
/// behind one port (SO_REUSEPORT).
fn extra_entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Procs, "brigade-forkserver", procs_forkserver),
        Entry::run(Workload::Echo10, "brigade-2loops", || {
            echo_2loops(Workload::Echo10)
        }),
        Entry::run(Workload::Echo, "brigade-epoll", || {
            echo_epoll(Workload::Echo)
        }),
        Entry::run(Workload::Echo, "brigade-2loops", || {
            echo_2loops(Workload::Echo)
        }),
        Entry::run(Workload::Echo1000, "brigade-2loops", || {
            echo_2loops(Workload::Echo1000)
        }),
        Entry::run(Workload::Files, "brigade-epoll", || {
            files_epoll(Workload::Files)
        }),
        Entry::run(Workload::Files, "brigade-2loops", || {
            files_2loops(Workload::Files)
        }),
        Entry::run(Workload::FilesTmpfs, "brigade-epoll", || {
            files_epoll(Workload::FilesTmpfs)
        }),
        Entry::run(Workload::FilesTmpfs, "brigade-2loops", || {
            files_2loops(Workload::FilesTmpfs)
        }),
    ]
}

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
        .chain(extra_entries())
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

fn lateness() -> Measured {
    let sleepers = w::lateness_delays_us();
    let (measured, late) = event_loop().block_on(async move {
        let meter = Meter::start();
        let tasks: Vec<_> = sleepers
            .into_iter()
            .map(|delays| brigade::spawn(lateness_sleeper(delays, brigade::sleep)))
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

fn chess24() -> Measured {
    chess(Workload::Chess24)
}

fn chess100k() -> Measured {
    chess(Workload::Chess100k)
}

fn chess(workload: Workload) -> Measured {
    measure::repeat(w::chess_exhibitions(workload), || exhibition(workload))
}

/// One exhibition, timed from the first board's spawn to the last board's end.
fn exhibition(workload: Workload) -> Measured {
    let rt = Runtime::builder()
        .virtual_clock(true)
        .build()
        .expect("brigade runtime");
    rt.block_on(timed(async {
        // One loop: the loop-local mutex, as smol's row uses a local lock
        // written in the harness (tokio has none, and uses its `Mutex`).
        let master = Rc::new(LocalMutex::new(()));
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

fn threads() -> Measured {
    let meter = Meter::start();
    let mut threads: Vec<_> = (0..w::THREADS)
        .map(|i| {
            let mut t = brigade::thread::Thread::from_fn(move || i);
            t.start().expect("thread start");
            t
        })
        .collect();
    let mut sum = 0;
    for t in &mut threads {
        sum += t.join().expect("thread panicked");
    }
    meter.finish(sum)
}

fn threads_one_at_a_time() -> Measured {
    let meter = Meter::start();
    let mut sum = 0;
    for i in 0..w::THREADS {
        let mut t = brigade::thread::Thread::from_fn(move || i);
        t.start().expect("thread start");
        sum += t.join().expect("thread panicked");
    }
    meter.finish(sum)
}

fn poolmap() -> Measured {
    // As for rayon, whose global pool starts on first use, starting the pool
    // is inside the measured window; the range is mapped without an input
    // vector, as rayon's `into_par_iter` does.
    let meter = Meter::start();
    let pool = brigade::thread::ThreadPool::new().expect("thread pool");
    let results = pool
        .map_range(w::poolmap_fn, 0..w::POOLMAP_ITEMS)
        .expect("pool map");
    let timing = meter.stop();
    timing.with_value(w::poolmap_checksum(&results))
}

fn procs_with(method: brigade::process::StartMethod) -> Measured {
    let meter = Meter::start();
    let mut children: Vec<_> = (0..w::PROCS)
        .map(|i| {
            let mut p = brigade::process::Process::new(w::square, (i,)).start_method(method);
            p.start().expect("process start");
            p
        })
        .collect();
    let mut sum = 0;
    for p in &mut children {
        sum += p.join().expect("child process failed");
    }
    meter.finish(sum)
}

fn procs() -> Measured {
    procs_with(brigade::process::StartMethod::Spawn)
}

fn procs_forkserver() -> Measured {
    procs_with(brigade::process::StartMethod::Forkserver)
}

/// A started pool whose every worker has run one task.
fn warm_pool() -> brigade::process::ProcessPool {
    let pool = brigade::process::ProcessPool::new(w::PROCPOOL_WORKERS).expect("process pool");
    let warm: Vec<_> = (0..w::PROCPOOL_WORKERS as u64)
        .map(|i| pool.submit(w::square, (i,)))
        .collect();
    for task in warm {
        task.wait().expect("warm-up task");
    }
    pool
}

fn procpool() -> Measured {
    let items: Vec<u64> = (0..w::PROCPOOL_ITEMS).collect();
    // `map`'s own rule gives the chunk size every peer is given.
    assert_eq!(
        w::PROCPOOL_CHUNK,
        items.len().div_ceil(4 * w::PROCPOOL_WORKERS)
    );
    let pool = warm_pool();
    let meter = Meter::start();
    let mut sum = 0;
    for _ in 0..w::PROCPOOL_MAPS {
        let results = pool
            .map(w::square, items.iter().copied())
            .expect("pool map");
        sum += results.iter().sum::<u64>();
    }
    let timing = meter.stop();
    drop(pool);
    timing.with_value(sum)
}

fn procrtt() -> Measured {
    let pool = warm_pool();
    let meter = Meter::start();
    let mut sum = 0;
    for i in 0..w::PROCRTT_TASKS {
        sum += pool.apply(w::square, (i,)).expect("pool task");
    }
    let timing = meter.stop();
    drop(pool);
    timing.with_value(sum)
}

fn loop_with(driver: DriverKind) -> Runtime {
    Runtime::builder()
        .io_driver(driver)
        .build()
        .expect("brigade runtime")
}

fn echo(workload: Workload) -> Measured {
    event_loop().block_on(timed(echo_one_loop(workload)))
}

fn echo_epoll(workload: Workload) -> Measured {
    loop_with(DriverKind::Epoll).block_on(timed(echo_one_loop(workload)))
}

async fn echo_one_loop(workload: Workload) -> u64 {
    let (connections, rounds) = w::echo_shape(workload);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let clients: Vec<_> = (0..connections)
        .map(|conn| brigade::spawn(echo_client(addr, conn, rounds)))
        .collect();
    let mut servers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (stream, _) = listener.accept().await.expect("accept");
        servers.push(brigade::spawn(echo_serve(stream)));
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
            Ok(()) => stream.write_all(&buf).await.expect("server write"),
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

/// Two loops on two threads, each with a listener on the same port
/// (SO_REUSEPORT) and half of the clients; the kernel decides which loop
/// serves each connection, so a loop keeps serving until every client of
/// both loops is done.
fn echo_2loops(workload: Workload) -> Measured {
    const LOOPS: usize = 2;
    let (connections, rounds) = w::echo_shape(workload);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("probe port")
        .local_addr()
        .expect("probe addr")
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let finished = Arc::new(AtomicUsize::new(0));
    let bound = Arc::new(std::sync::Barrier::new(LOOPS + 1));
    let start = Arc::new(std::sync::Barrier::new(LOOPS + 1));
    let threads: Vec<_> = (0..LOOPS)
        .map(|index| {
            let (finished, bound, start) = (finished.clone(), bound.clone(), start.clone());
            std::thread::spawn(move || {
                let rt = event_loop();
                let listener = rt
                    .block_on(ListenOptions::new().reuse_port(true).bind(addr))
                    .expect("bind with SO_REUSEPORT");
                bound.wait();
                start.wait();
                rt.block_on(async move {
                    brigade::spawn(async move {
                        loop {
                            let (stream, _) = listener.accept().await.expect("accept");
                            brigade::spawn(echo_serve(stream));
                        }
                    });
                    let clients: Vec<_> = (index..connections)
                        .step_by(LOOPS)
                        .map(|conn| brigade::spawn(echo_client(addr, conn, rounds)))
                        .collect();
                    let mut bytes = 0;
                    for client in clients {
                        bytes += client.await.expect("client panicked");
                    }
                    finished.fetch_add(1, Ordering::AcqRel);
                    // Serve the other loop's clients until they are done too.
                    while finished.load(Ordering::Acquire) < LOOPS {
                        brigade::sleep(Duration::from_millis(1)).await;
                    }
                    bytes
                })
            })
        })
        .collect();
    bound.wait();
    let meter = Meter::start();
    start.wait();
    let bytes: u64 = threads
        .into_iter()
        .map(|t| t.join().expect("loop panicked"))
        .sum();
    meter.finish(bytes)
}

fn files(workload: Workload) -> Measured {
    files_on(event_loop(), workload)
}

fn files_epoll(workload: Workload) -> Measured {
    files_on(loop_with(DriverKind::Epoll), workload)
}

/// Two loops, one per core (`event_loop::run_on_threads`), each reading
/// every other file through its own io_uring; starting the loops is inside
/// the measured window.
fn files_2loops(workload: Workload) -> Measured {
    const LOOPS: usize = 2;
    let files = TempFiles::create(workload);
    let paths = files.paths();
    let meter = Meter::start();
    let per_loop = brigade::event_loop::run_on_threads(LOOPS, |index| async move {
        let reads: Vec<_> = paths
            .iter()
            .skip(index)
            .step_by(LOOPS)
            .map(|path| brigade::spawn(brigade::fs::read(path.clone())))
            .collect();
        let mut contents = Vec::with_capacity(reads.len());
        for read in reads {
            contents.push(read.await.expect("read task panicked").expect("read"));
        }
        contents
    });
    let timing = meter.stop();
    let contents: Vec<Vec<u8>> = per_loop.into_iter().flatten().collect();
    timing.with_value(w::files_checksum(&contents))
}

fn files_on(rt: Runtime, workload: Workload) -> Measured {
    let files = TempFiles::create(workload);
    let (timing, contents) = rt.block_on(async {
        let meter = Meter::start();
        let reads: Vec<_> = files
            .paths()
            .iter()
            .map(|path| brigade::spawn(brigade::fs::read(path.clone())))
            .collect();
        let mut contents = Vec::with_capacity(reads.len());
        for read in reads {
            contents.push(read.await.expect("read task panicked").expect("read"));
        }
        (meter.stop(), contents)
    });
    timing.with_value(w::files_checksum(&contents))
}
