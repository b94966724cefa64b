//! The `brigade` command: the seed notebook's cells and the chess
//! simultaneous exhibition, runnable. `brigade help` lists everything.

mod args;
mod demo;
mod duration;
mod exhibition;
mod progress;
mod timeline;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use args::{Command, DemoPart, ExhibitionArgs};
use exhibition::{Clock, Model};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args::parse(&args) {
        Ok(command) => command,
        Err(message) => return usage_error(&message),
    };
    let result = match command {
        Command::Help => {
            print!("{}", args::HELP);
            Ok(())
        }
        Command::Demo(parts) => demo(&parts),
        Command::Exhibition(options) => exhibition(options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => usage_error(&message),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("brigade: error: {message}");
    ExitCode::from(2)
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

fn exhibition(options: ExhibitionArgs) -> Result<(), String> {
    let params = &options.params;
    for model in &options.models {
        if options.clock == Some(Clock::Virtual)
            && matches!(model, Model::Threads | Model::Processes)
        {
            return Err(format!(
                "the {} model runs on the real clock only (OS threads and processes cannot follow a virtual clock); \
                 use --clock real",
                model.name()
            ));
        }
    }
    if let Some(path) = &options.trace {
        check_writable(path, "the trace")?;
    }
    if let Some(path) = &options.timeline {
        check_writable(path, "the timeline")?;
    }
    // The trace streams to its file as the run goes, in bounded memory.
    let trace = match &options.trace {
        Some(path) => Some(brigade::trace::Trace::to_file(path).map_err(|e| e.to_string())?),
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
        )?;
        outcomes.push(outcome);
    }
    if options.json {
        print!("{}", exhibition::table::json(params, &outcomes));
    } else {
        print!("{}", exhibition::table::render(params, &outcomes));
    }
    if let Some(trace) = &trace {
        trace.finish().map_err(|e| e.to_string())?;
    }
    if let Some(path) = &options.timeline {
        std::fs::write(path, timeline::render(params, &outcomes))
            .map_err(|e| format!("cannot write the timeline to {}: {e}", path.display()))?;
    }
    Ok(())
}
