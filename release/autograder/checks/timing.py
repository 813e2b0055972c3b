"""Kind `timing`: the student's ThreeLayerConvNet.loss on a CIFAR-sized batch,
as a ratio to the reference's time measured in the same grading run.

observe (runs in the student's process, or the reference's): builds the model
from the case, runs loss(X, y) once to warm up, then times up to REPEATS more
calls (stopping early once BUDGET_SECONDS are spent) and reports the fastest
under "seconds", with the "loss" for the correctness check.

judge (spec keys): full credit when student / reference <= max_ratio, none at
>= zero_credit_ratio (default 4 * max_ratio), linear in between; and none at
all unless the loss matches the reference's (a fast wrong model earns nothing).
"""
import time

import numpy as np

from autograder.checks import judging, models
from autograder.checks.calls import plain
from autograder.checks.compare import compare_output
from autograder.checks.outcome import CheckOutcome

REPEATS = 5          # timed calls after the warm-up; the fastest counts (robust to load)
BUDGET_SECONDS = 8.0  # stop repeating once this much time is spent (slow code: fewer runs)


def observe(item, case, nndl_modules, probes=True):
    rec, model = models.student_model(item, case, nndl_modules)
    if model is None:
        return rec.finish()
    X, y = plain(case["X"]), plain(case["y"])
    times = []
    loss = None
    for _ in range(1 + REPEATS):
        with rec.student("ThreeLayerConvNet.loss(X, y)"):
            start = time.perf_counter()
            result = model.loss(X, y)
            times.append(time.perf_counter() - start)
            loss = result[0]
        if rec.failed:
            return rec.finish()
        if sum(times) > BUDGET_SECONDS:
            break
    rec.output("loss", loss)
    timed = times[1:] or times
    rec.put("seconds", np.array(min(timed), dtype=np.float64))
    return rec.finish()


def credit(ratio, max_ratio, zero_credit_ratio):
    """Fraction of the points for a time ratio (see the module docstring)."""
    if ratio <= max_ratio:
        return 1.0
    if ratio >= zero_credit_ratio:
        return 0.0
    return float((zero_credit_ratio - ratio) / (zero_credit_ratio - max_ratio))


def judge(item, case, student_obs, reference_obs):
    failed = judging.errors(item, student_obs, reference_obs)
    if failed is not None:
        return failed
    mismatch = compare_output("loss", student_obs.get("loss"), np.asarray(reference_obs["loss"]),
                              max(item.tolerance, 1e-4), 1e-2)
    if mismatch is not None:
        return CheckOutcome(0.0, "failed", "timing is scored only for a correct loss: " + mismatch.message)
    try:
        student_s = float(np.asarray(student_obs["seconds"]))
        reference_s = float(np.asarray(reference_obs["seconds"]))
    except (KeyError, TypeError, ValueError):
        return CheckOutcome(0.0, "error", "no time was measured")
    max_ratio = float(item.extras.get("max_ratio", 3.0))
    zero_ratio = float(item.extras.get("zero_credit_ratio", 4 * max_ratio))
    ratio = student_s / max(reference_s, 1e-9)
    fraction = credit(ratio, max_ratio, zero_ratio)
    message = ("loss on %s took %.3f s, %.1f times the reference's %.3f s (full credit up to %.1f "
               "times, none from %.1f times)" % ("the batch", student_s, ratio, reference_s,
                                                 max_ratio, zero_ratio))
    hints = [] if fraction == 1.0 else [
        "Build ThreeLayerConvNet on the fast sandwich layers (nndl.conv_layer_utils, which use "
        "cs231n.fast_layers), not on the naive loops."]
    status = "passed" if fraction == 1.0 else "failed"
    return CheckOutcome(fraction, status, message if status == "failed" else "", hints=hints,
                        notes=[message] if status == "passed" else [],
                        data={"ratio": ratio, "student_seconds": student_s,
                              "reference_seconds": reference_s})
