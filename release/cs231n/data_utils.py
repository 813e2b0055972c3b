"""Load CIFAR-10 from the `cifar-10-batches-py` pickles.

Each batch file is a Python-2-style pickle of a dict whose 'data' entry is a
uint8 array of shape (N, 3072) (per row: 1024 red, 1024 green, 1024 blue values
of a 32x32 image, row-major) and whose 'labels' entry is a list of N ints in
0..9. Batch sizes are read from the files, never assumed.

Memory: images are kept as uint8 until every needed batch is read, then copied
once into a preallocated float32 array, so no float64 copy of the set exists.
"""
import os
import pickle
from pathlib import Path

import numpy as np

TRAIN_BATCHES = tuple("data_batch_%d" % i for i in range(1, 6))
TEST_BATCH = "test_batch"
REQUIRED_FILES = TRAIN_BATCHES + (TEST_BATCH,)
DATA_FOLDER_NAME = "cifar-10-batches-py"
DEFAULT_CIFAR10_DIR = Path(__file__).resolve().parent / "datasets" / DATA_FOLDER_NAME
CIFAR10_DIR_ENV = "CIFAR10_DIR"
DOWNLOAD_COMMAND = "bash cs231n/datasets/get_datasets.sh"
LOCAL_ARCHIVE_COMMAND = "bash cs231n/datasets/get_datasets.sh /path/to/cifar-10-python.tar.gz"

IMAGE_SIZE = 32
CHANNELS = 3
PIXELS_PER_IMAGE = CHANNELS * IMAGE_SIZE * IMAGE_SIZE


class CIFAR10NotFoundError(FileNotFoundError):
    """No folder that was tried holds the cifar-10-batches-py files."""


def load_CIFAR10(root):
    """
    Load the whole of CIFAR-10 from one cifar-10-batches-py folder.

    Inputs:
    - root: path of the folder holding data_batch_1 .. data_batch_5 and test_batch.

    Returns a tuple of:
    - Xtr: float32 array of shape (N_train, 32, 32, 3), pixel values 0..255
    - Ytr: int64 array of shape (N_train,), labels 0..9
    - Xte: float32 array of shape (N_test, 32, 32, 3)
    - Yte: int64 array of shape (N_test,)

    Raises CIFAR10NotFoundError (a FileNotFoundError) if a file is missing.
    """
    root = Path(root)
    _raise_if_missing([(root, "root argument")])
    Xtr, Ytr = _read_batches([root / name for name in TRAIN_BATCHES], channels_first=False)
    Xte, Yte = _read_batches([root / TEST_BATCH], channels_first=False)
    return Xtr, Ytr, Xte, Yte


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, cifar10_dir=None):
    """
    Load CIFAR-10 split into train / validation / test, channels first.

    The validation images are the num_validation training images that come right
    after the first num_training; the test images are the first num_test of
    test_batch. When subtract_mean is True the mean image of the training split
    is subtracted from all three splits.

    The data folder is the first of these that holds the batch files:
    cifar10_dir, the CIFAR10_DIR environment variable, and
    cs231n/datasets/cifar-10-batches-py next to this module.

    Inputs:
    - num_training, num_validation, num_test: sizes of the three splits.
    - subtract_mean: whether to subtract the training mean image.
    - cifar10_dir: optional path of a cifar-10-batches-py folder.

    Returns a dict with:
    - 'X_train': float32 array of shape (num_training, 3, 32, 32)
    - 'y_train': int64 array of shape (num_training,)
    - 'X_val': float32 array of shape (num_validation, 3, 32, 32)
    - 'y_val': int64 array of shape (num_validation,)
    - 'X_test': float32 array of shape (num_test, 3, 32, 32)
    - 'y_test': int64 array of shape (num_test,)
    """
    root = find_cifar10_dir(cifar10_dir)
    for name, count in (("num_training", num_training), ("num_validation", num_validation),
                        ("num_test", num_test)):
        if count < 0:
            raise ValueError("%s must be >= 0, got %d" % (name, count))

    # Train and validation share one buffer: both are views of rows read once.
    X_trainval, y_trainval = _read_batches(
        [root / name for name in TRAIN_BATCHES], limit=num_training + num_validation,
        channels_first=True)
    X_test, y_test = _read_batches([root / TEST_BATCH], limit=num_test, channels_first=True)

    if subtract_mean:
        mean_image = X_trainval[:num_training].mean(axis=0, dtype=np.float64)
        mean_image = mean_image.astype(np.float32)
        X_trainval -= mean_image
        X_test -= mean_image

    return {
        "X_train": X_trainval[:num_training], "y_train": y_trainval[:num_training],
        "X_val": X_trainval[num_training:], "y_val": y_trainval[num_training:],
        "X_test": X_test, "y_test": y_test,
    }


def find_cifar10_dir(cifar10_dir=None):
    """
    Return the first folder that holds every CIFAR-10 batch file.

    Tried in order: cifar10_dir (if given), $CIFAR10_DIR (if set), then
    DEFAULT_CIFAR10_DIR. Raises CIFAR10NotFoundError naming every folder tried.
    """
    candidates = []
    if cifar10_dir is not None:
        candidates.append((Path(cifar10_dir), "cifar10_dir argument"))
    if os.environ.get(CIFAR10_DIR_ENV):
        candidates.append((Path(os.environ[CIFAR10_DIR_ENV]),
                           "%s environment variable" % CIFAR10_DIR_ENV))
    candidates.append((DEFAULT_CIFAR10_DIR, "default location"))
    for folder, _ in candidates:
        if not missing_files(folder):
            return folder
    _raise_if_missing(candidates)


def missing_files(folder):
    """Names of the REQUIRED_FILES that are not files in `folder` (a Path)."""
    return [name for name in REQUIRED_FILES if not (folder / name).is_file()]


def _raise_if_missing(candidates):
    """Raise one CIFAR10NotFoundError listing every (folder, origin) candidate."""
    lines = []
    for folder, origin in candidates:
        missing = missing_files(folder)
        if not missing:
            return
        what = "folder does not exist" if not folder.is_dir() else "missing " + ", ".join(missing)
        lines.append("  - %s (%s): %s" % (folder, origin, what))
    raise CIFAR10NotFoundError(
        "CIFAR-10 data set not found. Looked for the %s files (%s) in:\n%s\n"
        "Download it, from the assignment folder, with:\n    %s\n"
        "or unpack a local copy of the archive with:\n    %s\n"
        "or point the %s environment variable at a %s folder."
        % (DATA_FOLDER_NAME, ", ".join(REQUIRED_FILES), "\n".join(lines), DOWNLOAD_COMMAND,
           LOCAL_ARCHIVE_COMMAND, CIFAR10_DIR_ENV, DATA_FOLDER_NAME))


def load_CIFAR_batch(filename):
    """
    Read one batch file.

    Returns a tuple of:
    - X: uint8 array of shape (N, 3072), the rows exactly as stored
    - y: int64 array of shape (N,)
    """
    with open(filename, "rb") as f:
        batch = pickle.load(f, encoding="latin1")
    X = np.asarray(_field(batch, "data", filename))
    y = np.asarray(_field(batch, "labels", filename), dtype=np.int64)
    if X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != PIXELS_PER_IMAGE:
        raise ValueError("%s: expected uint8 data of shape (N, %d), got %s of shape %s"
                         % (filename, PIXELS_PER_IMAGE, X.dtype, X.shape))
    if y.shape != (X.shape[0],):
        raise ValueError("%s: %d labels for %d images" % (filename, y.size, X.shape[0]))
    return X, y


def _field(batch, name, filename):
    # Pickles written by Python 3 with bytes keys load with bytes keys.
    for key in (name, name.encode("ascii")):
        if key in batch:
            return batch[key]
    raise ValueError("%s: no '%s' entry in the batch dict" % (filename, name))


def _read_batches(paths, limit=None, channels_first=False):
    """
    Read up to `limit` images (all if None) from the batch files, in order.

    Returns X float32 of shape (N, 3, 32, 32) if channels_first else
    (N, 32, 32, 3), and y int64 of shape (N,).
    """
    parts, labels, count = [], [], 0
    for path in paths:
        if limit is not None and count >= limit:
            break
        X, y = load_CIFAR_batch(path)
        if limit is not None:
            X, y = X[:limit - count], y[:limit - count]
        parts.append(X)
        labels.append(y)
        count += X.shape[0]
    if limit is not None and count < limit:
        raise ValueError("asked for %d images but %s hold only %d"
                         % (limit, ", ".join(str(p) for p in paths), count))

    shape = (CHANNELS, IMAGE_SIZE, IMAGE_SIZE) if channels_first else (IMAGE_SIZE, IMAGE_SIZE, CHANNELS)
    images = np.empty((count,) + shape, dtype=np.float32)
    start = 0
    for X in parts:
        stored = X.reshape(-1, CHANNELS, IMAGE_SIZE, IMAGE_SIZE)
        # Assigning uint8 into float32 converts element-wise without a temporary.
        images[start:start + X.shape[0]] = stored if channels_first else stored.transpose(0, 2, 3, 1)
        start += X.shape[0]
    y = np.concatenate(labels) if labels else np.empty(0, dtype=np.int64)
    return images, y
