"""Ray's `multiprocessing.Pool` (`ray.util.multiprocessing.Pool`) against
brigade's cluster pool (bench/harness/src/rt_brigade_cluster.rs) and
Celery (rt_celery.py): the same tasks, the same chunking, the same number
of worker processes.

* clustermap: n -> n*n over 0..100,000 with `Pool.map(.., chunksize=12,500)`
  (the multiprocessing.Pool.map rule, also given to brigade and Celery);
* clusterrtt: 1,000 tasks, one at a time (`Pool.apply`).

Ray does not use the Redis broker. It has a cluster backend of its own: a
local Ray instance (the GCS, a raylet, its object store) that this process
starts with `ray.init(num_cpus=2, include_dashboard=False)`. The pool is
Ray's drop-in for multiprocessing.Pool, made of 2 actors (one worker
process each), the same count as brigade's worker and `celery worker
--concurrency 2`. Ray and the pool are started, and every actor has run a
task, before the measured window; the pool and Ray are shut down after it.

Needs `pip install ray` (bench/run.py tries `ray==2.60.0` as an optional
extra); without it the rows read "not installed".
"""

import os

import rt_asyncio
import workloads as w

HERE = os.path.dirname(os.path.abspath(__file__))


def _ray():
    try:
        import ray
        from ray.util.multiprocessing import Pool
    except ImportError as exc:  # the rows read "not installed"
        raise rt_asyncio.NotInstalled(f"ray is not installed ({exc})")
    return ray, Pool


class _RayPool:
    """A local Ray instance and a warmed pool of CLUSTER_WORKERS actors."""

    def __enter__(self):
        ray, Pool = _ray()
        self.ray = ray
        # No usage report over the network during a benchmark; the actors
        # import `workloads` from this directory, as the Celery worker does.
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = HERE + (os.pathsep + path if path else "")
        ray.init(num_cpus=w.CLUSTER_WORKERS, include_dashboard=False,
                 log_to_driver=False, logging_level="warning")
        # The constructor waits until every actor answers a ping; the tasks
        # below also have each one load `square` (apply goes round robin).
        self.pool = Pool(processes=w.CLUSTER_WORKERS)
        for i in range(2 * w.CLUSTER_WORKERS):
            if self.pool.apply(w.square, (i,)) != i * i:
                raise RuntimeError("warm-up task returned a wrong value")
        return self.pool

    def __exit__(self, *_):
        self.pool.terminate()
        self.ray.shutdown()


def chunked_map():
    with _RayPool() as pool:
        items = list(range(w.CLUSTERMAP_ITEMS))
        meter = w.Meter()
        results = pool.map(w.square, items, chunksize=w.CLUSTERMAP_CHUNK)
        meter.stop()
        return w.Measured(meter, sum(results))


def round_trips():
    with _RayPool() as pool:
        meter = w.Meter()
        total = 0
        for i in range(w.CLUSTERRTT_TASKS):
            total += pool.apply(w.square, (i,))
        meter.stop()
        return w.Measured(meter, total)
