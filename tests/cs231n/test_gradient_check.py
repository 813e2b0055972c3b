import numpy as np
import pytest

from cs231n.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                                   grad_check_sparse, relative_error)


def cubic(x):
    """f(x) = sum(x^3) + sum(x), gradient 3x^2 + 1."""
    return float(np.sum(x.astype(np.float64) ** 3) + np.sum(x))


def cubic_gradient(x):
    return 3 * x.astype(np.float64) ** 2 + 1


def test_scalar_gradient_matches_the_analytic_one_and_leaves_x_unchanged():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = eval_numerical_gradient(cubic, x, verbose=False)
    np.testing.assert_allclose(grad, cubic_gradient(x), rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)
    assert grad.shape == x.shape and grad.dtype == np.float64


def test_float32_input_gives_accurate_float32_gradient():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 3.0, size=(2, 3, 4)).astype(np.float32)
    before = x.copy()
    # f in float64 of float32 inputs is exact, so the accuracy measured here is that of
    # the step: x + h rounds to float32 and the difference must use the rounded step.
    grad = eval_numerical_gradient(lambda v: float(np.sum(np.sin(v.astype(np.float64)))), x,
                                   verbose=False, h=1e-3)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, np.cos(x.astype(np.float64)), rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(x, before)


def test_verbose_prints_each_index_and_value(capsys):
    x = np.array([[1.0, 2.0]])
    grad = eval_numerical_gradient(cubic, x, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("(0, 0)") and lines[1].startswith("(0, 1)")
    assert float(lines[1].split()[-1]) == pytest.approx(grad[0, 1])

    eval_numerical_gradient(cubic, x, verbose=False)
    assert capsys.readouterr().out == ""


def test_x_is_restored_when_f_raises():
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    before = x.copy()
    calls = []

    def fails_on_third_call(v):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return cubic(v)

    with pytest.raises(RuntimeError):
        eval_numerical_gradient(fails_on_third_call, x, verbose=False)
    np.testing.assert_array_equal(x, before)

    calls.clear()
    with pytest.raises(RuntimeError):
        eval_numerical_gradient_array(lambda v: np.array([fails_on_third_call(v)]), x, np.ones(1))
    np.testing.assert_array_equal(x, before)


def test_array_gradient_of_a_matrix_product_is_df_times_W_transposed():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5))
    W = rng.standard_normal((5, 3))
    df = rng.standard_normal((4, 3))
    before = x.copy()
    grad = eval_numerical_gradient_array(lambda v: v.dot(W), x, df)
    np.testing.assert_allclose(grad, df.dot(W.T), rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_array_gradient_survives_an_f_that_reuses_its_output_buffer():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2))
    df = rng.standard_normal((3, 2))
    buffer = np.empty_like(x)

    def square_into_buffer(v):
        np.multiply(v, v, out=buffer)
        return buffer

    grad = eval_numerical_gradient_array(square_into_buffer, x, df)
    np.testing.assert_allclose(grad, 2 * x * df, rtol=1e-7, atol=1e-8)


def test_array_gradient_in_float32():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    df = rng.standard_normal((3, 4)).astype(np.float32)
    grad = eval_numerical_gradient_array(lambda v: v.astype(np.float64) ** 2, x, df, h=1e-3)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * x.astype(np.float64) * df, rtol=1e-5, atol=1e-6)


def test_sparse_check_reports_tiny_errors_for_a_correct_gradient(capsys):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 6))
    before = x.copy()
    np.random.seed(0)
    errors = grad_check_sparse(cubic, x, cubic_gradient(x), num_checks=7)
    assert len(errors) == 7
    assert max(errors) < 1e-7
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 7 and all("relative error" in line for line in lines)
    np.testing.assert_array_equal(x, before)


def test_sparse_check_reports_large_errors_for_a_wrong_gradient(capsys):
    x = np.random.default_rng(6).uniform(1.0, 2.0, size=(4, 4))
    np.random.seed(0)
    errors = grad_check_sparse(cubic, x, cubic_gradient(x) + 1.0, num_checks=5)
    # Error 1 / (2 (3x^2 + 1) + 1) for x in [1, 2]: between 1/27 and 1/9.
    assert all(1 / 27 - 1e-6 < error < 1 / 9 + 1e-6 for error in errors)


def test_sparse_check_draws_indices_from_the_global_random_state(capsys):
    x = np.random.default_rng(7).standard_normal((10, 10))
    wrong = cubic_gradient(x) * np.random.default_rng(8).uniform(0.5, 1.5, size=x.shape)
    np.random.seed(42)
    first = grad_check_sparse(cubic, x, wrong, num_checks=4)
    np.random.seed(42)
    second = grad_check_sparse(cubic, x, wrong, num_checks=4)
    assert first == second


def test_a_step_lost_to_float32_rounding_is_an_error_not_a_nan():
    x = np.array([1e6], dtype=np.float32)
    with pytest.raises(ValueError, match="larger h"):
        eval_numerical_gradient(cubic, x, verbose=False, h=1e-5)
    assert x[0] == np.float32(1e6)


def test_relative_error_is_zero_when_both_values_are_zero():
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(1.0, 3.0) == pytest.approx(0.5)
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 6.0])) == pytest.approx(0.5)
