"""Tests of nndl.optim: every update rule against steps worked out here with
scalar arithmetic from its formula, the documented defaults and state keys,
no writes into w, dw or config, and dtype preservation."""
import math

import numpy as np
import pytest

from nndl import optim
from tests.nndl.gradients import assert_bitwise_equal, snapshot

W0 = [0.5, -1.2, 2.0]
DW1 = [0.3, -0.1, 4.0]
DW2 = [-0.2, 0.05, 1.5]


def close(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-15)


def test_sgd_default_learning_rate():
    w, dw = np.array(W0), np.array(DW1)
    next_w, config = optim.sgd(w, dw)
    assert config['learning_rate'] == 1e-2
    close(next_w, [wi - 1e-2 * gi for wi, gi in zip(W0, DW1)])
    next_w, config = optim.sgd(w, dw, {'learning_rate': 0.5})
    close(next_w, [wi - 0.5 * gi for wi, gi in zip(W0, DW1)])


def test_sgd_momentum_two_steps_by_hand():
    lr, mu = 0.1, 0.8
    config = {'learning_rate': lr, 'momentum': mu}
    w1, config = optim.sgd_momentum(np.array(W0), np.array(DW1), config)
    w2, config = optim.sgd_momentum(w1, np.array(DW2), config)
    for i in range(3):
        v = mu * 0.0 - lr * DW1[i]
        w = W0[i] + v
        close(w1[i], w)
        v = mu * v - lr * DW2[i]
        w = w + v
        close(w2[i], w)
        close(config['velocity'][i], v)


def test_sgd_momentum_defaults():
    next_w, config = optim.sgd_momentum(np.array(W0), np.array(DW1))
    assert config['learning_rate'] == 1e-2 and config['momentum'] == 0.9
    close(config['velocity'], [-1e-2 * g for g in DW1])
    close(next_w, [w - 1e-2 * g for w, g in zip(W0, DW1)])


def test_sgd_nesterov_momentum_two_steps_by_hand():
    lr, mu = 0.1, 0.8
    config = {'learning_rate': lr, 'momentum': mu}
    w1, config = optim.sgd_nesterov_momentum(np.array(W0), np.array(DW1), config)
    w2, config = optim.sgd_nesterov_momentum(w1, np.array(DW2), config)
    for i in range(3):
        v_old, v = 0.0, mu * 0.0 - lr * DW1[i]
        w = W0[i] - mu * v_old + (1 + mu) * v
        close(w1[i], w)
        v_old, v = v, mu * v - lr * DW2[i]
        w = w - mu * v_old + (1 + mu) * v
        close(w2[i], w)
        close(config['velocity'][i], v)
    assert config['learning_rate'] == lr and config['momentum'] == mu


def test_sgd_nesterov_momentum_defaults():
    _, config = optim.sgd_nesterov_momentum(np.array(W0), np.array(DW1))
    assert config['learning_rate'] == 1e-2 and config['momentum'] == 0.9


def test_rmsprop_two_steps_by_hand():
    lr, decay, eps = 0.05, 0.9, 1e-6
    config = {'learning_rate': lr, 'decay_rate': decay, 'epsilon': eps}
    w1, config = optim.rmsprop(np.array(W0), np.array(DW1), config)
    w2, config = optim.rmsprop(w1, np.array(DW2), config)
    for i in range(3):
        a = decay * 0.0 + (1 - decay) * DW1[i] ** 2
        w = W0[i] - lr * DW1[i] / (math.sqrt(a) + eps)
        close(w1[i], w)
        a = decay * a + (1 - decay) * DW2[i] ** 2
        w = w - lr * DW2[i] / (math.sqrt(a) + eps)
        close(w2[i], w)
        close(config['a'][i], a)


def test_rmsprop_defaults():
    next_w, config = optim.rmsprop(np.array(W0), np.array(DW1))
    assert (config['learning_rate'], config['decay_rate'], config['epsilon']) == (1e-2, 0.99, 1e-8)
    for i in range(3):
        a = 0.01 * DW1[i] ** 2
        close(config['a'][i], a)
        close(next_w[i], W0[i] - 1e-2 * DW1[i] / (math.sqrt(a) + 1e-8))


def test_adam_two_steps_by_hand():
    lr, beta1, beta2, eps = 0.01, 0.8, 0.95, 1e-7
    config = {'learning_rate': lr, 'beta1': beta1, 'beta2': beta2, 'epsilon': eps}
    w1, config = optim.adam(np.array(W0), np.array(DW1), config)
    assert config['t'] == 1
    w2, config = optim.adam(w1, np.array(DW2), config)
    assert config['t'] == 2
    for i in range(3):
        v = (1 - beta1) * DW1[i]
        a = (1 - beta2) * DW1[i] ** 2
        w = W0[i] - lr * (v / (1 - beta1)) / (math.sqrt(a / (1 - beta2)) + eps)
        close(w1[i], w)
        v = beta1 * v + (1 - beta1) * DW2[i]
        a = beta2 * a + (1 - beta2) * DW2[i] ** 2
        w = w - lr * (v / (1 - beta1 ** 2)) / (math.sqrt(a / (1 - beta2 ** 2)) + eps)
        close(w2[i], w)
        close(config['v'][i], v)
        close(config['a'][i], a)


def test_adam_defaults_and_step_count():
    next_w, config = optim.adam(np.array(W0), np.array(DW1))
    assert (config['learning_rate'], config['beta1'], config['beta2'], config['epsilon']) == \
        (1e-3, 0.9, 0.999, 1e-8)
    assert config['t'] == 1  # t starts at 0; the first update uses t = 1
    # With bias correction the first step is lr * g / (|g| + eps) per entry.
    close(next_w, [w - 1e-3 * g / (abs(g) + 1e-8) for w, g in zip(W0, DW1)], rtol=1e-10)
    _, config = optim.adam(np.array(W0), np.array(DW1), {'t': 0})
    assert config['t'] == 1


RULES = ['sgd', 'sgd_momentum', 'sgd_nesterov_momentum', 'rmsprop', 'adam']
STATE_KEYS = {'sgd': set(), 'sgd_momentum': {'velocity'}, 'sgd_nesterov_momentum': {'velocity'},
              'rmsprop': {'a'}, 'adam': {'v', 'a', 't'}}


@pytest.mark.parametrize("rule", RULES)
def test_rule_keeps_its_state_under_the_documented_keys(rule):
    _, config = getattr(optim, rule)(np.array(W0), np.array(DW1))
    hyper = {'learning_rate', 'momentum', 'decay_rate', 'epsilon', 'beta1', 'beta2'}
    assert set(config) - hyper == STATE_KEYS[rule]


@pytest.mark.parametrize("rule", RULES)
def test_rule_does_not_write_into_w_dw_or_config(rule):
    update = getattr(optim, rule)
    w, dw = np.array(W0), np.array(DW1)
    _, config = update(w, dw)  # a config holding state arrays
    w2, dw2 = w + 1.0, np.array(DW2)
    before = snapshot((w2, dw2, config))
    next_w, next_config = update(w2, dw2, config)
    assert_bitwise_equal(before, (w2, dw2, config), "w, dw, config")
    assert next_w is not w2
    # The returned config carries the new state (the step really moved it).
    for key in STATE_KEYS[rule]:
        assert not np.array_equal(np.asarray(next_config[key]), np.asarray(config[key])), key


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rule_keeps_the_dtype(rule, dtype):
    update = getattr(optim, rule)
    w, dw = np.array(W0, dtype=dtype), np.array(DW1, dtype=dtype)
    next_w, config = update(w, dw)
    next_w, config = update(next_w, dw, config)
    assert next_w.dtype == dtype
    for key in STATE_KEYS[rule] - {'t'}:
        assert config[key].dtype == dtype, key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_on_a_large_matrix_matches_the_formula(dtype, threads):
    # Large enough (300,000 entries, in a 2-D shape) that the reference works
    # through it in several blocks, the last one partial.
    r = np.random.default_rng(3)
    w = r.standard_normal((600, 500)).astype(dtype)
    grads = [r.standard_normal(w.shape).astype(dtype) for _ in range(2)]
    lr, beta1, beta2, eps = 1e-2, 0.9, 0.999, 1e-8
    config = {'learning_rate': lr}
    next_w = w
    v = a = np.zeros(w.shape)
    expected = w.astype(np.float64)
    for t, dw in enumerate(grads, start=1):
        next_w, config = optim.adam(next_w, dw, config)
        v = beta1 * v + (1 - beta1) * dw
        a = beta2 * a + (1 - beta2) * dw.astype(np.float64) ** 2
        expected = expected - lr * (v / (1 - beta1 ** t)) / (np.sqrt(a / (1 - beta2 ** t)) + eps)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert next_w.shape == w.shape and next_w.dtype == dtype
    np.testing.assert_allclose(next_w, expected, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(config['v'], v, rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(config['a'], a, rtol=rtol, atol=1e-9)
    assert config['v'].shape == w.shape and config['t'] == 2


def test_adam_gives_the_same_bits_on_one_thread_or_several(monkeypatch):
    from cs231n import threads as threads_module
    r = np.random.default_rng(4)
    w = r.standard_normal((700, 500)).astype(np.float32)
    dw = r.standard_normal(w.shape).astype(np.float32)
    results = []
    for count in (1, 2, 3):
        monkeypatch.setattr(threads_module, "THREADS", count)
        monkeypatch.setattr(threads_module, "PARALLEL_MIN_BYTES", 0)
        next_w, config = optim.adam(w, dw, {'learning_rate': 1e-3})
        results.append((next_w, config['v'], config['a']))
    for other in results[1:]:
        assert_bitwise_equal(results[0], other, "adam on more threads")
