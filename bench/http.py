#!/usr/bin/env python3
"""hyper on brigade against hyper on tokio, loaded with wrk on 127.0.0.1.

    python3 bench/http.py [--duration 10] [--connections 64] [--runs 3]

Builds bench/http (release), then for each server and size: starts it on a
free loopback port (brigade: N event loops, each with its own SO_REUSEPORT
listener; tokio: the multi-thread runtime with N workers), for N = 1 and
N = the number of cores, waits until it answers, runs `wrk -t1 -cC -dD`
against it RUNS times, interleaving the servers, and prints a markdown
table of the median requests per second. wrk shares the cores with the
server, the same for every row. Requires wrk (`apt-get install wrk`).
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(ROOT, "target", "release")


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


def run_wrk(port, duration, connections):
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return rps, (errors.group(0) if errors else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    subprocess.run(
        ["cargo", "build", "--release", "--manifest-path", os.path.join(ROOT, "Cargo.toml"),
         "-p", "http-bench"], check=True)
    servers = []
    for n in sorted({1, args.cores}):
        servers.append((f"brigade, {n} loop(s)", "http-brigade", n))
        servers.append((f"tokio multi_thread, {n} worker(s)", "http-tokio", n))
    results = {name: [] for name, _, _ in servers}
    failed = {}
    for _ in range(args.runs):
        for name, binary, n in servers:
            port = free_port()
            server = subprocess.Popen([os.path.join(TARGET, binary), f"127.0.0.1:{port}", str(n)])
            try:
                if not wait_ready(port):
                    failed[name] = "did not start"
                    continue
                results[name].append(run_wrk(port, args.duration, args.connections))
            finally:
                server.kill()
                server.wait()
    rows = []
    for name, _, _ in servers:
        runs = results[name]
        if not runs:
            rows.append((name, None, failed.get(name, "no run")))
            continue
        notes = "; ".join(sorted({e for _, e in runs if e}))
        rows.append((name, statistics.median(r for r, _ in runs), notes))
    print(f"\n| server | requests/s (median of {args.runs}) | notes |\n| --- | ---: | --- |")
    for name, rps, notes in rows:
        print(f"| {name} | {'-' if rps is None else f'{rps:,.0f}'} | {notes} |")
    for i in range(0, len(rows), 2):
        (b_name, b_rps, _), (t_name, t_rps, _) = rows[i], rows[i + 1]
        if b_rps and t_rps:
            print(f"\n{b_name} ÷ {t_name}: {b_rps / t_rps:.2f} (above 1 means brigade serves more)")


if __name__ == "__main__":
    main()
