#!/usr/bin/env python3
"""Runs brigade's benchmarks against its peers and prints one table per workload.

    python3 bench/run.py                      every workload, every runtime, 5 runs each
                                              (9 for the noisy files and http)
    python3 bench/run.py --only spawn,echo    some workloads
    python3 bench/run.py --runtimes tokio-ct,asyncio
    python3 bench/run.py --quick              1 run each
    python3 bench/run.py --write              also rewrite BENCHMARKS.md

Steps: build the Rust harness in release (with the `brigade` feature when it
builds, else without: brigade's rows then read "not built yet"), find a
Python for the CPython peers (bench/.venv with uvloop if it can be set up,
else the machine's python3), ask both harnesses for their (workload,
runtime) pairs (`--list`), then run every pair N times, one child process
per run, in rounds within a workload (run 1 of every runtime, then run
2, ..., each round shuffled with a fixed seed), and report medians.

Per run: wall = the child's own `wall_s`, timed around the work only;
CPU = the child's own `cpu_s`, getrusage(SELF) + getrusage(CHILDREN) over
the same window; peak RSS = ru_maxrss from wait4 on the child (the largest
of the child and its reaped descendants), reaped by the small launcher
`brigade-bench --rusage --` rather than by this Python process, whose own
~16 MiB Linux would otherwise carry into every child's ru_maxrss at exec.
The whole-process CPU from wait4 (setup and interpreter start included) is
kept in the raw results, bench/target/bench-results.json. Standard library
only.
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MANIFEST = BENCH / "Cargo.toml"
TARGET = BENCH / "target"
HARNESS = TARGET / "release" / "brigade-bench"
BENCH_PY = BENCH / "python" / "bench.py"
VENV = BENCH / ".venv"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
RESULTS_JSON = TARGET / "bench-results.json"
REGENERATE = "python3 bench/run.py --write"
BRIGADE = "brigade"

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
MACHINE_BEGIN, MACHINE_END = "<!-- bench:machine:begin -->", "<!-- bench:machine:end -->"
TARGETS_BEGIN, TARGETS_END = "<!-- bench:targets:begin -->", "<!-- bench:targets:end -->"
WORKLOAD_MARK = re.compile(r"^<!-- bench:workload:([\w-]+) (\{.*\}) -->$", re.M)

# What each workload is, in report order; bench/README.md says more.
WORKLOADS = {
    "spawn": "spawn + join 1,000,000 tiny async tasks, each returning its index",
    "yield": "1,000 tasks × 1,000 yields to the scheduler",
    "pingpong": "1,000,000 round trips between two tasks over two bounded(1) channels",
    "timers": "100,000 concurrent tasks, each sleeping a seeded pseudo-random 0–100 ms",
    "chess24": "chess simultaneous exhibition, 24 boards × 30 moves, in virtual time (ends at 3,655 s), 100 exhibitions back to back",
    "chess100k": "chess simultaneous exhibition, 100,000 boards × 30 moves, in virtual time",
    "echo10": "TCP echo on 127.0.0.1: 10 connections × 10,000 round trips of 64 B",
    "echo": "TCP echo on 127.0.0.1: 100 connections × 1,000 round trips of 64 B",
    "echo1000": "TCP echo on 127.0.0.1: 1,000 connections × 100 round trips of 64 B",
    "files": "read 10,000 files of 4 KiB each concurrently from the temp dir (files created untimed)",
    "files-tmpfs": "read 10,000 files of 4 KiB each concurrently from /dev/shm (files created untimed)",
    "threads": "spawn 10,000 OS threads, then join them all",
    "threads1": "spawn and join 10,000 OS threads, one at a time",
    "poolmap": "thread-pool map of x ↦ x² mod 1,000,000,007 over 1,000,000 items, in order",
    "procs": "200 child processes, each returning i² of its index to the parent",
    "procpool": "10 process-pool maps of n ↦ n² over 100,000 items, in order, back to back",
    "procrtt": "10,000 tasks n ↦ n² through a 2-process pool, one at a time (the round trip of an unchunked task)",
    "broadcast": "broadcast channel of 128 slots: 1 sender, 100 receivers, 100,000 messages (the sender yields after every 64)",
    "rwlock": "async RwLock, read-heavy: 100 tasks × 10,000 holds, 1% writes, each hold spanning one yield",
    "joinset": "spawn 1,000,000 tasks into a JoinSet, then join_next them all",
    "mplock": "cross-process lock: 1,000,000 acquire + release, uncontended",
    "mplock2": "cross-process lock: 2 processes × 200,000 acquire + release, contending (start-up not measured)",
    "mpvalue": "shared value: 2 processes × 200,000 increments under its lock (start-up not measured)",
    "manager": "Manager dict: 10,000 × d[k] = d[k] + 1 from one client (2 round trips each)",
    "lateness": "timer lateness: 10,000 sleeps of 0.1–5 ms (10 sleepers × 1,000 in turn), "
                "median and p99 of (actual − requested)",
    "clustermap": "map of n ↦ n² over 100,000 items through one Redis broker to one worker of 2 processes "
                  "(ray-pool: Ray's own cluster backend, no Redis), 12,500 items per task",
    "clusterrtt": "1,000 tasks n ↦ n² through the same broker and worker (ray-pool: the same Ray pool), "
                  "one at a time (the round trip)",
    "http": "HTTP/1.1 keep-alive \"Hello, World!\" from hyper 1.x on 127.0.0.1, "
            "loaded by wrk (1 thread, 64 connections, 5 s per run)",
}

# What a workload's table says under its heading, beyond the heading.
TABLE_NOTES = {
    "clustermap": "`ray-pool` is Ray's `multiprocessing.Pool` of 2 actors on a local Ray instance: it does not "
                  "use the Redis broker but Ray's own cluster backend (its GCS, raylet and object store), "
                  "which is the point of the comparison. CPU counts the measuring process alone in every row "
                  "(no worker is reaped inside the window).",
}
TABLE_NOTES["clusterrtt"] = TABLE_NOTES["clustermap"]

# Optional packages of bench/.venv: (the module that shows it is there, pip's
# requirement, the runtimes that need it, their workloads). Each is tried
# when the run includes one of those rows and the venv cannot import it yet;
# when pip fails, the run goes on and those rows read "not installed" with
# pip's reason (INSTALL_FAILURES).
OPTIONAL_PACKAGES = [
    ("ray", "ray==2.60.0", ("ray-pool",), ("clustermap", "clusterrtt")),
]
INSTALL_FAILURES = {}

# Workloads measured by their own driver rather than the harness.
HTTP = "http"
# The workload whose figure is not the wall time but how late sleeps wake:
# its rows are compared on the median lateness (`lateness_p50_s`).
LATENESS = "lateness"
LATENESS_KEY = "lateness_p50_s"

# Workloads whose runs spread widely on a small shared VM (kernel-bound:
# page faults, the file system's journal, loopback TCP; single runs of one
# binary differ by 30% and more): they get at least this many runs, so that
# their medians hold still. `--quick` still makes one.
NOISY_RUNS = {"files": 9, "files-tmpfs": 9, HTTP: 9}


def runs_for(workload, runs, quick):
    """How many runs `workload` gets when `runs` were asked for."""
    return runs if quick else max(runs, NOISY_RUNS.get(workload, 0))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- building


def cargo(args, log_name):
    """Runs cargo, logs its output under bench/target/, returns (ok, last error)."""
    TARGET.mkdir(exist_ok=True)
    path = TARGET / log_name
    with open(path, "w") as out:
        done = subprocess.run(["cargo", *args], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    if done.returncode == 0:
        return True, ""
    lines = path.read_text(errors="replace").strip().splitlines()
    errors = [line for line in lines if line.startswith("error")]
    first = errors[0] if errors else (lines[-1] if lines else "no output")
    return False, f"{first} (see {path.relative_to(ROOT)})"


def standalone_manifest():
    """A copy of the harness manifest without the brigade dependency, for when
    even crates/brigade's manifest cannot be read (then cargo refuses to
    resolve the optional dependency, feature or not)."""
    source = (BENCH / "harness" / "Cargo.toml").read_text()
    lines = [ln for ln in source.splitlines() if not ln.startswith("brigade = { path")]
    text = "\n".join(lines).replace('brigade = ["dep:brigade"]', "brigade = []")
    main_rs = (BENCH / "harness" / "src" / "main.rs").as_posix()
    text = text.replace('path = "src/main.rs"', f'path = "{main_rs}"')
    directory = TARGET / "standalone"
    directory.mkdir(parents=True, exist_ok=True)
    # Same release profile as bench/Cargo.toml, so the built dependencies are reused.
    workspace = MANIFEST.read_text()
    profile = workspace[workspace.find("[profile"):] if "[profile" in workspace else ""
    (directory / "Cargo.toml").write_text(f"{text}\n\n[workspace]\n\n{profile}")
    if (BENCH / "Cargo.lock").exists():
        shutil.copy(BENCH / "Cargo.lock", directory / "Cargo.lock")
    return directory / "Cargo.toml"


def build():
    """Builds the harness; returns a sentence saying how brigade was built."""
    base = ["build", "--release", "--manifest-path", str(MANIFEST)]
    log("building the harness with the brigade feature ...")
    ok, err = cargo([*base, "--features", "brigade"], "build-brigade.log")
    if ok:
        return "built with the `brigade` feature"
    log(f"  the brigade feature does not build: {err}")
    log("building the harness without it ...")
    ok, err2 = cargo(base, "build.log")
    if ok:
        return f"the `brigade` feature does not build ({err})"
    log(f"  that fails too: {err2}")
    log("building a standalone copy without the brigade dependency ...")
    manifest = standalone_manifest()
    ok, err3 = cargo(
        ["build", "--release", "--manifest-path", str(manifest), "--target-dir", str(TARGET)],
        "build-standalone.log",
    )
    if not ok:
        sys.exit(f"cannot build the harness: {err3}")
    return f"brigade's crate could not be loaded ({err2})"


# ---------------------------------------------------------------- Python


def python_ok(python, code):
    try:
        return subprocess.run([python, "-c", code], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_broker():
    """A redis-server on a free loopback port (no persistence), announced to
    every harness through BENCH_REDIS_URL; None if there is none installed
    (the cluster rows then start their own, or fail)."""
    import socket
    if not shutil.which("redis-server"):
        log("no redis-server: the cluster rows need one (apt-get install redis-server)")
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
            return child
        except OSError:
            time.sleep(0.02)
    child.kill()
    return None


def pip_install(python, requirement, timeout):
    """`pip install requirement` into `python`'s environment: None when it
    worked, else why not (pip's last error line)."""
    try:
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", requirement],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s"
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    return (errors[0] if errors else lines[-1] if lines else f"exit {done.returncode}")[:160]


def install_optional(python, only, wanted_runtimes):
    """Tries each of OPTIONAL_PACKAGES that this run needs (`only` and
    `wanted_runtimes` as in collect_rows) and `python` cannot import yet; a
    failure is kept in INSTALL_FAILURES, never raised."""
    for module, requirement, runtimes, workloads in OPTIONAL_PACKAGES:
        if only and not only & set(workloads):
            continue
        if wanted_runtimes and not wanted_runtimes & set(runtimes):
            continue
        if python_ok(python, f"import {module}"):
            continue
        log(f"adding {requirement} to bench/.venv (optional, for {', '.join(runtimes)}) ...")
        reason = pip_install(python, requirement, timeout=900)
        if reason is None and not python_ok(python, f"import {module}"):
            reason = f"installed, but `import {module}` fails"
        if reason is not None:
            log(f"  {requirement} is not installed: {reason}")
            for runtime in runtimes:
                INSTALL_FAILURES[runtime] = f"pip install {requirement}: {reason}"


def find_python(explicit, allow_install, only=None, runtimes=None):
    """The interpreter for the CPython peers: bench/.venv (with uvloop) when
    it exists or can be made, else the machine's python3. With
    `allow_install`, the optional packages this run needs (`only`,
    `runtimes`) are tried too."""
    if explicit:
        return explicit
    venv_python = VENV / "bin" / "python"
    if venv_python.exists() and python_ok(venv_python, "import uvloop"):
        if allow_install and not python_ok(venv_python, "import celery"):
            log("adding celery to bench/.venv for the cluster rows ...")
            subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "celery", "redis", "packaging"],
                           capture_output=True, timeout=600)
        if allow_install:
            install_optional(venv_python, only, runtimes)
        return str(venv_python)
    if allow_install:
        log("setting up bench/.venv with uvloop ...")
        try:
            if not venv_python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True,
                               capture_output=True, timeout=300)
            subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "uvloop"],
                           check=True, capture_output=True, timeout=300)
            # Celery (with its Redis client), the peer of the cluster rows;
            # without it those rows read "not installed".
            subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "celery", "redis", "packaging"],
                           capture_output=True, timeout=600)
            if python_ok(venv_python, "import uvloop"):
                install_optional(venv_python, only, runtimes)
                return str(venv_python)
        except (OSError, subprocess.SubprocessError) as exc:
            log(f"  no uvloop ({exc}); its rows will read 'not installed'")
    return shutil.which("python3") or sys.executable


# ---------------------------------------------------------------- running


class Row:
    """One (workload, runtime) pair and its runs."""

    def __init__(self, workload, runtime, command, unsupported=None, not_built=None):
        self.workload = workload
        self.runtime = runtime
        self.command = command
        self.runs = []
        self.status = "unsupported" if unsupported else ("not_built" if not_built else "pending")
        self.reason = unsupported or not_built or ""

    def median(self, key):
        values = [r[key] for r in self.runs if r.get(key) is not None]
        return statistics.median(values) if values else None

    def to_json(self):
        return {
            "workload": self.workload,
            "runtime": self.runtime,
            "command": self.command,
            "status": self.status,
            "reason": self.reason,
            "runs": self.runs,
            "median_wall_s": self.median("wall_s"),
            "median_cpu_s": self.median("cpu_s"),
            "median_maxrss_kib": self.median("maxrss_kib"),
        }


def list_pairs(command):
    done = subprocess.run([*command, "--list"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} --list failed: {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def collect_rows(python, only, runtimes):
    rows = {w: [] for w in WORKLOADS}
    for command in ([str(HARNESS)], [python, str(BENCH_PY)]):
        for pair in list_pairs(command):
            workload, runtime = pair["workload"], pair["runtime"]
            if workload not in rows or (only and workload not in only):
                continue
            if runtimes and runtime != BRIGADE and runtime not in runtimes:
                continue
            row = Row(workload, runtime, [*command, workload, runtime],
                      pair.get("unsupported"), pair.get("not_built"))
            if runtime in INSTALL_FAILURES and row.status == "pending":
                row.status, row.reason = "not_installed", INSTALL_FAILURES[runtime]
            rows[workload].append(row)
    return {w: r for w, r in rows.items() if r}


def json_lines(text):
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def stderr_reason(text):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("note: run with")]
    return lines[-1][:160] if lines else ""


def run_once(command, timeout):
    """One measurement: the benchmark's JSON line plus the wait4 rusage that
    `brigade-bench --rusage` reports for it (see measure::launch: launching
    from this Python process directly would add its ~16 MiB to ru_maxrss)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen([str(HARNESS), "--rusage", "--", *command], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 cwd=ROOT, start_new_session=True)
        reaped = {}
        waiter = threading.Thread(target=lambda: reaped.update(w=os.wait4(child.pid, 0)), daemon=True)
        waiter.start()
        waiter.join(timeout)
        timed_out = waiter.is_alive()
        if timed_out:
            # The child leads its own session: this ends it and whatever it started.
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            waiter.join()
        _, status, _ = reaped["w"]
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    lines = list(json_lines(stdout))
    report = next((ln for ln in reversed(lines) if "status" in ln), None)
    usage = next((ln["rusage"] for ln in reversed(lines) if "rusage" in ln), {})
    exit_code = usage.get("exit", child.returncode)
    run = {"exit": exit_code, "maxrss_kib": usage.get("maxrss_kib"),
           "process_cpu_s": usage.get("cpu_s")}
    if timed_out:
        run.update(status="failed", reason=f"timed out after {timeout:g} s")
    elif report is None:
        why = f"signal {-exit_code}" if exit_code < 0 else f"exit {exit_code}"
        run.update(status="failed", reason=f"{why}: {stderr_reason(stderr) or 'no output'}")
    else:
        run.update(report)
        if run.get("status") == "ok" and exit_code != 0:
            run.update(status="failed", reason=f"exit {exit_code} after reporting ok")
        elif run.get("status") == "failed":
            run["reason"] = (f"{run.get('reason', 'failed')}: got {run.get('check')}, "
                             f"expected {run.get('expected')}")
    return run


def run_rows(rows, runs, timeout):
    """Runs each pending row `runs` times, in rounds: run 1 of every row,
    then run 2, and so on, each round in its own (seeded) shuffled order. A
    slow patch of this shared machine then touches every row alike rather
    than all the runs of one row, and no row always runs right after the
    same neighbour (after CPython's 1.7 GB ThreadPoolExecutor map, say)."""
    for row in rows:
        if row.status != "pending":
            log(f"  {row.runtime:<20} {label(row)}")
    live = [row for row in rows if row.status == "pending"]
    for i in range(runs):
        order = list(live)
        random.Random(i).shuffle(order)
        for row in order:
            if row.status != "pending":
                continue
            run = run_once(row.command, timeout)
            run["round"] = i
            status = run.get("status")
            if status in ("not_built", "not_installed", "unsupported"):
                row.status, row.reason = status, run.get("reason", "")
                log(f"  {row.runtime:<20} {label(row)}")
                continue
            row.runs.append(run)
            if status != "ok":
                row.status, row.reason = "failed", run.get("reason", "failed")
                log(f"  {row.runtime:<20} run {i + 1}/{runs}: FAILED: {row.reason}")
                continue
            late = (f", lateness p50 {fmt_time(run['lateness_p50_s'])} p99 {fmt_time(run['lateness_p99_s'])}"
                    if run.get("lateness_p50_s") is not None else "")
            log(f"  {row.runtime:<20} run {i + 1}/{runs}: {fmt_time(run['wall_s'])}{late}")
    for row in live:
        if row.status == "pending":
            row.status = "ok"


def http_driver():
    """bench/http.py, loaded under another name: `http` is a standard module."""
    spec = importlib.util.spec_from_file_location("http_wrk", BENCH / "http.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_http(runs):
    """The `http` workload's rows. Each run's wall_s is the time per request
    (1 / requests per second), so ratios read as in the other tables."""
    driver = http_driver()
    rows = [Row(HTTP, name, [binary, str(n)]) for name, binary, n in driver.servers(os.cpu_count() or 2)]
    if not shutil.which("wrk"):
        for row in rows:
            row.status, row.reason = "not_installed", "wrk: apt-get install wrk"
        return rows
    log("building bench/http ...")
    failure = driver.build()
    if failure:
        for row in rows:
            row.status, row.reason = "failed", f"build: {failure}"
        return rows
    results = driver.measure(runs, log=log)
    for row in rows:
        result = results[row.runtime]
        row.runs = [dict(run, status="ok", wall_s=1 / run["rps"]) for run in result["runs"]]
        if result["failed"] or not row.runs:
            row.status, row.reason = "failed", result["failed"] or "no run"
        else:
            row.status = "ok"
    return rows


def http_table(rows, runs):
    summary = summarize(HTTP, rows)
    driver = http_driver()
    lines = [
        f"<!-- bench:workload:{HTTP} {json.dumps(summary, sort_keys=True)} -->",
        f"### `{HTTP}`: {WORKLOADS[HTTP]}",
        "",
        f"Median of {runs} run{'s' if runs != 1 else ''}, measured "
        f"{datetime.date.today().isoformat()}. `brigade-Nloops` is N event loops "
        "behind one port (SO_REUSEPORT); `tokio-mt` has one worker per core, "
        "`tokio-mt-1w` one worker. The ratio compares the time per request "
        "(the inverse of requests/s). Server CPU is the server process's user + "
        "system time per request while wrk runs (/proc/PID/stat). Also: "
        "`python3 bench/http.py`.",
        "",
        "| runtime | requests/s | p50 latency | p99 latency | server CPU per request | brigade ÷ peer (spread) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if row.status == "ok":
            rps = f"{statistics.median(r['rps'] for r in row.runs):,.0f}"
            p50 = driver.fmt_latency(row.median("p50_s"))
            p99 = driver.fmt_latency(row.median("p99_s"))
            cpu = row.median("cpu_per_request_s")
            cpu = "" if cpu is None else f"{cpu * 1e6:.2f} µs"
        else:
            rps, p50, p99, cpu = label(row), "", "", ""
        lines.append(f"| {cell(row.runtime)} | {cell(rps)} | {p50} | {p99} | {cpu} | "
                     f"{cell(ratio_cell(summary, row))} |")
    return summary, "\n".join(lines) + "\n"


# ---------------------------------------------------------------- reporting


def fmt_time(seconds):
    if seconds is None:
        return ""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


def fmt_rss(kib):
    if kib is None:
        return ""
    return f"{kib / 1024:.1f} MiB" if kib < 1024 * 1024 else f"{kib / 1024 / 1024:.2f} GiB"


def fmt_ratio(ratio):
    return f"{ratio:.2g}" if ratio < 0.1 else f"{ratio:.2f}"


def label(row):
    """The text shown instead of numbers for a row that did not measure."""
    return {
        "not_built": "not built yet",
        "not_installed": f"not installed ({row.reason})",
        "unsupported": f"n/a: {row.reason}",
        "failed": f"failed: {row.reason}",
    }.get(row.status, row.status)


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def is_ours(runtime):
    """brigade's rows: `brigade` and its flavours (`brigade-2loops`, ...)."""
    return runtime == BRIGADE or runtime.startswith(BRIGADE + "-")


def paired_stats(ours, peer, key="wall_s"):
    """brigade's row ÷ the peer's, over the rounds both measured: each
    round's ratio pairs two runs made minutes apart at most, so a slow
    patch of the machine touches both. Returns [median, min, max] of the
    per-round ratios, or None when no round has both."""
    theirs = {r.get("round"): r[key] for r in peer.runs if r.get(key) is not None}
    ratios = [r[key] / theirs[r.get("round")] for r in ours.runs
              if r.get(key) is not None and r.get("round") in theirs and theirs[r.get("round")]]
    if not ratios:
        return None
    return [statistics.median(ratios), min(ratios), max(ratios)]


def verdict(stats, limit=1.0):
    """"faster" when every round's ratio is below `limit` (the spread
    excludes it), "slower" when every one is above, else "tie"."""
    if not stats or stats[1] is None:
        return "no spread"
    if stats[2] < limit:
        return "faster"
    if stats[1] > limit:
        return "slower"
    return "tie"


def fmt_stats(stats):
    """`0.48 (0.45–0.52)`: the median ratio and its spread over the rounds."""
    if not stats:
        return "—"
    median, lo, hi = stats
    if lo is None:
        return fmt_ratio(median)
    return f"{fmt_ratio(median)} ({fmt_ratio(lo)}–{fmt_ratio(hi)})"


def paired_differences(ours, peer, key):
    """brigade's row − the peer's, round by round, as paired_stats pairs
    them: [median, min, max], or None when no round has both."""
    theirs = {r.get("round"): r[key] for r in peer.runs if r.get(key) is not None}
    diffs = [r[key] - theirs[r.get("round")] for r in ours.runs
             if r.get(key) is not None and r.get("round") in theirs]
    if not diffs:
        return None
    return [statistics.median(diffs), min(diffs), max(diffs)]


def summarize(workload, rows):
    """The ratios of one workload, kept as JSON in BENCHMARKS.md so that
    the Targets section can be rebuilt after a partial run: for each of
    brigade's rows, its [median, min, max] ratio to every other runtime,
    for wall time (the median lateness for `lateness`, where "margin" also
    keeps the differences, in seconds) and for peak RSS."""
    key = LATENESS_KEY if workload == LATENESS else "wall_s"
    ok = [r for r in rows if r.status == "ok"]
    brigade = next((r for r in rows if r.runtime == BRIGADE), None)
    data = {"brigade": brigade.status if brigade else "absent",
            "peers": [r.runtime for r in ok if not is_ours(r.runtime)],
            "ours": {}, "rss": {}}
    for mine in (r for r in ok if is_ours(r.runtime)):
        others = [r for r in ok if r is not mine]
        data["ours"][mine.runtime] = {r.runtime: paired_stats(mine, r, key) for r in others}
        data["rss"][mine.runtime] = {r.runtime: paired_stats(mine, r, "maxrss_kib") for r in others}
        if workload == LATENESS:
            data.setdefault("margin", {})[mine.runtime] = {
                r.runtime: paired_differences(mine, r, key) for r in others}
    if data["ours"]:
        data["best"] = min((r for r in ok if is_ours(r.runtime)), key=lambda r: r.median(key)).runtime
    return data


def ratio_cell(summary, row):
    """The table's `brigade ÷ peer` cell: spread and verdict."""
    if row.runtime == BRIGADE:
        return "—"
    state = summary["brigade"]
    if state == "not_built":
        return "not built yet"
    if state != "ok":
        return f"brigade {state.replace('_', ' ')}"
    stats = summary["ours"].get(BRIGADE, {}).get(row.runtime)
    return f"{fmt_stats(stats)} {verdict(stats)}" if stats else "—"


def table(workload, rows, runs):
    summary = summarize(workload, rows)
    lines = [
        f"<!-- bench:workload:{workload} {json.dumps(summary, sort_keys=True)} -->",
        f"### `{workload}`: {WORKLOADS[workload]}",
        "",
        f"Median of {runs} run{'s' if runs != 1 else ''}, measured "
        f"{datetime.date.today().isoformat()}."
        + (f" {TABLE_NOTES[workload]}" if workload in TABLE_NOTES else ""),
        "",
        "| runtime | wall | CPU | peak RSS | brigade ÷ peer (spread) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if row.status == "ok":
            wall = fmt_time(row.median("wall_s"))
            cpu = fmt_time(row.median("cpu_s"))
            rss = fmt_rss(row.median("maxrss_kib"))
        else:
            wall, cpu, rss = label(row), "", ""
        lines.append(f"| {cell(row.runtime)} | {cell(wall)} | {cell(cpu)} | {cell(rss)} | "
                     f"{cell(ratio_cell(summary, row))} |")
    checks = {r.runs[0].get("check") for r in rows if r.status == "ok" and r.runs}
    if len(checks) > 1:
        lines += ["", f"**Warning:** runtimes disagree on the check value: {sorted(checks)}."]
    return "\n".join(lines) + "\n"


def lateness_table(rows, runs):
    """The `lateness` table: how late each runtime's sleeps woke."""
    summary = summarize(LATENESS, rows)
    lines = [
        f"<!-- bench:workload:{LATENESS} {json.dumps(summary, sort_keys=True)} -->",
        f"### `{LATENESS}`: {WORKLOADS[LATENESS]}",
        "",
        f"Median of {runs} run{'s' if runs != 1 else ''}, measured "
        f"{datetime.date.today().isoformat()}. Each run makes the 10,000 sleeps "
        "and reports the median (p50) and 99th percentile (p99) of their "
        "lateness; the table gives the median of those over the runs. The "
        "ratio compares the median lateness. `std-thread` is "
        "`std::thread::sleep` on one OS thread per sleeper.",
        "",
        "| runtime | p50 lateness | p99 lateness | CPU | brigade ÷ peer, p50 (spread) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if row.status == "ok":
            p50 = fmt_time(row.median(LATENESS_KEY))
            p99 = fmt_time(row.median("lateness_p99_s"))
            cpu = fmt_time(row.median("cpu_s"))
        else:
            p50, p99, cpu = label(row), "", ""
        lines.append(f"| {cell(row.runtime)} | {cell(p50)} | {cell(p99)} | {cell(cpu)} | "
                     f"{cell(ratio_cell(summary, row))} |")
    return summary, "\n".join(lines) + "\n"


def standing(summary):
    """One cell of the Targets table: brigade's fastest row against every
    runtime that is not brigade's, each with its verdict."""
    state = summary.get("brigade")
    if state == "not_built":
        return "not built yet"
    if state != "ok":
        return f"brigade {state.replace('_', ' ')}"
    best = summary.get("best")
    if not best:
        return "brigade not measured"
    stats = {p: v for p, v in summary["ours"][best].items() if not is_ours(p) and v}
    if not stats:
        return "no peer measured"
    prefix = f"with {best}: " if best != BRIGADE else ""
    groups = {}
    for peer, v in stats.items():
        groups.setdefault(verdict(v), []).append(f"{peer} {fmt_stats(v)}")
    parts = [f"{name} than {', '.join(groups[name])}" if name != "tie" else f"tie with {', '.join(groups[name])}"
             for name in ("slower", "tie", "faster", "no spread") if name in groups]
    return prefix + "; ".join(parts)


# The issues' targets: (what, workload, peers, the largest brigade ÷ peer
# ratio that meets it, brigade's row or rows, what is compared). A target
# is met only when every round's ratio is at or below the limit, against
# every listed peer; with several brigade rows (its flavours: epoll, two
# SO_REUSEPORT loops, the forkserver), the one with the best worst case
# counts.
ISSUE_TARGETS = [
    ("ahead of tokio current_thread on spawn", "spawn", ["tokio-ct"], 1.0, "brigade"),
    ("ahead of smol on spawn", "spawn", ["smol-local"], 1.0, "brigade"),
    ("spawn: peak memory at or below smol's", "spawn", ["smol-local", "smol-mt"], 1.0, "brigade", "rss"),
    ("ahead of tokio current_thread on yield", "yield", ["tokio-ct"], 1.0, "brigade"),
    ("ahead of smol on yield", "yield", ["smol-local"], 1.0, "brigade"),
    ("ahead of tokio current_thread on ping-pong", "pingpong", ["tokio-ct"], 1.0, "brigade"),
    ("ahead of smol on ping-pong", "pingpong", ["smol-local"], 1.0, "brigade"),
    ("ahead of tokio current_thread on timers", "timers", ["tokio-ct"], 1.0, "brigade"),
    ("ahead of smol on timers", "timers", ["smol-local"], 1.0, "brigade"),
    ("exhibition, 24 boards: ahead of tokio's paused clock", "chess24", ["tokio-ct"], 1.0, "brigade"),
    ("exhibition, 100,000 boards: ahead of tokio's paused clock", "chess100k", ["tokio-ct"], 1.0, "brigade"),
    ("exhibition, 24 boards: at least 2× smol with a small virtual clock", "chess24", ["smol-vclock"], 0.5, "brigade"),
    ("exhibition, 100,000 boards: at least 2× smol with a small virtual clock", "chess100k", ["smol-vclock"], 0.5,
     "brigade"),
    ("echo, 10 connections, one loop: ahead of std (thread per connection) and tokio-ct", "echo10",
     ["std-thread", "tokio-ct"], 1.0, "brigade"),
    ("echo, 100 connections, one loop: ahead of std (thread per connection) and tokio-ct", "echo",
     ["std-thread", "tokio-ct"], 1.0, "brigade"),
    ("echo, 1,000 connections, one loop: ahead of std (thread per connection) and tokio-ct", "echo1000",
     ["std-thread", "tokio-ct"], 1.0, "brigade"),
    ("TCP echo: ahead of tokio multi_thread", "echo", ["tokio-mt"], 1.0,
     ("brigade", "brigade-epoll", "brigade-2loops")),
    ("small-file reads, ext4, default driver: ahead of std with one thread per core", "files", ["std-fs-mt"], 1.0,
     "brigade"),
    ("small-file reads, tmpfs, default driver: ahead of std with one thread per core", "files-tmpfs", ["std-fs-mt"],
     1.0, "brigade"),
    ("small-file reads: at least 2× tokio::fs", "files", ["tokio-ct", "tokio-mt"], 0.5,
     ("brigade", "brigade-epoll", "brigade-2loops")),
    ("thread spawn+join, all at once: within 5% of std::thread", "threads", ["std-thread"], 1.05, "brigade"),
    ("thread spawn+join, one at a time: within 5% of std::thread", "threads1", ["std-thread"], 1.05, "brigade"),
    ("pool map at least as fast as rayon", "poolmap", ["rayon"], 1.0, "brigade"),
    ("process spawn→result at least 5× faster than procspawn (forkserver)", "procs",
     ["procspawn"], 0.2, "brigade-forkserver"),
    ("process spawn→result at least 10× faster than CPython's fastest start method (forkserver)",
     "procs", ["mp-fork", "mp-spawn", "mp-forkserver"], 0.1, "brigade-forkserver"),
    ("process-pool map, equal chunking, warm pools: ahead of procspawn", "procpool", ["procspawn-pool"], 1.0,
     "brigade"),
    ("process-pool map at least 3× CPython's fastest Pool.map", "procpool",
     ["mp-Pool-fork", "mp-Pool-spawn", "mp-Pool-forkserver"], 1 / 3, "brigade"),
    ("broadcast fan-out (1 sender, 100 receivers): ahead of tokio current_thread", "broadcast", ["tokio-ct"], 1.0,
     "brigade"),
    ("RwLock, 99% reads, 100 tasks: ahead of tokio current_thread", "rwlock", ["tokio-ct"], 1.0, "brigade"),
    ("JoinSet spawn + join_next of 1,000,000 tasks: ahead of tokio current_thread", "joinset", ["tokio-ct"], 1.0,
     "brigade"),
    ("cross-process Lock, uncontended: 10× multiprocessing.Lock", "mplock", ["mp-fork"], 0.1, "brigade"),
    ("cross-process Lock, 2 processes contending: 10× multiprocessing.Lock", "mplock2", ["mp-fork"], 0.1, "brigade"),
    ("Value increments under its lock from 2 processes: 10× multiprocessing.Value", "mpvalue", ["mp-fork"], 0.1,
     "brigade"),
    ("Manager dict get + set round trip: 10× multiprocessing.Manager", "manager", ["mp-fork"], 0.1, "brigade"),
    ("cluster pool through Redis, chunked map: 10× Celery's throughput", "clustermap", ["celery"], 0.1,
     "brigade"),
    ("cluster pool through Redis, one task's round trip: 5× faster than Celery", "clusterrtt", ["celery"], 0.2,
     "brigade"),
    ("HTTP under wrk: at least equal to hyper on tokio", HTTP, ["tokio-mt", "tokio-mt-1w"], 1.0,
     ("brigade", "brigade-2loops")),
    ("timer lateness (median): ahead of tokio current_thread", LATENESS, ["tokio-ct"], 1.0, "brigade"),
    ("timer lateness (median): ahead of smol", LATENESS, ["smol-local"], 1.0, "brigade"),
]

# Targets on a difference rather than a ratio: (what, workload, peer, the
# largest brigade − peer difference that meets it, in seconds). Met only
# when every round's difference is at or below it.
MARGIN_TARGETS = [
    ("timer lateness (median): at most std::thread::sleep's + 50 µs", LATENESS, "std-thread", 50e-6),
]


def target_result(summary, peers, rows, key="wall"):
    """(stats, peer, row) of the target's worst peer for its best row: the
    row whose largest ratio against the listed peers is smallest."""
    rows = rows if isinstance(rows, tuple) else (rows,)
    table_key = "ours" if key == "wall" else "rss"
    found = []
    for row in rows:
        against = ((summary or {}).get(table_key) or {}).get(row) or {}
        present = [(against[p], p) for p in peers if against.get(p)]
        if present:
            stats, peer = max(present, key=lambda x: (x[0][2] if x[0][2] is not None else x[0][0]))
            found.append((stats, peer, row))
    if not found:
        return None
    return min(found, key=lambda f: f[0][2] if f[0][2] is not None else f[0][0])


def targets_section(summaries):
    lines = [
        "| target | workload | peers measured | where brigade stands (brigade ÷ peer, median and spread over the runs) |",
        "| --- | --- | --- | --- |",
    ]
    for workload, what in WORKLOADS.items():
        summary = summaries.get(workload)
        peers = ", ".join(summary.get("peers", [])) if summary else ""
        where = standing(summary) if summary else "not measured yet"
        lines.append(f"| {cell(what)} | `{workload}` | {cell(peers)} | {cell(where)} |")
    lines += [
        "",
        "The issues' targets, against the same runs. A target is met only when",
        "every round's ratio meets it (the spread is inside the limit):",
        "",
        "| target | measured (brigade ÷ peer: median, spread) | met |",
        "| --- | --- | --- |",
    ]
    for what, workload, peers, limit, rows, *key in ISSUE_TARGETS:
        key = key[0] if key else "wall"
        found = target_result(summaries.get(workload), peers, rows, key)
        if found is None:
            lines.append(f"| {cell(what)} | not measured | — |")
            continue
        stats, peer, row = found
        what_ratio = "peak RSS" if key == "rss" else ("median lateness" if workload == LATENESS else "wall")
        measured = f"{fmt_stats(stats)} × {peer}'s {what_ratio}" + (f", for {row}" if row != BRIGADE else "")
        met = "no spread" if stats[2] is None else ("yes" if stats[2] <= limit else "not yet")
        lines.append(f"| {cell(what)} | {cell(measured)} | {met} |")
    for what, workload, peer, limit in MARGIN_TARGETS:
        margin = ((summaries.get(workload) or {}).get("margin") or {}).get(BRIGADE, {}).get(peer)
        if not margin:
            lines.append(f"| {cell(what)} | not measured | — |")
            continue
        median, lo, hi = (v * 1e6 for v in margin)
        measured = f"{median:+.1f} µs ({lo:+.1f} – {hi:+.1f}) beside {peer}"
        lines.append(f"| {cell(what)} | {cell(measured)} | {'yes' if hi <= limit * 1e6 else 'not yet'} |")
    return "\n".join(lines) + "\n"


def command_version(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def rss_floor():
    """The launcher's own RSS, which every row's ru_maxrss starts from."""
    try:
        done = subprocess.run([str(HARNESS), "--rusage", "--", "true"], capture_output=True,
                              text=True, timeout=60)
        for line in json_lines(done.stdout):
            if "rusage" in line:
                return fmt_rss(line["rusage"]["maxrss_kib"])
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def machine_section(python, brigade_build):
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    uvloop = command_version([python, "-c", "import uvloop; print('uvloop', uvloop.__version__)"])
    rows = [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("memory", memory),
        ("kernel", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("Rust", command_version(["rustc", "--version"])),
        ("Python", f"{command_version([python, '--version'])} ({python_label(python)})"),
        ("uvloop", uvloop if uvloop.startswith("uvloop ") else "not installed"),
        ("brigade", brigade_build),
        ("peak RSS floor", f"{rss_floor()} (the launcher's RSS, which Linux carries into a child's ru_maxrss at exec)"),
        ("generated", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
    ]
    lines = ["| | |", "| --- | --- |"] + [f"| {k} | {cell(v)} |" for k, v in rows]
    return "\n".join(lines) + "\n"


def python_label(python):
    try:
        return os.path.relpath(python, ROOT) if str(python).startswith(str(ROOT)) else python
    except ValueError:
        return python


def new_benchmarks_md():
    return f"""# brigade benchmarks

brigade measured against its peers on the same fixed amount of work, every
result checked. Generated by `bench/run.py`; only the parts between
`<!-- bench:… -->` markers are rewritten, the rest of this file is kept.

## Machine

{MACHINE_BEGIN}
{MACHINE_END}

## Regenerating

From the repository root:

```sh
{REGENERATE}
```

`--only WORKLOAD[,..]` reruns some workloads (their tables alone are
replaced), `--quick` makes one run instead of five. See `bench/README.md`.

## Reading the tables

* **wall**: median elapsed time of the work itself, measured inside the
  benchmark process (runtime start-up and setup such as creating files are
  excluded).
* **CPU**: median user + system time over the same window, from getrusage
  (the process and the children it reaped in that window).
* **peak RSS**: median of `ru_maxrss` of the benchmark process, from
  `wait4` (the largest of the process and its reaped descendants). No row
  can go below the floor given above: the launcher's own RSS, which Linux
  carries into a child's `ru_maxrss` when it execs.
* **brigade ÷ peer (spread)**: the runs go in rounds, each round one run
  of every row in a shuffled order, so each run of brigade has a run of
  the peer made minutes apart at most. Each round gives one ratio,
  brigade's wall ÷ the peer's; the cell shows their median and, in
  brackets, the smallest and the largest. Below 1 brigade is faster
  (0.50: twice as fast). The verdict is **faster** only when every round's
  ratio is below 1 (the spread excludes 1), **slower** when every one is
  above 1, and **tie** otherwise. "not built yet" means brigade's side of
  that workload does not exist yet.
* **Equal settings.** Every peer runs its best ordinary configuration with
  the same knobs as brigade: the same chunk size for every process pool,
  every process pool started and warmed before the window, the same
  thread counts, the same listen backlog. `bench/README.md` lists them.
* **Targets** are met only when the whole spread meets them: "2× faster"
  means every round's ratio is at most 0.5.
* "n/a" rows are pairs that cannot exist (no virtual clock); "failed" rows
  give the reason (wrong check value, crash, timeout).

## Results

{BEGIN}
{END}

## Targets

{TARGETS_BEGIN}
{TARGETS_END}
"""


def replace_between(text, begin, end, body):
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        return text.rstrip("\n") + f"\n\n{begin}\n{body}{end}\n"
    return text[: start + len(begin)] + "\n" + body + text[stop:]


def split_tables(section):
    """The workload tables of the results section: name -> (summary, text)."""
    tables = {}
    marks = list(WORKLOAD_MARK.finditer(section))
    for i, mark in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(section)
        tables[mark.group(1)] = (json.loads(mark.group(2)), section[mark.start():stop].strip("\n") + "\n")
    return tables


def write_benchmarks_md(new_tables, python, brigade_build):
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else new_benchmarks_md()
    for marker in (BEGIN, END, MACHINE_BEGIN, MACHINE_END, TARGETS_BEGIN, TARGETS_END):
        if marker not in text:
            log(f"BENCHMARKS.md has no {marker}: appending the section")
    start, stop = text.find(BEGIN), text.find(END)
    old = text[start + len(BEGIN):stop] if 0 <= start < stop else ""
    tables = split_tables(old)
    tables.update(new_tables)
    body = "\n".join(tables[w][1] for w in WORKLOADS if w in tables)
    text = replace_between(text, BEGIN, END, body)
    text = replace_between(text, MACHINE_BEGIN, MACHINE_END, machine_section(python, brigade_build))
    summaries = {w: s for w, (s, _) in tables.items()}
    text = replace_between(text, TARGETS_BEGIN, TARGETS_END, targets_section(summaries))
    BENCHMARKS_MD.write_text(text)
    log(f"wrote {BENCHMARKS_MD}")


# ---------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per pair (default 5)")
    parser.add_argument("--quick", action="store_true", help="one run per pair")
    parser.add_argument("--only", help="comma-separated workloads")
    parser.add_argument("--runtimes", help="comma-separated runtimes (brigade's rows are always kept)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run (default 300)")
    parser.add_argument("--write", action="store_true", help="rewrite the tables in BENCHMARKS.md")
    parser.add_argument("--no-build", action="store_true", help="use the harness already built")
    parser.add_argument("--python", help="interpreter for the CPython peers")
    parser.add_argument("--no-venv", action="store_true", help="don't try to set up bench/.venv")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.only = set(args.only.split(",")) if args.only else None
    if args.only and not args.only <= set(WORKLOADS):
        parser.error(f"unknown workload(s): {', '.join(sorted(args.only - set(WORKLOADS)))}")
    args.runtimes = set(args.runtimes.split(",")) if args.runtimes else None
    return args


def main(argv):
    args = parse_args(argv)
    brigade_build = None if args.no_build else build()
    if not HARNESS.exists():
        sys.exit(f"no harness at {HARNESS}")
    if brigade_build is None:
        without = any(p["runtime"] == BRIGADE and "feature" in p.get("not_built", "")
                      for p in list_pairs([str(HARNESS)]))
        brigade_build = ("harness built without the `brigade` feature" if without
                         else "built with the `brigade` feature")
    python = find_python(args.python, not args.no_venv, args.only, args.runtimes)
    log(f"CPython peers run with {python}")
    rows = collect_rows(python, args.only, args.runtimes)
    # One broker for the whole run, so that brigade's cluster rows and
    # Celery's use the same server with the same settings.
    broker = start_broker() if not args.only or args.only & {"clustermap", "clusterrtt"} else None
    tables = {}
    for workload, workload_rows in rows.items():
        log(f"[{workload}] {WORKLOADS[workload]}")
        runs = runs_for(workload, args.runs, args.quick)
        run_rows(workload_rows, runs, args.timeout)
        if workload == LATENESS:
            tables[workload] = lateness_table(workload_rows, runs)
            text = tables[workload][1]
        else:
            text = table(workload, workload_rows, runs)
            tables[workload] = (summarize(workload, workload_rows), text)
        print(text.split("\n", 1)[1], flush=True)
    if (not args.only or HTTP in args.only) and not args.runtimes:
        log(f"[{HTTP}] {WORKLOADS[HTTP]}")
        runs = runs_for(HTTP, args.runs, args.quick)
        rows[HTTP] = run_http(runs)
        tables[HTTP] = http_table(rows[HTTP], runs)
        print(tables[HTTP][1].split("\n", 1)[1], flush=True)
    if broker is not None:
        broker.kill()
        broker.wait()
    RESULTS_JSON.write_text(json.dumps(
        {"runs": args.runs, "python": python, "brigade": brigade_build,
         "rows": [r.to_json() for rs in rows.values() for r in rs]}, indent=1))
    log(f"raw results: {RESULTS_JSON}")
    if args.write:
        write_benchmarks_md(tables, python, brigade_build)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
