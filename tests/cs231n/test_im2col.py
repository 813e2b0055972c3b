"""im2col / col2im: the numpy versions (cs231n.im2col) and the compiled kernels
(cs231n.im2col_cython) against loops written from the layout's definition:

    cols[n, (c * FH + di) * FW + dj, oh * OW + ow] = x_padded[n, c, oh*s + di, ow*s + dj]
"""
import numpy as np
import pytest

from cs231n import im2col as np_cols

try:
    from cs231n import im2col_cython as compiled
except ImportError:  # exercised in test_fast_layers' fallback test
    compiled = None

needs_compiled = pytest.mark.skipif(compiled is None, reason="cs231n.im2col_cython is not built")

# (N, C, H, W), FH, FW, pad, stride
GEOMETRIES = [
    ((2, 3, 5, 5), 3, 3, 1, 1),
    ((2, 2, 7, 9), 3, 3, 1, 2),
    ((1, 3, 9, 9), 3, 3, 0, 3),
    ((2, 2, 6, 7), 2, 4, 2, 1),
    ((3, 1, 8, 8), 5, 3, 2, 3),       # stride leaves a remainder: last windows dropped
    ((1, 2, 4, 4), 4, 4, 0, 1),
    ((2, 1, 3, 3), 3, 3, 3, 2),       # padding wider than the input
    ((1, 1, 6, 6), 1, 1, 0, 2),
]


def loop_im2col(x, fh, fw, pad, stride):
    N, C, H, W = x.shape
    out_h = 1 + (H + 2 * pad - fh) // stride
    out_w = 1 + (W + 2 * pad - fw) // stride
    cols = np.zeros((N, C * fh * fw, out_h * out_w), dtype=np.float64)
    for n in range(N):
        for c in range(C):
            for di in range(fh):
                for dj in range(fw):
                    for oh in range(out_h):
                        for ow in range(out_w):
                            i, j = oh * stride + di - pad, ow * stride + dj - pad
                            if 0 <= i < H and 0 <= j < W:
                                cols[n, (c * fh + di) * fw + dj, oh * out_w + ow] = x[n, c, i, j]
    return cols


def loop_col2im(cols, x_shape, fh, fw, pad, stride):
    N, C, H, W = x_shape
    out_w = 1 + (W + 2 * pad - fw) // stride
    x = np.zeros(x_shape)
    for n in range(N):
        for row in range(cols.shape[1]):
            c, rest = divmod(row, fh * fw)
            di, dj = divmod(rest, fw)
            for p in range(cols.shape[2]):
                oh, ow = divmod(p, out_w)
                i, j = oh * stride + di - pad, ow * stride + dj - pad
                if 0 <= i < H and 0 <= j < W:
                    x[n, c, i, j] += cols[n, row, p]
    return x


def random_x(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize('geometry', GEOMETRIES, ids=str)
def test_numpy_im2col_matches_loop(geometry):
    shape, fh, fw, pad, stride = geometry
    x = random_x(shape)
    expected = loop_im2col(x, fh, fw, pad, stride)
    np.testing.assert_array_equal(np_cols.im2col_indices(x, fh, fw, pad, stride), expected)
    np.testing.assert_array_equal(np_cols.im2col_strided(x, fh, fw, pad, stride), expected)


@pytest.mark.parametrize('geometry', GEOMETRIES, ids=str)
def test_gather_indices_give_the_same_columns(geometry):
    shape, fh, fw, pad, stride = geometry
    x = random_x(shape)
    k, i, j = np_cols.get_im2col_indices(shape, fh, fw, pad, stride)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    np.testing.assert_array_equal(x_padded[:, k, i, j], loop_im2col(x, fh, fw, pad, stride))


@pytest.mark.parametrize('geometry', GEOMETRIES, ids=str)
def test_numpy_col2im_matches_loop_and_is_the_adjoint(geometry):
    shape, fh, fw, pad, stride = geometry
    x = random_x(shape, seed=1)
    cols = np.random.default_rng(2).standard_normal(loop_im2col(x, fh, fw, pad, stride).shape)
    back = np_cols.col2im_indices(cols, shape, fh, fw, pad, stride)
    np.testing.assert_allclose(back, loop_col2im(cols, shape, fh, fw, pad, stride),
                               rtol=1e-12, atol=1e-12)
    # <im2col(x), cols> == <x, col2im(cols)>
    lhs = np.sum(np_cols.im2col_indices(x, fh, fw, pad, stride) * cols)
    assert np.isclose(lhs, np.sum(x * back), rtol=1e-12)


def test_output_size_rejects_bad_geometry():
    assert np_cols.output_size(32, 3, 1, 1) == 32
    assert np_cols.output_size(7, 3, 0, 2) == 3
    with pytest.raises(ValueError):
        np_cols.output_size(2, 5, 1, 1)
    with pytest.raises(ValueError):
        np_cols.output_size(8, 3, 1, 0)


def test_numpy_versions_keep_dtype_and_inputs():
    x = random_x((2, 2, 5, 5), np.float32)
    x_before = x.copy()
    x.setflags(write=False)
    cols = np_cols.im2col_indices(x, 3, 3, 1, 1)
    assert cols.dtype == np.float32
    assert np_cols.im2col_strided(x, 3, 3, 1, 1).dtype == np.float32
    cols.setflags(write=False)
    assert np_cols.col2im_indices(cols, x.shape, 3, 3, 1, 1).dtype == np.float32
    np.testing.assert_array_equal(x, x_before)


@needs_compiled
@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('geometry', GEOMETRIES, ids=str)
def test_compiled_kernels_match_loops(geometry, dtype):
    shape, fh, fw, pad, stride = geometry
    N, C, H, W = shape
    x = random_x(shape, dtype, seed=3)
    cols = compiled.im2col_cython(x, fh, fw, pad, stride)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, loop_im2col(x, fh, fw, pad, stride).astype(dtype))

    dcols = np.random.default_rng(4).standard_normal(cols.shape).astype(dtype)
    expected = loop_col2im(dcols.astype(np.float64), shape, fh, fw, pad, stride)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    back = compiled.col2im_cython(dcols, N, C, H, W, fh, fw, pad, stride)
    assert back.dtype == dtype
    np.testing.assert_allclose(back, expected, rtol=tol, atol=tol)
    out_h = 1 + (H + 2 * pad - fh) // stride
    back_6d = compiled.col2im_6d_cython(dcols.reshape(N, C, fh, fw, out_h, -1),
                                        N, C, H, W, fh, fw, pad, stride)
    assert back_6d.dtype == dtype
    np.testing.assert_array_equal(back_6d, back)


@needs_compiled
def test_compiled_im2col_into_leaves_extra_rows_alone():
    x = random_x((2, 3, 6, 6), seed=5)
    buffer = np.full((2, 3 * 9 + 2, 36), 7.0)
    compiled.im2col_into_cython(x, buffer, 3, 3, 1, 1)
    np.testing.assert_array_equal(buffer[:, :27], loop_im2col(x, 3, 3, 1, 1))
    assert np.all(buffer[:, 27:] == 7.0)


@needs_compiled
def test_compiled_kernels_reject_wrong_shapes():
    x = random_x((2, 3, 6, 6), seed=6)
    with pytest.raises(ValueError, match="cols has shape"):
        compiled.im2col_into_cython(x, np.empty((2, 26, 36)), 3, 3, 1, 1)
    with pytest.raises(ValueError, match="cols has shape"):
        compiled.col2im_cython(np.empty((2, 27, 35)), 2, 3, 6, 6, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="bad geometry"):
        compiled.im2col_cython(x, 9, 9, 1, 1)
    with pytest.raises(ValueError):
        compiled.col2im_6d_cython(np.empty((2, 3, 3, 3, 36)), 2, 3, 6, 6, 3, 3, 1, 1)


@needs_compiled
def test_compiled_kernels_accept_read_only_inputs():
    x = random_x((1, 2, 5, 5), np.float32, seed=7)
    x.setflags(write=False)
    cols = compiled.im2col_cython(x, 3, 3, 1, 1)
    cols.setflags(write=False)
    back = compiled.col2im_cython(cols, 1, 2, 5, 5, 3, 3, 1, 1)
    assert back.dtype == np.float32


@needs_compiled
@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('pool', [(2, 2, 2), (3, 3, 2), (2, 3, 1), (2, 2, 3), (5, 5, 5)], ids=str)
def test_compiled_max_pool_kernels_match_loops(pool, dtype):
    ph, pw, stride = pool
    rng = np.random.default_rng(8)
    x = rng.integers(0, 4, size=(2, 3, 11, 10)).astype(dtype)  # many ties
    out, winner = compiled.max_pool_forward_cython(x, ph, pw, stride)
    out_h, out_w = 1 + (11 - ph) // stride, 1 + (10 - pw) // stride
    assert out.shape == winner.shape == (2, 3, out_h, out_w)
    assert out.dtype == dtype and winner.dtype == np.uint16
    dout = rng.integers(1, 5, size=out.shape).astype(dtype)
    expected_dx = np.zeros(x.shape, dtype=np.float64)
    for n, c, i, j in np.ndindex(out.shape):
        window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
        first = int(np.argmax(window))  # row-major first maximum
        assert out[n, c, i, j] == window.max()
        assert winner[n, c, i, j] == first
        expected_dx[n, c, i * stride + first // pw, j * stride + first % pw] += dout[n, c, i, j]
    dx = compiled.max_pool_backward_cython(dout, winner, 11, 10, ph, pw, stride)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, expected_dx)


@needs_compiled
def test_compiled_max_pool_nan_wins_like_argmax():
    x = np.array([[[[1.0, np.nan], [np.nan, 5.0]]]])
    out, winner = compiled.max_pool_forward_cython(x, 2, 2, 2)
    assert np.isnan(out[0, 0, 0, 0]) and winner[0, 0, 0, 0] == np.argmax(x.ravel())


@needs_compiled
def test_compiled_max_pool_uses_int32_winners_for_huge_windows():
    # 257 x 256 = 65792 positions per window: more than uint16 can number.
    x = np.zeros((1, 1, 257, 258))
    x[0, 0, 200, 100] = 1.0   # in both windows
    x[0, 0, 256, 257] = 2.0   # only in the second window
    out, winner = compiled.max_pool_forward_cython(x, 257, 256, 2)
    assert winner.dtype == np.int32
    np.testing.assert_array_equal(out[0, 0, 0], [1.0, 2.0])
    np.testing.assert_array_equal(winner[0, 0, 0], [200 * 256 + 100, 256 * 256 + 255])
    dx = compiled.max_pool_backward_cython(np.array([[[[3.0, 4.0]]]]), winner, 257, 258,
                                           257, 256, 2)
    assert dx[0, 0, 200, 100] == 3.0 and dx[0, 0, 256, 257] == 4.0 and dx.sum() == 7.0
