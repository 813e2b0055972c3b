"""The timing item cannot be faked from inside the sandbox: the grader's clock times
each call on fresh inputs, and the timed calls must compute the loss.

Each planted variant is first checked in this process, independently of the grader,
to do what it claims (compute the loss SLOWDOWN times per call, patch the clock,
answer repeated inputs from a cache, replace the trusted timed call, get the loss
wrong by a fixed amount).
"""
import re
import time

import numpy as np
import pytest

from autograder.checks.kinds import timing
from autograder.checks.cases import CASES
from autograder.checks.loading import load_nndl
from autograder.checks.models import student_model
from autograder.spec import load_spec
from tests.autograder.grade import helpers

TIMING = "cnn.ThreeLayerConvNet.loss.timing"
SLOWDOWN = 25   # far past zero_credit_ratio (12) on any machine: the ratio does not depend on speed

PREAMBLE = '''
import numpy as _np
_Reference = ThreeLayerConvNet
COMPUTED = [0]   # losses actually computed (read by the tests)


def _slow_loss(model, X, y):
    for _ in range(%d - 1):
        _Reference.loss(model, X, y)
    COMPUTED[0] += %d
    return _Reference.loss(model, X, y)
''' % (SLOWDOWN, SLOWDOWN)

VARIANTS = {
    # slow code that makes every clock in its process read (almost) nothing
    "fake_clock": PREAMBLE + '''
import time as _time
_ticks = [0.0]


def _frozen_clock():
    _ticks[0] += 1e-9
    return _ticks[0]


_time.perf_counter = _frozen_clock
_time.monotonic = _frozen_clock


class ThreeLayerConvNet(_Reference):
    def loss(self, X, y=None):
        return _slow_loss(self, X, y)
''',
    # slow code that answers an input it has seen before at once
    "input_cache": PREAMBLE + '''
import hashlib as _hashlib
_CACHE = {}


class ThreeLayerConvNet(_Reference):
    def loss(self, X, y=None):
        key = _hashlib.sha1(_np.ascontiguousarray(X).tobytes()
                            + _np.asarray(y).tobytes()).hexdigest()
        if key not in _CACHE:
            _CACHE[key] = _slow_loss(self, X, y)
        return _CACHE[key]
''',
    # slow code that replaces the trusted timed call with one returning its last loss at once
    "fake_timed_call": PREAMBLE + '''
import autograder.checks.kinds.timing as _timing
_LAST = [2.302585]


def _instant(nndl, X, y):
    return {"loss": _np.array(_LAST[0])}


_timing.timed_loss = _instant


class ThreeLayerConvNet(_Reference):
    def loss(self, X, y=None):
        result = _slow_loss(self, X, y)
        if y is not None:
            _LAST[0] = float(result[0])
        return result
''',
    # fast code whose loss counts the regularisation twice (the 0.5 forgotten)
    "reg_bug": PREAMBLE + '''
class ThreeLayerConvNet(_Reference):
    def loss(self, X, y=None):
        result = _Reference.loss(self, X, y)
        if y is None:
            return result
        loss, grads = result
        extra = 0.5 * self.reg * sum(float(_np.sum(self.params[w] ** 2)) for w in ("W1", "W2", "W3"))
        return loss + extra, grads
''',
    # fast code whose loss is NaN
    "nan_loss": PREAMBLE + '''
class ThreeLayerConvNet(_Reference):
    def loss(self, X, y=None):
        result = _Reference.loss(self, X, y)
        return result if y is None else (float("nan"), result[1])
''',
}


def _variant_folder(root, name):
    folder = helpers.reference_submission(root / name)
    helpers.replace_function(folder, "cnn", VARIANTS[name])
    return folder


def _timing_case():
    return CASES["cnn_cifar_batch50"](np.random.default_rng(3))[0]


def _model(modules, case):
    item = load_spec().item(TIMING)
    rec, model = student_model(item, case, modules)
    assert model is not None, rec.finish().get("error")
    return model


# ---- the variants do what they claim (this process, no grader) -----------------------------------

@pytest.fixture
def restored(monkeypatch):
    """Whatever the variants patch at import is put back after the test."""
    monkeypatch.setattr(time, "perf_counter", time.perf_counter)
    monkeypatch.setattr(time, "monotonic", time.monotonic)
    monkeypatch.setattr(timing, "timed_loss", timing.timed_loss)


def test_the_fake_clock_variant_computes_slowly_and_freezes_the_clock(tmp_path, restored):
    modules = load_nndl(_variant_folder(tmp_path, "fake_clock") / "nndl")
    case = _timing_case()
    model = _model(modules, case)
    before = time.perf_counter()
    model.loss(case["X"], case["y"])
    assert time.perf_counter() - before < 1e-6
    assert modules["cnn"].COMPUTED[0] == SLOWDOWN


def test_the_cache_variant_computes_only_new_inputs(tmp_path, restored):
    modules = load_nndl(_variant_folder(tmp_path, "input_cache") / "nndl")
    case = _timing_case()
    model = _model(modules, case)
    first = model.loss(case["X"], case["y"])[0]
    again = model.loss(case["X"].copy(), case["y"].copy())[0]
    assert first == again and modules["cnn"].COMPUTED[0] == SLOWDOWN
    model.loss(case["X"] + 1, case["y"])
    assert modules["cnn"].COMPUTED[0] == 2 * SLOWDOWN


def test_the_fake_timed_call_variant_answers_without_computing(tmp_path, restored):
    modules = load_nndl(_variant_folder(tmp_path, "fake_timed_call") / "nndl")
    case = _timing_case()
    assert timing.timed_loss is not _real_timed_loss
    loss = float(_model(modules, case).loss(case["X"], case["y"])[0])
    computed = modules["cnn"].COMPUTED[0]
    answers = [float(timing.timed_loss(modules, case["X"] * k, case["y"])["loss"]) for k in (2, 3)]
    assert answers == [loss, loss] and modules["cnn"].COMPUTED[0] == computed


_real_timed_loss = timing.timed_loss


def test_the_reg_bug_variant_is_off_by_the_regularisation(tmp_path):
    reference = load_nndl(helpers.SOLUTIONS_NNDL)
    modules = load_nndl(_variant_folder(tmp_path, "reg_bug") / "nndl")
    case = _timing_case()
    ours = float(_model(modules, case).loss(case["X"], case["y"])[0])
    theirs = float(_model(reference, case).loss(case["X"], case["y"])[0])
    reg = float(case["init.reg"])
    squares = sum(float(np.sum(case["param." + w].astype(np.float64) ** 2)) for w in ("W1", "W2", "W3"))
    assert ours - theirs == pytest.approx(0.5 * reg * squares, rel=1e-3)
    assert abs(ours - theirs) > 1e-2 * abs(theirs)   # past the loss tolerance: the forward item fails


# ---- graded: only the grader's clock and computed losses count -----------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory, test_spec, cifar10_dir):
    """{variant: the timing ItemResult}, the reference's own code under 'reference'."""
    from autograder.grade.pipeline import GradeOptions, Grader
    root = tmp_path_factory.mktemp("timing-variants")
    folders = {"reference": helpers.reference_submission(root / "reference")}
    folders.update({name: _variant_folder(root, name) for name in VARIANTS})
    options = GradeOptions(spec_path=str(test_spec), cifar_dir=str(cifar10_dir), items=TIMING)
    results = {}
    with Grader(options) as grader:
        for name, folder in folders.items():
            result = grader.grade(folder, root / ("out-" + name), seed=21)
            assert result.grader_error == "", result.grader_error
            (item,) = result.items
            results[name] = item
    return results


def _ratio(item):
    match = re.search(r"([0-9.]+) times the reference", item.output)
    return float(match.group(1)) if match else None


def test_the_references_own_code_gets_full_timing_credit(graded):
    item = graded["reference"]
    assert item.score == item.max_score, item.output
    assert 0.3 <= _ratio(item) <= 3.0, item.output


@pytest.mark.parametrize("name", ["fake_clock", "input_cache"])
def test_a_patched_clock_or_an_input_cache_earns_no_timing_credit(graded, name):
    item = graded[name]
    assert item.score == 0, item.output
    assert _ratio(item) >= 12.0, item.output


def test_a_timed_call_that_returns_without_computing_earns_no_timing_credit(graded):
    item = graded["fake_timed_call"]
    assert item.score == 0, item.output
    assert "did not follow the reference's" in item.output


def test_a_loss_off_by_its_regularisation_is_still_timed(graded):
    item = graded["reg_bug"]
    assert item.score == item.max_score, item.output
    assert "scored anyway" in item.output and _ratio(item) <= 3.0


def test_a_loss_that_is_not_finite_earns_no_timing_credit(graded):
    item = graded["nan_loss"]
    assert item.score == 0 and "finite loss" in item.output, item.output


# ---- the judging rule --------------------------------------------------------------------------

def test_follows_accepts_equal_shifted_and_scaled_losses_only():
    r = np.array([2.31, 2.27, 2.35, 2.29])
    assert timing.follows(r + 1e-6, r, 1e-4)
    assert timing.follows(r + 0.14, r, 1e-4)            # a wrong regularisation term
    assert timing.follows(50 * r + 0.1, r, 1e-4)        # a data loss summed, not averaged
    assert not timing.follows(np.full(4, 2.30), r, 1e-4)  # a constant
    assert not timing.follows(np.array([2.31, 2.30, 2.30, 2.30]), r, 1e-4)  # the first loss repeated
    assert not timing.follows(r[[0, 2, 1, 3]], r, 1e-4)   # plausible numbers, unrelated to the batches
    assert not timing.follows(-r, r, 1e-4)
    # with two points any line fits, so only a constant offset counts
    assert timing.follows(r[:2] + 0.5, r[:2], 1e-4)
    assert not timing.follows(2 * r[:2], r[:2], 1e-4)


def _observations(student_rounds, student_loss=2.3, seconds=(0.2, 0.1)):
    reference_rounds = [2.31, 2.27, 2.35]
    student = timing.graded_observation({"loss": np.array(student_loss), "seconds": np.array(1e-9)},
                                        seconds[0], student_rounds)
    reference = timing.graded_observation({"loss": np.array(2.3)}, seconds[1], reference_rounds)
    return student, reference


def test_the_judge_uses_the_graders_seconds_never_the_students():
    item = load_spec().item(TIMING)
    student, reference = _observations([2.31, 2.27, 2.35], seconds=(2.0, 0.1))
    outcome = timing.judge(item, {}, student, reference)
    assert outcome.data["student_seconds"] == 2.0 and outcome.fraction == 0.0


def test_the_judge_refuses_a_missing_or_unfinished_round():
    item = load_spec().item(TIMING)
    student, reference = _observations([2.31, None, 2.35])
    outcome = timing.judge(item, {}, student, reference)
    assert outcome.fraction == 0.0 and "no finite loss" in outcome.message
    student, reference = _observations([])
    assert timing.judge(item, {}, student, reference).fraction == 0.0


def test_the_in_process_timing_says_it_is_for_information_only():
    item = load_spec().item(TIMING)
    student = {"loss": np.array(2.0), "seconds": np.array(0.1), timing.CLOCK: np.array("in_process")}
    reference = {"loss": np.array(2.3), "seconds": np.array(0.1)}
    outcome = timing.judge(item, {}, student, reference)
    assert outcome.fraction == 1.0
    assert any("for your information only" in note for note in outcome.notes)
    assert any("scored anyway" in note for note in outcome.notes)
