import numpy as np
import pytest

from cs231n.data_augmentation import random_horizontal_flip


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_each_image_is_either_unchanged_or_mirrored_left_to_right(dtype):
    rng = np.random.default_rng(0)
    X = (np.arange(40 * 3 * 4 * 5) % 251).reshape(40, 3, 4, 5).astype(dtype)
    before = X.copy()
    out = random_horizontal_flip(X, rng)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert np.array_equal(X, before)  # the input is left alone
    mirrored = [np.array_equal(out[i], X[i, :, :, ::-1]) for i in range(40)]
    kept = [np.array_equal(out[i], X[i]) for i in range(40)]
    assert all(m or k for m, k in zip(mirrored, kept))
    assert 8 <= sum(mirrored) <= 32  # about half, not none and not all


def test_probability_zero_and_one():
    X = np.random.default_rng(1).standard_normal((6, 2, 3, 4))
    assert np.array_equal(random_horizontal_flip(X, np.random.default_rng(0), p=0.0), X)
    assert np.array_equal(random_horizontal_flip(X, np.random.default_rng(0), p=1.0),
                          X[:, :, :, ::-1])


def test_the_same_seed_flips_the_same_images():
    X = np.random.default_rng(1).standard_normal((50, 1, 2, 3))
    a = random_horizontal_flip(X, np.random.default_rng(7))
    b = random_horizontal_flip(X, np.random.default_rng(7))
    assert np.array_equal(a, b)


def test_images_that_are_not_four_dimensional_are_rejected():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_horizontal_flip(np.zeros((3, 32, 32)), np.random.default_rng(0))
