"""The channels-last fast path: a convolution big enough to be done in chunks
returns its output as a view of (N, H, W, F) memory, and max pooling and the
convolution's backward take such views without a transposing copy.

References are the naive layers of nndl.conv_layers (the textbook loops),
run on channels-first copies of the same values. Max pooling is compared
exactly (it only moves values); convolutions to 1e-10 relative in float64 and
1e-5 in float32 (sums of at most a few hundred products).
"""
import numpy as np
import pytest

from cs231n import fast_layers
from nndl import conv_layers as naive

pytestmark = pytest.mark.skipif(not fast_layers.HAVE_COMPILED,
                                reason="the channels-last kernels are compiled only")


def channels_last(a):
    """The values of a (N, C, H, W) as a view of (N, H, W, C) memory."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def is_channels_last(a):
    return a.transpose(0, 2, 3, 1).flags.c_contiguous and not a.flags.c_contiguous


def rel_err(actual, expected):
    return np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-300)


POOLS = [
    # (x shape, pool height, pool width, stride)
    ((2, 5, 8, 6), 2, 2, 2),    # pools tile the input
    ((3, 4, 7, 9), 3, 3, 2),    # overlapping pools, shared winners add up
    ((2, 3, 7, 7), 2, 2, 2),    # a remainder row and column dropped
    ((1, 6, 6, 8), 2, 3, 1),    # non-square, stride 1
]


@pytest.mark.parametrize("shape,ph,pw,stride", POOLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_on_channels_last_input_matches_naive(shape, ph, pw, stride, dtype):
    rng = np.random.default_rng(3)
    # Few distinct values: many ties, which must go to the first maximum.
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    pool_param = {'pool_height': ph, 'pool_width': pw, 'stride': stride}
    out_naive, cache_naive = naive.max_pool_forward_naive(x, pool_param)
    out, cache = fast_layers.max_pool_forward_fast(channels_last(x), pool_param)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, out_naive)

    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = fast_layers.max_pool_backward_fast(dout, cache)
    assert dx.dtype == dtype and dx.shape == x.shape
    assert is_channels_last(dx)  # the layout of the forward input, for the layers below
    dx_naive = naive.max_pool_backward_naive(dout, cache_naive)
    # Tiling pools only move values; overlapping ones add them (any order).
    np.testing.assert_allclose(dx, dx_naive, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_pool_on_channels_last_input_does_not_write_into_inputs():
    rng = np.random.default_rng(4)
    x = channels_last(rng.standard_normal((2, 4, 6, 6)))
    x.setflags(write=False)
    out, cache = fast_layers.max_pool_forward_fast(
        x, {'pool_height': 2, 'pool_width': 2, 'stride': 2})
    dout = rng.standard_normal(out.shape)
    dout.setflags(write=False)
    fast_layers.max_pool_backward_fast(dout, cache)


@pytest.fixture
def chunked(monkeypatch):
    # Every product big enough for the chunked (channels-last) path.
    monkeypatch.setattr(fast_layers, 'SMALL_PRODUCT', 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dout_layout", ["channels_first", "channels_last"])
def test_chunked_conv_returns_channels_last_and_matches_naive(chunked, dtype, dout_layout):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3, 7, 6)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 2)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    conv_param = {'stride': 1, 'pad': 1}
    out_naive, cache_naive = naive.conv_forward_naive(
        x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), conv_param)
    out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
    assert is_channels_last(out) and out.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    assert rel_err(out, out_naive) < rtol

    dout = rng.standard_normal(out.shape).astype(dtype)
    if dout_layout == "channels_last":
        dout = channels_last(dout)
    grads = fast_layers.conv_backward_fast(dout, cache)
    grads_naive = naive.conv_backward_naive(dout.astype(np.float64), cache_naive)
    for got, expected in zip(grads, grads_naive):
        assert got.dtype == dtype
        assert rel_err(got, expected) < rtol


def test_reference_shapes_stay_channels_last_through_conv_bn_relu_pool():
    # The training network's first block: no layer in it should need to
    # transpose the 200x64x32x32 activations back to channels-first.
    from nndl.conv_layer_utils import conv_bn_relu_pool_backward, conv_bn_relu_pool_forward
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 3, 32, 32)).astype(np.float32)
    w = (0.1 * rng.standard_normal((64, 3, 3, 3))).astype(np.float32)
    b = np.zeros(64, np.float32)
    gamma, beta = np.ones(64, np.float32), np.zeros(64, np.float32)
    out, cache = conv_bn_relu_pool_forward(
        x, w, b, gamma, beta, {'stride': 1, 'pad': 1}, {'mode': 'train'},
        {'pool_height': 2, 'pool_width': 2, 'stride': 2})
    assert out.flags.c_contiguous  # flattened per image by the affine layer next
    (conv_cache, bn_cache, relu_cache), pool_cache = cache
    assert pool_cache[0] == 'compiled_nhwc'
    assert is_channels_last(relu_cache)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    grads = conv_bn_relu_pool_backward(dout, cache)
    assert all(g.dtype == np.float32 for g in grads)
