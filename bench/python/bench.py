"""CPython peers of the brigade benchmarks: one measurement per process.

    python3 bench/python/bench.py <workload> <runtime>   run once, check, print one JSON line
    python3 bench/python/bench.py --list                 every known pair, one JSON line each

Same contract as the Rust harness (bench/harness/src/main.rs): the line is
{"workload":..,"runtime":..,"status":"ok","wall_s":..,"cpu_s":..,"check":..};
status "failed" exits 1, "not_installed" (uvloop missing) exits 3,
"unsupported" exits 4. Runtime families live in rt_asyncio.py,
rt_threads.py, rt_processes.py, rt_shared.py, rt_celery.py and rt_ray.py; sizes and checks in workloads.py.
"""

import json
import sys

import rt_asyncio
import rt_celery
import rt_processes
import rt_ray
import rt_shared
import rt_threads
import workloads as w

LOOPS = ("asyncio", "uvloop")
START_METHODS = ("fork", "spawn", "forkserver")


def _on_loop(body):
    return lambda runtime: rt_asyncio.run(body, runtime)


def _files_asyncio(runtime):
    with rt_threads.TempFiles() as paths:
        return rt_asyncio.run(lambda: rt_asyncio.files(paths), runtime)


def _files_blocking(_runtime):
    with rt_threads.TempFiles() as paths:
        return rt_threads.files_blocking(paths)


def _registry():
    """(workload, runtime, function of the runtime name, or an n/a reason)."""
    pairs = []
    for loop in LOOPS:
        pairs += [
            ("spawn", loop, _on_loop(rt_asyncio.spawn)),
            ("yield", loop, _on_loop(rt_asyncio.yields)),
            ("pingpong", loop, _on_loop(rt_asyncio.pingpong)),
            ("timers", loop, _on_loop(rt_asyncio.timers)),
            ("chess24", loop, rt_asyncio.NO_VIRTUAL_CLOCK),
            ("chess100k", loop, rt_asyncio.NO_VIRTUAL_CLOCK),
            ("echo", loop, _on_loop(rt_asyncio.echo)),
        ]
    pairs += [
        ("files", "asyncio", _files_asyncio),
        ("files", "py-blocking", _files_blocking),
        ("threads", "threading", lambda _: rt_threads.threads()),
        ("threads1", "threading", lambda _: rt_threads.threads_one_at_a_time()),
        ("poolmap", "ThreadPoolExecutor", lambda _: rt_threads.poolmap()),
    ]
    for method in START_METHODS:
        pairs.append(("procs", f"mp-{method}", lambda _, m=method: rt_processes.procs(m)))
    for method in START_METHODS:
        pairs.append(
            ("procpool", f"mp-Pool-{method}", lambda _, m=method: rt_processes.pool_map(m))
        )
    pairs.append(("procpool", "ProcessPoolExecutor", lambda _: rt_processes.executor_map()))
    pairs.append(("procrtt", "mp-Pool-fork", lambda _: rt_processes.pool_apply("fork")))
    pairs.append(("procrtt", "ProcessPoolExecutor", lambda _: rt_processes.executor_submit()))
    pairs.append(("mplock", "mp-fork", lambda _: rt_shared.lock_uncontended()))
    pairs.append(("mplock2", "mp-fork", lambda _: rt_shared.lock_contended()))
    pairs.append(("mpvalue", "mp-fork", lambda _: rt_shared.value_contended()))
    pairs.append(("manager", "mp-fork", lambda _: rt_shared.manager_dict()))
    pairs.append(("clustermap", "celery", lambda _: rt_celery.chunked_map()))
    pairs.append(("clusterrtt", "celery", lambda _: rt_celery.round_trips()))
    pairs.append(("clustermap", "ray-pool", lambda _: rt_ray.chunked_map()))
    pairs.append(("clusterrtt", "ray-pool", lambda _: rt_ray.round_trips()))
    order = {name: i for i, name in enumerate(w.WORKLOADS)}
    pairs.sort(key=lambda p: order[p[0]])
    return pairs


def _emit(**fields):
    print(json.dumps(fields), flush=True)


def main(argv):
    registry = _registry()
    if argv == ["--list"]:
        for workload, runtime, impl in registry:
            pair = {"workload": workload, "runtime": runtime}
            if isinstance(impl, str):
                pair["unsupported"] = impl
            _emit(**pair)
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    workload, runtime = argv
    found = [impl for wl, rt, impl in registry if wl == workload and rt == runtime]
    if not found:
        print(f"no pair {workload} {runtime}", file=sys.stderr)
        return 2
    impl = found[0]
    if isinstance(impl, str):
        _emit(workload=workload, runtime=runtime, status="unsupported", reason=impl)
        return 4
    try:
        measured = impl(runtime)
    except rt_asyncio.NotInstalled as exc:
        _emit(workload=workload, runtime=runtime, status="not_installed", reason=str(exc))
        return 3
    expected = w.expected(workload)
    ok = measured.value == expected
    report = dict(
        workload=workload,
        runtime=runtime,
        status="ok" if ok else "failed",
        wall_s=measured.meter.wall_s,
        cpu_s=measured.meter.cpu_s,
        check=measured.value,
        expected=expected,
    )
    if not ok:
        report["reason"] = "check value differs from the expected one"
    _emit(**report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
