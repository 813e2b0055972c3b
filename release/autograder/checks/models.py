"""Build the student's ThreeLayerConvNet for a case (shared by the model kinds).

The case gives the constructor arguments ("init.*"), every parameter
("param.*") and, with batchnorm, the running statistics ("bn.<i>.*"), so the
student's model and the reference's compute with identical numbers whatever
their random initialisation.
"""
import numpy as np

from autograder.checks.calls import plain

SHAPE_PREFIX = "diag.init_shape."


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
