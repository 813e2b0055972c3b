"""Fast convolution and max pooling layers (same results as the naive loops).

Every layer is a pair `*_forward(...) -> (out, cache)` /
`*_backward(dout, cache) -> gradients`; a cache only goes back to the
backward function of the same variant. Conventions:

- x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); conv_param {'stride', 'pad'};
  conv out: (N, F, H', W') with H' = 1 + (H + 2 * pad - HH) / stride,
  W' = 1 + (W + 2 * pad - WW) / stride; conv backward returns (dx, dw, db).
- pool_param {'pool_height', 'pool_width', 'stride'}; pool out: (N, C, H', W')
  with H' = 1 + (H - pool_height) // stride (windows running past the edge are
  dropped, as in the naive layer); pool backward returns dx.
- Pads and strides may be integral floats (3.0); anything that does not fit
  raises ValueError. Float inputs keep their dtype (float32 stays float32), and
  dx has x's dtype whatever dout's (a float64 dout of a float32 x gives float32 dx).
  No function writes into its arguments.
- Max pooling sends each window's whole upstream gradient to one entry: the
  first maximum in row-major window order (what argmax picks).

Convolutions go through im2col: the columns of an image (C*HH*WW rows, one
column per output pixel, see cs231n/im2col.py) times the filter matrix.
Big convolutions (done in chunks of images) return their (N, F, H', W')
output as a view of channels-last (N, H', W', F) memory: the products land
in place, spatial batchnorm's (N*H'*W', F) view of it is free, and max
pooling and the convolution's backward read that layout directly (pooling
hands its gradient back in the same layout). Values and shapes are the same
either way; only the strides differ. The
compiled kernels in cs231n/im2col_cython.pyx are used when built; otherwise
the numpy versions in cs231n/im2col.py are (with one warning). Big batches go
through the compiled kernels in slices on several threads at once
(cs231n/threads.py: they release the GIL and treat every image on its own, so
the results are the same).
"""
import warnings
from dataclasses import dataclass

import numpy as np

from cs231n import im2col as numpy_im2col
from cs231n.threads import for_slices
from cs231n.layer_params import whole_number

_KERNELS = ('im2col_into_cython', 'im2col_cython', 'col2im_add_cython', 'col2im_cython',
            'col2im_6d_cython', 'max_pool_forward_cython', 'max_pool_backward_cython',
            'max_pool_forward_nhwc_cython', 'max_pool_backward_nhwc_cython',
            '_max_pool_forward_into', '_max_pool_forward_strided_into',
            '_max_pool_forward_nhwc_into', '_max_pool_backward_tiled',
            '_max_pool_backward_add', '_max_pool_backward_nhwc_into')

try:
    from cs231n import im2col_cython as _compiled
    _problem = None
    if not all(hasattr(_compiled, name) for name in _KERNELS):
        _compiled, _problem = None, "is an outdated build"
except ImportError:  # extension not built: same results from numpy, just slower
    _compiled, _problem = None, "is not compiled"
if _problem:
    warnings.warn(
        "cs231n.im2col_cython %s, so cs231n.fast_layers falls back to slower numpy "
        "code. Build it from the repository root with `pip install -e .` or "
        "`python setup.py build_ext --inplace`." % _problem,
        RuntimeWarning, stacklevel=2)

HAVE_COMPILED = _compiled is not None
_COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------------------- #
# Geometry
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class ConvGeometry:
    """Validated integer geometry of one convolution."""
    stride: int
    pad: int
    out_h: int
    out_w: int


@dataclass(frozen=True)
class PoolGeometry:
    """Validated integer geometry of one max pooling."""
    pool_height: int
    pool_width: int
    stride: int
    out_h: int
    out_w: int
    tiles: bool  # pools are stride x stride and cover the input exactly once


def conv_geometry(x_shape, w_shape, conv_param):
    """Check a convolution's shapes and parameters; return its ConvGeometry."""
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError("conv needs x (N, C, H, W) and w (F, C, HH, WW), got shapes %s and %s"
                         % (tuple(x_shape), tuple(w_shape)))
    _, C, H, W = x_shape
    _, C_w, HH, WW = w_shape
    if C != C_w:
        raise ValueError("x has %d channels but w expects %d" % (C, C_w))
    stride = whole_number(conv_param['stride'], "conv_param['stride']")
    pad = whole_number(conv_param['pad'], "conv_param['pad']")
    if stride < 1 or pad < 0:
        raise ValueError("conv needs stride >= 1 and pad >= 0, got stride %d, pad %d"
                         % (stride, pad))
    out = []
    for axis, size, field in (("height", H, HH), ("width", W, WW)):
        span = size + 2 * pad - field
        if span < 0:
            raise ValueError("filter %s %d is larger than the padded input %s %d + 2*%d"
                             % (axis, field, axis, size, pad))
        if span % stride:
            raise ValueError(
                "stride %d does not fit the input %s: %s + 2*pad - filter = %d + 2*%d - %d = %d "
                "is not a multiple of %d" % (stride, axis, axis, size, pad, field, span, stride))
        out.append(1 + span // stride)
    return ConvGeometry(stride=stride, pad=pad, out_h=out[0], out_w=out[1])


def pool_geometry(x_shape, pool_param):
    """Check a max pooling's shapes and parameters; return its PoolGeometry."""
    if len(x_shape) != 4:
        raise ValueError("max pooling needs x (N, C, H, W), got shape %s" % (tuple(x_shape),))
    _, _, H, W = x_shape
    ph = whole_number(pool_param['pool_height'], "pool_param['pool_height']")
    pw = whole_number(pool_param['pool_width'], "pool_param['pool_width']")
    stride = whole_number(pool_param['stride'], "pool_param['stride']")
    if ph < 1 or pw < 1 or stride < 1:
        raise ValueError("pool sizes and stride must be >= 1, got %dx%d, stride %d"
                         % (ph, pw, stride))
    if ph > H or pw > W:
        raise ValueError("%dx%d pools do not fit a %dx%d input" % (ph, pw, H, W))
    out_h = 1 + (H - ph) // stride
    out_w = 1 + (W - pw) // stride
    tiles = ph == pw == stride and H % ph == 0 and W % pw == 0
    return PoolGeometry(ph, pw, stride, out_h, out_w, tiles)


def _float_dtype(*arrays):
    """Common dtype of the arrays, as a float dtype (ints compute in float64)."""
    dtype = np.result_type(*arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _use_compiled(dtype):
    return HAVE_COMPILED and dtype in _COMPILED_DTYPES


# --------------------------------------------------------------------------- #
# Convolution
# --------------------------------------------------------------------------- #

# Images go through the matmuls in CHUNK_COUNT chunks (fewer if a chunk's
# output would pass CHUNK_BYTES). One matmul per image (the obvious batched
# layout) needs no transposes, but every BLAS call is a hand-off between BLAS
# threads, and on a busy machine each hand-off can wait for a scheduler time
# slice. Measured at load 8 on 2 cores, conv fwd+bwd (200x3x32x32 float32):
# 4100 ms with one matmul per image, 1100 ms with 2 MB chunks, 430 ms with
# 16 MB chunks (PyTorch: 620 ms). Big chunks cost CPU time in cache misses
# (single-threaded: 50 ms with a matmul per image, 82 ms in 16 MB chunks), so
# a batch is cut into a few chunks: 4 chunks gave 77 ms single-threaded.
CHUNK_COUNT = 4
CHUNK_BYTES = 16 << 20


def _chunks(N, bytes_per_image):
    size = max(1, min(-(-N // CHUNK_COUNT), CHUNK_BYTES // max(1, bytes_per_image)))
    return [(start, min(N, start + size)) for start in range(0, N, size)]


def _im2col_fill(x, cols, field_h, field_w, pad, stride):
    """Write the columns of x (contiguous) into the first rows of cols (N, R, P)."""
    if _use_compiled(x.dtype):
        for_slices(x.shape[0], cols.shape[0] * cols.shape[1] * cols.shape[2] * x.itemsize,
                    lambda start, stop: _compiled.im2col_into_cython(
                        x[start:stop], cols[start:stop], field_h, field_w, pad, stride))
    else:
        K = x.shape[1] * field_h * field_w
        cols[:, :K] = numpy_im2col.im2col_indices(x, field_h, field_w, pad, stride)


def _strided_fill(x, cols, field_h, field_w, pad, stride):
    """Write the columns of x into the first rows of cols via a strided window view."""
    K = x.shape[1] * field_h * field_w
    cols[:, :K] = numpy_im2col.im2col_strided(x, field_h, field_w, pad, stride)


def _col2im_add(dcols, dx, field_h, field_w, pad, stride):
    """dx (zeros, contiguous) += col2im of the column gradients dcols (N, K, P)."""
    if _use_compiled(dx.dtype):
        for_slices(dx.shape[0], dcols.shape[0] * dcols.shape[1] * dcols.shape[2] * dx.itemsize,
                    lambda start, stop: _compiled.col2im_add_cython(
                        dcols[start:stop], dx[start:stop], field_h, field_w, pad, stride))
    else:
        dx += numpy_im2col.col2im_indices(dcols, dx.shape, field_h, field_w, pad, stride)


def _col2im_6d_add(dcols, dx, field_h, field_w, pad, stride):
    """Same as _col2im_add, through the 6-D column layout (N, C, HH, WW, H', W')."""
    N, C, H, W = dx.shape
    out_h = numpy_im2col.output_size(H, field_h, pad, stride)
    dcols6 = dcols.reshape(N, C, field_h, field_w, out_h, -1)
    if _use_compiled(dx.dtype):
        dx += _compiled.col2im_6d_cython(dcols6, N, C, H, W, field_h, field_w, pad, stride)
    else:
        dx += numpy_im2col.col2im_indices(dcols6, dx.shape, field_h, field_w, pad, stride)


# A product of at most SMALL_PRODUCT multiply-adds per image is done as one
# matmul per image (numpy's batched matmul): OpenBLAS runs such small products
# on one thread, so there is no hand-off to wait for, and no transposes are
# needed (handout shape, single-threaded CPU: fwd+bwd 4.5 ms, against 17 ms
# as one matmul for the batch). Bigger ones go through one matmul per chunk
# (see CHUNK_COUNT); either way the images are taken in chunks, so the
# column buffers are reused and stay small.
SMALL_PRODUCT = 1 << 18


class _Columns:
    """Reused column buffer for chunks of up to `size` images.

    view(count) is the (count, K+1, P) array the im2col kernel fills (row K
    stays all ones, for the bias); operand(count) is the same memory as the
    matmul wants it: (count, K+1, P) per image, or (K+1, count*P) per chunk.
    """

    def __init__(self, K, size, P, dtype, per_image):
        self.K, self.P, self.per_image = K, P, per_image
        if per_image:
            self.buffer = np.empty((size, K + 1, P), dtype=dtype)
            self.buffer[:, K] = 1
        else:
            self.buffer = np.empty((K + 1, size * P), dtype=dtype)
            self.buffer[K] = 1

    def operand(self, count):
        if self.per_image:
            return self.buffer[:count]
        return self.buffer[:, :count * self.P]

    def view(self, count):
        if self.per_image:
            return self.buffer[:count]
        return self.operand(count).reshape(self.K + 1, count, self.P).transpose(1, 0, 2)


def _conv_plan(x_shape, w_shape, geo, dtype):
    """(K, P, chunks, per_image) for a convolution of these shapes."""
    N, C = x_shape[:2]
    F, _, HH, WW = w_shape
    K, P = C * HH * WW, geo.out_h * geo.out_w
    per_image = F * (K + 1) * P <= SMALL_PRODUCT
    chunks = _chunks(N, max(F, K + 1) * P * dtype.itemsize)
    return K, P, chunks, per_image


def _conv_forward(x, w, b, conv_param, fill_cols, col2im_add):
    geo = conv_geometry(np.shape(x), np.shape(w), conv_param)
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    dtype = _float_dtype(x, w, b)
    x_compute = np.ascontiguousarray(x, dtype=dtype)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    K, P, chunks, per_image = _conv_plan(x.shape, w.shape, geo, dtype)
    # A row of ones under the taps folds the bias into the matmul (and db into
    # the dw matmul), saving a pass over the output and over dout.
    w_and_b = np.empty((F, K + 1), dtype=dtype)
    w_and_b[:, :K] = w.reshape(F, K)
    w_and_b[:, K] = b
    size = chunks[0][1]
    columns = _Columns(K, size, P, dtype, per_image)
    if per_image:
        out = np.empty((N, F, geo.out_h, geo.out_w), dtype=dtype)
        out_rows = out.reshape(N, F, P)
    else:
        # Channels-last memory, (N, H', W', F), returned as an (N, F, H', W')
        # view: each chunk's product lands in place with no transposing copy,
        # and spatial batchnorm's (N*H'*W', F) view of it is free.
        out_nhwc = np.empty((N, geo.out_h, geo.out_w, F), dtype=dtype)
        out_rows = out_nhwc.reshape(N * P, F)
        out = out_nhwc.transpose(0, 3, 1, 2)
    for start, stop in chunks:
        count = stop - start
        fill_cols(x_compute[start:stop], columns.view(count), HH, WW, geo.pad, geo.stride)
        if per_image:
            np.matmul(w_and_b, columns.operand(count), out=out_rows[start:stop])
        else:
            # np.matmul, not np.dot: for this tall product with few taps
            # (K + 1 = 28 for 3x3 RGB filters) it took 1.2 ms a chunk against 1.8.
            np.matmul(columns.operand(count).T, w_and_b.T, out=out_rows[start * P:stop * P])
    # The columns are rebuilt in backward (cheap) rather than kept: x is cached.
    cache = (x_compute, x.dtype, w, b.dtype, geo, fill_cols, col2im_add)
    return out, cache


def _conv_backward(dout, cache, with_dx=True):
    x, x_dtype, w, b_dtype, geo, fill_cols, col2im_add = cache
    dtype = x.dtype
    N = x.shape[0]
    F, _, HH, WW = w.shape
    K, P, chunks, per_image = _conv_plan(x.shape, w.shape, geo, dtype)
    dout = np.asarray(dout, dtype=dtype)
    if per_image:
        dout_rows = dout.reshape(N, F, P)
    else:
        # (N*H'*W', F) rows: free when dout is channels-last memory (what
        # spatial batchnorm passes back for our channels-last output), else one copy.
        dout_rows = np.ascontiguousarray(dout.transpose(0, 2, 3, 1)).reshape(N * P, F)
    w_rows_t = np.ascontiguousarray(w.reshape(F, K).T, dtype=dtype)  # (K, F)
    dw_and_db = np.zeros((F, K + 1), dtype=dtype)
    dx = np.zeros(x.shape, dtype=dtype) if with_dx else None
    size = chunks[0][1]
    columns = _Columns(K, size, P, dtype, per_image)
    dcols_buffer = np.empty(K * size * P, dtype=dtype) if with_dx else None
    for start, stop in chunks:
        count = stop - start
        fill_cols(x[start:stop], columns.view(count), HH, WW, geo.pad, geo.stride)
        cols = columns.operand(count)
        if per_image:
            dout_chunk = dout_rows[start:stop]
            dw_and_db += np.matmul(dout_chunk, cols.transpose(0, 2, 1)).sum(axis=0)
        else:
            # dout of the chunk as (F, count*P), image-major columns like cols.
            dout_chunk = dout_rows[start * P:stop * P].T
            dw_and_db += np.dot(dout_chunk, cols.T)
        if not with_dx:
            continue
        if per_image:
            dcols = dcols_buffer[:K * count * P].reshape(count, K, P)
            np.matmul(w_rows_t, dout_chunk, out=dcols)
        else:
            dcols = dcols_buffer[:K * count * P].reshape(K, count * P)
            np.dot(w_rows_t, dout_chunk, out=dcols)
            dcols = dcols.reshape(K, count, P).transpose(1, 0, 2)
        col2im_add(dcols, dx[start:stop], HH, WW, geo.pad, geo.stride)
    dw = dw_and_db[:, :K].reshape(w.shape).astype(w.dtype, copy=False)
    db = np.ascontiguousarray(dw_and_db[:, K]).astype(b_dtype, copy=False)
    if not with_dx:
        return dw, db
    return dx.astype(x_dtype, copy=False), dw, db


def conv_forward_im2col(x, w, b, conv_param):
    """
    Convolution forward pass by im2col (compiled kernel if built).

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - w: Filter weights of shape (F, C, HH, WW)
    - b: Biases of shape (F,)
    - conv_param: {'stride': int, 'pad': int} (integral floats accepted)

    Returns a tuple of:
    - out: Output of shape (N, F, H', W'), H' = 1 + (H + 2 * pad - HH) / stride,
      W' = 1 + (W + 2 * pad - WW) / stride
    - cache: for conv_backward_im2col
    """
    return _conv_forward(x, w, b, conv_param, _im2col_fill, _col2im_add)


def conv_backward_im2col(dout, cache):
    """
    Convolution backward pass for conv_forward_im2col.

    Inputs:
    - dout: Upstream derivatives of shape (N, F, H', W')
    - cache: from conv_forward_im2col

    Returns a tuple of:
    - dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,)
    """
    return _conv_backward(dout, cache)


def conv_forward_strides(x, w, b, conv_param):
    """
    Convolution forward pass whose columns are one copy of a strided window
    view of the padded input (pure numpy); shapes as conv_forward_im2col.

    Returns (out (N, F, H', W'), cache for conv_backward_strides).
    """
    return _conv_forward(x, w, b, conv_param, _strided_fill, _col2im_6d_add)


def conv_backward_strides(dout, cache):
    """
    Convolution backward pass for conv_forward_strides (col2im on the 6-D
    column layout, compiled if built).

    Inputs: dout (N, F, H', W'), cache from conv_forward_strides.
    Returns (dx (N, C, H, W), dw (F, C, HH, WW), db (F,)).
    """
    return _conv_backward(dout, cache)


def conv_forward_fast(x, w, b, conv_param):
    """
    The fastest convolution forward pass here (im2col with the compiled kernel).

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - w: Filter weights of shape (F, C, HH, WW)
    - b: Biases of shape (F,)
    - conv_param: {'stride': int, 'pad': int} (integral floats accepted)

    Returns a tuple of:
    - out: Output of shape (N, F, H', W'), H' = 1 + (H + 2 * pad - HH) / stride,
      W' = 1 + (W + 2 * pad - WW) / stride
    - cache: for conv_backward_fast
    """
    return conv_forward_im2col(x, w, b, conv_param)


def conv_backward_fast(dout, cache):
    """
    Backward pass for conv_forward_fast.

    Inputs:
    - dout: Upstream derivatives of shape (N, F, H', W')
    - cache: from conv_forward_fast

    Returns a tuple of:
    - dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,)
    """
    return conv_backward_im2col(dout, cache)


def conv_backward_fast_params(dout, cache):
    """
    The parameter gradients of conv_backward_fast, without dx: for a network's
    first layer, whose input (the images) needs no gradient. The column
    gradients and their col2im, about a third of the backward pass, are
    skipped (PyTorch skips them likewise for inputs that do not require grad).

    Inputs:
    - dout: Upstream derivatives of shape (N, F, H', W')
    - cache: from conv_forward_fast

    Returns a tuple of:
    - dw: (F, C, HH, WW), db: (F,), the same values as conv_backward_fast's
    """
    return _conv_backward(dout, cache, with_dx=False)


# --------------------------------------------------------------------------- #
# Max pooling
# --------------------------------------------------------------------------- #

def _winner_dtype(geo):
    return np.uint16 if geo.pool_height * geo.pool_width <= 65536 else np.int32


def _pool_input(x):
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _grad_dtype(x_dtype, dout):
    """dx takes the dtype of the forward input, as the convolutions' dx does: a float64
    dout (a float64 layer downstream) would otherwise turn dx and every layer's backward
    below it float64, at twice the memory traffic of float32 and more. Pooling only
    routes values, so this is dout rounded to x's precision."""
    x_dtype = np.dtype(x_dtype)
    return x_dtype if np.issubdtype(x_dtype, np.floating) else _float_dtype(dout)


def max_pool_forward_reshape(x, pool_param):
    """
    Max pooling by reshaping x into its windows; needs pools that tile x
    (pool_height == pool_width == stride dividing H and W), ValueError otherwise.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - pool_param: {'pool_height', 'pool_width', 'stride'}

    Returns a tuple of:
    - out: (N, C, H / pool_height, W / pool_width), x's dtype
    - cache: for max_pool_backward_reshape
    """
    x = _pool_input(x)
    geo = pool_geometry(x.shape, pool_param)
    if not geo.tiles:
        raise ValueError("the reshape method needs pools that tile the input "
                         "(pool_height == pool_width == stride dividing H and W); got "
                         "%dx%d pools, stride %d on a %dx%d input"
                         % (geo.pool_height, geo.pool_width, geo.stride, *x.shape[2:]))
    N, C, H, W = x.shape
    ph, pw = geo.pool_height, geo.pool_width
    # (N, C, OH, OW, ph * pw): each window's entries in row-major order, so
    # argmax picks the first maximum as the naive layer does.
    windows = x.reshape(N, C, geo.out_h, ph, geo.out_w, pw).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(N, C, geo.out_h, geo.out_w, ph * pw)
    winner = windows.argmax(axis=4)
    out = np.take_along_axis(windows, winner[..., None], axis=4)[..., 0]
    cache = ('reshape', x.shape, x.dtype, geo, winner.astype(_winner_dtype(geo)))
    return out, cache


def max_pool_backward_reshape(dout, cache):
    """
    Backward pass for max_pool_forward_reshape.

    Inputs: dout (N, C, H', W'); cache from max_pool_forward_reshape.
    Returns dx: (N, C, H, W).
    """
    _, x_shape, x_dtype, geo, winner = cache
    N, C, H, W = x_shape
    ph, pw = geo.pool_height, geo.pool_width
    dout = np.asarray(dout)
    dx = np.zeros((N, C, geo.out_h, ph, geo.out_w, pw), dtype=_grad_dtype(x_dtype, dout))
    for k in range(ph * pw):
        a, b = divmod(k, pw)
        np.copyto(dx[:, :, :, a, :, b], dout, where=winner == k)
    return dx.reshape(x_shape)


def _pool_cols(x, geo):
    """im2col of each channel as its own image: (N * C, ph * pw, OH * OW)."""
    N, C, H, W = x.shape
    images = np.ascontiguousarray(x).reshape(N * C, 1, H, W)
    if _use_compiled(x.dtype):
        return _compiled.im2col_cython(images, geo.pool_height, geo.pool_width, 0, geo.stride)
    return numpy_im2col.im2col_indices(images, geo.pool_height, geo.pool_width, 0, geo.stride)


def max_pool_forward_im2col(x, pool_param):
    """
    Max pooling through im2col; any pool size and stride (overlapping pools,
    pools that leave a remainder).

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - pool_param: {'pool_height', 'pool_width', 'stride'}

    Returns a tuple of:
    - out: (N, C, H', W'), H' = 1 + (H - pool_height) // stride, likewise W'
    - cache: for max_pool_backward_im2col
    """
    x = _pool_input(x)
    geo = pool_geometry(x.shape, pool_param)
    N, C = x.shape[:2]
    cols = _pool_cols(x, geo)
    winner = cols.argmax(axis=1)  # (N * C, OH * OW), first maximum
    out = np.take_along_axis(cols, winner[:, None], axis=1)
    out = out.reshape(N, C, geo.out_h, geo.out_w)
    cache = ('im2col', x.shape, x.dtype, geo, winner.astype(_winner_dtype(geo)))
    return out, cache


def max_pool_backward_im2col(dout, cache):
    """
    Backward pass for max_pool_forward_im2col.

    Inputs: dout (N, C, H', W'); cache from max_pool_forward_im2col.
    Returns dx: (N, C, H, W).
    """
    _, x_shape, x_dtype, geo, winner = cache
    N, C, H, W = x_shape
    ph, pw = geo.pool_height, geo.pool_width
    dout = np.asarray(dout)
    dtype = _grad_dtype(x_dtype, dout)
    dcols = np.zeros((N * C, ph * pw, geo.out_h * geo.out_w), dtype=dtype)
    np.put_along_axis(dcols, winner[:, None].astype(np.intp),
                      dout.reshape(N * C, 1, -1).astype(dtype, copy=False), axis=1)
    images_shape = (N * C, 1, H, W)
    if _use_compiled(dtype):
        dx = _compiled.col2im_cython(dcols, *images_shape, ph, pw, 0, geo.stride)
    else:
        dx = numpy_im2col.col2im_indices(dcols, images_shape, ph, pw, 0, geo.stride)
    return dx.reshape(x_shape)


def _channels_last(x):
    """Whether x (N, C, H, W) is a view of channels-last (N, H, W, C) memory only."""
    return x.transpose(0, 2, 3, 1).flags.c_contiguous and not x.flags.c_contiguous


def _rows_contiguous(x):
    """Whether x's rows (its last axis) are contiguous, whatever its other strides."""
    return x.shape[3] <= 1 or x.strides[3] == x.itemsize


def _winners(shape, geo):
    return np.empty(shape, dtype=_winner_dtype(geo))


def _max_pool_forward_compiled(x, geo):
    N, C = x.shape[:2]
    ph, pw, stride = geo.pool_height, geo.pool_width, geo.stride
    out = np.empty((N, C, geo.out_h, geo.out_w), dtype=x.dtype)
    if _channels_last(x):
        # The convolution's channels-last output: pool it where it lies (a
        # channels-first copy would cost more than the pooling).
        x_nhwc = x.transpose(0, 2, 3, 1)
        out_nhwc = np.empty((N, geo.out_h, geo.out_w, C), dtype=x.dtype)
        winner = _winners(out_nhwc.shape, geo)

        def work(start, stop):
            _compiled._max_pool_forward_nhwc_into(x_nhwc[start:stop], out_nhwc[start:stop],
                                                  winner[start:stop], ph, pw, stride)
            # The (small) output goes back to channels-first: the next layer
            # flattens each image in (C, H', W') order.
            out[start:stop] = out_nhwc[start:stop].transpose(0, 3, 1, 2)

        for_slices(N, x.nbytes, work)
        return out, ('compiled_nhwc', x.shape, x.dtype, geo, winner)
    # Any other layout (a sliced batch, a cropped or mirrored view) is read
    # where it lies: a copy cost more than the pooling (measured 2x to 10x).
    kernel = (_compiled._max_pool_forward_into if _rows_contiguous(x)
              else _compiled._max_pool_forward_strided_into)
    winner = _winners(out.shape, geo)
    for_slices(N, x.nbytes, lambda start, stop: kernel(
        x[start:stop], out[start:stop], winner[start:stop], ph, pw, stride))
    return out, ('compiled', x.shape, x.dtype, geo, winner)


def _max_pool_backward_compiled(dout, cache):
    _, x_shape, x_dtype, geo, winner = cache
    dtype = _grad_dtype(x_dtype, dout)
    dout = np.asarray(dout, dtype=dtype)  # any strides: the kernels read it in place
    if dout.shape != winner.shape:
        raise ValueError("dout has shape %s but the forward output had %s"
                         % (dout.shape, winner.shape))
    ph, pw, stride = geo.pool_height, geo.pool_width, geo.stride
    # Tiling pools write every entry of dx once; others add into zeros.
    dx = (np.empty if geo.tiles else np.zeros)(x_shape, dtype=dtype)
    if geo.tiles:
        work = lambda start, stop: _compiled._max_pool_backward_tiled(  # noqa: E731
            dout[start:stop], winner[start:stop], dx[start:stop], ph, pw)
    else:
        work = lambda start, stop: _compiled._max_pool_backward_add(  # noqa: E731
            dout[start:stop], winner[start:stop], dx[start:stop], ph, pw, stride)
    for_slices(dx.shape[0], dx.nbytes, work)
    return dx


def _max_pool_backward_compiled_nhwc(dout, cache):
    """dx in the channels-last layout of the forward input."""
    _, x_shape, x_dtype, geo, winner = cache
    N, C, H, W = x_shape
    dtype = _grad_dtype(x_dtype, dout)
    dout = np.asarray(dout, dtype=dtype)
    if dout.shape != (N, C, geo.out_h, geo.out_w):
        raise ValueError("dout has shape %s but the forward output had %s"
                         % (dout.shape, (N, C, geo.out_h, geo.out_w)))
    # A view: the kernel reads dout in place whatever its layout (the
    # channels-first dout of the next layer's backward costs no transposing copy).
    dout_nhwc = dout.transpose(0, 2, 3, 1)
    dx_nhwc = (np.empty if geo.tiles else np.zeros)((N, H, W, C), dtype=dtype)
    for_slices(N, dx_nhwc.nbytes, lambda start, stop: _compiled._max_pool_backward_nhwc_into(
        dout_nhwc[start:stop], winner[start:stop], dx_nhwc[start:stop],
        geo.pool_height, geo.pool_width, geo.stride, geo.tiles))
    return dx_nhwc.transpose(0, 3, 1, 2)


def max_pool_forward_fast(x, pool_param):
    """
    Max pooling forward pass; picks the fastest available method: the compiled
    kernel if built, else the reshape method when pools tile the input, else
    im2col.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - pool_param: {'pool_height', 'pool_width', 'stride'}

    Returns a tuple of:
    - out: (N, C, H', W'), H' = 1 + (H - pool_height) // stride, likewise W'
    - cache: for max_pool_backward_fast
    """
    x = _pool_input(x)
    geo = pool_geometry(x.shape, pool_param)
    if _use_compiled(x.dtype):
        return _max_pool_forward_compiled(x, geo)
    if geo.tiles:
        return max_pool_forward_reshape(x, pool_param)
    return max_pool_forward_im2col(x, pool_param)


_POOL_BACKWARD = {
    'compiled': _max_pool_backward_compiled,
    'compiled_nhwc': _max_pool_backward_compiled_nhwc,
    'reshape': max_pool_backward_reshape,
    'im2col': max_pool_backward_im2col,
}


def max_pool_backward_fast(dout, cache):
    """
    Backward pass for max_pool_forward_fast (dispatches on the method used).

    Inputs: dout (N, C, H', W'); cache from max_pool_forward_fast.
    Returns dx: (N, C, H, W).
    """
    return _POOL_BACKWARD[cache[0]](dout, cache)
