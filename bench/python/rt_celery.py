"""Celery, the Python task queue, against brigade's cluster pool
(bench/harness/src/rt_brigade_cluster.rs): the same Redis broker, the same
tasks, the same chunking.

* clustermap: n -> n*n over 0..100,000 as Celery's `chunks` primitive
  (12,500 items per task, the multiprocessing.Pool.map rule also given to
  brigade), run as a group and gathered;
* clusterrtt: 1,000 tasks, one at a time (`apply_async(..).get()`).

The broker and result backend are the redis-server at BENCH_REDIS_URL
(bench/run.py starts one for the whole run), or one this process starts on
a free loopback port. The worker is `celery worker --pool prefork
--concurrency 2` on a queue of its own, started and warmed (every process
has run a task) before the measured window. Celery settings are its
defaults for a Redis broker and backend, without the events, gossip,
mingle and heartbeat chatter that a benchmark has no use for.

Needs `pip install celery redis packaging`; without them the rows read
"not installed".
"""

import os
import socket
import subprocess
import sys
import time

import rt_asyncio
import workloads as w

HERE = os.path.dirname(os.path.abspath(__file__))


def _app(url):
    try:
        from celery import Celery
    except ImportError as exc:  # the rows read "not installed"
        raise rt_asyncio.NotInstalled(f"celery is not installed ({exc})")
    app = Celery("rt_celery", broker=url, backend=url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    return app


# In the worker process (`celery -A rt_celery worker`), the app is made at
# import; in the measuring process, by _Worker once the broker is known.
app = _app(os.environ["BENCH_REDIS_URL"]) if os.environ.get("RT_CELERY_WORKER") else None


def _square(n):
    return n * n


if app is not None:
    square = app.task(name="rt_celery.square")(_square)


class _Broker:
    """The shared broker, or a redis-server of our own."""

    def __enter__(self):
        self.child = None
        self.url = os.environ.get("BENCH_REDIS_URL")
        if self.url:
            return self
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.child = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        return self

    def __exit__(self, *_):
        if self.child:
            self.child.kill()
            self.child.wait()


class _Worker:
    """`celery worker` on a queue of its own, warmed."""

    def __init__(self, url):
        self.url = url
        self.queue = f"bench-{os.getpid()}"

    def __enter__(self):
        global app, square
        app = _app(self.url)
        square = app.task(name="rt_celery.square")(_square)
        env = dict(os.environ, BENCH_REDIS_URL=self.url, RT_CELERY_WORKER="1")
        self.child = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "rt_celery", "worker",
             "--pool", "prefork", "--concurrency", str(w.CLUSTER_WORKERS),
             "-Q", self.queue, "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel", "WARNING"],
            cwd=HERE, env=env, stdout=subprocess.DEVNULL)
        warm = [square.apply_async((i,), queue=self.queue)
                for i in range(2 * w.CLUSTER_WORKERS)]
        for r in warm:
            r.get(timeout=120)
        return self

    def __exit__(self, *_):
        self.child.kill()
        self.child.wait()


def chunked_map():
    _app("redis://")  # fails early with NotInstalled
    with _Broker() as broker, _Worker(broker.url) as worker:
        items = [(i,) for i in range(w.CLUSTERMAP_ITEMS)]
        meter = w.Meter()
        job = square.chunks(items, w.CLUSTERMAP_CHUNK).group().apply_async(queue=worker.queue)
        results = job.get(timeout=600)
        meter.stop()
        total = sum(sum(chunk) for chunk in results)
        return w.Measured(meter, total)


def round_trips():
    _app("redis://")
    with _Broker() as broker, _Worker(broker.url) as worker:
        meter = w.Meter()
        total = 0
        for i in range(w.CLUSTERRTT_TASKS):
            total += square.apply_async((i,), queue=worker.queue).get(timeout=60)
        meter.stop()
        return w.Measured(meter, total)
