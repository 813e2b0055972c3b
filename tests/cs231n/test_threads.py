"""cs231n.threads: slices that cover the work once, on as many threads as the process may use."""
import threading

import numpy as np
import pytest

from cs231n import threads


def test_slices_cover_the_range_once(monkeypatch):
    # Slices of 3, 3 and 1 items: every item done exactly once.
    monkeypatch.setattr(threads, "THREADS", 3)
    monkeypatch.setattr(threads, "PARALLEL_MIN_BYTES", 0)
    seen = []
    lock = threading.Lock()

    def work(start, stop):
        with lock:
            seen.append((start, stop))

    threads.for_slices(7, 1, work)
    assert sorted(seen) == [(0, 3), (3, 6), (6, 7)]
    monkeypatch.setattr(threads, "PARALLEL_MIN_BYTES", 100)
    seen.clear()
    threads.for_slices(7, 99, work)  # small work stays whole, on this thread
    assert seen == [(0, 7)]


def test_slices_run_on_other_threads(monkeypatch):
    monkeypatch.setattr(threads, "THREADS", 2)
    monkeypatch.setattr(threads, "PARALLEL_MIN_BYTES", 0)
    names = {}

    def work(start, stop):
        names[start] = threading.current_thread().name

    threads.for_slices(4, 1, work)
    assert names[0] == threading.current_thread().name  # the caller takes the first slice
    assert names[2].startswith("cs231n-threads")


def test_an_error_in_any_slice_is_raised_after_all_slices_end(monkeypatch):
    monkeypatch.setattr(threads, "THREADS", 2)
    monkeypatch.setattr(threads, "PARALLEL_MIN_BYTES", 0)
    done = []

    def work(start, stop):
        if start > 0:
            raise ValueError("slice %d" % start)
        done.append(start)

    with pytest.raises(ValueError, match="slice 2"):
        threads.for_slices(4, 1, work)
    assert done == [0]


def test_numpy_work_on_slices_gives_the_whole_array_result(monkeypatch):
    monkeypatch.setattr(threads, "THREADS", 2)
    monkeypatch.setattr(threads, "PARALLEL_MIN_BYTES", 0)
    x = np.random.default_rng(0).standard_normal((101, 33))
    out = np.empty_like(x)
    threads.for_slices(x.shape[0], x.nbytes,
                       lambda start, stop: np.maximum(x[start:stop], 0, out=out[start:stop]))
    assert np.array_equal(out, np.maximum(x, 0))


def test_thread_budget_follows_omp_num_threads(monkeypatch):
    # The grader's workers run with OMP_NUM_THREADS=1 (BLAS gets one thread); the kernels
    # must not add threads of their own beside it.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.thread_budget() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "64")
    assert threads.thread_budget() == min(4, threads.cpu_count())
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert threads.thread_budget() == min(4, threads.cpu_count())
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert threads.thread_budget() == min(4, threads.cpu_count())


@pytest.mark.parametrize("preset, expected", [(None, "4"), ("12", "12")])
def test_importing_cs231n_first_shortens_openblas_spinning_unless_set(preset, expected):
    # Read once by OpenBLAS when numpy loads it: cs231n sets it before that, never over a
    # value of the user's.
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if preset is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = preset
    code = ("import sys, cs231n; assert 'numpy' not in sys.modules; import os; "
            "print(os.environ['OPENBLAS_THREAD_TIMEOUT'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == expected
