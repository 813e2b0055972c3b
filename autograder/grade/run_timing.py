"""The grader's runner of the timing kind (checks/kinds/timing.py: what is measured and how
it is judged): the rounds timed here, by the grader's clock, around sandboxed calls."""
import time
import zlib

import numpy as np

from autograder.checks import judge_all
from autograder.checks.kinds import timing
from autograder.checks.observation import error_observation
from autograder.grade import adapter
from autograder.grade.aggregate import from_checks
from autograder.grade.items import (REFERENCE_SLACK, GraderError, failure_observation,
                                    reference_observe, student_observe)

TIMING_ROUNDS = 3          # timed calls per side, on fresh inputs each, at most
SETTLED_ROUNDS = 2         # ... and at least, when the ratio is already far inside full credit
# After SETTLED_ROUNDS, a student at most max_ratio / SETTLED_MARGIN times the reference
# keeps full credit unless the reference's fastest round halves in the next: that round
# is not run (about 0.15 s of a submission).
SETTLED_MARGIN = 2.0
TIMED_LOSS = "autograder.checks.kinds.timing:timed_loss"


def run(ctx, item, start):
    """
    Time the student's loss with the grader's clock: each side's model is built once
    (untimed observe), then every round is one call of timing.timed_loss on fresh inputs,
    timed here around the request, reference and student alternated so both see the same
    machine noise; the fastest round of each side counts (checks/timing.py). The last round
    runs only when the first SETTLED_ROUNDS leave the credit open (settled()).
    """
    cases = adapter.draw_cases(item, ctx.seed)
    # The rounds' inputs: a stream of the run's secret seed apart from the cases'.
    rng = np.random.default_rng([int(ctx.seed) & (2 ** 63 - 1), zlib.crc32(item.id.encode()), 1])
    students, references = [], []
    for case in cases:
        case = dict(case, **{timing.GRADER_CLOCK: np.array(True)})
        reference_obs = reference_observe(ctx, item, case)
        remaining = item.time_limit - (time.monotonic() - start)
        student_obs, reply = student_observe(ctx, item, case, max(remaining, 1.0))
        best = {"reference": None, "student": None}
        losses = {"reference": [], "student": []}
        for done in range(TIMING_ROUNDS if reply.status == "ok" and "error" not in student_obs
                          else 0):
            if done >= SETTLED_ROUNDS and settled(item, best):
                break
            X, y = timing.fresh_inputs(case, rng)
            _timed_round(ctx.reference, "reference", item, X, y, best, losses,
                         REFERENCE_SLACK * item.time_limit + 30)
            remaining = item.time_limit - (time.monotonic() - start)
            if remaining <= 0 and losses["student"]:
                break
            failure = _timed_round(ctx.student, "student", item, X, y, best, losses,
                                   max(remaining, 1.0))
            if failure is not None:
                student_obs = failure
                break
            if best["student"] > item.time_limit / (2 * TIMING_ROUNDS):
                break  # far too slow to need more rounds
        if "error" not in student_obs:
            student_obs = timing.graded_observation(student_obs, best["student"], losses["student"])
        references.append(timing.graded_observation(reference_obs, best["reference"],
                                                     losses["reference"][:len(losses["student"])]))
        students.append(student_obs)
    return from_checks(item, judge_all(item, cases, students, references))


def settled(item, best):
    """Whether the rounds so far put the student far inside full credit (SETTLED_MARGIN)."""
    if best["student"] is None or best["reference"] is None:
        return False
    return best["student"] <= best["reference"] * float(item.extras["max_ratio"]) / SETTLED_MARGIN


def _timed_round(session, side, item, X, y, best, losses, timeout):
    """
    One call of timing.timed_loss(X, y) in `side`'s worker, timed by this process's clock;
    updates best[side] and losses[side]. Returns the student's failure observation, if any.
    """
    began = time.perf_counter()
    reply, obs = session.call(TIMED_LOSS, {"X": X, "y": y}, timeout)
    seconds = time.perf_counter() - began
    if side == "reference" and (reply.status != "ok" or not isinstance(obs, dict) or "error" in obs):
        raise GraderError("the reference failed a timed round of %s: %s" % (item.id, reply.message))
    if reply.status != "ok":
        return failure_observation(item, reply)
    if not isinstance(obs, dict):
        return error_observation("Error", "the timed call returned no result", where=item.qualname)
    if "error" in obs:
        return obs
    losses[side].append(timing.finite_loss(obs.get("loss")))
    _fastest(best, side, seconds)
    return None


def _fastest(best, side, seconds):
    """Keep the fastest of this side's rounds in best[side]."""
    if best[side] is None or seconds < best[side]:
        best[side] = seconds
