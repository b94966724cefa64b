#!/usr/bin/env bash
# Exhaustive interleaving checks (loom) of the task state machine and the
# channels. A separate target dir keeps the normal build cache intact.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" \
    cargo test -p brigade --lib --release -- loom
