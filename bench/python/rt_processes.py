"""CPython processes: ``multiprocessing`` under each start method, and
``concurrent.futures.ProcessPoolExecutor``.

* procs (``mp-fork``, ``mp-spawn``, ``mp-forkserver``): 200
  ``multiprocessing.Process``, each with its own one-way ``Pipe``; child i
  sends i² back; all are started, then each result is received and each
  child joined;
* procpool (``mp-Pool-fork``, ``mp-Pool-spawn``, ``mp-Pool-forkserver``):
  ``Pool().map(square, range(100_000))`` with the library defaults
  (os.cpu_count() = 2 workers, chunksize ceil(n / (4 · workers)) = 12,500),
  then ``close()`` + ``join()``;
* procpool (``ProcessPoolExecutor``): default workers (2) and context (fork
  on Linux with Python 3.11), ``map(square, items, chunksize=1000)``; its
  own default chunksize is 1, one IPC round trip per item;
* procrtt (``mp-Pool-fork``, ``ProcessPoolExecutor``): 10,000 tasks through
  a 2-worker pool, each submitted once the previous result is back
  (``Pool.apply``, ``submit(...).result()``): the round trip of one
  unchunked task.

Pools are created and shut down inside the measured window. With
forkserver the children are the fork server's, not ours, so their CPU time
and RSS escape both the in-window getrusage and the runner's wait4.
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


def pool_map(method):
    ctx = mp.get_context(method)
    meter = w.Meter()
    pool = ctx.Pool()
    results = pool.map(w.square, range(w.PROCPOOL_ITEMS))
    pool.close()
    pool.join()
    meter.stop()
    if len(results) != w.PROCPOOL_ITEMS:
        raise AssertionError("results missing")
    return w.Measured(meter, sum(results))


def executor_map():
    meter = w.Meter()
    with ProcessPoolExecutor() as executor:
        results = list(
            executor.map(w.square, range(w.PROCPOOL_ITEMS), chunksize=w.PROCPOOL_CHUNK)
        )
    meter.stop()
    if len(results) != w.PROCPOOL_ITEMS:
        raise AssertionError("results missing")
    return w.Measured(meter, sum(results))


def pool_apply(method):
    ctx = mp.get_context(method)
    meter = w.Meter()
    pool = ctx.Pool(2)
    total = 0
    for i in range(w.PROCRTT_TASKS):
        total += pool.apply(w.square, (i,))
    pool.close()
    pool.join()
    meter.stop()
    return w.Measured(meter, total)


def executor_submit():
    meter = w.Meter()
    total = 0
    with ProcessPoolExecutor(2) as executor:
        for i in range(w.PROCRTT_TASKS):
            total += executor.submit(w.square, i).result()
    meter.stop()
    return w.Measured(meter, total)
