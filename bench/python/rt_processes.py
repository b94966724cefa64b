"""CPython processes: ``multiprocessing`` under each start method, and
``concurrent.futures.ProcessPoolExecutor``.

* procs (``mp-fork``, ``mp-spawn``, ``mp-forkserver``): 200
  ``multiprocessing.Process``, each with its own one-way ``Pipe``; child i
  sends i² back; all are started, then each result is received and each
  child joined;
* procpool (``mp-Pool-fork``, ``mp-Pool-spawn``, ``mp-Pool-forkserver``):
  ``Pool(2).map(square, range(100_000), chunksize=12_500)``, the library's
  own default chunksize (ceil(n / (4 · workers)));
* procpool (``ProcessPoolExecutor``): 2 workers, default context (fork on
  Linux with Python 3.11), ``map(square, items, chunksize=12_500)``; its
  own default chunksize is 1, one IPC round trip per item;
* procrtt (``mp-Pool-fork``, ``ProcessPoolExecutor``): 10,000 tasks through
  a 2-worker pool, each submitted once the previous result is back
  (``Pool.apply``, ``submit(...).result()``): the round trip of one
  unchunked task.

As for every pool in the suite, a pool is started and warmed (one task per
worker) before the measured window and shut down after it. With forkserver
the children are the fork server's, not ours, so their CPU time and RSS
escape both the in-window getrusage and the runner's wait4.
"""

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import workloads as w


def _child(i, conn):
    conn.send(w.square(i))
    conn.close()


def procs(method):
    ctx = mp.get_context(method)
    meter = w.Meter()
    children = []
    for i in range(w.PROCS):
        recv_end, send_end = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(i, send_end))
        child.start()
        send_end.close()
        children.append((child, recv_end))
    total = 0
    for child, recv_end in children:
        total += recv_end.recv()
        recv_end.close()
        child.join()
    meter.stop()
    return w.Measured(meter, total)


def _warm_pool(method):
    pool = mp.get_context(method).Pool(w.PROCPOOL_WORKERS)
    # One task per worker, each waited for: a worker busy with one holds
    # it while the other takes the next.
    warm = [pool.apply_async(w.square, (i,)) for i in range(w.PROCPOOL_WORKERS)]
    for task in warm:
        task.get()
    return pool


def _warm_executor():
    executor = ProcessPoolExecutor(w.PROCPOOL_WORKERS)
    for future in [executor.submit(w.square, i) for i in range(w.PROCPOOL_WORKERS)]:
        future.result()
    return executor


def pool_map(method):
    pool = _warm_pool(method)
    meter = w.Meter()
    total = 0
    for _ in range(w.PROCPOOL_MAPS):
        results = pool.map(w.square, range(w.PROCPOOL_ITEMS), chunksize=w.PROCPOOL_CHUNK)
        if len(results) != w.PROCPOOL_ITEMS:
            raise AssertionError("results missing")
        total += sum(results)
    meter.stop()
    pool.close()
    pool.join()
    return w.Measured(meter, total)


def executor_map():
    executor = _warm_executor()
    meter = w.Meter()
    total = 0
    for _ in range(w.PROCPOOL_MAPS):
        results = list(executor.map(w.square, range(w.PROCPOOL_ITEMS), chunksize=w.PROCPOOL_CHUNK))
        if len(results) != w.PROCPOOL_ITEMS:
            raise AssertionError("results missing")
        total += sum(results)
    meter.stop()
    executor.shutdown()
    return w.Measured(meter, total)


def pool_apply(method):
    pool = _warm_pool(method)
    meter = w.Meter()
    total = 0
    for i in range(w.PROCRTT_TASKS):
        total += pool.apply(w.square, (i,))
    meter.stop()
    pool.close()
    pool.join()
    return w.Measured(meter, total)


def executor_submit():
    executor = _warm_executor()
    meter = w.Meter()
    total = 0
    for i in range(w.PROCRTT_TASKS):
        total += executor.submit(w.square, i).result()
    meter.stop()
    executor.shutdown()
    return w.Measured(meter, total)
