"""Tests of nndl.cnn.ThreeLayerConvNet: parameter shapes, initial loss, the L2
penalty, float64 numerical gradient checks of every parameter, train / test
mode, dtypes and no writes into X or y."""
import math

import numpy as np
import pytest

from nndl.cnn import ThreeLayerConvNet
from tests.nndl.gradients import (assert_bitwise_equal, numerical_gradient, rel_error,
                                  scaled_error, snapshot)


def expected_shapes(input_dim, num_filters, filter_size, hidden_dim, num_classes, use_batchnorm):
    """Parameter shapes from the documented geometry: a stride-1 convolution
    padded by (filter_size - 1) // 2, then 2x2 pooling that rounds down."""
    C, H, W = input_dim
    pad = (filter_size - 1) // 2
    conv_h, conv_w = H + 2 * pad - filter_size + 1, W + 2 * pad - filter_size + 1
    shapes = {
        'W1': (num_filters, C, filter_size, filter_size), 'b1': (num_filters,),
        'W2': (num_filters * (conv_h // 2) * (conv_w // 2), hidden_dim), 'b2': (hidden_dim,),
        'W3': (hidden_dim, num_classes), 'b3': (num_classes,),
    }
    if use_batchnorm:
        shapes.update({'gamma1': (num_filters,), 'beta1': (num_filters,),
                       'gamma2': (hidden_dim,), 'beta2': (hidden_dim,)})
    return shapes


def test_default_parameter_shapes_and_initialisation():
    np.random.seed(0)
    model = ThreeLayerConvNet(weight_scale=1e-2)
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {'W1': (32, 3, 7, 7), 'b1': (32,), 'W2': (32 * 16 * 16, 100),
                      'b2': (100,), 'W3': (100, 10), 'b3': (10,)}
    for k in ('b1', 'b2', 'b3'):
        assert np.all(model.params[k] == 0)
    # Weights drawn with standard deviation weight_scale around zero.
    W2 = model.params['W2'].astype(np.float64)
    assert abs(W2.std() - 1e-2) < 1e-4 and abs(W2.mean()) < 1e-4


@pytest.mark.parametrize("input_dim, filter_size", [
    ((3, 32, 32), 7), ((3, 9, 7), 3), ((2, 11, 6), 5), ((3, 8, 8), 4), ((1, 9, 10), 2)])
@pytest.mark.parametrize("use_batchnorm", [False, True])
def test_parameter_shapes_for_odd_inputs_and_even_filters(input_dim, filter_size, use_batchnorm):
    model = ThreeLayerConvNet(input_dim=input_dim, num_filters=5, filter_size=filter_size,
                              hidden_dim=6, num_classes=4, use_batchnorm=use_batchnorm)
    expected = expected_shapes(input_dim, 5, filter_size, 6, 4, use_batchnorm)
    assert {k: v.shape for k, v in model.params.items()} == expected
    if use_batchnorm:
        for k in ('gamma1', 'gamma2'):
            assert np.all(model.params[k] == 1)
        for k in ('beta1', 'beta2'):
            assert np.all(model.params[k] == 0)
        assert len(model.bn_params) == 2
    # The shapes really fit a forward and backward pass.
    X = np.random.default_rng(0).standard_normal((2,) + input_dim)
    assert model.loss(X).shape == (2, 4)
    loss, grads = model.loss(X, np.array([0, 3]))
    assert {k: g.shape for k, g in grads.items()} == expected


@pytest.mark.parametrize("use_batchnorm", [False, True])
def test_initial_loss_is_about_log_num_classes(use_batchnorm):
    np.random.seed(1)
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, filter_size=3, hidden_dim=20,
                              weight_scale=1e-3, reg=0.0, use_batchnorm=use_batchnorm,
                              dtype=np.float64)
    X = np.random.default_rng(2).standard_normal((20, 3, 16, 16))
    y = np.random.default_rng(3).integers(10, size=20)
    loss, _ = model.loss(X, y)
    assert abs(loss - math.log(10)) < 0.05


def test_reg_adds_exactly_half_reg_times_the_squared_weights():
    np.random.seed(4)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=10,
                              weight_scale=1e-1, dtype=np.float64)
    X = np.random.default_rng(5).standard_normal((4, 3, 8, 8))
    y = np.array([1, 2, 3, 4])
    model.reg = 0.0
    loss0, grads0 = model.loss(X, y)
    model.reg = 0.37
    loss_reg, grads_reg = model.loss(X, y)
    squares = sum(np.sum(model.params[k] ** 2) for k in ('W1', 'W2', 'W3'))
    assert loss_reg > loss0
    assert abs((loss_reg - loss0) - 0.5 * 0.37 * squares) < 1e-12 * loss_reg
    for k in ('W1', 'W2', 'W3'):
        np.testing.assert_allclose(grads_reg[k], grads0[k] + 0.37 * model.params[k], rtol=1e-12,
                                   atol=1e-15)
    for k in ('b1', 'b2', 'b3'):
        np.testing.assert_array_equal(grads_reg[k], grads0[k])


# --------------------------------------------------------------------------- #
# gradient checks
# --------------------------------------------------------------------------- #

# Finite-difference step of the network checks.
STEP = 1e-5


def small_model_and_data(shape, use_batchnorm, reg, seed):
    """A small float64 net; weights large enough that activations sit well
    away from the ReLU / pool kinks on the scale of the finite step."""
    N, C, H, W = shape
    np.random.seed(seed)
    model = ThreeLayerConvNet(input_dim=(C, H, W), num_filters=3, filter_size=3, hidden_dim=7,
                              num_classes=5, weight_scale=0.3, reg=reg, dtype=np.float64,
                              use_batchnorm=use_batchnorm)
    if use_batchnorm:
        r = np.random.default_rng(seed + 100)
        for k in ('gamma1', 'beta1', 'gamma2', 'beta2'):
            model.params[k] = model.params[k] + 0.3 * r.standard_normal(model.params[k].shape)
    r = np.random.default_rng(seed + 200)
    X = r.standard_normal(shape)
    y = r.integers(5, size=N)
    return model, X, y


@pytest.mark.parametrize("image_shape", [(3, 8, 8), (3, 9, 7)])
@pytest.mark.parametrize("use_batchnorm", [False, True])
@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_loss_gradients_match_numerical_gradients(image_shape, use_batchnorm, reg):
    # Four images with batchnorm: over only two, batchnorm maps every hidden
    # feature to about +-1 and the gradients below it almost vanish.
    N = 4 if use_batchnorm else 2
    model, X, y = small_model_and_data((N,) + image_shape, use_batchnorm, reg, seed=7)
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name in sorted(model.params):
        assert grads[name].dtype == np.float64 and grads[name].shape == model.params[name].shape
        original = model.params[name]

        def loss_at(value, name=name):
            model.params[name] = value
            return model.loss(X, y)[0]

        num = numerical_gradient(loss_at, original, h=STEP)
        model.params[name] = original
        if use_batchnorm and name in ('b1', 'b2'):
            # A bias right before batchnorm is removed by the mean subtraction:
            # its gradient is zero (plus the regularisation, which skips biases).
            assert np.max(np.abs(grads[name])) < 1e-12 and np.max(np.abs(num)) < 1e-8, name
            continue
        # The whole network's loss is an O(1) number: the centred difference
        # carries ~1e-11 absolute rounding error, so small entries are judged
        # against the scale of their gradient.
        assert scaled_error(grads[name], num) < 1e-7, name
        big = np.abs(num) > 1e-3 * np.max(np.abs(num))
        assert rel_error(grads[name][big], num[big]) < 1e-6, name


# --------------------------------------------------------------------------- #
# train / test mode
# --------------------------------------------------------------------------- #

def test_test_mode_returns_scores_and_uses_running_statistics():
    model, X, y = small_model_and_data((4, 3, 8, 8), True, 0.0, seed=8)
    model.loss(X, y)
    assert [p['mode'] for p in model.bn_params] == ['train', 'train']
    stats = snapshot([(p['running_mean'], p['running_var']) for p in model.bn_params])
    scores = model.loss(X)
    assert isinstance(scores, np.ndarray) and scores.shape == (4, 5)
    assert [p['mode'] for p in model.bn_params] == ['test', 'test']
    # Test mode reads the running statistics and leaves them alone.
    assert_bitwise_equal(stats, [(p['running_mean'], p['running_var']) for p in model.bn_params])
    # Scores depend on the running statistics in test mode only.
    for p in model.bn_params:
        p['running_mean'] = p['running_mean'] + 0.5
    assert not np.allclose(model.loss(X), scores)


def test_train_mode_updates_the_running_statistics():
    model, X, y = small_model_and_data((4, 3, 8, 8), True, 0.0, seed=9)
    before = snapshot([(p['running_mean'], p['running_var']) for p in model.bn_params])
    model.loss(X, y)
    for (mean_before, var_before), p in zip(before, model.bn_params):
        assert not np.allclose(p['running_mean'], mean_before)
        assert not np.allclose(p['running_var'], var_before)
    # The first layer's statistics are those of the conv output per channel.
    W1, b1 = model.params['W1'], model.params['b1']
    conv = np.zeros((4, 3, 8, 8))
    Xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for f in range(3):
        for i in range(8):
            for j in range(8):
                window = Xp[:, :, i:i + 3, j:j + 3]
                conv[:, f, i, j] = np.sum(window * W1[f], axis=(1, 2, 3)) + b1[f]
    mean = conv.mean(axis=(0, 2, 3))
    momentum = model.bn_params[0].get('momentum', 0.9)
    np.testing.assert_allclose(model.bn_params[0]['running_mean'],
                               momentum * before[0][0] + (1 - momentum) * mean, rtol=1e-10)


def test_scores_without_labels_are_the_forward_pass_of_the_loss():
    model, X, y = small_model_and_data((3, 3, 8, 8), False, 0.0, seed=10)
    scores = model.loss(X)
    loss, _ = model.loss(X, y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert abs(loss + log_probs[np.arange(3), y].mean()) < 1e-12


# --------------------------------------------------------------------------- #
# dtype and no writes into inputs
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_batchnorm", [False, True])
def test_model_computes_in_its_dtype(dtype, use_batchnorm):
    np.random.seed(11)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=6,
                              dtype=dtype, use_batchnorm=use_batchnorm, reg=0.1)
    assert all(v.dtype == dtype for v in model.params.values())
    X64 = np.random.default_rng(12).standard_normal((3, 3, 8, 8))
    y = np.array([0, 5, 9])
    scores = model.loss(X64)  # float64 data is cast to the model's dtype
    assert scores.dtype == dtype
    np.testing.assert_array_equal(scores, model.loss(X64.astype(dtype)))
    loss, grads = model.loss(X64, y)
    assert np.isfinite(loss)
    assert all(g.dtype == dtype for g in grads.values())
    assert all(v.dtype == dtype for v in model.params.values())


@pytest.mark.parametrize("use_batchnorm", [False, True])
def test_loss_does_not_write_into_X_y_or_the_parameters(use_batchnorm):
    model, X, y = small_model_and_data((3, 3, 9, 7), use_batchnorm, 0.2, seed=13)
    before = snapshot((X, y, model.params))
    model.loss(X, y)
    model.loss(X)
    assert_bitwise_equal(before, (X, y, model.params), "X, y, params")
