"""CIFAR-10 for the tests: the real data set where this machine has it, else a
synthetic one in the real `cifar-10-batches-py` layout, made at test time.

Every test that needs CIFAR-10 files (loading, training a small model, grading
the accuracy item, running the notebooks) gets `cifar10_dir()`, so a newcomer's
machine without the archive runs them all. Only the tests that assert the real
data set's accuracy use `real_cifar10_dir()` and skip, saying so, without it.

Set KIT_TEST_DATA=synthetic to use the synthetic set even where the real one
exists (how the newcomer's run is reproduced on a development machine).

Both are made at most once per test process (functools caches), whichever test
folder asks first; subprocesses are handed the folder's path.
"""
import atexit
import functools
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
# The shared folder sits beside the clone in development and in CI, never on a newcomer's machine.
SHARED_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"
TRAIN_BATCHES = tuple("data_batch_%d" % i for i in range(1, 6))
IMAGES_PER_BATCH = 10000
NUM_CLASSES = 10
# Class signal and nuisance, in pixel levels: a small CNN reaches roughly 80%
# validation accuracy on 2,000 images and overfits 100 (tests/cs231n/test_train_cifar.py).
COLOUR, PATTERN, SCENE, BRIGHTNESS, NOISE = 8.0, 8.0, 25.0, 20.0, 10.0


def _temporary_folder(prefix):
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, True)
    return Path(folder)


def forced_synthetic():
    return os.environ.get("KIT_TEST_DATA", "") == "synthetic"


@functools.lru_cache(maxsize=1)
def real_cifar10_dir():
    """The real CIFAR-10 folder (where the kit's loader finds it, else the shared
    archive unpacked once), or None when this machine has neither."""
    if forced_synthetic():
        return None
    from cs231n.data_utils import CIFAR10NotFoundError, find_cifar10_dir
    try:
        return Path(find_cifar10_dir())
    except CIFAR10NotFoundError:
        pass
    if not SHARED_ARCHIVE.is_file():
        return None
    from cs231n.datasets.get_datasets import unpack_archive
    return Path(unpack_archive(SHARED_ARCHIVE, _temporary_folder("cifar10-")))


def class_patterns(seed=0):
    """(10, 32, 32, 3) float offsets, one per class: a colour and a smooth pattern
    symmetric under a left-right flip, so that a small CNN learns the classes in
    one epoch and flipped or slightly shifted images stay recognisable, as with
    real photographs."""
    rng = np.random.default_rng(seed)
    rows, cols = np.meshgrid(np.linspace(-1, 1, 32), np.linspace(-1, 1, 32), indexing="ij")
    patterns = np.empty((NUM_CLASSES, 32, 32, 3))
    for label in range(NUM_CLASSES):
        colour = rng.uniform(-COLOUR, COLOUR, size=3)
        frequency, phase = rng.uniform(1.0, 3.0), rng.uniform(0, np.pi)
        shape = np.cos(frequency * np.pi * rows + phase) * np.cos(frequency * np.pi * np.abs(cols))
        patterns[label] = colour + PATTERN * shape[:, :, None] * rng.choice([-1.0, 1.0], size=3)
    return patterns


def random_scenes(rng, count, waves=4):
    """(count, 32, 32, 3) sums of `waves` plane waves of random direction, frequency,
    phase and colour, SCENE pixel levels each."""
    grid = np.linspace(-np.pi, np.pi, 32)
    rows, cols = np.meshgrid(grid, grid, indexing="ij")
    scenes = np.zeros((count, 32, 32, 3))
    for _ in range(waves):
        angle = rng.uniform(0, 2 * np.pi, size=(count, 1, 1))
        frequency = rng.uniform(0.5, 3.0, size=(count, 1, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(count, 1, 1))
        wave = np.cos(frequency * (np.cos(angle) * rows + np.sin(angle) * cols) + phase)
        colour = rng.normal(0.0, 1.0, size=(count, 1, 1, 3))
        scenes += SCENE * wave[..., None] * colour
    return scenes


def write_synthetic_cifar10(folder, images_per_batch=IMAGES_PER_BATCH, seed=0):
    """
    Write data_batch_1..5 and test_batch into folder as the real files are (protocol-2
    pickles of dicts with 'data' uint8 (N, 3072) in channel-major rows, 'labels',
    'batch_label', 'filenames'), plus batches.meta. Training labels are balanced
    (each class images_per_batch / 2 times over the five batches). Returns folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    patterns = class_patterns(seed)
    names = TRAIN_BATCHES + ("test_batch",)
    for index, name in enumerate(names):
        labels = np.arange(images_per_batch) % NUM_CLASSES
        rng.shuffle(labels)
        # Each image also gets a random smooth "scene" of its own (a few colour waves), a
        # brightness and pixel noise: distinct images a model can memorise, and class signal
        # that takes many images to learn, as with real photographs.
        scene = random_scenes(rng, images_per_batch)
        brightness = rng.normal(0.0, BRIGHTNESS, size=(images_per_batch, 1, 1, 1))
        noise = rng.normal(0.0, NOISE, size=(images_per_batch, 32, 32, 3))
        images = np.clip(128.0 + patterns[labels] + scene + brightness + noise, 0, 255)
        images = images.astype(np.uint8)
        rows = images.transpose(0, 3, 1, 2).reshape(images_per_batch, 3072)
        batch = {"batch_label": "synthetic %s (tests/cifar_data.py)" % name,
                 "labels": [int(v) for v in labels], "data": rows,
                 "filenames": ["synthetic_%d_%d.png" % (index, i) for i in range(images_per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    meta = {"label_names": ["class_%d" % i for i in range(NUM_CLASSES)],
            "num_cases_per_batch": images_per_batch, "num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=2)
    return folder


@functools.lru_cache(maxsize=1)
def synthetic_cifar10_dir():
    return write_synthetic_cifar10(_temporary_folder("synthetic-cifar10-") / "cifar-10-batches-py")


def cifar10_dir():
    """The real CIFAR-10 folder where there is one, else the synthetic one."""
    return real_cifar10_dir() or synthetic_cifar10_dir()


def describe():
    """One line for pytest's header: which data the tests run on."""
    if not forced_synthetic():
        from cs231n.data_utils import CIFAR10NotFoundError, find_cifar10_dir
        try:
            return "CIFAR-10: the real data set at %s" % find_cifar10_dir()
        except CIFAR10NotFoundError:
            if SHARED_ARCHIVE.is_file():
                return "CIFAR-10: the real data set, unpacked from %s" % SHARED_ARCHIVE
    why = "KIT_TEST_DATA=synthetic" if forced_synthetic() else "no real data set on this machine"
    return ("CIFAR-10: synthetic set in the real layout (%s); tests that assert real accuracy "
            "are skipped" % why)
