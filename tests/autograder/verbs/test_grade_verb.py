"""`python -m autograder grade` as a command."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from tests.autograder.grade import helpers


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "grade"] + list(args),
                          capture_output=True, text=True, cwd=str(helpers.REPO_ROOT), timeout=300)


def test_grades_a_zip_and_prints_a_summary(tmp_path):
    folder = helpers.reference_submission(tmp_path / "alice")
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in folder.rglob("*"):
            if path.is_file():
                z.write(path, "alice/" + str(path.relative_to(folder)))
    out = tmp_path / "out"
    proc = run_cli(str(archive), "--out", str(out), "--items", "conv_layers.max_pool_*",
                   "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("alice.zip: 16 / 16")
    data = json.loads((out / "results.json").read_text())
    assert data["extra_data"]["seed"] == 5 and data["score"] == 16


def test_visible_only_and_a_low_score_still_exit_zero(tmp_path):
    folder = helpers.reference_submission(tmp_path / "bob")
    (folder / "nndl" / "conv_layers.py").write_text("raise ImportError('nope')\n")
    out = tmp_path / "out"
    proc = run_cli(str(folder), "--out", str(out), "--visible-only", "--items", "conv_layers.*")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "results.json").read_text())
    assert data["score"] == 0
    assert all(t["visibility"] == "visible" for t in data["tests"])
    assert "ImportError: nope" in data["tests"][0]["output"]


def test_usage_errors(tmp_path):
    proc = run_cli(str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_cifar_dir_that_is_not_there_is_a_usage_error_before_grading(tmp_path):
    folder = helpers.reference_submission(tmp_path / "dora")
    out = tmp_path / "out"
    proc = run_cli(str(folder), "--out", str(out), "--cifar-dir", str(tmp_path / "nowhere"),
                   "--items", "cnn.ThreeLayerConvNet.accuracy")
    assert proc.returncode == 2
    assert "--cifar-dir %s is not a folder" % (tmp_path / "nowhere") in proc.stderr
    assert not out.exists()
    (tmp_path / "empty").mkdir()
    proc = run_cli(str(folder), "--out", str(out), "--cifar-dir", str(tmp_path / "empty"))
    assert proc.returncode == 2 and "lacks CIFAR-10's data_batch_1" in proc.stderr


def test_missing_cifar10_is_found_first_with_the_loaders_whole_message(tmp_path, monkeypatch):
    from autograder.verbs import grade as cli
    from autograder.grade.pipeline import GradeOptions
    from cs231n import data_utils
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setattr(data_utils, "DEFAULT_CIFAR10_DIR", tmp_path / "no-data")
    problem = cli.data_problem(GradeOptions())
    assert problem.startswith("cnn.ThreeLayerConvNet.accuracy needs CIFAR-10")
    # every folder tried, and the fix, not only the first line
    assert str(tmp_path / "no-data") in problem and len(problem.splitlines()) > 2
    assert cli.data_problem(GradeOptions(items="conv_layers.*")) is None
    assert cli.data_problem(GradeOptions(), on_this_machine=False) is None


def test_an_items_pattern_that_matches_nothing_is_a_usage_error_naming_it(tmp_path):
    folder = helpers.reference_submission(tmp_path / "erin")
    out = tmp_path / "out"
    proc = run_cli(str(folder), "--out", str(out), "--items", "conv_layers.max_pool_*,conv_layer.*")
    assert proc.returncode == 2, proc.stderr
    assert "--items pattern 'conv_layer.*' matches no item; the items are:" in proc.stderr
    assert "  conv_layers.conv_forward_naive.forward\n" in proc.stderr   # the ids to choose from
    assert "max_pool_*'" not in proc.stderr   # the pattern that matches is not blamed
    assert not out.exists()


def test_a_cifar10_dir_that_is_set_but_unusable_is_never_passed_over(tmp_path, monkeypatch,
                                                                     cifar10_dir):
    """$CIFAR10_DIR names a folder without the data while the default folder has it: the grader
    stops there (exit 2) and says how to get the data, instead of grading with another copy."""
    from pathlib import Path
    from autograder.verbs import grade as cli
    from autograder.grade import data
    from autograder.grade.pipeline import GradeOptions
    from cs231n import data_utils
    cifar10_dir = str(cifar10_dir)
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(data_utils, "DEFAULT_CIFAR10_DIR", Path(cifar10_dir))
    monkeypatch.setattr(data, "DEFAULT_CIFAR10_DIR", Path(cifar10_dir), raising=False)
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "empty"))
    problem = cli.data_problem(GradeOptions(items="cnn.ThreeLayerConvNet.accuracy"))
    assert problem is not None
    assert "$CIFAR10_DIR %s lacks CIFAR-10's data_batch_1" % (tmp_path / "empty") in problem
    assert "get_datasets.sh" in problem and "does not fall back" in problem
    with pytest.raises(data_utils.CIFAR10NotFoundError):
        data.accuracy_splits(num_validation=10, num_heldout=10)
    monkeypatch.setenv("CIFAR10_DIR", cifar10_dir)
    assert cli.data_problem(GradeOptions(items="cnn.ThreeLayerConvNet.accuracy")) is None
    # as a command, with the kit's own default folder
    folder = helpers.reference_submission(tmp_path / "fred")
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                           str(tmp_path / "out"), "--items", "cnn.ThreeLayerConvNet.accuracy"],
                          capture_output=True, text=True, cwd=str(helpers.REPO_ROOT), timeout=300,
                          env=dict(os.environ, CIFAR10_DIR=str(tmp_path / "missing")))
    assert proc.returncode == 2, proc.stderr
    assert "$CIFAR10_DIR %s is not a folder" % (tmp_path / "missing") in proc.stderr
    script = Path(helpers.REPO_ROOT) / "assignment" / "cs231n" / "datasets" / "get_datasets.sh"
    assert "bash %s" % script in proc.stderr
    assert not (tmp_path / "out").exists()
