import math
import subprocess
import sys

import numpy as np
import pytest

from cs231n.vis_utils import vis_grid, vis_nn, visualize_grid


def grid_by_loops(Xs, ubound, padding):
    """visualize_grid written the slow, obvious way."""
    N, H, W, C = Xs.shape
    side = math.ceil(math.sqrt(N))
    grid = np.zeros((side * H + (side - 1) * padding, side * W + (side - 1) * padding, C))
    for n in range(N):
        image = Xs[n].astype(np.float64)
        top = (n // side) * (H + padding)
        left = (n % side) * (W + padding)
        span = image.max() - image.min()
        if span > 0:
            grid[top:top + H, left:left + W] = ubound * (image - image.min()) / span
    return grid


@pytest.mark.parametrize("N, padding", [(5, 2), (4, 1), (1, 0), (10, 3)])
def test_visualize_grid_places_each_image_rescaled_on_its_own(N, padding):
    Xs = np.random.default_rng(N).normal(size=(N, 4, 3, 2)) * np.arange(1, N + 1)[:, None, None, None]
    before = Xs.copy()
    grid = visualize_grid(Xs, ubound=10.0, padding=padding)
    np.testing.assert_allclose(grid, grid_by_loops(Xs, 10.0, padding), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(Xs, before)


def test_visualize_grid_keeps_float32_and_turns_integers_into_float64():
    Xs = np.random.default_rng(0).uniform(-1, 1, size=(3, 2, 2, 3))
    grid32 = visualize_grid(Xs.astype(np.float32))
    assert grid32.dtype == np.float32
    assert grid32.min() == 0 and grid32.max() == pytest.approx(255.0)

    pixels = np.random.default_rng(1).integers(0, 256, size=(2, 5, 5, 3)).astype(np.uint8)
    grid = visualize_grid(pixels, ubound=1.0)
    assert grid.dtype == np.float64
    np.testing.assert_allclose(grid, grid_by_loops(pixels, 1.0, 1))


def test_a_constant_image_becomes_black_instead_of_nan():
    Xs = np.full((2, 3, 3, 1), 7.0)
    Xs[1, 0, 0, 0] = 9.0
    grid = visualize_grid(Xs)
    assert not np.isnan(grid).any()
    np.testing.assert_array_equal(grid[:3, :3], 0)
    assert grid[0, 4, 0] == 255.0


def test_vis_grid_tiles_on_one_shared_scale():
    Xs = np.random.default_rng(2).normal(size=(5, 3, 2, 1))
    grid = vis_grid(Xs)
    assert grid.shape == (3 * 3 + 2, 3 * 2 + 2, 1)
    low, high = Xs.min(), Xs.max()
    for n in range(5):
        top, left = (n // 3) * 4, (n % 3) * 3
        np.testing.assert_allclose(grid[top:top + 3, left:left + 2], (Xs[n] - low) / (high - low))
    assert grid[3, 0, 0] == 0.0  # padding row takes the smallest value
    assert grid.min() == 0.0 and grid.max() == 1.0


def test_vis_nn_lays_out_rows_of_neighbours():
    rng = np.random.default_rng(3)
    rows = [[rng.normal(size=(2, 3, 3)) for _ in range(4)] for _ in range(2)]
    grid = vis_nn(rows)
    assert grid.shape == (2 * 2 + 1, 4 * 3 + 3, 3)
    everything = np.array(rows)
    low, high = everything.min(), everything.max()
    np.testing.assert_allclose(grid[3:5, 4:7], (rows[1][1] - low) / (high - low))


def test_importing_vis_utils_does_not_import_matplotlib():
    code = "import sys, cs231n.vis_utils; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
