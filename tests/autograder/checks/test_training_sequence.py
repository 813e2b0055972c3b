"""Training sequences (model_forward cases with "sequence.X"): the Solver's order of calls on one
model. The reference and correct layouts pass; each planted state bug, first shown to differ from
the reference under the kit's own Solver (no grader involved), fails the sequence with its hint,
and the bugs that one call per case cannot see pass today's non-sequence items."""
import dataclasses
import functools

import numpy as np
import pytest

from autograder.checks import diagnosis, make_cases, observe_all, run_item_in_process
from autograder.checks.cases import CASES, tags_of
from autograder.checks.compare import Mismatch
from autograder.checks.loading import load_nndl

from tests.autograder.checks import support
from tests.autograder.checks.test_conventions import CORRECT_LAYOUTS
from tests.fairness.build import write_nndl
from tests.fairness.variants import CORRECT

CNN = "cnn.py"
FORWARD = "cnn.ThreeLayerConvNet.loss.forward"
GRADIENT = "cnn.ThreeLayerConvNet.loss.gradient"
BUILDERS = ("cnn_training_sequence", "cnn_training_sequence_bn")

_UNPACK = ("        W1, b1 = self.params['W1'], self.params['b1']\n"
           "        W2, b2 = self.params['W2'], self.params['b2']\n"
           "        W3, b3 = self.params['W3'], self.params['b3']\n")
_MODE = ("        mode = 'test' if y is None else 'train'\n"
         "        for bn_param in self.bn_params:\n"
         "            bn_param['mode'] = mode\n")
_CAST = "        for k, v in self.params.items():\n            self.params[k] = v.astype(dtype)\n"

# name: (edits of the reference cnn.py, the hint its sequence failure carries, the first training
# step (0-based) the kit's Solver sees a different loss at, whether one call per case shows it)
PLANTED = {
    # the weights unpacked into an attribute on the first call and used ever after
    "weights_kept_from_the_first_call": (
        [(_UNPACK, _UNPACK.replace("self.params[", "self.weights[").replace(
            "        W1, b1", "        if not hasattr(self, 'weights'):\n"
                              "            self.weights = dict(self.params)\n        W1, b1", 1))],
        diagnosis.STALE_PARAMS_AFTER_UPDATE, 1, False),
    # the weights copied into attributes in __init__: the grader's parameters never reach them
    "weights_copied_at_init": (
        [(_CAST, _CAST + "        self.weights = dict(self.params)\n"),
         (_UNPACK, _UNPACK.replace("self.params[", "self.weights["))],
        diagnosis.STALE_PARAMS, 1, True),
    # the mode set only for a test-mode call, never back to 'train'
    "loss_x_leaves_the_model_in_test_mode": (
        [(_MODE, "        if y is None:\n"
                 "            for bn_param in self.bn_params:\n"
                 "                bn_param['mode'] = 'test'\n")],
        diagnosis.LEFT_IN_TEST_MODE, 1, False),
    # "forgot to zero the gradients": each call's gradients added to the last call's, kept on self
    "gradients_accumulated_across_calls": (
        [("        return loss, grads",
          "        previous = getattr(self, 'grads', {})\n"
          "        grads = {k: v + previous.get(k, 0) for k, v in grads.items()}\n"
          "        self.grads = grads\n"
          "        return loss, grads")],
        "Your first training steps are right (loss and gradients) but a later one is not", 2, False),
}


def sequence_item(builders=BUILDERS):
    """The forward item graded on the training sequences (the spec does not list them yet)."""
    return dataclasses.replace(support.spec().item(FORWARD), cases=tuple(builders))


@functools.lru_cache(maxsize=None)
def expected(builders=BUILDERS, seed=support.SEED):
    """(cases, reference observations) of the sequence item, computed once."""
    item = sequence_item(builders)
    cases = make_cases(item, np.random.default_rng(seed))
    return cases, observe_all(item, cases, support.reference(), probes=False)


def grade_sequence(folder, builders=BUILDERS):
    return run_item_in_process(sequence_item(builders), load_nndl(folder), expected=expected(builders))


def solver_losses(cnn_module, use_batchnorm):
    """The loss history of the kit's Solver (plain SGD) training the module's ThreeLayerConvNet on
    a small fixed set: 4 steps, the accuracy check (test-mode passes) after the first one."""
    from cs231n.solver import Solver
    rng = np.random.default_rng(7)
    data = {"X_train": rng.standard_normal((16, 2, 6, 6)) + 0.5, "y_train": rng.integers(0, 3, 16),
            "X_val": 1.5 * rng.standard_normal((6, 2, 6, 6)) - 0.3, "y_val": rng.integers(0, 3, 6)}
    np.random.seed(0)   # the same initial weights for every variant
    model = cnn_module.ThreeLayerConvNet(input_dim=(2, 6, 6), num_filters=3, filter_size=3,
                                         hidden_dim=5, num_classes=3, weight_scale=0.3,
                                         reg=0.05, dtype=np.float64, use_batchnorm=use_batchnorm)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 0.1},
                    batch_size=4, num_epochs=1, num_train_samples=8, verbose=False, seed=1)
    try:
        solver.train()
    except Exception:  # noqa: BLE001 - a step that raises ends the history there (first_difference)
        pass
    return np.array(solver.loss_history)


def first_difference(a, b):
    """The first step whose loss differs between two histories; a history that stops early (its
    step raised) differs at the step it stopped at."""
    common = min(len(a), len(b))
    different = np.flatnonzero(~np.isclose(a[:common], b[:common], rtol=1e-9, atol=0))
    if different.size:
        return int(different[0])
    return None if len(a) == len(b) else common


def test_the_sequence_cases_are_small_even_square_float64_and_deterministic():
    for name in BUILDERS:
        a, b = CASES[name](np.random.default_rng(3)), CASES[name](np.random.default_rng(3))
        assert 1 <= len(a) <= 2
        for case, again in zip(a, b):
            T, N, C, H, W = case["sequence.X"].shape
            assert H == W and H % 2 == 0 and case["sequence.X"].dtype == np.float64
            assert case["sequence.y"].shape == (T, N) and case["sequence.test_after"].shape == (T,)
            assert case["sequence.X_val"].shape[1:] == (C, H, W)
            # two training steps before the first test-mode pass, training after it
            assert list(case["sequence.test_after"][:2]) == [False, True]
            assert not case["sequence.test_after"][2]
            assert all(np.array_equal(case[k], again[k]) for k in case if not k.startswith("_"))
    assert "batchnorm" in tags_of(CASES["cnn_training_sequence_bn"](np.random.default_rng(0))[0])
    assert "batchnorm" not in tags_of(CASES["cnn_training_sequence"](np.random.default_rng(0))[0])


def test_the_reference_passes_and_records_the_sequence():
    result = grade_sequence(support.SOLUTIONS_NNDL)
    assert result.score == result.max_score, result.output
    cases, observations = expected()
    for case, obs in zip(cases, observations):
        steps = case["sequence.test_after"].shape[0]
        passes = int(case["sequence.test_after"].sum())
        assert obs["seq.loss"].shape == (steps,)
        assert obs["seq.scores"].shape == (passes, case["sequence.X_val"].shape[0],
                                           int(case["init.num_classes"]))
        # the parameters move: every step's loss and every pass's scores differ from the last
        assert np.all(np.abs(np.diff(obs["seq.loss"])) > 1e-3)
        assert np.abs(obs["seq.scores"][1] - obs["seq.scores"][0]).max() > 1e-3


def test_the_sequence_is_deterministic_for_a_generator():
    item = sequence_item()
    runs = [observe_all(item, make_cases(item, np.random.default_rng(11)), support.reference())
            for _ in range(2)]
    for first, second in zip(*runs):
        for key in ("seq.loss", "seq.scores"):
            assert np.array_equal(first[key], second[key])


@pytest.mark.parametrize("name", sorted(CORRECT_LAYOUTS))
def test_correct_model_layouts_pass_the_sequence(name, tmp_path):
    result = grade_sequence(support.variant(tmp_path, {CNN: CORRECT_LAYOUTS[name]}))
    assert result.score == result.max_score, result.output


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.name)
def test_the_fairness_suites_correct_styles_pass_the_sequence(variant, tmp_path):
    result = grade_sequence(write_nndl(tmp_path, variant.replaces))
    assert result.score == result.max_score, result.output


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_state_bug_changes_training_under_the_kits_solver(name, tmp_path):
    edits, _, first_step, _ = PLANTED[name]
    variant = load_nndl(support.variant(tmp_path, {CNN: edits}))["cnn"]
    reference = support.reference()["cnn"]
    ours, theirs = solver_losses(variant, True), solver_losses(reference, True)
    assert first_difference(ours, theirs) == first_step, (ours, theirs)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_state_bug_fails_the_sequence_with_its_hint(name, tmp_path):
    edits, hint, _, _ = PLANTED[name]
    result = grade_sequence(support.variant(tmp_path, {CNN: edits}))
    assert result.score < result.max_score and result.status == "failed", result.output
    assert "Hint: " + hint in result.output, result.output
    # and no other planted bug's hint: each rule needs its own evidence
    others = {h for n, (_, h, _, _) in PLANTED.items() if h != hint}
    assert not any("Hint: " + other in result.output for other in others), result.output


@pytest.mark.parametrize("name", sorted(n for n, (_, _, _, shows) in PLANTED.items() if not shows))
def test_state_bugs_one_call_per_case_misses_cost_the_forward_items_sequence_groups(name, tmp_path):
    edits = PLANTED[name][0]
    folder = support.variant(tmp_path, {CNN: edits})
    forward = support.spec().item(FORWARD)
    # without the sequences, the forward item's one-call cases do not see the bug
    one_call = dataclasses.replace(forward, cases=tuple(b for b in forward.cases if b not in BUILDERS))
    assert run_item_in_process(one_call, load_nndl(folder), reference_modules=support.reference(),
                               rng=np.random.default_rng(support.SEED)).passed
    results = support.grade(folder, [forward, support.spec().item(GRADIENT)])
    lost = support.lost_points(results)
    assert set(lost) == {FORWARD}, {k: r.output for k, r in results.items()}
    failed = {g.name for g in results[FORWARD].groups if g.status != "passed"}
    sequence_groups = {forward.group_of_builder(b).name for b in BUILDERS}
    assert failed and failed <= sequence_groups
    assert lost[FORWARD] == pytest.approx(sum(g.points for g in results[FORWARD].groups
                                              if g.name in failed))


def test_leaving_the_model_in_test_mode_fails_only_the_batchnorm_sequence(tmp_path):
    edits = PLANTED["loss_x_leaves_the_model_in_test_mode"][0]
    result = grade_sequence(support.variant(tmp_path, {CNN: edits}))
    cases, _ = expected()
    statuses = {"batchnorm" in tags_of(c): o.status for c, o in zip(cases, result.outcomes)}
    assert statuses == {False: "passed", True: "failed"}, result.output
    # the first step after the test pass: the reference's batchnorm gives no cache in test mode
    assert "Training step 3 of 4 raised TypeError" in result.output, result.output
    assert "in the backward pass (in your batchnorm_backward" in result.output
    assert "(the steps before it match)" in result.output


@pytest.mark.parametrize("edits, hint", [
    # loss(X) never switches batchnorm to test mode
    ([("mode = 'test' if y is None else 'train'", "mode = 'train'")],
     "Your loss(X) ran its batchnorm layers in mode 'train'"),
    # a new bn_param dict on every call: the running statistics never outlive it
    ([("self.bn_params[0]", "{'mode': mode}"), ("self.bn_params[1]", "{'mode': mode}")],
     "The batchnorm running statistics after the training steps differ"),
])
def test_test_mode_bugs_fail_the_test_passes_only_and_are_named(edits, hint, tmp_path):
    result = grade_sequence(support.variant(tmp_path, {CNN: edits}))
    cases, _ = expected()
    statuses = {"batchnorm" in tags_of(c): o.status for c, o in zip(cases, result.outcomes)}
    assert statuses == {False: "passed", True: "failed"}, result.output
    assert "seq.loss differs" not in result.output      # training is right
    assert "Hint: Your training steps are right but the test-mode scores" in result.output
    assert hint in result.output, result.output


@pytest.mark.parametrize("edit", [
    ("        return loss, grads", "        grads['W3'] = 2 * grads['W3']\n        return loss, grads"),
    ("        return loss, grads", "        grads['b3'] = grads['b3'] + 0.1\n        return loss, grads"),
])
def test_a_wrong_gradient_is_named_as_the_cause_of_what_follows(edit, tmp_path):
    result = grade_sequence(support.variant(tmp_path, {CNN: [edit]}))
    assert result.status == "failed"
    assert result.hints == [diagnosis.WRONG_GRADIENTS], result.output
    failing = [o for o in result.outcomes if o.status != "passed"]
    assert failing and all(o.data.get("gradients_explain") for o in failing)


def test_writing_into_the_validation_batch_fails_the_sequence_with_the_writes_hint(tmp_path):
    # the images scaled in place after the forward pass: the Solver's next check sees other images
    edits = {CNN: [("        if y is None:\n            return scores\n",
                    "        X *= 0.5\n        if y is None:\n            return scores\n")]}
    result = grade_sequence(support.variant(tmp_path, edits))
    assert result.status == "failed"
    assert "ThreeLayerConvNet.loss wrote into its argument X" in result.output, result.output


def test_the_stale_parameter_rule_needs_the_observed_pattern():
    case = CASES["cnn_training_sequence"](np.random.default_rng(0))[0]
    reference = {"seq.loss": np.array([1.0, 2.0, 3.0, 4.0]), "diag.seq.grad.W1": np.ones(3),
                 "diag.seq.reads.W1": np.array(True), "diag.seq.reads.b1": np.array(True)}
    wrong_later = {"seq.loss": np.array([1.0, 2.5, 3.0, 4.0]), "diag.seq.grad.W1": np.ones(3)}
    reads_all = dict(wrong_later, **{"diag.seq.reads.W1": np.array(True),
                                     "diag.seq.reads.b1": np.array(True)})
    reads_b1 = dict(reads_all, **{"diag.seq.reads.W1": np.array(False)})
    # the probe says every parameter is read: not this rule, whatever the pattern
    assert diagnosis.sequence_stale_params(case, reads_all, reference, []) == []
    assert diagnosis.sequence_stale_params(case, reads_b1, reference, []) == \
        [diagnosis.STALE_PARAMS_AFTER_UPDATE + " Replacing params['W1'] changed nothing."]
    # without the probe: right loss and gradients at the first step, wrong at the second
    assert diagnosis.sequence_stale_params(case, wrong_later, reference, []) == \
        [diagnosis.STALE_PARAMS_AFTER_UPDATE]
    wrong_gradient = dict(wrong_later, **{"diag.seq.grad.W1": np.full(3, 2.0)})
    assert diagnosis.sequence_stale_params(case, wrong_gradient, reference, []) == []
    # every step right: nothing to explain
    assert diagnosis.sequence_stale_params(case, dict(reads_b1, **{"seq.loss": reference["seq.loss"]}),
                                           reference, []) == []
