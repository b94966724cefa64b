#!/usr/bin/env python3
"""The chess exhibition on the real clock against its exact figure.

    python3 bench/exhibition.py [--runs 3] [--speedup 1000] [--models async,threads,processes]

Builds the `brigade` command (release), then:

1. plays the exhibition once on brigade's virtual clock (`--model async
   --clock virtual`): its end time is the exact figure, 1:00:55 with the
   default numbers (24 boards × 30 moves × 5 s, plus the last opponent's
   55 s);
2. plays each model on the real clock (`--clock real --speedup N`), RUNS
   times, interleaving the models, and reports the median end time and its
   deviation from the exact figure in percent, with the smallest and largest
   deviation over the runs.

At --speedup 1000 a simulated second lasts a real millisecond, so every
move's real sleep is 5 ms (Judit) or 55 ms (an opponent), and whatever a
wake-up costs beyond the requested time is multiplied by 1000 in the
figure: 50 µs late on each of Judit's 720 moves is 36 simulated seconds,
1% of the exhibition. The target (issue #16) is every model within 1%.

Each real-clock run takes about 3.7 s of wall time. Standard library only;
exits with status 1 when a model misses the target (or fails).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_DIR = os.path.join(ROOT, "bench", "target")
BINARY = os.path.join(TARGET_DIR, "release", "brigade")
MODELS = ["async", "threads", "processes"]
TARGET_PERCENT = 1.0


def build():
    """Builds the CLI into bench/target, away from the workspace's own target."""
    print("building the brigade command (release) ...", file=sys.stderr, flush=True)
    done = subprocess.run(
        ["cargo", "build", "--release", "-p", "brigade-cli", "--target-dir", TARGET_DIR],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"cannot build brigade-cli:\n{done.stderr[-2000:]}")


def play(model, clock, speedup):
    """One run of one model; returns the simulated end time in seconds."""
    command = [BINARY, "exhibition", "--model", model, "--clock", clock, "--json", "--no-progress"]
    if clock == "real":
        command += ["--speedup", str(speedup)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    report = json.loads(done.stdout)
    (outcome,) = [o for o in report["results"] if o["model"] == model]
    return outcome["simulated_s"]


def hms(seconds):
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="real-clock runs per model (default 3)")
    parser.add_argument("--speedup", type=float, default=1000, help="simulated seconds per real second")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated models")
    parser.add_argument("--no-build", action="store_true", help="use bench/target/release/brigade as it is")
    args = parser.parse_args(argv)
    models = args.models.split(",")
    if not args.no_build:
        build()
    exact = play("async", "virtual", args.speedup)
    print(f"exact figure (virtual clock): {hms(exact)} ({exact:g} s)", file=sys.stderr, flush=True)
    ends = {m: [] for m in models}
    failures = {}
    for i in range(args.runs):
        for model in models:
            if model in failures:
                continue
            try:
                end = play(model, "real", args.speedup)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
                failures[model] = str(exc)
                continue
            ends[model].append(end)
            print(f"  {model:<10} run {i + 1}/{args.runs}: {hms(end)} "
                  f"({(end - exact) / exact * 100:+.2f}%)", file=sys.stderr, flush=True)
    print(f"Real clock at --speedup {args.speedup:g}, median of {args.runs} run(s); "
          f"exact figure {hms(exact)} ({exact:g} s), target within {TARGET_PERCENT:g}%.\n")
    print("| model | end (median) | deviation (median) | spread | within 1% |")
    print("| --- | ---: | ---: | ---: | --- |")
    missed = False
    for model in models:
        if model in failures:
            print(f"| {model} | failed: {failures[model]} | | | no |")
            missed = True
            continue
        deviations = [(end - exact) / exact * 100 for end in ends[model]]
        worst = max(abs(d) for d in deviations)
        met = worst <= TARGET_PERCENT
        missed |= not met
        print(f"| {model} | {hms(statistics.median(ends[model]))} | {statistics.median(deviations):+.2f}% | "
              f"{min(deviations):+.2f}% … {max(deviations):+.2f}% | {'yes' if met else 'not yet'} |")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
