#!/usr/bin/env bash
# Formatting, lints and docs, warnings as errors (also with every optional
# feature, so feature-gated code such as the hyper adapters is linted).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p brigade --all-targets --all-features -- -D warnings
# The API docs build without broken or private links.
RUSTDOCFLAGS="-D warnings" cargo doc -p brigade --no-deps --all-features
# ...and with the default features, as most users build them.
RUSTDOCFLAGS="-D warnings" cargo doc -p brigade --no-deps
