"""The pure judging parts: the relative error, timing and accuracy credit,
the gradient-source messages, and visible expected values on disk."""
import dataclasses

import numpy as np

from autograder.checks import judge_all, kinds, run_item_in_process
from autograder.checks.kinds import accuracy, timing
from autograder.checks.compare import compare_output, relative_error
from autograder.checks.outcome import CheckOutcome
from autograder.checks.visible import load_visible_expected, write_visible_expected
from autograder.spec import load_spec

from tests.autograder.checks import support


def test_relative_error_uses_the_floor_only_near_zero():
    expected = np.array([1.0, 1e-12])
    # an absolute error of 1e-15 on the near-zero entry is rounding, not a bug
    assert relative_error(expected + [0, 1e-15], expected, 1e-6) < 1e-8
    # 1% on a large entry is a bug
    assert relative_error(expected * [1.01, 1], expected, 1e-6) > 4e-3
    # NaN only in the actual output
    assert relative_error([np.nan, 1e-12], expected, 1e-6) == np.inf
    assert relative_error(expected, expected, 0.0) == 0.0


def test_compare_output_names_the_problem():
    e = np.zeros((2, 3), dtype=np.float32)
    assert compare_output("out", None, e, 1e-4, 1e-2).kind == "missing"
    assert compare_output("out", np.zeros((3, 2), np.float32), e, 1e-4, 1e-2).kind == "shape"
    # a dtype difference is not a mismatch: the values decide (dtype_note says it)
    assert compare_output("out", np.zeros((2, 3)), e, 1e-4, 1e-2) is None
    assert compare_output("out", np.full((2, 3), np.nan, np.float32), e, 1e-4, 1e-2).kind == "nan"
    assert compare_output("out", np.ones((2, 3), np.float32), e, 1e-4, 1e-2).kind == "value"
    assert compare_output("out", np.array(["a"]), e, 1e-4, 1e-2).kind == "type"
    assert compare_output("out", e.copy(), e, 1e-4, 1e-2) is None
    # a scalar loss may be a Python float for float32 inputs
    assert compare_output("loss", np.array(2.5), np.float32(2.5), 1e-4, 1e-2) is None


def test_tolerance_follows_the_looser_of_the_two_dtypes():
    from autograder.checks.compare import dtype_note, tolerances
    item = load_spec().item("conv_layers.conv_forward_naive.forward_secret")
    f32, f64 = np.ones(3, np.float32), np.ones(3)
    loose = tolerances(item, f32)
    assert tolerances(item, f64) == (item.tolerance, 1e-6)
    assert tolerances(item, f32, f64) == loose and tolerances(item, f64, f32) == loose
    # exact float64 values of a float32 case pass; values off by 1e-3 do not
    assert compare_output("out", f64 * (1 + 1e-6), f32, *loose) is None
    assert compare_output("out", f64 * (1 + 1e-3), f32, *loose).kind == "value"
    assert "float64" in dtype_note("out", f64, f32)
    assert dtype_note("out", f32, f32) is None
    assert dtype_note("loss", 2.5, np.float32(2.5)) is None  # a Python float loss is fine


def test_timing_credit_scale():
    assert timing.credit(1.0, 3.0, 12.0) == 1.0
    assert timing.credit(3.0, 3.0, 12.0) == 1.0
    assert timing.credit(7.5, 3.0, 12.0) == 0.5
    assert timing.credit(20.0, 3.0, 12.0) == 0.0


def _timing_judge(student_seconds, student_loss=2.3):
    item = load_spec().item("cnn.ThreeLayerConvNet.loss.timing")
    student = {"seconds": np.array(student_seconds), "loss": np.array(student_loss)}
    reference = {"seconds": np.array(1.0), "loss": np.array(2.3)}
    return timing.judge(item, {}, student, reference)


def test_timing_judge_scores_the_ratio_of_any_finite_loss():
    assert _timing_judge(2.0).fraction == 1.0
    slow = _timing_judge(7.5)
    assert slow.fraction == 0.5 and "naive" in slow.hints[0]
    wrong = _timing_judge(0.1, student_loss=0.0)   # a wrong loss costs the forward item, not this
    assert wrong.fraction == 1.0 and "scored anyway" in " ".join(wrong.notes)
    broken = _timing_judge(0.1, student_loss=np.nan)
    assert broken.fraction == 0.0 and "finite loss" in broken.message


def test_accuracy_credit_and_judge():
    item = load_spec().item("cnn.ThreeLayerConvNet.accuracy")
    assert accuracy.credit(0.70, 0.40, 0.65) == 1.0
    assert accuracy.credit(0.525, 0.40, 0.65) == 0.5
    assert accuracy.credit(0.30, 0.40, 0.65) == 0.0
    labels = np.arange(100) % 10
    case = accuracy.build_case("model.npz", {"val": (np.zeros((100, 1)), labels),
                                             "heldout": (np.zeros((100, 1)), labels)})
    assert "y.val" not in accuracy.sandbox_case(case)
    right = labels.copy()
    half = np.where(np.arange(100) < 52, labels, (labels + 1) % 10)   # 52% correct
    outcome = accuracy.judge(item, case, {"pred.val": half, "pred.heldout": half})
    assert abs(outcome.fraction - (0.52 - 0.40) / 0.25) < 1e-9
    # tuned on validation: held-out much worse caps the credited accuracy
    wrong = (labels + 1) % 10
    outcome = accuracy.judge(item, case, {"pred.val": right, "pred.heldout": np.where(np.arange(100) < 45, labels, wrong)})
    assert abs(outcome.fraction - (0.55 - 0.40) / 0.25) < 1e-9 and outcome.hints
    assert accuracy.judge(item, case, {"pred.val": right[:10], "pred.heldout": right}).status == "error"


def test_accuracy_trust_is_decided_on_the_images_the_reference_classified():
    # The reference classifies the first agreement_images of the validation images, the
    # student's code all of them: agreement compares the shared prefix only, and the
    # validation accuracy stays the student's code's on every image.
    item = load_spec().item("cnn.ThreeLayerConvNet.accuracy")
    labels = np.arange(1000) % 10
    case = accuracy.build_case("model.npz", {"val": (np.zeros((1000, 1)), labels),
                                             "heldout": (np.zeros((1000, 1)), labels)})
    student = np.where(np.arange(1000) < 700, labels, (labels + 1) % 10)   # 70% correct
    heldout = np.where(np.arange(1000) < 600, labels, (labels + 1) % 10)   # 60% correct
    shared = {"pred.val": student[:500].copy(), "pred.heldout": heldout}
    assert accuracy.agreement({"pred.val": student}, shared) == 1.0
    assert accuracy.evaluation(item, {"pred.val": student}, shared)[0] == accuracy.TRUSTED
    outcome = accuracy.judge(item, case, {"pred.val": student}, shared)
    assert outcome.data["val"] == 0.7 and outcome.data["heldout"] == 0.6
    assert "of 500 validation images" in " ".join(outcome.notes + [outcome.message])
    # 11 of the 500 differ (97.8%): below trusted_agreement, the student's code decides
    differs = dict(shared, **{"pred.val": np.where(np.arange(500) < 11, (student[:500] + 1) % 10,
                                                   student[:500])})
    assert accuracy.agreement({"pred.val": student}, differs) == 0.978
    assert accuracy.evaluation(item, {"pred.val": student}, differs)[0] == accuracy.STUDENT_CODE
    # differences beyond the shared prefix do not count; fewer predictions than it fail
    beyond = np.where(np.arange(1000) >= 500, (student + 1) % 10, student)
    assert accuracy.agreement({"pred.val": beyond}, shared) == 1.0
    assert accuracy.agreement({"pred.val": student[:400]}, shared) == 0.0


def test_accuracy_observe_rebuilds_the_saved_model_with_the_students_class(tmp_path):
    from cs231n.model_io import save_model
    cnn = support.reference()["cnn"]
    model = cnn.ThreeLayerConvNet(input_dim=(3, 32, 32), num_filters=4, filter_size=3, hidden_dim=8,
                                  dtype=np.float64, weight_scale=0.1)
    save_model(model, str(tmp_path / "m.npz"))
    X = np.random.default_rng(0).standard_normal((12, 3, 32, 32))
    y = np.argmax(model.loss(X), axis=1)
    item = load_spec().item("cnn.ThreeLayerConvNet.accuracy")
    case = accuracy.build_case(tmp_path / "m.npz", {"val": (X, y), "heldout": (X, y)})
    obs = accuracy.observe(item, accuracy.sandbox_case(case), support.reference())
    assert np.array_equal(obs["pred.val"], y)
    assert accuracy.judge(item, case, obs).fraction == 1.0


def test_pass_fail_and_error_statuses_of_an_item():
    item = load_spec().item("conv_layers.conv_forward_naive.forward_secret")
    cases, reference = support.expected(item.id)
    result = judge_all(item, cases, reference, reference)
    assert (result.status, result.score) == ("passed", item.points)
    broken = [dict(r, out=r["out"] * 2) for r in reference]
    assert judge_all(item, cases, broken, reference).status == "failed"


def test_per_case_scoring_gives_a_share():
    from dataclasses import replace
    item = replace(load_spec().item("conv_layers.conv_forward_naive.forward_secret"), scoring="per_case")
    cases, reference = support.expected(item.id)
    mixed = [dict(r, out=r["out"] * 2) if i == 0 else r for i, r in enumerate(reference)]
    result = judge_all(item, cases, mixed, reference)
    core = item.groups[0]
    core_cases = sum(1 for case in cases if case["_group"] == core.name)
    # per case within each group: the first core case's part of the core's share is lost
    assert abs(result.score - item.points * (1 - core.share / core_cases)) < 1e-3


def test_visible_expected_is_deterministic_and_equivalent_to_the_reference(tmp_path):
    a = write_visible_expected(tmp_path / "a.npz", reference_modules=support.reference())
    b = write_visible_expected(tmp_path / "b.npz", reference_modules=support.reference())
    assert a.read_bytes() == b.read_bytes()
    with np.load(a, allow_pickle=False) as data:
        assert data.files
    spec = load_spec(visible_only=True)
    for item in spec.items:
        if not kinds.kind(item.kind).compares_outputs:
            continue
        expected = load_visible_expected(a, item.id)
        from_file = run_item_in_process(item, support.reference(), expected=expected)
        direct = run_item_in_process(item, support.reference(), reference_modules=support.reference())
        assert from_file.status == direct.status == "passed"
        assert len(expected[0]) == len(direct.outcomes)


def test_check_outcome_fraction_is_clamped():
    item = load_spec().item("conv_layers.conv_forward_naive.forward")
    cases, reference = support.expected(item.id)

    overpaid = kinds.Kind("overpaid", kinds.kind(item.kind).observe,
                          lambda *args: CheckOutcome(3.0, "passed", ""))
    with kinds.registered(overpaid):
        result = judge_all(dataclasses.replace(item, kind="overpaid"), cases, reference, reference)
    assert result.score == item.points


def test_the_hints_of_mismatch_kinds_come_once_each_nan_first():
    from autograder.checks.compare import Mismatch
    from autograder.checks.diagnosis import mismatch_hints
    found = [Mismatch("dx", "shape", ""), Mismatch("out", "nan", ""), Mismatch("dw", "shape", "")]
    hints = mismatch_hints(found)
    assert len(hints) == 2 and hints[0].startswith("NaN appeared")
    assert "H' = 1 + (H + 2 * pad - HH) // stride for a convolution" in hints[1]
    assert mismatch_hints([Mismatch("dx", "value", "")]) == []
