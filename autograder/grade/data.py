"""CIFAR-10 for the accuracy item, prepared in the grader (labels never enter the sandbox).

- validation: the num_validation training images after the first 49000,
  mean-subtracted exactly as cs231n.data_utils.get_CIFAR10_data does;
- held-out: images of test_batch (never used for training), same preprocessing,
  a subset drawn from the run's seed;
- a stand-in test_batch for retraining in the sandbox: the validation images,
  so the notebook's own test-set cell runs without the real test images.
"""
import functools
import os
import pickle

import numpy as np

from cs231n.data_utils import (TEST_BATCH, TRAIN_BATCHES, find_cifar10_dir, get_CIFAR10_data,
                               load_CIFAR_batch)

NUM_TRAINING = 49000


@functools.lru_cache(maxsize=2)
def _prepared(cifar_dir, num_validation, num_test):
    data = get_CIFAR10_data(num_training=NUM_TRAINING, num_validation=num_validation,
                            num_test=num_test, cifar10_dir=cifar_dir)
    return (np.ascontiguousarray(data["X_val"]), data["y_val"].copy(),
            np.ascontiguousarray(data["X_test"]), data["y_test"].copy())


def accuracy_splits(cifar_dir=None, num_validation=1000, num_heldout=1000, seed=0):
    """{'val': (X, y), 'heldout': (X, y)}: float32 images (N, 3, 32, 32), int64 labels."""
    root = str(find_cifar10_dir(cifar_dir))
    test_size = load_CIFAR_batch(os.path.join(root, TEST_BATCH))[1].size
    X_val, y_val, X_test, y_test = _prepared(root, num_validation, test_size)
    rng = np.random.default_rng([int(seed) & (2 ** 63 - 1), 7])
    chosen = np.sort(rng.choice(test_size, size=min(num_heldout, test_size), replace=False))
    return {"val": (X_val, y_val), "heldout": (X_test[chosen], y_test[chosen])}


def training_files(folder, cifar_dir=None, num_validation=1000):
    """
    {file name: host path} of a data folder for retraining in the sandbox: the real
    training batches and a stand-in test_batch (written into `folder`) that holds the
    validation images, so the held-out test images stay out of the sandbox.
    """
    root = find_cifar10_dir(cifar_dir)
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
