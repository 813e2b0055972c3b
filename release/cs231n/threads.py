"""Run work that releases the GIL on several threads at once.

numpy's BLAS runs its products on every core, but numpy's element-wise
operations and reductions, and the compiled im2col / pooling kernels, run on
the calling thread only: on a 2-core machine the other core idles through
half of a training step (PyTorch runs such work on all cores). All of them
release the GIL while they work on an array, so cutting a big array into
THREADS slices and handing the slices to threads runs them at once.

    for_slices(N, nbytes, work)   # work(start, stop) over slices covering range(N) once

Work under PARALLEL_MIN_BYTES stays on the calling thread: handing it over
would cost more than it saves. The thread count honours OMP_NUM_THREADS, as
BLAS does, so a process given one thread (the grader's workers) runs on one.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor


def cpu_count():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def thread_budget():
    """At most 4, the cores this process may use, and OMP_NUM_THREADS when it is set: a
    grader (or a student) that gives each process one thread, as BLAS gets, must not
    find the kernels running on more."""
    budget = min(4, cpu_count())
    try:
        limit = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return budget
    return max(1, min(budget, limit))


THREADS = thread_budget()
PARALLEL_MIN_BYTES = 1 << 21

_pools = {}  # worker count -> a ThreadPoolExecutor whose workers all run, or None
_pools_lock = threading.Lock()


def _started_pool(workers):
    """A pool with all `workers` threads started, or None where threads cannot
    be started (a sandbox's process limit). Starting them all up front means a
    later submit never starts a thread, so it cannot fail halfway through a batch."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cs231n-threads")
    gate = threading.Barrier(workers + 1, timeout=10)
    try:
        for _ in range(workers):  # each waits at the gate, so each needs its own thread
            pool.submit(gate.wait)
        gate.wait()
    except (RuntimeError, threading.BrokenBarrierError):
        gate.abort()
        pool.shutdown(wait=False)
        return None
    return pool


def _thread_pool(workers):
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = _started_pool(workers)
        return _pools[workers]


def for_slices(N, nbytes, work):
    """
    Call work(start, stop) over consecutive slices of range(N) that cover it
    once, on THREADS threads at once when the data reach PARALLEL_MIN_BYTES.

    Inputs:
    - N: Number of items (images, rows, blocks) to cut into slices
    - nbytes: Size of the data the work touches, deciding whether to use threads
    - work: Callable work(start, stop) doing items start..stop-1; slices never
      overlap, so it may write into its own part of a shared output

    Returns nothing; the first exception raised by a slice is raised here.
    The calling thread does the first slice itself.
    """
    parts = min(N, THREADS) if nbytes >= PARALLEL_MIN_BYTES else 1
    pool = _thread_pool(parts - 1) if parts > 1 else None
    if pool is None:
        work(0, N)
        return
    size = -(-N // parts)
    bounds = [(start, min(N, start + size)) for start in range(0, N, size)]
    futures = [pool.submit(work, start, stop) for start, stop in bounds[1:]]
    try:
        work(*bounds[0])
    finally:
        for future in futures:  # every slice ends before the arrays go out of scope
            future.exception()
    for future in futures:
        future.result()
