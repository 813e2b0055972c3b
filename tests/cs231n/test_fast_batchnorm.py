"""The compiled batchnorm row kernels (cs231n.fast_batchnorm) against numpy."""
import numpy as np
import pytest

from cs231n import fast_batchnorm

kernels = fast_batchnorm._compiled
pytestmark = pytest.mark.skipif(kernels is None, reason="compiled kernels not built")


def rows(shape, dtype, seed, scale=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    return (offset + scale * rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (37, 5), (300, 64)])
def test_shifted_sums(dtype, shape):
    x = rows(shape, dtype, 0, 3.0, 10.0)
    shift = rows(shape[1:], dtype, 1, 1.0, 10.0)
    sums, squares = np.full(shape[1], 0.5), np.full(shape[1], 0.25)  # added into
    kernels._shifted_sums_into(x, shift, sums, squares)
    shifted = (x - shift).astype(np.float64)  # the kernel subtracts in x's dtype too
    np.testing.assert_allclose(sums, 0.5 + shifted.sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(squares, 0.25 + (shifted ** 2).sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_sums(dtype):
    dout, x = rows((200, 7), dtype, 2), rows((200, 7), dtype, 3, 2.0, 1.0)
    mean = rows((7,), dtype, 4)
    sums, products = np.zeros(7), np.zeros(7)
    kernels._gradient_sums_into(dout, x, mean, sums, products)
    centred = (x - mean).astype(np.float64)
    np.testing.assert_allclose(sums, dout.astype(np.float64).sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(products, (dout * centred).sum(axis=0), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalise_and_dx_give_numpys_numbers(dtype):
    n, d = 129, 64
    x, dout = rows((n, d), dtype, 5, 2.0, 0.5), rows((n, d), dtype, 6)
    mean, scale, beta, factor, mean_dout = (rows((d,), dtype, seed) for seed in range(7, 12))
    out = np.empty_like(x)
    kernels._normalise_into(x, mean, scale, beta, out)
    want = x - mean
    want *= scale
    want += beta
    np.testing.assert_array_equal(out, want)
    dx = np.empty_like(x)
    kernels._batchnorm_dx_into(dout, x, mean, factor, mean_dout, scale, dx)
    want = x - mean
    want *= factor
    want = dout - want
    want -= mean_dout
    want *= scale
    np.testing.assert_array_equal(dx, want)


def test_shapes_that_do_not_fit_raise():
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError):
        kernels._normalise_into(x, np.zeros(2, np.float32), np.zeros(3, np.float32),
                                np.zeros(3, np.float32), np.empty_like(x))
    with pytest.raises(ValueError):
        kernels._batchnorm_dx_into(np.zeros((5, 3), np.float32), x, *[np.zeros(3, np.float32)] * 4,
                                   np.empty_like(x))


def test_row_kernels_only_for_contiguous_rows_of_one_float_dtype():
    x = np.zeros((6, 4), np.float32)
    assert fast_batchnorm.row_kernels(x, np.zeros((6, 4), np.float32)) is kernels
    assert fast_batchnorm.row_kernels(x, np.zeros((6, 4))) is None          # mixed dtypes
    assert fast_batchnorm.row_kernels(np.zeros((4, 6), np.float32).T) is None  # not C order
    assert fast_batchnorm.row_kernels(np.zeros((6, 4), np.float16)) is None
    assert fast_batchnorm.row_kernels(np.zeros(6, np.float32)) is None       # not rows
