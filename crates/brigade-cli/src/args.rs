//! Command-line parsing, with lexopt: it follows the usual conventions
//! (`--flag value` and `--flag=value`, `--` ends the options, arguments
//! that are not UTF-8 are errors rather than panics) and leaves the wording
//! of every message to us.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use crate::duration;
use crate::exhibition::{Clock, Model, Params};
use lexopt::Arg;

/// What the user asked for.
pub enum Command {
    Help,
    Version,
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
    brigade help | --help                         this text
    brigade --version                             the version

EXHIBITION OPTIONS (defaults are the notebook's numbers; --flag=value works too):
    --boards N             opponents, one board each, at most 1000000
                           (1000 for processes, 10000 for threads)
                                                                [default: 24]
    --master-move DUR      Judit's time per move                [default: 5s]
    --opponent-move DUR    an opponent's time per move          [default: 55s]
    --moves N              move pairs per game; boards x moves at most 30000000
                                                                [default: 30]
    --model LIST           comma-separated: sync,async,threads,processes
                                                                [default: sync,async]
    --clock virtual|real   virtual: instant and deterministic (sync and async only);
                           real: simulated seconds pass for real, scaled by --speedup
                                                                [default: virtual for sync
                                                                 and async, real otherwise]
    --speedup N            on the real clock, one simulated second lasts 1/N s; moves
                           shorter than 1 ms for real get a warning (timers tick per ms)
                                                                [default: 1000]
    --json                 print the results as JSON instead of a table (schema below)
    --trace FILE.json      write a Chrome/Perfetto trace of the run
    --timeline FILE.svg    draw the exhibition as a Gantt chart (Judit and the boards;
                           past 40 boards, rows of consecutive boards as density bands)
    --no-progress          no progress bar during real-clock runs

DURATIONS: 5s, 55s, 1m30s, 250ms, 2h, 1.5s (a bare number is seconds); units
largest first, each at most once.

The limits keep every run to about a minute and some hundred megabytes: every
model plays every move, the async model keeps a task per board.

EXIT CODES: 0 success; 1 the run failed (an output file cannot be written, a
thread or process cannot start); 2 the arguments are wrong. Errors are one line
on standard error.

JSON OUTPUT (--json), schema_version 1. One object:
    schema_version   1; raised when a field changes meaning or goes away
                     (new fields may appear without a raise)
    params           {boards, moves, master_move_s, opponent_move_s}
    results          one object per model, in --model order:
      model          \"sync\" | \"async\" | \"threads\" | \"processes\"
      clock          \"virtual\" | \"real\"
      simulated_s    when the last game ended, simulated seconds (number)
      simulated      the same as h:mm:ss[.mmm] (string)
      wall_s         how long the run took for real, seconds (number)
      speedup        the sync estimate divided by simulated_s (number)
      estimate_s     the notebook's closed-form estimate for the model, seconds
      estimate       the same as h:mm:ss[.mmm] (string)
";

/// The most boards an exhibition takes. Every model plays every move, a
/// few microseconds each on the virtual clock, and the async model keeps a
/// task per board: a million boards of the notebook's 30 move pairs is a
/// run of about a minute and a few hundred megabytes. Far larger counts
/// would exhaust memory or run for hours, so they are refused up front.
pub const MAX_BOARDS: u64 = 1_000_000;
/// The most move pairs (boards × moves) one run plays: a million boards of
/// the notebook's game, for the same reason as [`MAX_BOARDS`].
pub const MAX_PAIRS: u64 = 30_000_000;
/// The threads model starts an OS thread per board, the processes model a
/// process per board; beyond these counts the machine's limits on threads
/// and processes would fail the run half-way.
pub const MAX_THREAD_BOARDS: u64 = 10_000;
pub const MAX_PROCESS_BOARDS: u64 = 1_000;

/// Parses the arguments after the program's name. Every error is one line
/// for the user: a usage error.
pub fn parse<I>(args: I) -> Result<Command, String>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut parser = lexopt::Parser::from_args(args);
    let first = parser.next().map_err(explain)?;
    match first {
        None => Ok(Command::Help),
        Some(Arg::Long("help") | Arg::Short('h')) => Ok(Command::Help),
        Some(Arg::Long("version") | Arg::Short('V')) => Ok(Command::Version),
        Some(Arg::Value(sub)) => match utf8(sub)?.as_str() {
            "help" => Ok(Command::Help),
            "version" => Ok(Command::Version),
            "demo" => parse_demo(&mut parser),
            "exhibition" => parse_exhibition(&mut parser),
            other => Err(format!(
                "unknown command `{other}` (expected demo, exhibition or help)"
            )),
        },
        Some(other) => Err(explain(other.unexpected())),
    }
}

/// lexopt's errors, worded as the rest of the command's.
fn explain(error: lexopt::Error) -> String {
    use lexopt::Error as E;
    match error {
        E::MissingValue { option: Some(o) } => format!("{o} needs a value"),
        E::MissingValue { option: None } => "a value is missing".to_string(),
        E::UnexpectedOption(o) => format!("unknown option `{o}` (see brigade help)"),
        E::UnexpectedArgument(a) => format!("unexpected argument `{}`", a.to_string_lossy()),
        E::UnexpectedValue { option, value } => format!(
            "{option} takes no value (got `{}`)",
            value.to_string_lossy()
        ),
        E::NonUnicodeValue(a) => not_utf8(&a),
        other => other.to_string(),
    }
}

fn not_utf8(arg: &OsStr) -> String {
    format!(
        "argument `{}` is not valid UTF-8",
        arg.to_string_lossy().escape_debug()
    )
}

fn utf8(arg: OsString) -> Result<String, String> {
    arg.into_string().map_err(|a| not_utf8(&a))
}

fn parse_demo(parser: &mut lexopt::Parser) -> Result<Command, String> {
    let mut parts = None;
    while let Some(arg) = parser.next().map_err(explain)? {
        match arg {
            Arg::Long("help") | Arg::Short('h') => return Ok(Command::Help),
            Arg::Value(name) if parts.is_none() => {
                parts = Some(match utf8(name)?.as_str() {
                    "all" => vec![DemoPart::Async, DemoPart::Threads, DemoPart::Processes],
                    "async" => vec![DemoPart::Async],
                    "threads" => vec![DemoPart::Threads],
                    "processes" => vec![DemoPart::Processes],
                    other => {
                        return Err(format!(
                            "unknown demo `{other}` (expected async, threads, processes or all)"
                        ));
                    }
                })
            }
            other => return Err(explain(other.unexpected())),
        }
    }
    Ok(Command::Demo(parts.unwrap_or_else(|| {
        vec![DemoPart::Async, DemoPart::Threads, DemoPart::Processes]
    })))
}

fn parse_exhibition(parser: &mut lexopt::Parser) -> Result<Command, String> {
    let mut out = ExhibitionArgs {
        params: Params::default(),
        models: vec![Model::Sync, Model::Async],
        clock: None,
        json: false,
        trace: None,
        timeline: None,
        progress: true,
    };
    while let Some(arg) = parser.next().map_err(explain)? {
        let flag = match arg {
            Arg::Long("help") | Arg::Short('h') => return Ok(Command::Help),
            Arg::Long("json") => {
                out.json = true;
                continue;
            }
            Arg::Long("no-progress") => {
                out.progress = false;
                continue;
            }
            Arg::Long(
                flag @ ("boards" | "moves" | "master-move" | "opponent-move" | "model" | "clock"
                | "speedup" | "trace" | "timeline"),
            ) => flag.to_string(),
            other => return Err(explain(other.unexpected())),
        };
        let value = parser.value().map_err(explain)?;
        if flag == "trace" {
            out.trace = Some(PathBuf::from(value));
            continue;
        }
        if flag == "timeline" {
            out.timeline = Some(svg_path(PathBuf::from(value))?);
            continue;
        }
        let value = utf8(value)?;
        match flag.as_str() {
            "boards" => out.params.boards = count("--boards", &value)?,
            "moves" => out.params.moves = count("--moves", &value)?,
            "master-move" => out.params.master_move = positive("--master-move", &value)?,
            "opponent-move" => out.params.opponent_move = positive("--opponent-move", &value)?,
            "model" => out.models = models(&value)?,
            "clock" => {
                out.clock = Some(match value.as_str() {
                    "virtual" => Clock::Virtual,
                    "real" => Clock::Real,
                    other => {
                        return Err(format!(
                            "invalid --clock `{other}` (expected virtual or real)"
                        ));
                    }
                })
            }
            _ => out.params.speedup = speedup(&value)?,
        }
    }
    within_the_limits(&out)?;
    within_the_horizon(&out.params)?;
    Ok(Command::Exhibition(out))
}

/// The timeline is SVG; a name that promises another format is refused
/// rather than given SVG under a misleading name.
fn svg_path(path: PathBuf) -> Result<PathBuf, String> {
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if is_svg {
        Ok(path)
    } else {
        Err(format!(
            "--timeline `{}`: the timeline is drawn as SVG only; name the file *.svg",
            path.display()
        ))
    }
}

fn speedup(text: &str) -> Result<f64, String> {
    let speedup: f64 = text
        .parse()
        .map_err(|_| format!("invalid --speedup `{text}`: expected a number"))?;
    if !(speedup.is_finite() && speedup > 0.0) {
        return Err(format!(
            "invalid --speedup `{text}`: must be greater than zero"
        ));
    }
    Ok(speedup)
}

/// Refuses runs too large to finish in reasonable time and memory (see
/// [`MAX_BOARDS`]).
fn within_the_limits(args: &ExhibitionArgs) -> Result<(), String> {
    let p = &args.params;
    if p.boards > MAX_BOARDS {
        return Err(format!(
            "--boards {} is more than the {MAX_BOARDS} an exhibition takes",
            p.boards
        ));
    }
    if p.boards.saturating_mul(p.moves) > MAX_PAIRS {
        return Err(format!(
            "--boards {} × --moves {} is more than the {MAX_PAIRS} move pairs a run plays",
            p.boards, p.moves
        ));
    }
    for (model, max, what) in [
        (Model::Threads, MAX_THREAD_BOARDS, "an OS thread"),
        (Model::Processes, MAX_PROCESS_BOARDS, "a process"),
    ] {
        if args.models.contains(&model) && p.boards > max {
            return Err(format!(
                "the {} model starts {what} per board: at most {max} boards, not {}",
                model.name(),
                p.boards
            ));
        }
    }
    Ok(())
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
