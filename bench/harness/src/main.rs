//! `brigade-bench`: one measurement of one workload on one runtime.
//!
//! ```text
//! brigade-bench <workload> <runtime>   run once, check, print one JSON line
//! brigade-bench --list                 print every known pair, one JSON line each
//! brigade-bench --rusage -- CMD ARGS..  run CMD, then print its wait4 rusage (used by run.py)
//! ```
//!
//! Each invocation is a fresh process so that peak RSS (read by the runner
//! from `wait4`) belongs to that pair alone. The printed line is
//! `{"workload":..,"runtime":..,"status":"ok","wall_s":..,"cpu_s":..,"check":..}`;
//! `status` is `failed` (exit 1) when the check value is wrong,
//! `not_built` (exit 3) for a brigade workload that has no implementation
//! yet, and `unsupported` (exit 4) for a pair that cannot exist.
//!
//! Workloads are described in [`workloads`]; each runtime family lives in
//! its own module (`rt_*.rs`), brigade's in `rt_brigade.rs`.

mod measure;
mod registry;
#[cfg(feature = "brigade")]
mod rt_brigade;
#[cfg(feature = "brigade")]
mod rt_brigade_cluster;
#[cfg(feature = "brigade")]
mod rt_brigade_shared;
#[cfg(feature = "brigade")]
mod rt_brigade_sync;
mod rt_procspawn;
mod rt_rayon;
mod rt_smol;
mod rt_smol_clock;
mod rt_std;
mod rt_tokio;
mod rt_tokio_sync;
mod rt_uring;
mod workloads;

use std::process::ExitCode;

use serde::Serialize;

use registry::{Entry, Impl};
use workloads::Workload;

/// brigade's rows when the harness is built with `--features brigade`.
#[cfg(feature = "brigade")]
fn brigade_entries() -> Vec<Entry> {
    rt_brigade::entries()
}

/// brigade's rows when the harness is built without the feature: all of
/// them are reported as not built.
#[cfg(not(feature = "brigade"))]
fn brigade_entries() -> Vec<Entry> {
    workloads::ALL
        .into_iter()
        .map(|workload| Entry {
            workload,
            runtime: "brigade",
            imp: Impl::NotBuilt("harness built without the `brigade` feature"),
        })
        .collect()
}

#[derive(Serialize)]
struct Report<'a> {
    workload: &'a str,
    runtime: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// `lateness` only: median and p99 of (actual − requested) sleep.
    #[serde(skip_serializing_if = "Option::is_none")]
    lateness_p50_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lateness_p99_s: Option<f64>,
}

impl<'a> Report<'a> {
    fn new(workload: &'a str, runtime: &'a str, status: &'a str) -> Self {
        Report {
            workload,
            runtime,
            status,
            wall_s: None,
            cpu_s: None,
            check: None,
            expected: None,
            reason: None,
            lateness_p50_s: None,
            lateness_p99_s: None,
        }
    }

    fn print(&self) {
        println!(
            "{}",
            serde_json::to_string(self).expect("a report always serializes")
        );
    }
}

fn list() {
    #[derive(Serialize)]
    struct Pair<'a> {
        workload: &'a str,
        runtime: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        unsupported: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        not_built: Option<&'a str>,
    }
    for entry in registry::all() {
        let (unsupported, not_built) = match entry.imp {
            Impl::Run(_) => (None, None),
            Impl::Unsupported(why) => (Some(why), None),
            Impl::NotBuilt(why) => (None, Some(why)),
        };
        let pair = Pair {
            workload: entry.workload.name(),
            runtime: entry.runtime,
            unsupported,
            not_built,
        };
        println!("{}", serde_json::to_string(&pair).expect("serializes"));
    }
}

fn run(workload: Workload, entry: Entry) -> ExitCode {
    let name = workload.name();
    match entry.imp {
        Impl::NotBuilt(why) => {
            let mut report = Report::new(name, entry.runtime, "not_built");
            report.reason = Some(why);
            report.print();
            ExitCode::from(3)
        }
        Impl::Unsupported(why) => {
            let mut report = Report::new(name, entry.runtime, "unsupported");
            report.reason = Some(why);
            report.print();
            ExitCode::from(4)
        }
        Impl::Run(f) => {
            let measured = f();
            let expected = workload.expected();
            let ok = measured.value == expected;
            let mut report = Report::new(name, entry.runtime, if ok { "ok" } else { "failed" });
            report.wall_s = Some(measured.timing.wall.as_secs_f64());
            report.cpu_s = Some(measured.timing.cpu.as_secs_f64());
            report.check = Some(measured.value);
            report.expected = Some(expected);
            if let Some(late) = measure::recorded_lateness() {
                report.lateness_p50_s = Some(late.p50.as_secs_f64());
                report.lateness_p99_s = Some(late.p99.as_secs_f64());
            }
            if !ok {
                report.reason = Some("check value differs from the expected one");
            }
            report.print();
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: brigade-bench <workload> <runtime> | --list | --rusage -- CMD ARGS..");
    eprintln!("pairs:");
    for entry in registry::all() {
        eprintln!("  {} {}", entry.workload, entry.runtime);
    }
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // procspawn re-executes this binary for its child processes; in a
    // child, `init` runs the requested closure and never returns.
    procspawn::init();

    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--list" => {
            list();
            ExitCode::SUCCESS
        }
        [flag, sep, command @ ..] if flag == "--rusage" && sep == "--" => measure::launch(command),
        [workload, runtime] => {
            let Some(w) = Workload::from_name(workload) else {
                eprintln!("unknown workload {workload:?}");
                return usage();
            };
            match registry::find(w, runtime) {
                Some(entry) => run(w, entry),
                None => {
                    eprintln!("runtime {runtime:?} has no {workload} workload");
                    usage()
                }
            }
        }
        _ => usage(),
    }
}
