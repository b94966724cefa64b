#!/usr/bin/env bash
# The README's test command, then the I/O tests once more under each I/O
# driver (io_uring and epoll), so both pass the same suite, with the hyper
# adapters (cargo feature `hyper`) included; and the cluster tests (cargo
# feature `cluster`, and `cluster-tls` for rediss://), which need redis-server
# and openssl (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
echo "== the cluster tests (a real redis-server; scripts/setup.sh installs it)"
cargo test -p brigade --features cluster-tls --test cluster --test cluster_tls
cargo test -p brigade --features cluster-tls --lib cluster
cargo test -p brigade --features cluster-tls --doc cluster
io_tests=$(ls crates/brigade/tests | grep -E '^io_.*\.rs$' | sed 's/\.rs$//' | sed 's/^/--test /' | tr '\n' ' ')
for driver in epoll uring; do
    echo "== I/O tests with BRIGADE_DRIVER=$driver"
    # shellcheck disable=SC2086
    BRIGADE_DRIVER=$driver cargo test -p brigade --features hyper $io_tests
done
# The trace's tests once more with the `tracing` feature (brigade's events as
# tracing events, and the layer that records a program's spans into a trace).
echo "== trace tests with --features tracing"
cargo test -p brigade --features tracing --test trace_tracing --test trace_truth --test trace_events
cargo test -p brigade --features tracing --doc trace
