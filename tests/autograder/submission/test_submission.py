"""Staging a submission: the wanted files only, safely, from a folder or a zip."""
import io
import json
import os
import stat
import zipfile

import nbformat
import pytest

from autograder.submission import layout, locate
from autograder.submission.unpack import SubmissionError, stage

SOURCE = "def f():\n    return 1\n"


def notebook_text():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("print(1)"))
    return nbformat.writes(nb)


def full_tree(root):
    (root / "nndl").mkdir(parents=True)
    for module in layout.EXPECTED_MODULES:
        (root / "nndl" / (module + ".py")).write_text(SOURCE)
    for name in layout.NOTEBOOKS:
        (root / name).write_text(notebook_text())
    (root / layout.MODEL_FILE).write_bytes(b"PK-not-really")
    return root


def zip_of(path, entries):
    """entries: list of (name, bytes) or (ZipInfo, bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def test_folder_submission_is_complete(tmp_path):
    submission = locate(full_tree(tmp_path / "s"), tmp_path / "staged")
    assert submission.problems() == []
    assert set(submission.modules) == set(layout.EXPECTED_MODULES)
    assert submission.model_path.endswith(layout.MODEL_FILE)


def test_everything_else_is_ignored_including_a_shipped_cs231n(tmp_path):
    root = full_tree(tmp_path / "s")
    (root / "cs231n").mkdir()
    (root / "cs231n" / "gradient_check.py").write_text("raise SystemExit")
    (root / "notes.txt").write_text("hello")
    (root / "nndl" / "helper_data.txt").write_text("x")
    locate(root, tmp_path / "staged")
    staged = sorted(str(p.relative_to(tmp_path / "staged")) for p in (tmp_path / "staged").rglob("*"))
    assert "cs231n" not in staged and "notes.txt" not in staged
    assert "nndl/helper_data.txt" not in staged


def test_zip_with_one_top_folder(tmp_path):
    root = full_tree(tmp_path / "s" / "my_homework")
    entries = [("my_homework/" + str(p.relative_to(root)), p.read_bytes())
               for p in root.rglob("*") if p.is_file()]
    submission = locate(zip_of(tmp_path / "s.zip", entries), tmp_path / "staged")
    assert submission.problems() == []


def test_missing_parts_are_named(tmp_path):
    root = tmp_path / "s"
    (root / "nndl").mkdir(parents=True)
    (root / "nndl" / "cnn.py").write_text(SOURCE)
    (root / "CNN.ipynb").write_text("{not json")
    submission = locate(root, tmp_path / "staged")
    problems = submission.problems()
    assert "notebook CNN-Layers.ipynb is missing" in problems
    assert any(p.startswith("notebook CNN.ipynb is not valid JSON") for p in problems)
    assert "nndl/conv_layers.py is missing" in problems
    assert "cnn_model.npz is missing" in problems
    assert os.path.exists(os.path.join(submission.nndl_dir, "__init__.py"))


def test_json_that_is_not_a_notebook(tmp_path):
    root = full_tree(tmp_path / "s")
    (root / "CNN.ipynb").write_text(json.dumps({"cells": "nope", "nbformat": 4}))
    problems = locate(root, tmp_path / "staged").problems()
    assert any(p.startswith("notebook CNN.ipynb is not a valid notebook") for p in problems)


def test_unsafe_zip_entries_are_ignored(tmp_path):
    link = zipfile.ZipInfo("nndl/layers.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    entries = [("../evil.py", b"x"), ("/abs/nndl/cnn.py", b"x"), ("nndl/../../up.py", b"x"),
               (link, b"/etc/passwd"), ("nndl/cnn.py", SOURCE.encode())]
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    staged_dir = tmp_path / "out" / "staged"
    submission = locate(path, staged_dir)
    assert submission.modules == ["cnn"]
    notes = "\n".join(submission.notes)
    for reason in ("'..' in the path", "absolute path", "symbolic link"):
        assert reason in notes
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "out" / "evil.py").exists()
    assert not os.path.islink(os.path.join(submission.nndl_dir, "layers.py"))


def test_zip_bomb_is_refused_without_writing_it(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("nndl/cnn.py", b"\0" * (50 * 1024 * 1024))
    submission = locate(path, tmp_path / "staged")
    assert "cnn" not in submission.modules
    assert any("compression ratio" in n for n in submission.notes)


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(layout, "MAX_SOURCE_BYTES", 1000)
    root = full_tree(tmp_path / "s")
    (root / "nndl" / "cnn.py").write_text("#" * 5000)
    submission = locate(root, tmp_path / "staged")
    assert "cnn" not in submission.modules
    assert any("refused nndl/cnn.py" in n for n in submission.notes)


def test_symlinks_in_a_folder_are_not_followed(tmp_path):
    root = full_tree(tmp_path / "s")
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 1\n")
    os.remove(root / "nndl" / "cnn.py")
    os.symlink(secret, root / "nndl" / "cnn.py")
    submission = locate(root, tmp_path / "staged")
    assert "cnn" not in submission.modules
    assert any("symbolic link nndl/cnn.py" in n for n in submission.notes)


def test_unreadable_inputs(tmp_path):
    (tmp_path / "empty.zip").write_bytes(zipfile.ZipFile(io.BytesIO(), "w").fp.getvalue()
                                         if False else b"PK\x05\x06" + b"\0" * 18)
    empty = locate(tmp_path / "empty.zip", tmp_path / "a")
    assert empty.modules == [] and "cnn_model.npz is missing" in empty.problems()
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    junk = locate(tmp_path / "junk.zip", tmp_path / "b")
    assert junk.error.startswith("cannot read the submission")
    with pytest.raises(SubmissionError):
        stage(tmp_path / "nothing-here", tmp_path / "c")


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_flat_upload_without_the_nndl_folder_is_graded_as_nndl(tmp_path, as_zip):
    # Gradescope's drag and drop: the notebooks, the model and the .py files side by side
    entries = [(module + ".py", SOURCE.encode()) for module in layout.EXPECTED_MODULES
               if module != "__init__"]
    entries += [(name, notebook_text().encode()) for name in layout.NOTEBOOKS]
    entries += [(layout.MODEL_FILE, b"PK-not-really"), ("helper.py", b"x = 1\n")]
    if as_zip:
        source = zip_of(tmp_path / "flat.zip", entries)
    else:
        source = tmp_path / "flat"
        source.mkdir()
        for name, data in entries:
            (source / name).write_bytes(data)
    submission = locate(source, tmp_path / "staged")
    assert submission.problems() == []
    assert set(submission.modules) == set(layout.EXPECTED_MODULES) - {"__init__"}
    assert (tmp_path / "staged" / "nndl" / "__init__.py").exists()
    assert (tmp_path / "staged" / "nndl" / "cnn.py").read_text() == SOURCE
    assert not (tmp_path / "staged" / "helper.py").exists()   # not a module of the package
    assert any("without their nndl/ folder" in note for note in submission.notes)


def test_an_nndl_folder_wins_over_stray_top_level_copies(tmp_path):
    root = full_tree(tmp_path / "s")
    (root / "cnn.py").write_text("raise SystemExit('the stray copy')\n")
    submission = locate(root, tmp_path / "staged")
    assert (tmp_path / "staged" / "nndl" / "cnn.py").read_text() == SOURCE
    assert not any("without their nndl/ folder" in note for note in submission.notes)


def test_a_zip_that_cannot_be_read_says_so_for_the_staff(tmp_path):
    """A corrupt zip is not a student's real zero: the submission says why it is unreadable
    (the grader flags it for review), whether the whole file or one wanted member is bad."""
    good = locate(zip_of(tmp_path / "good.zip", [("nndl/layers.py", SOURCE)]), tmp_path / "a")
    assert good.unreadable() == ""
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 the first bytes of a zip, then nothing")
    junk = locate(tmp_path / "junk.zip", tmp_path / "b")
    assert junk.unreadable().startswith("cannot read the submission")
    marker = b"x = 'a line of the student''s layers'\n"
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("nndl/layers.py", marker)
        archive.writestr("nndl/cnn.py", SOURCE)
    data = damaged.read_bytes()
    damaged.write_bytes(data.replace(marker, marker.upper()))   # its CRC no longer matches
    staged = locate(damaged, tmp_path / "c")
    assert "layers" not in staged.modules and "cnn" in staged.modules
    assert staged.unreadable().startswith("could not extract from the submitted zip: "
                                          "nndl/layers.py (")
