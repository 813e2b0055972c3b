"""Class runs without grading: which paths are submissions, the run record, the gradebook."""
import csv
from hashlib import sha256
import io
import json
import os
import time
import zipfile

import pytest

from autograder.batch import discover, state

from autograder.report import gradebook
from autograder.report import write_reports
from autograder.results.model import GradeResult, ItemResult


def make_submission(folder):
    (folder / "nndl").mkdir(parents=True)
    (folder / "nndl" / "layers.py").write_text("x = 1\n")
    return folder


def make_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("top/nndl/layers.py", "x = 1\n")
    return path


def test_a_folder_of_submissions_is_a_class(tmp_path):
    classroom = tmp_path / "class"
    make_submission(classroom / "alice")
    make_zip(classroom / "bob smith.zip")
    (classroom / ".DS_Store").write_text("")
    (classroom / "carol.txt").write_text("not a submission, still graded and reported")
    entries = discover.discover([str(classroom)])
    assert [e.id for e in entries] == ["alice", "bob_smith", "carol.txt"]
    assert entries[1].path == str(classroom / "bob smith.zip")
    assert not discover.single_submission([str(classroom)])


def test_one_submission_keeps_the_single_layout(tmp_path):
    folder = make_submission(tmp_path / "alice")
    archive = make_zip(tmp_path / "bob.zip")
    assert discover.single_submission([str(folder)])
    assert discover.single_submission([str(archive)])
    assert not discover.single_submission([str(folder), str(archive)])
    notebook_only = tmp_path / "nb"
    notebook_only.mkdir()
    (notebook_only / "CNN.ipynb").write_text("{}")
    assert discover.single_submission([str(notebook_only)])


def test_ids_are_unique_and_safe(tmp_path):
    a = make_submission(tmp_path / "x" / "same")
    b = make_zip(tmp_path / "same.zip")
    c = make_submission(tmp_path / "y" / "../y2" / "gradebook.csv")
    entries = discover.discover([str(a), str(b), str(c)])
    ids = {os.path.basename(e.path): e.id for e in entries}
    # a shared or reserved id gets a digest of the whole name, the same on every run
    assert ids == {"same": "same-" + sha256(b"same").hexdigest()[:10],
                   "same.zip": "same-" + sha256(b"same.zip").hexdigest()[:10],
                   "gradebook.csv": "gradebook.csv-" + sha256(b"gradebook.csv").hexdigest()[:10]}


def test_batch_record_keeps_the_seed_and_refuses_a_changed_spec(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text("a = 1\n")
    grades = tmp_path / "grades"
    grades.mkdir()
    selection = {"items": None, "visible_only": False, "retrain": False}
    first = state.settle_batch(str(grades), str(spec), selection)
    assert json.loads((grades / "batch.json").read_text())["seed"] == first["seed"]
    assert state.settle_batch(str(grades), str(spec), selection)["seed"] == first["seed"]
    with pytest.raises(state.StateError, match="another --seed"):
        state.settle_batch(str(grades), str(spec), selection, seed=first["seed"] + 1)
    with pytest.raises(state.StateError, match="other items"):
        state.settle_batch(str(grades), str(spec), dict(selection, items="layers.*"))
    spec.write_text("a = 2\n")
    with pytest.raises(state.StateError, match="spec changed"):
        state.settle_batch(str(grades), str(spec), selection)
    forced = state.settle_batch(str(grades), str(spec), selection, force=True)
    assert forced["seed"] == first["seed"]   # --force regrades under the recorded seed
    assert forced["spec_sha256"] != first["spec_sha256"]


def test_fingerprint_follows_the_content_and_partial_files_go(tmp_path):
    folder = make_submission(tmp_path / "alice")
    before = state.fingerprint(str(folder))
    assert state.fingerprint(str(folder)) == before
    time.sleep(0.01)
    (folder / "nndl" / "layers.py").write_text("x = 22\n")
    assert state.fingerprint(str(folder)) != before
    assert state.fingerprint(str(tmp_path / "missing")) == "missing"
    (tmp_path / "g" / "alice").mkdir(parents=True)
    (tmp_path / "g" / "alice" / ".results.json.abc.part").write_text("{")
    (tmp_path / "g" / ".gradebook.csv.x.part").write_text("")
    (tmp_path / "g" / "alice" / "feedback.md").write_text("ok")
    assert state.remove_partial_files(str(tmp_path / "g")) == 2
    assert sorted(p.name for p in (tmp_path / "g").rglob("*")) == ["alice", "feedback.md"]


def _result(name, scores):
    result = GradeResult(submission=name, seed=1)
    for item, (score, top) in scores.items():
        result.items.append(ItemResult(item, item, score, top, score == top, ""))
    return result


def test_gradebook_and_summary(tmp_path):
    scores = {"alice": {"a": (3, 3), "b": (7, 7)},       # 10 of 10
              "bob": {"a": (0, 3), "b": (4, 7)},         # 4
              "carol": {"a": (3, 3), "b": (0, 7)}}       # 3
    for sid, items in scores.items():
        write_reports(_result(sid, items), str(tmp_path / sid))
    text = gradebook.write_class_reports(str(tmp_path), ["alice", "bob", "carol", "dave"])
    rows = list(csv.reader(io.StringIO((tmp_path / "gradebook.csv").read_text())))
    assert rows[0] == ["submission", "total", "max_score", "a", "b"]
    assert rows[1:] == [["alice", "10", "10", "3", "7"], ["bob", "4", "10", "0", "4"],
                        ["carol", "3", "10", "3", "0"]]
    assert "Graded: 3 of 4 submissions" in text
    assert "Mean: 5.67 / 10   Median: 4.00   Min: 3   Max: 10" in text
    histogram = [line for line in text.splitlines() if line.startswith("[")]
    counts = [int(line.split()[-1]) for line in histogram]
    assert counts == [0, 0, 0, 1, 1, 0, 0, 0, 0, 1]
    assert "| `a` | 67% (2/3) | 2.00 / 3 |" in text
    assert "| `b` | 33% (1/3) | 3.67 / 7 |" in text
    assert (tmp_path / "summary.md").read_text() == text


def test_results_marked_for_review_get_a_column_and_a_summary_line(tmp_path):
    # The accuracy item marks a result for review when the held-out images had to go to the
    # student's own code (the reference could not rebuild the model, or disagreed with it).
    flagged = _result("erin", {"a": (3, 3), "b": (7, 7)})
    flagged.extra["accuracy"] = {"needs_review": True,
                                 "review_reason": "validation predictions agree on 12% *only*\nof images"}
    write_reports(flagged, str(tmp_path / "erin"))
    calm = _result("frank", {"a": (3, 3), "b": (7, 7)})
    calm.extra["accuracy"] = {"needs_review": False, "review_reason": ""}
    write_reports(calm, str(tmp_path / "frank"))
    text = gradebook.write_class_reports(str(tmp_path), ["erin", "frank"])
    rows = list(csv.reader(io.StringIO((tmp_path / "gradebook.csv").read_text())))
    assert rows[0] == ["submission", "total", "max_score", "needs_review", "a", "b"]
    assert rows[1][:4] == ["erin", "10", "10", "validation predictions agree on 12% *only*\\nof images"]
    assert rows[2][:4] == ["frank", "10", "10", ""]
    line = [line for line in text.splitlines() if line.startswith("To review")]
    # one line, the reason's markdown made inert
    assert line == ["To review (1): `erin` (validation predictions agree on 12% \\*only\\*\\\\nof images)"]


def test_no_review_column_when_nothing_needs_review(tmp_path):
    write_reports(_result("alice", {"a": (3, 3)}), str(tmp_path / "alice"))
    text = gradebook.write_class_reports(str(tmp_path), ["alice"])
    assert "needs_review" not in (tmp_path / "gradebook.csv").read_text()
    assert "To review" not in text


def test_a_class_run_says_once_how_many_submissions_have_no_trusted_time(tmp_path, monkeypatch):
    from autograder.batch import run
    from autograder.grade.pipeline import GradeOptions
    from tests.autograder.grade import helpers
    (tmp_path / "times.csv").write_text("submission,submitted_at\nalice,2026-12-13T09:00:00Z\n")
    spec = helpers.spec_with(tmp_path / "grading.toml", settings={
        "deadline": "2026-12-11T23:59:00-08:00", "submission_times": "times.csv"})
    classroom = tmp_path / "class"
    for name in ("alice", "bob", "mallory"):
        make_submission(classroom / name)
    # mallory's upload claims an early time of its own: it does not count as one
    (classroom / "mallory" / "submission_metadata.json").write_text(
        json.dumps({"created_at": "2026-12-01T00:00:00Z"}))
    entries, tasks, record, warning = run.plan([str(classroom)], str(tmp_path / "grades"),
                                               GradeOptions(spec_path=str(spec)))
    late_of = {task.id: task.late for task in tasks}
    assert late_of["alice"]["units"] == 2 and late_of["mallory"]["submitted_at"] is None
    assert warning.startswith("late policy: 2 of 3 submissions have no submission time")
    monkeypatch.setattr("autograder.batch.local.grade_locally", lambda *args: None)
    monkeypatch.setattr(run, "_instructor_reports", lambda grades_dir, ids, options, jobs, text,
                        err: text)
    err = io.StringIO()
    run.run_class([str(classroom)], str(tmp_path / "grades"), GradeOptions(spec_path=str(spec)),
                  jobs=1, out=io.StringIO(), err=err)
    assert err.getvalue().count("have no submission time") == 1
