"""How a graded nndl function is called from a case, and how its results are named.

A case (autograder/checks/cases.py) is a flat dict of plain arrays/scalars:
- an argument by its name ("x", "w", "dout", ...);
- a dict argument by dotted keys: "conv_param.stride", "bn_param.mode", ...;
- metadata under keys starting with "_" ("_label", "_tags"), never passed on.

`nndl_modules` (what observe receives) is either the imported package (e.g.
`import nndl`; submodules are imported from it on demand) or a mapping from
submodule name ("conv_layers") to a module, as returned by
autograder.checks.loading.load_nndl.
"""
import importlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from autograder.checks.loading import ImportFailure


@dataclass(frozen=True)
class Call:
    arguments: tuple      # positional arguments, in order
    outputs: tuple        # names of the returned values (without the cache)
    returns_cache: bool   # forward pass returning (out, cache)


CALLS = {
    "conv_layers:conv_forward_naive": Call(("x", "w", "b", "conv_param"), ("out",), True),
    "conv_layers:conv_backward_naive": Call(("dout", "cache"), ("dx", "dw", "db"), False),
    "conv_layers:max_pool_forward_naive": Call(("x", "pool_param"), ("out",), True),
    "conv_layers:max_pool_backward_naive": Call(("dout", "cache"), ("dx",), False),
    "conv_layers:spatial_batchnorm_forward": Call(("x", "gamma", "beta", "bn_param"), ("out",), True),
    "conv_layers:spatial_batchnorm_backward": Call(("dout", "cache"), ("dx", "dgamma", "dbeta"), False),
    "layers:relu_forward": Call(("x",), ("out",), True),
    "layers:relu_backward": Call(("dout", "cache"), ("dx",), False),
    "layers:softmax_loss": Call(("x", "y"), ("loss", "dx"), False),
    "layers:affine_forward": Call(("x", "w", "b"), ("out",), True),
    "layers:affine_backward": Call(("dout", "cache"), ("dx", "dw", "db"), False),
}


class StudentImportError(Exception):
    """The student's module could not be imported (the message says why)."""


def call_of(function):
    try:
        return CALLS[function]
    except KeyError:
        raise KeyError("no call signature for %s in autograder/checks/calls.py" % function) from None


def short_name(function):
    return function.split(":", 1)[1]


def resolve(function, nndl_modules):
    """The object named "<module>:<qualname>" in the student's (or reference) nndl."""
    module_name, qualname = function.split(":", 1)
    if isinstance(nndl_modules, Mapping):
        if module_name not in nndl_modules:
            raise StudentImportError("nndl/%s.py was not found" % module_name)
        module = nndl_modules[module_name]
    else:
        try:
            module = importlib.import_module("%s.%s" % (nndl_modules.__name__, module_name))
        except Exception as exc:
            raise StudentImportError("nndl/%s.py could not be imported: %s: %s"
                                     % (module_name, type(exc).__name__, exc)) from exc
    if isinstance(module, ImportFailure):
        raise StudentImportError(module.describe())
    target = module
    for part in qualname.split("."):
        if not hasattr(target, part):
            raise StudentImportError("nndl/%s.py has no %s" % (module_name, qualname))
        target = getattr(target, part)
    return target


def plain(value):
    """A 0-d array as a Python scalar (int, float, bool or str); arrays copied."""
    array = np.asarray(value)
    if array.ndim == 0:
        return array.item()
    return array.copy()


def dict_argument(case, name):
    prefix = name + "."
    return {key[len(prefix):]: plain(value) for key, value in case.items() if key.startswith(prefix)}


def build_arguments(call, case, **given):
    """
    Positional arguments of `call` from a case: fresh copies, so the case keeps
    the original values for the no-writes-into-inputs check. `given` supplies
    arguments that do not come from the case (e.g. cache=...).
    """
    args = []
    for name in call.arguments:
        if name in given:
            args.append(given[name])
        elif name in case:
            args.append(plain(case[name]))
        elif any(key.startswith(name + ".") for key in case):
            args.append(dict_argument(case, name))
        else:
            raise KeyError("case has no argument %r" % name)
    return args


def array_arguments(call, args):
    """{name: array} of the positional arguments that are numpy arrays."""
    return {name: value for name, value in zip(call.arguments, args) if isinstance(value, np.ndarray)}


def split_result(call, result):
    """
    The named outputs of a call's return value as a dict (values as returned).

    Raises TypeError with a student-readable message for a wrong return shape.
    """
    expected = len(call.outputs) + (1 if call.returns_cache else 0)
    if expected == 1:
        return {call.outputs[0]: result}, None
    if not isinstance(result, (tuple, list)) or len(result) != expected:
        kind = type(result).__name__
        length = " of length %d" % len(result) if isinstance(result, (tuple, list)) else ""
        names = list(call.outputs) + (["cache"] if call.returns_cache else [])
        raise TypeError("should return a tuple (%s), but returned a %s%s"
                        % (", ".join(names), kind, length))
    outputs = dict(zip(call.outputs, result))
    cache = result[-1] if call.returns_cache else None
    return outputs, cache


def as_output_array(value):
    """An output value as an array for the observation (None stays None; objects -> None)."""
    if value is None:
        return None
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.dtype.kind not in "biufUS":
        return None
    return np.array(array, copy=True)
