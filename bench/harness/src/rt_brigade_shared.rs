//! brigade's column for the shared-state workloads of the multiprocessing
//! parity issue (compiled only with `--features brigade`), against
//! `bench/python/rt_shared.py`:
//!
//! * `mplock`: `brigade::process::Lock`, acquired and released in the
//!   parent, uncontended;
//! * `mplock2`: the same lock handed to 2 child processes (start method
//!   `spawn`, the default) that each acquire and release it 200,000 times;
//! * `mpvalue`: a `brigade::process::Value<u64>` incremented under its lock
//!   by 2 child processes;
//!   for both, as for CPython, the window opens when the parent and both
//!   children have met at a cross-process `Barrier` of 3 (process start-up
//!   is not measured) and closes when both children are joined;
//! * `manager`: a `brigade::process::Manager`'s dict, read and written back
//!   10,000 times by the parent (2 round trips to the server each).

use brigade::process::{Barrier, Lock, Manager, Process, Value};

use crate::measure::{Measured, Meter};
use crate::workloads as w;

pub fn lock_uncontended() -> Measured {
    let lock = Lock::new().expect("cross-process lock");
    let meter = Meter::start();
    let mut taken = 0;
    for _ in 0..w::MPLOCK_ITERS {
        let guard = lock.acquire().expect("lock");
        taken += 1;
        drop(guard);
    }
    meter.finish(taken)
}

fn contend(lock: Lock, n: u64, start: Barrier) -> u64 {
    start.wait().expect("start barrier");
    for _ in 0..n {
        drop(lock.acquire().expect("lock"));
    }
    n
}

pub fn lock_contended() -> Measured {
    let lock = Lock::new().expect("cross-process lock");
    let (timing, taken) =
        run_children(|start| Process::new(contend, (lock.clone(), w::MP_ITERS_EACH, start)));
    Measured {
        timing,
        value: taken,
    }
}

fn bump(value: Value<u64>, n: u64, start: Barrier) -> u64 {
    start.wait().expect("start barrier");
    for _ in 0..n {
        *value.lock().expect("value lock") += 1;
    }
    n
}

/// Starts the contenders (`child` makes one, given the start barrier),
/// meets them at the start barrier, and joins them; returns the meter's
/// reading and the sum of their results. (A child's function must be a fn
/// item, so the caller names it.)
fn run_children(child: impl Fn(Barrier) -> Process<u64>) -> (crate::measure::Timing, u64) {
    let start = Barrier::new(w::MP_CONTENDERS as u32 + 1).expect("start barrier");
    let mut children: Vec<_> = (0..w::MP_CONTENDERS)
        .map(|_| {
            let mut p = child(start.clone());
            p.start().expect("process start");
            p
        })
        .collect();
    start.wait().expect("start barrier");
    let meter = Meter::start();
    let total = children
        .iter_mut()
        .map(|p| p.join().expect("child process"))
        .sum();
    (meter.stop(), total)
}

pub fn value_contended() -> Measured {
    let value = Value::new(0u64).expect("shared value");
    let (timing, _) =
        run_children(|start| Process::new(bump, (value.clone(), w::MP_ITERS_EACH, start)));
    let total = *value.lock().expect("value lock");
    Measured {
        timing,
        value: total,
    }
}

pub fn manager_dict() -> Measured {
    let manager = Manager::start().expect("manager");
    let dict = manager.dict::<String, u64>().expect("dict");
    let key = "k".to_string();
    dict.insert(key.clone(), 0).expect("insert");
    let meter = Meter::start();
    for _ in 0..w::MANAGER_OPS {
        let v = dict.get(&key).expect("get").expect("present");
        dict.insert(key.clone(), v + 1).expect("insert");
    }
    let timing = meter.stop();
    let total = dict.get(&key).expect("get").expect("present");
    Measured {
        timing,
        value: total,
    }
}
