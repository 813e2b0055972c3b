"""cs231n.fast_layers against slow obvious loops and the naive reference layers.

References: the loops in this file (written from the definitions) and
nndl.conv_layers' naive layers from solutions/ (tests/conftest.py puts it on
sys.path). Every fast variant runs on both backends: the compiled kernels and
the numpy fallback (HAVE_COMPILED patched off).

Tolerances: float64 results agree with the float64 references to 1e-10
relative to the largest reference entry. float32 results are compared with
float64 references computed from the same float32 values, to 1e-5 relative
(float32 has ~7 digits; sums of up to a few hundred terms lose at most ~2).
Max pooling forward and tie handling are compared exactly.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cs231n import fast_layers
from cs231n.gradient_check import eval_numerical_gradient_array
from nndl import conv_layers as naive

F64_RTOL = 1e-10
F32_RTOL = 1e-5


# --------------------------------------------------------------------------- #
# Obvious loop references (float64)
# --------------------------------------------------------------------------- #

def loop_conv_forward(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h = 1 + (H + 2 * pad - HH) // stride
    out_w = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, out_h, out_w))
    for n in range(N):
        for f in range(F):
            for i in range(out_h):
                for j in range(out_w):
                    patch = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    return out


def loop_conv_backward(dout, x, w, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
    db = dout.astype(np.float64).sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def loop_pool_forward(x, ph, pw, stride):
    N, C, H, W = x.shape
    out_h, out_w = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, out_h, out_w), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(out_h):
                for j in range(out_w):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + ph,
                                        j * stride:j * stride + pw].max()
    return out


def loop_pool_backward(dout, x, ph, pw, stride):
    """The whole gradient of a window goes to its first maximum (row-major)."""
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    best = None
                    for a in range(ph):
                        for bb in range(pw):
                            if best is None or window[a, bb] > window[best]:
                                best = (a, bb)
                    dx[n, c, i * stride + best[0], j * stride + best[1]] += dout[n, c, i, j]
    return dx


# --------------------------------------------------------------------------- #
# Fixtures and helpers
# --------------------------------------------------------------------------- #

CONV_VARIANTS = {
    'fast': (fast_layers.conv_forward_fast, fast_layers.conv_backward_fast),
    'im2col': (fast_layers.conv_forward_im2col, fast_layers.conv_backward_im2col),
    'strides': (fast_layers.conv_forward_strides, fast_layers.conv_backward_strides),
}

POOL_VARIANTS = {
    'fast': (fast_layers.max_pool_forward_fast, fast_layers.max_pool_backward_fast),
    'im2col': (fast_layers.max_pool_forward_im2col, fast_layers.max_pool_backward_im2col),
    'reshape': (fast_layers.max_pool_forward_reshape, fast_layers.max_pool_backward_reshape),
}


@pytest.fixture(params=['compiled', 'numpy'])
def backend(request, monkeypatch):
    """Run a test with the compiled kernels, then with the numpy fallback."""
    if request.param == 'compiled':
        if not fast_layers.HAVE_COMPILED:
            pytest.skip("cs231n.im2col_cython is not built")
    else:
        monkeypatch.setattr(fast_layers, 'HAVE_COMPILED', False)
    return request.param


@pytest.fixture(params=['per_image', 'stacked'])
def conv_mode(request, monkeypatch):
    """Run a conv test with one matmul per image (in chunks of about half the
    batch), then with one matmul for the whole batch (its columns side by side)."""
    per_image = request.param == 'per_image'
    monkeypatch.setattr(fast_layers, 'SMALL_PRODUCT', 1 << 60 if per_image else 0)
    monkeypatch.setattr(fast_layers, 'CHUNK_COUNT', 2 if per_image else 1)
    return request.param


def rel_err(actual, expected):
    """Largest absolute difference relative to the largest expected entry."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    scale = np.max(np.abs(expected))
    return np.max(np.abs(actual - expected)) / (scale if scale > 0 else 1.0)


def rtol_for(dtype):
    return F32_RTOL if np.dtype(dtype) == np.float32 else F64_RTOL


def tiles(x_shape, ph, pw, stride):
    return ph == pw == stride and x_shape[2] % ph == 0 and x_shape[3] % pw == 0


# (N, C, H, W), (F, HH, WW), stride, pad
CONV_CASES = [
    ((2, 3, 8, 8), (4, 3, 3), 1, 1),
    ((2, 3, 7, 7), (3, 3, 3), 2, 1),
    ((1, 2, 9, 9), (2, 3, 3), 3, 0),
    ((2, 3, 5, 7), (4, 3, 3), 1, 0),       # non-square input
    ((2, 2, 6, 9), (3, 2, 4), 1, 2),       # non-square filter, pad 2
    ((3, 1, 7, 5), (2, 5, 3), 2, 2),
    ((2, 4, 13, 13), (5, 5, 5), 3, 2),
    ((1, 1, 4, 4), (1, 4, 4), 1, 0),       # filter covers the whole input
    ((2, 3, 6, 6), (2, 1, 1), 1, 0),       # 1x1 filter
    ((1, 2, 3, 3), (2, 3, 3), 1, 2),       # more padding than needed
    ((4, 3, 31, 31), (5, 3, 3), 2, 1),     # handout geometry, small N and F
]

# (N, C, H, W), pool_height, pool_width, stride
POOL_CASES = [
    ((2, 3, 8, 8), 2, 2, 2),               # tiles
    ((2, 3, 9, 6), 3, 3, 3),               # tiles, non-square input
    ((2, 2, 7, 7), 3, 3, 2),               # overlapping
    ((2, 2, 9, 9), 2, 3, 1),               # overlapping, non-square pool
    ((2, 2, 5, 7), 2, 2, 2),               # remainder row and column dropped
    ((2, 2, 8, 8), 2, 2, 3),               # gaps between pools
    ((1, 3, 6, 10), 3, 2, 2),              # non-square pool, no overlap
    ((2, 1, 4, 4), 4, 4, 1),               # one pool covers everything
    ((1, 1, 17, 17), 17, 17, 1),           # 289 entries per window
]


def random_conv(shape, filt, dtype, seed):
    rng = np.random.default_rng(seed)
    N, C = shape[:2]
    F, HH, WW = filt
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((F, C, HH, WW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b


# --------------------------------------------------------------------------- #
# Convolution
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
@pytest.mark.parametrize('case', CONV_CASES, ids=str)
def test_conv_matches_loops(case, variant, dtype, backend, conv_mode):
    shape, filt, stride, pad = case
    x, w, b = random_conv(shape, filt, dtype, seed=1)
    forward, backward = CONV_VARIANTS[variant]
    out, cache = forward(x, w, b, {'stride': stride, 'pad': pad})
    expected = loop_conv_forward(x, w, b, stride, pad)
    assert out.dtype == dtype
    assert rel_err(out, expected) < rtol_for(dtype)

    dout = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    grads = backward(dout, cache)
    expected_grads = loop_conv_backward(dout, x, w, stride, pad)
    for name, got, want in zip(('dx', 'dw', 'db'), grads, expected_grads):
        assert got.dtype == dtype, name
        assert rel_err(got, want) < rtol_for(dtype), name


@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
@pytest.mark.parametrize('case', CONV_CASES, ids=str)
def test_conv_matches_naive_reference(case, variant, backend, conv_mode):
    shape, filt, stride, pad = case
    x, w, b = random_conv(shape, filt, np.float64, seed=3)
    conv_param = {'stride': stride, 'pad': pad}
    forward, backward = CONV_VARIANTS[variant]
    out, cache = forward(x, w, b, conv_param)
    ref_out, ref_cache = naive.conv_forward_naive(x, w, b, conv_param)
    assert rel_err(out, ref_out) < F64_RTOL
    dout = np.random.default_rng(4).standard_normal(out.shape)
    for got, want in zip(backward(dout, cache), naive.conv_backward_naive(dout, ref_cache)):
        assert rel_err(got, want) < F64_RTOL


@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
def test_conv_backward_matches_numerical_gradient(variant, backend, conv_mode):
    x, w, b = random_conv((2, 2, 5, 6), (3, 3, 2), np.float64, seed=5)
    conv_param = {'stride': 1, 'pad': 1}
    forward, backward = CONV_VARIANTS[variant]
    out, cache = forward(x, w, b, conv_param)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    num_dx = eval_numerical_gradient_array(lambda v: forward(v, w, b, conv_param)[0], x, dout)
    num_dw = eval_numerical_gradient_array(lambda v: forward(x, v, b, conv_param)[0], w, dout)
    num_db = eval_numerical_gradient_array(lambda v: forward(x, w, v, conv_param)[0], b, dout)
    # Centred differences of a function linear in each argument: only rounding error.
    assert rel_err(dx, num_dx) < 1e-8
    assert rel_err(dw, num_dw) < 1e-8
    assert rel_err(db, num_db) < 1e-8


@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
def test_conv_in_uneven_chunks_matches_loops(variant, backend, conv_mode, monkeypatch):
    # Chunks of two images for N = 5 (the last chunk has one image).
    x, w, b = random_conv((5, 2, 6, 7), (3, 3, 2), np.float64, seed=14)
    rows, P = 2 * 3 * 2 + 1, 6 * 8  # C*HH*WW taps + the bias row (more than F = 3); 6x8 out
    monkeypatch.setattr(fast_layers, 'CHUNK_COUNT', 1)  # the byte cap decides
    monkeypatch.setattr(fast_layers, 'CHUNK_BYTES', 2 * rows * P * 8)
    assert fast_layers._chunks(5, rows * P * 8) == [(0, 2), (2, 4), (4, 5)]
    forward, backward = CONV_VARIANTS[variant]
    out, cache = forward(x, w, b, {'stride': 1, 'pad': 1})
    assert rel_err(out, loop_conv_forward(x, w, b, 1, 1)) < F64_RTOL
    dout = np.random.default_rng(15).standard_normal(out.shape)
    for got, want in zip(backward(dout, cache), loop_conv_backward(dout, x, w, 1, 1)):
        assert rel_err(got, want) < F64_RTOL


def test_conv_chunk_count():
    assert fast_layers._chunks(200, 1) == [(0, 50), (50, 100), (100, 150), (150, 200)]
    assert fast_layers._chunks(3, 1) == [(0, 1), (1, 2), (2, 3)]
    big = fast_layers.CHUNK_BYTES // 10  # ten images fill a chunk
    assert len(fast_layers._chunks(200, big)) == 20


def test_conv_accepts_integral_float_pad_and_stride(backend):
    # (filter_size - 1) / 2 is 3.0 under Python 3.
    x, w, b = random_conv((2, 3, 9, 9), (2, 7, 7), np.float64, seed=7)
    filter_size = 7
    for variant in CONV_VARIANTS.values():
        out, cache = variant[0](x, w, b, {'stride': 1.0, 'pad': (filter_size - 1) / 2})
        assert out.shape == (2, 2, 9, 9)
        assert rel_err(out, loop_conv_forward(x, w, b, 1, 3)) < F64_RTOL
        dx, dw, db = variant[1](np.ones_like(out), cache)
        assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape


@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
def test_conv_rejects_fractional_pad(variant):
    x, w, b = random_conv((1, 1, 6, 6), (1, 3, 3), np.float64, seed=8)
    with pytest.raises(ValueError, match=r"pad.*whole number.*1\.5"):
        CONV_VARIANTS[variant][0](x, w, b, {'stride': 1, 'pad': 1.5})


@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
def test_conv_rejects_stride_that_does_not_fit(variant):
    # 32 + 2*1 - 3 = 31 is odd, so stride 2 leaves a column over.
    x, w, b = random_conv((1, 3, 32, 32), (2, 3, 3), np.float64, seed=9)
    with pytest.raises(ValueError, match=r"stride 2 does not fit.*32 \+ 2\*1 - 3 = 31"):
        CONV_VARIANTS[variant][0](x, w, b, {'stride': 2, 'pad': 1})


def test_conv_rejects_mismatched_channels_and_oversized_filter():
    x, w, b = random_conv((1, 3, 4, 4), (2, 3, 3), np.float64, seed=10)
    with pytest.raises(ValueError, match="channels"):
        fast_layers.conv_forward_fast(x[:, :2], w, b, {'stride': 1, 'pad': 0})
    big_w = np.zeros((2, 3, 7, 7))
    with pytest.raises(ValueError, match="larger than the padded input"):
        fast_layers.conv_forward_fast(x, big_w, b, {'stride': 1, 'pad': 1})


def test_float16_keeps_its_dtype_through_the_numpy_path():
    # No compiled kernel takes float16, so this exercises the numpy code; float16
    # has ~3 digits, hence the loose tolerance.
    x, w, b = random_conv((2, 3, 6, 6), (4, 3, 3), np.float16, seed=17)
    for forward, backward in CONV_VARIANTS.values():
        out, cache = forward(x, w, b, {'stride': 1, 'pad': 1})
        assert out.dtype == np.float16
        assert rel_err(out, loop_conv_forward(x, w, b, 1, 1)) < 1e-2
        assert all(g.dtype == np.float16 for g in backward(np.ones_like(out), cache))
    for forward, backward in POOL_VARIANTS.values():
        out, cache = forward(x, pool_param(2, 2, 2))
        np.testing.assert_array_equal(out, loop_pool_forward(x, 2, 2, 2))
        assert backward(np.ones_like(out), cache).dtype == np.float16


def float_arrays_in(cache):
    return [item for item in cache
            if isinstance(item, np.ndarray) and np.issubdtype(item.dtype, np.floating)]


def test_float32_stays_float32_in_the_caches(backend):
    x, w, b = random_conv((2, 3, 6, 6), (4, 3, 3), np.float32, seed=16)
    for forward, _ in CONV_VARIANTS.values():
        _, cache = forward(x, w, b, {'stride': 1, 'pad': 1})
        assert float_arrays_in(cache) and all(a.dtype == np.float32 for a in float_arrays_in(cache))
    for name, (forward, _) in POOL_VARIANTS.items():
        _, cache = forward(x, pool_param(2, 2, 2))
        # Pool caches keep only integer winner positions, no copy of x.
        assert not float_arrays_in(cache), name


@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
def test_conv_does_not_write_into_inputs(variant, backend, conv_mode):
    x, w, b = random_conv((2, 3, 6, 6), (4, 3, 3), np.float32, seed=11)
    dout = np.random.default_rng(12).standard_normal((2, 4, 6, 6)).astype(np.float32)
    originals = [a.copy() for a in (x, w, b, dout)]
    for a in (x, w, b, dout):
        a.setflags(write=False)  # any write attempt raises
    forward, backward = CONV_VARIANTS[variant]
    out, cache = forward(x, w, b, {'stride': 1, 'pad': 1})
    backward(dout, cache)
    for before, after in zip(originals, (x, w, b, dout)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize('variant', sorted(CONV_VARIANTS))
def test_conv_accepts_non_contiguous_inputs(variant, backend, conv_mode):
    x, w, b = random_conv((2, 3, 7, 6), (2, 3, 3), np.float64, seed=13)
    x_t = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # F-ish strides
    w_t = np.asfortranarray(w)
    forward, backward = CONV_VARIANTS[variant]
    out, cache = forward(x_t, w_t, b[::-1][::-1], {'stride': 1, 'pad': 1})
    assert rel_err(out, loop_conv_forward(x, w, b, 1, 1)) < F64_RTOL
    dout = np.ones(out.shape)[:, :, ::-1, :]
    dx, dw, db = backward(dout, cache)
    for got, want in zip((dx, dw, db), loop_conv_backward(np.ones(out.shape), x, w, 1, 1)):
        assert rel_err(got, want) < F64_RTOL


# --------------------------------------------------------------------------- #
# Max pooling
# --------------------------------------------------------------------------- #

def pool_variants_for(x_shape, ph, pw, stride):
    names = ['fast', 'im2col']
    if tiles(x_shape, ph, pw, stride):
        names.append('reshape')
    return names


def pool_param(ph, pw, stride):
    return {'pool_height': ph, 'pool_width': pw, 'stride': stride}


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('case', POOL_CASES, ids=str)
def test_pool_matches_loops(case, dtype, backend):
    shape, ph, pw, stride = case
    rng = np.random.default_rng(20)
    x = rng.standard_normal(shape).astype(dtype)
    expected = loop_pool_forward(x, ph, pw, stride)
    for name in pool_variants_for(shape, ph, pw, stride):
        forward, backward = POOL_VARIANTS[name]
        out, cache = forward(x, pool_param(ph, pw, stride))
        assert out.dtype == dtype, name
        np.testing.assert_array_equal(out, expected, err_msg=name)  # max is exact
        dout = rng.standard_normal(out.shape).astype(dtype)
        dx = backward(dout, cache)
        assert dx.dtype == dtype, name
        # Overlapping pools may sum in another order; otherwise exact.
        assert rel_err(dx, loop_pool_backward(dout, x, ph, pw, stride)) < rtol_for(dtype), name


@pytest.mark.parametrize('case', POOL_CASES, ids=str)
def test_pool_matches_naive_reference(case, backend):
    shape, ph, pw, stride = case
    rng = np.random.default_rng(21)
    x = rng.standard_normal(shape)
    param = pool_param(ph, pw, stride)
    ref_out, ref_cache = naive.max_pool_forward_naive(x, param)
    dout = rng.standard_normal(ref_out.shape)
    ref_dx = naive.max_pool_backward_naive(dout, ref_cache)
    for name in pool_variants_for(shape, ph, pw, stride):
        forward, backward = POOL_VARIANTS[name]
        out, cache = forward(x, param)
        np.testing.assert_array_equal(out, ref_out, err_msg=name)
        assert rel_err(backward(dout, cache), ref_dx) < F64_RTOL, name


def tie_inputs(shape):
    rng = np.random.default_rng(22)
    yield 'constant', np.full(shape, 0.5)
    yield 'integers', rng.integers(0, 3, size=shape).astype(np.float64)
    yield 'two levels', np.where(rng.random(shape) < 0.7, -1.0, 2.0)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('case', POOL_CASES, ids=str)
def test_pool_ties_go_to_first_maximum(case, dtype, backend):
    shape, ph, pw, stride = case
    param = pool_param(ph, pw, stride)
    for label, x in tie_inputs(shape):
        x = x.astype(dtype)
        ref_out, ref_cache = naive.max_pool_forward_naive(x, param)
        # Integer-valued upstream gradients make every sum exact in any order.
        dout = np.random.default_rng(23).integers(1, 9, size=ref_out.shape).astype(dtype)
        ref_dx = naive.max_pool_backward_naive(dout, ref_cache)
        loop_dx = loop_pool_backward(dout, x, ph, pw, stride)
        np.testing.assert_array_equal(ref_dx, loop_dx)  # the two references agree
        for name in pool_variants_for(shape, ph, pw, stride):
            forward, backward = POOL_VARIANTS[name]
            out, cache = forward(x, param)
            np.testing.assert_array_equal(out, ref_out, err_msg=(label, name))
            dx = backward(dout, cache)
            # Exactly one entry per window receives its gradient: never split, never copied.
            np.testing.assert_array_equal(dx, ref_dx, err_msg=(label, name))


def test_pool_constant_input_sends_gradient_to_top_left(backend):
    x = np.zeros((1, 1, 4, 4))
    out, cache = fast_layers.max_pool_forward_fast(x, pool_param(2, 2, 2))
    dx = fast_layers.max_pool_backward_fast(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize('name', sorted(POOL_VARIANTS))
def test_pool_backward_matches_numerical_gradient(name, backend):
    # Distinct values a long way apart, so a small step never changes a window's winner.
    rng = np.random.default_rng(24)
    shape = (2, 2, 6, 6)
    x = rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape)
    param = pool_param(2, 2, 2) if name == 'reshape' else pool_param(3, 3, 1)
    forward, backward = POOL_VARIANTS[name]
    out, cache = forward(x, param)
    dout = rng.standard_normal(out.shape)
    num_dx = eval_numerical_gradient_array(lambda v: forward(v, param)[0], x, dout)
    assert rel_err(backward(dout, cache), num_dx) < 1e-8


def test_pool_reshape_rejects_pools_that_do_not_tile():
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match="tile"):
        fast_layers.max_pool_forward_reshape(x, pool_param(2, 2, 2))
    with pytest.raises(ValueError, match="tile"):
        fast_layers.max_pool_forward_reshape(np.zeros((1, 1, 6, 6)), pool_param(3, 3, 2))


def test_pool_parameters_are_checked():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="whole number"):
        fast_layers.max_pool_forward_fast(x, pool_param(2, 2, 1.5))
    with pytest.raises(ValueError, match="do not fit"):
        fast_layers.max_pool_forward_fast(x, pool_param(5, 2, 1))
    out, _ = fast_layers.max_pool_forward_fast(x, pool_param(2.0, 2.0, 2.0))
    assert out.shape == (1, 1, 2, 2)


def test_pool_fast_picks_the_method(monkeypatch):
    x = np.zeros((1, 1, 6, 6))
    if fast_layers.HAVE_COMPILED:
        assert fast_layers.max_pool_forward_fast(x, pool_param(2, 2, 2))[1][0] == 'compiled'
    monkeypatch.setattr(fast_layers, 'HAVE_COMPILED', False)
    assert fast_layers.max_pool_forward_fast(x, pool_param(2, 2, 2))[1][0] == 'reshape'
    assert fast_layers.max_pool_forward_fast(x, pool_param(3, 3, 1))[1][0] == 'im2col'
    assert fast_layers.max_pool_forward_fast(x, pool_param(4, 4, 4))[1][0] == 'im2col'


@pytest.mark.parametrize('name', sorted(POOL_VARIANTS))
def test_pool_does_not_write_into_inputs(name, backend):
    rng = np.random.default_rng(25)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    dout = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    originals = (x.copy(), dout.copy())
    x.setflags(write=False)
    dout.setflags(write=False)
    forward, backward = POOL_VARIANTS[name]
    out, cache = forward(x, pool_param(2, 2, 2))
    backward(dout, cache)
    np.testing.assert_array_equal(originals[0], x)
    np.testing.assert_array_equal(originals[1], dout)


def test_pool_accepts_non_contiguous_inputs(backend):
    rng = np.random.default_rng(26)
    x = rng.standard_normal((2, 3, 8, 6))
    x_view = np.ascontiguousarray(x[:, :, ::-1]).transpose(0, 1, 3, 2)  # (2, 3, 6, 8) view
    x_ref = x[:, :, ::-1].transpose(0, 1, 3, 2).copy()
    for name in POOL_VARIANTS:
        forward, backward = POOL_VARIANTS[name]
        out, cache = forward(x_view, pool_param(2, 2, 2))
        np.testing.assert_array_equal(out, loop_pool_forward(x_ref, 2, 2, 2))
        dout = rng.standard_normal(out.shape)
        dx = backward(dout.T.copy().T, cache)
        np.testing.assert_array_equal(dx, loop_pool_backward(dout, x_ref, 2, 2, 2))


# --------------------------------------------------------------------------- #
# Without the compiled extension
# --------------------------------------------------------------------------- #

FALLBACK_SCRIPT = textwrap.dedent("""
    import importlib.abc, sys, warnings

    class BlockExtension(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == 'cs231n.im2col_cython':
                raise ImportError('blocked for the test')
            return None

    sys.meta_path.insert(0, BlockExtension())
    warnings.simplefilter('always')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        import numpy as np
        import cs231n.fast_layers as fl
        import cs231n.fast_layers  # second import: cached, no new warning
        x = np.load(sys.argv[1])['x']
        w = np.load(sys.argv[1])['w']
        b = np.load(sys.argv[1])['b']
        out, cache = fl.conv_forward_fast(x, w, b, {'stride': 1, 'pad': 1})
        dx, dw, db = fl.conv_backward_fast(np.ones_like(out), cache)
        pooled, pcache = fl.max_pool_forward_fast(x, {'pool_height': 2, 'pool_width': 2,
                                                      'stride': 2})
        pdx = fl.max_pool_backward_fast(np.ones_like(pooled), pcache)
    messages = [str(w.message) for w in caught]
    np.savez(sys.argv[2], out=out, dx=dx, dw=dw, db=db, pooled=pooled, pdx=pdx,
             have_compiled=fl.HAVE_COMPILED)
    print(repr(messages))
""")


def test_fallback_without_extension_warns_once_and_matches(tmp_path):
    if not fast_layers.HAVE_COMPILED:
        pytest.skip("needs the compiled extension to compare against")
    x, w, b = random_conv((2, 3, 6, 8), (4, 3, 3), np.float32, seed=30)
    np.savez(tmp_path / "inputs.npz", x=x, w=w, b=b)
    script = tmp_path / "fallback.py"
    script.write_text(FALLBACK_SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "inputs.npz"),
                             str(tmp_path / "outputs.npz")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    messages = eval(result.stdout.strip().splitlines()[-1])
    assert len(messages) == 1, messages
    assert "pip install -e ." in messages[0] and "build_ext --inplace" in messages[0]

    fallback = np.load(tmp_path / "outputs.npz")
    assert not fallback['have_compiled']
    out, cache = fast_layers.conv_forward_fast(x, w, b, {'stride': 1, 'pad': 1})
    dx, dw, db = fast_layers.conv_backward_fast(np.ones_like(out), cache)
    param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}
    pooled, pcache = fast_layers.max_pool_forward_fast(x, param)
    pdx = fast_layers.max_pool_backward_fast(np.ones_like(pooled), pcache)
    for name, compiled in (('out', out), ('dx', dx), ('dw', dw), ('db', db)):
        assert fallback[name].dtype == np.float32, name
        # Same matmuls; col2im may add the taps in another order.
        assert rel_err(fallback[name], compiled) < 1e-6, name
    np.testing.assert_array_equal(fallback['pooled'], pooled)
    np.testing.assert_array_equal(fallback['pdx'], pdx)


def test_outdated_extension_is_not_used(tmp_path):
    # An old build (e.g. the placeholder kernel) lacks the kernels fast_layers calls.
    script = tmp_path / "outdated.py"
    script.write_text(textwrap.dedent("""
        import sys, types, warnings
        import numpy as np
        sys.modules['cs231n.im2col_cython'] = types.ModuleType('cs231n.im2col_cython')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            import cs231n.fast_layers as fl
        out, _ = fl.conv_forward_fast(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)),
                                      np.zeros(1), {'stride': 1, 'pad': 1})
        print(fl.HAVE_COMPILED, out[0, 0, 1, 1], repr([str(w.message) for w in caught]))
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    have_compiled, centre, messages = result.stdout.strip().split(" ", 2)
    assert have_compiled == "False" and float(centre) == 9.0
    messages = eval(messages)
    assert len(messages) == 1 and "outdated build" in messages[0]
    assert "build_ext --inplace" in messages[0]


def test_compiled_extension_is_used_when_built():
    # Guards against silently benchmarking the fallback: the package is built in place.
    pytest.importorskip("cs231n.im2col_cython")
    assert fast_layers.HAVE_COMPILED


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_conv_backward_params_gives_the_full_backward_passs_dw_and_db(dtype, backend, conv_mode):
    # The first layer's backward pass without dx: the same dw and db as the
    # whole pass (per-image and chunked products), and no dx at all.
    for shape, filt, stride, pad in CONV_CASES:
        x, w, b = random_conv(shape, filt, dtype, seed=21)
        conv_param = {'stride': stride, 'pad': pad}
        out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
        dout = np.random.default_rng(22).standard_normal(out.shape).astype(dtype)
        _, dw, db = fast_layers.conv_backward_fast(dout, cache)
        grads = fast_layers.conv_backward_fast_params(dout, cache)
        assert len(grads) == 2
        for got, want in zip(grads, (dw, db)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
        expected_dw = loop_conv_backward(dout, x, w, stride, pad)[1]
        assert rel_err(grads[0], expected_dw) < rtol_for(dtype)


@pytest.mark.parametrize("name", list(POOL_VARIANTS))
@pytest.mark.parametrize("layout", ["C", "channels_last"])
def test_pool_dx_takes_the_dtype_of_x_not_of_a_float64_dout(name, layout, backend):
    # A float64 layer downstream hands back a float64 dout; dx stays in x's float32
    # (as the convolutions' dx does), with the naive layer's values rounded to float32.
    rng = np.random.default_rng(21)
    x64 = rng.standard_normal((3, 4, 8, 6))
    x = x64.astype(np.float32)
    if layout == "channels_last":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    forward, backward = POOL_VARIANTS[name]
    out, cache = forward(x, pool_param(2, 2, 2))
    dout = rng.standard_normal(out.shape)  # float64
    dx = backward(dout, cache)
    assert dx.dtype == np.float32 and dx.shape == x.shape
    _, naive_cache = naive.max_pool_forward_naive(x.astype(np.float64), pool_param(2, 2, 2))
    want = naive.max_pool_backward_naive(dout, naive_cache)
    np.testing.assert_array_equal(dx, want.astype(np.float32))
