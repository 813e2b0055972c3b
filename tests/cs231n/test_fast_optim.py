"""cs231n.fast_optim.adam_step: the compiled kernel gives the numpy fallback's numbers."""
import numpy as np
import pytest

from cs231n import fast_optim

HYPER = dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)


def adam_inputs(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    dw = rng.standard_normal(shape).astype(dtype)
    v = (0.1 * rng.standard_normal(shape)).astype(dtype)
    a = (0.01 * np.abs(rng.standard_normal(shape))).astype(dtype)
    return w, dw, v, a


def float64_adam(w, dw, v, a, t):
    w, dw, v, a = (np.asarray(x, dtype=np.float64) for x in (w, dw, v, a))
    v = HYPER["beta1"] * v + (1 - HYPER["beta1"]) * dw
    a = HYPER["beta2"] * a + (1 - HYPER["beta2"]) * dw * dw
    v_hat = v / (1 - HYPER["beta1"] ** t)
    a_hat = a / (1 - HYPER["beta2"] ** t)
    return w - HYPER["learning_rate"] * v_hat / (np.sqrt(a_hat) + HYPER["epsilon"]), v, a


@pytest.fixture
def numpy_only(monkeypatch):
    monkeypatch.setattr(fast_optim, "_compiled_adam", None)


def run(w, dw, v, a, t=3):
    return fast_optim.adam_step(w, dw, v, a, t, **HYPER)


@pytest.mark.skipif(fast_optim._compiled_adam is None, reason="compiled kernel not built")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (300, 1001), (3, 5, 2, 2)])
def test_compiled_step_equals_the_numpy_step_bit_for_bit(dtype, shape, monkeypatch):
    args = adam_inputs(shape, dtype)
    compiled = run(*args)
    monkeypatch.setattr(fast_optim, "_compiled_adam", None)
    numpy_result = run(*args)
    for got, want in zip(compiled, numpy_result):
        assert got.dtype == np.dtype(dtype) and got.shape == shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("compiled", [True, False])
def test_step_is_adam(dtype, rtol, compiled, monkeypatch):
    if not compiled:
        monkeypatch.setattr(fast_optim, "_compiled_adam", None)
    args = adam_inputs((40, 30), dtype, seed=1)
    for got, want in zip(run(*args, t=2), float64_adam(*args, t=2)):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3)


def test_arguments_are_not_written_into():
    args = adam_inputs((50, 20), np.float32)
    before = [x.copy() for x in args]
    run(*args)
    for x, y in zip(args, before):
        np.testing.assert_array_equal(x, y)


def test_a_float64_gradient_of_float32_weights_gives_float32_results():
    w, dw, v, a = adam_inputs((64, 9), np.float32)
    next_w, v_new, a_new = run(w, dw.astype(np.float64), v, a)
    assert next_w.dtype == v_new.dtype == a_new.dtype == np.float32
    for got, want in zip((next_w, v_new, a_new), run(w, dw, v, a)):
        np.testing.assert_array_equal(got, want)


def test_non_contiguous_and_empty_arrays(numpy_only):
    w, dw, v, a = adam_inputs((20, 10), np.float64)
    got = fast_optim.adam_step(w.T, dw.T, v.T, a.T, 1, **HYPER)
    want = float64_adam(w.T, dw.T, v.T, a.T, 1)
    for g, x in zip(got, want):
        assert g.shape == (10, 20)
        np.testing.assert_allclose(g, x, rtol=1e-12)
    empty = np.zeros((0, 3))
    assert all(x.shape == (0, 3) for x in fast_optim.adam_step(empty, empty, empty, empty, 1,
                                                               **HYPER))


def test_mismatched_sizes_raise():
    w, dw, v, a = adam_inputs((4, 4), np.float32)
    with pytest.raises(ValueError):
        fast_optim.adam_step(w, dw[:2], v, a, 1, **HYPER)
