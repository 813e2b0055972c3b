"""Arrange many small images (e.g. first-layer filters) into one grid image.

Pure numpy: nothing here imports matplotlib; show the result with plt.imshow.
"""
import math

import numpy as np


def visualize_grid(Xs, ubound=255.0, padding=1):
    """
    Tile images into a square grid, each image rescaled on its own to [0, ubound].

    Images fill the grid row by row; unused cells and the padding between
    cells are 0.

    Inputs:
    - Xs: array of shape (N, H, W, C)
    - ubound: each image is linearly mapped from [its min, its max] to [0, ubound]
      (a constant image becomes 0)
    - padding: pixels between neighbouring cells

    Returns:
    - grid: array of shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C) with
      G = ceil(sqrt(N)); Xs's dtype if it is a float type, else float64
    """
    Xs = np.asarray(Xs)
    dtype = Xs.dtype if np.issubdtype(Xs.dtype, np.floating) else np.float64
    Xs = Xs.astype(dtype, copy=False)
    low = Xs.min(axis=(1, 2, 3), keepdims=True)
    span = Xs.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = np.divide(ubound * (Xs - low), span, out=np.zeros_like(Xs), where=span > 0)
    side = math.ceil(math.sqrt(Xs.shape[0]))
    return _tile(scaled, side, side, padding, fill=0)


def vis_grid(Xs):
    """
    Tile images into a square grid on one shared scale, normalized to [0, 1].

    Inputs:
    - Xs: array of shape (N, H, W, C)

    Returns:
    - grid: array of shape (G*H + G - 1, G*W + G - 1, C), G = ceil(sqrt(N));
      padding and empty cells take the smallest pixel value before normalizing.
    """
    Xs = _as_float(Xs)
    side = math.ceil(math.sqrt(Xs.shape[0]))
    return _normalize(_tile(Xs, side, side, padding=1, fill=Xs.min()))


def vis_nn(rows):
    """
    Tile a table of images (e.g. queries and their nearest neighbours), normalized to [0, 1].

    Inputs:
    - rows: list of R lists, each of D images of shape (H, W, C)

    Returns:
    - grid: array of shape (R*H + R - 1, D*W + D - 1, C)
    """
    Xs = _as_float([image for row in rows for image in row])
    return _normalize(_tile(Xs, len(rows), len(rows[0]), padding=1, fill=Xs.min()))


def _as_float(images):
    images = np.asarray(images)
    return images if np.issubdtype(images.dtype, np.floating) else images.astype(np.float64)


def _tile(Xs, num_rows, num_cols, padding, fill):
    """Place Xs (N, H, W, C), N <= num_rows * num_cols, row by row into one padded image."""
    N, H, W, C = Xs.shape
    cells = np.full((num_rows * num_cols, H + padding, W + padding, C), fill, dtype=Xs.dtype)
    cells[:N, :H, :W] = Xs
    grid = cells.reshape(num_rows, num_cols, H + padding, W + padding, C)
    grid = grid.transpose(0, 2, 1, 3, 4).reshape(num_rows * (H + padding), num_cols * (W + padding), C)
    # Each cell carries padding on its bottom and right; the last row and column do not need it.
    return grid[:grid.shape[0] - padding, :grid.shape[1] - padding].copy()


def _normalize(grid):
    low, high = grid.min(), grid.max()
    if high == low:
        return np.zeros_like(grid)
    return (grid - low) / (high - low)
