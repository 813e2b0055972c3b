"""The numerical probes of gradient items run in a second pass, only for an item that does not
pass (autograder/grade/probe_pass.py): the verdict must be the one-pass verdict, with the
probes' diagnosis, and no other kind may read `probes`."""
import shutil

import numpy as np
import pytest

from autograder.checks import judge_all, kinds, observe_all
from autograder.checks.loading import load_nndl
from autograder.grade import adapter, probe_pass
from tests.autograder.grade import helpers

CONV_GRADIENT = "conv_layers.conv_backward_naive.gradient"
MODEL_GRADIENT = "cnn.ThreeLayerConvNet.loss.gradient"
SEED = 7   # grade_into's seed
PROBE_KEYS = ("num.", "derived.", "diag.probe_failed", "diag.derived_failed")


def _same(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        numeric = x.dtype.kind in "fc" and y.dtype.kind in "fc"
        assert np.array_equal(x, y, equal_nan=numeric), key


def test_only_the_probing_kinds_read_probes(test_spec):
    """Every other kind observes the same with and without probes; the probing kinds add
    probe keys only (so the first pass sees what the graded calls give)."""
    spec = adapter.load_spec(str(test_spec))
    reference = load_nndl(helpers.SOLUTIONS_NNDL)
    seen, probed_kinds = set(), set()
    for item in spec.items:
        if kinds.declares(item.kind, "measures_time") or \
                kinds.declares(item.kind, "grades_saved_model") or item.kind in seen:
            continue   # timing measures the clock; accuracy needs a model file
        seen.add(item.kind)
        cases = adapter.draw_cases(item, SEED)
        plain = observe_all(item, cases, reference, probes=False)
        probed = observe_all(item, cases, reference, probes=True)
        for a, b in zip(plain, probed):
            if probe_pass.probing(item):
                extra = set(b) - set(a)   # none on a float32 case
                assert all(k.startswith(PROBE_KEYS) for k in extra), item.id
                probed_kinds.update([item.kind] if extra else [])
                _same(a, {k: v for k, v in b.items() if k in a})
            else:
                _same(a, b)
    assert {name for name in kinds.names() if kinds.declares(name, "reads_probes")} == probed_kinds


def _broken(tmp_path):
    """The reference with a doubled dw in conv_backward_naive and a doubled W3 gradient."""
    folder = helpers.reference_submission(tmp_path / "broken")
    conv = folder / "nndl" / "conv_layers.py"
    text = conv.read_text()
    assert text.count("    return dx, dw, db\n") == 1
    conv.write_text(text.replace("    return dx, dw, db\n", "    return dx, 2 * dw, db\n"))
    cnn = folder / "nndl" / "cnn.py"
    line = "dh2, grads['W3'], grads['b3'] = affine_backward(dscores, cache3)"
    text = cnn.read_text()
    assert text.count(line) == 1
    cnn.write_text(text.replace(line, line + "; grads['W3'] = 2 * grads['W3']"))
    return folder


def test_a_failing_gradient_item_gets_the_one_pass_verdict_with_its_diagnosis(
        tmp_path, grade_into, test_spec):
    folder = _broken(tmp_path)
    result, _ = grade_into(folder, items="%s,%s" % (CONV_GRADIENT, MODEL_GRADIENT))
    spec = adapter.load_spec(str(test_spec))
    broken, reference = load_nndl(folder / "nndl"), load_nndl(helpers.SOLUTIONS_NNDL)
    graded = {item.item_id: item for item in result.items}
    for item_id in (CONV_GRADIENT, MODEL_GRADIENT):
        item = spec.item(item_id)
        cases = adapter.draw_cases(item, SEED)
        # the single pass: probes in the student's observations from the start
        expected = judge_all(item, cases, observe_all(item, cases, broken),
                             observe_all(item, cases, reference, probes=False))
        assert not expected.passed
        assert graded[item_id].score == expected.score < graded[item_id].max_score
        assert graded[item_id].output == expected.output
    assert "disagrees with the numerical gradient" in graded[CONV_GRADIENT].output
    shutil.rmtree(folder)


def test_a_passing_gradient_item_is_observed_once_without_probes(tmp_path, grade_into,
                                                                  monkeypatch):
    from autograder.grade import items
    calls = []
    observe = items.student_observe

    def counted(ctx, item, case, timeout, probes=True):
        calls.append((item.id, probes))
        return observe(ctx, item, case, timeout, probes=probes)

    monkeypatch.setattr(items, "student_observe", counted)
    result, _ = grade_into(helpers.reference_submission(tmp_path / "ref"), items=CONV_GRADIENT)
    assert result.items[0].passed
    assert calls and all(probes is False for _, probes in calls)
    assert len(calls) == len(adapter.draw_cases(
        adapter.load_spec(str(helpers.SPEC)).item(CONV_GRADIENT), SEED))


def test_a_case_whose_probed_call_fails_keeps_its_first_observation():
    first = [{"dx": np.zeros(2)}, {"error": np.array("ValueError")}, {"dx": np.ones(2)}]
    seen = []

    def probed(case, seconds):
        seen.append(case)
        return {"error": np.array("TimeLimitExceeded")} if case == "c" else {"dx": case}

    again = probe_pass.observed_with_probes(["a", "b", "c"], first, lambda: 5.0, probed)
    assert seen == ["a", "c"]                    # an errored case is not observed again
    assert again[0] == {"dx": "a"} and again[1] is first[1] and again[2] is first[2]
    assert probe_pass.observed_with_probes(["a"], first[:1], lambda: 0.0, probed) == first[:1]
