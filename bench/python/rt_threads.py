"""CPython threads.

* threads (``threading``): 10,000 ``threading.Thread``, all started, then
  all joined; each stores its index in a result list;
* threads1 (``threading``): the same, each thread joined before the next
  one starts;
* poolmap (``ThreadPoolExecutor``): ``list(executor.map(f, range(1_000_000)))``
  with the default worker count (min(32, cores + 4) = 6); CPython's GIL
  makes this far slower than a plain loop, which is the point of the row;
* files (``py-blocking``): ``open(path, "rb").read()`` of every file, one
  after the other on the main thread (the counterpart of Rust's ``std-fs``).

``TempFiles`` is the untimed setup of ``files``, shared with rt_asyncio.
"""

import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import workloads as w


def threads():
    results = [None] * w.THREADS

    def body(i):
        results[i] = i

    meter = w.Meter()
    started = [threading.Thread(target=body, args=(i,)) for i in range(w.THREADS)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    meter.stop()
    return w.Measured(meter, sum(results))


def threads_one_at_a_time():
    results = [None] * w.THREADS

    def body(i):
        results[i] = i

    meter = w.Meter()
    for i in range(w.THREADS):
        t = threading.Thread(target=body, args=(i,))
        t.start()
        t.join()
    meter.stop()
    return w.Measured(meter, sum(results))


def poolmap():
    meter = w.Meter()
    with ThreadPoolExecutor() as executor:
        results = list(executor.map(w.poolmap_fn, range(w.POOLMAP_ITEMS)))
    meter.stop()
    return w.Measured(meter, w.poolmap_checksum(results))


def files_blocking(paths):
    meter = w.Meter()
    contents = []
    for path in paths:
        with open(path, "rb") as f:
            contents.append(f.read())
    meter.stop()
    return w.Measured(meter, w.files_checksum(contents))


class TempFiles:
    """The 10,000 files of ``files`` in a fresh directory under the system
    temp dir, written (and synced) on enter and removed on exit (untimed)."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="brigade-bench-files-")
        block = w.files_block()
        self.paths = []
        for i in range(w.FILES):
            path = os.path.join(self.dir, f"f{i:05}.bin")
            with open(path, "wb") as f:
                f.write(w.file_contents(block, i))
            self.paths.append(path)
        # Written back now, untimed, so that writeback does not compete with
        # the measured reads.
        os.sync()
        return self.paths

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
