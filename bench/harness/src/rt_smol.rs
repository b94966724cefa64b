//! The smol ecosystem, assembled from its parts (`async-executor`,
//! `async-io`, `async-channel`, `futures-lite`), on two executors:
//!
//! * `smol-local`: one `LocalExecutor` driven by `async_io::block_on` on the
//!   calling thread;
//! * `smol-mt`: one shared `Executor` run by two threads (the calling thread
//!   and one helper), both inside `async_io::block_on` so either can drive
//!   the reactor.
//!
//! Timers are `async_io::Timer`, sockets `async_io::Async<std::net::…>`,
//! channels `async_channel::bounded(1)`, yields `futures_lite::future::yield_now`.
//! smol has no virtual clock of its own: the chess workloads run on
//! `smol-vclock` (`rt_smol_clock.rs`), a small one written in the harness.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use async_executor::{Executor, LocalExecutor, Task};
use async_io::{Async, Timer};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::measure::{Measured, Meter, lateness_sleeper, record_lateness, timed};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Lateness, "smol-local", lateness),
        Entry::run(Workload::Spawn, "smol-local", || {
            local(async |ex| spawn(ex).await)
        }),
        Entry::run(Workload::Spawn, "smol-mt", || {
            multi(async |ex| spawn(ex).await)
        }),
        Entry::run(Workload::Yield, "smol-local", || {
            local(async |ex| yields(ex).await)
        }),
        Entry::run(Workload::Yield, "smol-mt", || {
            multi(async |ex| yields(ex).await)
        }),
        Entry::run(Workload::PingPong, "smol-local", || {
            local(async |ex| pingpong(ex).await)
        }),
        Entry::run(Workload::PingPong, "smol-mt", || {
            multi(async |ex| pingpong(ex).await)
        }),
        Entry::run(Workload::Timers, "smol-local", || {
            let delays = w::timer_delays_ms();
            local(async |ex| timers(ex, delays).await)
        }),
        Entry::run(Workload::Timers, "smol-mt", || {
            let delays = w::timer_delays_ms();
            multi(async |ex| timers(ex, delays).await)
        }),
        Entry::run(Workload::Echo10, "smol-local", || {
            local(async |ex| echo(ex, Workload::Echo10).await)
        }),
        Entry::run(Workload::Echo10, "smol-mt", || {
            multi(async |ex| echo(ex, Workload::Echo10).await)
        }),
        Entry::run(Workload::Echo, "smol-local", || {
            local(async |ex| echo(ex, Workload::Echo).await)
        }),
        Entry::run(Workload::Echo, "smol-mt", || {
            multi(async |ex| echo(ex, Workload::Echo).await)
        }),
        Entry::run(Workload::Echo1000, "smol-local", || {
            local(async |ex| echo(ex, Workload::Echo1000).await)
        }),
        Entry::run(Workload::Echo1000, "smol-mt", || {
            multi(async |ex| echo(ex, Workload::Echo1000).await)
        }),
    ]
}

/// What the workloads need from an executor: spawning `Send` futures from
/// the measured body. Both executors can do that, so one body serves both.
trait Spawner {
    fn spawn_task<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T>;
}

impl Spawner for LocalExecutor<'static> {
    fn spawn_task<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T> {
        self.spawn(future)
    }
}

impl Spawner for Executor<'static> {
    fn spawn_task<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T> {
        self.spawn(future)
    }
}

/// Runs `body` on a `LocalExecutor` on this thread.
fn local(body: impl AsyncFnOnce(&LocalExecutor<'static>) -> u64) -> Measured {
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(timed(body(&ex))))
}

/// Runs `body` on an `Executor` shared by this thread and one helper thread.
fn multi(body: impl AsyncFnOnce(&Executor<'static>) -> u64) -> Measured {
    let ex = Executor::new();
    let (stop, stopped) = async_channel::bounded::<()>(1);
    std::thread::scope(|scope| {
        // The helper runs tasks until `stop` is dropped.
        scope.spawn(|| async_io::block_on(ex.run(stopped.recv())));
        let measured = async_io::block_on(ex.run(timed(body(&ex))));
        drop(stop);
        measured
    })
}

async fn spawn(ex: &impl Spawner) -> u64 {
    let tasks: Vec<_> = (0..w::SPAWN_TASKS)
        .map(|i| ex.spawn_task(async move { i }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await;
    }
    sum
}

async fn yields(ex: &impl Spawner) -> u64 {
    let tasks: Vec<_> = (0..w::YIELD_TASKS)
        .map(|_| {
            ex.spawn_task(async {
                for _ in 0..w::YIELDS_PER_TASK {
                    futures_lite::future::yield_now().await;
                }
                w::YIELDS_PER_TASK
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await;
    }
    total
}

async fn pingpong(ex: &impl Spawner) -> u64 {
    let (to_pong, pong_rx) = async_channel::bounded::<u64>(1);
    let (to_ping, ping_rx) = async_channel::bounded::<u64>(1);
    let pong = ex.spawn_task(async move {
        while let Ok(v) = pong_rx.recv().await {
            if to_ping.send(v + 1).await.is_err() {
                break;
            }
        }
    });
    let ping = ex.spawn_task(async move {
        let mut sum = 0;
        for i in 0..w::PINGPONG_ROUND_TRIPS {
            to_pong.send(i).await.expect("ponger gone");
            sum += ping_rx.recv().await.expect("ponger gone");
        }
        sum
    });
    let sum = ping.await;
    pong.await;
    sum
}

async fn timers(ex: &impl Spawner, delays: Vec<u64>) -> u64 {
    let tasks: Vec<_> = delays
        .into_iter()
        .map(|d| {
            ex.spawn_task(async move {
                Timer::after(Duration::from_millis(d)).await;
                d + 1
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await;
    }
    sum
}

/// `lateness` on a `LocalExecutor`, as `local` runs the others.
fn lateness() -> Measured {
    let sleepers = w::lateness_delays_us();
    let ex = LocalExecutor::new();
    let (measured, late) = async_io::block_on(ex.run(async {
        let meter = Meter::start();
        let tasks: Vec<_> = sleepers
            .into_iter()
            .map(|delays| {
                ex.spawn(lateness_sleeper(delays, |d| async move {
                    Timer::after(d).await;
                }))
            })
            .collect();
        let (mut sum, mut late) = (0, Vec::new());
        for task in tasks {
            let (s, l) = task.await;
            sum += s;
            late.extend(l);
        }
        (meter.finish(sum), late)
    }));
    record_lateness(late);
    measured
}

async fn echo(ex: &impl Spawner, workload: Workload) -> u64 {
    let (connections, rounds) = w::echo_shape(workload);
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
    // std listens with a backlog of 128; give smol the 1,024 of tokio and
    // brigade, or a thousand clients connecting at once overflow it and
    // wait a second for the SYN to be sent again.
    crate::rt_std::listen_backlog(listener.get_ref(), 1024);
    let addr = listener.get_ref().local_addr().expect("local addr");
    let clients: Vec<_> = (0..connections)
        .map(|conn| ex.spawn_task(echo_client(addr, conn, rounds)))
        .collect();
    let mut servers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (stream, _) = listener.accept().await.expect("accept");
        servers.push(ex.spawn_task(echo_serve(stream)));
    }
    let mut bytes = 0;
    for client in clients {
        bytes += client.await;
    }
    for server in servers {
        server.await;
    }
    bytes
}

async fn echo_serve(mut stream: Async<TcpStream>) {
    stream.get_ref().set_nodelay(true).expect("nodelay");
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
    let mut stream = Async::<TcpStream>::connect(addr).await.expect("connect");
    stream.get_ref().set_nodelay(true).expect("nodelay");
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
