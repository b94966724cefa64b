"""Workload sizes, shared inputs and expected check values for CPython.

This mirrors ``bench/harness/src/workloads.rs`` exactly: same sizes, same
xorshift32 sequences, same check values, so a Python row and a Rust row of
one workload report the same ``check``. See that file (or bench/README.md)
for what each workload does.
"""

import resource
import time
import zlib

SPAWN_TASKS = 1_000_000
YIELD_TASKS = 1_000
YIELDS_PER_TASK = 1_000
PINGPONG_ROUND_TRIPS = 1_000_000
TIMER_TASKS = 100_000
TIMER_MAX_MS = 100
TIMER_SEED = 0x2545_F491
CHESS_MOVES = 30
CHESS_MASTER_SECS = 5
CHESS_OPPONENT_SECS = 55
CHESS_BOARDS = {"chess24": 24, "chess100k": 100_000}
# Exhibitions timed back to back (the harness's `chess_exhibitions`).
CHESS_EXHIBITIONS = {"chess24": 100, "chess100k": 1}
ECHO_CONNECTIONS = 100
ECHO_ROUND_TRIPS = 1_000
ECHO_MESSAGE = 64
FILES = 10_000
FILE_SIZE = 4096
FILES_BLOCK = 65_536
FILES_SEED = 0x1234_5678
THREADS = 10_000
POOLMAP_ITEMS = 1_000_000
POOLMAP_MOD = 1_000_000_007
PROCS = 200
PROCPOOL_ITEMS = 100_000
# Maps timed back to back on the warmed pool (one map is within a small
# VM's scheduling noise); the same in workloads.rs.
PROCPOOL_MAPS = 10
# Every pool gets the same chunk size: multiprocessing.Pool.map's default
# rule, ceil(items / (4 * processes)) = 12,500 here, which is also brigade's
# rule (ProcessPoolExecutor.map's own default is 1, so it is given this).
# Every pool has 2 worker processes (os.cpu_count() on this machine).
PROCPOOL_WORKERS = 2
PROCPOOL_CHUNK = -(-PROCPOOL_ITEMS // (4 * PROCPOOL_WORKERS))
PROCRTT_TASKS = 10_000
MPLOCK_ITERS = 1_000_000
MP_CONTENDERS = 2
MP_ITERS_EACH = 200_000
MANAGER_OPS = 10_000
CLUSTERMAP_ITEMS = 100_000
CLUSTER_WORKERS = 2
CLUSTERMAP_CHUNK = -(-CLUSTERMAP_ITEMS // (4 * CLUSTER_WORKERS))
CLUSTERRTT_TASKS = 1_000

WORKLOADS = [
    "spawn", "yield", "pingpong", "timers", "chess24", "chess100k",
    "echo10", "echo", "echo1000", "files", "files-tmpfs", "threads",
    "threads1", "poolmap", "procs", "procpool", "procrtt",
    "broadcast", "rwlock", "joinset", "mplock", "mplock2", "mpvalue", "manager",
    "clustermap", "clusterrtt",
]

MASK64 = (1 << 64) - 1


def xorshift32(seed):
    """The xorshift32 (13, 17, 5) sequence shared with the Rust harness."""
    x = seed
    while True:
        x ^= (x << 13) & 0xFFFF_FFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFF_FFFF
        yield x


def timer_delays_ms():
    gen = xorshift32(TIMER_SEED)
    return [next(gen) % (TIMER_MAX_MS + 1) for _ in range(TIMER_TASKS)]


def chess_end_ms(boards):
    return (boards * CHESS_MOVES * CHESS_MASTER_SECS + CHESS_OPPONENT_SECS) * 1000


def echo_message(conn, rnd):
    return bytes(((conn * 31) ^ (rnd * 7) ^ k) & 0xFF for k in range(ECHO_MESSAGE))


def files_block():
    gen = xorshift32(FILES_SEED)
    return b"".join(next(gen).to_bytes(4, "little") for _ in range(FILES_BLOCK // 4))


def file_contents(block, i):
    start = (i * 997) % (FILES_BLOCK - FILE_SIZE + 1)
    return block[start:start + FILE_SIZE]


def files_checksum(contents):
    """Wrapping sum of ``len << 32 + crc32`` over the files."""
    return sum((len(data) << 32) + zlib.crc32(data) for data in contents) & MASK64


def poolmap_fn(x):
    return x * x % POOLMAP_MOD


def poolmap_checksum(results):
    return sum(r * i for i, r in enumerate(results, 1)) & MASK64


def square(n):
    return n * n


def expected(workload):
    if workload == "spawn":
        return SPAWN_TASKS * (SPAWN_TASKS - 1) // 2
    if workload == "yield":
        return YIELD_TASKS * YIELDS_PER_TASK
    if workload == "pingpong":
        return PINGPONG_ROUND_TRIPS * (PINGPONG_ROUND_TRIPS + 1) // 2
    if workload == "timers":
        return sum(d + 1 for d in timer_delays_ms())
    if workload in CHESS_BOARDS:
        return CHESS_EXHIBITIONS[workload] * chess_end_ms(CHESS_BOARDS[workload])
    if workload == "echo":
        return ECHO_CONNECTIONS * ECHO_ROUND_TRIPS * ECHO_MESSAGE
    if workload == "files":
        block = files_block()
        return files_checksum(file_contents(block, i) for i in range(FILES))
    if workload in ("threads", "threads1"):
        return THREADS * (THREADS - 1) // 2
    if workload == "poolmap":
        return poolmap_checksum(poolmap_fn(x) for x in range(POOLMAP_ITEMS))
    if workload == "procs":
        return sum(i * i for i in range(PROCS))
    if workload == "procpool":
        return PROCPOOL_MAPS * sum(i * i for i in range(PROCPOOL_ITEMS))
    if workload == "procrtt":
        return sum(i * i for i in range(PROCRTT_TASKS))
    if workload == "mplock":
        return MPLOCK_ITERS
    if workload in ("mplock2", "mpvalue"):
        return MP_CONTENDERS * MP_ITERS_EACH
    if workload == "manager":
        return MANAGER_OPS
    if workload == "clustermap":
        return sum(i * i for i in range(CLUSTERMAP_ITEMS))
    if workload == "clusterrtt":
        return sum(i * i for i in range(CLUSTERRTT_TASKS))
    raise KeyError(workload)


def _cpu_seconds():
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class Meter:
    """Wall and CPU time (self + reaped children) around the work only."""

    def __init__(self):
        self._cpu = _cpu_seconds()
        self._wall = time.perf_counter()
        self.wall_s = None
        self.cpu_s = None

    def stop(self):
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = _cpu_seconds() - self._cpu
        return self


class Measured:
    """What an implementation returns: its meter and its check value."""

    def __init__(self, meter, value):
        self.meter = meter
        self.value = value
