#!/usr/bin/env bash
# Formatting and lints, warnings as errors (also with every optional
# feature, so feature-gated code such as the hyper adapters is linted).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p brigade --all-targets --all-features -- -D warnings
