"""Kind `model_forward`: ThreeLayerConvNet's loss (train mode) and scores (test mode).

Sequence per case: build the model with the case's parameters; loss, grads =
model.loss(X, y) (train mode: batchnorm updates its running statistics); the
"warmup.X"/"warmup.y" training passes, if any; scores = model.loss(X) (test
mode). Graded: `loss` and `scores`, from the forward pass alone: when the
backward pass raises after softmax_loss returned (models.LayerTap), the error
is kept for the note (the gradient item charges it) and the train-mode scores
and data loss that reached softmax_loss are graded in place of the loss.
Observed for the diagnosis: the train-mode scores and data loss (diag.train_scores,
diag.data_loss), the running statistics before and after loss(X) (diag.bn.<i>.*,
diag.bn_test.<i>.*), whether X changed.
Also graded: the initial parameters __init__ draws (statistics compared with the
reference's: weights N(0, weight_scale^2), biases and betas 0, gammas 1).

A case with "sequence.X" (cases.with_training_sequence) runs the Solver's order of
calls on one model instead: for each step t, loss, grads = model.loss(X_t, y_t),
then every parameter updated as the Solver writes it back (model.params[name] =
w - learning_rate * grads[name], a new array), then, after the steps
"sequence.test_after" marks, scores = model.loss(X_val) on the one validation
array. Graded: "seq.loss" (T,) the training losses and "seq.scores" (V, N_val,
num_classes) the test-mode scores. Observed for the diagnosis: the first step's
gradients (diag.seq.grad.<param>), the batchnorm calls of each training step that
ran in mode 'test' (diag.seq.test_mode_calls, (T,)) and of each test-mode pass that
ran in mode 'train' (diag.seq.train_mode_calls, (V,)), the running statistics after
the sequence (diag.seq.bn.<i>.*), whether X_val changed, and whether the test-mode
scores change when model.params[name] is replaced by a new array
(diag.seq.reads.<name>). A training step whose backward pass raises (after
softmax_loss returned: a model left in test mode gets no batchnorm cache) ends the
sequence: the error is kept (diag.seq.backward_error, with its step) and the steps and
passes before it are graded, the error failing the case.
"""
import json

import numpy as np

from autograder.checks import diagnosis, judging, models
from autograder.checks.calls import as_output_array, plain
from autograder.checks.kinds.base import Kind
from autograder.checks.observation import read_json, student_frame, text

GRADED = ("loss", "scores")
# graded instead of "loss" when only the backward pass failed
FORWARD_ONLY = ("diag.train_scores", "diag.data_loss", "scores")
BACKWARD_ERROR = "diag.backward_error"
SEQUENCE_GRADED = ("seq.loss", "seq.scores")
SEQUENCE_BACKWARD_ERROR = "diag.seq.backward_error"


def _train_pass(rec, tap, model, X, y, where):
    """model.loss(X, y) -> its loss; None when it raised after softmax_loss returned (the backward
    failed: recorded under BACKWARD_ERROR) or when it failed in the forward (rec.failed)."""
    outcome = {}
    with rec.student(where):
        tap.new_pass()
        try:
            result = model.loss(X, y)
        except Exception as exc:  # noqa: BLE001 - only a failure after the forward is kept here
            if not tap.loss_calls:
                raise
            if BACKWARD_ERROR not in rec.obs:
                rec.obs[BACKWARD_ERROR] = text(json.dumps({
                    "type": type(exc).__name__, "message": str(exc)[:500], "at": student_frame(exc)}))
            return None
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError("loss(X, y) should return (loss, grads), got a %s" % type(result).__name__)
        outcome["loss"] = result[0]
    return outcome.get("loss")


def observe(item, case, nndl_modules, probes=True):
    with models.tapped_layers(nndl_modules, case) as tap:
        if "sequence.X" in case:
            return _observe_sequence(item, case, nndl_modules, tap)
        return _observe(item, case, nndl_modules, tap)


def _observe(item, case, nndl_modules, tap):
    rec, model = models.student_model(item, case, nndl_modules)
    if model is None:
        return rec.finish()
    tap.prefill(model)
    X, y = plain(case["X"]), plain(case["y"])
    watched = {"X": X, "y": y}
    before = rec.snapshot(watched)
    loss = _train_pass(rec, tap, model, X, y, "ThreeLayerConvNet.loss(X, y)")
    if rec.failed:
        return rec.finish()
    if loss is not None:
        rec.output("loss", loss)
    if tap.train_scores is not None:
        rec.output("diag.train_scores", tap.train_scores)
    if tap.data_loss is not None:
        rec.output("diag.data_loss", tap.data_loss)
    if "warmup.X" in case:
        for batch_X, batch_y in zip(np.asarray(case["warmup.X"]), np.asarray(case["warmup.y"])):
            _train_pass(rec, tap, model, batch_X.copy(), batch_y.copy(),
                        "ThreeLayerConvNet.loss(X, y) (training passes)")
            if rec.failed:
                return rec.finish()
    models.observe_running_stats(rec, tap.running_stat_dicts(model))
    with rec.student("ThreeLayerConvNet.loss(X)"):
        scores = model.loss(X)
    if rec.failed:
        return rec.finish()
    rec.output("scores", scores)
    rec.check_unchanged("ThreeLayerConvNet.loss", watched, before)
    models.observe_running_stats(rec, tap.running_stat_dicts(model), prefix="diag.bn_test.")
    return rec.finish()


def _sgd_update(model, grads, learning_rate):
    """The Solver's update with plain SGD: every parameter, in model.params' order, replaced by a
    new array w - learning_rate * dw (cs231n/solver.py with nndl.optim.sgd). Trusted code: the
    update rules are graded elsewhere, the model's use of the updated params is graded here."""
    for name in list(model.params):
        if name not in grads:
            raise KeyError("loss(X, y) returned no gradient for params[%r]: the Solver updates "
                           "every parameter with grads[name]" % name)
        model.params[name] = model.params[name] - learning_rate * grads[name]


def _training_step(rec, tap, model, X, y, learning_rate, where):
    """One Solver step: loss(X, y), then the SGD update. {"loss": float, "grads": copies} when it
    ran; {"backward_error": {...}} when loss raised after softmax_loss returned (the backward
    pass failed: the step cannot update, the sequence ends there); None when it failed before
    (rec.failed)."""
    tap.new_pass()
    outcome = {}
    with rec.student(where):
        try:
            result = model.loss(X, y)
        except Exception as exc:  # noqa: BLE001 - only a failure after the forward is kept here
            if not tap.loss_calls:
                raise
            return {"backward_error": {"type": type(exc).__name__, "message": str(exc)[:500],
                                       "at": student_frame(exc)}}
        if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
            raise TypeError("loss(X, y) should return (loss, grads) with grads a dict, got %s"
                            % type(result).__name__)
        outcome["loss"] = float(result[0])   # as the Solver's loss_history does
        outcome["grads"] = {name: np.array(value, copy=True) for name, value in result[1].items()
                            if isinstance(value, np.ndarray)}
        _sgd_update(model, result[1], learning_rate)
    return None if rec.failed else outcome


def _params_read(rec, model, X_val):
    """{name: whether the model's test-mode scores change when model.params[name] alone is
    replaced by a new array (halved), as the Solver's updates replace it}; {} when that cannot
    be told. Diagnosis only: run after everything graded, each parameter put back after."""
    found = {}
    try:
        with rec.quiet():
            before = np.array(model.loss(X_val.copy()), dtype=np.float64)
            for name in list(model.params):
                original = model.params[name]
                model.params[name] = original * 0.5
                try:
                    after = np.array(model.loss(X_val.copy()), dtype=np.float64)
                finally:
                    model.params[name] = original
                found[name] = before.shape != after.shape or not np.array_equal(before, after,
                                                                                equal_nan=True)
    except Exception:  # noqa: BLE001 - diagnosis only
        return {}
    return found


def _stacked(results):
    """The test-mode passes' scores as one (V, N, num_classes) array; else the first result that
    is not an array of the first one's shape (recorded by its type, or compared as a wrong shape)."""
    arrays = [as_output_array(result) for result in results]
    for result, array in zip(results, arrays):
        if array is None or array.shape != arrays[0].shape:
            return result
    return np.stack(arrays)


def _observe_sequence(item, case, nndl_modules, tap):
    """The Solver's order of calls on one model (see the module docstring)."""
    rec, model = models.student_model(item, case, nndl_modules)
    if model is None:
        return rec.finish()
    tap.prefill(model)
    batches_X, batches_y = np.asarray(case["sequence.X"]), np.asarray(case["sequence.y"])
    test_after = np.asarray(case["sequence.test_after"], dtype=bool)
    learning_rate = float(np.asarray(case["sequence.learning_rate"]))
    # One validation array for every test-mode pass, as the Solver slices one X_val: a model that
    # writes into its input changes what the next pass sees.
    X_val = plain(case["sequence.X_val"])
    watched = {"X": X_val}
    before = rec.snapshot(watched)
    steps = len(test_after)
    losses, scores, test_mode_calls, train_mode_calls = [], [], [], []
    for t in range(steps):
        # the Solver's minibatch is a fresh copy (fancy indexing) at every step
        outcome = _training_step(rec, tap, model, batches_X[t].copy(), batches_y[t].copy(),
                                 learning_rate, "ThreeLayerConvNet.loss(X, y) (training step "
                                 "%d of %d)" % (t + 1, steps))
        if rec.failed:
            return rec.finish()
        test_mode_calls.append(sum(mode == "test" for mode in tap.bn_modes))
        if "backward_error" in outcome:
            rec.obs[SEQUENCE_BACKWARD_ERROR] = text(json.dumps(dict(outcome["backward_error"], step=t)))
            break
        losses.append(outcome["loss"])
        if t == 0:
            for name in models.case_params(case):
                if name in outcome["grads"]:
                    rec.output("diag.seq.grad." + name, outcome["grads"][name])
        if test_after[t]:
            tap.new_pass()
            with rec.student("ThreeLayerConvNet.loss(X) (test-mode pass after training step %d)"
                             % (t + 1)):
                scores.append(model.loss(X_val))
            if rec.failed:
                return rec.finish()
            train_mode_calls.append(sum(mode == "train" for mode in tap.bn_modes))
    rec.output("seq.loss", np.array(losses, dtype=np.float64))
    if scores:   # none when the first steps' backward pass raised
        rec.output("seq.scores", _stacked(scores))
    rec.put("diag.seq.test_mode_calls", np.array(test_mode_calls, dtype=np.int64))
    rec.put("diag.seq.train_mode_calls", np.array(train_mode_calls, dtype=np.int64))
    rec.check_unchanged("ThreeLayerConvNet.loss", watched, before)
    models.observe_running_stats(rec, tap.running_stat_dicts(model), prefix="diag.seq.bn.")
    # on both sides: the reference's says which parameters a correct model's scores depend on
    for name, read in _params_read(rec, model, X_val).items():
        rec.put("diag.seq.reads." + str(name), np.array(read))
    return rec.finish()


def graded_keys(student_obs):
    return FORWARD_ONLY if BACKWARD_ERROR in student_obs else GRADED


def _initialisation_problems(case, student_obs, reference_obs):
    return ["ThreeLayerConvNet.__init__: " + problem
            for problem in models.check_initial_values(
                student_obs, reference_obs, float(np.asarray(case.get("init.weight_scale", 0))))]


def _reached(case, student_obs, reference_obs):
    """The reference's observation cut to the steps and test-mode passes the student's sequence
    reached: a training step whose backward pass raised ends it (SEQUENCE_BACKWARD_ERROR)."""
    error = read_json(student_obs, SEQUENCE_BACKWARD_ERROR, None)
    if not isinstance(error, dict):
        return reference_obs
    step = int(error.get("step", 0))
    passes = int(np.sum(np.asarray(case["sequence.test_after"], dtype=bool)[:step]))
    cut = dict(reference_obs)
    cut["seq.loss"] = np.asarray(reference_obs["seq.loss"])[:step]
    if passes:
        cut["seq.scores"] = np.asarray(reference_obs["seq.scores"])[:passes]
    else:
        cut.pop("seq.scores", None)
    return cut


def _judge_sequence(item, case, student_obs, reference_obs):
    """A training sequence: its losses and test-mode scores, step by step."""
    reference_obs = _reached(case, student_obs, reference_obs)
    mismatches = judging.compare_keys(item, student_obs, reference_obs, SEQUENCE_GRADED)
    explanations = diagnosis.sequence_steps(case, student_obs, reference_obs, mismatches)
    # the first rule that explains the failure: the probed stale weights, wrong gradients (every
    # later step follows them), then the state rules that assume right gradients
    hints = []
    for rule in (diagnosis.sequence_stale_params, diagnosis.sequence_gradients,
                 diagnosis.sequence_left_in_test_mode, diagnosis.sequence_test_scores,
                 diagnosis.sequence_state):
        hints = rule(case, student_obs, reference_obs, mismatches)
        if hints:
            break
    # evidence that the gradients (graded by the gradient item) explain the failure, for a rule
    # that charges such a cause once
    # (a backward pass that raised ends the sequence: the gradient item charges the crash)
    stopped = isinstance(read_json(student_obs, SEQUENCE_BACKWARD_ERROR, None), dict)
    data = {"gradients_explain": True} if stopped or (
        rule is diagnosis.sequence_gradients and hints) else {}
    explanations += _initialisation_problems(case, student_obs, reference_obs)
    return judging.conclude(item, case, student_obs, reference_obs, SEQUENCE_GRADED, mismatches,
                            explanations=explanations, hints=hints, data=data)


def judge(item, case, student_obs, reference_obs):
    if "sequence.X" in case:
        return _judge_sequence(item, case, student_obs, reference_obs)
    keys = graded_keys(student_obs)
    mismatches = judging.compare_keys(item, student_obs, reference_obs, keys)
    hints = diagnosis.cnn_test_mode(case, student_obs, reference_obs, mismatches)
    hints += diagnosis.softmax_fudge_epsilon(case, student_obs, reference_obs, mismatches)
    evidence = diagnosis.cnn_loss_evidence(case, student_obs, reference_obs, mismatches)
    hints += evidence.pop("hints", [])
    explanations = _initialisation_problems(case, student_obs, reference_obs)
    outcome = judging.conclude(item, case, student_obs, reference_obs, keys, mismatches,
                               explanations=explanations, hints=hints, data=evidence)
    backward = read_json(student_obs, BACKWARD_ERROR, None)
    if isinstance(backward, dict):
        note = ("Your loss(X, y) raised %s: %s in the backward pass%s, after the forward pass: "
                "the gradient item counts it; this item graded the forward pass (the scores and "
                "data loss reaching softmax_loss, and loss(X))."
                % (backward.get("type", "an error"), backward.get("message", ""),
                   " (in your %s)" % backward["at"] if backward.get("at") else ""))
        outcome.notes.insert(0, note)
    return outcome


KIND = Kind("model_forward", observe, judge)
