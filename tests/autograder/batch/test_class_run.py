"""Class runs for real: SIGKILL mid-run then rerun, resume, --force, unreadable submissions
(Dask against local: test_dask_cluster.py)."""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.autograder.grade import helpers
from tests.hostile import support

FAST_ITEMS = "conv_layers.conv_forward_naive.forward_secret,conv_layers.max_pool_forward_naive.*"
TIMING_KEYS = ("execution_time",)


def small_class(folder, count, model=None):
    for i in range(count):
        helpers.reference_submission(Path(folder) / ("student_%02d" % i), model=model)
    broken = helpers.reference_submission(Path(folder) / "student_broken", model=model)
    (broken / "nndl" / "conv_layers.py").write_text("raise ImportError('broken on purpose')\n")
    return sorted(p.name for p in Path(folder).iterdir())


def points_of(patterns):
    from autograder.grade.pipeline import select_items
    from autograder.spec import load_spec
    return sum(item.points for item in select_items(load_spec(), patterns))


def snapshot(grades, ids):
    """{id: (bytes, mtime_ns)} of the finished results.json files."""
    out = {}
    for sid in ids:
        path = Path(grades) / sid / "results.json"
        if path.exists():
            out[sid] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def comparable(data):
    """A results.json without what legitimately differs between two gradings (timings)."""
    data = dict(data)
    for key in TIMING_KEYS:
        data.pop(key, None)
    data["extra_data"] = {k: v for k, v in data["extra_data"].items()
                          if k not in ("worker_restarts",)}
    if "sandbox" in data["extra_data"]:  # the uid is whichever slot was free
        data["extra_data"]["sandbox"] = dict(data["extra_data"]["sandbox"], unprivileged_uid=None)
    data["tests"] = [{k: (v if k != "extra_data" else {kk: vv for kk, vv in v.items()
                                                       if kk != "seconds"})
                      for k, v in t.items()} for t in data["tests"]]
    return data


def test_sigkill_mid_run_then_rerun_loses_nothing(tmp_path):
    classroom, grades = tmp_path / "class", tmp_path / "grades"
    ids = small_class(classroom, 7)
    token = secrets.token_hex(6)
    env = dict(os.environ, AUTOGRADER_TEST_MARKER=token)
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(classroom),
                             "--out", str(grades), "--items", FAST_ITEMS, "--jobs", "2"],
                            cwd=str(support.REPO_ROOT), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(grades.glob("*/results.json")):
        assert proc.poll() is None, "the run ended before any result appeared"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert support.leftover_processes(token) == []
    finished = snapshot(grades, ids)
    assert 1 <= len(finished) < len(ids), "kill -9 should land mid-run"
    for sid, (data, _) in finished.items():
        json.loads(data)  # complete files only
    for path in grades.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".html") and \
                not path.name.startswith("."):
            assert path.read_text().strip(), path  # no empty or truncated reports

    rerun = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                  "--jobs", "2", timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "grading %d of %d submissions (%d already finished)" % (
        len(ids) - len(finished), len(ids), len(finished)) in rerun.stderr
    after = snapshot(grades, ids)
    assert set(after) == set(ids)
    for sid, before in finished.items():
        assert after[sid] == before, "%s was regraded or rewritten" % sid
    assert not [p for p in grades.rglob("*.part")]
    seeds = {json.loads(after[sid][0])["extra_data"]["seed"] for sid in ids}
    assert seeds == {json.loads((grades / "batch.json").read_text())["seed"]}
    scores = {sid: json.loads(after[sid][0])["score"] for sid in ids}
    assert scores["student_broken"] == 0
    assert all(scores[sid] == points_of(FAST_ITEMS) for sid in ids if sid != "student_broken")

    again = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                  timeout=600)
    assert "grading 0 of %d submissions" % len(ids) in again.stderr
    assert snapshot(grades, ids) == after

    # a resubmission is regraded; --force regrades everything with the same scores
    time.sleep(0.01)
    (classroom / "student_00" / "nndl" / "layers.py").write_text(
        (classroom / "student_00" / "nndl" / "layers.py").read_text() + "\n# resubmitted\n")
    resubmitted = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                        timeout=600)
    assert "grading 1 of %d submissions" % len(ids) in resubmitted.stderr
    forced = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS, "--force",
                                   timeout=600)
    assert forced.returncode == 0 and "grading %d of %d" % (len(ids), len(ids)) in forced.stderr
    regraded = snapshot(grades, ids)
    for sid in ids:
        old = comparable(json.loads(after[sid][0]))
        new = comparable(json.loads(regraded[sid][0]))
        old["extra_data"].pop("batch"), new["extra_data"].pop("batch")
        assert new == old, sid
    other = support.grade_command(classroom, "--out", grades, "--items", "layers.*",
                                  timeout=600)
    assert other.returncode == 2 and "--force" in other.stderr


def test_a_plain_rerun_retries_exactly_the_grader_errors(tmp_path):
    classroom, grades = tmp_path / "class", tmp_path / "grades"
    small_class(classroom, 2)
    first = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                  "--jobs", "2", timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    finished = snapshot(grades, ["student_00", "student_01", "student_broken"])
    # A new submission is graded while the grader itself is broken (its reference raises).
    helpers.reference_submission(classroom / "student_late")
    broken = tmp_path / "broken-solutions"
    shutil.copytree(support.REPO_ROOT / "solutions", broken,
                    ignore=shutil.ignore_patterns("__pycache__"))
    conv = broken / "nndl" / "conv_layers.py"
    conv.write_text(conv.read_text().replace(
        "def conv_forward_naive(x, w, b, conv_param):",
        "def conv_forward_naive(x, w, b, conv_param):\n    raise RuntimeError('grader bug')\n"
        "\n\ndef _unused(x, w, b, conv_param):", 1))
    failing = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                    "--jobs", "2", timeout=600,
                                    env={"AUTOGRADER_SOLUTIONS": str(broken)})
    assert failing.returncode == 3, failing.stderr[-2000:]
    assert "student_late" in failing.stderr
    report = json.loads((grades / "student_late" / "results.json").read_text())
    assert report["extra_data"]["grader_error"]
    # The grader is fixed: the same command, no --force, regrades that one only.
    rerun = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                  "--jobs", "2", timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "grading 1 of 4 submissions (3 already finished)" in rerun.stderr
    report = json.loads((grades / "student_late" / "results.json").read_text())
    assert not report["extra_data"]["grader_error"]
    assert report["score"] == points_of(FAST_ITEMS)
    assert snapshot(grades, list(finished)) == finished


# ---- before a class run starts: how many submissions will be retrained ---------------------------

class _Started(Exception):
    """Raised by the stand-in grading pool: the class run got as far as grading."""


def announced_before_grading(tmp_path, monkeypatch, **options):
    """What run_class prints on stderr before it grades anything, for a class of three: two
    without a model (a folder, and a zip whose files sit in one top folder) and one with."""
    import io
    import zipfile
    from autograder.batch import local, run
    from autograder.grade.pipeline import GradeOptions
    classroom = tmp_path / "class"
    helpers.reference_submission(classroom / "with_model", notebooks=False)
    (classroom / "with_model" / "cnn_model.npz").write_bytes(b"a model")
    helpers.reference_submission(classroom / "no_model", notebooks=False)
    with zipfile.ZipFile(classroom / "zipped.zip", "w") as archive:
        archive.writestr("homework/nndl/cnn.py", "")
        archive.writestr("homework/notes/cnn_model.npz", "")   # not where the grader reads it

    def start_grading(*args, **kwargs):
        raise _Started()
    monkeypatch.setattr(local, "grade_locally", start_grading)
    err = io.StringIO()
    with pytest.raises(_Started):
        run.run_class([str(classroom)], str(tmp_path / "grades"), GradeOptions(**options),
                      jobs=1, out=io.StringIO(), err=err)
    return err.getvalue()


def test_a_class_run_says_first_how_many_submissions_it_will_retrain(tmp_path, monkeypatch):
    spec = helpers.spec_with(tmp_path / "grading.toml", {
        "cnn.ThreeLayerConvNet.accuracy": {"missing_model": "retrain",
                                           "retrain_time_limit": 600.0}})
    err = announced_before_grading(tmp_path, monkeypatch, spec_path=str(spec))
    assert ('retraining 2 of the 3 submission(s) to grade: no cnn_model.npz, so the grader '
            'trains one from CNN.ipynb (missing_model = "retrain"), up to 600 s each') in err


def test_a_class_run_says_first_how_many_submissions_get_zero_for_no_model(tmp_path, monkeypatch):
    err = announced_before_grading(tmp_path, monkeypatch)
    assert ('2 of the 3 submission(s) to grade have no cnn_model.npz: their accuracy item gets '
            '0 (missing_model = "zero"; nothing is retrained)') in err


def test_a_class_run_under_the_retrain_flag_says_it_retrains_all(tmp_path, monkeypatch):
    err = announced_before_grading(tmp_path, monkeypatch, retrain=True)
    assert "retraining all 3 submission(s) to grade from CNN.ipynb (--retrain), up to 1800 s each" \
        in err


def test_a_class_run_without_the_accuracy_item_says_nothing_of_models(tmp_path, monkeypatch):
    err = announced_before_grading(tmp_path, monkeypatch, items=FAST_ITEMS)
    assert "cnn_model.npz" not in err and "retrain" not in err


def test_a_submission_that_cannot_be_read_is_flagged_for_review_not_a_silent_zero(tmp_path):
    import csv
    import io
    import zipfile
    classroom, grades = tmp_path / "class", tmp_path / "grades"
    helpers.reference_submission(classroom / "student_00", notebooks=False)
    (classroom / "junk.zip").write_bytes(b"PK\x03\x04 a download cut short")
    marker = b"# the student's own layers, long enough to be recognised\n"
    with zipfile.ZipFile(classroom / "damaged.zip", "w", zipfile.ZIP_STORED) as archive:
        for path in sorted((classroom / "student_00" / "nndl").glob("*.py")):
            data = path.read_bytes() + (marker if path.name == "conv_layers.py" else b"")
            archive.writestr("nndl/" + path.name, data)
    damaged = (classroom / "damaged.zip").read_bytes()
    (classroom / "damaged.zip").write_bytes(damaged.replace(marker, marker.upper()))
    run = support.grade_command(classroom, "--out", grades, "--items", FAST_ITEMS,
                                "--jobs", "2", timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {row["submission"]: row for row in
            csv.DictReader(io.StringIO((grades / "gradebook.csv").read_text()))}
    assert rows["junk"]["total"] == "0"
    assert rows["junk"]["needs_review"].startswith("cannot read the submission: junk.zip")
    assert rows["damaged"]["needs_review"].startswith(
        "could not extract from the submitted zip: nndl/conv_layers.py (")
    assert rows["student_00"]["needs_review"] == ""
    summary = (grades / "summary.md").read_text()
    assert "To review (2): `damaged` (could not extract" in summary
    report = (grades / "report.html").read_text()
    review = report[report.index('<h2 id="review">'):]
    # each entry links to the submission's feedback (report/class_report.py)
    assert '<a href="junk/feedback.html">junk</a>: cannot read the submission' in review
    assert '<a href="damaged/feedback.html">damaged</a>: could not extract' in review
    data = json.loads((grades / "junk" / "results.json").read_text())
    assert data["extra_data"]["unreadable"].startswith("cannot read the submission")
