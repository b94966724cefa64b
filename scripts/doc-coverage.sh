#!/usr/bin/env bash
# How much of brigade's public API documents itself with an example: runs
# rustdoc's coverage report (nightly only: `--show-coverage` is unstable)
# with every feature on, and prints the share of items that have a code
# example, then the documented share. CI does not run it; CONTRIBUTING.md
# records the figure.
#
# Usage: scripts/doc-coverage.sh [--table]   (--table: the per-file report too)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo +nightly --version >/dev/null 2>&1 || {
    echo "doc-coverage: needs a nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
}
target=${CARGO_TARGET_DIR:-$PWD/target}
report=$(CARGO_TARGET_DIR="$target/nightly" cargo +nightly rustdoc -q -p brigade --all-features \
    -- -Z unstable-options --show-coverage)
[ "${1:-}" = "--table" ] && echo "$report"
# The last row: | Total | documented | % | with examples | % |
total=$(echo "$report" | grep -E '^\| *Total' | tail -1)
[ -n "$total" ] || { echo "doc-coverage: no Total row in rustdoc's report" >&2; exit 1; }
echo "$total" | awk -F'|' '{
    gsub(/ /, "", $3); gsub(/ /, "", $4); gsub(/ /, "", $5); gsub(/ /, "", $6)
    printf "examples: %s (%s items with an example)\ndocumented: %s (%s items)\n", $6, $5, $4, $3
}'
