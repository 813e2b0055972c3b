"""im2col / col2im in pure numpy (the fallback for the compiled kernels).

The column layout is the one cs231n/im2col_cython.pyx uses: for x of shape
(N, C, H, W), a field of FH x FW, zero padding `padding` and `stride`,

    cols[n, (c * FH + di) * FW + dj, oh * OW + ow]
        = x_padded[n, c, oh * stride + di, ow * stride + dj]

so cols has shape (N, C * FH * FW, OH * OW) with
OH = 1 + (H + 2 * padding - FH) // stride and OW likewise. Windows that would
run past the bottom or right edge are dropped (callers that need an exact
fit, such as convolution, check it first).
"""
import numpy as np


def output_size(size, field, padding, stride):
    """Number of window positions along one axis of length `size`."""
    if stride <= 0 or padding < 0 or field <= 0 or size + 2 * padding < field:
        raise ValueError("bad geometry: size %d, field %d, padding %d, stride %d"
                         % (size, field, padding, stride))
    return 1 + (size + 2 * padding - field) // stride


def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    """Gather indices for im2col by fancy indexing.

    Returns (k, i, j), broadcastable to (C * FH * FW, OH * OW), such that
    x_padded[:, k, i, j] equals im2col_indices(x, ...), of shape
    (N, C * FH * FW, OH * OW). k is the channel, i and j the row and column
    in the padded input.
    """
    _, C, H, W = x_shape
    out_h = output_size(H, field_height, padding, stride)
    out_w = output_size(W, field_width, padding, stride)
    # Row r = (c * FH + di) * FW + dj of the columns; position p = oh * OW + ow.
    c, di, dj = np.meshgrid(np.arange(C), np.arange(field_height), np.arange(field_width),
                            indexing='ij')
    oh, ow = np.meshgrid(np.arange(out_h), np.arange(out_w), indexing='ij')
    k = c.reshape(-1, 1)
    i = di.reshape(-1, 1) + stride * oh.reshape(1, -1)
    j = dj.reshape(-1, 1) + stride * ow.reshape(1, -1)
    return k, i, j


def _tap_slices(di, dj, out_h, out_w, stride):
    """Slices of the padded input read by tap (di, dj) over all window positions."""
    return (slice(di, di + stride * (out_h - 1) + 1, stride),
            slice(dj, dj + stride * (out_w - 1) + 1, stride))


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    """Columns of x (N, C, H, W): a new array (N, C * FH * FW, OH * OW), x's dtype."""
    N, C, H, W = x.shape
    out_h = output_size(H, field_height, padding, stride)
    out_w = output_size(W, field_width, padding, stride)
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
    cols = np.empty((N, C, field_height, field_width, out_h, out_w), dtype=x.dtype)
    # One strided copy per tap (FH * FW of them) instead of a gather per element.
    for di in range(field_height):
        for dj in range(field_width):
            rows, columns = _tap_slices(di, dj, out_h, out_w, stride)
            cols[:, :, di, dj] = x_padded[:, :, rows, columns]
    return cols.reshape(N, C * field_height * field_width, out_h * out_w)


def col2im_indices(cols, x_shape, field_height, field_width, padding=1, stride=1):
    """Adjoint of im2col_indices: add the columns back into an array of x_shape.

    cols has shape (N, C * FH * FW, OH * OW) (or any shape with that many
    entries per image); taps falling in the padding are dropped. Returns a new
    array in cols' dtype.
    """
    N, C, H, W = x_shape
    out_h = output_size(H, field_height, padding, stride)
    out_w = output_size(W, field_width, padding, stride)
    p = padding
    cols6 = np.reshape(cols, (N, C, field_height, field_width, out_h, out_w))
    x_padded = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=cols6.dtype)
    for di in range(field_height):
        for dj in range(field_width):
            rows, columns = _tap_slices(di, dj, out_h, out_w, stride)
            # Within one tap the slices never overlap, so += is a plain scatter-add.
            x_padded[:, :, rows, columns] += cols6[:, :, di, dj]
    if p == 0:
        return x_padded
    return np.ascontiguousarray(x_padded[:, :, p:p + H, p:p + W])


def im2col_strided(x, field_height, field_width, padding=1, stride=1):
    """Same result as im2col_indices, built by copying one strided window view.

    The view (N, C, FH, FW, OH, OW) aliases the padded input; copying it once
    gives the columns in their final layout.
    """
    N, C, H, W = x.shape
    out_h = output_size(H, field_height, padding, stride)
    out_w = output_size(W, field_width, padding, stride)
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else np.asarray(x)
    sN, sC, sH, sW = x_padded.strides
    windows = np.lib.stride_tricks.as_strided(
        x_padded, shape=(N, C, field_height, field_width, out_h, out_w),
        strides=(sN, sC, sH, sW, stride * sH, stride * sW), writeable=False)
    cols = np.ascontiguousarray(windows)
    return cols.reshape(N, C * field_height * field_width, out_h * out_w)
