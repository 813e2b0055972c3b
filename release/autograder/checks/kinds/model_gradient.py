"""Kind `model_gradient`: ThreeLayerConvNet's gradients against the reference's,
and against the numerical gradient of the student's own loss.

Observed: `loss`, `grad.<param>` for every parameter, and sparse/directional
numerical probes "num.grad.<param>.*" of the student's loss (a handful of
entries plus one random direction per parameter: W2 alone can have 10^5+
entries). Graded: every `grad.<param>`.
"""
import numpy as np

from autograder.checks import derived_backward, diagnosis, judging, models, numeric
from autograder.checks.calls import plain
from autograder.checks.compare import knob
from autograder.checks.kinds.base import Kind

PROBES_PER_PARAM = 6


def _grad_keys(case):
    return ["grad." + name for name in sorted(models.case_params(case))]


def observe(item, case, nndl_modules, probes=True):
    with models.tapped_layers(nndl_modules, case) as tap:
        return _observe(item, case, nndl_modules, tap, probes)


def _observe(item, case, nndl_modules, tap, probes):
    rec, model = models.student_model(item, case, nndl_modules)
    if model is None:
        return rec.finish()
    tap.prefill(model)
    X, y = plain(case["X"]), plain(case["y"])
    watched = dict(models.params_snapshot(model), X=X, y=y)
    before = rec.snapshot(watched)
    with rec.student("ThreeLayerConvNet.loss(X, y)"):
        result = model.loss(X, y)
        if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
            raise TypeError("loss(X, y) should return (loss, grads) with grads a dict, got %s"
                            % type(result).__name__)
        loss, grads = result
    if rec.failed:
        return rec.finish()
    rec.check_unchanged("ThreeLayerConvNet.loss", dict(model.params, X=X, y=y), before)
    rec.output("loss", loss)
    for name in models.case_params(case):
        if name in grads:
            rec.output("grad." + name, grads[name])
    if probes and np.asarray(case["X"]).dtype == np.float64:
        _probe_params(rec, model, case, X, y, grads)
        for name in derived_backward.DERIVED:
            _derived_pass(rec, model, nndl_modules, name, X, y, case)
    return rec.finish()


def _derived_pass(rec, model, nndl_modules, name, X, y, case):
    """The gradients with `name`'s gradient derived from the student's own forward
    ("derived.<name>.grad.<param>"; see checks/derived_backward.py). Diagnosis only."""
    try:
        with rec.quiet(), derived_backward.derived_backward(nndl_modules, name) as active:
            if not active:
                return
            grads = model.loss(X.copy(), y.copy())[1]
        for param in models.case_params(case):
            if param in grads:
                rec.output("derived.%s.grad.%s" % (name, param), grads[param])
    except Exception:  # noqa: BLE001 - diagnosis only: the item is judged on the real pass
        rec.obs["diag.derived_failed." + name] = np.array(name)


def _probe_params(rec, model, case, X, y, grads):
    rng = np.random.default_rng(4321)
    for name in sorted(models.case_params(case)):
        original = model.params[name]

        def scalar_f(value, name=name):
            model.params[name] = value
            return float(model.loss(X.copy(), y.copy())[0])

        try:
            with rec.quiet():
                rec.obs.update(numeric.probe(scalar_f, original, grads.get(name), rng,
                                             "num.grad." + name, count=PROBES_PER_PARAM))
        except Exception:  # noqa: BLE001 - probing is diagnosis only
            rec.obs["diag.probe_failed"] = np.array(name)
        finally:
            model.params[name] = original


def judge(item, case, student_obs, reference_obs):
    keys = _grad_keys(case)
    # A bias followed by batchnorm has a zero gradient in exact arithmetic: compare every
    # gradient on the scale of the largest one, not on its own rounding noise.
    scale = max((float(np.max(np.abs(reference_obs[k]), initial=0.0)) for k in keys if k in reference_obs),
                default=0.0)
    mismatches = judging.compare_keys(item, student_obs, reference_obs, keys, scale=scale)
    explanations = []
    for mismatch in mismatches:
        if mismatch.kind == "value":
            explanations.append(diagnosis.gradient_source(
                mismatch.key, student_obs, reference_obs, ["loss"], "num." + mismatch.key,
                knob(item, "numeric_tolerance"), scale))
            break
    evidence = diagnosis.regularisation_evidence(case, student_obs, reference_obs, mismatches)
    carried = _explained_by_carried_over(item, student_obs, reference_obs, keys, scale) \
        if mismatches else None
    if carried:
        explanations.append(carried[1])
        evidence = dict(evidence or {}, explained_by=carried[0])
    return judging.conclude(item, case, student_obs, reference_obs, keys, mismatches,
                            explanations=explanations, data=evidence)


def _explained_by_carried_over(item, student_obs, reference_obs, keys, scale):
    """("<kind>:<function>" of the item that charges the bug, a line for the feedback) when
    the gradients are right once one carried-over function's gradient is derived from the
    student's own forward (None otherwise)."""
    for name in derived_backward.DERIVED:
        prefix = "derived.%s." % name
        derived = {key: student_obs[prefix + key] for key in keys if prefix + key in student_obs}
        if len(derived) != len(keys):
            continue
        if not judging.compare_keys(item, derived, reference_obs, keys, scale=scale):
            return (derived_backward.CHARGED_IN[name],
                    "with %s's gradient derived from your own %s, every gradient of the network "
                    "is right: the bug is in %s" % (
                        name, "relu_forward" if name == "relu_backward" else "softmax loss",
                        name))
    return None


KIND = Kind("model_gradient", observe, judge, reads_probes=True)
