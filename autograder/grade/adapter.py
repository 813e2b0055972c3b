"""The one place the grader and its worker touch the checks package's interface.

Checks (autograder/checks/kinds/<kind>.py) expose observe(item, case, nndl_modules) (run in
the worker, through autograder.checks.in_worker) and judge(...) (run in the grader on plain
arrays); the spec is read by autograder.spec.load_spec. Keeping those calls here means an
interface change is a one-file change on the grading side.
"""
import functools
import zlib

import numpy as np


@functools.lru_cache(maxsize=8)
def _spec(path):
    from autograder.spec import load_spec
    return load_spec(path)


def load_spec(path=None):
    from autograder.spec import SPEC_PATH
    return _spec(str(path or SPEC_PATH))


def item_rng(seed, item_id):
    """The Generator an item's cases are drawn from: the run's seed and the item's id."""
    return np.random.default_rng([int(seed) & (2 ** 63 - 1), zlib.crc32(item_id.encode("utf-8"))])


def draw_cases(item, seed):
    """The item's list of case dicts, drawn from the run's secret seed."""
    from autograder.checks import make_cases
    return make_cases(item, item_rng(seed, item.id))
