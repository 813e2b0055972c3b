"""The timing item's rounds: a third round runs only when the first two leave the credit
open (grade/run_timing.py settled()); the clock and the sessions are fakes, so the rounds
counted are the ones the runner asked for."""
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.grade import run_timing
from autograder.sandbox.process import Reply
from autograder.spec import load_spec

ITEM = "cnn.ThreeLayerConvNet.loss.timing"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeSession:
    """Answers timed_loss with a loss computed from the batch, taking `seconds` of the clock."""

    def __init__(self, clock, seconds):
        self.clock, self.seconds, self.calls = clock, list(seconds), 0

    def call(self, function, payload, timeout):
        self.clock.now += self.seconds[min(self.calls, len(self.seconds) - 1)]
        self.calls += 1
        return Reply("ok", {}, "", "", 0.0), {"loss": np.array(float(np.mean(payload["X"])))}


def graded(monkeypatch, reference_seconds, student_seconds):
    clock = FakeClock()
    monkeypatch.setattr(run_timing.time, "perf_counter", clock)
    monkeypatch.setattr(run_timing, "reference_observe", lambda ctx, item, case: {
        "loss": np.array(float(np.mean(case["X"])))})
    monkeypatch.setattr(run_timing, "student_observe", lambda ctx, item, case, timeout: (
        {"loss": np.array(float(np.mean(case["X"])))}, Reply("ok", {}, "", "", 0.0)))
    ctx = SimpleNamespace(seed=3, reference=FakeSession(clock, reference_seconds),
                          student=FakeSession(clock, student_seconds))
    item = load_spec().item(ITEM)
    result = run_timing.run(ctx, item, run_timing.time.monotonic())
    return ctx, item, result


@pytest.mark.parametrize("student_seconds, rounds", [
    ((0.10, 0.10, 0.10), 2),     # 1x the reference: settled after two rounds
    ((0.14, 0.14, 0.14), 2),     # 1.4x, under max_ratio / 2 (1.5x)
    ((0.20, 0.20, 0.20), 3),     # 2x: within full credit, but a third round could change it
    ((0.40, 0.40, 0.40), 3),     # 4x: partial credit, every round runs
    ((0.40, 0.12, 0.40), 2),     # a slow first round: the best of two, 1.2x, settles it
])
def test_a_third_round_runs_only_when_two_leave_the_credit_open(monkeypatch, student_seconds,
                                                                  rounds):
    ctx, item, result = graded(monkeypatch, (0.10, 0.10, 0.10), student_seconds)
    assert float(item.extras["max_ratio"]) == 3.0
    assert ctx.student.calls == ctx.reference.calls == rounds
    best = min(student_seconds[:rounds]) / 0.10
    fraction = run_timing.timing.credit(best, 3.0, float(item.extras["zero_credit_ratio"]))
    assert result.score == pytest.approx(fraction * item.points, abs=1e-3)
