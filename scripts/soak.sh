#!/usr/bin/env bash
# The long form of the fault suite: the same tests CI runs, at a larger
# scale and many times over. CI does not run it; RELIABILITY.md reports its
# figures, and this is the command that produces them.
#
# Each round runs, in debug builds as CI does:
#   - process_kills: a pool mapping under 6,000 x BRIGADE_SOAK scheduled
#     worker kills plus random ones, for each start method;
#   - process_frame_random: 1,000,000 x BRIGADE_SOAK mutated frames, with a
#     seed of its own per round;
#   - the fault, hygiene and network-fault tests at their CI size (process_faults,
#     process_wire, process_pool, process_hygiene, process_hygiene_scale,
#     io_faults, io_faults_limits, io_subprocess), the I/O ones under the
#     epoll and the io_uring driver in turn.
# Then, if a nightly toolchain and cargo-fuzz are installed and
# SOAK_FUZZ_SECONDS is above 0, each fuzz target in fuzz/ runs that long.
#
# Every test binary runs under `timeout`: one that outlives SOAK_TIMEOUT
# seconds counts as a hang (the tests' own watchdogs report theirs as
# panics naming the hang). The summary at the end adds up the figures the
# tests print; the script exits non-zero on any failure, hang or crash.
#
# Usage: scripts/soak.sh
#   BRIGADE_SOAK=n       scale of the kill and decoder tests (default 1)
#   SOAK_ROUNDS=n        rounds (default 3)
#   SOAK_FUZZ_SECONDS=s  seconds per fuzz target (default 0: no fuzzing)
#   SOAK_TIMEOUT=s       bound on one test binary (default 1800)
set -uo pipefail
cd "$(dirname "$0")/.."

scale=${BRIGADE_SOAK:-1}
rounds=${SOAK_ROUNDS:-3}
fuzz_seconds=${SOAK_FUZZ_SECONDS:-0}
bound=${SOAK_TIMEOUT:-1800}
logs=$(mktemp -d "${TMPDIR:-/tmp}/brigade-soak.XXXXXX")
faults="process_faults process_wire process_pool process_hygiene process_hygiene_scale"
io_faults="io_faults io_faults_limits io_subprocess"

echo "soak: scale $scale, $rounds rounds, fuzz ${fuzz_seconds}s per target, logs in $logs"
echo "soak: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"

# Build once, so that a compile error is not mistaken for a failed round.
all_tests=""
for t in process_kills process_frame_random $faults $io_faults; do
    all_tests="$all_tests --test $t"
done
# shellcheck disable=SC2086
cargo test -p brigade --no-run $all_tests >"$logs/build.log" 2>&1 || {
    echo "soak: the tests do not build; see $logs/build.log" >&2
    exit 2
}

failures=0
hangs=0
runs=0
suite_runs=0
kill_failures=0
decoder_failures=0
last_rc=0

# run LOG TEST [ENV=VALUE...]: one test binary, bounded, its output kept.
run() {
    local log=$1 test=$2
    shift 2
    runs=$((runs + 1))
    env "$@" timeout --kill-after=30 "$bound" \
        cargo test -p brigade --test "$test" -- --nocapture >"$log" 2>&1
    local rc=$?
    last_rc=$rc
    if [ $rc -eq 124 ] || [ $rc -eq 137 ] || grep -qE 'never ended|a hang' "$log"; then
        hangs=$((hangs + 1))
        echo "soak: HANG in $test (see $log)"
    fi
    if [ $rc -ne 0 ]; then
        failures=$((failures + 1))
        echo "soak: FAIL $test (exit $rc, see $log)"
    fi
}

for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then driver=epoll; else driver=uring; fi
    echo "== round $round/$rounds (I/O driver $driver)"
    run "$logs/kills-$round.log" process_kills BRIGADE_SOAK="$scale"
    [ $last_rc -eq 0 ] || kill_failures=$((kill_failures + 1))
    run "$logs/decoder-$round.log" process_frame_random \
        BRIGADE_SOAK="$scale" BRIGADE_SEED="$((round * 7919 + 17))"
    [ $last_rc -eq 0 ] || decoder_failures=$((decoder_failures + 1))
    for t in $faults; do
        run "$logs/$t-$round.log" "$t"
        suite_runs=$((suite_runs + 1))
    done
    for t in $io_faults; do
        run "$logs/$t-$round.log" "$t" BRIGADE_DRIVER="$driver"
        suite_runs=$((suite_runs + 1))
    done
    grep -h '^kills:\|^decoder:' "$logs/kills-$round.log" "$logs/decoder-$round.log" | sed 's/^/   /'
done

# sum FIELD LINES: adds up FIELD=N over the lines.
sum() {
    grep -oE "(^| )$1=[0-9]+" | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }'
}
kill_lines=$(cat "$logs"/kills-*.log | grep '^kills:')
decoder_lines=$(cat "$logs"/decoder-*.log | grep '^decoder:')
hygiene_lines=$(cat "$logs"/process_hygiene_scale-*.log | grep '^hygiene:')
slowloris_lines=$(cat "$logs"/io_faults-*.log | grep '^slowloris:')
emfile_lines=$(cat "$logs"/io_faults_limits-*.log | grep '^emfile:')

fuzz_runs=0
fuzz_crashes=0
fuzz_note="not run (SOAK_FUZZ_SECONDS=0)"
if [ "$fuzz_seconds" -gt 0 ]; then
    if cargo +nightly fuzz --version >/dev/null 2>&1; then
        fuzz_note=""
        for target in $(ls fuzz/fuzz_targets | sed 's/\.rs$//'); do
            before=$(ls fuzz/artifacts/"$target" 2>/dev/null | wc -l)
            (cd fuzz && timeout --kill-after=30 $((fuzz_seconds + 600)) \
                cargo +nightly fuzz run "$target" -- -max_total_time="$fuzz_seconds" \
                -rss_limit_mb=2048) >"$logs/fuzz-$target.log" 2>&1
            rc=$?
            after=$(ls fuzz/artifacts/"$target" 2>/dev/null | wc -l)
            n=$(grep -oE '^Done [0-9]+ runs' "$logs/fuzz-$target.log" | grep -oE '[0-9]+' | tail -1)
            fuzz_runs=$((fuzz_runs + ${n:-0}))
            if [ $rc -ne 0 ] || [ "$after" -gt "$before" ]; then
                fuzz_crashes=$((fuzz_crashes + 1))
                failures=$((failures + 1))
                echo "soak: fuzz target $target failed (exit $rc, see $logs/fuzz-$target.log)"
            fi
            fuzz_note="$fuzz_note $target=${n:-0}"
        done
    else
        fuzz_note="skipped: no nightly toolchain with cargo-fuzz"
    fi
fi

echo
echo "== soak summary (scale $scale, $rounds rounds)"
echo "test binaries run:          $runs ($suite_runs of them fault/hygiene files at CI size)"
echo "failures:                   $failures"
echo "hangs:                      $hangs"
echo "scheduled worker kills:     $(echo "$kill_lines" | sum scheduled_kills)"
echo "random worker kills:        $(echo "$kill_lines" | sum random_kills) ($(echo "$kill_lines" | sum random_kills_that_failed_a_task) of them failed a running task)"
echo "pool items mapped:          $(echo "$kill_lines" | sum items)"
echo "items lost:                 $(echo "$kill_lines" | sum lost)"
echo "items duplicated:           $(echo "$kill_lines" | sum duplicated)"
echo "kill-test runs failed:      $kill_failures"
echo "decoder inputs:             $(echo "$decoder_lines" | sum inputs) ($(echo "$decoder_lines" | sum decode_calls) decode calls, $(echo "$decoder_lines" | sum read_frame_calls) read_frame calls)"
echo "decoder runs failed:        $decoder_failures (a panic, a wrong error or a wrong value)"
echo "hygiene runs passed:        $(echo "$hygiene_lines" | grep -c . ) ($(echo "$hygiene_lines" | sum processes) processes, $(echo "$hygiene_lines" | sum pool_tasks) pool tasks, $(echo "$hygiene_lines" | sum subprocesses) subprocesses; leaked descriptors, zombies and extra threads: 0 in each passed run)"
echo "slowloris runs passed:      $(echo "$slowloris_lines" | grep -c . ) ($(echo "$slowloris_lines" | sum slow_connections_held) slow connections held while a fast client was served)"
echo "EMFILE runs passed:         $(echo "$emfile_lines" | grep -c . ) ($(echo "$emfile_lines" | sum connections_held_at_the_limit) connections held at the limit, then served again)"
echo "fuzz executions:            $fuzz_runs ($fuzz_note)"
echo "fuzz crashes:               $fuzz_crashes"
[ "$failures" -eq 0 ] && [ "$hangs" -eq 0 ]
