"""Kind `gradient`: a backward pass against the reference's backward, and against
the numerical gradient of the student's OWN forward (for the diagnosis).

The spec item names the backward (`function`) and its forward (`forward`).
The case supplies the forward's arguments and `dout`. Observed: the forward's
outputs under "forward.<name>", the backward's outputs (dx, dw, ...), and
numerical probes "num.<input>.*" of sum(forward(...) * dout) for every input
whose gradient the backward returns (float64 cases only).

Graded: the backward's outputs. When one differs, the message says whether it
agrees with the numerical gradient of the student's forward, and whether that
forward is itself right.
"""
import numpy as np

from autograder.checks import diagnosis, judging, numeric
from autograder.checks.calls import (array_arguments, build_arguments, call_of, plain, resolve,
                                     short_name, split_result)
from autograder.checks.compare import knob
from autograder.checks.kinds.base import REQUIRED, Key, Kind
from autograder.checks.recorder import Recorder


def _forward_function(item):
    return item.extras["forward"]


def observe(item, case, nndl_modules, probes=True):
    fcall, bcall = call_of(_forward_function(item)), call_of(item.function)
    fname, bname = short_name(_forward_function(item)), short_name(item.function)
    rec = Recorder()
    with rec.student(bname):
        forward = resolve(_forward_function(item), nndl_modules)
        backward = resolve(item.function, nndl_modules)
    if rec.failed:
        return rec.finish()

    args = build_arguments(fcall, case)
    arrays = array_arguments(fcall, args)
    result = rec.call_watched(fname, lambda: split_result(fcall, forward(*args)), arrays)
    if rec.failed:
        return rec.finish()
    outputs, cache = result
    for key, value in outputs.items():
        rec.output("forward." + key, value)

    dout = plain(case["dout"])
    result = rec.call_watched(bname, lambda: split_result(bcall, backward(dout, cache)),
                              dict(arrays, dout=dout))
    if rec.failed:
        return rec.finish()
    grads, _ = result
    for key in bcall.outputs:
        rec.output(key, grads[key])

    if probes and np.asarray(case["dout"]).dtype == np.float64:
        _probe_inputs(rec, fcall, forward, case, grads)
    return rec.finish()


def _probe_inputs(rec, fcall, forward, case, grads):
    rng = np.random.default_rng(1234)
    dout = np.asarray(case["dout"], dtype=np.float64)
    first_output = fcall.outputs[0]
    for grad_name in grads:
        name = grad_name[1:]
        if name not in fcall.arguments or name not in case:
            continue

        def scalar_f(value, name=name):
            args = build_arguments(fcall, case, **{name: value})
            outputs, _ = split_result(fcall, forward(*args))
            return float(np.sum(np.asarray(outputs[first_output], dtype=np.float64) * dout))

        try:
            with rec.quiet():
                rec.obs.update(numeric.probe(scalar_f, case[name], grads[grad_name], rng,
                                             "num." + name))
        except Exception:  # noqa: BLE001 - probing is diagnosis only
            rec.obs["diag.probe_failed"] = np.array(name)


def judge(item, case, student_obs, reference_obs):
    keys = call_of(item.function).outputs
    forward_keys = ["forward." + k for k in call_of(_forward_function(item)).outputs]
    mismatches = judging.compare_keys(item, student_obs, reference_obs, keys)
    hints = [h for key in keys for h in diagnosis.gradient_reaches_zero_entries(
        item.function, key, student_obs, reference_obs, mismatches)]
    explanations = []
    for mismatch in mismatches:
        if mismatch.kind == "value":
            explanations.append(diagnosis.gradient_source(
                mismatch.key, student_obs, reference_obs, forward_keys, "num." + mismatch.key[1:],
                knob(item, "numeric_tolerance")))
            break  # one explanation is enough; they share the forward
    data = {"forward_explains": True} if _forward_explains(
        item, student_obs, reference_obs, mismatches, forward_keys) else None
    return judging.conclude(item, case, student_obs, reference_obs, keys, mismatches,
                            explanations=explanations, hints=hints, data=data)


def _forward_explains(item, student_obs, reference_obs, mismatches, forward_keys):
    """True when the student's forward output is wrong and every wrong backward output agrees
    with the numerical gradient of that forward: one bug, the forward's, which the forward's
    own items charge (checks/charges.py then charges this case's group nothing)."""
    if not mismatches or any(m.kind != "value" for m in mismatches):
        return False
    if not diagnosis.forward_is_wrong(student_obs, reference_obs, forward_keys):
        return False
    tolerance = knob(item, "numeric_tolerance")
    return all(numeric.agreement(student_obs.get(m.key), student_obs, "num." + m.key[1:],
                                 tolerance)[0] is True for m in mismatches)


KIND = Kind("gradient", observe, judge, keys=(
    Key("forward", REQUIRED, "the forward pass whose backward is graded (<module>:<function>)",
        type=str),
), reads_probes=True)
