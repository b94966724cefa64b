"""CPython's side of examples/process_bench.rs: start-to-result latency of
each start method, and Pool.map throughput. Run: python3 process_bench.py"""
import multiprocessing as mp
import os
import statistics
import time


def square(n):
    return n * n


def once(ctx, i):
    """Start a process, get its result, join it: what brigade's join does."""
    q = ctx.SimpleQueue()
    p = ctx.Process(target=_run, args=(q, i))
    p.start()
    assert q.get() == i * i
    p.join()


def _run(q, i):
    q.put(square(i))


def latency(ctx, runs):
    times = []
    for i in range(runs):
        start = time.perf_counter()
        once(ctx, i)
        times.append(time.perf_counter() - start)
    return statistics.median(times), statistics.mean(times)


if __name__ == "__main__":
    for method in ["spawn", "forkserver", "fork"]:
        ctx = mp.get_context(method)
        latency(ctx, 3)
        med, mean = latency(ctx, 50 if method == "spawn" else 200)
        print(f"start->result {method}: median {med*1e3:.2f} ms, mean {mean*1e3:.2f} ms")
    workers = os.cpu_count()
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(square, range(workers * 4))
        for n in [10_000, 1_000_000]:
            start = time.perf_counter()
            out = pool.map(square, range(n))
            took = time.perf_counter() - start
            assert len(out) == n
            print(f"Pool.map(square, range({n})) with {workers} workers: {took*1e3:.1f} ms ({n/took:.0f} items/s)")
        start = time.perf_counter()
        for i in range(1000):
            assert pool.apply(square, (i,)) == i * i
        print(f"Pool.apply round trip: {(time.perf_counter()-start)/1000*1e6:.0f} us each")
