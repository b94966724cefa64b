//! The table of (workload, runtime) pairs this binary knows, built from the
//! `entries()` of every runtime module. `brigade-bench --list` prints it so
//! that `bench/run.py` never keeps its own copy.

use crate::measure::Measured;
use crate::workloads::Workload;

/// One implementation of a workload: a plain function that sets up, runs
/// the measured window, and returns the timing and the check value.
pub type BenchFn = fn() -> Measured;

/// What a (workload, runtime) pair does when asked to run.
#[derive(Clone, Copy)]
pub enum Impl {
    /// Runs the function.
    Run(BenchFn),
    /// The runtime cannot do this workload at all (for example: no virtual
    /// clock). No Rust pair is n/a today; `bench.py`'s asyncio chess pairs
    /// are, and both harnesses speak the same protocol.
    #[allow(dead_code)]
    Unsupported(&'static str),
    /// brigade's implementation does not exist (yet).
    NotBuilt(&'static str),
}

/// One row of the registry.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The workload.
    pub workload: Workload,
    /// The runtime's name, unique across `brigade-bench` and `bench.py`.
    pub runtime: &'static str,
    /// What to do.
    pub imp: Impl,
}

impl Entry {
    /// A runnable pair.
    pub const fn run(workload: Workload, runtime: &'static str, f: BenchFn) -> Entry {
        Entry {
            workload,
            runtime,
            imp: Impl::Run(f),
        }
    }
}

/// Every pair, brigade first, in report order.
pub fn all() -> Vec<Entry> {
    let mut entries = crate::brigade_entries();
    entries.extend(crate::rt_tokio::entries());
    entries.extend(crate::rt_tokio_sync::entries());
    entries.extend(crate::rt_smol::entries());
    entries.extend(crate::rt_smol_clock::entries());
    entries.extend(crate::rt_std::entries());
    entries.extend(crate::rt_uring::entries());
    entries.extend(crate::rt_rayon::entries());
    entries.extend(crate::rt_procspawn::entries());
    entries
}

/// Finds a pair.
pub fn find(workload: Workload, runtime: &str) -> Option<Entry> {
    all()
        .into_iter()
        .find(|e| e.workload == workload && e.runtime == runtime)
}
