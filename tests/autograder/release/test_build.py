"""`python -m autograder release`: the committed release/ is what the pipeline
produces now (byte for byte), a second run changes nothing, and the release
holds everything a student needs and nothing of the grader."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder.release import build, manifest
from autograder.spec import load_spec

REPO_ROOT = Path(__file__).resolve().parents[3]
RELEASE = REPO_ROOT / "release"


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """A release regenerated from the sources by the CLI verb, in a temporary folder."""
    out = tmp_path_factory.mktemp("release") / "release"
    result = subprocess.run([sys.executable, "-m", "autograder", "release", "--out", str(out)],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def test_committed_release_is_up_to_date(fresh_release):
    committed, fresh = build.tree_files(RELEASE), build.tree_files(fresh_release)
    stale = sorted(set(committed) ^ set(fresh)) + [
        p for p in sorted(set(committed) & set(fresh))
        if not build.same_content(RELEASE / p, fresh_release / p)]
    assert stale == [], "release/ is stale: run `python -m autograder release` and commit"


def test_a_second_run_changes_no_byte(fresh_release):
    before = {p: (fresh_release / p).read_bytes() for p in build.tree_files(fresh_release)}
    assert build.build_release(fresh_release) == []
    assert {p: (fresh_release / p).read_bytes() for p in build.tree_files(fresh_release)} == before


def test_release_holds_what_a_student_needs(fresh_release):
    files = set(build.tree_files(fresh_release))
    for name in ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb", "README.md",
                 "setup.py", "pyproject.toml", "collect_submission.py", "collect_submission.sh",
                 "cs231n/im2col_cython.pyx", "cs231n/datasets/get_datasets.sh",
                 "autograder/spec/grading.toml", "autograder/data/visible_expected.npz"):
        assert name in files, name
    for path in sorted((REPO_ROOT / "solutions" / "nndl").glob("*.py")):
        assert "nndl/" + path.name in files
    for relpath in manifest.STUDENT_MODULES:
        assert (fresh_release / relpath).read_bytes() == (REPO_ROOT / relpath).read_bytes()


def test_release_holds_no_build_artefact_data_or_grader_module(fresh_release):
    files = build.tree_files(fresh_release)
    assert not [f for f in files if f.endswith((".so", ".c", ".pyc", ".tar.gz"))]
    assert not [f for f in files if "cifar-10-batches-py" in f]
    assert "cs231n/train_cifar.py" not in files  # holds the reference hyperparameters
    shipped = {f for f in files if f.startswith("autograder/") and f.endswith(".py")}
    assert shipped == set(manifest.STUDENT_MODULES)
    assert not [f for f in files if f.startswith(("solutions/", "autograder/sandbox",
                                                  "autograder/grade"))]


def test_student_spec_holds_the_visible_items_and_only_the_accuracy_rule(fresh_release):
    from autograder.spec import load_spec as load
    path = fresh_release / "autograder" / "spec" / "grading.toml"
    student = load(path, visible_only=True)
    assert student.settings.visible_only
    visible = [item.id for item in load_spec().items if item.visibility == "visible"]
    assert [item.id for item in student.items] == visible
    # hidden items stay out, but for the accuracy item's rule (the self-check prices the model)
    text = path.read_text()
    hidden = [item for item in load_spec().items if item.visibility == "hidden"]
    shipped = [item.id for item in hidden if item.id in text]
    assert shipped == [item.id for item in hidden if item.kind == "accuracy"]
    assert "heldout_flip" not in text and "heldout_noise" not in text


def test_visible_expected_is_plain_arrays_with_fixed_zip_metadata(fresh_release):
    path = fresh_release / "autograder" / "data" / "visible_expected.npz"
    with np.load(path, allow_pickle=False) as data:
        assert len(data.files) > 0
        for key in data.files:
            assert data[key].dtype != object
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {build.ZIP_DATE}


def test_shell_scripts_are_executable_and_nothing_else(fresh_release):
    for relpath in build.tree_files(fresh_release):
        mode = (fresh_release / relpath).stat().st_mode & 0o777
        assert mode == (0o755 if relpath.endswith(".sh") else 0o644), relpath


def test_the_cython_extension_builds_from_the_release_alone(fresh_release, tmp_path):
    """`python setup.py build_ext --inplace` in a copy of the release, then the
    fast layers use the compiled kernel (no numpy fallback)."""
    copy = tmp_path / "student"
    shutil.copytree(fresh_release, copy)
    result = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=copy,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    probe = ("import cs231n, cs231n.im2col_cython as k; "
             "assert cs231n.__file__.startswith(%r), cs231n.__file__; print(k.__file__)" % str(copy))
    result = subprocess.run([sys.executable, "-c", probe], cwd=copy, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(copy / "cs231n" / "im2col_cython"))


def test_sync_tree_deletes_what_is_no_longer_produced(tmp_path):
    staging, dest = tmp_path / "staging", tmp_path / "dest"
    (staging / "a").mkdir(parents=True)
    (staging / "a" / "keep.txt").write_text("new")
    (dest / "a").mkdir(parents=True)
    (dest / "a" / "keep.txt").write_text("old")
    (dest / "gone").mkdir()
    (dest / "gone" / "stale.txt").write_text("x")
    assert build.sync_tree(staging, dest) == ["a/keep.txt", "gone/stale.txt"]
    assert build.tree_files(dest) == ["a/keep.txt"]
    assert not (dest / "gone").exists()
    assert build.sync_tree(staging, dest) == []


def test_normalise_zip_makes_equal_content_equal_bytes(tmp_path):
    paths = []
    for i, order in enumerate((("b", "a"), ("a", "b"))):
        path = tmp_path / ("%d.npz" % i)
        with zipfile.ZipFile(path, "w") as archive:
            for name in order:
                info = zipfile.ZipInfo(name + ".npy", date_time=(2020 + i, 1, 2, 3, 4, 5))
                archive.writestr(info, name * 10)
        build.normalise_zip(path)
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_uncommitted_inputs_are_listed_and_a_non_checkout_gives_none(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "REPO_ROOT", tmp_path)
    assert build.uncommitted_inputs() == []  # not a git checkout
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "x.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not an input\n")
    assert build.uncommitted_inputs() == ["solutions/"]


def test_same_content_allows_last_bit_differences_only(tmp_path):
    """Another BLAS's rounding of an expected value is not a stale release; a real change is."""
    base = np.linspace(-1.0, 1.0, 50)
    paths = {}
    for name, values in (("a", base), ("ulp", base * (1 + 4e-16)), ("changed", base + 1e-9),
                         ("shape", base[:49])):
        paths[name] = tmp_path / (name + ".npz")
        np.savez(paths[name], x=values, n=np.arange(3))
    assert build.same_content(paths["a"], paths["ulp"])
    assert not build.same_content(paths["a"], paths["changed"])
    assert not build.same_content(paths["a"], paths["shape"])
    text_a, text_b = tmp_path / "a.txt", tmp_path / "b.txt"
    text_a.write_text("1.0000000000000002")
    text_b.write_text("1.0")
    assert not build.same_content(text_a, text_b)
