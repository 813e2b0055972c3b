"""The course's held-out file and the Gradescope zip: in it only when built with
--include-heldout (then Gradescope grades on it); otherwise the zip's spec names no file, nor
the instructor's path, and Gradescope grades on the public test batch, saying so."""
import json
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import pytest

from autograder.results import schema as gradescope
from tests.autograder.grade import helpers
from tests.autograder.gradescope.test_gradescope import gradescope_root, run_autograder
from tests.hostile import corpus, support

SECRET = "private-images/course-heldout.npz"


def _build(folder, *flags):
    return subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out",
                           str(folder / "autograder.zip"), "--spec", str(folder / "grading.toml"),
                           "--items", corpus.ACCURACY] + list(flags), capture_output=True,
                          text=True, cwd=str(support.REPO_ROOT), timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory, fixture_model, cifar10_dir):
    """A spec naming a held-out file whose labels are the fixture model's own predictions."""
    from cs231n.model_io import load_model
    from autograder.checks.loading import load_nndl
    folder = tmp_path_factory.mktemp("course")
    spec = support.class_spec(folder / "grading.toml")
    text = open(spec).read().replace('missing_model = "zero"',
                                     'missing_model = "zero"\nheldout_file = "%s"' % SECRET, 1)
    (folder / "grading.toml").write_text(text)
    images = helpers.heldout_images(150)
    model = load_model(str(fixture_model), load_nndl(helpers.SOLUTIONS_NNDL)["cnn"]
                       .ThreeLayerConvNet)
    X = helpers.preprocessed(images, cifar10_dir)
    (folder / "private-images").mkdir()
    helpers.write_heldout(folder / SECRET, images, np.argmax(model.loss(X), axis=1))
    return folder


def test_the_zip_holds_the_file_only_when_asked_and_never_the_instructors_path(course, tmp_path):
    left_out = _build(course)
    assert left_out.returncode == 0, left_out.stderr
    assert "not in this zip" in left_out.stdout and "--include-heldout" in left_out.stdout
    with zipfile.ZipFile(course / "autograder.zip") as z:
        names = z.namelist()
        spec_text = z.read("grading.toml").decode()
        readme = z.read("README.txt").decode()
        z.extractall(tmp_path / "out")
    assert not any(name.endswith(".npz") for name in names)
    assert "heldout_file =" not in spec_text and "private-images" not in spec_text
    assert "not in this zip" in readme
    from autograder.spec import load_spec
    assert "heldout_file" not in load_spec(tmp_path / "out" / "grading.toml").item(
        corpus.ACCURACY).extras
    sdist = [n for n in names if n.startswith("dist/")][0]
    with tarfile.open(tmp_path / "out" / sdist) as tar:
        assert not any(m.endswith(".npz") and "heldout" in m for m in tar.getnames())


def test_a_zip_built_with_include_heldout_grades_on_the_file(course, tmp_path, fixture_model,
                                                             cifar10_dir):
    built = _build(course, "--include-heldout")
    assert built.returncode == 0, built.stderr
    assert "is in this zip" in built.stdout
    with zipfile.ZipFile(course / "autograder.zip") as z:
        assert z.read("heldout.npz") == (course / SECRET).read_bytes()
        spec_text = z.read("grading.toml").decode()
    assert 'heldout_file = "heldout.npz"' in spec_text and "private-images" not in spec_text
    root = gradescope_root(tmp_path, course / "autograder.zip")
    helpers.reference_submission(root / "submission", model=fixture_model)
    proc = run_autograder(root, cifar10_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert gradescope.validate(results) == [] and not results["extra_data"]["grader_error"]
    accuracy = results["extra_data"]["accuracy"]
    assert accuracy["heldout_source"] == "the course's held-out file"
    assert accuracy["heldout"] == 1.0   # the file's labels are the model's own predictions


def test_include_heldout_without_a_file_in_the_spec_is_refused(tmp_path):
    support.class_spec(tmp_path / "grading.toml")
    refused = _build(tmp_path, "--include-heldout")
    assert refused.returncode == 2 and "names no heldout_file" in refused.stderr
    assert not (tmp_path / "autograder.zip").exists()
