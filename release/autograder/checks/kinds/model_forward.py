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
"""
import json

import numpy as np

from autograder.checks import diagnosis, judging, models
from autograder.checks.calls import plain
from autograder.checks.kinds.base import Kind
from autograder.checks.observation import read_json, student_frame, text

GRADED = ("loss", "scores")
# graded instead of "loss" when only the backward pass failed
FORWARD_ONLY = ("diag.train_scores", "diag.data_loss", "scores")
BACKWARD_ERROR = "diag.backward_error"


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


def graded_keys(student_obs):
    return FORWARD_ONLY if BACKWARD_ERROR in student_obs else GRADED


def judge(item, case, student_obs, reference_obs):
    keys = graded_keys(student_obs)
    mismatches = judging.compare_keys(item, student_obs, reference_obs, keys)
    hints = diagnosis.cnn_test_mode(case, student_obs, reference_obs, mismatches)
    hints += diagnosis.softmax_fudge_epsilon(case, student_obs, reference_obs, mismatches)
    evidence = diagnosis.cnn_loss_evidence(case, student_obs, reference_obs, mismatches)
    hints += evidence.pop("hints", [])
    explanations = ["ThreeLayerConvNet.__init__: " + problem
                    for problem in models.check_initial_values(
                        student_obs, reference_obs, float(np.asarray(case.get("init.weight_scale", 0))))]
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
