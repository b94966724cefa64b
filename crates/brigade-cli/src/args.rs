//! Command-line parsing, by hand: the command has one level of subcommands
//! and a dozen flags, which does not justify a parser dependency.

use std::path::PathBuf;
use std::time::Duration;

use crate::duration;
use crate::exhibition::{Clock, Model, Params};

/// What the user asked for.
pub enum Command {
    Help,
    Demo(Vec<DemoPart>),
    Exhibition(ExhibitionArgs),
}

/// One cell of the notebook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoPart {
    Async,
    Threads,
    Processes,
}

/// `brigade exhibition` options.
pub struct ExhibitionArgs {
    pub params: Params,
    pub models: Vec<Model>,
    pub clock: Option<Clock>,
    pub json: bool,
    pub trace: Option<PathBuf>,
    pub timeline: Option<PathBuf>,
    pub progress: bool,
}

pub const HELP: &str = "\
brigade: the seed notebook's concurrency lessons, runnable

USAGE:
    brigade demo [async|threads|processes|all]    run the notebook's cells (default: all)
    brigade exhibition [OPTIONS]                  the chess simultaneous exhibition
    brigade help                                  this text

EXHIBITION OPTIONS (defaults are the notebook's numbers):
    --boards N             opponents, one board each            [default: 24]
    --master-move DUR      Judit's time per move                [default: 5s]
    --opponent-move DUR    an opponent's time per move          [default: 55s]
    --moves N              move pairs per game                  [default: 30]
    --model LIST           comma-separated: sync,async,threads,processes
                                                                [default: sync,async]
    --clock virtual|real   virtual: instant and deterministic (sync and async only);
                           real: simulated seconds pass for real, scaled by --speedup
                                                                [default: virtual for sync
                                                                 and async, real otherwise]
    --speedup N            on the real clock, one simulated second lasts 1/N s
                                                                [default: 1000]
    --json                 print the results as JSON instead of a table
    --trace FILE.json      write a Chrome/Perfetto trace of the run
    --timeline FILE.svg    draw the exhibition as a Gantt chart (master and boards)
    --no-progress          no progress bar during real-clock runs

DURATIONS: 5s, 55s, 1m30s, 250ms, 2h (a bare number is seconds).
Errors in the arguments print one line and exit with code 2.
";

pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some((sub, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    match sub.as_str() {
        "help" | "--help" | "-h" => Ok(Command::Help),
        "demo" => parse_demo(rest),
        "exhibition" => parse_exhibition(rest),
        other => Err(format!(
            "unknown command `{other}` (expected demo, exhibition or help)"
        )),
    }
}

fn parse_demo(rest: &[String]) -> Result<Command, String> {
    let parts = match rest {
        [] => vec![DemoPart::Async, DemoPart::Threads, DemoPart::Processes],
        [one] if one == "--help" || one == "-h" => return Ok(Command::Help),
        [one] => match one.as_str() {
            "all" => vec![DemoPart::Async, DemoPart::Threads, DemoPart::Processes],
            "async" => vec![DemoPart::Async],
            "threads" => vec![DemoPart::Threads],
            "processes" => vec![DemoPart::Processes],
            other => {
                return Err(format!(
                    "unknown demo `{other}` (expected async, threads, processes or all)"
                ));
            }
        },
        [_, extra, ..] => return Err(format!("unexpected argument `{extra}`")),
    };
    Ok(Command::Demo(parts))
}

fn parse_exhibition(rest: &[String]) -> Result<Command, String> {
    let mut out = ExhibitionArgs {
        params: Params::default(),
        models: vec![Model::Sync, Model::Async],
        clock: None,
        json: false,
        trace: None,
        timeline: None,
        progress: true,
    };
    let mut iter = rest.iter();
    while let Some(flag) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--boards" => out.params.boards = count("--boards", &value("--boards")?)?,
            "--moves" => out.params.moves = count("--moves", &value("--moves")?)?,
            "--master-move" => {
                out.params.master_move = positive("--master-move", &value("--master-move")?)?
            }
            "--opponent-move" => {
                out.params.opponent_move = positive("--opponent-move", &value("--opponent-move")?)?
            }
            "--model" => out.models = models(&value("--model")?)?,
            "--clock" => {
                out.clock = Some(match value("--clock")?.as_str() {
                    "virtual" => Clock::Virtual,
                    "real" => Clock::Real,
                    other => {
                        return Err(format!(
                            "invalid --clock `{other}` (expected virtual or real)"
                        ));
                    }
                })
            }
            "--speedup" => {
                let text = value("--speedup")?;
                let speedup: f64 = text
                    .parse()
                    .map_err(|_| format!("invalid --speedup `{text}`: expected a number"))?;
                if !(speedup.is_finite() && speedup > 0.0) {
                    return Err(format!(
                        "invalid --speedup `{text}`: must be greater than zero"
                    ));
                }
                out.params.speedup = speedup;
            }
            "--json" => out.json = true,
            "--no-progress" => out.progress = false,
            "--trace" => out.trace = Some(PathBuf::from(value("--trace")?)),
            "--timeline" => out.timeline = Some(PathBuf::from(value("--timeline")?)),
            other => return Err(format!("unknown option `{other}` (see brigade help)")),
        }
    }
    within_the_horizon(&out.params)?;
    Ok(Command::Exhibition(out))
}

/// Refuses an exhibition whose longest model (one game after another)
/// would outlast brigade's clock: its timers never fire past
/// [`brigade::time::HORIZON`], so it would never end.
fn within_the_horizon(params: &Params) -> Result<(), String> {
    let pair = params.master_move.checked_add(params.opponent_move);
    let games = params.boards.checked_mul(params.moves);
    let longest = pair.zip(games).and_then(|(pair, games)| {
        let secs = pair.as_secs_f64() * games as f64;
        (secs < brigade::time::HORIZON.as_secs_f64()).then_some(secs)
    });
    match longest {
        Some(_) => Ok(()),
        None => Err(format!(
            "the exhibition would last longer than brigade's clock reaches \
             ({} years): shorten --master-move, --opponent-move, --moves or --boards",
            brigade::time::HORIZON.as_secs() / (86_400 * 365)
        )),
    }
}

fn count(name: &str, text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err(format!("{name} must be at least 1")),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "invalid {name} `{text}`: expected a whole number of at least 1"
        )),
    }
}

fn positive(name: &str, text: &str) -> Result<Duration, String> {
    let d = duration::parse(text).map_err(|e| format!("{name}: {e}"))?;
    if d.is_zero() {
        return Err(format!("{name} must be longer than zero"));
    }
    Ok(d)
}

fn models(text: &str) -> Result<Vec<Model>, String> {
    let mut models = Vec::new();
    for name in text.split(',') {
        let model = match name.trim() {
            "sync" => Model::Sync,
            "async" => Model::Async,
            "threads" => Model::Threads,
            "processes" => Model::Processes,
            "all" => {
                models.extend([Model::Sync, Model::Async, Model::Threads, Model::Processes]);
                continue;
            }
            other => {
                return Err(format!(
                    "unknown model `{other}` (expected sync, async, threads, processes or all)"
                ));
            }
        };
        if !models.contains(&model) {
            models.push(model);
        }
    }
    Ok(models)
}
