"""Tests of nndl.layers: numerical gradient checks in float64, the layers'
semantics (batchnorm statistics, inverted dropout, stable softmax), dtype
preservation and no writes into inputs."""
import math

import numpy as np
import pytest

from nndl.layers import (affine_backward, affine_forward, batchnorm_backward,
                         batchnorm_forward, dropout_backward, dropout_forward,
                         relu_backward, relu_forward, softmax_loss, svm_loss)
from tests.nndl.gradients import (LINEAR_STEP, assert_bitwise_equal, numerical_gradient,
                                  numerical_gradient_of_output, rel_error, snapshot)


def rng(seed=0):
    return np.random.default_rng(seed)


def away_from_zero(values, gap=1e-2):
    """values with every entry at least gap from 0 (no ReLU kink within a step)."""
    return np.where(values >= 0, values + gap, values - gap)


# --------------------------------------------------------------------------- #
# affine
# --------------------------------------------------------------------------- #

def test_affine_forward_on_4d_input_is_the_flattened_dot_product():
    r = rng(1)
    x = r.standard_normal((3, 2, 4, 5))
    w = r.standard_normal((40, 6))
    b = r.standard_normal(6)
    out, _ = affine_forward(x, w, b)
    expected = np.empty((3, 6))
    for n in range(3):
        for m in range(6):
            expected[n, m] = b[m] + sum(x[n, i, j, k] * w[(i * 4 + j) * 5 + k, m]
                                        for i in range(2) for j in range(4) for k in range(5))
    assert out.shape == (3, 6)
    assert rel_error(out, expected) < 1e-10


def test_affine_backward_matches_numerical_gradients():
    r = rng(2)
    x = r.standard_normal((4, 2, 3, 2))
    w = r.standard_normal((12, 5))
    b = r.standard_normal(5)
    dout = r.standard_normal((4, 5))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    # Affine is linear, so the finite differences only carry rounding error.
    h = LINEAR_STEP
    num_dx = numerical_gradient_of_output(lambda v: affine_forward(v, w, b)[0], x, dout, h)
    num_dw = numerical_gradient_of_output(lambda v: affine_forward(x, v, b)[0], w, dout, h)
    num_db = numerical_gradient_of_output(lambda v: affine_forward(x, w, v)[0], b, dout, h)
    assert rel_error(dx, num_dx) < 1e-8
    assert rel_error(dw, num_dw) < 1e-8
    assert rel_error(db, num_db) < 1e-8


# --------------------------------------------------------------------------- #
# relu
# --------------------------------------------------------------------------- #

def test_relu_forward_zeroes_negatives_only():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    assert np.array_equal(out, np.where(x > 0, x, 0.0))


def test_relu_backward_matches_numerical_gradient():
    r = rng(3)
    x = away_from_zero(r.standard_normal((5, 3, 2)))
    dout = r.standard_normal(x.shape)
    _, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    num = numerical_gradient_of_output(lambda v: relu_forward(v)[0], x, dout, LINEAR_STEP)
    assert rel_error(dx, num) < 1e-8


# --------------------------------------------------------------------------- #
# batchnorm
# --------------------------------------------------------------------------- #

def test_batchnorm_backward_matches_numerical_gradients():
    r = rng(4)
    N, D = 6, 4
    x = 3.0 * r.standard_normal((N, D)) + 2.0
    gamma = r.standard_normal(D)
    beta = r.standard_normal(D)
    dout = r.standard_normal((N, D))

    def forward(x_, gamma_, beta_):
        return batchnorm_forward(x_, gamma_, beta_, {'mode': 'train'})[0]

    _, cache = batchnorm_forward(x, gamma, beta, {'mode': 'train'})
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    num_dx = numerical_gradient_of_output(lambda v: forward(v, gamma, beta), x, dout)
    num_dgamma = numerical_gradient_of_output(lambda v: forward(x, v, beta), gamma, dout)
    num_dbeta = numerical_gradient_of_output(lambda v: forward(x, gamma, v), beta, dout)
    # Normalisation is nonlinear in x (truncation error of the differences), so
    # dx gets a looser bound than the linear gamma / beta paths.
    assert rel_error(dx, num_dx) < 1e-6
    assert rel_error(dgamma, num_dgamma) < 1e-8
    assert rel_error(dbeta, num_dbeta) < 1e-8


def test_batchnorm_train_normalises_each_feature():
    r = rng(5)
    x = 4.0 * r.standard_normal((200, 3)) + np.array([5.0, -11.0, 0.3])
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), {'mode': 'train'})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    # std is sqrt(var / (var + eps)), just below 1.
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-5)

    gamma = np.array([1.0, 3.0, 0.5])
    beta = np.array([11.0, 12.0, -13.0])
    out, _ = batchnorm_forward(x, gamma, beta, {'mode': 'train'})
    np.testing.assert_allclose(out.mean(axis=0), beta, rtol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-5)


def _batchnorm_by_formula(x, gamma, beta, dout, eps=1e-5):
    """Train-mode batchnorm and its gradients in float64, straight from the formulas."""
    x, dout = x.astype(np.float64), dout.astype(np.float64)
    N = x.shape[0]
    mean = x.sum(axis=0) / N
    var = ((x - mean) ** 2).sum(axis=0) / N
    x_hat = (x - mean) / np.sqrt(var + eps)
    out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return out, dx, dgamma, dbeta


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_batchnorm_of_many_rows_of_few_features(layout, threads):
    # Spatial batchnorm's shape: many rows of 64 features (the reference
    # works through such inputs in blocks of rows, the last one partial),
    # in float32, with a mean far from zero; contiguous and not.
    r = rng(41)
    N, D = 5000, 64
    x = (3.0 * r.standard_normal((N, D)) + 20.0).astype(np.float32)
    dout = r.standard_normal((N, D)).astype(np.float32)
    if layout == "F":
        x, dout = np.asfortranarray(x), np.asfortranarray(dout)
    elif layout == "strided":
        x = np.repeat(x, 2, axis=1)[:, ::2]
        dout = np.repeat(dout, 2, axis=1)[:, ::2]
    gamma = r.standard_normal(D).astype(np.float32)
    beta = r.standard_normal(D).astype(np.float32)
    out, cache = batchnorm_forward(x, gamma, beta, {'mode': 'train'})
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    want_out, want_dx, want_dgamma, want_dbeta = _batchnorm_by_formula(x, gamma, beta, dout)
    for got, want in ((out, want_out), (dx, want_dx), (dgamma, want_dgamma), (dbeta, want_dbeta)):
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.abs(got - want).max() <= 2e-5 * np.abs(want).max()


def test_batchnorm_uses_uncorrected_variance_and_eps_default():
    # Variances of the order of eps make the eps term visible.
    x = np.array([[0.0, 1.0], [2e-3, 1.0], [4e-3, 1.006]])
    out, _ = batchnorm_forward(x, np.ones(2), np.zeros(2), {'mode': 'train'})
    for d in range(2):
        column = x[:, d]
        mean = sum(column) / 3
        var = sum((v - mean) ** 2 for v in column) / 3  # divide by N, not N - 1
        expected = [(v - mean) / math.sqrt(var + 1e-5) for v in column]
        np.testing.assert_allclose(out[:, d], expected, rtol=1e-10)


def test_batchnorm_running_averages_follow_the_momentum_rule():
    r = rng(6)
    x = r.standard_normal((10, 4)) * 2 + 1
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)

    # Defaults: momentum 0.9 and running statistics starting at zero.
    bn_param = {'mode': 'train'}
    batchnorm_forward(x, np.ones(4), np.zeros(4), bn_param)
    np.testing.assert_allclose(bn_param['running_mean'], 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn_param['running_var'], 0.1 * var, rtol=1e-12)

    running_mean = r.standard_normal(4)
    running_var = r.random(4) + 0.5
    bn_param = {'mode': 'train', 'momentum': 0.7,
                'running_mean': running_mean.copy(), 'running_var': running_var.copy()}
    batchnorm_forward(x, np.ones(4), np.zeros(4), bn_param)
    np.testing.assert_allclose(bn_param['running_mean'], 0.7 * running_mean + 0.3 * mean,
                               rtol=1e-12)
    np.testing.assert_allclose(bn_param['running_var'], 0.7 * running_var + 0.3 * var,
                               rtol=1e-12)


def test_batchnorm_test_mode_uses_running_statistics():
    r = rng(7)
    x = r.standard_normal((5, 3))
    gamma, beta = r.standard_normal(3), r.standard_normal(3)
    running_mean = np.array([0.5, -1.0, 2.0])
    running_var = np.array([4.0, 0.25, 1.0])
    bn_param = {'mode': 'test', 'running_mean': running_mean, 'running_var': running_var}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    # Test mode leaves the running statistics where they were.
    np.testing.assert_array_equal(bn_param['running_mean'], running_mean)
    np.testing.assert_array_equal(bn_param['running_var'], running_var)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("count", [1, 3])
def test_batchnorm_test_mode_gives_the_formulas_bits_in_blocks(dtype, layout, count, monkeypatch):
    # The reference works through many rows of few features (spatial batchnorm of the
    # CNN's test-mode pass) in blocks of rows on threads: the same operations in the same
    # order as the one-line formula, so the same bits, the last block partial.
    from cs231n import threads as threads_module
    monkeypatch.setattr(threads_module, "THREADS", count)
    monkeypatch.setattr(threads_module, "PARALLEL_MIN_BYTES", 0)
    r = rng(44)
    N, D = 5000, 64
    x = (3.0 * r.standard_normal((N, D)) + 20.0).astype(dtype)
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "strided":
        x = np.repeat(x, 2, axis=1)[:, ::2]
    gamma, beta = r.standard_normal(D).astype(dtype), r.standard_normal(D).astype(dtype)
    mean = (20.0 + r.standard_normal(D)).astype(dtype)
    var = (9.0 * r.random(D) + 1e-6).astype(dtype)
    bn_param = {'mode': 'test', 'running_mean': mean, 'running_var': var, 'eps': 1e-5}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * ((x - mean) / np.sqrt(var + 1e-5)) + beta
    assert out.dtype == expected.dtype == dtype
    assert_bitwise_equal((out,), (expected,), "in blocks")


def test_batchnorm_test_mode_of_mixed_float_types_keeps_numpys_promotion():
    # float32 activations with float64 statistics: the formula's own promotion, not a
    # block path that would round the float32 difference differently.
    r = rng(45)
    x = r.standard_normal((300, 8)).astype(np.float32)
    gamma, beta = r.standard_normal(8), r.standard_normal(8).astype(np.float32)
    mean, var = r.standard_normal(8).astype(np.float32), r.random(8) + 0.5
    out, _ = batchnorm_forward(x, gamma, beta, {'mode': 'test', 'running_mean': mean,
                                                'running_var': var})
    expected = gamma * ((x - mean) / np.sqrt(var + 1e-5)) + beta
    assert out.dtype == np.float64
    assert_bitwise_equal((out,), (expected,), "with mixed float types")


def test_batchnorm_test_mode_after_training_normalises_the_distribution():
    r = rng(8)
    gamma, beta = np.array([2.0, 0.5]), np.array([-1.0, 3.0])
    bn_param = {'mode': 'train'}
    for _ in range(100):
        batch = r.standard_normal((100, 2)) * np.array([3.0, 0.2]) + np.array([7.0, -2.0])
        batchnorm_forward(batch, gamma, beta, bn_param)
    bn_param['mode'] = 'test'
    x = r.standard_normal((5000, 2)) * np.array([3.0, 0.2]) + np.array([7.0, -2.0])
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=0.15)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=0.1)


def test_batchnorm_rejects_an_unknown_mode():
    with pytest.raises(ValueError):
        batchnorm_forward(np.ones((2, 2)), np.ones(2), np.zeros(2), {'mode': 'eval'})


# --------------------------------------------------------------------------- #
# dropout
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_dropout_train_drops_fraction_p_and_keeps_the_mean(p):
    r = rng(9)
    x = r.random((500, 500)) + 10.0  # strictly positive: a zero means dropped
    out, _ = dropout_forward(x, {'mode': 'train', 'p': p, 'seed': 123})
    dropped = out == 0
    assert abs(dropped.mean() - p) < 0.01
    # Kept units are scaled by 1 / (1 - p): inverted dropout.
    np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p), rtol=1e-12)
    assert abs(out.mean() - x.mean()) < 0.01 * x.mean()


def test_dropout_test_mode_is_the_identity():
    x = rng(10).standard_normal((30, 7))
    out, cache = dropout_forward(x, {'mode': 'test', 'p': 0.6})
    np.testing.assert_array_equal(out, x)
    dout = rng(11).standard_normal(x.shape)
    dx = dropout_backward(dout, cache)
    np.testing.assert_array_equal(dx, dout)
    num = numerical_gradient_of_output(lambda v: dropout_forward(v, {'mode': 'test', 'p': 0.6})[0],
                                       x, dout, LINEAR_STEP)
    assert rel_error(dx, num) < 1e-8


def test_dropout_same_seed_same_mask_and_other_seed_other_mask():
    x = np.ones((40, 50))
    first, _ = dropout_forward(x, {'mode': 'train', 'p': 0.5, 'seed': 7})
    again, _ = dropout_forward(x, {'mode': 'train', 'p': 0.5, 'seed': 7})
    other, _ = dropout_forward(x, {'mode': 'train', 'p': 0.5, 'seed': 8})
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_dropout_backward_train_matches_numerical_gradient():
    r = rng(12)
    x = r.standard_normal((10, 8))
    dout = r.standard_normal(x.shape)
    param = {'mode': 'train', 'p': 0.3, 'seed': 42}
    _, cache = dropout_forward(x, param)
    dx = dropout_backward(dout, cache)
    num = numerical_gradient_of_output(lambda v: dropout_forward(v, dict(param))[0], x, dout,
                                       LINEAR_STEP)
    assert rel_error(dx, num) < 1e-8
    assert np.count_nonzero(dx == 0) > 0  # some units really were dropped


def test_dropout_rejects_an_unknown_mode():
    with pytest.raises(ValueError):
        dropout_forward(np.ones((2, 2)), {'mode': 'eval', 'p': 0.5})


# --------------------------------------------------------------------------- #
# losses
# --------------------------------------------------------------------------- #

def explicit_svm_loss(x, y):
    N, C = x.shape
    total = 0.0
    for i in range(N):
        for j in range(C):
            if j != y[i]:
                total += max(0.0, x[i, j] - x[i, y[i]] + 1.0)
    return total / N


def test_svm_loss_value_and_gradient():
    r = rng(13)
    N, C = 8, 5
    x = r.standard_normal((N, C))
    y = r.integers(C, size=N)
    # Keep every margin away from its hinge so a finite step never crosses it.
    margins = x - x[np.arange(N), y][:, None] + 1.0
    assert np.min(np.abs(margins)) > 2 * LINEAR_STEP
    loss, dx = svm_loss(x, y)
    assert abs(loss - explicit_svm_loss(x, y)) < 1e-12
    num = numerical_gradient(lambda v: svm_loss(v, y)[0], x, LINEAR_STEP)
    assert rel_error(dx, num) < 1e-8


def test_softmax_loss_gradient():
    r = rng(14)
    N, C = 7, 6
    x = r.standard_normal((N, C))
    y = r.integers(C, size=N)
    loss, dx = softmax_loss(x, y)
    num = numerical_gradient(lambda v: softmax_loss(v, y)[0], x)
    assert rel_error(dx, num) < 1e-7


def test_softmax_loss_of_tiny_scores_is_log_num_classes():
    r = rng(15)
    for C in (3, 10, 100):
        x = 1e-3 * r.standard_normal((50, C))
        y = r.integers(C, size=50)
        loss, _ = softmax_loss(x, y)
        assert abs(loss - math.log(C)) < 5e-3


def test_softmax_loss_is_stable_for_huge_scores():
    r = rng(16)
    N, C = 6, 4
    x = r.uniform(-1e4, 1e4, size=(N, C))
    x[0] = [1e4, 1e4 - 1, -1e4, 0.0]
    y = np.array([1, 0, 2, 3, 1, 0])
    loss, dx = softmax_loss(x, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dx))

    # Independent reference in extended precision: loss_i = logsumexp(x_i) - x_iy,
    # with the log-sum-exp written out row by row.
    xl = x.astype(np.longdouble)
    total = np.longdouble(0)
    probs = np.empty((N, C), dtype=np.longdouble)
    for i in range(N):
        top = max(xl[i])
        sum_exp = sum(np.exp(v - top) for v in xl[i])
        total += top + np.log(sum_exp) - xl[i, y[i]]
        probs[i] = [np.exp(v - top) / sum_exp for v in xl[i]]
    expected_loss = float(total / N)
    expected_dx = probs.copy()
    expected_dx[np.arange(N), y] -= 1
    expected_dx /= N
    assert abs(loss - expected_loss) <= 1e-12 * max(1.0, abs(expected_loss))
    assert np.max(np.abs(dx - expected_dx.astype(np.float64))) < 1e-15


# --------------------------------------------------------------------------- #
# dtype and no writes into inputs
# --------------------------------------------------------------------------- #

def layer_cases(dtype):
    """
    The arrays given to the layers, and (name, forward thunk, backward or None)
    for every layer and loss; a loss's "forward" returns (loss, dx).
    """
    r = rng(17)

    def a(*shape):
        return r.standard_normal(shape).astype(dtype)

    x4, w, b = a(3, 2, 2, 2), a(8, 5), a(5)
    xbn, gamma, beta = a(6, 4), a(4), a(4)
    running_mean, running_var = a(4), np.abs(a(4)) + dtype(1)
    scores, labels = a(5, 4), np.array([0, 3, 1, 1, 2])
    arrays = [x4, w, b, xbn, gamma, beta, running_mean, running_var, scores, labels]
    layers = [
        ("affine", lambda: affine_forward(x4, w, b), affine_backward),
        ("relu", lambda: relu_forward(x4), relu_backward),
        ("batchnorm train", lambda: batchnorm_forward(xbn, gamma, beta, {'mode': 'train'}),
         batchnorm_backward),
        ("batchnorm test", lambda: batchnorm_forward(
            xbn, gamma, beta, {'mode': 'test', 'running_mean': running_mean,
                               'running_var': running_var}), None),
        ("dropout train", lambda: dropout_forward(x4, {'mode': 'train', 'p': 0.5, 'seed': 1}),
         dropout_backward),
        ("dropout test", lambda: dropout_forward(x4, {'mode': 'test', 'p': 0.5}),
         dropout_backward),
    ]
    losses = [
        ("svm", lambda: svm_loss(scores, labels)),
        ("softmax", lambda: softmax_loss(scores, labels)),
    ]
    return arrays, layers, losses


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_layer_keeps_the_input_dtype(dtype):
    _, layers, losses = layer_cases(dtype)
    for name, forward, backward in layers:
        out, cache = forward()
        assert out.dtype == dtype, name
        if backward is not None:
            grads = backward(np.ones_like(out), cache)
            for grad in grads if isinstance(grads, tuple) else (grads,):
                assert grad.dtype == dtype, name
    for name, loss_fn in losses:
        loss, dx = loss_fn()
        assert dx.dtype == dtype, name
        assert np.asarray(loss).dtype == dtype, name


def test_no_layer_writes_into_its_inputs():
    arrays, layers, losses = layer_cases(np.float64)
    before = snapshot(arrays)
    for name, forward, backward in layers:
        out, cache = forward()
        if backward is not None:
            dout = rng(18).standard_normal(out.shape)
            dout_before, cache_before = dout.copy(), snapshot(cache)
            backward(dout, cache)
            assert_bitwise_equal(dout_before, dout, "%s dout" % name)
            assert_bitwise_equal(cache_before, cache, "%s cache" % name)
        assert_bitwise_equal(before, arrays, "%s inputs" % name)
    for name, loss_fn in losses:
        loss_fn()
        assert_bitwise_equal(before, arrays, "%s inputs" % name)


def test_batchnorm_replaces_running_arrays_without_writing_into_them():
    running_mean, running_var = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    bn_param = {'mode': 'train', 'running_mean': running_mean, 'running_var': running_var}
    batchnorm_forward(rng(19).standard_normal((4, 2)), np.ones(2), np.zeros(2), bn_param)
    np.testing.assert_array_equal(running_mean, [1.0, 2.0])
    np.testing.assert_array_equal(running_var, [3.0, 4.0])
    assert not np.array_equal(bn_param['running_mean'], running_mean)


def test_batchnorm_of_sorted_rows_keeps_its_precision():
    # Rows sorted by size, so the first rows' mean is far from the overall
    # mean (a shifted one-pass variance would cancel badly with a poor shift).
    r = rng(43)
    x = np.sort(r.standard_normal((6000, 8)) * 5.0 + 100.0, axis=0).astype(np.float32)
    dout = r.standard_normal(x.shape).astype(np.float32)
    gamma, beta = np.ones(8, np.float32), np.zeros(8, np.float32)
    out, cache = batchnorm_forward(x, gamma, beta, {'mode': 'train'})
    want_out, want_dx, _, _ = _batchnorm_by_formula(x, gamma, beta, dout)
    assert np.abs(out - want_out).max() <= 1e-4 * np.abs(want_out).max()
    dx, _, _ = batchnorm_backward(dout, cache)
    assert np.abs(dx - want_dx).max() <= 1e-4 * np.abs(want_dx).max()


def test_batchnorm_and_relu_give_the_same_bits_on_one_thread_or_several(monkeypatch):
    # The blocks' sums are added in block order, so the thread count changes no bit
    # (the grader's workers run on one thread, training on all cores).
    from cs231n import threads as threads_module
    r = rng(43)
    x = (2.0 * r.standard_normal((9000, 64)) - 5.0).astype(np.float32)
    dout = r.standard_normal(x.shape).astype(np.float32)
    gamma = r.standard_normal(64).astype(np.float32)
    beta = r.standard_normal(64).astype(np.float32)
    images = r.standard_normal((30, 4, 5, 6)).transpose(0, 3, 1, 2)  # a channels-last view
    results = []
    for count in (1, 2, 3):
        monkeypatch.setattr(threads_module, "THREADS", count)
        monkeypatch.setattr(threads_module, "PARALLEL_MIN_BYTES", 0)
        bn_param = {'mode': 'train'}
        out, cache = batchnorm_forward(x, gamma, beta, bn_param)
        relu_out, relu_cache = relu_forward(images)
        results.append((out, bn_param['running_mean'], bn_param['running_var'],
                        *batchnorm_backward(dout, cache), relu_out,
                        relu_backward(images[::-1].copy(), relu_cache)))
    for other in results[1:]:
        assert_bitwise_equal(results[0], other, "on more threads")
    relu_out, relu_dx = results[0][-2:]
    np.testing.assert_array_equal(relu_out, np.maximum(images, 0))
    np.testing.assert_array_equal(relu_dx, images[::-1] * (images > 0))
    assert relu_out.strides == images.strides  # the input's layout, no copy to C order


def test_relu_of_a_zero_dimensional_array():
    out, cache = relu_forward(np.array(-2.5))
    assert out.shape == () and out == 0.0
    assert relu_backward(np.array(3.0), cache) == 0.0
