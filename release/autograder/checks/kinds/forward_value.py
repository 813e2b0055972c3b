"""Kind `forward_value`: a function's outputs against the reference's.

Graded outputs: the call's outputs (autograder/checks/calls.py), e.g. `out` of
a forward pass, `loss` and `dx` of softmax_loss.

Stateful batchnorm: a case with "warmup.x" (T, N, C, H, W) first runs T
train-mode passes sharing one bn_param dict, then the call itself in the
case's mode; the running statistics after the warm-up and the train-mode
output on x are observed for the diagnosis (diag.running_mean,
diag.running_var, diag.train_out).
"""
from dataclasses import replace

import numpy as np

from autograder.checks import diagnosis, judging, padding
from autograder.checks.cases import label_of
from autograder.checks.compare import difference, tolerances
from autograder.checks.calls import (array_arguments, build_arguments, call_of, dict_argument,
                                     resolve, short_name, split_result)
from autograder.checks.kinds.base import Kind
from autograder.checks.recorder import Recorder


def observe(item, case, nndl_modules, probes=True):
    call = call_of(item.function)
    name = short_name(item.function)
    rec = Recorder()
    with rec.student(name):
        function = resolve(item.function, nndl_modules)
    if rec.failed:
        return rec.finish()

    given = {}
    if "warmup.x" in case:
        bn_param = dict_argument(case, "bn_param")
        mode = bn_param["mode"]
        for batch in np.asarray(case["warmup.x"]):
            bn_param["mode"] = "train"
            warm_args = build_arguments(call, dict(case, x=batch), bn_param=bn_param)
            with rec.student("%s (training pass before the test-mode call)" % name):
                function(*warm_args)
            if rec.failed:
                return rec.finish()
        bn_param["mode"] = mode
        for stat in ("running_mean", "running_var"):
            rec.output("diag." + stat, bn_param.get(stat))
        train_param = dict(dict_argument(case, "bn_param"), mode="train")
        with rec.student(name + " (train mode)"):
            train_out, _ = split_result(call, function(*build_arguments(call, case, bn_param=train_param)))
        if rec.failed:
            return rec.finish()
        rec.output("diag.train_out", train_out.get("out"))
        given["bn_param"] = bn_param

    args = build_arguments(call, case, **given)
    result = rec.call_watched(name, lambda: split_result(call, function(*args)),
                              array_arguments(call, args))
    if rec.failed:
        return rec.finish()
    outputs, _ = result
    for key in call.outputs:
        rec.output(key, outputs[key])
    return rec.finish()


def judge(item, case, student_obs, reference_obs):
    keys = call_of(item.function).outputs
    mismatches = judging.compare_keys(item, student_obs, reference_obs, keys)
    hints = []
    if "warmup.x" in case:
        hints += diagnosis.batchnorm_test_mode(student_obs, reference_obs, mismatches)
    hints += diagnosis.softmax_fudge_epsilon(case, student_obs, reference_obs, mismatches)
    if item.function.endswith("batchnorm_forward"):
        hints += diagnosis.batchnorm_normalisation(case, student_obs, mismatches)
    if _is_conv_forward(item):
        hints += _padding_hints(item, case, student_obs, reference_obs, mismatches)
    outcome = judging.conclude(item, case, student_obs, reference_obs, keys, mismatches,
                               hints=hints)
    return _with_differences(outcome, item, case, student_obs, reference_obs, mismatches)


def _is_conv_forward(item):
    return item.function.endswith(":conv_forward_naive")


def _padding_hints(item, case, student_obs, reference_obs, mismatches):
    """A wrong `out` of a convolution forward: the padding variant it matches (computed from
    the case's inputs), else, when only its border is wrong, a hint at the padding."""
    wrong_out = [m for m in mismatches if m.key == "out" and m.kind in ("value", "shape")]
    if not wrong_out:
        return []
    actual, expected = student_obs.get("out"), reference_obs["out"]
    single = np.asarray(case.get("x", 0.0)).dtype == np.float32 or \
        np.asarray(actual).dtype == np.float32
    hints = padding.padding_hints(case, actual, single)
    if hints or wrong_out[0].kind != "value":
        return hints
    tolerance, floor = tolerances(item, expected, actual)
    found = difference(actual, expected, tolerance, floor)
    return padding.border_hints(found.wrong) if found is not None else []


def _crash_hints(item, case, error_info):
    """Kind.error_hints: a convolution forward's shape crash with pad > 0 is a padding bug."""
    if case is None or not _is_conv_forward(item):
        return []
    return padding.crash_hints(case, error_info)


def _with_differences(outcome, item, case, student_obs, reference_obs, mismatches):
    """The outcome carrying where each wrong-valued output differs (the report's pictures)."""
    found = {}
    for mismatch in mismatches:
        if mismatch.kind not in ("value", "nan"):
            continue
        expected, actual = reference_obs[mismatch.key], student_obs.get(mismatch.key)
        tolerance, floor = tolerances(item, expected, actual)
        picture = difference(actual, expected, tolerance, floor, case=label_of(case))
        if picture is not None:
            found[mismatch.key] = picture
    return replace(outcome, differences=found) if found else outcome


KIND = Kind("forward_value", observe, judge, error_hints=_crash_hints)
