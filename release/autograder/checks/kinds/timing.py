"""Kind `timing`: the student's ThreeLayerConvNet.loss on a CIFAR-sized batch,
as a ratio to the reference's time measured in the same grading run.

In the grader (autograder/grade/run_timing.py) nothing the student's
process says about time counts, since student code can patch any clock or
cache any result there:
1. observe (untimed, case marked with GRADER_CLOCK) builds the model from the
   case, runs loss(X, y) once (warm-up, and the loss to compare) and keeps the
   model in this module's slot in the worker;
2. each timed round is one request timed_loss(X, y) on fresh random inputs
   (fresh_inputs: new every round, so a cache keyed by the inputs earns
   nothing), timed by the grader's own clock around the sandboxed call; the
   reference's worker gets the same rounds, alternated with the student's;
3. graded_observation joins both: the fastest round in "seconds" and each
   round's loss, replacing whatever the student's process reported.

judge (spec keys): full credit when student / reference <= max_ratio, none at
>= zero_credit_ratio (default 4 * max_ratio), linear in between. A loss that
is off still gets its time scored (the forward item already charges the bug),
but only if the timed calls computed it: every loss must be a finite real
scalar, and the round losses must follow the reference's on the same fresh
batches (equal, or an exact positive affine function of them, which is what a
wrong regularisation term or a missing 1/N gives). A call that returns at once
with a made-up number follows nothing and earns no credit.

In one process (notebook cells, self-check: checks.run_item_in_process) there
is no grader outside, so observe times the calls itself; judge says that the
time is for the student's information only.
"""
import time

import numpy as np

from autograder.checks import models
from autograder.checks.calls import plain
from autograder.checks.compare import compare_output
from autograder.checks.kinds.base import Key, Kind
from autograder.checks.observation import read_text, text
from autograder.checks.outcome import CheckOutcome, Status
from autograder.checks.recorder import Recorder

REPEATS = 5          # in-process only: timed calls after the warm-up; the fastest counts
BUDGET_SECONDS = 8.0  # in-process only: stop repeating once this much time is spent

GRADER_CLOCK = "_grader_clock"   # case key: the grader times the rounds (observe only prepares)
CLOCK = "timing.clock"           # "grader" or "in_process" (set by whoever measured)
ROUND_LOSSES = "timing.round_loss"
MIN_SLOPE = 0.1      # a loss that hardly moves with the reference's cannot be told from a constant

_PREPARED = {}       # in the worker: the model observe built, for the timed rounds


def observe(item, case, nndl_modules, probes=True):
    _PREPARED.clear()
    rec, model = models.student_model(item, case, nndl_modules)
    if model is None:
        return rec.finish()
    X, y = plain(case["X"]), plain(case["y"])
    in_process = GRADER_CLOCK not in case
    times = []
    loss = None
    for _ in range(1 + (REPEATS if in_process else 0)):
        with rec.student("ThreeLayerConvNet.loss(X, y)"):
            start = time.perf_counter()
            loss = loss_of(model.loss(X, y))
            times.append(time.perf_counter() - start)
        if rec.failed:
            return rec.finish()
        if sum(times) > BUDGET_SECONDS:
            break
    rec.output("loss", loss)
    if in_process:
        timed = times[1:] or times
        rec.put("seconds", np.array(min(timed), dtype=np.float64))
        rec.put(CLOCK, text("in_process"))
    else:
        _PREPARED["model"] = model
    return rec.finish()


def loss_of(result):
    """The loss of loss(X, y)'s (loss, grads), or TypeError naming what came back instead."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError("loss(X, y) should return (loss, grads), got %s" % _describe(result))
    return result[0]


def _describe(value):
    if isinstance(value, (tuple, list)):
        return "a %s of %d values" % (type(value).__name__, len(value))
    return "a %s" % type(value).__name__


def fresh_inputs(case, rng):
    """New (X, y) of the case's shapes and dtype, drawn from rng (one timed round)."""
    X = np.asarray(case["X"])
    y = np.asarray(case["y"])
    num_classes = int(plain(case["init.num_classes"]))
    return (rng.standard_normal(X.shape).astype(X.dtype),
            rng.integers(0, num_classes, y.shape).astype(y.dtype))


def timed_loss(nndl, X, y):
    """
    One timed round, in the worker: the prepared model's loss(X, y).

    Inputs:
    - nndl: the worker's module mapping (unused: the model was built by observe)
    - X: images (N, C, H, W); y: labels (N,)
    Returns an observation with "loss" (or "error").
    """
    rec = Recorder()
    model = _PREPARED.get("model")
    if model is None:
        rec.fail("NotPrepared", "the worker restarted after the model was built, so there was no "
                 "model to time", "ThreeLayerConvNet.loss(X, y)")
        return rec.finish()
    with rec.student("ThreeLayerConvNet.loss(X, y)"):
        loss = loss_of(model.loss(X, y))
    if not rec.failed:
        rec.output("loss", loss)
    return rec.finish()


def finite_loss(value):
    """The loss as a float, or None unless it is one finite real number."""
    if value is None:
        return None
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "fiu":
        return None
    number = float(array.reshape(()))
    return number if np.isfinite(number) else None


def graded_observation(observed, seconds, round_losses):
    """
    What judge reads for one side in the grader: its untimed observation without
    anything it said about time, plus the grader's fastest round and each round's
    loss (NaN where a round returned no finite loss).
    """
    obs = {k: v for k, v in observed.items()
           if k != "seconds" and not k.startswith("timing.")}
    obs[CLOCK] = text("grader")
    obs[ROUND_LOSSES] = np.array([np.nan if v is None else v for v in round_losses],
                                 dtype=np.float64)
    if seconds is not None:
        obs["seconds"] = np.array(seconds, dtype=np.float64)
    return obs


def follows(student, reference, tolerance):
    """
    Whether the student's losses are the reference's on the same batches, or an
    exact positive affine function of them (slope >= MIN_SLOPE), within
    `tolerance` relative to the losses' size. With two points only the slope 1
    (a constant offset) is accepted, since any two points fit some line.
    """
    s = np.asarray(student, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if s.shape != r.shape or s.size == 0 or not np.all(np.isfinite(s)) or \
            not np.all(np.isfinite(r)):
        return False
    allowed = tolerance * max(1.0, float(np.max(np.abs(s))))
    if s.size < 3 or np.ptp(r) == 0.0:
        slope = 1.0
    else:
        slope = float(np.polyfit(r, s, 1)[0])
        if slope < MIN_SLOPE:
            return False
    offset = float(np.mean(s - slope * r))
    return bool(np.max(np.abs(s - (slope * r + offset))) <= allowed)


def credit(ratio, max_ratio, zero_credit_ratio):
    """Fraction of the points for a time ratio (see the module docstring)."""
    if ratio <= max_ratio:
        return 1.0
    if ratio >= zero_credit_ratio:
        return 0.0
    return float((zero_credit_ratio - ratio) / (zero_credit_ratio - max_ratio))


def _unconfirmed(student_obs, reference_obs, tolerance):
    """Why the grader's rounds do not show the student's loss being computed (None if they do)."""
    rounds = np.asarray(student_obs.get(ROUND_LOSSES, np.zeros(0)), dtype=np.float64).ravel()
    reference_rounds = np.asarray(reference_obs.get(ROUND_LOSSES, np.zeros(0)),
                                  dtype=np.float64).ravel()
    if rounds.size == 0:
        return "no timed call finished"
    if not np.all(np.isfinite(rounds)):
        return "a timed call of loss(X, y) returned no finite loss"
    reference_rounds = reference_rounds[:rounds.size]
    student_all = np.concatenate([[finite_loss(student_obs.get("loss"))], rounds])
    reference_all = np.concatenate([[finite_loss(reference_obs.get("loss"))], reference_rounds])
    if not follows(student_all, reference_all, tolerance):
        return ("the losses of the timed calls on fresh batches did not follow the reference's "
                "on the same batches (neither equal to them nor off by a fixed rule), so the "
                "grader cannot tell that the time measured is your loss being computed")
    return None


def judge(item, case, student_obs, reference_obs):
    tolerance = max(item.tolerance, 1e-4)
    if finite_loss(student_obs.get("loss")) is None:
        return CheckOutcome(0.0, Status.FAILED, "timing is scored only for a loss(X, y) that returns a "
                            "finite loss (one real number); %s" % _loss_shown(student_obs))
    by_grader = read_text(student_obs, CLOCK) == "grader"
    if by_grader:
        why = _unconfirmed(student_obs, reference_obs, tolerance)
        if why is not None:
            return CheckOutcome(0.0, Status.FAILED, "no timing credit: " + why)
    try:
        student_s = float(np.asarray(student_obs["seconds"]))
        reference_s = float(np.asarray(reference_obs["seconds"]))
    except (KeyError, TypeError, ValueError):
        return CheckOutcome(0.0, Status.ERROR, "no time was measured")
    max_ratio = float(item.extras["max_ratio"])
    zero_ratio = float(item.extras.get("zero_credit_ratio", 4 * max_ratio))
    ratio = student_s / max(reference_s, 1e-9)
    fraction = credit(ratio, max_ratio, zero_ratio)
    message = ("loss on %s took %.3f s, %.1f times the reference's %.3f s (full credit up to %.1f "
               "times, none from %.1f times)" % ("the batch", student_s, ratio, reference_s,
                                                 max_ratio, zero_ratio))
    if not by_grader:
        message += ("; measured in this process, for your information only: the grader times "
                    "your code with its own clock on fresh batches")
    notes = []
    mismatch = compare_output("loss", student_obs.get("loss"), np.asarray(reference_obs["loss"]),
                              tolerance, 1e-2)
    if mismatch is not None:
        notes.append("your loss differs from the reference's (%s); its time is scored anyway, "
                     "the forward item charges the difference" % mismatch.message)
    hints = [] if fraction == 1.0 else [
        "Build ThreeLayerConvNet on the fast sandwich layers (nndl.conv_layer_utils, which use "
        "cs231n.fast_layers), not on the naive loops."]
    status = Status.PASSED if fraction == 1.0 else Status.FAILED
    if status == Status.PASSED:
        notes.insert(0, message)
    return CheckOutcome(fraction, status, message if status == Status.FAILED else "", hints=hints,
                        notes=notes, data={"ratio": ratio, "student_seconds": student_s,
                                           "reference_seconds": reference_s})


def _loss_shown(obs):
    kind = read_text(obs, "diag.type.loss")
    if kind:
        return "it returned a %s" % kind
    if "loss" not in obs:
        return "it returned none"
    value = np.asarray(obs["loss"])
    if value.size != 1:
        return "it returned an array of shape %s" % (value.shape,)
    return "it returned %s" % (value.reshape(())[()].item(),)


KIND = Kind("timing", observe, judge, keys=(
    Key("max_ratio", 3.0, "student time / reference time up to which the item gets full credit"),
    Key("zero_credit_ratio", None, "the ratio from which it gets none (default 4 * max_ratio); "
        "linear in between", type=float),
), measures_time=True)
