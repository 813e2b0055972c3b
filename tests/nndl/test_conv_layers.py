"""Tests of nndl.conv_layers: the naive convolution and max pooling against
references written here from the definitions, numerical gradient checks in
float64, max-pool tie breaking, spatial batchnorm semantics, dtype
preservation and no writes into inputs."""
import numpy as np
import pytest

from nndl.conv_layers import (conv_backward_naive, conv_forward_naive, max_pool_backward_naive,
                              max_pool_forward_naive, spatial_batchnorm_backward,
                              spatial_batchnorm_forward)
from nndl.layers import batchnorm_forward
from tests.nndl.gradients import (LINEAR_STEP, assert_bitwise_equal, numerical_gradient_of_output,
                                  rel_error, snapshot)


def rng(seed=0):
    return np.random.default_rng(seed)


def zero_padded(x, pad):
    """x (N, C, H, W) inside a border of pad zeros, built by assignment."""
    N, C, H, W = x.shape
    padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.float64)
    padded[:, :, pad:pad + H, pad:pad + W] = x
    return padded


def windows(x, field_h, field_w, stride):
    """
    All field_h x field_w windows of x (N, C, H, W) whose top-left corners lie
    on the stride grid and that fit inside x: shape (N, C, H', W', field_h, field_w),
    gathered by integer indexing (window (i, j) starts at row i*stride, col j*stride).
    """
    _, _, H, W = x.shape
    out_h = 1 + (H - field_h) // stride
    out_w = 1 + (W - field_w) // stride
    rows = stride * np.arange(out_h)[:, None] + np.arange(field_h)[None, :]  # (H', fh)
    cols = stride * np.arange(out_w)[:, None] + np.arange(field_w)[None, :]  # (W', fw)
    return x[:, :, rows[:, None, :, None], cols[None, :, None, :]]


def reference_conv(x, w, b, stride, pad):
    """out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * xpad[n, c, i*s + p, j*s + q]."""
    _, _, HH, WW = w.shape
    patches = windows(zero_padded(x, pad), HH, WW, stride)
    return np.einsum('ncijpq,fcpq->nfij', patches, w) + b[None, :, None, None]


def reference_max_pool(x, pool_h, pool_w, stride):
    return windows(x, pool_h, pool_w, stride).max(axis=(4, 5))


def distinct_values(shape, seed, spacing=0.01):
    """Entries spaced `spacing` apart in random order: no two tie, even after
    a finite-difference step smaller than spacing / 2."""
    count = int(np.prod(shape))
    return ((rng(seed).permutation(count) - count / 2) * spacing).reshape(shape)


# --------------------------------------------------------------------------- #
# convolution
# --------------------------------------------------------------------------- #

def test_conv_forward_naive_on_the_handout_input():
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = conv_forward_naive(x, w, b, {'stride': 2, 'pad': 1})
    expected = reference_conv(x, w, b, stride=2, pad=1)
    assert out.shape == (2, 3, 2, 2)
    assert rel_error(out, expected) < 1e-8

    # One entry written out by hand as a triple sum: output (0, 1, 1, 0) reads
    # the window of padded rows 2..5, columns 0..3, i.e. x rows 1..3, cols 0..2.
    entry = b[1] + sum(x[0, c, r - 1, q - 1] * w[1, c, r - 2, q]
                       for c in range(3) for r in range(2, 5) for q in range(1, 4))
    assert abs(out[0, 1, 1, 0] - entry) < 1e-12


CONV_CASES = [
    # x shape, w shape, stride, pad
    ((2, 3, 5, 5), (3, 3, 3, 3), 1, 1),
    ((2, 2, 7, 9), (3, 2, 3, 5), 2, 0),   # odd sizes, non-square filter, stride 2
    ((1, 3, 5, 6), (2, 3, 3, 2), 2, 1),   # non-square input and filter
    ((2, 2, 5, 4), (3, 2, 5, 3), 1, 2),
    ((1, 2, 7, 5), (2, 2, 3, 3), 2, 2),
    ((2, 1, 7, 7), (2, 1, 3, 3), 3, 1),
    ((1, 2, 4, 6), (2, 2, 1, 2), 1, 0),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_forward_naive_matches_the_definition(x_shape, w_shape, stride, pad):
    r = rng(1)
    x, w, b = r.standard_normal(x_shape), r.standard_normal(w_shape), r.standard_normal(w_shape[0])
    out, _ = conv_forward_naive(x, w, b, {'stride': stride, 'pad': pad})
    H, W = x_shape[2:]
    HH, WW = w_shape[2:]
    assert out.shape == (x_shape[0], w_shape[0],
                         1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride)
    assert rel_error(out, reference_conv(x, w, b, stride, pad)) < 1e-10


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_backward_naive_matches_numerical_gradients(x_shape, w_shape, stride, pad):
    r = rng(2)
    x, w, b = r.standard_normal(x_shape), r.standard_normal(w_shape), r.standard_normal(w_shape[0])
    conv_param = {'stride': stride, 'pad': pad}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = r.standard_normal(out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape

    def conv(x_, w_, b_):
        return conv_forward_naive(x_, w_, b_, conv_param)[0]

    # Convolution is linear in each argument: only rounding error remains.
    num_dx = numerical_gradient_of_output(lambda v: conv(v, w, b), x, dout, LINEAR_STEP)
    num_dw = numerical_gradient_of_output(lambda v: conv(x, v, b), w, dout, LINEAR_STEP)
    num_db = numerical_gradient_of_output(lambda v: conv(x, w, v), b, dout, LINEAR_STEP)
    assert rel_error(dx, num_dx) < 1e-8
    assert rel_error(dw, num_dw) < 1e-8
    assert rel_error(db, num_db) < 1e-8


def test_conv_backward_naive_leaves_unread_pixels_at_zero_gradient():
    # Stride 3 with 2x2 filters skips every third row and column.
    r = rng(3)
    x, w, b = r.standard_normal((1, 1, 8, 8)), r.standard_normal((1, 1, 2, 2)), np.zeros(1)
    out, cache = conv_forward_naive(x, w, b, {'stride': 3, 'pad': 0})
    dx, _, _ = conv_backward_naive(np.ones_like(out), cache)
    assert np.all(dx[0, 0, 2::3, :] == 0) and np.all(dx[0, 0, :, 2::3] == 0)
    assert np.all(dx[0, 0, 0::3, 0::3] == w[0, 0, 0, 0])


# --------------------------------------------------------------------------- #
# max pooling
# --------------------------------------------------------------------------- #

def test_max_pool_forward_naive_on_the_handout_input():
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    out, _ = max_pool_forward_naive(x, {'pool_width': 2, 'pool_height': 2, 'stride': 2})
    # 2x2 pools with stride 2 tile the 4x4 input: split each axis into
    # (block, offset) and take the maximum over the offsets.
    expected = x.reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5))
    assert out.shape == (2, 3, 2, 2)
    assert rel_error(out, expected) < 1e-8


POOL_CASES = [
    # x shape, pool height, pool width, stride
    ((2, 3, 4, 4), 2, 2, 2),   # tiling
    ((2, 2, 5, 7), 2, 2, 2),   # does not tile: last row / column dropped
    ((1, 3, 7, 7), 3, 3, 2),   # overlapping
    ((2, 2, 5, 6), 3, 3, 1),   # heavily overlapping
    ((1, 2, 6, 7), 2, 3, 2),   # non-square pools, non-tiling width
    ((2, 1, 9, 5), 4, 2, 3),
]


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_max_pool_forward_naive_matches_the_definition(x_shape, ph, pw, stride):
    x = distinct_values(x_shape, seed=4)
    out, _ = max_pool_forward_naive(x, {'pool_height': ph, 'pool_width': pw, 'stride': stride})
    assert out.shape == x_shape[:2] + (1 + (x_shape[2] - ph) // stride,
                                       1 + (x_shape[3] - pw) // stride)
    np.testing.assert_array_equal(out, reference_max_pool(x, ph, pw, stride))


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_max_pool_backward_naive_matches_numerical_gradient(x_shape, ph, pw, stride):
    # Entries 1e-2 apart, five steps: the finite difference never creates or
    # breaks a tie, so max pooling is linear around x.
    x = distinct_values(x_shape, seed=5)
    pool_param = {'pool_height': ph, 'pool_width': pw, 'stride': stride}
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = rng(6).standard_normal(out.shape)
    dx = max_pool_backward_naive(dout, cache)
    num = numerical_gradient_of_output(lambda v: max_pool_forward_naive(v, pool_param)[0],
                                       x, dout, LINEAR_STEP)
    assert dx.shape == x.shape
    assert rel_error(dx, num) < 1e-8


@pytest.mark.parametrize("ph, pw, stride", [(2, 2, 2), (3, 3, 2), (2, 3, 1)])
def test_max_pool_ties_send_the_gradient_to_the_first_maximum(ph, pw, stride):
    x = np.full((2, 3, 7, 8), 0.25)
    out, cache = max_pool_forward_naive(x, {'pool_height': ph, 'pool_width': pw,
                                            'stride': stride})
    dout = rng(7).standard_normal(out.shape)
    dx = max_pool_backward_naive(dout, cache)
    expected = np.zeros_like(x)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            # Every entry ties: the top-left one of the window wins. Windows
            # overlapping at that pixel add up.
            expected[:, :, i * stride, j * stride] += dout[:, :, i, j]
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_tie_inside_a_window_goes_to_the_row_major_first():
    x = np.array([[0.0, 5.0], [5.0, 1.0]]).reshape(1, 1, 2, 2)
    _, cache = max_pool_forward_naive(x, {'pool_height': 2, 'pool_width': 2, 'stride': 2})
    dx = max_pool_backward_naive(np.array([[[[3.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 3.0], [0.0, 0.0]])


# --------------------------------------------------------------------------- #
# spatial batchnorm
# --------------------------------------------------------------------------- #

def test_spatial_batchnorm_backward_matches_numerical_gradients():
    r = rng(8)
    N, C, H, W = 2, 3, 4, 3
    x = 2.0 * r.standard_normal((N, C, H, W)) + 1.0
    gamma, beta = r.standard_normal(C), r.standard_normal(C)
    dout = r.standard_normal(x.shape)

    def forward(x_, gamma_, beta_):
        return spatial_batchnorm_forward(x_, gamma_, beta_, {'mode': 'train'})[0]

    _, cache = spatial_batchnorm_forward(x, gamma, beta, {'mode': 'train'})
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    assert dx.shape == x.shape and dgamma.shape == (C,) and dbeta.shape == (C,)
    num_dx = numerical_gradient_of_output(lambda v: forward(v, gamma, beta), x, dout)
    num_dgamma = numerical_gradient_of_output(lambda v: forward(x, v, beta), gamma, dout)
    num_dbeta = numerical_gradient_of_output(lambda v: forward(x, gamma, v), beta, dout)
    # dx passes through the nonlinear normalisation: looser bound.
    assert rel_error(dx, num_dx) < 1e-6
    assert rel_error(dgamma, num_dgamma) < 1e-8
    assert rel_error(dbeta, num_dbeta) < 1e-8


def test_spatial_batchnorm_normalises_each_channel():
    r = rng(9)
    N, C, H, W = 4, 3, 5, 5
    x = 4.0 * r.standard_normal((N, C, H, W)) + np.array([10.0, -3.0, 0.5])[None, :, None, None]
    out, _ = spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), {'mode': 'train'})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, atol=1e-5)

    gamma, beta = np.array([3.0, 4.0, 5.0]), np.array([6.0, 7.0, 8.0])
    out, _ = spatial_batchnorm_forward(x, gamma, beta, {'mode': 'train'})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), beta, rtol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), gamma, rtol=1e-5)


def test_spatial_batchnorm_is_batchnorm_on_the_channels_last_view():
    r = rng(10)
    N, C, H, W = 3, 4, 2, 5
    x = r.standard_normal((N, C, H, W))
    gamma, beta = r.standard_normal(C), r.standard_normal(C)
    spatial_param = {'mode': 'train', 'momentum': 0.8}
    vanilla_param = {'mode': 'train', 'momentum': 0.8}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, spatial_param)
    rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    out_rows, _ = batchnorm_forward(rows, gamma, beta, vanilla_param)
    np.testing.assert_allclose(out, out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2), rtol=1e-12)
    for key in ('running_mean', 'running_var'):
        np.testing.assert_allclose(spatial_param[key], vanilla_param[key], rtol=1e-12)
    # Per-channel statistics over N, H and W, with the default momentum rule.
    mean = x.mean(axis=(0, 2, 3))
    var = ((x - mean[None, :, None, None]) ** 2).mean(axis=(0, 2, 3))
    np.testing.assert_allclose(spatial_param['running_mean'], 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(spatial_param['running_var'], 0.2 * var, rtol=1e-12)


def test_spatial_batchnorm_test_mode_uses_running_statistics():
    r = rng(11)
    x = r.standard_normal((2, 3, 4, 4))
    gamma, beta = r.standard_normal(3), r.standard_normal(3)
    running_mean, running_var = np.array([0.5, -1.0, 2.0]), np.array([4.0, 0.25, 1.0])
    bn_param = {'mode': 'test', 'running_mean': running_mean, 'running_var': running_var}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)

    def per_channel(v):
        return v[None, :, None, None]

    expected = (per_channel(gamma) * (x - per_channel(running_mean))
                / np.sqrt(per_channel(running_var) + 1e-5) + per_channel(beta))
    np.testing.assert_allclose(out, expected, rtol=1e-12)


# --------------------------------------------------------------------------- #
# dtype and no writes into inputs
# --------------------------------------------------------------------------- #

def conv_layer_cases(dtype):
    """The arrays given to the layers, and (name, forward thunk, backward)."""
    r = rng(12)
    x = r.standard_normal((2, 3, 6, 5)).astype(dtype)
    w = r.standard_normal((4, 3, 3, 2)).astype(dtype)
    b = r.standard_normal(4).astype(dtype)
    gamma, beta = r.standard_normal(3).astype(dtype), r.standard_normal(3).astype(dtype)
    running_mean = r.standard_normal(3).astype(dtype)
    running_var = (r.random(3) + 0.5).astype(dtype)
    arrays = [x, w, b, gamma, beta, running_mean, running_var]
    conv_param = {'stride': 1, 'pad': 1}
    pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 1}
    cases = [
        ("conv", lambda: conv_forward_naive(x, w, b, conv_param), conv_backward_naive),
        ("max pool", lambda: max_pool_forward_naive(x, pool_param), max_pool_backward_naive),
        ("spatial batchnorm train",
         lambda: spatial_batchnorm_forward(x, gamma, beta, {'mode': 'train'}),
         spatial_batchnorm_backward),
        ("spatial batchnorm test",
         lambda: spatial_batchnorm_forward(x, gamma, beta, {
             'mode': 'test', 'running_mean': running_mean, 'running_var': running_var}),
         None),
    ]
    return arrays, cases


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_conv_layer_keeps_the_input_dtype(dtype):
    _, cases = conv_layer_cases(dtype)
    for name, forward, backward in cases:
        out, cache = forward()
        assert out.dtype == dtype, name
        if backward is not None:
            grads = backward(np.ones_like(out), cache)
            for grad in grads if isinstance(grads, tuple) else (grads,):
                assert grad.dtype == dtype, name


def test_no_conv_layer_writes_into_its_inputs():
    arrays, cases = conv_layer_cases(np.float64)
    before = snapshot(arrays)
    for name, forward, backward in cases:
        out, cache = forward()
        if backward is not None:
            dout = rng(13).standard_normal(out.shape)
            dout_before, cache_before = dout.copy(), snapshot(cache)
            backward(dout, cache)
            assert_bitwise_equal(dout_before, dout, "%s dout" % name)
            assert_bitwise_equal(cache_before, cache, "%s cache" % name)
        assert_bitwise_equal(before, arrays, "%s inputs" % name)


def test_conv_params_dicts_are_not_modified():
    x, w, b = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), np.zeros(1)
    conv_param = {'stride': 2, 'pad': 0}
    pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    conv_backward_naive(np.ones_like(out), cache)
    out, cache = max_pool_forward_naive(x, pool_param)
    max_pool_backward_naive(np.ones_like(out), cache)
    assert conv_param == {'stride': 2, 'pad': 0}
    assert pool_param == {'pool_height': 2, 'pool_width': 2, 'stride': 2}
