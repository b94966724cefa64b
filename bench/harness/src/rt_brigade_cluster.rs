//! brigade's column for the cluster workloads (compiled only with
//! `--features brigade`), against Celery in `bench/python/rt_celery.py`:
//!
//! * `clustermap`: `ProcessPool::builder().cluster(url)`'s `map_chunked`
//!   of `n ↦ n²` over 0..100,000 in chunks of [`w::CLUSTERMAP_CHUNK`];
//! * `clusterrtt`: 1,000 `apply` calls, one at a time.
//!
//! The broker is the `redis-server` at `BENCH_REDIS_URL` (`bench/run.py`
//! starts one for the whole run, so every peer uses the same one), or, when
//! the variable is unset, one this process starts on a free loopback port.
//! The worker is this very binary started with `BRIGADE_WORKER` (2
//! processes, as `celery worker --concurrency 2`), on a namespace of its
//! own; it and the pool are started and warmed before the measured window.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use brigade::process::{Cluster, ProcessPool};

use crate::measure::Measured;
use crate::workloads as w;

/// A broker for this run: the shared one, or one of our own.
struct Broker {
    url: String,
    own: Option<Child>,
}

impl Broker {
    fn get() -> Broker {
        if let Ok(url) = std::env::var("BENCH_REDIS_URL") {
            return Broker { url, own: None };
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let url = format!("redis://127.0.0.1:{port}/0");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Broker {
            url,
            own: Some(child),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(child) = &mut self.own {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The worker program: this binary, taken over before `main`.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The broker, the worker, and a pool whose worker processes have each
/// run a task.
fn setup() -> (Broker, Worker, ProcessPool) {
    let broker = Broker::get();
    let namespace = format!("bench-{}", std::process::id());
    let worker = Worker(
        Command::new(std::env::current_exe().expect("own path"))
            .env(brigade::process::WORKER_ENV, &broker.url)
            .env(
                brigade::process::WORKER_PROCESSES_ENV,
                w::CLUSTER_WORKERS.to_string(),
            )
            .env(brigade::process::WORKER_NAMESPACE_ENV, &namespace)
            .stdin(Stdio::null())
            .spawn()
            .expect("worker"),
    );
    let pool = ProcessPool::builder()
        .cluster(Cluster::new(broker.url.clone()).namespace(namespace))
        .build()
        .expect("cluster pool");
    let warm: Vec<_> = (0..2 * w::CLUSTER_WORKERS as u64)
        .map(|i| pool.submit(w::square, (i,)))
        .collect();
    for task in warm {
        task.wait().expect("warm-up task");
    }
    (broker, worker, pool)
}

pub fn cluster_map() -> Measured {
    let (_broker, _worker, pool) = setup();
    let items: Vec<u64> = (0..w::CLUSTERMAP_ITEMS).collect();
    let meter = crate::measure::Meter::start();
    let results = pool
        .map_chunked(w::square, items, w::CLUSTERMAP_CHUNK)
        .expect("cluster map");
    let timing = meter.stop();
    timing.with_value(results.iter().sum())
}

pub fn cluster_rtt() -> Measured {
    let (_broker, _worker, pool) = setup();
    let meter = crate::measure::Meter::start();
    let mut sum = 0;
    for i in 0..w::CLUSTERRTT_TASKS {
        sum += pool.apply(w::square, (i,)).expect("cluster task");
    }
    let timing = meter.stop();
    timing.with_value(sum)
}
