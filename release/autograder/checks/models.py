"""Build the student's ThreeLayerConvNet for a case (shared by the model kinds).

The case gives the constructor arguments ("init.*"), every parameter
("param.*") and, with batchnorm, the running statistics ("bn.<i>.*"), so the
student's model and the reference's compute with identical numbers whatever
their random initialisation.

Where a model keeps its batchnorm state is its own business (self.bn_params as
a list, tuple or dict, separate attributes, dicts created lazily...), so the
running statistics are not looked up by name: LayerTap (a context manager)
wraps the nndl batchnorm layers while the model runs and records the bn_param
dicts that actually reach them, in order of first use (layer 0 is the spatial
batchnorm after the convolution, layer 1 the one after the hidden affine
layer). The first time a dict reaches layer i, the case's statistics for layer
i are put into it, before the layer reads them. The tap also records what the
model passes to softmax_loss (its train-mode scores and data loss), which tells
a wrong regulariser from a wrong data loss, and a backward-pass failure from a
forward one, and the mode of every bn_param reaching a batchnorm layer (a
training pass that runs batchnorm in mode 'test' shows a model left in test mode).
"""
import contextlib
import importlib
import sys
from collections.abc import Mapping

import numpy as np

from autograder.checks.calls import plain, resolve
from autograder.checks.loading import ImportFailure
from autograder.checks.recorder import Recorder

BATCHNORM_LAYERS = ("batchnorm_forward", "spatial_batchnorm_forward")
LOSS_LAYER = "softmax_loss"
RUNNING_STATS = ("running_mean", "running_var")

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


def case_running_stats(case):
    """{layer index: {stat: array}} of the case's batchnorm running statistics ("bn.<i>.<stat>")."""
    layers = {}
    for key, value in case.items():
        if key.startswith("bn."):
            _, index, stat = key.split(".")
            layers.setdefault(int(index), {})[stat] = np.asarray(value)
    return layers


def loaded_modules(nndl_modules):
    """The loaded module objects of an nndl mapping or package (import failures left out)."""
    if isinstance(nndl_modules, Mapping):
        found = list(nndl_modules.values())
    else:
        prefix = nndl_modules.__name__ + "."
        found = [m for name, m in list(sys.modules.items()) if name.startswith(prefix)]
        if not found:
            found = []
            for name in ("layers", "conv_layers", "layer_utils", "conv_layer_utils", "cnn"):
                try:
                    found.append(importlib.import_module(prefix + name))
                except Exception:  # noqa: BLE001 - reported by the check itself
                    pass
    return [m for m in found if m is not None and not isinstance(m, ImportFailure)
            and hasattr(m, "__dict__")]


class LayerTap:
    """What reaches the batchnorm and loss layers while a model runs (see the module docstring)."""

    def __init__(self, case):
        self.stats = case_running_stats(case)
        self.bn_dicts = []          # distinct bn_param dicts, in order of first use
        self.loss_calls = 0         # softmax_loss calls that returned, in this pass
        self.bn_modes = []          # the mode of each bn_param reaching a batchnorm layer, this pass
        self.train_scores = None    # the scores and data loss of the last softmax_loss call
        self.data_loss = None
        self._depth = 0

    def new_pass(self):
        self.loss_calls = 0
        self.bn_modes = []

    def _saw_bn_param(self, bn_param):
        if not isinstance(bn_param, dict) or any(bn_param is d for d in self.bn_dicts):
            return
        self.bn_dicts.append(bn_param)
        for stat, value in self.stats.get(len(self.bn_dicts) - 1, {}).items():
            bn_param[stat] = value.copy()

    def wrap(self, name, function):
        tap = self

        def tapped(*args, **kwargs):
            outermost = tap._depth == 0
            if outermost and name in BATCHNORM_LAYERS:
                bn_param = args[3] if len(args) > 3 else kwargs.get("bn_param")
                tap._saw_bn_param(bn_param)
                tap.bn_modes.append(str(bn_param.get("mode")) if isinstance(bn_param, dict) else "")
            tap._depth += 1
            try:
                result = function(*args, **kwargs)
            finally:
                tap._depth -= 1
            if outermost and name == LOSS_LAYER:
                tap._saw_loss(args[0] if args else kwargs.get("x"), result)
            return result

        tapped.__wrapped__ = function
        tapped.__name__ = getattr(function, "__name__", name)
        return tapped

    def _saw_loss(self, scores, result):
        self.loss_calls += 1
        try:
            self.train_scores = np.array(scores, copy=True)
            self.data_loss = np.array(result[0], dtype=np.float64) if np.ndim(result[0]) == 0 else None
        except Exception:  # noqa: BLE001 - diagnosis only
            self.train_scores, self.data_loss = None, None

    def prefill(self, model):
        """Put the case's statistics into the model's bn_param dicts found by attribute (a fallback
        for batchnorm code the tap cannot see; the tap overwrites them on first use)."""
        found = batchnorm_dicts(model)
        if len(found) == len(self.stats):
            for index, bn_param in enumerate(found):
                for stat, value in self.stats.get(index, {}).items():
                    bn_param[stat] = value.copy()

    def running_stat_dicts(self, model):
        return self.bn_dicts or batchnorm_dicts(model)


def batchnorm_dicts(model):
    """The model's bn_param dicts by attribute: self.bn_params as a list, tuple or dict (in its
    order), else attributes holding a dict with a 'mode' or running statistics, by name."""
    bn_params = getattr(model, "bn_params", None)
    if isinstance(bn_params, Mapping):
        if any(key in bn_params for key in ("mode",) + RUNNING_STATS):
            return [bn_params]
        bn_params = list(bn_params.values())
    if isinstance(bn_params, (list, tuple)):
        return [d for d in bn_params if isinstance(d, dict)]
    found = []
    for name in sorted(vars(model)) if hasattr(model, "__dict__") else []:
        value = vars(model)[name]
        if name != "params" and isinstance(value, dict) and \
                any(key in value for key in ("mode",) + RUNNING_STATS) and "p" not in value:
            found.append(value)
    return found


@contextlib.contextmanager
def tapped_layers(nndl_modules, case):
    """A LayerTap installed on every nndl module's batchnorm and softmax_loss (restored after)."""
    tap = LayerTap(case)
    targets = {}
    modules = loaded_modules(nndl_modules)
    for module in modules:
        for name in BATCHNORM_LAYERS + (LOSS_LAYER,):
            function = vars(module).get(name)
            if callable(function):
                targets.setdefault(id(function), (name, function))
    wrappers = {key: tap.wrap(name, function) for key, (name, function) in targets.items()}
    replaced = []
    for module in modules:
        for attr, value in list(vars(module).items()):
            if id(value) in wrappers and targets[id(value)][1] is value:
                replaced.append((module, attr, value))
                setattr(module, attr, wrappers[id(value)])
    try:
        yield tap
    finally:
        for module, attr, value in reversed(replaced):
            setattr(module, attr, value)


def observe_running_stats(rec, dicts, prefix="diag.bn."):
    for i, bn_param in enumerate(dicts):
        if isinstance(bn_param, dict):
            for stat in RUNNING_STATS:
                if stat in bn_param:
                    rec.output("%s%d.%s" % (prefix, i, stat), bn_param[stat])


def params_snapshot(model):
    return {k: np.array(v, copy=True) for k, v in model.params.items() if isinstance(v, np.ndarray)}


def _show(args):
    return "{%s}" % ", ".join("%s=%s" % (k, getattr(v, "__name__", repr(v))) for k, v in sorted(args.items()))
