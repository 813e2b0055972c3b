"""The course's own held-out file (the accuracy item's heldout_file, issue 22.5): the layout is
validated, the held-out split comes from the file for trusted and student-code evaluation
alike, the file stays out of the sandbox, and a near-duplicate search of the public test
batch, which finds most labels of the transformed public split, scores at chance on it."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from autograder.grade import data, heldout
from autograder.spec import load_spec
from tests.autograder.grade import helpers
from tests.hostile import accuracy_attacks

ACCURACY_ID = "cnn.ThreeLayerConvNet.accuracy"
SEED = 4
SCALED = {"full_credit_at": 0.18, "zero_credit_at": 0.10}


def _spec(tmp_path, heldout_name="private/heldout.npz", **overrides):
    """The kit's spec (accuracy thresholds scaled to the small test models) naming the
    held-out file relative to itself."""
    fields = dict(SCALED, **overrides)
    if heldout_name:
        fields["heldout_file"] = heldout_name
    (tmp_path / "spec" / "private").mkdir(parents=True, exist_ok=True)
    return helpers.spec_with(tmp_path / "spec" / "grading.toml", {ACCURACY_ID: fields})


def _grade(submission, spec, out, cifar10_dir, **options):
    from autograder.grade.pipeline import GradeOptions, grade
    result = grade(submission, out, GradeOptions(
        seed=SEED, spec_path=str(spec), cifar_dir=str(cifar10_dir), items=ACCURACY_ID,
        **options))
    assert result.grader_error == "", result.grader_error
    (item,) = result.items
    return item, result.extra["accuracy"]


# ---- the layout ------------------------------------------------------------------------------

def test_a_file_in_the_layout_loads_read_only(tmp_path):
    images = helpers.heldout_images(120)
    path = helpers.write_heldout(tmp_path / "h.npz", images)
    loaded, labels = heldout.load_heldout_file(path)
    assert np.array_equal(loaded, images) and labels.dtype == np.int64
    assert list(labels[:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    with pytest.raises(ValueError):
        loaded[0, 0, 0, 0] = 1   # shared by every submission of a run: nobody writes into it


def _pickled(path):
    np.savez(path, images=np.array([{"a": 1}], dtype=object), labels=np.zeros(1, np.int64))


@pytest.mark.parametrize("write, words", [
    (lambda p: helpers.write_heldout(p, helpers.heldout_images(120).astype(np.float32)),
     "images are float32, not uint8"),
    (lambda p: helpers.write_heldout(p, helpers.heldout_images(120).transpose(0, 3, 1, 2)),
     "images have shape (120, 3, 32, 32), not (N, 32, 32, 3)"),
    (lambda p: helpers.write_heldout(p, helpers.heldout_images(120), np.arange(120) % 11),
     "labels range over 0..10, not 0..9"),
    (lambda p: helpers.write_heldout(p, helpers.heldout_images(120), np.zeros(119, np.int64)),
     "labels have shape (119,) for 120 images"),
    (lambda p: helpers.write_heldout(p, helpers.heldout_images(120), np.zeros(120) + 0.5),
     "labels are float64, not integers"),
    (lambda p: helpers.write_heldout(p, helpers.heldout_images(50)), "only 50 images"),
    (lambda p: np.savez(p, pictures=helpers.heldout_images(120)), "no images or labels array "
                                                                  "(it holds pictures)"),
    (_pickled, "without pickled objects"),
    (lambda p: open(p, "w").write("not an npz"), "not a readable .npz"),
    (lambda p: None, "cannot be read"),
])
def test_a_file_off_the_layout_is_refused_naming_it_and_what_is_wrong(tmp_path, write, words):
    path = tmp_path / "heldout.npz"
    write(path)
    with pytest.raises(heldout.HeldoutFileError) as caught:
        heldout.load_heldout_file(path)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_the_file_is_found_beside_the_spec_unless_the_option_names_another(tmp_path):
    spec = _spec(tmp_path)
    item = load_spec(spec).item(ACCURACY_ID)
    assert item.extras["heldout_file"] == "private/heldout.npz"
    assert heldout.heldout_path(item, spec) == str(tmp_path / "spec" / "private" / "heldout.npz")
    assert heldout.heldout_path(item, spec, tmp_path / "other.npz") == str(tmp_path / "other.npz")
    kit = load_spec().item(ACCURACY_ID)
    assert "heldout_file" not in kit.extras and heldout.heldout_path(kit, spec) is None


# ---- the held-out split ------------------------------------------------------------------------

def test_the_heldout_split_is_the_files_images_preprocessed_as_the_public_one(tmp_path,
                                                                             cifar10_dir):
    images = helpers.heldout_images(150)
    labels = np.random.default_rng(0).integers(0, 10, 150)
    path = helpers.write_heldout(tmp_path / "h.npz", images, labels)
    public = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_heldout=100)
    splits = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_heldout=100,
                                  heldout_file=str(path))
    X, y = splits["heldout"]
    assert X.shape == (100, 3, 32, 32) and X.dtype == np.float32 and y.shape == (100,)
    # each held-out image is one of the file's, untransformed, mean-subtracted like the
    # validation images; its label is the file's
    expected = helpers.preprocessed(images, cifar10_dir)
    index = [int(np.flatnonzero((expected == x).all(axis=(1, 2, 3)))[0]) for x in X]
    assert len(set(index)) == 100 and np.array_equal(y, labels[index])
    assert np.array_equal(splits["val"][0], public["val"][0])
    # a file smaller than heldout_images gives all its images, in a secret order of the seed
    every = data.accuracy_splits(str(cifar10_dir), seed=SEED, heldout_file=str(path))["heldout"]
    other = data.accuracy_splits(str(cifar10_dir), seed=SEED + 1, heldout_file=str(path))
    assert len(every[1]) == 150 and not np.array_equal(every[0], other["heldout"][0])
    assert sorted(map(tuple, every[0].reshape(150, -1)[:, :8])) == \
        sorted(map(tuple, other["heldout"][0].reshape(150, -1)[:, :8]))


# ---- graded: trusted and student-code evaluation alike -------------------------------------------

@pytest.mark.parametrize("architecture", ["reference", "own"])
def test_the_accuracy_item_is_graded_on_the_files_images(tmp_path, cifar10_dir, fixture_model,
                                                         architecture):
    """The file's labels are the submitted model's own predictions of its images, so held-out
    accuracy is 100% exactly when the grader classifies those images (public ones: ~25%)."""
    from cs231n.model_io import load_model
    from autograder.checks.loading import load_nndl
    if architecture == "reference":   # the trained fixture model: trusted evaluation
        submission = helpers.reference_submission(tmp_path / "sub", model=fixture_model)
    else:   # one parameter more: the reference cannot rebuild it, its own code classifies
        submission = accuracy_attacks.submission(tmp_path / "sub", cifar10_dir, search=False,
                                                 lookup=False, extra=True)
    model = load_model(str(submission / "cnn_model.npz"),
                       load_nndl(submission / "nndl")["cnn"].ThreeLayerConvNet)
    images = helpers.heldout_images(200)
    own = np.argmax(model.loss(helpers.preprocessed(images, cifar10_dir)), axis=1)
    spec = _spec(tmp_path)
    helpers.write_heldout(tmp_path / "spec" / "private" / "heldout.npz", images, own)
    item, scores = _grade(submission, spec, tmp_path / "out", cifar10_dir)
    assert scores["heldout"] == 1.0, item.output
    assert scores["heldout_source"] == "the course's held-out file"
    assert scores["heldout_evaluation"] == ("trusted" if architecture == "reference"
                                            else "student-code")
    # --heldout-file names another file: that one is used
    other = helpers.write_heldout(tmp_path / "other.npz", images, (own + 1) % 10)
    _, scores = _grade(submission, spec, tmp_path / "again", cifar10_dir,
                       heldout_file=str(other))
    assert scores["heldout"] == 0.0


def test_without_a_file_the_public_test_batch_is_used_and_said(tmp_path, cifar10_dir,
                                                               fixture_model):
    submission = helpers.reference_submission(tmp_path / "sub", model=fixture_model)
    item, scores = _grade(submission, _spec(tmp_path, heldout_name=None), tmp_path / "out",
                          cifar10_dir)
    assert scores["heldout_source"] == "the public test batch, transformed"
    assert scores["heldout"] < 0.6, item.output


def test_a_missing_file_is_a_grader_problem_not_the_students(tmp_path, cifar10_dir,
                                                             fixture_model):
    from autograder.grade.pipeline import GradeOptions, grade
    submission = helpers.reference_submission(tmp_path / "sub", model=fixture_model)
    result = grade(submission, tmp_path / "out", GradeOptions(
        seed=SEED, spec_path=str(_spec(tmp_path)), cifar_dir=str(cifar10_dir), items=ACCURACY_ID))
    assert "private/heldout.npz: cannot be read" in result.grader_error
    assert "grader problem (not your fault)" in result.items[0].output


def test_the_file_is_hidden_from_every_sandbox(tmp_path):
    from autograder.grade.pipeline import GradeOptions, Grader
    spec = _spec(tmp_path)
    with Grader(GradeOptions(spec_path=str(spec), items=ACCURACY_ID)) as grader:
        assert str(tmp_path / "spec" / "private" / "heldout.npz") in grader.hidden_dirs(tmp_path)
    with Grader(GradeOptions(spec_path=str(spec), items=ACCURACY_ID,
                             heldout_file=str(tmp_path / "x.npz"))) as grader:
        assert str(tmp_path / "x.npz") in grader.hidden_dirs(tmp_path)


def test_the_grade_command_refuses_a_broken_file_before_grading(tmp_path):
    spec = _spec(tmp_path)
    helpers.write_heldout(tmp_path / "spec" / "private" / "heldout.npz",
                          helpers.heldout_images(40))
    (tmp_path / "sub").mkdir()
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "sub"),
                           "--out", str(tmp_path / "out"), "--spec", str(spec)],
                          capture_output=True, text=True, cwd=str(helpers.REPO_ROOT), timeout=120)
    assert proc.returncode == 2
    assert "only 40 images" in proc.stderr and "heldout.npz" in proc.stderr


# ---- the near-duplicate search ------------------------------------------------------------

def test_a_near_duplicate_search_scores_at_chance_on_the_file(tmp_path, cifar10_dir):
    """The search plus a table of the validation images in a model the reference cannot
    rebuild: its own code classifies the held-out images. On the transformed public split it
    finds their labels (test_accuracy_integrity.py); on the course's file it finds nothing."""
    from cs231n.model_io import load_model
    from autograder.checks.loading import load_nndl
    folder = accuracy_attacks.submission(tmp_path / "nd", cifar10_dir, search=True, lookup=True,
                                         extra=True)
    spec = _spec(tmp_path, full_credit_at=0.65, zero_credit_at=0.40)   # the kit's thresholds
    path = helpers.write_heldout(tmp_path / "spec" / "private" / "heldout.npz",
                                 helpers.heldout_images(300))
    # without the grader: the search's answers on the file and on the public split
    model = load_model(str(folder / "cnn_model.npz"), load_nndl(folder / "nndl")["cnn"]
                       .ThreeLayerConvNet)
    transform = data.HeldoutTransform.from_spec(load_spec().item(ACCURACY_ID).extras)
    for name, path_or_none, check in (("public", None, lambda a: a > 0.6),
                                      ("file", str(path), lambda a: a < 0.2)):
        X, y = data.accuracy_splits(str(cifar10_dir), seed=SEED, transform=transform,
                                    heldout_file=path_or_none)["heldout"]
        found = float(np.mean(np.argmax(model.loss(X), axis=1) == y))
        assert check(found), (name, found)
    item, scores = _grade(folder, spec, tmp_path / "out", cifar10_dir)
    assert scores["heldout_evaluation"] == "student-code" and scores["val"] == 1.0
    assert scores["heldout"] < 0.2, item.output
    assert scores["credited"] < 0.3 and item.score == 0, item.output
    # the check command measures the same search in the instructor's file
    from autograder.verbs.heldout import public_test_images
    images, labels = heldout.load_heldout_file(path)
    found = heldout.near_duplicates(images, labels, *public_test_images(str(cifar10_dir)))
    assert found["copies"] == 0 and found["search_accuracy"] < 0.2


def test_the_check_command_reports_count_classes_and_the_search(tmp_path, cifar10_dir):
    from autograder.verbs.heldout import public_test_images
    public, public_labels = public_test_images(str(cifar10_dir))
    # 150 of the course's images and 50 copies of public test images (flipped, for some)
    images = np.concatenate([helpers.heldout_images(150), public[:25], public[25:50, :, ::-1]])
    labels = np.concatenate([np.arange(150) % 10, public_labels[:50]])
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", labels)
    out = tmp_path / "heldout.npz"
    proc = subprocess.run([sys.executable, "-m", "autograder", "heldout", "make",
                           str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "--out", str(out),
                           ], capture_output=True, text=True, cwd=str(helpers.REPO_ROOT),
                          timeout=300, env=dict(os.environ, CIFAR10_DIR=str(cifar10_dir)))
    assert proc.returncode == 0, proc.stderr
    assert "%s: 200 images in the held-out layout" % out in proc.stdout
    assert "images per class: airplane " in proc.stdout
    assert "50 copies of them" in proc.stdout and "remove them" in proc.stdout
    assert (out.stat().st_mode & 0o077) == 0 and "every user can read" not in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "autograder", "heldout", "check",
                          str(tmp_path / "x.npy")], capture_output=True, text=True,
                         cwd=str(helpers.REPO_ROOT), timeout=120)
    assert bad.returncode == 2, bad.stderr
    assert "held-out file %s: a single array" % (tmp_path / "x.npy") in bad.stderr


# ---- a Dask class run ---------------------------------------------------------------------

def test_a_dask_run_sends_the_file_to_its_workers(tmp_path, cifar10_dir, fixture_model):
    """The spec names the file relative to itself; the workers get the spec's text only, so the
    command sends them the file, and they grade on it (the model's own labels: 100%)."""
    from cs231n.model_io import load_model
    from autograder.checks.loading import load_nndl
    from tests.hostile import support
    distributed = pytest.importorskip("distributed")
    classroom = tmp_path / "class"
    helpers.reference_submission(classroom / "student_00", model=fixture_model)
    helpers.reference_submission(classroom / "student_01", model=fixture_model)
    model = load_model(str(fixture_model), load_nndl(helpers.SOLUTIONS_NNDL)["cnn"]
                       .ThreeLayerConvNet)
    images = helpers.heldout_images(120)
    spec = _spec(tmp_path)
    helpers.write_heldout(tmp_path / "spec" / "private" / "heldout.npz", images,
                          np.argmax(model.loss(helpers.preprocessed(images, cifar10_dir)), axis=1))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        proc = support.grade_command(classroom, "--out", tmp_path / "grades", "--spec", spec,
                                     "--items", ACCURACY_ID, "--seed", "5", "--cifar-dir",
                                     cifar10_dir, "--dask-scheduler", cluster.scheduler_address,
                                     timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for sid in ("student_00", "student_01"):
        results = json.loads((tmp_path / "grades" / sid / "results.json").read_text())
        assert not results["extra_data"]["grader_error"], results["extra_data"]["grader_error"]
        accuracy = results["extra_data"]["accuracy"]
        assert accuracy["heldout_source"] == "the course's held-out file"
        assert accuracy["heldout"] == 1.0


def test_a_class_run_resumes_only_on_the_same_file(tmp_path):
    """A changed held-out file is a different run (resuming would mix two held-out sets);
    without one the run's record is what it was before held-out files existed."""
    from autograder.batch import state
    from autograder.batch.run import selection_of
    from autograder.grade.pipeline import GradeOptions
    spec = _spec(tmp_path)
    path = helpers.write_heldout(tmp_path / "spec" / "private" / "heldout.npz",
                                 helpers.heldout_images(120))
    options = GradeOptions(spec_path=str(spec))
    first = selection_of(options)
    assert len(first["heldout_sha256"]) == 1
    state.settle_batch(tmp_path / "grades", str(spec), first)
    helpers.write_heldout(path, helpers.heldout_images(120, seed=12))
    with pytest.raises(state.StateError, match="other items or options"):
        state.settle_batch(tmp_path / "grades", str(spec), selection_of(options))
    plain = GradeOptions(spec_path=str(_spec(tmp_path / "plain", heldout_name=None)))
    assert selection_of(plain) == {"items": None, "visible_only": False, "retrain": False}
