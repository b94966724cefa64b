//! Measures brigade's processes: start-to-result latency of each start
//! method, and a pool's `map` throughput. Compare with
//! `python3 crates/brigade/examples/process_bench.py`, which measures the
//! same in CPython.
//!
//! `cargo run --release -p brigade --example process_bench`

use std::time::{Duration, Instant};

use brigade::process::{Process, ProcessPool, StartMethod};

fn square(n: u64) -> u64 {
    n * n
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn latency(method: StartMethod, runs: usize) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        let mut p = Process::new(square, (i as u64,)).start_method(method);
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), (i * i) as u64);
        times.push(start.elapsed());
    }
    let mean = times.iter().sum::<Duration>() / runs as u32;
    (median(times), mean)
}

fn main() {
    // Warm up: page cache, and the forkserver's own start.
    brigade::process::forkserver::start().unwrap();
    let _ = latency(StartMethod::Spawn, 5);
    let _ = latency(StartMethod::Forkserver, 5);

    for method in [StartMethod::Spawn, StartMethod::Forkserver] {
        let (median, mean) = latency(method, 200);
        println!("start->result {method:?}: median {median:?}, mean {mean:?} (200 runs)");
    }

    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    for method in [StartMethod::Spawn, StartMethod::Forkserver] {
        let pool = ProcessPool::builder()
            .processes(workers)
            .start_method(method)
            .build()
            .unwrap();
        // Start the workers before timing, as a warm Python pool would be.
        let _ = pool.map(square, 0..(workers as u64 * 4)).unwrap();
        for n in [10_000u64, 1_000_000] {
            let start = Instant::now();
            let out = pool.map(square, 0..n).unwrap();
            let took = start.elapsed();
            assert_eq!(out.len() as u64, n);
            println!(
                "pool.map(square, range({n})) with {workers} workers ({method:?}): {took:?} \
                 ({:.0} items/s)",
                n as f64 / took.as_secs_f64()
            );
        }
        let start = Instant::now();
        for i in 0..1000u64 {
            assert_eq!(pool.apply(square, (i,)).unwrap(), i * i);
        }
        println!(
            "pool.apply round trip ({method:?}): {:?} each",
            start.elapsed() / 1000
        );
    }
}
