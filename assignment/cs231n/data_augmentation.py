"""Random transformations of training minibatches, for Solver(augment=...).

Each function has the form augment(X, rng) -> X_augmented: X of shape
(N, C, H, W) is left unchanged, rng is a numpy Generator (the Solver passes
its own, so a seeded Solver augments the same way every run), and the result
has X's shape and dtype. Validation and test images are never augmented.
"""
import numpy as np


def random_horizontal_flip(X, rng, p=0.5):
    """
    Mirror each image left to right with probability p.

    A mirrored photograph shows the same class, so flips double the variety of
    the training images at no cost in memory.

    Inputs:
    - X: array of shape (N, C, H, W)
    - rng: numpy Generator that decides which images are mirrored
    - p: probability that an image is mirrored

    Returns:
    - out: array of shape (N, C, H, W) and X's dtype; a copy of X with the
      chosen images mirrored along the width axis
    """
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError("random_horizontal_flip expects images of shape (N, C, H, W), got %s"
                         % (X.shape,))
    flipped = rng.random(X.shape[0]) < p
    out = X.copy()
    out[flipped] = X[flipped, :, :, ::-1]
    return out
