#!/usr/bin/env bash
# Installs what the checks need beyond the Rust toolchain itself.
set -euo pipefail
if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
cargo --version
