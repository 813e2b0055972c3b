"""Compiled passes over the rows of a batch normalisation (nndl's may use them).

    kernels = row_kernels(x, dout)   # None, or the module holding the kernels

Each pass of a batchnorm over an (N, D) array (statistics, output, gradient sums,
gradient) is several numpy operations, each reading and writing the block again;
the kernels in cs231n/im2col_cython.pyx do a pass in one go, with float64 sums:

- _shifted_sums_into(x, shift, sums, squares): column sums of x - shift and of its square
- _normalise_into(x, mean, scale, beta, out): out = (x - mean) * scale + beta
- _gradient_sums_into(dout, x, mean, sums, products): column sums of dout and of
  dout * (x - mean)
- _batchnorm_dx_into(dout, x, mean, centred_factor, mean_dout, scale, dx):
  dx = (dout - (x - mean) * centred_factor - mean_dout) * scale

x, dout, out and dx are C-contiguous (n, D) blocks, the vectors (D,), all of one
dtype (float32 or float64); sums are float64 (D,) arrays added into.
"""
import numpy as np

try:
    from cs231n import im2col_cython as _compiled
    if not hasattr(_compiled, "_batchnorm_dx_into"):  # a build from before these kernels
        _compiled = None
except ImportError:
    _compiled = None

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def row_kernels(x, *others):
    """The module with the compiled row kernels if x is a 2-D array and x and others
    are C-contiguous arrays of one dtype the kernels take; None otherwise (or where
    the kernels are not built): the caller then uses numpy."""
    arrays = (x,) + others
    if _compiled is None or np.ndim(x) != 2 or x.dtype not in _DTYPES:
        return None
    if any(a.dtype != x.dtype or not a.flags.c_contiguous for a in arrays):
        return None
    return _compiled
