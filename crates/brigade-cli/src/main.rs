//! The `brigade` command: the seed notebook's cells and the chess
//! simultaneous exhibition, runnable. `brigade help` lists everything.

mod activity;
mod args;
mod axis;
mod demo;
mod duration;
mod exhibition;
mod progress;
mod timeline;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use args::{Command, DemoPart, ExhibitionArgs};
use exhibition::{Clock, Model};

/// Why the command failed; each is one line on standard error.
#[derive(Debug)]
enum Failure {
    /// The arguments are wrong: exit code 2, as for most Unix commands.
    Usage(String),
    /// The run itself failed (a file could not be written, a process could
    /// not start): exit code 1.
    Run(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(message) | Failure::Run(message) => f.write_str(message),
        }
    }
}

impl Failure {
    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Run(_) => ExitCode::from(1),
        }
    }
}

fn main() -> ExitCode {
    let result = args::parse(std::env::args_os().skip(1))
        .map_err(Failure::Usage)
        .and_then(|command| match command {
            Command::Help => {
                print!("{}", args::HELP);
                Ok(())
            }
            Command::Version => {
                println!("brigade {}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
            Command::Demo(parts) => demo(&parts).map_err(Failure::Run),
            Command::Exhibition(options) => exhibition(options),
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("brigade: error: {failure}");
            failure.exit_code()
        }
    }
}

fn demo(parts: &[DemoPart]) -> Result<(), String> {
    for part in parts {
        match part {
            DemoPart::Async => {
                println!("== async: coroutines and await ==");
                demo::run_async();
            }
            DemoPart::Threads => {
                println!("== threads: threading.Thread ==");
                demo::run_threads()?;
            }
            DemoPart::Processes => {
                println!("== processes: multiprocessing.Process ==");
                demo::run_processes()?;
            }
        }
    }
    Ok(())
}

/// Fails early, before a long run, if an output file cannot be written.
fn check_writable(path: &Path, what: &str) -> Result<(), String> {
    std::fs::File::create(path)
        .map(drop)
        .map_err(|e| format!("cannot write {what} to {}: {e}", path.display()))
}

/// The shortest real-clock move the timers honour to within a few percent.
/// brigade's timers tick every microsecond, but every wake-up (the loop's,
/// and an OS thread's sleep) comes tens of microseconds late on a quiet
/// machine, more on a busy one: below a millisecond that lateness is no
/// longer small against the move, and the simulated times come out long.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// Warns, once, when a real-clock run asks for moves shorter than the
/// timers can honour: its simulated times will come out long.
fn warn_if_too_fast(options: &ExhibitionArgs) {
    let params = &options.params;
    let real = options
        .models
        .iter()
        .any(|m| options.clock.unwrap_or(m.default_clock()) == Clock::Real);
    let shortest = params.master_move.min(params.opponent_move);
    let lasts = shortest.div_f64(params.speedup);
    if real && lasts < TIMER_RESOLUTION {
        eprintln!(
            "brigade: warning: at --speedup {} a {:?} move lasts {:.3} ms for real, \
             less than the {} ms the timers honour closely: real-clock times will come out long",
            params.speedup,
            shortest,
            lasts.as_secs_f64() * 1e3,
            TIMER_RESOLUTION.as_millis()
        );
    }
}

fn exhibition(options: ExhibitionArgs) -> Result<(), Failure> {
    let params = &options.params;
    for model in &options.models {
        if options.clock == Some(Clock::Virtual)
            && matches!(model, Model::Threads | Model::Processes)
        {
            return Err(Failure::Usage(format!(
                "the {} model runs on the real clock only (OS threads and processes cannot follow a virtual clock); \
                 use --clock real",
                model.name()
            )));
        }
    }
    if let Some(path) = &options.trace {
        check_writable(path, "the trace").map_err(Failure::Run)?;
    }
    if let Some(path) = &options.timeline {
        check_writable(path, "the timeline").map_err(Failure::Run)?;
    }
    warn_if_too_fast(&options);
    // The trace streams to its file as the run goes, in bounded memory.
    let trace = match &options.trace {
        Some(path) => {
            Some(brigade::trace::Trace::to_file(path).map_err(|e| Failure::Run(e.to_string()))?)
        }
        None => None,
    };
    if let Some(trace) = &trace {
        // Threads and processes record their lifetimes into it too.
        brigade::trace::set_global(trace);
    }
    let mut outcomes = Vec::new();
    for &model in &options.models {
        let clock = options.clock.unwrap_or(model.default_clock());
        let made = Arc::new(AtomicU64::new(0));
        let _bar = (clock == Clock::Real && options.progress).then(|| {
            let total = params.boards * params.moves * 2;
            progress::Progress::start(format!("{:>9}", model.name()), made.clone(), total)
        });
        let outcome = exhibition::run(
            model,
            clock,
            params,
            options.timeline.is_some(),
            trace.as_ref(),
            &made,
        )
        .map_err(Failure::Run)?;
        outcomes.push(outcome);
    }
    if options.json {
        print!("{}", exhibition::table::json(params, &outcomes));
    } else {
        print!("{}", exhibition::table::render(params, &outcomes));
    }
    if let Some(trace) = &trace {
        trace.finish().map_err(|e| Failure::Run(e.to_string()))?;
    }
    if let Some(path) = &options.timeline {
        std::fs::write(path, timeline::render(params, &outcomes)).map_err(|e| {
            Failure::Run(format!(
                "cannot write the timeline to {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}
