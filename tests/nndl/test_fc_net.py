"""Tests of nndl.fc_net: TwoLayerNet and FullyConnectedNet parameter shapes,
initial loss, float64 numerical gradient checks of every parameter (with and
without batchnorm, dropout with a seed, reg 0 and > 0), dtypes and no writes
into X or y."""
import math

import numpy as np
import pytest

from nndl.fc_net import FullyConnectedNet, TwoLayerNet
from tests.nndl.gradients import (assert_bitwise_equal, numerical_gradient, rel_error,
                                  scaled_error, snapshot)

STEP = 1e-5


def check_model_gradients(model, X, y, zero_grad_params=()):
    """
    Every analytic gradient of model.loss against a centred difference of the
    loss; the params in zero_grad_params must have a zero gradient (biases
    right before batchnorm).
    """
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name in sorted(model.params):
        original = model.params[name]
        assert grads[name].shape == original.shape, name

        def loss_at(value, name=name):
            model.params[name] = value
            return model.loss(X, y)[0]

        num = numerical_gradient(loss_at, original, STEP)
        model.params[name] = original
        if name in zero_grad_params:
            assert np.max(np.abs(grads[name])) < 1e-12 and np.max(np.abs(num)) < 1e-8, name
            continue
        # Bounds as in the CNN check: the loss is O(1), so entries far below
        # the gradient's scale only see the difference's rounding floor.
        assert scaled_error(grads[name], num) < 1e-7, name
        big = np.abs(num) > 1e-3 * np.max(np.abs(num))
        assert rel_error(grads[name][big], num[big]) < 1e-6, name


# --------------------------------------------------------------------------- #
# TwoLayerNet
# --------------------------------------------------------------------------- #

def test_two_layer_net_shapes_and_initial_loss():
    np.random.seed(0)
    model = TwoLayerNet(input_dim=48, hidden_dims=20, num_classes=7, weight_scale=1e-3)
    assert {k: v.shape for k, v in model.params.items()} == {
        'W1': (48, 20), 'b1': (20,), 'W2': (20, 7), 'b2': (7,)}
    assert np.all(model.params['b1'] == 0) and np.all(model.params['b2'] == 0)
    X = np.random.default_rng(1).standard_normal((30, 3, 4, 4))
    y = np.random.default_rng(2).integers(7, size=30)
    assert model.loss(X).shape == (30, 7)
    loss, _ = model.loss(X, y)
    assert abs(loss - math.log(7)) < 1e-2


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_gradients(reg):
    np.random.seed(3)
    model = TwoLayerNet(input_dim=12, hidden_dims=8, num_classes=4, weight_scale=0.5, reg=reg)
    model.params['b1'] = np.random.default_rng(4).standard_normal(8) * 0.1
    X = np.random.default_rng(5).standard_normal((5, 3, 2, 2))
    y = np.array([0, 1, 2, 3, 1])
    check_model_gradients(model, X, y)


def test_two_layer_net_reg_term():
    np.random.seed(6)
    model = TwoLayerNet(input_dim=10, hidden_dims=6, num_classes=3, weight_scale=0.3)
    X = np.random.default_rng(7).standard_normal((4, 10))
    y = np.array([0, 1, 2, 0])
    loss0, _ = model.loss(X, y)
    model.reg = 0.25
    loss_reg, _ = model.loss(X, y)
    squares = np.sum(model.params['W1'] ** 2) + np.sum(model.params['W2'] ** 2)
    assert abs(loss_reg - loss0 - 0.125 * squares) < 1e-12


# --------------------------------------------------------------------------- #
# FullyConnectedNet
# --------------------------------------------------------------------------- #

def test_fully_connected_net_shapes():
    model = FullyConnectedNet([9, 7, 5], input_dim=20, num_classes=4, use_batchnorm=True)
    assert {k: v.shape for k, v in model.params.items()} == {
        'W1': (20, 9), 'b1': (9,), 'W2': (9, 7), 'b2': (7,), 'W3': (7, 5), 'b3': (5,),
        'W4': (5, 4), 'b4': (4,), 'gamma1': (9,), 'beta1': (9,), 'gamma2': (7,),
        'beta2': (7,), 'gamma3': (5,), 'beta3': (5,)}
    assert model.num_layers == 4 and len(model.bn_params) == 3


def test_fully_connected_net_initial_loss():
    np.random.seed(8)
    model = FullyConnectedNet([30, 20], input_dim=15, num_classes=10, weight_scale=1e-3,
                              dtype=np.float64)
    X = np.random.default_rng(9).standard_normal((40, 15))
    y = np.random.default_rng(10).integers(10, size=40)
    loss, _ = model.loss(X, y)
    assert abs(loss - math.log(10)) < 1e-2


@pytest.mark.parametrize("use_batchnorm", [False, True])
@pytest.mark.parametrize("dropout", [0, 0.3])
@pytest.mark.parametrize("reg", [0.0, 0.6])
def test_fully_connected_net_gradients(use_batchnorm, dropout, reg):
    np.random.seed(11)
    model = FullyConnectedNet([6, 5], input_dim=8, num_classes=3, dropout=dropout,
                              use_batchnorm=use_batchnorm, reg=reg, weight_scale=0.5,
                              dtype=np.float64, seed=123)
    r = np.random.default_rng(12)
    for k in model.params:
        if k.startswith(('gamma', 'beta')) or (k.startswith('b') and not use_batchnorm):
            model.params[k] = model.params[k] + 0.3 * r.standard_normal(model.params[k].shape)
    X = r.standard_normal((6, 2, 4))
    y = r.integers(3, size=6)
    zero = ('b1', 'b2') if use_batchnorm else ()
    check_model_gradients(model, X, y, zero_grad_params=zero)


def test_fully_connected_net_dropout_is_seeded_and_off_at_test_time():
    np.random.seed(13)
    model = FullyConnectedNet([50], input_dim=10, num_classes=3, dropout=0.5,
                              dtype=np.float64, seed=1)
    X = np.random.default_rng(14).standard_normal((4, 10))
    y = np.array([0, 1, 2, 0])
    first, _ = model.loss(X, y)
    again, _ = model.loss(X, y)
    assert first == again
    scores = model.loss(X)
    assert model.dropout_param['mode'] == 'test'
    without = FullyConnectedNet([50], input_dim=10, num_classes=3, dropout=0, dtype=np.float64)
    without.params = model.params
    np.testing.assert_array_equal(scores, without.loss(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_connected_net_computes_in_its_dtype(dtype):
    model = FullyConnectedNet([6], input_dim=8, num_classes=3, use_batchnorm=True,
                              dropout=0.2, dtype=dtype, seed=0)
    X = np.random.default_rng(15).standard_normal((4, 8))  # float64, cast by the model
    y = np.array([0, 1, 2, 0])
    assert model.loss(X).dtype == dtype
    _, grads = model.loss(X, y)
    assert all(g.dtype == dtype for g in grads.values())


@pytest.mark.parametrize("model_factory", [
    lambda: TwoLayerNet(input_dim=8, hidden_dims=5, num_classes=3, reg=0.1),
    lambda: FullyConnectedNet([5, 4], input_dim=8, num_classes=3, use_batchnorm=True,
                              dropout=0.3, reg=0.1, dtype=np.float64, seed=2),
])
def test_loss_does_not_write_into_X_y_or_the_parameters(model_factory):
    model = model_factory()
    X = np.random.default_rng(16).standard_normal((4, 8))
    y = np.array([0, 1, 2, 1])
    before = snapshot((X, y, model.params))
    model.loss(X, y)
    model.loss(X)
    assert_bitwise_equal(before, (X, y, model.params), "X, y, params")
