//! procspawn: `thread::spawn`, but each closure runs in a re-executed copy
//! of this binary (hence `procspawn::init()` first thing in `main`);
//! arguments and results cross the process boundary through `ipc-channel`.
//!
//! * `procspawn` (`procs`): 200 × `procspawn::spawn(i, |i| i * i)`, all
//!   started, then all joined;
//! * `procspawn-pool` (`procpool`): a `procspawn::Pool` of 2 processes;
//!   procspawn has no `map`, so the items are sent in chunks of
//!   [`w::PROCPOOL_CHUNK`] (the chunk size every pool gets), one pool job per
//!   chunk, and the results are joined in order;
//! * `procspawn-pool` (`procrtt`): the same pool, one `spawn(...).join()`
//!   at a time.
//!
//! As for every pool in the suite, the pool is started and warmed (one job
//! per worker) before the measured window and shut down after it.

use crate::measure::{Measured, Meter};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Procs, "procspawn", procs),
        Entry::run(Workload::ProcPool, "procspawn-pool", procpool),
        Entry::run(Workload::ProcRtt, "procspawn-pool", procrtt),
    ]
}

fn procs() -> Measured {
    let meter = Meter::start();
    let handles: Vec<_> = (0..w::PROCS)
        .map(|i| procspawn::spawn(i, w::square))
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.join().expect("child process failed");
    }
    meter.finish(sum)
}

/// A started pool whose every worker has run one job.
fn warm_pool() -> procspawn::Pool {
    let pool = procspawn::Pool::new(w::PROCPOOL_WORKERS).expect("process pool");
    let warm: Vec<_> = (0..w::PROCPOOL_WORKERS as u64)
        .map(|i| pool.spawn(i, w::square))
        .collect();
    for job in warm {
        job.join().expect("warm-up job");
    }
    pool
}

fn procrtt() -> Measured {
    let pool = warm_pool();
    let meter = Meter::start();
    let mut sum = 0;
    for i in 0..w::PROCRTT_TASKS {
        sum += pool.spawn(i, w::square).join().expect("pool task");
    }
    let timing = meter.stop();
    pool.shutdown();
    timing.with_value(sum)
}

fn square_chunk(items: Vec<u64>) -> Vec<u64> {
    items.into_iter().map(w::square).collect()
}

fn procpool() -> Measured {
    let items: Vec<u64> = (0..w::PROCPOOL_ITEMS).collect();
    let pool = warm_pool();
    let meter = Meter::start();
    let mut sum = 0;
    for _ in 0..w::PROCPOOL_MAPS {
        let jobs: Vec<_> = items
            .chunks(w::PROCPOOL_CHUNK)
            .map(|chunk| pool.spawn(chunk.to_vec(), square_chunk))
            .collect();
        let mut results = Vec::with_capacity(items.len());
        for job in jobs {
            results.extend(job.join().expect("pool job failed"));
        }
        assert_eq!(results.len(), items.len(), "results missing");
        sum += results.iter().sum::<u64>();
    }
    let timing = meter.stop();
    pool.shutdown();
    timing.with_value(sum)
}
