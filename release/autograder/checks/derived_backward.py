"""The network's gradients once a carried-over backward is derived from the student's own forward.

A wrong relu_backward or a wrong dx of softmax_loss (nndl/layers.py, graded by their own items)
makes every gradient of ThreeLayerConvNet wrong, although the network's own code is right. To
tell the two apart without the reference (which never enters the sandbox), the model_gradient
kind runs the student's loss once more per function with that function's gradient replaced by
one derived numerically from the student's own forward:

- relu_backward(dout, cache) -> dout * d relu_forward(x) / dx, elementwise by central
  differences of the student's relu_forward at the x that produced `cache` (the wrapped
  relu_forward remembers it; ReLU is elementwise, so two calls give every derivative);
- softmax_loss(x, y) -> (the student's loss, d loss / dx by central differences of the
  student's own loss, one entry at a time: the gradient cases have a few dozen scores).

If the gradients of that pass match the reference, the carried-over function explains the
network's failure (model_gradient.judge says so; checks/charges.py charges it once, in that
function's own item). Runs in the sandbox, on the student's modules, like the other taps.

    with derived_backward(nndl_modules, "relu_backward") as active:
        loss, grads = model.loss(X, y)     # active: whether the function was found and replaced
"""
import contextlib

import numpy as np

from autograder.checks.models import loaded_modules

DERIVED = ("relu_backward", "softmax_loss")
# the items that grade them, as checks/charges.py names a cause: "<kind>:<function>"
CHARGED_IN = {"relu_backward": "gradient:nndl.layers.relu_backward",
              "softmax_loss": "forward_value:nndl.layers.softmax_loss"}
RELU_STEP = 1e-6
SOFTMAX_STEP = 1e-5
MAX_SCORES = 4096    # softmax scores differentiated one by one (the gradient cases have < 100)


def _functions(modules, name):
    """{id: function} of the callables named `name` in the student's modules."""
    found = {}
    for module in modules:
        function = vars(module).get(name)
        if callable(function):
            found[id(function)] = function
    return found


@contextlib.contextmanager
def _replaced(modules, replacements):
    """Each module attribute that is one of replacements' functions (by id) replaced, then
    restored."""
    changed = []
    for module in modules:
        for attr, value in list(vars(module).items()):
            if id(value) in replacements:
                changed.append((module, attr, value))
                setattr(module, attr, replacements[id(value)])
    try:
        yield bool(changed)
    finally:
        for module, attr, value in reversed(changed):
            setattr(module, attr, value)


def _relu_replacements(modules):
    forwards, backwards = _functions(modules, "relu_forward"), _functions(modules, "relu_backward")
    if len(forwards) != 1 or not backwards:
        return {}
    (forward,) = forwards.values()
    inputs = {}    # id(cache) -> (cache, x): the cache is kept alive so its id stays its own

    def remembering_forward(x, *args, **kwargs):
        out, cache = forward(x, *args, **kwargs)
        inputs[id(cache)] = (cache, np.array(x, dtype=np.float64, copy=True))
        return out, cache

    def derived(dout, cache):
        if id(cache) not in inputs:
            raise LookupError("relu_backward got a cache relu_forward did not make")
        x = inputs[id(cache)][1]
        step = RELU_STEP * np.maximum(1.0, np.abs(x))
        plus = np.asarray(forward(x + step)[0], dtype=np.float64)
        minus = np.asarray(forward(x - step)[0], dtype=np.float64)
        return np.asarray(dout) * (plus - minus) / (2 * step)

    replacements = {key: remembering_forward for key in forwards}
    replacements.update({key: derived for key in backwards})
    return replacements


def _softmax_replacements(modules):
    losses = _functions(modules, "softmax_loss")
    if len(losses) != 1:
        return {}
    (student,) = losses.values()

    def derived(x, y):
        x = np.array(x, dtype=np.float64, copy=True)
        if x.size > MAX_SCORES:
            raise ValueError("too many scores to differentiate one by one")
        loss = student(x.copy(), np.array(y, copy=True))[0]
        dx = np.zeros_like(x)
        flat, grad = x.reshape(-1), dx.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + SOFTMAX_STEP
            up = float(student(x.copy(), np.array(y, copy=True))[0])
            flat[i] = keep - SOFTMAX_STEP
            down = float(student(x.copy(), np.array(y, copy=True))[0])
            flat[i] = keep
            grad[i] = (up - down) / (2 * SOFTMAX_STEP)
        return loss, dx

    return {key: derived for key in losses}


@contextlib.contextmanager
def derived_backward(nndl_modules, name):
    """Within the block, `name` (one of DERIVED) is replaced in every student module by the
    version derived from the student's own forward; yields whether anything was replaced."""
    modules = loaded_modules(nndl_modules)
    replacements = (_relu_replacements if name == "relu_backward"
                    else _softmax_replacements)(modules)
    with _replaced(modules, replacements) as active:
        yield active
