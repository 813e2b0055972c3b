"""A toy check kind kept outside the kit (tests/autograder/checks/test_kinds.py registers it):
the shape of a forward function's output against the reference's."""
import numpy as np

from autograder.checks.kinds import Key, Kind
from autograder.checks.outcome import CheckOutcome, Status


def observe(item, case, nndl_modules, probes=True):
    module, _, name = item.function.partition(":")
    out, _ = getattr(nndl_modules[module], name)(case["x"])
    return {"shape": np.array(np.shape(out), dtype=np.int64)}


def judge(item, case, student_obs, reference_obs):
    if np.array_equal(student_obs["shape"], reference_obs["shape"]) or not item.extras["strict"]:
        return CheckOutcome(1.0, Status.PASSED, "")
    return CheckOutcome(0.0, Status.FAILED, "shape %s, expected %s" % (
        tuple(student_obs["shape"].tolist()), tuple(reference_obs["shape"].tolist())))


KIND = Kind("output_shape", observe, judge, keys=(Key("strict", True, "fail a wrong shape"),))
