"""Numerical gradients by centred differences, for checking analytic gradients.

Every function probes `x` in place (f usually closes over the same array) and
puts each entry back right after its probe, even if f raises, so x is unchanged
when the function returns. Differences are taken in float64 and divided by the
step that was actually applied, which matters for float32 inputs where x + h is
rounded. For float32, a larger h (about 1e-3) keeps rounding noise in f small
next to the difference being measured.
"""
import numpy as np


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """
    Numerical gradient of a scalar function f at x.

    Inputs:
    - f: function taking an array of x's shape and returning a scalar
    - x: float array of any shape; probed in place and restored
    - verbose: if True, print each index and its gradient value
    - h: step size

    Returns:
    - grad: array of x's shape and dtype, grad[i] ~ d f(x) / d x[i]
    """
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        f_plus, f_minus, step = _probe(lambda: float(f(x)), x, ix, h)
        grad[ix] = (f_plus - f_minus) / step
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """
    Numerical gradient of sum(f(x) * df) with respect to x, for an array-valued f.

    This is the gradient a layer's backward pass computes from an upstream
    gradient df.

    Inputs:
    - f: function taking an array of x's shape and returning an array of df's shape
    - x: float array of any shape; probed in place and restored
    - df: upstream gradient, same shape as f(x)
    - h: step size

    Returns:
    - grad: array of x's shape and dtype
    """
    grad = np.zeros_like(x)
    df = np.asarray(df, dtype=np.float64)
    # np.array copies, so an f that reuses its output buffer cannot alias the two probes.
    evaluate = lambda: np.array(f(x), dtype=np.float64)
    for ix in np.ndindex(x.shape):
        out_plus, out_minus, step = _probe(evaluate, x, ix, h)
        grad[ix] = np.sum((out_plus - out_minus) * df) / step
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    """
    Compare numerical and analytic gradients of a scalar f at random entries of x.

    Indices are drawn from numpy's global random state. Prints, for each check,
    the numerical and analytic values and their relative error.

    Inputs:
    - f: function taking an array of x's shape and returning a scalar
    - x: float array of any shape; probed in place and restored
    - analytic_grad: array of x's shape, the gradient to check
    - num_checks: number of random entries to check
    - h: step size

    Returns:
    - list of num_checks relative errors |num - ana| / (|num| + |ana|) (0 when both are 0)
    """
    errors = []
    for _ in range(num_checks):
        ix = tuple(np.random.randint(n) for n in x.shape)
        f_plus, f_minus, step = _probe(lambda: float(f(x)), x, ix, h)
        numerical = (f_plus - f_minus) / step
        analytic = float(analytic_grad[ix])
        error = relative_error(numerical, analytic)
        errors.append(error)
        print("numerical: %f analytic: %f, relative error: %e" % (numerical, analytic, error))
    return errors


def relative_error(a, b):
    """Elementwise |a - b| / (|a| + |b|) as a float, 0 where both are 0; max over arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denominator = np.abs(a) + np.abs(b)
    ratio = np.divide(np.abs(a - b), denominator, out=np.zeros_like(denominator),
                      where=denominator > 0)
    return float(np.max(ratio)) if ratio.size else 0.0


def _probe(evaluate, x, ix, h):
    """
    Evaluate at x[ix] + h and x[ix] - h, restoring x[ix] afterwards.

    Returns (value_plus, value_minus, step) where step is the actual distance
    between the two probe points as stored in x's dtype.
    """
    original = x[ix]
    try:
        x[ix] = original + h
        upper = float(x[ix])
        value_plus = evaluate()
        x[ix] = original - h
        lower = float(x[ix])
        value_minus = evaluate()
    finally:
        x[ix] = original
    if upper == lower:
        raise ValueError("step h=%g vanishes at x%s=%r in %s; use a larger h"
                         % (h, list(ix), float(original), x.dtype))
    return value_plus, value_minus, upper - lower
