"""Tests of the convolutional sandwich layers in nndl.conv_layer_utils (built on
cs231n.fast_layers): each one equals the composition of the naive layers,
every gradient matches a float64 numerical gradient, dtypes are kept and no
input is written into."""
import numpy as np
import pytest

from nndl import conv_layer_utils
from nndl.conv_layers import conv_forward_naive, max_pool_forward_naive, spatial_batchnorm_forward
from nndl.layers import relu_forward
from tests.nndl.gradients import (assert_bitwise_equal, numerical_gradient_of_output, rel_error,
                                  snapshot)

CONV_PARAM = {'stride': 1, 'pad': 1}
# 2x2 / stride 2 pools on the 6x5 conv output: the last column is dropped.
POOL_PARAM = {'pool_height': 2, 'pool_width': 2, 'stride': 2}
STEP = 1e-5

SANDWICHES = ['conv_relu', 'conv_relu_pool', 'conv_bn_relu', 'conv_bn_relu_pool']
NAMES = ['x', 'w', 'b', 'gamma', 'beta']
GRAD_ARGS = {
    'conv_relu': NAMES[:3],
    'conv_relu_pool': NAMES[:3],
    'conv_bn_relu': NAMES,
    'conv_bn_relu_pool': NAMES,
}


def make_inputs(seed=0, dtype=np.float64):
    """x (2, 3, 6, 5), w (4, 3, 3, 3), b, gamma, beta (4,)."""
    r = np.random.default_rng(seed)
    shapes = [(2, 3, 6, 5), (4, 3, 3, 3), (4,), (4,), (4,)]
    return [r.standard_normal(shape).astype(dtype) for shape in shapes]


def call_forward(name, x, w, b, gamma, beta):
    forward = getattr(conv_layer_utils, name + '_forward')
    if name == 'conv_relu':
        return forward(x, w, b, dict(CONV_PARAM))
    if name == 'conv_relu_pool':
        return forward(x, w, b, dict(CONV_PARAM), dict(POOL_PARAM))
    if name == 'conv_bn_relu':
        return forward(x, w, b, gamma, beta, dict(CONV_PARAM), {'mode': 'train'})
    return forward(x, w, b, gamma, beta, dict(CONV_PARAM), {'mode': 'train'}, dict(POOL_PARAM))


def pre_relu_and_post_relu(name, x, w, b, gamma, beta):
    """The activation before and after the ReLU, from the naive layers."""
    a = conv_forward_naive(x, w, b, CONV_PARAM)[0]
    if 'bn' in name:
        a = spatial_batchnorm_forward(a, gamma, beta, {'mode': 'train'})[0]
    return a, relu_forward(a)[0]


def compose(name, *inputs):
    out = pre_relu_and_post_relu(name, *inputs)[1]
    if name.endswith('pool'):
        out = max_pool_forward_naive(out, POOL_PARAM)[0]
    return out


def distance_to_kinks(name, *inputs):
    """
    How far the activations are from the points where the sandwich stops being
    smooth: a pre-activation at 0 (ReLU) or two leading entries of a pool
    window with a positive maximum tying.
    """
    pre, post = pre_relu_and_post_relu(name, *inputs)
    distance = np.min(np.abs(pre))
    if name.endswith('pool'):
        N, C, H, W = post.shape
        usable = post[:, :, :H // 2 * 2, :W // 2 * 2]
        blocks = usable.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5)
        ranked = np.sort(blocks.reshape(N, C, H // 2, W // 2, 4), axis=-1)
        gaps = (ranked[..., -1] - ranked[..., -2])[ranked[..., -1] > 0]
        distance = min(distance, np.min(gaps))
    return distance


@pytest.mark.parametrize("name", SANDWICHES)
def test_sandwich_forward_is_the_composition_of_the_naive_layers(name):
    inputs = make_inputs(1)
    out, _ = call_forward(name, *inputs)
    assert rel_error(out, compose(name, *inputs)) < 1e-10


@pytest.mark.parametrize("name", SANDWICHES)
def test_sandwich_backward_matches_numerical_gradients(name):
    inputs = make_inputs(2)
    # A step of 1e-5 moves any activation by at most ~1e-4 here (|x|, |w| < 5,
    # 27 taps): well inside the distance to the nearest kink.
    assert distance_to_kinks(name, *inputs) > 100 * STEP
    out, cache = call_forward(name, *inputs)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    grads = getattr(conv_layer_utils, name + '_backward')(dout, cache)
    assert len(grads) == len(GRAD_ARGS[name])
    for arg, grad in zip(GRAD_ARGS[name], grads):
        k = NAMES.index(arg)
        assert grad.shape == inputs[k].shape, arg

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return call_forward(name, *args)[0]

        num = numerical_gradient_of_output(f, inputs[k], dout, STEP)
        if 'bn' in name and arg == 'b':
            # The batch mean removes a bias added before batchnorm: the true
            # gradient is zero and both sides must sit at their rounding floors.
            assert np.max(np.abs(grad)) < 1e-10 and np.max(np.abs(num)) < 1e-8
            continue
        assert rel_error(grad, num) < 1e-6, (name, arg)


@pytest.mark.parametrize("name", SANDWICHES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sandwich_keeps_the_dtype(name, dtype):
    inputs = make_inputs(4, dtype)
    out, cache = call_forward(name, *inputs)
    assert out.dtype == dtype
    grads = getattr(conv_layer_utils, name + '_backward')(np.ones_like(out), cache)
    assert all(grad.dtype == dtype for grad in grads)


@pytest.mark.parametrize("name", SANDWICHES)
def test_sandwich_does_not_write_into_its_inputs(name):
    inputs = make_inputs(5)
    before = snapshot(inputs)
    out, cache = call_forward(name, *inputs)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    dout_before, cache_before = dout.copy(), snapshot(cache)
    getattr(conv_layer_utils, name + '_backward')(dout, cache)
    assert_bitwise_equal(before, inputs, "inputs")
    assert_bitwise_equal(dout_before, dout, "dout")
    assert_bitwise_equal(cache_before, cache, "cache")


@pytest.mark.parametrize("name", ['conv_relu_pool', 'conv_bn_relu_pool'])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_params_gives_the_parameter_gradients_of_the_full_backward(name, dtype):
    # For a first layer, whose input needs no gradient: the same dw, db (and
    # dgamma, dbeta) as the full backward pass, without dx.
    inputs = make_inputs(7, dtype)
    out, cache = call_forward(name, *inputs)
    dout = np.random.default_rng(8).standard_normal(out.shape).astype(dtype)
    full = getattr(conv_layer_utils, name + '_backward')(dout, cache)
    params = getattr(conv_layer_utils, name + '_backward_params')(dout, cache)
    assert len(params) == len(full) - 1
    for got, want in zip(params, full[1:]):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
