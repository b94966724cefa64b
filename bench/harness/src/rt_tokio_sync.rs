//! tokio's column for the synchronization workloads of the async parity
//! issue, on `tokio-ct` (`Builder::new_current_thread()`), the scheduler
//! brigade's one loop is compared with:
//!
//! * `broadcast`: `tokio::sync::broadcast`, 100 receiver tasks;
//! * `rwlock`: `tokio::sync::RwLock` (fair, like brigade's), 100 tasks;
//! * `joinset`: `tokio::task::JoinSet`, joined with `join_next`.

use std::sync::Arc;

use tokio::sync::{RwLock, broadcast};
use tokio::task::{JoinSet, yield_now};

use crate::measure::{Measured, timed};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![
        Entry::run(Workload::Broadcast, "tokio-ct", || ct(fan_out())),
        Entry::run(Workload::RwLock, "tokio-ct", || ct(read_heavy())),
        Entry::run(Workload::JoinSet, "tokio-ct", || ct(join_set())),
    ]
}

fn ct(work: impl Future<Output = u64>) -> Measured {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio current_thread runtime")
        .block_on(timed(work))
}

async fn fan_out() -> u64 {
    let (tx, _) = broadcast::channel::<u64>(w::BROADCAST_CAPACITY);
    let receivers: Vec<_> = (0..w::BROADCAST_RECEIVERS)
        .map(|_| {
            let mut rx = tx.subscribe();
            tokio::spawn(async move {
                let mut sum = 0;
                loop {
                    match rx.recv().await {
                        Ok(v) => sum += v,
                        Err(broadcast::error::RecvError::Closed) => return sum,
                        // A lag breaks the check value rather than the run.
                        Err(broadcast::error::RecvError::Lagged(_)) => return 0,
                    }
                }
            })
        })
        .collect();
    for i in 0..w::BROADCAST_MESSAGES {
        tx.send(i).expect("receivers alive");
        if (i + 1) % w::BROADCAST_BATCH == 0 {
            yield_now().await;
        }
    }
    drop(tx);
    let mut total = 0;
    for r in receivers {
        total += r.await.expect("receiver panicked");
    }
    total
}

async fn read_heavy() -> u64 {
    let lock = Arc::new(RwLock::new(0u64));
    let tasks: Vec<_> = (0..w::RWLOCK_TASKS)
        .map(|t| {
            let lock = lock.clone();
            tokio::spawn(async move {
                let mut reads = 0;
                for i in 0..w::RWLOCK_HOLDS {
                    if w::rwlock_writes(t, i) {
                        let mut value = lock.write().await;
                        *value += 1;
                        yield_now().await;
                    } else {
                        let value = lock.read().await;
                        std::hint::black_box(*value);
                        reads += 1;
                        yield_now().await;
                    }
                }
                reads
            })
        })
        .collect();
    let mut reads = 0;
    for t in tasks {
        reads += t.await.expect("task panicked");
    }
    let writes = *lock.read().await;
    writes * 1_000_000 + reads
}

async fn join_set() -> u64 {
    let mut set = JoinSet::new();
    for i in 0..w::JOINSET_TASKS {
        set.spawn(async move { i });
    }
    let mut sum = 0;
    while let Some(done) = set.join_next().await {
        sum += done.expect("task panicked");
    }
    sum
}
