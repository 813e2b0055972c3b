"""Numerical gradients of the student's own forward, sparse and directional.

A full centred-difference gradient costs two forward passes per entry (the
CNN's W2 alone has 10^5+ entries), so each input gets
- `count` probes at random entries (all entries when there are few), and
- one directional derivative along a random unit direction v, compared with
  sum(analytic * v): it sees every entry at the price of two forward passes.

Everything runs in float64; float32 cases are not probed (their rounding error
would swamp the differences).
"""
import numpy as np

STEP = 1e-5
DIRECTION_STEP = 1e-6  # smaller: the whole input moves, so kinks (ReLU, max) are likelier
PROBES = 16


def probe(scalar_f, x, analytic, rng, prefix, count=PROBES):
    """
    Probe d scalar_f / dx at x.

    Inputs:
    - scalar_f: float64 array of x's shape -> float (called with fresh arrays)
    - x: the point (float64 array)
    - analytic: the student's gradient (anything; used only for the directional value)
    - rng: numpy Generator choosing entries and the direction
    - prefix: observation key prefix, e.g. "num.x"

    Returns {prefix+".index", ".value", ".dir_numeric", ".dir_analytic"} (arrays).
    """
    x = np.asarray(x, dtype=np.float64)
    size = x.size
    index = np.arange(size) if size <= count else np.sort(rng.choice(size, count, replace=False))
    values = np.empty(len(index))
    flat = x.reshape(-1)
    for k, i in enumerate(index):
        plus, minus = flat.copy(), flat.copy()
        plus[i] += STEP
        minus[i] -= STEP
        values[k] = (float(scalar_f(plus.reshape(x.shape))) -
                     float(scalar_f(minus.reshape(x.shape)))) / (2 * STEP)
    direction = rng.standard_normal(x.shape)
    direction /= np.linalg.norm(direction) or 1.0
    dir_numeric = (float(scalar_f(x + DIRECTION_STEP * direction)) -
                   float(scalar_f(x - DIRECTION_STEP * direction))) / (2 * DIRECTION_STEP)
    try:
        grad = np.asarray(analytic, dtype=np.float64)
        dir_analytic = float(np.sum(grad * direction)) if grad.shape == x.shape else np.nan
    except (TypeError, ValueError):
        dir_analytic = np.nan
    return {prefix + ".index": index.astype(np.int64), prefix + ".value": values,
            prefix + ".dir_numeric": np.array(dir_numeric),
            prefix + ".dir_analytic": np.array(dir_analytic)}


def agreement(student_grad, obs, prefix, tolerance, scale=0.0):
    """
    How the student's analytic gradient compares with its numerical probes.
    Differences below 1e-3 of max(the probed values, `scale`) do not count: a
    gradient that is zero in exact arithmetic (a bias before batchnorm) is
    compared on the scale of the model's other gradients, not on rounding noise.

    Returns (agrees: bool | None, worst relative error); None when there are no
    probes (float32 case, or the forward failed while probing).
    """
    keys = [prefix + s for s in (".index", ".value", ".dir_numeric", ".dir_analytic")]
    if not all(key in obs for key in keys) or student_grad is None:
        return None, float("nan")
    try:
        grad = np.asarray(student_grad, dtype=np.float64).reshape(-1)
        index = np.asarray(obs[keys[0]], dtype=np.int64)
        numeric = np.asarray(obs[keys[1]], dtype=np.float64)
        if index.size and (index.max() >= grad.size or index.min() < 0):
            return False, float("inf")
        analytic = grad[index]
    except (TypeError, ValueError):
        return None, float("nan")
    scale = max(float(np.max(np.abs(numeric), initial=0.0)),
                float(np.max(np.abs(analytic), initial=0.0)), float(scale))
    floor = 1e-3 * scale + 1e-12
    entry_error = float(np.max(np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor),
                               initial=0.0))
    d_num = float(np.asarray(obs[keys[2]]))
    d_ana = float(np.asarray(obs[keys[3]]))
    dir_error = abs(d_num - d_ana) / max(abs(d_num) + abs(d_ana), floor)
    if not np.isfinite(d_ana):
        dir_error = float("inf")
    worst = max(entry_error, dir_error)
    return bool(worst <= tolerance), worst
