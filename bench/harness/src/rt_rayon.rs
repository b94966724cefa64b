//! rayon (`rayon`): `poolmap` as `into_par_iter().map(..).collect::<Vec<_>>()`
//! on the global pool (one thread per core), which keeps the input order.

use rayon::prelude::*;

use crate::measure::{Measured, Meter};
use crate::registry::Entry;
use crate::workloads::{self as w, Workload};

/// The pairs implemented here.
pub fn entries() -> Vec<Entry> {
    vec![Entry::run(Workload::PoolMap, "rayon", poolmap)]
}

fn poolmap() -> Measured {
    let meter = Meter::start();
    let results: Vec<u64> = (0..w::POOLMAP_ITEMS)
        .into_par_iter()
        .map(w::poolmap_fn)
        .collect();
    let timing = meter.stop();
    timing.with_value(w::poolmap_checksum(&results))
}
