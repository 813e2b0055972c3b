"""The accuracy item credits what a model's weights do on images it could not have
memorised: the held-out images (from the public test batch) arrive moved by a secret
per-run transformation, so a table of public images and their labels matches none.

The lookup-table model is checked in this process first, independently of the grader,
to score (almost) 100% on the images as published and chance on its own weights.
"""
import hashlib

import numpy as np
import pytest

from autograder.grade import data
from autograder.spec import load_spec
from tests.autograder.grade import helpers

ACCURACY_ID = "cnn.ThreeLayerConvNet.accuracy"
SEED = 4


def _digest(image):
    return hashlib.sha1(np.ascontiguousarray(image, dtype=np.float32).tobytes()).hexdigest()[:16]


def _published(cifar10_dir):
    """The loader's splits with the whole test batch (as a student sees them)."""
    from cs231n.data_utils import TEST_BATCH, get_CIFAR10_data, load_CIFAR_batch
    test_size = load_CIFAR_batch(cifar10_dir / TEST_BATCH)[1].size
    return get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=test_size,
                            cifar10_dir=str(cifar10_dir))


def _spec_transform():
    return data.HeldoutTransform.from_spec(load_spec().item(ACCURACY_ID).extras)


# ---- the transformation -------------------------------------------------------------------------

def test_the_transformation_moves_every_image_a_little():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (400, 3, 32, 32)).astype(np.float32)
    transform = data.HeldoutTransform(flip_probability=0.5, max_shift=2, noise_std=0.0)
    moved = data.transform_images(images, np.random.default_rng(1), transform)
    assert moved.shape == images.shape and moved.dtype == np.float32
    assert not any(np.array_equal(a, b) for a, b in zip(moved, images))
    # every image is one of its own flips and shifts: only 1 or 2 pixels of content move out
    for original, new in zip(images[:20], moved[:20]):
        candidates = [original, original[:, :, ::-1]]
        assert any(np.array_equal(new[:, 2:-2, 2:-2], c[:, 2 + dy:30 + dy, 2 + dx:30 + dx])
                   for c in candidates for dy in range(-2, 3) for dx in range(-2, 3))
    noisy = data.transform_images(images, np.random.default_rng(1), data.HeldoutTransform())
    assert noisy.min() >= 0 and noisy.max() <= 255 and np.all(noisy == np.rint(noisy))
    assert 1.0 < np.std(noisy - moved) < 3.0   # the spec's slight noise (2 levels), rounded
    again = data.transform_images(images, np.random.default_rng(1), data.HeldoutTransform())
    other = data.transform_images(images, np.random.default_rng(2), data.HeldoutTransform())
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)


def test_no_heldout_image_is_a_published_one(cifar10_dir):
    published = _published(cifar10_dir)
    splits = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=_spec_transform())
    public = {_digest(x) for x in published["X_test"]}
    assert not any(_digest(x) in public for x in splits["heldout"][0])
    # the validation split is the loader's, byte for byte (CNN.ipynb reports the same number)
    assert np.array_equal(splits["val"][0], published["X_val"])
    # as published, the same subset is found in the test batch (what a lookup table relies on)
    plain = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=data.IDENTITY)
    assert all(_digest(x) in public for x in plain["heldout"][0])
    assert sorted(plain["heldout"][1]) == sorted(splits["heldout"][1])


def test_a_small_trained_model_is_not_hurt_by_the_transformation(fixture_model, cifar10_dir):
    from cs231n.model_io import load_model
    from autograder.checks.loading import load_nndl
    model = load_model(str(fixture_model), load_nndl(helpers.SOLUTIONS_NNDL)["cnn"].ThreeLayerConvNet)

    def accuracy_on(X, y):
        return float(np.mean(np.argmax(model.loss(X), axis=1) == y))
    plain = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=data.IDENTITY)
    moved = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=_spec_transform())
    before, after = accuracy_on(*plain["heldout"]), accuracy_on(*moved["heldout"])
    assert before > 0.18                       # the fixture model learned something
    assert abs(after - before) <= 0.04, (before, after)


# ---- a lookup table of public images earns nothing -----------------------------------------------

LOOKUP_MODEL = '''
import hashlib as _hashlib

import numpy as _np

_TABLE_TEXT = "%s"
_TABLE = {_TABLE_TEXT[i:i + 16]: int(_TABLE_TEXT[i + 16]) for i in range(0, len(_TABLE_TEXT), 17)}
_Reference = ThreeLayerConvNet


class ThreeLayerConvNet(_Reference):
    """Chance-level weights; images found in the table of public images get their public label."""

    def loss(self, X, y=None):
        result = _Reference.loss(self, X, y)
        if y is not None:
            return result
        scores = _np.array(result, copy=True)
        for i in range(len(X)):
            key = _hashlib.sha1(_np.ascontiguousarray(X[i], dtype=_np.float32).tobytes()).hexdigest()[:16]
            if key in _TABLE:
                scores[i] = -1e3
                scores[i, _TABLE[key]] = 1e3
        return scores
'''


@pytest.fixture(scope="module")
def lookup_submission(tmp_path_factory, cifar10_dir):
    """The reference with a table of every published validation and test image -> its label,
    and an untrained (chance-level) model file."""
    from cs231n.model_io import save_model
    from autograder.checks.loading import load_nndl
    published = _published(cifar10_dir)
    table = "".join("%s%d" % (_digest(x), label) for split in ("val", "test")
                    for x, label in zip(published["X_" + split], published["y_" + split]))
    folder = helpers.reference_submission(tmp_path_factory.mktemp("lookup") / "lookup")
    helpers.replace_function(folder, "cnn", LOOKUP_MODEL % table)
    state = np.random.get_state()
    np.random.seed(0)
    try:
        untrained = load_nndl(helpers.SOLUTIONS_NNDL)["cnn"].ThreeLayerConvNet(
            num_filters=8, filter_size=3, hidden_dim=20, weight_scale=1e-3)
    finally:
        np.random.set_state(state)
    save_model(untrained, str(folder / "cnn_model.npz"))
    return folder


def test_the_lookup_model_knows_every_published_image_and_nothing_else(lookup_submission,
                                                                         cifar10_dir):
    from cs231n.model_io import load_model
    from autograder.checks.loading import load_nndl
    lookup = load_model(str(lookup_submission / "cnn_model.npz"),
                        load_nndl(lookup_submission / "nndl")["cnn"].ThreeLayerConvNet)
    weights_only = load_model(str(lookup_submission / "cnn_model.npz"),
                              load_nndl(helpers.SOLUTIONS_NNDL)["cnn"].ThreeLayerConvNet)
    plain = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=data.IDENTITY)
    for X, y in plain.values():
        assert np.mean(np.argmax(lookup.loss(X), axis=1) == y) == 1.0
        assert np.mean(np.argmax(weights_only.loss(X), axis=1) == y) < 0.2


def test_a_lookup_table_of_public_images_scores_zero(lookup_submission, tmp_path, cifar10_dir):
    from autograder.grade.pipeline import GradeOptions, grade
    spec = helpers.spec_with(tmp_path / "grading.toml")   # the kit's thresholds (65% / 40%)
    result = grade(lookup_submission, tmp_path / "out",
                   GradeOptions(seed=SEED, spec_path=str(spec), cifar_dir=str(cifar10_dir),
                                items=ACCURACY_ID))
    assert result.grader_error == "", result.grader_error
    (item,) = result.items
    scores = result.extra["accuracy"]
    assert scores["val"] == 1.0                  # its table knows the public validation images
    assert scores["heldout"] < 0.2, item.output  # and none of the moved held-out ones
    assert item.score == 0, item.output
    assert "much lower than on the validation split" in item.output


def _coarse_layout(X):
    """4x4-pixel means, averaged with their mirror image: barely moved by the transformation."""
    means = X.reshape(len(X), 3, 8, 4, 8, 4).mean(axis=(3, 5))
    return (means + means[:, :, :, ::-1]).reshape(len(X), -1)


@pytest.mark.xfail(strict=True, reason="known gap: the held-out images are public CIFAR-10 test "
                   "images, and a transformation mild enough for a CNN leaves them findable by a "
                   "near-duplicate search (97% on the real data set). Closing it needs images "
                   "outside the public data set, or the weights evaluated by trusted code")
def test_a_near_duplicate_search_of_public_images_finds_no_labels(cifar10_dir):
    published = _published(cifar10_dir)
    X, y = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=_spec_transform())["heldout"]
    public, found = _coarse_layout(published["X_test"]), _coarse_layout(X)
    distances = (found ** 2).sum(1)[:, None] - 2 * found @ public.T + (public ** 2).sum(1)[None]
    matched = published["y_test"][np.argmin(distances, axis=1)]
    assert np.mean(matched == y) < 0.2
