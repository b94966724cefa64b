#!/usr/bin/env bash
# Runs the event loop's test binaries under valgrind memcheck: every unsafe
# path (task allocation, raw wakers, output hand-off) is exercised there, and
# any invalid read/write, use of uninitialised memory or definite leak fails
# the run. This stands in for miri, which needs a nightly toolchain that this
# machine cannot fetch; with nightly available, `cargo +nightly miri test -p
# brigade --test event_loop_tasks` checks the same paths.
#
# The I/O tests (sockets, files, the epoll driver's unsafe system-call
# layer) run here too, on the epoll driver: valgrind does not model the
# kernel writing into io_uring operations' buffers, and it holds its global
# lock across a blocking io_uring_enter (which the ring's shutdown drain
# does). The io_uring driver's buffer ownership is checked by the
# cancellation tests in io_fs instead.
set -euo pipefail
export BRIGADE_DRIVER=epoll
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
bins=$(cargo test -p brigade --no-run --message-format=json 2>/dev/null \
    | grep -oE '"executable":"[^"]+(event_loop_[a-z_]+|io_net|io_fs|io_faults)-[0-9a-f]+"' | cut -d'"' -f4 | sort -u)
[ -n "$bins" ] || { echo "memcheck: no test binaries found" >&2; exit 1; }
for bin in $bins; do
    echo "memcheck: $(basename "$bin")"
    valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite "$bin" --test-threads=2 -q
done
