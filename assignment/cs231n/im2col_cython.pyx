# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Compiled kernels behind cs231n.fast_layers.

Column layout (shared with the numpy fallback in cs231n/im2col.py): for an
input x of shape (N, C, H, W), a field of FH x FW, zero padding `pad` and
`stride`, the columns have shape (N, C * FH * FW, OH * OW) with

    cols[n, (c * FH + di) * FW + dj, oh * OW + ow]
        = x_padded[n, c, oh * stride + di, ow * stride + dj]

where OH = 1 + (H + 2 * pad - FH) // stride (OW likewise). Keeping the image
index outermost lets a convolution be one batched matmul per image with the
result already in (N, F, OH * OW) order, so no large transpose is needed. The
same array viewed as (N, C, FH, FW, OH, OW) is the "6-D" layout.

Padding is never materialised: out-of-range taps are written as zeros
(im2col) or skipped (col2im). All kernels take float32 or float64 (fused
types) and return the dtype they were given. Geometry is validated by the
Python callers in fast_layers.py; these kernels only check what would
otherwise corrupt memory.
"""
import numpy as np

cimport numpy as cnp

cnp.import_array()

ctypedef fused floating_t:
    float
    double

ctypedef fused index_t:
    unsigned short
    int


cdef inline Py_ssize_t _first_tap(Py_ssize_t d, Py_ssize_t pad, Py_ssize_t stride) noexcept nogil:
    """Smallest output index o >= 0 whose tap o * stride + d - pad is >= 0."""
    cdef Py_ssize_t need = pad - d
    if need <= 0:
        return 0
    return (need + stride - 1) // stride


cdef inline Py_ssize_t _end_tap(Py_ssize_t d, Py_ssize_t pad, Py_ssize_t stride,
                                Py_ssize_t size, Py_ssize_t n_out) noexcept nogil:
    """One past the largest output index o < n_out whose tap is < size."""
    cdef Py_ssize_t room = size - 1 + pad - d
    cdef Py_ssize_t end
    if room < 0:
        return 0
    end = room // stride + 1
    return end if end < n_out else n_out


def _out_size(Py_ssize_t size, Py_ssize_t field, Py_ssize_t pad, Py_ssize_t stride):
    if stride <= 0 or pad < 0 or field <= 0 or size + 2 * pad < field:
        raise ValueError("bad geometry: size %d, field %d, pad %d, stride %d"
                         % (size, field, pad, stride))
    return 1 + (size + 2 * pad - field) // stride


def _check_unit_last_stride(cols, name):
    if cols.shape[2] > 1 and cols.strides[2] != cols.itemsize:
        raise ValueError("%s must be contiguous along its last axis" % name)


def im2col_into_cython(const floating_t[:, :, :, ::1] x, floating_t[:, :, :] cols,
                       int field_height, int field_width, int padding, int stride):
    """Write the columns of x into `cols` (N, R, OH * OW), in place.

    cols needs a contiguous last axis only, so it may be a strided view (e.g.
    the transpose of an (R, N, OH * OW) buffer, as fast_layers uses to feed
    one matmul per chunk of images). It may have more rows than the
    R = C * FH * FW it receives; rows from R on are left untouched
    (fast_layers keeps a row of ones there to fold the bias into the matmul).
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t FH = field_height, FW = field_width, pad = padding, s = stride
    cdef Py_ssize_t OH = _out_size(H, FH, pad, s), OW = _out_size(W, FW, pad, s)
    if (cols.shape[0] != N or cols.shape[1] < C * FH * FW
            or cols.shape[2] != OH * OW):
        raise ValueError("cols has shape %s, expected (%d, >= %d, %d)"
                         % ((cols.shape[0], cols.shape[1], cols.shape[2]),
                            N, C * FH * FW, OH * OW))
    _check_unit_last_stride(cols, "cols")
    cdef Py_ssize_t n, c, di, dj, oh, ow, row, oh0, oh1, ow0, ow1, i
    cdef floating_t *dst
    cdef const floating_t *src
    with nogil:
        for n in range(N):
            for c in range(C):
                for di in range(FH):
                    oh0 = _first_tap(di, pad, s)
                    oh1 = _end_tap(di, pad, s, H, OH)
                    for dj in range(FW):
                        row = (c * FH + di) * FW + dj
                        ow0 = _first_tap(dj, pad, s)
                        ow1 = _end_tap(dj, pad, s, W, OW)
                        for oh in range(OH):
                            dst = &cols[n, row, oh * OW]
                            if oh < oh0 or oh >= oh1 or ow1 <= ow0:
                                for ow in range(OW):
                                    dst[ow] = 0
                                continue
                            i = oh * s + di - pad
                            src = &x[n, c, i, 0]
                            for ow in range(ow0):
                                dst[ow] = 0
                            if s == 1:
                                # Unit stride: a plain shifted copy the compiler vectorises.
                                for ow in range(ow0, ow1):
                                    dst[ow] = src[ow + dj - pad]
                            else:
                                for ow in range(ow0, ow1):
                                    dst[ow] = src[ow * s + dj - pad]
                            for ow in range(ow1, OW):
                                dst[ow] = 0


def im2col_cython(x, int field_height, int field_width, int padding, int stride):
    """Columns of x (N, C, H, W): a new array (N, C * FH * FW, OH * OW)."""
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    OH = _out_size(H, field_height, padding, stride)
    OW = _out_size(W, field_width, padding, stride)
    cols = np.empty((N, C * field_height * field_width, OH * OW), dtype=x.dtype)
    im2col_into_cython(x, cols, field_height, field_width, padding, stride)
    return cols


def col2im_add_cython(const floating_t[:, :, :] cols, floating_t[:, :, :, ::1] x,
                      int field_height, int field_width, int padding, int stride):
    """x[n, c, tap] += cols[n, row, pos] for every tap inside x, in place.

    cols (N, C * FH * FW, OH * OW) needs a contiguous last axis only; x
    (N, C, H, W) is added to, so pass zeros to get the plain col2im.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t FH = field_height, FW = field_width, pad = padding, s = stride
    cdef Py_ssize_t OH = _out_size(H, FH, pad, s), OW = _out_size(W, FW, pad, s)
    if (cols.shape[0] != N or cols.shape[1] != C * FH * FW
            or cols.shape[2] != OH * OW):
        raise ValueError("cols has shape %s, expected %s"
                         % ((cols.shape[0], cols.shape[1], cols.shape[2]),
                            (N, C * FH * FW, OH * OW)))
    _check_unit_last_stride(cols, "cols")
    cdef Py_ssize_t n, c, di, dj, oh, ow, row, oh0, oh1, ow0, ow1, i
    cdef floating_t *dst
    cdef const floating_t *src
    with nogil:
        for n in range(N):
            for c in range(C):
                for di in range(FH):
                    oh0 = _first_tap(di, pad, s)
                    oh1 = _end_tap(di, pad, s, H, OH)
                    for dj in range(FW):
                        row = (c * FH + di) * FW + dj
                        ow0 = _first_tap(dj, pad, s)
                        ow1 = _end_tap(dj, pad, s, W, OW)
                        if ow1 <= ow0:
                            continue
                        for oh in range(oh0, oh1):
                            i = oh * s + di - pad
                            dst = &x[n, c, i, 0]
                            src = &cols[n, row, oh * OW]
                            if s == 1:
                                for ow in range(ow0, ow1):
                                    dst[ow + dj - pad] += src[ow]
                            else:
                                for ow in range(ow0, ow1):
                                    dst[ow * s + dj - pad] += src[ow]


def col2im_cython(cols, int N, int C, int H, int W, int field_height, int field_width,
                  int padding, int stride):
    """Inverse-accumulate of im2col: sum the columns back into (N, C, H, W).

    cols has shape (N, C * FH * FW, OH * OW); taps that fall in the padding
    are dropped. This is the adjoint of im2col, i.e. the input gradient of a
    convolution given the column gradients. Returns a new array.
    """
    cols = np.asarray(cols)
    x = np.zeros((N, C, H, W), dtype=cols.dtype)
    cols = cols.reshape(N, C * field_height * field_width, -1)
    if cols.strides[2] != cols.itemsize:
        cols = np.ascontiguousarray(cols)
    col2im_add_cython(cols, x, field_height, field_width, padding, stride)
    return x


def col2im_6d_cython(cols, int N, int C, int H, int W, int HH, int WW, int pad, int stride):
    """col2im for columns in the 6-D layout (N, C, HH, WW, OH, OW); a new array."""
    cols = np.asarray(cols)
    if cols.ndim != 6 or cols.shape[:4] != (N, C, HH, WW):
        raise ValueError("cols has shape %s, expected (%d, %d, %d, %d, OH, OW)"
                         % (cols.shape, N, C, HH, WW))
    return col2im_cython(cols, N, C, H, W, HH, WW, pad, stride)


def _max_pool_forward_into(const floating_t[:, :, :, :] x, floating_t[:, :, :, ::1] out,
                           index_t[:, :, :, ::1] winner, Py_ssize_t ph, Py_ssize_t pw,
                           Py_ssize_t s):
    # x's rows must be contiguous (the caller checks, as it checks the geometry:
    # a check here, even outside the loops, cost this kernel 20%, measured); the
    # other axes may have any strides (a sliced batch, a cropped view), read in place.
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t n, c, oh, ow, a, b
    cdef index_t tap
    cdef bint take
    cdef floating_t v, best
    cdef const floating_t *src
    cdef floating_t *best_row
    cdef index_t *winner_row
    with nogil:
        for n in range(N):
            for c in range(C):
                for oh in range(OH):
                    # A whole row of windows at once, one tap after another in
                    # row-major order; the comparisons are branch-free, since
                    # on real data their outcome is unpredictable.
                    best_row = &out[n, c, oh, 0]
                    winner_row = &winner[n, c, oh, 0]
                    src = &x[n, c, oh * s, 0]
                    for ow in range(OW):
                        best_row[ow] = src[ow * s]
                        winner_row[ow] = 0
                    for a in range(ph):
                        src = &x[n, c, oh * s + a, 0]
                        for b in range(pw):
                            if a == 0 and b == 0:
                                continue
                            tap = <index_t>(a * pw + b)
                            for ow in range(OW):
                                v = src[ow * s + b]
                                best = best_row[ow]
                                # Strict > keeps the first maximum (as argmax
                                # does); a NaN wins unless one already has.
                                take = (v > best) | ((v != v) & (best == best))
                                best_row[ow] = v if take else best
                                winner_row[ow] = tap if take else winner_row[ow]


def _max_pool_forward_strided_into(const floating_t[:, :, :, :] x, floating_t[:, :, :, ::1] out,
                                   index_t[:, :, :, ::1] winner, Py_ssize_t ph, Py_ssize_t pw,
                                   Py_ssize_t s):
    """_max_pool_forward_into for x whose rows are not contiguous (a mirrored
    view, Fortran order), read where it lies instead of through a copy. A kernel
    of its own: the runtime column stride would cost the common case 15% (measured)."""
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t xs = x.strides[3] // <Py_ssize_t>sizeof(floating_t)
    cdef Py_ssize_t step = s * xs  # elements between neighbouring windows of a row
    cdef Py_ssize_t n, c, oh, ow, a, b
    cdef index_t tap
    cdef bint take
    cdef floating_t v, best
    cdef const floating_t *src
    cdef floating_t *best_row
    cdef index_t *winner_row
    with nogil:
        for n in range(N):
            for c in range(C):
                for oh in range(OH):
                    best_row = &out[n, c, oh, 0]
                    winner_row = &winner[n, c, oh, 0]
                    src = &x[n, c, oh * s, 0]
                    for ow in range(OW):
                        best_row[ow] = src[ow * step]
                        winner_row[ow] = 0
                    for a in range(ph):
                        for b in range(pw):
                            if a == 0 and b == 0:
                                continue
                            tap = <index_t>(a * pw + b)
                            src = &x[n, c, oh * s + a, b]
                            for ow in range(OW):
                                v = src[ow * step]
                                best = best_row[ow]
                                # As in _max_pool_forward_into: first maximum, NaN wins.
                                take = (v > best) | ((v != v) & (best == best))
                                best_row[ow] = v if take else best
                                winner_row[ow] = tap if take else winner_row[ow]


def max_pool_forward_cython(x, int pool_height, int pool_width, int stride):
    """Max pooling of x (N, C, H, W); windows past the bottom/right edge are dropped.

    Returns (out, winner): out (N, C, OH, OW) in x's dtype, and winner, the
    row-major position inside each window of its first maximum (uint16 when
    the window has at most 65536 entries, else int32; not uint8, whose char
    pointers may alias anything and so block vectorisation). The backward pass needs
    only `winner`, not x.
    """
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    if pool_height <= 0 or pool_width <= 0 or stride <= 0 or pool_height > H or pool_width > W:
        raise ValueError("bad pooling geometry: %dx%d pools, stride %d on %dx%d input"
                         % (pool_height, pool_width, stride, H, W))
    OH = 1 + (H - pool_height) // stride
    OW = 1 + (W - pool_width) // stride
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    idx_dtype = np.uint16 if pool_height * pool_width <= 65536 else np.int32
    winner = np.empty((N, C, OH, OW), dtype=idx_dtype)
    _max_pool_forward_into(x, out, winner, pool_height, pool_width, stride)
    return out, winner


def _max_pool_backward_tiled(const floating_t[:, :, :, :] dout,
                             const index_t[:, :, :, ::1] winner,
                             floating_t[:, :, :, ::1] dx, Py_ssize_t ph, Py_ssize_t pw):
    """Pools tile dx exactly: every entry of dx is written once (dx may be uninitialised).
    dout may have any strides (read in place, not copied)."""
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1], OH = dout.shape[2], OW = dout.shape[3]
    cdef Py_ssize_t W = dx.shape[3], band = ph * W
    cdef Py_ssize_t n, c, oh, ow, k
    cdef floating_t *rows
    cdef const index_t *winner_row
    with nogil:
        for n in range(N):
            for c in range(C):
                for oh in range(OH):
                    # The ph rows under one row of pools are a contiguous band:
                    # clear it, then drop each window's gradient on its winner.
                    # (Measured: 5x faster than a branch-free select per entry.)
                    rows = &dx[n, c, oh * ph, 0]
                    for k in range(band):
                        rows[k] = 0
                    winner_row = &winner[n, c, oh, 0]
                    for ow in range(OW):
                        k = winner_row[ow]
                        rows[(k // pw) * W + ow * pw + k % pw] = dout[n, c, oh, ow]


def _max_pool_backward_add(const floating_t[:, :, :, :] dout,
                           const index_t[:, :, :, ::1] winner,
                           floating_t[:, :, :, ::1] dx, Py_ssize_t ph, Py_ssize_t pw,
                           Py_ssize_t s):
    """Any geometry: dx (zeroed by the caller) += dout (any strides) at each window's winner."""
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1], OH = dout.shape[2], OW = dout.shape[3]
    cdef Py_ssize_t n, c, oh, ow, k
    with nogil:
        for n in range(N):
            for c in range(C):
                for oh in range(OH):
                    for ow in range(OW):
                        k = winner[n, c, oh, ow]
                        dx[n, c, oh * s + k // pw, ow * s + k % pw] += dout[n, c, oh, ow]


def max_pool_backward_cython(dout, winner, int H, int W, int pool_height, int pool_width,
                             int stride):
    """Gradient of max pooling: each window's upstream value goes to its winner.

    dout and winner have shape (N, C, OH, OW) (winner as returned by
    max_pool_forward_cython); returns dx (N, C, H, W) in dout's dtype.
    Overlapping windows that share a winner add their gradients.
    """
    dout = np.ascontiguousarray(dout)
    winner = np.ascontiguousarray(winner)
    N, C, OH, OW = dout.shape
    if winner.shape != dout.shape:
        raise ValueError("winner has shape %s but dout has shape %s" % (winner.shape, dout.shape))
    if (OH - 1) * stride + pool_height > H or (OW - 1) * stride + pool_width > W:
        raise ValueError("dout of shape %s does not fit a %dx%d input" % (dout.shape, H, W))
    tiled = (pool_height == stride and pool_width == stride
             and OH * stride == H and OW * stride == W)
    if tiled:
        dx = np.empty((N, C, H, W), dtype=dout.dtype)
        _max_pool_backward_tiled(dout, winner, dx, pool_height, pool_width)
    else:
        dx = np.zeros((N, C, H, W), dtype=dout.dtype)
        _max_pool_backward_add(dout, winner, dx, pool_height, pool_width, stride)
    return dx


# Channels-last max pooling. The convolution in fast_layers writes its output
# as (N, H, W, C) memory (so spatial batchnorm's (N*H*W, C) view is free);
# pooling that memory directly avoids a 50 MB transposing copy per pass. The
# innermost loops run over channels, which are contiguous here.

def _max_pool_forward_nhwc_into(const floating_t[:, :, :, ::1] x, floating_t[:, :, :, ::1] out,
                                index_t[:, :, :, ::1] winner, Py_ssize_t ph, Py_ssize_t pw,
                                Py_ssize_t s):
    cdef Py_ssize_t N = out.shape[0], OH = out.shape[1], OW = out.shape[2], C = out.shape[3]
    cdef Py_ssize_t n, oh, ow, a, b, c
    cdef index_t tap
    cdef bint take
    cdef floating_t v, best
    cdef const floating_t *src
    cdef floating_t *best_row
    cdef index_t *winner_row
    with nogil:
        for n in range(N):
            for oh in range(OH):
                for ow in range(OW):
                    best_row = &out[n, oh, ow, 0]
                    winner_row = &winner[n, oh, ow, 0]
                    src = &x[n, oh * s, ow * s, 0]
                    for c in range(C):
                        best_row[c] = src[c]
                        winner_row[c] = 0
                    for a in range(ph):
                        for b in range(pw):
                            if a == 0 and b == 0:
                                continue
                            tap = <index_t>(a * pw + b)
                            src = &x[n, oh * s + a, ow * s + b, 0]
                            for c in range(C):
                                v = src[c]
                                best = best_row[c]
                                # As in the channels-first kernel: first maximum, NaN wins.
                                take = (v > best) | ((v != v) & (best == best))
                                best_row[c] = v if take else best
                                winner_row[c] = tap if take else winner_row[c]


def max_pool_forward_nhwc_cython(x_nhwc, int pool_height, int pool_width, int stride):
    """Max pooling of channels-last x_nhwc (N, H, W, C); edges as max_pool_forward_cython.

    Returns (out, winner), both channels-last (N, OH, OW, C): the maxima, and
    the row-major position inside each window of its first maximum (uint16
    when the window has at most 65536 entries, else int32).
    """
    x_nhwc = np.ascontiguousarray(x_nhwc)
    N, H, W, C = x_nhwc.shape
    if pool_height <= 0 or pool_width <= 0 or stride <= 0 or pool_height > H or pool_width > W:
        raise ValueError("bad pooling geometry: %dx%d pools, stride %d on %dx%d input"
                         % (pool_height, pool_width, stride, H, W))
    OH = 1 + (H - pool_height) // stride
    OW = 1 + (W - pool_width) // stride
    out = np.empty((N, OH, OW, C), dtype=x_nhwc.dtype)
    idx_dtype = np.uint16 if pool_height * pool_width <= 65536 else np.int32
    winner = np.empty((N, OH, OW, C), dtype=idx_dtype)
    _max_pool_forward_nhwc_into(x_nhwc, out, winner, pool_height, pool_width, stride)
    return out, winner


def _max_pool_backward_nhwc_into(const floating_t[:, :, :, :] dout,
                                 const index_t[:, :, :, ::1] winner,
                                 floating_t[:, :, :, ::1] dx, Py_ssize_t ph, Py_ssize_t pw,
                                 Py_ssize_t s, bint tiled):
    """dx (N, H, W, C) gets dout at each window's winner. Tiled pools write
    every entry of dx once (dx may be uninitialised); otherwise dx must be
    zeroed and overlapping windows add up. dout may have any strides: the
    channels-first dout an affine layer hands back is read in place (its
    transposing copy cost more than these strided reads)."""
    cdef Py_ssize_t N = dout.shape[0], OH = dout.shape[1], OW = dout.shape[2], C = dout.shape[3]
    cdef Py_ssize_t W = dx.shape[2]
    cdef Py_ssize_t gs = dout.strides[3] // <Py_ssize_t>sizeof(floating_t)
    cdef Py_ssize_t n, oh, ow, a, b, c, k
    cdef index_t tap
    cdef floating_t zero = 0, g
    cdef floating_t *dst
    cdef const floating_t *grad
    cdef const index_t *win
    with nogil:
        for n in range(N):
            for oh in range(OH):
                for ow in range(OW):
                    grad = &dout[n, oh, ow, 0]
                    win = &winner[n, oh, ow, 0]
                    if tiled:
                        # Each tap of the window is a contiguous run of C
                        # entries: a branch-free select over channels writes
                        # it (no clearing pass, no per-entry index arithmetic).
                        for a in range(ph):
                            for b in range(pw):
                                tap = <index_t>(a * pw + b)
                                dst = &dx[n, oh * ph + a, ow * pw + b, 0]
                                if gs == 1:
                                    for c in range(C):
                                        # Both operands loaded unconditionally, so
                                        # the compiler can vectorise the select.
                                        g = grad[c]
                                        dst[c] = g if win[c] == tap else zero
                                else:
                                    for c in range(C):
                                        g = grad[c * gs]
                                        dst[c] = g if win[c] == tap else zero
                    else:
                        for c in range(C):
                            k = win[c]
                            dx[n, oh * s + k // pw, ow * s + k % pw, c] += grad[c * gs]


def max_pool_backward_nhwc_cython(dout_nhwc, winner, int H, int W, int pool_height,
                                  int pool_width, int stride):
    """Gradient of channels-last max pooling.

    dout_nhwc and winner have shape (N, OH, OW, C) (winner as returned by
    max_pool_forward_nhwc_cython); returns dx, channels-last (N, H, W, C), in
    dout's dtype. Overlapping windows that share a winner add their gradients.
    """
    dout_nhwc = np.ascontiguousarray(dout_nhwc)
    winner = np.ascontiguousarray(winner)
    N, OH, OW, C = dout_nhwc.shape
    if winner.shape != dout_nhwc.shape:
        raise ValueError("winner has shape %s but dout has shape %s"
                         % (winner.shape, dout_nhwc.shape))
    if (OH - 1) * stride + pool_height > H or (OW - 1) * stride + pool_width > W:
        raise ValueError("dout of shape %s does not fit a %dx%d input" % (dout_nhwc.shape, H, W))
    tiled = (pool_height == stride and pool_width == stride
             and OH * stride == H and OW * stride == W)
    if tiled:
        dx = np.empty((N, H, W, C), dtype=dout_nhwc.dtype)
    else:
        dx = np.zeros((N, H, W, C), dtype=dout_nhwc.dtype)
    _max_pool_backward_nhwc_into(dout_nhwc, winner, dx, pool_height, pool_width, stride, tiled)
    return dx
