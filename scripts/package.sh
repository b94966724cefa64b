#!/usr/bin/env bash
# The package check: what `cargo publish` would upload builds and passes its
# tests on its own, outside this repository.
#
# 1. The Rust examples in the repository's README.md are copies of those in
#    crates/brigade/README.md, the crate's README: that one ships in the
#    package and lib.rs runs it as doctests, so neither README can drift.
# 2. `cargo package` packs brigade and brigade-macros together, so that the
#    lockfile written into brigade's package can resolve brigade-macros
#    from the other package (`cargo package -p brigade` alone fails until
#    brigade-macros is on crates.io; publish it first). Unverified: cargo's
#    own verification only builds, and step 3 builds and tests.
# 3. Both .crate files are unpacked into a temporary directory, away from
#    the workspace, and brigade is tested there, with brigade-macros taken
#    from its unpacked package through a `[patch]` given on the command
#    line (the unpacked files stay exactly as packed). A file missing from
#    the package, or a path that reaches outside it, fails here.
#
# The workspace's tests (scripts/test.sh) already ran the full suite on the
# same sources, so this runs only what packaging can break, to keep CI
# short: the unit tests, every doctest (the crate README's included) with
# every feature on, and four integration tests that need the package's
# tests/common, a socket, a file, a child process and both I/O traits'
# imports: event_loop_tasks, io_net, io_ext_coexist, process_process.
# With a nightly toolchain it also builds the docs as docs.rs does
# (`--cfg docsrs`, every feature; stable rustdoc checks its warnings in
# scripts/lint.sh, nightly's newer lints are not held against us here).
#
# Compiled dependencies are shared with the workspace's target directory
# (CARGO_TARGET_DIR, or target/), so only brigade itself is built again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TARGET_DIR=$target

# rust_blocks FILE: each ```rust block of FILE on one line, newlines as \x1f.
rust_blocks() {
    awk '/^```rust$/ { inside = 1; block = ""; next }
         /^```$/ && inside { inside = 0; print block; next }
         inside { block = block $0 "\x1f" }' "$1"
}
missing=$(comm -23 <(rust_blocks README.md | sort -u) \
    <(rust_blocks crates/brigade/README.md | sort -u) | wc -l)
if [ "$missing" -ne 0 ]; then
    echo "package: $missing Rust example(s) in README.md are not in crates/brigade/README.md;" >&2
    echo "package: copy them there, where they ship and run as doctests" >&2
    exit 1
fi

version=$(cargo pkgid -p brigade | sed 's/.*[#@]//')
cargo package -p brigade-macros -p brigade --allow-dirty --no-verify

unpacked=$(mktemp -d "${TMPDIR:-/tmp}/brigade-package.XXXXXX")
trap 'rm -rf "$unpacked"' EXIT
for crate in brigade-macros brigade; do
    tar -xzf "$target/package/$crate-$version.crate" -C "$unpacked"
done
cd "$unpacked/brigade-$version"
macros="patch.crates-io.brigade-macros.path=\"$unpacked/brigade-macros-$version\""

echo "== the packaged crate: unit tests and four integration tests"
cargo test --config "$macros" --all-features --lib \
    --test event_loop_tasks --test io_net --test io_ext_coexist --test process_process
echo "== the packaged crate: doctests"
cargo test --config "$macros" --all-features --doc
if cargo +nightly --version >/dev/null 2>&1; then
    echo "== the packaged crate: the docs as docs.rs builds them"
    RUSTDOCFLAGS="--cfg docsrs" CARGO_TARGET_DIR="$target/docsrs" \
        cargo +nightly doc --config "$macros" --all-features --no-deps
else
    echo "== no nightly toolchain: the docs.rs build (--cfg docsrs) is not checked"
fi
echo "package: brigade $version packs, builds and passes its tests unpacked"
