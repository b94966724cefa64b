"""CPython's shared state between processes, the peers of brigade's
``process::Lock``, ``Value`` and ``Manager`` (start method fork, Python
3.11's default on Linux):

* mplock (``mp-fork``): ``multiprocessing.Lock()``, ``acquire()`` and
  ``release()`` 1,000,000 times in the parent, uncontended;
* mplock2 (``mp-fork``): the same lock passed to 2 ``Process`` children that
  each acquire and release it 200,000 times;
* mpvalue (``mp-fork``): ``multiprocessing.Value('Q', 0)``, 2 children each
  doing ``with v.get_lock(): v.value += 1`` 200,000 times;
  for both, the window opens when the parent and both children have met at
  a ``multiprocessing.Barrier(3)`` (so process start-up is not measured)
  and closes when both children are joined;
* manager (``mp-fork``): ``multiprocessing.Manager().dict()``, 10,000 times
  ``d['k'] = d['k'] + 1`` in the parent (2 round trips to the server each).
"""

import multiprocessing as mp

import workloads as w

CTX = mp.get_context("fork")


def lock_uncontended():
    lock = CTX.Lock()
    meter = w.Meter()
    taken = 0
    for _ in range(w.MPLOCK_ITERS):
        lock.acquire()
        taken += 1
        lock.release()
    meter.stop()
    return w.Measured(meter, taken)


def _contend(lock, n, start, conn):
    start.wait()
    for _ in range(n):
        lock.acquire()
        lock.release()
    conn.send(n)
    conn.close()


def _bump(value, n, start, conn):
    start.wait()
    for _ in range(n):
        with value.get_lock():
            value.value += 1
    conn.send(n)
    conn.close()


def _run_children(target, shared):
    """Starts the contenders, each with its own result pipe, meets them at
    the start barrier, and joins them; returns the meter and the sum of what
    they sent."""
    start = CTX.Barrier(w.MP_CONTENDERS + 1)
    children = []
    for _ in range(w.MP_CONTENDERS):
        recv_end, send_end = CTX.Pipe(duplex=False)
        child = CTX.Process(target=target, args=(shared, w.MP_ITERS_EACH, start, send_end))
        child.start()
        send_end.close()
        children.append((child, recv_end))
    start.wait()
    meter = w.Meter()
    total = 0
    for child, recv_end in children:
        total += recv_end.recv()
        child.join()
    meter.stop()
    return meter, total


def lock_contended():
    meter, taken = _run_children(_contend, CTX.Lock())
    return w.Measured(meter, taken)


def value_contended():
    value = CTX.Value("Q", 0)
    meter, _ = _run_children(_bump, value)
    return w.Measured(meter, value.value)


def manager_dict():
    with CTX.Manager() as manager:
        d = manager.dict()
        d["k"] = 0
        meter = w.Meter()
        for _ in range(w.MANAGER_OPS):
            d["k"] = d["k"] + 1
        meter.stop()
        return w.Measured(meter, d["k"])
