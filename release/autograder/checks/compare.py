"""How an output is compared with the expected one.

The error of one array is

    max_i |a_i - e_i| / max(|a_i| + |e_i|, floor * max_j |e_j|)

the usual element-wise relative error, except that the denominator never drops
below a small fraction (`floor`) of the expected array's largest magnitude. Why:
a correct alternative implementation (another summation order) differs from
the reference by about machine epsilon times the array's scale, which is a
huge relative error on an entry that cancels to almost zero. The floor makes
those entries compare on the array's scale; any other entry still compares
element-wise.

Dtype is a convention, not a value: an output in another float dtype than the
reference's is compared by its values (a note says so, see dtype_note), at the
looser tolerance of the two dtypes (exact float64 values for a float32 case
compare at the float32 tolerance; float32 values for a float64 case too).

Knobs (spec [settings], overridable per item): the item's `tolerance` for
float64 cases; max(tolerance, float32_tolerance) when either side is float32;
error_floor_float64 / error_floor_float32; numeric_tolerance for the
student's backward against the numerical gradient of the student's forward.
"""
from dataclasses import dataclass

import numpy as np

DEFAULTS = {
    "float32_tolerance": 1e-4,
    "error_floor_float64": 1e-6,
    "error_floor_float32": 1e-2,
    "numeric_tolerance": 1e-5,
    "output_limit_kb": 256,
}


def knob(item, name):
    return item.extras.get(name, DEFAULTS[name])


@dataclass(frozen=True)
class Mismatch:
    """Why one output does not match: kind is missing|type|shape|nan|value (never dtype)."""
    key: str
    kind: str
    message: str
    error: float = float("inf")
    tolerance: float = 0.0


def is_float32(array):
    return np.asarray(array).dtype == np.float32


def _low_precision(array):
    """float32 or narrower floats (float16): compared at the float32 knobs."""
    dtype = np.asarray(array).dtype
    return dtype.kind == "f" and dtype.itemsize <= 4


def tolerances(item, expected, actual=None):
    """(tolerance, floor) for comparing `actual` with `expected`: the looser of their dtypes'."""
    if _low_precision(expected) or (actual is not None and _low_precision(actual)):
        return (max(item.tolerance, knob(item, "float32_tolerance")),
                knob(item, "error_floor_float32"))
    return item.tolerance, knob(item, "error_floor_float64")


def relative_error(actual, expected, floor, scale=0.0):
    """
    The error defined in the module docstring (inf if a NaN/inf appears only in
    actual). `scale` raises the expected array's scale for the floor: gradients
    that are zero in exact arithmetic (a bias before batchnorm) are compared on
    the scale of the other gradients of the same model.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return 0.0
    bad_a, bad_e = ~np.isfinite(a), ~np.isfinite(e)
    if np.any(bad_a != bad_e) or np.any(a[bad_a] != e[bad_a]):
        return float("inf")
    a, e = np.where(bad_a, 0.0, a), np.where(bad_e, 0.0, e)
    scale = max(float(np.max(np.abs(e))), float(scale))
    denom = np.maximum(np.abs(a) + np.abs(e), floor * scale)
    diff = np.abs(a - e)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / np.where(denom == 0, 1.0, denom))
    return float(np.max(ratio))


def describe_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def compare_output(key, actual, expected, tolerance, floor, what=None, scale=0.0):
    """
    Compare one output with the expected array; None when it matches.

    `what` names the output in messages (default: the key).
    """
    what = what or key
    if actual is None:
        return Mismatch(key, "missing", "%s is missing (the function returned None or too few values)" % what)
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.dtype.kind not in "biuf":
        return Mismatch(key, "type", "%s is not a numeric array (got dtype %s)" % (what, actual.dtype))
    if actual.shape != expected.shape:
        return Mismatch(key, "shape", "%s has shape %s, expected %s"
                        % (what, describe_shape(actual.shape), describe_shape(expected.shape)))
    if np.any(np.isnan(actual.astype(np.float64))) and not np.any(np.isnan(expected.astype(np.float64))):
        count = int(np.isnan(actual.astype(np.float64)).sum())
        return Mismatch(key, "nan", "%s contains NaN (%d of %d entries)" % (what, count, actual.size))
    error = relative_error(actual, expected, floor, scale)
    if not error <= tolerance:
        return Mismatch(key, "value", "%s differs from the expected values (relative error %.1e > %.0e)"
                        % (what, error, tolerance), error, tolerance)
    return None


def dtype_note(key, actual, expected):
    """A note (not a mismatch) when an array output's float dtype differs from the reference's."""
    if actual is None:
        return None
    actual, expected = np.asarray(actual), np.asarray(expected)
    if expected.dtype.kind != "f" or expected.ndim == 0 or actual.dtype == expected.dtype \
            or actual.dtype.kind not in "biuf":
        return None
    return ("%s has dtype %s where the reference returns %s: the values are what count, but "
            "keeping the input's dtype (np.zeros(shape, dtype=x.dtype), np.zeros_like(x)) "
            "saves memory and time." % (key, actual.dtype, expected.dtype))


PICTURE_MAX_ENTRIES = 1 << 16   # a wrong output bigger than this (per sample) gets no picture


@dataclass(frozen=True)
class Difference:
    """
    Where one wrong output differs, for the report's picture (computed in the grader).
    - magnitude: |actual - expected|, the largest over the batch axis of a 4-D output
      (C, H, W); other outputs as they are; float32
    - wrong: same shape, True where an entry is off by more than the tolerance
      (the element-wise error of relative_error, over the batch axis: any)
    - shape: the output's full shape
    - case: the case's label
    """
    magnitude: object
    wrong: object
    shape: tuple
    case: str = ""


def difference(actual, expected, tolerance, floor, scale=0.0, case=""):
    """The Difference of a same-shape numeric output, or None (other shapes, no finite entries,
    too big to picture)."""
    a = np.asarray(actual)
    e = np.asarray(expected)
    if a.shape != e.shape or a.dtype.kind not in "biuf" or a.ndim == 0 or a.size < 2:
        return None
    if a.size // (a.shape[0] if a.ndim == 4 else 1) > PICTURE_MAX_ENTRIES:
        return None
    a, e = a.astype(np.float64), e.astype(np.float64)
    finite = np.isfinite(a) & np.isfinite(e)
    a0, e0 = np.where(finite, a, 0.0), np.where(finite, e, 0.0)
    diff = np.abs(a0 - e0)
    top = max(float(np.max(np.abs(e0))), float(scale))
    denom = np.maximum(np.abs(a0) + np.abs(e0), floor * top)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / np.where(denom == 0, 1.0, denom))
    # a NaN or infinity is wrong where the other side does not have the same value
    wrong = (ratio > tolerance) | (~finite & ~((a == e) | (np.isnan(a) & np.isnan(e))))
    magnitude = np.where(finite, diff, np.nan)
    if a.ndim == 4:
        magnitude = np.max(magnitude, axis=0)   # NaN where any sample has a NaN or infinity
        wrong = wrong.any(axis=0)
    return Difference(magnitude.astype(np.float32), wrong, tuple(a.shape), str(case))
