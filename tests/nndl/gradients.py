"""Test helpers for the nndl tests: centred-difference gradients in float64,
the relative error used by every gradient check, and bitwise snapshots of
arguments for the no-mutation checks.

Written from the definitions only; nothing here calls the code under test.
"""
import copy

import numpy as np

# Step of the centred differences. The error of (f(x+h) - f(x-h)) / 2h is
# O(h^2) from truncation plus O(eps * |f| / h) from rounding; 1e-5 balances
# the two for the O(1) functions used in these tests.
STEP = 1e-5
# Step for (piecewise) linear functions checked away from their kinks: there
# is no truncation error, so a larger step only shrinks the rounding error.
# Inputs of such checks keep every kink (ReLU zero, max-pool tie, hinge)
# further than this from the evaluation point.
LINEAR_STEP = 1e-3


def numerical_gradient(f, x, h=STEP):
    """
    Centred-difference gradient of the scalar function f at x, in float64.

    f is called with a float64 copy of x that is perturbed in place one entry
    at a time (so f may keep a reference to it, e.g. store it in a model).
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = float(f(x))
        x[idx] = old - h
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_of_output(f, x, dout, h=STEP):
    """
    Gradient at x of sum(f(x) * dout), the quantity a backward pass returns
    when dout is the upstream derivative of the array-valued f.

    The two outputs are subtracted before they are weighted and summed, so
    outputs that do not depend on the perturbed entry cancel exactly and add
    no rounding error.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        out_plus = np.array(f(x), dtype=np.float64)
        x[idx] = old - h
        out_minus = np.array(f(x), dtype=np.float64)
        x[idx] = old
        grad[idx] = np.sum((out_plus - out_minus) * dout) / (2 * h)
    return grad


def rel_error(a, b):
    """
    Largest element-wise relative error |a - b| / (|a| + |b|), the usual
    gradient-check measure; the 1e-8 floor keeps exact zeros from dividing by 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def scaled_error(a, b):
    """
    Largest absolute difference relative to the largest entry of a or b: for
    gradients whose small entries sit at the rounding floor of a finite
    difference (a whole network's loss), where the element-wise measure
    would only measure that floor.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


def snapshot(value):
    """A deep copy of value (arrays, and dicts / lists / tuples holding them)."""
    return copy.deepcopy(value)


def assert_bitwise_equal(before, after, where="argument"):
    """
    Assert that after holds exactly what the snapshot before held: same
    structure, same array dtypes, shapes and bytes (so NaNs compare equal).
    """
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), "%s is no longer an array" % where
        assert after.dtype == before.dtype, "%s changed dtype" % where
        assert after.shape == before.shape, "%s changed shape" % where
        assert after.tobytes() == before.tobytes(), "%s was written into" % where
    elif isinstance(before, dict):
        assert isinstance(after, dict) and set(after) == set(before), "%s changed keys" % where
        for key in before:
            assert_bitwise_equal(before[key], after[key], "%s[%r]" % (where, key))
    elif isinstance(before, (list, tuple)):
        assert type(after) is type(before) and len(after) == len(before), "%s changed" % where
        for i, (b, a) in enumerate(zip(before, after)):
            assert_bitwise_equal(b, a, "%s[%d]" % (where, i))
    else:
        assert after == before, "%s changed from %r to %r" % (where, before, after)
