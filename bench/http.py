#!/usr/bin/env python3
"""hyper on brigade against hyper on tokio, loaded with wrk on 127.0.0.1.

    python3 bench/http.py [--duration 5] [--connections 64] [--runs 3]

Builds bench/http (release), then for each server: starts it on a free
loopback port (brigade: N event loops, each with its own SO_REUSEPORT
listener; tokio: the multi-thread runtime with N workers), for N = 1 and
N = the number of cores, waits until it answers, runs
`wrk -t1 -cC -dD --latency` against it RUNS times, interleaving the
servers, and prints a markdown table of the medians: requests per second
and latency percentiles. wrk shares the cores with the server, the same
for every row. Requires wrk (`apt-get install wrk`).

`bench/run.py` uses `measure` to put the same table into BENCHMARKS.md
(workload `http`).
"""

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(ROOT, "target", "release")
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def servers(cores):
    """(row name, binary, loops or workers), brigade's rows first."""
    many = max(cores, 2)
    return [
        ("brigade", "http-brigade", 1),
        (f"brigade-{many}loops", "http-brigade", many),
        ("tokio-mt-1w", "http-tokio", 1),
        ("tokio-mt", "http-tokio", many),
    ]


def build():
    """Builds the two servers; returns None or the reason it failed."""
    done = subprocess.run(
        ["cargo", "build", "--release", "--manifest-path", os.path.join(ROOT, "Cargo.toml"),
         "-p", "http-bench"], capture_output=True, text=True)
    if done.returncode != 0:
        errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error")]
        return errors[0] if errors else "cargo build failed"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, deadline=10.0):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def seconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def cpu_seconds(pid):
    """User + system CPU time of process `pid` (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        # The fields after the command name, which may hold spaces.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(port, duration, connections):
    """One wrk run: requests/s, p50 and p99 latency (s), and any errors."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
         f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = seconds(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = seconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"rps": rps, "p50_s": p50, "p99_s": p99, "errors": errors.group(0) if errors else ""}


def measure(runs, duration=5, connections=64, cores=None, log=print):
    """Runs every server `runs` times, in rounds, each round in its own
    (seeded) shuffled order, as bench/run.py does; returns
    {row name: {"runs": [...], "failed": reason or None}}."""
    rows = servers(cores or os.cpu_count() or 2)
    results = {name: {"runs": [], "failed": None} for name, _, _ in rows}
    for i in range(runs):
        order = list(rows)
        random.Random(i).shuffle(order)
        for name, binary, n in order:
            if results[name]["failed"]:
                continue
            port = free_port()
            server = subprocess.Popen([os.path.join(TARGET, binary), f"127.0.0.1:{port}", str(n)])
            try:
                if not wait_ready(port):
                    results[name]["failed"] = "did not start"
                    continue
                before = cpu_seconds(server.pid)
                run = run_wrk(port, duration, connections)
                cpu = cpu_seconds(server.pid) - before
                # The server's CPU per request over the load (wrk's warm-up
                # and close fall inside the window: a little more, alike
                # for every server).
                run["cpu_per_request_s"] = cpu / (run["rps"] * duration)
                run["round"] = i
                results[name]["runs"].append(run)
                log(f"  {name:<20} run {i + 1}/{runs}: {run['rps']:,.0f} requests/s")
            except (subprocess.CalledProcessError, AttributeError) as exc:
                results[name]["failed"] = f"wrk failed: {exc}"
            finally:
                server.kill()
                server.wait()
    return results


def median(result, key):
    return statistics.median(r[key] for r in result["runs"])


def fmt_latency(s):
    return f"{s * 1e6:.0f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    failure = build()
    if failure:
        sys.exit(failure)
    results = measure(args.runs, args.duration, args.connections, args.cores)
    print(f"\n| server | requests/s | p50 latency | p99 latency | server CPU per request | notes |\n"
          f"| --- | ---: | ---: | ---: | ---: | --- |")
    for name, result in results.items():
        if not result["runs"]:
            print(f"| {name} | {result['failed'] or 'no run'} | | | | |")
            continue
        notes = "; ".join(sorted({r["errors"] for r in result["runs"] if r["errors"]}))
        print(f"| {name} | {median(result, 'rps'):,.0f} | {fmt_latency(median(result, 'p50_s'))} "
              f"| {fmt_latency(median(result, 'p99_s'))} "
              f"| {median(result, 'cpu_per_request_s') * 1e6:.2f} µs | {notes} |")


if __name__ == "__main__":
    main()
