"""Build the student's ThreeLayerConvNet for a case (shared by the model kinds).

The case gives the constructor arguments ("init.*"), every parameter
("param.*") and, with batchnorm, the running statistics ("bn.<i>.*"), so the
student's model and the reference's compute with identical numbers whatever
their random initialisation.
"""
import numpy as np

from autograder.checks.calls import plain, resolve
from autograder.checks.recorder import Recorder

SHAPE_PREFIX = "diag.init_shape."
INIT_PREFIX = "diag.init_"


def constructor_arguments(case):
    args = {}
    for key, value in case.items():
        if key.startswith("init."):
            args[key[5:]] = plain(value)
    if "input_dim" in args:
        args["input_dim"] = tuple(int(v) for v in args["input_dim"])
    if "dtype" in args:
        args["dtype"] = np.dtype(args["dtype"]).type
    return args


def case_params(case):
    return {key[6:]: np.asarray(value) for key, value in case.items() if key.startswith("param.")}


def student_class(item, nndl_modules, name="ThreeLayerConvNet"):
    """A fresh Recorder and the student's model class (None if it cannot be found)."""
    rec = Recorder()
    with rec.student(name):
        model_class = resolve(item.function, nndl_modules)
    return rec, (None if rec.failed else model_class)


def student_model(item, case, nndl_modules, name="ThreeLayerConvNet"):
    """A fresh Recorder and the student's model built for the case (None on failure)."""
    rec, model_class = student_class(item, nndl_modules, name)
    if model_class is None:
        return rec, None
    return rec, build(rec, model_class, case, name)


def build(rec, model_class, case, name="ThreeLayerConvNet"):
    """The model with the case's parameters, or None (the failure is recorded in rec)."""
    args = constructor_arguments(case)
    with rec.student("%s.__init__" % name):
        model = model_class(**args)
    if rec.failed:
        return None
    params = getattr(model, "params", None)
    if not isinstance(params, dict):
        rec.fail("ParameterMismatch", "%s(...) has no params dict" % name, "%s.__init__" % name)
        return None
    for key, value in params.items():
        rec.put(SHAPE_PREFIX + str(key), np.array(np.shape(value), dtype=np.int64))
        _observe_initial_values(rec, key, value)
    wanted = case_params(case)
    problems = []
    for key in sorted(set(wanted) - set(params)):
        problems.append("params has no %r" % key)
    for key in sorted(set(params) - set(wanted)):
        problems.append("params has an unexpected %r" % key)
    for key in sorted(set(wanted) & set(params)):
        if np.shape(params[key]) != wanted[key].shape:
            problems.append("params[%r] has shape %s, expected %s"
                            % (key, tuple(np.shape(params[key])), wanted[key].shape))
    if problems:
        rec.fail("ParameterMismatch", "after %s(**%s): %s" % (name, _show(args), "; ".join(problems)),
                 "%s.__init__" % name)
        return None
    for key, value in wanted.items():
        params[key] = value.copy()
    if not _set_running_stats(rec, model, case, args, name):
        return None
    return model


def _observe_initial_values(rec, key, value):
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return
    if array.size:
        rec.put(INIT_PREFIX + "mean." + str(key), np.array(array.mean()))
        rec.put(INIT_PREFIX + "std." + str(key), np.array(array.std()))
        rec.put(INIT_PREFIX + "size." + str(key), np.array(array.size, dtype=np.int64))


def check_initial_values(student, reference, weight_scale=None):
    """
    Problems with the student's initial parameters (as described in __init__'s
    docstring): weights drawn with standard deviation weight_scale around 0,
    biases and betas zero, gammas one. Compared with the reference's statistics
    (the draws themselves may differ).
    """
    problems = []
    for key in sorted(k for k in reference if k.startswith(INIT_PREFIX + "std.")):
        name = key[len(INIT_PREFIX + "std."):]
        try:
            s_std = float(np.asarray(student[key]))
            s_mean = float(np.asarray(student[INIT_PREFIX + "mean." + name]))
        except (KeyError, TypeError, ValueError):
            continue  # a missing parameter is reported by the shape check
        r_std = float(np.asarray(reference[key]))
        r_mean = float(np.asarray(reference[INIT_PREFIX + "mean." + name]))
        size = int(np.asarray(reference[INIT_PREFIX + "size." + name]))
        if r_std == 0.0:
            if s_std != 0.0 or abs(s_mean - r_mean) > 1e-12:
                problems.append("%s should start as %s (got mean %.3g, std %.3g)"
                                % (name, "ones" if r_mean == 1.0 else "zeros", s_mean, s_std))
            continue
        # the standard deviation of a sample of `size` normals is within ~5/sqrt(2 size) of the truth
        spread = 5.0 / np.sqrt(2.0 * size)
        if not abs(s_std / r_std - 1.0) <= spread or not abs(s_mean) <= 5.0 * r_std / np.sqrt(size):
            problems.append("%s should be drawn from a normal distribution with mean 0 and standard "
                            "deviation weight_scale (%.3g); yours has mean %.3g, std %.3g"
                            % (name, weight_scale or r_std, s_mean, s_std))
    return problems


def _set_running_stats(rec, model, case, args, name):
    layers = {}
    for key, value in case.items():
        if key.startswith("bn."):
            _, index, stat = key.split(".")
            layers.setdefault(int(index), {})[stat] = np.asarray(value)
    if not layers:
        return True
    bn_params = getattr(model, "bn_params", None)
    if not isinstance(bn_params, list) or len(bn_params) < len(layers) or \
            not all(isinstance(p, dict) for p in bn_params[:len(layers)]):
        rec.fail("ParameterMismatch",
                 "with use_batchnorm=True, %s(**%s) should keep one bn_param dict per batchnorm "
                 "layer (%d) in self.bn_params" % (name, _show(args), len(layers)),
                 "%s.__init__" % name)
        return False
    for index, stats in layers.items():
        for stat, value in stats.items():
            bn_params[index][stat] = value.copy()
    return True


def observe_running_stats(rec, model):
    for i, bn_param in enumerate(getattr(model, "bn_params", None) or []):
        if isinstance(bn_param, dict):
            for stat in ("running_mean", "running_var"):
                if stat in bn_param:
                    rec.output("diag.bn.%d.%s" % (i, stat), bn_param[stat])


def params_snapshot(model):
    return {k: np.array(v, copy=True) for k, v in model.params.items() if isinstance(v, np.ndarray)}


def _show(args):
    return "{%s}" % ", ".join("%s=%s" % (k, getattr(v, "__name__", repr(v))) for k, v in sorted(args.items()))
