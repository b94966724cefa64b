//! Measuring one run: wall-clock and CPU time around the work only.
//!
//! Setup (building a runtime, creating files, generating inputs) happens
//! before [`Meter::start`]; checking the result happens after
//! [`Meter::stop`]. CPU time is `getrusage(RUSAGE_SELF)` plus
//! `getrusage(RUSAGE_CHILDREN)` (children reaped inside the window, such as
//! the processes of `procs` and `procpool`), taken as differences across the
//! same window as the wall time.

use std::time::{Duration, Instant};

/// Wall and CPU time of the measured window.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Elapsed real time.
    pub wall: Duration,
    /// User + system CPU time of this process and its reaped children.
    pub cpu: Duration,
}

/// What one implementation of a workload hands back.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// The measured window.
    pub timing: Timing,
    /// The check value, compared with [`crate::workloads::Workload::expected`].
    pub value: u64,
}

/// A running measurement.
pub struct Meter {
    wall: Instant,
    cpu: Duration,
}

impl Meter {
    /// Starts the clock: call it right before the work.
    pub fn start() -> Meter {
        let cpu = cpu_time();
        Meter {
            wall: Instant::now(),
            cpu,
        }
    }

    /// Stops the clock: call it right after the work.
    pub fn stop(self) -> Timing {
        let wall = self.wall.elapsed();
        Timing {
            wall,
            cpu: cpu_time().saturating_sub(self.cpu),
        }
    }

    /// Stops the clock and attaches a check value computed during the work.
    pub fn finish(self, value: u64) -> Measured {
        Measured {
            timing: self.stop(),
            value,
        }
    }
}

impl Timing {
    /// Attaches a check value computed after the window.
    pub fn with_value(self, value: u64) -> Measured {
        Measured {
            timing: self,
            value,
        }
    }
}

/// Runs `once` `n` times back to back and adds up their windows and check
/// values: for a workload whose single run is too short to time apart from
/// the machine's noise. Whatever `once` does outside its own window
/// (building and dropping a runtime) stays outside.
pub fn repeat(n: u64, mut once: impl FnMut() -> Measured) -> Measured {
    let mut total = Timing {
        wall: Duration::ZERO,
        cpu: Duration::ZERO,
    }
    .with_value(0);
    for _ in 0..n {
        let run = once();
        total.timing.wall += run.timing.wall;
        total.timing.cpu += run.timing.cpu;
        total.value += run.value;
    }
    total
}

/// Times an async body from its first poll to its completion: the runtime
/// that polls it is built before and dropped after the window.
pub async fn timed<F: Future<Output = u64>>(work: F) -> Measured {
    let meter = Meter::start();
    let value = work.await;
    meter.finish(value)
}

fn rusage(who: libc::c_int) -> Duration {
    // SAFETY: `getrusage` only writes into the zeroed struct we pass, and
    // RUSAGE_SELF / RUSAGE_CHILDREN are valid `who` values.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut usage) != 0 {
            return Duration::ZERO;
        }
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn cpu_time() -> Duration {
    rusage(libc::RUSAGE_SELF) + rusage(libc::RUSAGE_CHILDREN)
}

/// `brigade-bench --rusage -- CMD ARGS..`: runs CMD as a child, reaps it with
/// `wait4` and prints its rusage as one JSON line after the child's output,
/// then exits with the child's status.
///
/// The runner launches every measurement through this small process rather
/// than directly from Python because Linux seeds a process's `ru_maxrss`
/// at `execve` with the peak RSS of the image it replaces: the copy of a
/// Python parent would put a ~16 MiB floor under every row, this launcher's
/// floor is its own few MiB.
pub fn launch(command: &[String]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let Some((program, args)) = command.split_first() else {
        eprintln!("--rusage needs a command");
        return ExitCode::from(2);
    };
    let child = match std::process::Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot start {program}: {e}");
            return ExitCode::from(127);
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: the zeroed rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (we never call
        // `Child::wait`), and both out-pointers are valid for writes.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            eprintln!("wait4: {err}");
            return ExitCode::from(125);
        }
    }
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    println!(
        "{{\"rusage\":{{\"exit\":{exit},\"maxrss_kib\":{},\"cpu_s\":{}}}}}",
        usage.ru_maxrss,
        tv(usage.ru_utime) + tv(usage.ru_stime)
    );
    match u8::try_from(exit) {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(128 + (-exit).clamp(0, 127) as u8),
    }
}

/// The `lateness` workload's result, beside the usual timing: the median and
/// 99th percentile of how late the sleeps woke.
#[derive(Clone, Copy, Debug)]
pub struct Lateness {
    /// Median of (actual − requested).
    pub p50: Duration,
    /// 99th percentile (nearest rank) of (actual − requested).
    pub p99: Duration,
}

static LATENESS: std::sync::Mutex<Option<Lateness>> = std::sync::Mutex::new(None);

/// Records the latenesses of one run, which `main` reports with the run's
/// JSON line.
pub fn record_lateness(mut samples: Vec<Duration>) {
    if samples.is_empty() {
        return;
    }
    samples.sort_unstable();
    let rank = |p: usize| samples[(samples.len() * p).div_ceil(100).saturating_sub(1)];
    let result = Lateness {
        p50: rank(50),
        p99: rank(99),
    };
    *LATENESS.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
}

/// The latenesses recorded by this run, if it was a `lateness` run.
pub fn recorded_lateness() -> Option<Lateness> {
    *LATENESS.lock().unwrap_or_else(|e| e.into_inner())
}

/// One sleeper of `lateness`: makes its sleeps in turn with `sleep`, and
/// returns the sum of the requested µs and each sleep's lateness.
pub async fn lateness_sleeper<F, S>(delays: Vec<u64>, mut sleep: S) -> (u64, Vec<Duration>)
where
    S: FnMut(Duration) -> F,
    F: Future<Output = ()>,
{
    let mut late = Vec::with_capacity(delays.len());
    let mut sum = 0;
    for us in delays {
        let asked = Duration::from_micros(us);
        let start = Instant::now();
        sleep(asked).await;
        late.push(start.elapsed().saturating_sub(asked));
        sum += us;
    }
    (sum, late)
}
