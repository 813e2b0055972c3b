"""Padding bugs of a convolution's forward pass, told apart from the case's own inputs.

The commonest first bug of conv_forward_naive is its padding: none at all, one side
only, or a value other than zero. padding_hints() recomputes the convolution of the
case's x, w, b under each such variant (plain numpy on the grader's arrays; the
student's code is not involved) and names the variant the student's output matches;
crash_hints() reads a shape crash in a case with pad > 0 the same way. border_width()
is the pattern the report's pictures read as "only the border differs"
(autograder/report/pictures.py uses it), and the hints fall back on it.
"""
import numpy as np

from autograder.checks.compare import relative_error

PAD_CALL = "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')"
_FIX = "pad it with zeros on both sides of H and W first, " + PAD_CALL + "."

# Words of numpy's errors when arrays of mismatched shapes meet (a window cut short by the
# edge of an unpadded x, a window with the wrong number of channels).
_SHAPE_CRASH_WORDS = ("broadcast", "shape", "out of bounds")


def conv_of_padded(xpad, w, b, stride):
    """The convolution of an already padded input (N, C, Hp, Wp) with w (F, C, HH, WW) and
    b (F,) at `stride`, every window that fits (float64): the reference computation, with
    the padding left to the caller."""
    xpad, w = np.asarray(xpad, np.float64), np.asarray(w, np.float64)
    HH, WW = w.shape[2:]
    if xpad.shape[2] < HH or xpad.shape[3] < WW:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(xpad, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]      # (N, C, H', W', HH, WW)
    return (np.einsum("nchwij,fcij->nfhw", windows, w)
            + np.asarray(b, np.float64).reshape(1, -1, 1, 1))


def _pad(x, before, after, **how):
    """x padded by `before`/`after` entries on the H and W axes (np.pad's mode and values)."""
    return np.pad(x, ((0, 0), (0, 0), (before, after), (before, after)), **how)


def variants(x, pad):
    """(what the student did to x, padded x) of each known padding bug, for pad > 0."""
    return (
        ("not padded", x),
        ("padded on one side only (top and left)", _pad(x, pad, 0)),
        ("padded on one side only (bottom and right)", _pad(x, 0, pad)),
        ("padded with copies of its edge (mode='edge'), not zeros", _pad(x, pad, pad, mode="edge")),
        ("padded with its reflection (mode='reflect'), not zeros",
         _pad(x, pad, pad, mode="reflect")),
        ("padded with its mirror image (mode='symmetric'), not zeros",
         _pad(x, pad, pad, mode="symmetric")),
    )


def _case_arrays(case):
    """(x, w, b, stride, pad) of a convolution case, or None when it is not one."""
    try:
        x, w, b = (np.asarray(case[key], np.float64) for key in ("x", "w", "b"))
        stride = int(np.asarray(case["conv_param.stride"]))
        pad = int(np.asarray(case["conv_param.pad"]))
    except (KeyError, TypeError, ValueError):
        return None
    if x.ndim != 4 or w.ndim != 4 or stride < 1 or pad < 0:
        return None
    return x, w, b, stride, pad


def _matches(out, candidate, tolerance):
    if candidate is None or np.shape(out) != candidate.shape:
        return False
    return relative_error(out, candidate, 1e-3) <= tolerance


def padding_hints(case, out, single=False):
    """The padding bug the student's output `out` matches on this case (a list of one hint),
    or []: none of the variants, a constant other than zero, or pad = 0."""
    arrays = _case_arrays(case)
    if arrays is None or out is None:
        return []
    x, w, b, stride, pad = arrays
    if pad == 0:
        return []
    out = np.asarray(out, np.float64)
    tolerance = 1e-4 if single else 1e-7
    # a small case can leave two bugs with one output (one window, which one side of padding
    # misses): the hint names every variant that fits
    matched = [what for what, xpad in variants(x, pad)
               if _matches(out, conv_of_padded(xpad, w, b, stride), tolerance)]
    if matched:
        return ["x is %s: %s" % (", or ".join(matched), _FIX)]
    value = constant_padding_value(out, x, w, b, stride, pad, tolerance)
    if value is not None:
        return ["x is padded with %g, not zeros (np.pad's constant_values must stay 0): %s"
                % (value, _FIX)]
    return []


def constant_padding_value(out, x, w, b, stride, pad, tolerance):
    """The non-zero constant c such that out is the convolution of x padded with c, or None.
    The output is linear in c (out_c = out_0 + c * ring, ring: the convolution of the padding
    alone, filled with ones), so c is read off by least squares and then checked."""
    zero = conv_of_padded(_pad(x, pad, pad), w, b, stride)
    ring = conv_of_padded(_pad(np.zeros_like(x), pad, pad, constant_values=1.0), w,
                          np.zeros_like(b), stride)
    if zero is None or out.shape != zero.shape or not np.all(np.isfinite(out)):
        return None
    weight = float(np.sum(ring * ring))
    if weight == 0.0:
        return None
    value = float(np.sum((out - zero) * ring) / weight)
    if abs(value) < 1e-6 or not _matches(out, zero + value * ring, tolerance):
        return None
    return round(value, 6)


def crash_hints(case, error_info):
    """A shape crash in a case with pad > 0: most often x left unpadded (windows cut short at
    its edge) or padded on the wrong axes (windows with more channels than w)."""
    arrays = _case_arrays(case)
    if arrays is None or arrays[4] == 0 or not error_info:
        return []
    if error_info.get("type") not in ("ValueError", "IndexError"):
        return []
    message = str(error_info.get("message", ""))
    if not any(word in message for word in _SHAPE_CRASH_WORDS):
        return []
    return ["Your forward crashed on mismatched shapes in a case with pad > 0: x is probably not "
            "padded (windows near its edge come out smaller than the filter), or padded on other "
            "axes than H and W: %s Take every window from the padded array." % _FIX]


def border_width(plane, widest=3):
    """The narrowest ring of the plane's edge (1..widest entries wide, leaving an inside) that
    holds every wrong position, and a quarter of whose positions are wrong (a padding bug
    spoils a side at least; two stray entries near the edge are no pattern); 0 when none."""
    H, W = plane.shape
    for width in range(1, widest + 1):
        inside = H - 2 * width, W - 2 * width
        if min(inside) <= 0:
            return 0
        if not plane[width:H - width, width:W - width].any():
            ring = H * W - inside[0] * inside[1]
            return width if plane.sum() >= 0.25 * ring else 0
    return 0


def border_hints(wrong):
    """Only the border of the output differs (a padding bug of an unknown kind): [hint] or []."""
    wrong = np.asarray(wrong, dtype=bool)
    if wrong.ndim < 2 or not wrong.any():
        return []
    plane = wrong.reshape((-1,) + wrong.shape[-2:]).any(axis=0)
    if not border_width(plane):
        return []
    return ["Only the border of your output differs from the expected one: check the padding "
            "(zeros, pad entries on each side of H and W), " + PAD_CALL + "."]
