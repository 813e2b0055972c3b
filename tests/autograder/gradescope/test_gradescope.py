"""`python -m autograder gradescope`: the zip's contents, and run_autograder in a temporary
root laid out as on Gradescope (AUTOGRADER_ROOT stands for /autograder)."""
import json
import os
import stat
import subprocess
import sys
import tarfile
import zipfile

import pytest

from autograder.results import schema as gradescope
from tests.autograder.grade import helpers
from tests.hostile import corpus, support

ITEMS = ",".join((corpus.CONV, corpus.SOFTMAX, corpus.ACCURACY))


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradescope")
    spec = support.class_spec(folder / "grading.toml")
    out = folder / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out", str(out),
                           "--spec", spec, "--items", ITEMS], capture_output=True, text=True,
                          cwd=str(support.REPO_ROOT), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_zip_holds_what_gradescope_runs(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as z:
        names = z.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in z.infolist()}
        z.extractall(tmp_path)
    assert {"setup.sh", "run_autograder", "grading.toml", "gradescope.json"} <= set(names)
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR
        assert subprocess.run(["bash", "-n", str(tmp_path / script)]).returncode == 0
    assert "apt-get install" in (tmp_path / "setup.sh").read_text()
    assert "bubblewrap" in (tmp_path / "setup.sh").read_text()
    assert "solutions/nndl/conv_layers.py" in names
    sdists = [n for n in names if n.startswith("dist/") and n.endswith(".tar.gz")]
    assert len(sdists) == 1
    with tarfile.open(tmp_path / sdists[0]) as tar:
        members = tar.getnames()
    for needed in ("setup.py", "pyproject.toml", "autograder/gradescope/run_autograder.py",
                   "autograder/spec/grading.toml", "assignment/cs231n/im2col_cython.pyx",
                   "autograder/sandbox/worker.py"):
        assert any(m.endswith("/" + needed) for m in members), needed
    assert not any("solutions" in m or "/tests/" in m for m in members)
    assert json.loads((tmp_path / "gradescope.json").read_text()) == {"items": ITEMS}
    # the class spec keeps the kit's missing_model = "zero": the default timeout is enough
    assert 'missing_model = "zero"' in (tmp_path / "README.txt").read_text()


# ---- the timeout note follows the spec's missing_model -------------------------------------------

def test_missing_model_retrain_asks_to_raise_gradescopes_timeout(tmp_path):
    from autograder.gradescope.build import timeout_note
    spec = helpers.spec_with(tmp_path / "grading.toml", {corpus.ACCURACY: {
        "missing_model": "retrain", "retrain_time_limit": 1800.0, "time_limit": 600}})
    note = timeout_note(str(spec), items=corpus.ACCURACY)
    assert 'missing_model = "retrain", up to 1800 s' in note
    assert "raise the assignment's autograder timeout" in note
    assert "at least 40 minutes" in note            # 1800 s of training + 600 s of grading


def test_missing_model_zero_keeps_gradescopes_default_timeout(tmp_path):
    from autograder.gradescope.build import timeout_note
    note = timeout_note(None)
    assert note.startswith('A submission without cnn_model.npz gets 0 on the accuracy item '
                           '(missing_model = "zero")')
    assert "raise" not in note


def test_no_accuracy_item_no_timeout_note():
    from autograder.gradescope.build import timeout_note
    assert timeout_note(None, items=corpus.CONV) == ""


def test_building_prints_the_timeout_note(tmp_path, monkeypatch, capsys):
    import argparse
    from autograder import gradescope as command
    from autograder.gradescope import build
    spec = helpers.spec_with(tmp_path / "grading.toml", {corpus.ACCURACY: {
        "missing_model": "retrain"}})
    monkeypatch.setattr(build, "build_zip", lambda out, **kwargs: (
        open(out, "wb").close(), out)[1])
    args = argparse.Namespace(out=str(tmp_path / "autograder.zip"), spec=str(spec), items=None,
                              cifar_archive=None)
    assert command.run(args) == 0
    assert "raise the assignment's autograder timeout" in capsys.readouterr().out


def gradescope_root(base, autograder_zip):
    root = base / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    return root


def run_autograder(root, cifar10_dir):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable,
               CIFAR10_DIR=str(cifar10_dir))
    return subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, cwd="/", timeout=600)


def test_run_autograder_grades_the_submission(autograder_zip, tmp_path, fixture_model,
                                              cifar10_dir):
    root = gradescope_root(tmp_path, autograder_zip)
    helpers.reference_submission(root / "submission", model=fixture_model)
    proc = run_autograder(root, cifar10_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert gradescope.validate(data) == []
    assert {t["extra_data"]["item"] for t in data["tests"]} == set(ITEMS.split(","))
    assert data["score"] == data["max_score"] == 6 + 2 + 20
    assert not data["extra_data"]["grader_error"]
    assert isinstance(data["extra_data"]["seed"], int)
    # The one-screen summary reaches Gradescope's debugging pane (run_autograder's stdout).
    assert "%g" % data["score"] in proc.stdout and corpus.CONV in proc.stdout


def test_run_autograder_takes_an_uploaded_zip_and_reports_broken_code(autograder_zip, tmp_path,
                                                                      fixture_model, cifar10_dir):
    root = gradescope_root(tmp_path, autograder_zip)
    folder = helpers.reference_submission(tmp_path / "mine", model=fixture_model)
    (folder / "nndl" / "layers.py").write_text("def softmax_loss(x, y):\n    return 0.0, x\n")
    corpus.zip_folder(folder, root / "submission" / "submission.zip", top="mine")
    proc = run_autograder(root, cifar10_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert gradescope.validate(data) == []
    scores = {t["extra_data"]["item"]: t["score"] for t in data["tests"]}
    assert scores[corpus.SOFTMAX] == 0
    assert data["score"] < data["max_score"]


def test_run_autograder_takes_the_time_from_gradescopes_metadata_not_the_upload(
        autograder_zip, tmp_path, fixture_model, cifar10_dir):
    root = gradescope_root(tmp_path, autograder_zip)
    spec = root / "source" / "grading.toml"
    spec.write_text(spec.read_text().replace('deadline = ""',
                                             'deadline = "2026-12-11T23:59:00-08:00"', 1))
    upload = helpers.reference_submission(root / "submission", model=fixture_model)
    (upload / "submission_metadata.json").write_text(json.dumps(
        {"created_at": "2026-12-01T00:00:00Z", "users": [{"email": "x@uni.edu"}]}))
    (root / "submission_metadata.json").write_text(json.dumps(   # Gradescope's: 2 days late
        {"id": 77, "created_at": "2026-12-13T09:00:00Z", "users": [{"email": "m@uni.edu"}]}))
    proc = run_autograder(root, cifar10_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert gradescope.validate(data) == []
    assert data["extra_data"]["late"]["units"] == 2 and data["extra_data"]["raw_score"] == 28
    assert data["score"] == pytest.approx(28 * 0.8)
    assert "upload was ignored" in data["output"]


def test_a_grader_failure_still_writes_results(autograder_zip, tmp_path, cifar10_dir):
    root = gradescope_root(tmp_path, autograder_zip)
    (root / "source" / "grading.toml").write_text("this is [not toml")
    proc = run_autograder(root, cifar10_dir)
    assert proc.returncode == 0
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "contact the course staff" in data["output"]
    assert "Traceback" in data["extra_data"]["grader_error"]
    assert "The grader failed" in proc.stdout and "Traceback" in proc.stdout


REFUSING_PYTHON = """#!/bin/sh
# A stock system python3 (PEP 668): pip refuses to install outside a virtualenv.
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "error: externally-managed-environment" >&2
    exit 1
fi
exec "%s" "$@"
"""


@pytest.mark.slow
def test_setup_sh_installs_the_kit_in_its_own_virtualenv_and_grades(autograder_zip, tmp_path,
                                                                     fixture_model, cifar10_dir):
    """setup.sh with a python3 that refuses installs outside a virtualenv (apt skipped:
    bubblewrap is already here) makes the kit's own virtualenv; run_autograder then
    grades with that interpreter, the installed kit alone."""
    root = gradescope_root(tmp_path, autograder_zip)
    (root / "source" / "data").mkdir()
    (root / "source" / "data" / "cifar-10-batches-py").symlink_to(cifar10_dir)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(REFUSING_PYTHON % sys.executable)
    (bin_dir / "python3").chmod(0o755)
    assert subprocess.run([str(bin_dir / "python3"), "-m", "pip", "--version"],
                          capture_output=True).returncode == 1
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_PYTHON", "CIFAR10_DIR")}
    env.update(PATH="%s:%s" % (bin_dir, os.environ["PATH"]), AUTOGRADER_SKIP_APT="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, cwd="/",
                           capture_output=True, text=True, timeout=1200)
    assert setup.returncode == 0, setup.stderr[-3000:]
    python = root / "source" / "venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import autograder.sandbox.worker as w; print(w.__file__)"],
                           capture_output=True, text=True, cwd="/").stdout
    assert str(root / "source" / "venv") in where, where
    helpers.reference_submission(root / "submission", model=fixture_model)
    env["AUTOGRADER_ROOT"] = str(root)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, cwd="/", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert not data["extra_data"]["grader_error"], data["extra_data"]["grader_error"]
    assert data["score"] == data["max_score"] == 28
