//! brigade's column (compiled only with `--features brigade`).
//!
//! Adding a brigade workload is one function: write
//! `fn <workload>() -> Measured` below, doing the same work as the peers
//! (see [`crate::workloads`] for sizes, inputs and the check value, and any
//! `rt_*.rs` for a model: set up untimed, `Meter::start()` right before the
//! work, stop right after, return the check value), then add it to
//! [`IMPLEMENTED`]. Workloads missing from that table are reported as
//! "not built yet".

use crate::registry::{BenchFn, Entry, Impl};
use crate::workloads::{ALL, Workload};

/// The runtime name of brigade's rows.
pub const RUNTIME: &str = "brigade";

/// brigade's implementations, e.g. `(Workload::Spawn, spawn)`.
const IMPLEMENTED: &[(Workload, BenchFn)] = &[];

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
        .collect()
}
