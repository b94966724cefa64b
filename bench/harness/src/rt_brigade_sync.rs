//! brigade's column for the synchronization workloads of the async parity
//! issue (compiled only with `--features brigade`), each on one event loop,
//! the counterpart of tokio's current_thread runtime: `broadcast` on
//! `brigade::sync::broadcast`, `rwlock` on `brigade::sync::RwLock`,
//! `joinset` on `brigade::JoinSet`. They do exactly what `rt_tokio_sync.rs`
//! does.

use std::sync::Arc;

use brigade::sync::{RwLock, broadcast};
use brigade::{JoinSet, yield_now};

use crate::measure::{Measured, timed};
use crate::workloads as w;

fn on_loop(work: impl Future<Output = u64>) -> Measured {
    brigade::Runtime::new()
        .expect("brigade runtime")
        .block_on(timed(work))
}

pub fn fan_out() -> Measured {
    on_loop(async {
        let (tx, _) = broadcast::channel::<u64>(w::BROADCAST_CAPACITY);
        let receivers: Vec<_> = (0..w::BROADCAST_RECEIVERS)
            .map(|_| {
                let mut rx = tx.subscribe();
                brigade::spawn(async move {
                    let mut sum = 0;
                    loop {
                        match rx.recv().await {
                            Ok(v) => sum += v,
                            Err(broadcast::RecvError::Closed) => return sum,
                            // A lag breaks the check value rather than the run.
                            Err(broadcast::RecvError::Lagged(_)) => return 0,
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
    })
}

pub fn read_heavy() -> Measured {
    on_loop(async {
        let lock = Arc::new(RwLock::new(0u64));
        let tasks: Vec<_> = (0..w::RWLOCK_TASKS)
            .map(|t| {
                let lock = lock.clone();
                brigade::spawn(async move {
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
    })
}

pub fn join_set() -> Measured {
    on_loop(async {
        let mut set = JoinSet::new();
        for i in 0..w::JOINSET_TASKS {
            set.spawn(async move { i });
        }
        let mut sum = 0;
        while let Some(done) = set.join_next().await {
            sum += done.expect("task panicked");
        }
        sum
    })
}
