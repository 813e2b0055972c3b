"""Tiny CIFAR-10 look-alikes written in the real cifar-10-batches-py pickle format."""
import io
import pickle
import tarfile

import numpy as np

TRAIN_NAMES = tuple("data_batch_%d" % i for i in range(1, 6))
ALL_NAMES = TRAIN_NAMES + ("test_batch",)


def write_fake_cifar10(folder, batch_sizes, seed=0, bytes_keys=False):
    """
    Write one pickle per entry of batch_sizes ({file name: number of images}) into folder.

    Each is a protocol-2 pickle of a dict with 'data' (uint8, (N, 3072)), 'labels'
    (list of N ints), 'batch_label' and 'filenames', as in the real files.
    Returns {file name: (data, labels as an int64 array)}.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name, count in batch_sizes.items():
        data = rng.integers(0, 256, size=(count, 3072), dtype=np.uint8)
        labels = [int(label) for label in rng.integers(0, 10, size=count)]
        batch = {"batch_label": "fake %s" % name, "labels": labels, "data": data,
                 "filenames": ["image_%d.png" % i for i in range(count)]}
        if bytes_keys:
            batch = {key.encode("ascii"): value for key, value in batch.items()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        written[name] = (data, np.array(labels, dtype=np.int64))
    return written


def rows_to_images(data):
    """(N, 3072) rows -> (N, 32, 32, 3) float64, one image row of one channel at a time."""
    images = np.zeros((data.shape[0], 32, 32, 3))
    for i in range(data.shape[0]):
        for channel in range(3):
            for row in range(32):
                start = channel * 1024 + row * 32
                images[i, row, :, channel] = data[i, start:start + 32]
    return images


def make_archive(path, files):
    """Write a .tar.gz holding {member name: bytes} as plain files."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path
