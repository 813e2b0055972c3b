"""collect_submission.py as released: refuses an incomplete homework (naming
what is missing) and writes a reproducible zip of exactly the required files."""
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder.release.build import collect_submission_source

REPO_ROOT = Path(__file__).resolve().parents[3]
NNDL = sorted(p.name for p in (REPO_ROOT / "solutions" / "nndl").glob("*.py"))
NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")


@pytest.fixture
def homework(tmp_path):
    """A complete homework folder with the rendered script."""
    folder = tmp_path / "cnn"
    shutil.copytree(REPO_ROOT / "solutions" / "nndl", folder / "nndl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in NOTEBOOKS:
        shutil.copyfile(REPO_ROOT / "release" / name, folder / name)
    np.savez(folder / "cnn_model.npz", w=np.zeros(3))
    (folder / "notes.txt").write_text("not handed in")
    (folder / "collect_submission.py").write_text(collect_submission_source(NNDL))
    return folder


def collect(folder, *args):
    return subprocess.run([sys.executable, "collect_submission.py", *args], cwd=folder,
                          capture_output=True, text=True)


def test_rendered_script_lists_every_nndl_file():
    source = collect_submission_source(NNDL)
    assert "NNDL_FILES = %r" % (tuple(NNDL),) in source
    assert "NNDL_FILES = None" not in source


def test_complete_homework_gives_a_zip_of_exactly_the_required_files(homework):
    result = collect(homework)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(homework / "cnn_submission.zip") as archive:
        names = archive.namelist()
        assert json.loads(archive.read("CNN.ipynb"))["nbformat"] == 4
        assert archive.read("nndl/conv_layers.py") == (homework / "nndl" / "conv_layers.py").read_bytes()
    assert names == sorted(list(NOTEBOOKS) + ["nndl/" + n for n in NNDL] + ["cnn_model.npz"])


def test_zip_is_reproducible(homework):
    assert collect(homework, "--out", "one.zip").returncode == 0
    (homework / "CNN.ipynb").touch()
    assert collect(homework, "--out", "two.zip").returncode == 0
    assert (homework / "one.zip").read_bytes() == (homework / "two.zip").read_bytes()


@pytest.mark.parametrize("missing", ["cnn_model.npz", "CNN-BatchNorm.ipynb", "nndl/optim.py"])
def test_missing_file_is_named_and_no_zip_is_written(homework, missing):
    (homework / missing).unlink()
    result = collect(homework)
    assert result.returncode == 1
    assert "missing: %s" % missing in result.stderr
    assert not (homework / "cnn_submission.zip").exists()


def test_broken_notebook_and_source_are_reported(homework):
    (homework / "CNN.ipynb").write_text("{not json")
    (homework / "nndl" / "cnn.py").write_text("def broken(:\n")
    result = collect(homework)
    assert result.returncode == 1
    assert "CNN.ipynb is not a valid notebook" in result.stderr
    assert "nndl/cnn.py does not compile" in result.stderr


def test_unfinished_stubs_are_a_warning_not_an_error(homework):
    shutil.copyfile(REPO_ROOT / "release" / "nndl" / "optim.py", homework / "nndl" / "optim.py")
    result = collect(homework)
    assert result.returncode == 0
    assert "warning: nndl/optim.py still has unimplemented parts" in result.stderr
