"""The reference's compiled kernels (solutions/nndl/_reference_kernels.pyx, instructor-only):
the reference's adam and batchnorm give the same numbers, bit for bit, with them and with
the numpy code they replace, and the kernels really run where the arrays fit them."""
import sys

import numpy as np
import pytest

import nndl
from nndl import conv_layers, layers, optim

kernels = pytest.importorskip(
    "nndl._reference_kernels",
    reason="reference kernels not built (python setup.py build_ext --inplace)")

HYPER = dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)


def numpy_only(monkeypatch):
    """From here on the reference runs as where the kernels are not built: the import fails."""
    monkeypatch.delattr(nndl, "_reference_kernels", raising=False)
    monkeypatch.setitem(sys.modules, "nndl._reference_kernels", None)


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls of each kernel (the reference looks them up at every call)."""
    counts = {}
    for name in ("_adam_update_into", "_shifted_sums_into", "_normalise_into",
                 "_gradient_sums_into", "_batchnorm_dx_into"):
        def counting(*args, _name=name, _kernel=getattr(kernels, name)):
            counts[_name] = counts.get(_name, 0) + 1
            return _kernel(*args)
        monkeypatch.setattr(kernels, name, counting)
    return counts


def random(shape, dtype, seed, scale=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    return (offset + scale * rng.standard_normal(shape)).astype(dtype)


def adam_steps(w, grads, **config):
    """The weights and state after one adam step per gradient."""
    config = dict(HYPER, **config)
    for dw in grads:
        w, config = optim.adam(w, dw, config)
    return w, config


def batchnorm_run(x, gamma, beta, dout):
    bn_param = {'mode': 'train', 'running_mean': np.zeros(x.shape[1], x.dtype),
                'running_var': np.ones(x.shape[1], x.dtype)}
    out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
    return [out, bn_param['running_mean'], bn_param['running_var'], dx, dgamma, dbeta]


def assert_all_bitwise_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


# ---- adam -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (300, 1001), (3, 5, 2, 2)])
def test_adam_with_the_kernel_equals_the_numpy_step_bit_for_bit(dtype, shape, threads,
                                                                 calls, monkeypatch):
    w = random(shape, dtype, 0)
    grads = [random(shape, dtype, seed, scale=10.0 ** -seed) for seed in (1, 2, 3)]
    compiled_w, compiled_config = adam_steps(w, grads)
    assert calls.get("_adam_update_into", 0) >= 3
    numpy_only(monkeypatch)
    numpy_w, numpy_config = adam_steps(w, grads)
    assert_all_bitwise_equal([compiled_w, compiled_config['v'], compiled_config['a']],
                             [numpy_w, numpy_config['v'], numpy_config['a']])
    assert compiled_w.dtype == np.dtype(dtype) and compiled_config['t'] == numpy_config['t'] == 3


@pytest.mark.parametrize("case", ["float64 gradient", "strided weights", "numpy hyperparameter"])
def test_adam_leaves_what_the_kernel_cannot_match_to_numpy(case, calls):
    w, dw = random((40, 30), np.float32, 4), random((40, 30), np.float32, 5)
    config = dict(HYPER)
    if case == "float64 gradient":
        dw = dw.astype(np.float64)
    elif case == "strided weights":
        w, dw = random(80, np.float32, 4)[::2], random(80, np.float32, 5)[::2]
    else:  # a numpy float64 would make numpy compute in float64: the kernel would not
        config['beta1'] = np.float64(0.9)
    next_w, _ = optim.adam(w, dw, config)
    assert "_adam_update_into" not in calls
    assert next_w.dtype == np.float32


# ---- batchnorm ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 2), (37, 5), (300, 64), (5000, 64), (70000, 2)])
def test_batchnorm_with_the_kernels_equals_numpy_bit_for_bit(dtype, shape, threads, calls,
                                                             monkeypatch):
    # (5000, 64) and (70000, 2) span several blocks of rows, shared out to threads
    x = random(shape, dtype, 6, scale=3.0, offset=10.0)
    gamma, beta = random(shape[1:], dtype, 7), random(shape[1:], dtype, 8)
    dout = random(shape, dtype, 9)
    compiled = batchnorm_run(x, gamma, beta, dout)
    assert set(calls) == {"_shifted_sums_into", "_normalise_into", "_gradient_sums_into",
                          "_batchnorm_dx_into"}
    numpy_only(monkeypatch)
    assert_all_bitwise_equal(compiled, batchnorm_run(x, gamma, beta, dout))


def test_spatial_batchnorm_of_the_reference_cnn_equals_numpy_bit_for_bit(calls, monkeypatch):
    x = random((8, 16, 12, 12), np.float32, 10, scale=2.0, offset=1.0)
    gamma, beta = random(16, np.float32, 11), random(16, np.float32, 12)
    dout = random(x.shape, np.float32, 13)

    def run():
        out, cache = conv_layers.spatial_batchnorm_forward(x, gamma, beta, {'mode': 'train'})
        return [out, *conv_layers.spatial_batchnorm_backward(dout, cache)]

    compiled = run()
    assert calls.get("_batchnorm_dx_into", 0) >= 1
    numpy_only(monkeypatch)
    assert_all_bitwise_equal(compiled, run())


@pytest.mark.parametrize("case", ["one feature", "columns of a transposed array",
                                  "float64 gamma", "float64 dout"])
def test_batchnorm_leaves_what_the_kernels_cannot_match_to_numpy(case, calls, monkeypatch):
    x = random((50, 6), np.float32, 14)
    gamma, beta = random(6, np.float32, 15), random(6, np.float32, 16)
    dout = random((50, 6), np.float32, 17)
    if case == "one feature":  # einsum sums a single column in another order
        x, gamma, beta, dout = x[:, :1].copy(), gamma[:1], beta[:1], dout[:, :1].copy()
    elif case == "columns of a transposed array":
        x = np.ascontiguousarray(x.T).T
    elif case == "float64 gamma":
        gamma = gamma.astype(np.float64)
    else:
        dout = dout.astype(np.float64)
    compiled = batchnorm_run(x, gamma, beta, dout)
    used = set(calls)
    numpy_only(monkeypatch)
    assert_all_bitwise_equal(compiled, batchnorm_run(x, gamma, beta, dout))
    expected_unused = {"one feature": {"_shifted_sums_into", "_normalise_into",
                                       "_gradient_sums_into", "_batchnorm_dx_into"},
                       "columns of a transposed array": {"_shifted_sums_into", "_normalise_into",
                                                         "_gradient_sums_into",
                                                         "_batchnorm_dx_into"},
                       "float64 gamma": {"_normalise_into", "_batchnorm_dx_into"},
                       "float64 dout": {"_gradient_sums_into", "_batchnorm_dx_into"}}[case]
    assert not used & expected_unused


# ---- the kernels themselves -----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_kernels_do_numpys_operations(dtype):
    n, d = 129, 64
    x, dout = random((n, d), dtype, 18, 2.0, 0.5), random((n, d), dtype, 19)
    mean, scale, beta, factor, mean_dout = (random(d, dtype, seed) for seed in range(20, 25))
    sums, squares = np.empty(d, dtype), np.empty(d, dtype)
    kernels._shifted_sums_into(x, mean, sums, squares)
    shifted = x - mean
    np.testing.assert_array_equal(sums, np.einsum('ij->j', shifted))
    np.testing.assert_array_equal(squares, np.einsum('ij,ij->j', shifted, shifted))
    kernels._gradient_sums_into(dout, x, mean, sums, squares)
    np.testing.assert_array_equal(sums, np.einsum('ij->j', dout))
    np.testing.assert_array_equal(squares, np.einsum('ij,ij->j', dout, shifted))
    out = np.empty_like(x)
    kernels._normalise_into(x, mean, scale, beta, out)
    np.testing.assert_array_equal(out, (x - mean) * scale + beta)
    dx = np.empty_like(x)
    kernels._batchnorm_dx_into(dout, x, mean, factor, mean_dout, scale, dx)
    np.testing.assert_array_equal(dx, (dout - (x - mean) * factor - mean_dout) * scale)


def test_row_kernels_sum_no_rows_to_zero_and_refuse_shapes_that_do_not_fit():
    sums, squares = np.full(3, 7.0), np.full(3, 7.0)
    kernels._shifted_sums_into(np.zeros((0, 3)), np.zeros(3), sums, squares)
    assert sums.tolist() == squares.tolist() == [0.0, 0.0, 0.0]
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError):
        kernels._normalise_into(x, np.zeros(2, np.float32), np.zeros(3, np.float32),
                                np.zeros(3, np.float32), np.empty_like(x))
    with pytest.raises(ValueError):
        kernels._batchnorm_dx_into(np.zeros((5, 3), np.float32), x,
                                   *[np.zeros(3, np.float32)] * 4, np.empty_like(x))
    with pytest.raises(ValueError):
        w = np.zeros(5)
        kernels._adam_update_into(w, w, w, np.zeros(4), *[np.empty(5)] * 3,
                                  0.9, 0.999, 1.0, 1e-8, 1e-3)


def test_the_timing_items_case_runs_no_kernel(calls):
    # The grader times a student's ThreeLayerConvNet.loss against the reference's on this
    # case (no batchnorm, no update rule): the instructor-only kernels must not speed up
    # the reference there.
    from autograder.checks.cases import cnn_cifar_batch50
    from nndl.cnn import ThreeLayerConvNet
    case = cnn_cifar_batch50(np.random.default_rng(0))[0]
    init = {key[len("init."):]: value for key, value in case.items() if key.startswith("init.")}
    assert init["use_batchnorm"] is False
    init["input_dim"] = tuple(int(d) for d in init["input_dim"])
    model = ThreeLayerConvNet(**dict(init, dtype=np.dtype(init["dtype"])))
    model.params.update({key[len("param."):]: value for key, value in case.items()
                         if key.startswith("param.")})
    loss, grads = model.loss(case["X"], case["y"])
    assert np.isfinite(loss) and set(grads) == set(model.params)
    assert calls == {}
