"""The accuracy item credits what a model's weights do on images it could not have
memorised: the held-out images (from the public test batch) arrive moved by a secret
per-run transformation, so a table of public images and their labels matches none; and
when the saved weights fit the reference ThreeLayerConvNet, the reference classifies the
held-out images (trusted evaluation) and the student's code never sees them, so a
near-duplicate search of the public test batch (which the transformation does not stop)
finds nothing to search. A model the reference cannot check is marked for review (its own
code classifies the moved images, and a search finds their labels: the limitation the
course's own held-out file closes, test_heldout_file.py).

Every attack (tests/hostile/accuracy_attacks.py) is checked in this process first,
independently of the grader, to do what it claims; so is the equivalent student style.
"""
import hashlib

import numpy as np
import pytest

from autograder.grade import data
from autograder.spec import load_spec
from tests.autograder.grade import helpers
from tests.hostile import accuracy_attacks

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
    # its weights' predictions disagree with its table: the moved held-out images went to its
    # own code, and the result is marked for review
    assert scores["heldout_evaluation"] == "student-code" and scores["needs_review"] is True


# ---- trusted evaluation: the reference classifies the held-out images ------------------------------

def _reference_class():
    from autograder.checks.loading import load_nndl
    return load_nndl(helpers.SOLUTIONS_NNDL)["cnn"].ThreeLayerConvNet


def _reference_modules():
    from autograder.checks.loading import load_nndl
    return load_nndl(helpers.SOLUTIONS_NNDL)


def _bytes(path):
    return np.frombuffer(open(path, "rb").read(), dtype=np.uint8)


def test_trusted_predictions_are_the_reference_models_own(fixture_model, cifar10_dir):
    from cs231n.model_io import load_model
    from autograder.checks import trusted_model
    splits = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_validation=300,
                                  num_heldout=300, transform=_spec_transform())
    images = {name: X for name, (X, _) in splits.items()}
    out = trusted_model.predictions(_reference_modules(), _bytes(fixture_model), images)
    model = load_model(str(fixture_model), _reference_class())   # model_io's own rebuild
    for name, X in images.items():
        assert np.array_equal(out["pred." + name], np.argmax(model.loss(X), axis=1))


def _saved_variant(tmp_path, change):
    """The fixture-sized reference model (with batchnorm) saved, then changed by `change`
    (a function of the {entry: array} dict)."""
    from cs231n.model_io import save_model
    state = np.random.get_state()
    np.random.seed(3)
    try:
        model = _reference_class()(num_filters=4, filter_size=3, hidden_dim=6, weight_scale=0.1,
                                   use_batchnorm=True)
    finally:
        np.random.set_state(state)
    model.loss(np.random.default_rng(0).normal(size=(4, 3, 32, 32)), np.arange(4))  # bn stats
    path = tmp_path / ("model-%d.npz" % len(list(tmp_path.glob("model-*.npz"))))
    save_model(model, str(path))
    with np.load(path) as saved:
        entries = {k: saved[k] for k in saved.files}
    change(entries)
    np.savez(path, **entries)
    return path


def _drop(*keys):
    return lambda entries: [entries.pop(k) for k in keys]


@pytest.mark.parametrize("change, words", [
    (lambda e: None, None),
    (lambda e: e.update({"param:W4": np.zeros((6, 10))}), "extra: W4"),
    (_drop("param:b3"), "missing: b3"),
    (lambda e: e.update({"param:W2": np.zeros((4 * 16 * 16 + 1, 6), np.float32)}), "W2 has shape"),
    (_drop("bn:1:running_mean", "bn:1:running_var"), "running mean and variance of 1 batchnorm"),
    (lambda e: e.update({"param:W1": np.array([{"a": 1}], dtype=object)}), "cannot read"),
    (lambda e: e.update({"format_version": np.array(7)}), "not written by"),
])
def test_the_trusted_rebuild_takes_the_reference_shape_only(tmp_path, change, words):
    from autograder.checks import trusted_model
    path = _saved_variant(tmp_path, change)
    out = trusted_model.predictions(_reference_modules(), _bytes(path),
                                    {"val": np.zeros((3, 3, 32, 32), np.float32)})
    if words is None:
        assert out["pred.val"].shape == (3,)
    else:
        assert words in out.get("problem", ""), out


def test_the_trusted_rebuild_reads_no_file_past_its_size_cap(tmp_path, monkeypatch):
    from autograder.checks import trusted_model
    path = _saved_variant(tmp_path, lambda e: None)
    monkeypatch.setattr(trusted_model, "MAX_UNPACKED_BYTES", 1000)
    out = trusted_model.predictions(_reference_modules(), _bytes(path),
                                    {"val": np.zeros((3, 3, 32, 32), np.float32)})
    assert "over the 0 MB the reference reads" in out["problem"]


def test_bn_statistics_saved_in_another_layer_order_are_matched_by_shape(tmp_path):
    """A student whose bn_params dict lists the affine layer first: same predictions."""
    from autograder.checks import trusted_model
    from cs231n.model_io import load_model
    path = _saved_variant(tmp_path, lambda e: None)
    X = np.random.default_rng(1).normal(size=(5, 3, 32, 32)).astype(np.float32)
    expected = np.argmax(load_model(str(path), _reference_class()).loss(X), axis=1)
    assert len(set(expected)) > 1   # the statistics matter to these predictions
    swapped = _saved_variant(tmp_path, lambda e: e.update({
        "bn:0:running_mean": e["bn:1:running_mean"], "bn:0:running_var": e["bn:1:running_var"],
        "bn:1:running_mean": e["bn:0:running_mean"], "bn:1:running_var": e["bn:0:running_var"]}))
    out = trusted_model.predictions(_reference_modules(), _bytes(swapped), {"val": X})
    assert np.array_equal(out["pred.val"], expected)


def _grade(submission, tmp_path, cifar10_dir, scaled=False):
    """The accuracy item graded with the kit's thresholds (65% / 40%), or scaled to the small
    trained models of these tests (18% / 10%)."""
    from autograder.grade.pipeline import GradeOptions, grade
    spec = helpers.spec_with(tmp_path / "grading.toml", {ACCURACY_ID: SCALED} if scaled else {})
    result = grade(submission, tmp_path / "out",
                   GradeOptions(seed=SEED, spec_path=str(spec), cifar_dir=str(cifar10_dir),
                                items=ACCURACY_ID))
    assert result.grader_error == "", result.grader_error
    (item,) = result.items
    return item, result.extra["accuracy"]


SCALED = {"full_credit_at": 0.18, "zero_credit_at": 0.10}


def test_the_reference_model_is_evaluated_by_trusted_code_at_full_credit(fixture_model,
                                                                         tmp_path, cifar10_dir):
    from cs231n.model_io import load_model
    submission = helpers.reference_submission(tmp_path / "reference", model=fixture_model)
    item, scores = _grade(submission, tmp_path, cifar10_dir, scaled=True)
    assert item.score == item.max_score == 20, item.output
    assert scores["heldout_evaluation"] == "trusted" and scores["needs_review"] is False
    assert scores["val_agreement"] == 1.0 and scores["review_reason"] == ""
    assert "classified by the course's reference ThreeLayerConvNet" in item.output
    assert "credited accuracy = min(validation, held-out + 10%)" in item.output
    # the numbers, computed here from the model and the labels without the grader
    model = load_model(str(fixture_model), _reference_class())
    splits = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=_spec_transform())
    (X_val, y_val), (X_out, y_out) = splits["val"], splits["heldout"]
    val_pred = np.argmax(model.loss(X_val), axis=1)
    heldout = float(np.mean(np.argmax(model.loss(X_out), axis=1) == y_out))
    assert scores["val"] == pytest.approx(float(np.mean(val_pred == y_val)))
    assert scores["heldout"] == pytest.approx(heldout)
    assert scores["credited"] == pytest.approx(min(scores["val"], heldout + 0.10))
    assert scores["class_names"] == ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                     "frog", "horse", "ship", "truck"]
    assert scores["per_class_val"] == pytest.approx(
        [float(np.mean(val_pred[y_val == c] == c)) for c in range(10)])


def _equivalent_style_submission(folder, cifar10_dir):
    """tests/fairness's classic template (bn_params a dict of dicts holding the mode only) in
    float64, holding the weights and statistics of a reference model trained with batchnorm."""
    from cs231n.data_utils import get_CIFAR10_data
    from cs231n.model_io import save_model
    from cs231n.solver import Solver
    from autograder.checks.loading import load_nndl
    from tests.fairness import styles
    folder = helpers.reference_submission(folder)
    helpers.replace_function(folder, "cnn", styles.CNN_CLASSIC_DICT)
    full = get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=0,
                            cifar10_dir=str(cifar10_dir))
    small = {"X_train": full["X_train"][:2000], "y_train": full["y_train"][:2000],
             "X_val": full["X_val"][:100], "y_val": full["y_val"][:100]}
    state = np.random.get_state()
    np.random.seed(1)
    try:
        trained = _reference_class()(num_filters=8, filter_size=3, hidden_dim=50,
                                     weight_scale=1e-2, use_batchnorm=True)
        Solver(trained, small, update_rule="adam", optim_config={"learning_rate": 1e-3},
               batch_size=50, num_epochs=1, verbose=False, seed=1,
               num_train_samples=100).train()
        student_class = load_nndl(folder / "nndl")["cnn"].ThreeLayerConvNet
        student = student_class(num_filters=8, filter_size=3, hidden_dim=50,
                                dtype=np.float64, use_batchnorm=True)
    finally:
        np.random.set_state(state)
    for name, value in trained.params.items():
        student.params[name] = value.astype(np.float64)
    for key, bn_param in zip(("bn_param1", "bn_param2"), trained.bn_params):
        student.bn_params[key] = {"mode": "test",
                                  "running_mean": bn_param["running_mean"].astype(np.float64),
                                  "running_var": bn_param["running_var"].astype(np.float64)}
    save_model(student, str(folder / "cnn_model.npz"))
    return folder, student, trained


def test_an_equivalent_student_style_gets_the_trusted_path_and_full_credit(tmp_path, cifar10_dir):
    folder, student, trained = _equivalent_style_submission(tmp_path / "dict_float64", cifar10_dir)
    X, y = data.accuracy_splits(str(cifar10_dir), seed=SEED)["val"]
    own = np.argmax(student.loss(X), axis=1)
    # checked here first: the student's float64 dict-style model is the trained one
    assert np.mean(own == np.argmax(trained.loss(X), axis=1)) >= 0.99
    assert np.mean(own == y) > SCALED["full_credit_at"] + 0.02
    with np.load(folder / "cnn_model.npz") as saved:
        assert saved["param:W1"].dtype == np.float64 and "bn:1:running_var" in saved.files
    item, scores = _grade(folder, tmp_path, cifar10_dir, scaled=True)
    assert scores["heldout_evaluation"] == "trusted", item.output
    assert scores["val_agreement"] >= 0.99 and not scores["needs_review"]
    assert item.score == 20, item.output


# ---- the near-duplicate search of the public test batch ----------------------------------------

@pytest.fixture(scope="module")
def near_duplicate_class(tmp_path_factory, cifar10_dir):
    """The attack's class (search of unknown images, table of validation images), loaded here."""
    from autograder.checks.loading import load_nndl
    folder = accuracy_attacks.submission(tmp_path_factory.mktemp("nd") / "nd", cifar10_dir,
                                         search=True, lookup=True)
    return load_nndl(folder / "nndl")["cnn"].ThreeLayerConvNet, folder


def test_the_near_duplicate_search_finds_the_moved_heldout_labels(near_duplicate_class,
                                                                  cifar10_dir):
    """Without the grader: the search recovers the labels of the transformed held-out images
    (97% on the real data set), its table knows the validation images, its weights nothing."""
    from cs231n.model_io import load_model
    attack_class, folder = near_duplicate_class
    model = load_model(str(folder / "cnn_model.npz"), attack_class)
    weights = load_model(str(folder / "cnn_model.npz"), _reference_class())
    splits = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=_spec_transform())
    (X_val, y_val), (X, y) = splits["val"], splits["heldout"]
    found = float(np.mean(np.argmax(model.loss(X), axis=1) == y))
    print("near-duplicate search: %.1f%% of the moved held-out labels" % (100 * found))
    assert found > 0.6
    assert np.mean(np.argmax(model.loss(X_val), axis=1) == y_val) == 1.0
    assert np.mean(np.argmax(weights.loss(X), axis=1) == y) < 0.2


def test_a_near_duplicate_search_with_reference_shaped_weights_scores_zero(tmp_path, cifar10_dir):
    """Its own code answers the validation images truthfully (so the guard passes) and searches
    every other image: the held-out ones never reach it."""
    folder = accuracy_attacks.submission(tmp_path / "nd_reference_shape", cifar10_dir,
                                         search=True, lookup=False)
    item, scores = _grade(folder, tmp_path, cifar10_dir)
    assert scores["heldout_evaluation"] == "trusted" and scores["val_agreement"] == 1.0
    assert scores["heldout"] < 0.2 and item.score == 0, item.output


@pytest.mark.parametrize("extra", [False, True], ids=["validation_lookup", "own_architecture"])
def test_a_near_duplicate_search_the_reference_cannot_check_is_marked_for_review(
        tmp_path, cifar10_dir, extra):
    """The search plus a table of the validation images: with reference-shaped weights the guard
    sees the reference disagree; with one parameter more the reference cannot rebuild the
    model. Either way the student's code classifies the moved images (and finds their labels),
    and the result is marked for the staff's review, saying why."""
    folder = accuracy_attacks.submission(tmp_path / "nd", cifar10_dir, search=True, lookup=True,
                                         extra=extra)
    item, scores = _grade(folder, tmp_path, cifar10_dir)
    assert scores["heldout_evaluation"] == "student-code" and scores["needs_review"] is True
    assert scores["val"] == 1.0 and scores["heldout"] > 0.6
    reason = ("cannot evaluate your saved weights: its parameters are not the reference's "
              "(extra: temperature)" if extra else "on only")
    assert reason in scores["review_reason"], scores["review_reason"]
    assert "the course staff will review this result" in item.output
    assert reason in item.output
