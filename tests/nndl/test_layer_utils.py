"""Tests of the fully connected sandwich layers in nndl.layer_utils: each one
is the composition of its layers, every gradient it returns matches a float64
numerical gradient, dtypes are kept and no input is written into."""
import numpy as np
import pytest

from nndl import layer_utils
from nndl.layers import affine_forward, batchnorm_forward, dropout_forward, relu_forward
from tests.nndl.gradients import (LINEAR_STEP, assert_bitwise_equal, numerical_gradient_of_output,
                                  rel_error, snapshot)

N, D_IN, M = 5, (2, 3), 4
DROPOUT = {'mode': 'train', 'p': 0.4, 'seed': 11}


def make_inputs(seed=0, dtype=np.float64):
    """x (N, 2, 3), w (6, M), b, gamma, beta; pre-activations kept off the ReLU kink."""
    r = np.random.default_rng(seed)
    x = r.standard_normal((N,) + D_IN)
    w = r.standard_normal((6, M))
    b = r.standard_normal(M)
    gamma = r.standard_normal(M)
    beta = r.standard_normal(M)
    return [v.astype(dtype) for v in (x, w, b, gamma, beta)]


def compose(name, x, w, b, gamma, beta):
    """The sandwich's output computed from the basic layers."""
    a = affine_forward(x, w, b)[0]
    if 'bn' in name:
        a = batchnorm_forward(a, gamma, beta, {'mode': 'train'})[0]
    a = relu_forward(a)[0]
    if 'dropout' in name:
        a = dropout_forward(a, dict(DROPOUT))[0]
    return a


def call_forward(name, x, w, b, gamma, beta):
    """Call the sandwich `name`_forward with the arguments it takes."""
    forward = getattr(layer_utils, name + '_forward')
    args = [x, w, b]
    if 'bn' in name:
        args += [gamma, beta, {'mode': 'train'}]
    if 'dropout' in name:
        args.append(dict(DROPOUT))
    return forward(*args)


SANDWICHES = ['affine_relu', 'affine_bn_relu', 'affine_relu_dropout', 'affine_bn_relu_dropout']
# Arguments whose gradient each sandwich returns, in order.
GRAD_ARGS = {
    'affine_relu': ['x', 'w', 'b'],
    'affine_bn_relu': ['x', 'w', 'b', 'gamma', 'beta'],
    'affine_relu_dropout': ['x', 'w', 'b'],
    'affine_bn_relu_dropout': ['x', 'w', 'b', 'gamma', 'beta'],
}
NAMES = ['x', 'w', 'b', 'gamma', 'beta']


@pytest.mark.parametrize("name", SANDWICHES)
def test_sandwich_forward_is_the_composition_of_its_layers(name):
    inputs = make_inputs(1)
    out, _ = call_forward(name, *inputs)
    np.testing.assert_allclose(out, compose(name, *inputs), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", SANDWICHES)
def test_sandwich_backward_matches_numerical_gradients(name):
    inputs = make_inputs(2)
    out, cache = call_forward(name, *inputs)
    pre_relu = affine_forward(*inputs[:3])[0]
    if 'bn' in name:
        pre_relu = batchnorm_forward(pre_relu, inputs[3], inputs[4], {'mode': 'train'})[0]
    # The step must not carry a pre-activation across the ReLU kink.
    assert np.min(np.abs(pre_relu)) > 1e-2
    dout = np.random.default_rng(3).standard_normal(out.shape)
    grads = getattr(layer_utils, name + '_backward')(dout, cache)
    assert len(grads) == len(GRAD_ARGS[name])
    # Without batchnorm the sandwich is piecewise linear; with it the
    # normalisation adds truncation error, so a smaller step, looser bound.
    step, tolerance = (1e-5, 1e-6) if 'bn' in name else (LINEAR_STEP, 1e-8)
    for arg, grad in zip(GRAD_ARGS[name], grads):
        k = NAMES.index(arg)
        assert grad.shape == inputs[k].shape, arg

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return call_forward(name, *args)[0]

        num = numerical_gradient_of_output(f, inputs[k], dout, step)
        if 'bn' in name and arg == 'b':
            # Batchnorm subtracts the batch mean, which removes any bias added
            # before it: the true gradient is exactly zero, so both sides must
            # sit at their rounding floors.
            assert np.max(np.abs(grad)) < 1e-10 and np.max(np.abs(num)) < 1e-8, (name, arg)
            continue
        assert rel_error(grad, num) < tolerance, (name, arg)


@pytest.mark.parametrize("name", SANDWICHES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sandwich_keeps_the_dtype(name, dtype):
    inputs = make_inputs(4, dtype)
    out, cache = call_forward(name, *inputs)
    assert out.dtype == dtype
    grads = getattr(layer_utils, name + '_backward')(np.ones_like(out), cache)
    assert all(grad.dtype == dtype for grad in grads)


@pytest.mark.parametrize("name", SANDWICHES)
def test_sandwich_does_not_write_into_its_inputs(name):
    inputs = make_inputs(5)
    before = snapshot(inputs)
    out, cache = call_forward(name, *inputs)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    dout_before, cache_before = dout.copy(), snapshot(cache)
    getattr(layer_utils, name + '_backward')(dout, cache)
    assert_bitwise_equal(before, inputs, "inputs")
    assert_bitwise_equal(dout_before, dout, "dout")
    assert_bitwise_equal(cache_before, cache, "cache")
