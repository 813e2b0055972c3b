"""Save a trained model to one .npz file and rebuild it later.

File layout (every entry a plain array, so np.load(path, allow_pickle=False) reads it):
- 'format_version': 0-d int array, FORMAT_VERSION
- 'constructor_args': 0-d unicode array, JSON of the keyword arguments that
  rebuild the model (tuples and dtypes tagged, see _encode)
- 'param:<name>': each entry of model.params
- 'bn:<i>:running_mean', 'bn:<i>:running_var': batchnorm running statistics of
  the model's i-th bn_param dict (see batchnorm_params), when present

Models do not keep their constructor arguments uniformly, so they are recovered
from the class's __init__ signature: an attribute of the same name if the model
has one, else a value implied by the parameter shapes (see _FROM_SHAPES), else
the signature's default.
"""
import inspect
import json
import os
import re
import tempfile

import numpy as np

FORMAT_VERSION = 1
VERSION_KEY = "format_version"
ARGS_KEY = "constructor_args"
PARAM_PREFIX = "param:"
BN_PREFIX = "bn:"
RUNNING_STATS = ("running_mean", "running_var")


def save_model(model, path):
    """
    Write model's constructor arguments, parameters and batchnorm statistics to `path`.

    Inputs:
    - model: object with a .params dict of arrays, optionally batchnorm dicts (.bn_params as a
      list, tuple or dict of dicts, or bn_param dicts as attributes; see batchnorm_params)
    - path: file to write, used exactly as given (no '.npz' is appended)
    """
    arrays = {
        VERSION_KEY: np.array(FORMAT_VERSION),
        ARGS_KEY: np.array(json.dumps(_encode(constructor_arguments(model)), sort_keys=True)),
    }
    for name, value in model.params.items():
        arrays[PARAM_PREFIX + name] = np.asarray(value)
    for i, bn_param in enumerate(batchnorm_params(model)):
        for stat in RUNNING_STATS:
            if stat in bn_param:
                arrays["%s%d:%s" % (BN_PREFIX, i, stat)] = np.asarray(bn_param[stat])

    # Write beside the target and rename, so an interrupted save never leaves a truncated file.
    folder = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(prefix=".model-", suffix=".npz.part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **arrays)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def load_model(path, model_class):
    """
    Rebuild a model saved by save_model.

    Inputs:
    - path: file written by save_model
    - model_class: the class to instantiate with the saved constructor arguments

    Returns:
    - model: model_class instance holding the saved parameters and running statistics

    Raises ValueError if the file's format version is unknown, or if the rebuilt
    model's parameter names or shapes (or number of batchnorm layers) differ
    from the saved ones.
    """
    with np.load(path, allow_pickle=False) as saved:
        if VERSION_KEY not in saved.files:
            raise ValueError("%s is not a model file written by save_model (no %r entry)"
                             % (path, VERSION_KEY))
        version = int(saved[VERSION_KEY])
        if version != FORMAT_VERSION:
            raise ValueError("%s has model format version %d; this code reads version %d"
                             % (path, version, FORMAT_VERSION))
        args = _decode(json.loads(str(saved[ARGS_KEY])))
        params = {key[len(PARAM_PREFIX):]: saved[key]
                  for key in saved.files if key.startswith(PARAM_PREFIX)}
        bn_stats = {key[len(BN_PREFIX):]: saved[key]
                    for key in saved.files if key.startswith(BN_PREFIX)}

    # Building the model draws random weights; keep the caller's global random state untouched.
    random_state = np.random.get_state()
    try:
        model = model_class(**args)
    finally:
        np.random.set_state(random_state)

    _check_params_match(model.params, params, path, model_class)
    for name, value in params.items():
        model.params[name] = value.astype(model.params[name].dtype, copy=False)
    _restore_running_stats(model, bn_stats, path)
    return model


def constructor_arguments(model):
    """
    Keyword arguments that rebuild `model` with type(model)(**args).

    Raises ValueError for an argument with no attribute, no shape rule and no default.
    """
    args = {}
    for name, parameter in _init_parameters(type(model)).items():
        if hasattr(model, name):
            args[name] = getattr(model, name)
            continue
        rule = _FROM_SHAPES.get(name)
        value = rule(model.params) if rule is not None else None
        if value is not None:
            args[name] = value
        elif parameter.default is not parameter.empty:
            args[name] = parameter.default
        else:
            raise ValueError("cannot tell %s's constructor argument %r: the model has no "
                             "attribute of that name and it has no default"
                             % (type(model).__name__, name))
    return args


def _init_parameters(cls):
    """
    Named parameters of cls.__init__ (without self), in order. An __init__ that
    takes **kwargs passes them on, so the parameters of the next __init__ up the
    class hierarchy are included too.
    """
    found = {}
    for klass in cls.__mro__:
        if klass is object or "__init__" not in vars(klass):
            continue
        parameters = list(inspect.signature(klass.__init__).parameters.values())[1:]
        for parameter in parameters:
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                found.setdefault(parameter.name, parameter)
        if not any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters):
            break
    return found


def _numbered(params, prefix):
    """Arrays named prefix + number (W1, W2, ...) in numeric order."""
    found = []
    for name, value in params.items():
        match = re.fullmatch(re.escape(prefix) + r"(\d+)", name)
        if match:
            found.append((int(match.group(1)), value))
    return [value for _, value in sorted(found, key=lambda item: item[0])]


def _is_conv(params):
    weights = _numbered(params, "W")
    return bool(weights) and np.ndim(weights[0]) == 4


def _hidden_dim(params):
    weights = _numbered(params, "W")
    if _is_conv(params):
        # conv W1, affine W2 of shape (D, hidden_dim), affine W3 to the classes
        hidden = weights[1] if len(weights) >= 3 else None
    else:
        hidden = weights[0] if len(weights) >= 2 else None
    return int(hidden.shape[1]) if hidden is not None and np.ndim(hidden) == 2 else None


def _input_dim(params):
    weights = _numbered(params, "W")
    # A conv net's image height and width are not implied by its weights.
    if not weights or _is_conv(params) or np.ndim(weights[0]) != 2:
        return None
    return int(weights[0].shape[0])


def _conv_dim(axis):
    def rule(params):
        return int(params["W1"].shape[axis]) if _is_conv(params) else None
    return rule


def _last_dim(params):
    weights = _numbered(params, "W")
    return int(weights[-1].shape[-1]) if weights and np.ndim(weights[-1]) == 2 else None


def _hidden_dims(params):
    weights = _numbered(params, "W")
    if len(weights) < 2 or any(np.ndim(w) != 2 for w in weights):
        return None
    return [int(w.shape[1]) for w in weights[:-1]]


def _dtype(params):
    return np.asarray(next(iter(params.values()))).dtype.type if params else None


# Constructor arguments implied by parameter shapes (cs231n / nndl naming: W1, b1, gamma1, ...).
# A rule returns None when the shapes do not tell.
_FROM_SHAPES = {
    "num_filters": _conv_dim(0),
    "filter_size": _conv_dim(2),
    "hidden_dim": _hidden_dim,
    "hidden_dims": _hidden_dims,
    "input_dim": _input_dim,
    "num_classes": _last_dim,
    "use_batchnorm": lambda params: any(name.startswith("gamma") for name in params),
    "dtype": _dtype,
}


def _encode(value):
    """JSON-ready copy of value; tuples and numpy dtypes are tagged so _decode restores them."""
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, (np.generic, float, int))):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _encode(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError("cannot store constructor argument value %r of type %s"
                     % (value, type(value).__name__))


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"__dtype__"}:
            return np.dtype(value["__dtype__"]).type
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _check_params_match(expected, saved, path, model_class):
    problems = []
    for name in sorted(set(expected) - set(saved)):
        problems.append("%s missing from the file" % name)
    for name in sorted(set(saved) - set(expected)):
        problems.append("%s in the file but not in the model" % name)
    for name in sorted(set(expected) & set(saved)):
        if np.shape(expected[name]) != saved[name].shape:
            problems.append("%s has shape %s in the file, %s in the model"
                            % (name, saved[name].shape, np.shape(expected[name])))
    if problems:
        raise ValueError("%s does not match %s: %s" % (path, model_class.__name__, "; ".join(problems)))


def batchnorm_params(model):
    """
    The model's batchnorm parameter dicts, in a fixed order (the same for every model of a class):
    - model.bn_params as a list or tuple of dicts: in order;
    - model.bn_params as a dict of dicts ({'bn_param1': {...}, ...}): in insertion order;
    - otherwise attributes holding a bn_param dict (a 'mode' or running statistics, not a
      dropout 'p'), by attribute name (self.bn_param1, self.bn_param2, ...).
    """
    bn_params = getattr(model, "bn_params", None)
    if isinstance(bn_params, dict):
        if any(key in bn_params for key in ("mode",) + RUNNING_STATS):
            return [bn_params]
        bn_params = list(bn_params.values())
    if isinstance(bn_params, (list, tuple)):
        return [bn_param for bn_param in bn_params if isinstance(bn_param, dict)]
    attributes = vars(model) if hasattr(model, "__dict__") else {}
    return [attributes[name] for name in sorted(attributes)
            if name != "params" and _looks_like_bn_param(attributes[name])]


def _looks_like_bn_param(value):
    return isinstance(value, dict) and "p" not in value and \
        any(key in value for key in ("mode",) + RUNNING_STATS)


def _restore_running_stats(model, bn_stats, path):
    layers = batchnorm_params(model)
    saved_layers = {int(key.split(":")[0]) for key in bn_stats}
    if saved_layers and max(saved_layers) >= len(layers):
        raise ValueError("%s holds running statistics for %d batchnorm layers; the model has %d"
                         % (path, max(saved_layers) + 1, len(layers)))
    for key, value in bn_stats.items():
        index, stat = key.split(":")
        current = layers[int(index)].get(stat)
        if current is not None and np.shape(current) != value.shape:
            raise ValueError("%s: batchnorm layer %s %s has shape %s in the file, %s in the model"
                             % (path, index, stat, value.shape, np.shape(current)))
        layers[int(index)][stat] = value
