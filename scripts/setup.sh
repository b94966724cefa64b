#!/usr/bin/env bash
# Installs what the checks need beyond the Rust toolchain itself.
set -euo pipefail
if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
# The cluster tests (cargo feature `cluster`) start their own redis-server,
# and the TLS build of the broker client links OpenSSL.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1 || ! dpkg -s libssl-dev >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq redis-server libssl-dev pkg-config openssl >/dev/null
    fi
fi
redis-server --version
cargo --version
