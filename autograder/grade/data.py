"""CIFAR-10 for the accuracy item, prepared in the grader (labels never enter the sandbox).

- validation: the num_validation training images after the first 49000,
  mean-subtracted exactly as cs231n.data_utils.get_CIFAR10_data does;
- held-out: images of test_batch (never used for training), a subset drawn from
  the run's seed, each moved by a secret per-run transformation (HeldoutTransform:
  a random horizontal flip, a shift of 1 to max_shift pixels with edge padding,
  slight pixel noise) before the same preprocessing, and shuffled. The test batch
  and its labels are public, so untransformed images could be looked up by their
  bytes; a CNN trained with flips barely notices the change, a table of public
  images matches none of them;
- or, when the accuracy item names the instructor's own file (heldout_file, see
  autograder/grade/heldout.py), held-out images drawn from that file instead: images
  no student had, so nothing to look up and no transformation; the same mean
  subtraction, so scores compare;
- a stand-in test_batch for retraining in the sandbox: the validation images,
  so the notebook's own test-set cell runs without the real test images.
"""
import functools
import os
import pickle
from dataclasses import dataclass

import numpy as np

from cs231n.data_utils import (CIFAR10_DIR_ENV, DEFAULT_CIFAR10_DIR, TEST_BATCH, TRAIN_BATCHES,
                               CIFAR10NotFoundError, find_cifar10_dir, get_CIFAR10_data,
                               load_CIFAR_batch, missing_files)
from autograder.grade.heldout import load_heldout_file

NUM_TRAINING = 49000


@dataclass(frozen=True)
class HeldoutTransform:
    """The held-out images' transformation (spec keys heldout_flip, heldout_shift, heldout_noise)."""
    flip_probability: float = 0.5   # chance of a horizontal flip
    max_shift: int = 2              # pixels; every image moves by 1..max_shift along some axis
    noise_std: float = 2.0          # Gaussian noise, in pixel levels (0-255)

    @classmethod
    def from_spec(cls, extras):
        return cls(flip_probability=float(extras.get("heldout_flip", cls.flip_probability)),
                   max_shift=int(extras.get("heldout_shift", cls.max_shift)),
                   noise_std=float(extras.get("heldout_noise", cls.noise_std)))


IDENTITY = HeldoutTransform(0.0, 0, 0.0)


@functools.lru_cache(maxsize=2)
def _test_size(root):
    """How many images the test batch holds (read once per folder: it is 30 MB, and every
    submission's accuracy item asks)."""
    return load_CIFAR_batch(os.path.join(root, TEST_BATCH))[1].size


@functools.lru_cache(maxsize=2)
def _prepared(cifar_dir, num_validation, num_test):
    """(validation images mean-subtracted, labels, raw test images (pixel levels), labels, mean image)."""
    data = get_CIFAR10_data(num_training=NUM_TRAINING, num_validation=num_validation,
                            num_test=num_test, cifar10_dir=cifar_dir, subtract_mean=False)
    # the mean image exactly as get_CIFAR10_data computes and subtracts it
    mean_image = data["X_train"].mean(axis=0, dtype=np.float64).astype(np.float32)
    X_val = np.ascontiguousarray(data["X_val"]) - mean_image
    return (X_val, data["y_val"].copy(), np.ascontiguousarray(data["X_test"]),
            data["y_test"].copy(), mean_image)


def transform_images(images, rng, transform):
    """
    Images moved by `transform`, drawn from rng.

    Inputs:
    - images: pixel levels (N, C, H, W), float32, values in 0..255
    - rng: numpy Generator (the run's secret stream)
    - transform: HeldoutTransform
    Returns a new float32 array (N, C, H, W) of whole pixel levels in 0..255.
    """
    images = np.asarray(images, dtype=np.float32)
    N, _, H, W = images.shape
    s = int(transform.max_shift)
    flips = rng.random(N) < transform.flip_probability
    shifts = rng.integers(-s, s + 1, size=(N, 2))
    if s > 0:
        # no image stays in place, so none is a public image plus noise alone
        still = np.flatnonzero((shifts == 0).all(axis=1))
        shifts[still, rng.integers(0, 2, still.size)] = rng.choice([-1, 1], still.size)
    padded = np.pad(images, ((0, 0), (0, 0), (s, s), (s, s)), mode="edge")
    out = np.empty_like(images)
    for i, (dy, dx) in enumerate(shifts):
        window = padded[i, :, s + dy:s + dy + H, s + dx:s + dx + W]
        out[i] = window[:, :, ::-1] if flips[i] else window
    if transform.noise_std > 0:
        out += rng.normal(0.0, transform.noise_std, out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.float32)


def grading_data_dir(cifar_dir=None):
    """The CIFAR-10 folder the grader uses: cifar_dir if given, else $CIFAR10_DIR if set, else
    the kit's default folder. A folder named (by argument or environment) must be usable: the
    grader never falls back from it to another copy (CIFAR10NotFoundError says how to get one)."""
    from pathlib import Path
    named = [(cifar_dir, "--cifar-dir")] if cifar_dir else \
        [(os.environ.get(CIFAR10_DIR_ENV), "$" + CIFAR10_DIR_ENV)]
    for folder, origin in named:
        if not folder:
            continue
        folder = Path(folder)
        if not folder.is_dir():
            problem = "is not a folder"
        elif missing_files(folder):
            problem = "lacks CIFAR-10's %s" % ", ".join(missing_files(folder))
        else:
            return folder
        raise CIFAR10NotFoundError("%s %s %s: the grader does not fall back to another copy.\n%s"
                                   % (origin, folder, problem, how_to_get_cifar10()))
    return find_cifar10_dir(None)


def how_to_get_cifar10():
    """Where the kit's download script is and what it does (true for a checkout or an install)."""
    import cs231n.datasets
    script = os.path.join(os.path.dirname(os.path.abspath(cs231n.datasets.__file__)),
                          "get_datasets.sh")
    return ("Get the data with `bash %s` (downloads it into %s; `get_datasets.sh ARCHIVE` unpacks "
            "a local cifar-10-python.tar.gz instead), then point %s at that "
            "cifar-10-batches-py folder or leave it unset." % (script, DEFAULT_CIFAR10_DIR,
                                                               CIFAR10_DIR_ENV))


def accuracy_splits(cifar_dir=None, num_validation=1000, num_heldout=1000, seed=0,
                    transform=HeldoutTransform(), heldout_file=None):
    """{'val': (X, y), 'heldout': (X, y)}: float32 images (N, 3, 32, 32), int64 labels.
    The held-out images are public test images, transformed (IDENTITY: as published), or,
    given heldout_file (the instructor's, autograder/grade/heldout.py), that file's images
    as they are; either way num_heldout of them (all if fewer), drawn by the seed, in a
    secret order.

    The splits are the same for every submission of a class (one seed), so each process
    prepares them once per set of inputs (the held-out file by its modification time and
    size too) and hands out the same read-only arrays."""
    root = str(grading_data_dir(cifar_dir))
    stamp = None
    if heldout_file is not None:
        try:
            info = os.stat(heldout_file)
            stamp = (info.st_mtime_ns, info.st_size)
        except OSError:   # load_heldout_file says what is wrong, naming the file
            stamp = None
    return dict(_splits(root, int(num_validation), int(num_heldout), int(seed), transform,
                        heldout_file, stamp))


@functools.lru_cache(maxsize=2)
def _splits(root, num_validation, num_heldout, seed, transform, heldout_file, stamp):
    """accuracy_splits' work, cached per process by its inputs (read-only arrays: shared)."""
    if heldout_file is not None:
        X_test, y_test = _private_images(heldout_file)
        test_size = len(y_test)
        X_val, y_val, _, _, mean_image = _prepared(root, num_validation, 0)
    else:
        test_size = _test_size(root)
        X_val, y_val, X_test, y_test, mean_image = _prepared(root, num_validation, test_size)
    rng = np.random.default_rng([int(seed) & (2 ** 63 - 1), 7])
    chosen = np.sort(rng.choice(test_size, size=min(num_heldout, test_size), replace=False))
    # the transformation and the order come from a stream of their own, so the subset
    # drawn for a seed stays what it was
    secret = np.random.default_rng([int(seed) & (2 ** 63 - 1), 8])
    chosen = chosen[secret.permutation(chosen.size)]
    images = X_test[chosen]
    if transform != IDENTITY and heldout_file is None:
        images = transform_images(images, secret, transform)
    splits = {"val": (X_val, y_val), "heldout": (images - mean_image, y_test[chosen])}
    for arrays in splits.values():
        for array in arrays:
            array.setflags(write=False)
    return splits


def _private_images(path):
    """The instructor's held-out file as (pixel levels (N, 3, 32, 32) float32, labels): the
    layout the loader gives the test batch before mean subtraction."""
    images, labels = load_heldout_file(path)
    return images.transpose(0, 3, 1, 2).astype(np.float32), labels.copy()


def training_files(folder, cifar_dir=None, num_validation=1000):
    """
    {file name: host path} of a data folder for retraining in the sandbox: the real
    training batches and a stand-in test_batch (written into `folder`) that holds the
    validation images, so the held-out test images stay out of the sandbox.
    """
    root = grading_data_dir(cifar_dir)
    files = {name: str(root / name) for name in TRAIN_BATCHES}
    rows, labels, count = [], [], 0
    for name in TRAIN_BATCHES:
        data, y = load_CIFAR_batch(root / name)
        start = max(NUM_TRAINING - count, 0)
        stop = max(NUM_TRAINING + num_validation - count, 0)
        rows.append(data[start:stop])
        labels.append(y[start:stop])
        count += y.size
    stand_in = {"batch_label": "validation images standing in for the test batch",
                "data": np.concatenate(rows), "labels": [int(v) for v in np.concatenate(labels)]}
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, TEST_BATCH)
    with open(path, "wb") as f:
        pickle.dump(stand_in, f, protocol=2)
    os.chmod(path, 0o644)
    files[TEST_BATCH] = path
    return files
