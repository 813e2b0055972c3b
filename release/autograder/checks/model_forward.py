"""Kind `model_forward`: ThreeLayerConvNet's loss (train mode) and scores (test mode).

Sequence per case: build the model with the case's parameters; loss, grads =
model.loss(X, y) (train mode: batchnorm updates its running statistics); the
"warmup.X"/"warmup.y" training passes, if any; scores = model.loss(X) (test
mode). Graded: `loss` and `scores`. Observed for the diagnosis: the running
statistics at the end (diag.bn.<i>.*), whether X or the parameters changed.
Also graded: the initial parameters __init__ draws (statistics compared with the
reference's: weights N(0, weight_scale^2), biases and betas 0, gammas 1).
"""
import numpy as np

from autograder.checks import diagnosis, judging, models
from autograder.checks.calls import plain

GRADED = ("loss", "scores")


def observe(item, case, nndl_modules, probes=True):
    rec, model = models.student_model(item, case, nndl_modules)
    if model is None:
        return rec.finish()
    X, y = plain(case["X"]), plain(case["y"])
    watched = {"X": X, "y": y}
    before = rec.snapshot(watched)
    with rec.student("ThreeLayerConvNet.loss(X, y)"):
        result = model.loss(X, y)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError("loss(X, y) should return (loss, grads), got a %s" % type(result).__name__)
        loss = result[0]
    if rec.failed:
        return rec.finish()
    rec.output("loss", loss)
    if "warmup.X" in case:
        for batch_X, batch_y in zip(np.asarray(case["warmup.X"]), np.asarray(case["warmup.y"])):
            with rec.student("ThreeLayerConvNet.loss(X, y) (training passes)"):
                model.loss(batch_X.copy(), batch_y.copy())
            if rec.failed:
                return rec.finish()
    with rec.student("ThreeLayerConvNet.loss(X)"):
        scores = model.loss(X)
    if rec.failed:
        return rec.finish()
    rec.output("scores", scores)
    rec.check_unchanged("ThreeLayerConvNet.loss", watched, before)
    models.observe_running_stats(rec, model)
    return rec.finish()


def judge(item, case, student_obs, reference_obs):
    failed = judging.errors(item, student_obs, reference_obs)
    if failed is not None:
        return failed
    mismatches = judging.compare_keys(item, student_obs, reference_obs, GRADED)
    hints = diagnosis.cnn_test_mode(case, student_obs, reference_obs, mismatches)
    hints += diagnosis.softmax_fudge_epsilon(case, student_obs, reference_obs, mismatches)
    explanations = ["ThreeLayerConvNet.__init__: " + problem
                    for problem in models.check_initial_values(
                        student_obs, reference_obs, float(np.asarray(case.get("init.weight_scale", 0))))]
    return judging.conclude(item, case, student_obs, reference_obs, GRADED, mismatches,
                            explanations=explanations, hints=hints)
