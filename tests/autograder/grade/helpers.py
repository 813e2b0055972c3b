"""Building submissions for the grader tests."""
import functools
import re
import shutil
import time
from pathlib import Path

import nbformat
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[3]
SOLUTIONS_NNDL = REPO_ROOT / "solutions" / "nndl"
SPEC = REPO_ROOT / "autograder" / "spec" / "grading.toml"
NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")


def write_notebook(path, sources=("print('hello')",)):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, str(path))


def reference_submission(folder, model=None, notebooks=True):
    """A submission holding the reference nndl, optional model file and stand-in notebooks."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SOLUTIONS_NNDL, folder / "nndl", ignore=shutil.ignore_patterns("__pycache__"))
    if notebooks:
        for name in NOTEBOOKS:
            write_notebook(folder / name)
    if model is not None:
        shutil.copyfile(model, folder / "cnn_model.npz")
    return folder


def replace_function(folder, module, source):
    """Append `source` (a def) to nndl/<module>.py: the later definition wins at import."""
    path = Path(folder) / "nndl" / (module + ".py")
    path.write_text(path.read_text() + "\n\n" + source.strip() + "\n")


def spec_with(path, overrides=None, settings=None):
    """
    A copy of the kit's spec with item fields changed: overrides maps an item id to
    {field: value}; settings maps [settings] keys to values.
    """
    text = SPEC.read_text()
    blocks = re.split(r"(?m)^(?=\[\[item\]\])", text)
    out = []
    for block in blocks:
        match = re.search(r'(?m)^id = "([^"]+)"', block)
        if match and overrides and match.group(1) in overrides:
            for key, value in overrides[match.group(1)].items():
                line = "%s = %r" % (key, value)
                if re.search(r"(?m)^%s = .*$" % re.escape(key), block):
                    block = re.sub(r"(?m)^%s = .*$" % re.escape(key), line, block)
                else:   # after the id: the block may end in other tables ([similarity]...)
                    block = block[:match.end()] + "\n" + line + block[match.end():]
        out.append(block)
    text = "".join(out)
    for key, value in (settings or {}).items():
        text = re.sub(r"(?m)^%s = .*$" % re.escape(key), "%s = %r" % (key, value), text)
    Path(path).write_text(text)
    return Path(path)


def train_fixture_model(path, cifar_dir, num_train=2500, seed=0):
    """
    A small reference ThreeLayerConvNet trained for one epoch on `num_train` images
    (about 15 s on 2 cores; roughly 25% validation accuracy), saved with model_io.
    """
    from cs231n.data_utils import get_CIFAR10_data
    from cs231n.model_io import save_model
    from cs231n.solver import Solver
    from nndl.cnn import ThreeLayerConvNet

    start = time.monotonic()
    data = get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=0,
                            cifar10_dir=str(cifar_dir))
    small = {"X_train": data["X_train"][:num_train], "y_train": data["y_train"][:num_train],
             "X_val": data["X_val"][:200], "y_val": data["y_val"][:200]}
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        model = ThreeLayerConvNet(num_filters=16, filter_size=5, hidden_dim=100,
                                  weight_scale=1e-3, reg=1e-3)
    finally:
        np.random.set_state(state)
    solver = Solver(model, small, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    batch_size=50, num_epochs=1, verbose=False, seed=seed, num_train_samples=100)
    solver.train()
    save_model(model, str(path))
    return time.monotonic() - start


def heldout_images(count=200, seed=11):
    """(count, 32, 32, 3) uint8 images for a course's held-out file in the tests: smooth
    random scenes (tests/cifar_data.py) no public test image is near, with no class signal."""
    from tests.cifar_data import random_scenes
    rng = np.random.default_rng(seed)
    images = 128.0 + random_scenes(rng, count) + rng.normal(0.0, 10.0, (count, 32, 32, 3))
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def write_heldout(path, images, labels=None):
    """The held-out file (autograder/grade/heldout.py's layout) of `images`, their dtypes kept;
    labels default to a balanced 0..9 cycle, which nothing in the images predicts."""
    labels = np.arange(len(images)) % 10 if labels is None else labels
    np.savez(str(path), images=np.asarray(images), labels=np.asarray(labels))
    return Path(path)


def preprocessed(images, cifar_dir):
    """(N, 32, 32, 3) uint8 images as CNN.ipynb's test images are: channels first, float32,
    minus the training mean image (computed as cs231n.data_utils.get_CIFAR10_data does)."""
    return images.transpose(0, 3, 1, 2).astype(np.float32) - _mean_image(str(cifar_dir))


@functools.lru_cache(maxsize=1)
def _mean_image(cifar_dir):
    from cs231n.data_utils import get_CIFAR10_data
    raw = get_CIFAR10_data(num_training=49000, num_validation=0, num_test=0,
                           cifar10_dir=cifar_dir, subtract_mean=False)["X_train"]
    return raw.mean(axis=0, dtype=np.float64).astype(np.float32)
