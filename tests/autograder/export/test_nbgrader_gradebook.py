"""Scores of a class run land in an nbgrader gradebook.db, read back with nbgrader's API."""
import subprocess
import sys

from nbgrader.api import Gradebook

from autograder.export import nbgrader_gradebook
from autograder.report import write_reports
from autograder.results.model import GradeResult, ItemResult

ITEMS = {"conv.forward": 6.0, "cnn.accuracy": 20.0}


def write_result(grades, sid, scores, grader_error=""):
    result = GradeResult(submission=sid, seed=3, grader_error=grader_error)
    for item, score in scores.items():
        result.items.append(ItemResult(item, item, score, ITEMS[item], score == ITEMS[item], ""))
    write_reports(result, str(grades / sid))


def test_export_then_read_back_with_nbgrader(tmp_path):
    grades = tmp_path / "grades"
    write_result(grades, "alice", {"conv.forward": 6.0, "cnn.accuracy": 12.5})
    write_result(grades, "bob", {"conv.forward": 0.0, "cnn.accuracy": 20.0})
    write_result(grades, "carol", {"conv.forward": 0.0, "cnn.accuracy": 0.0}, "boom")
    db = tmp_path / "gradebook.db"
    with Gradebook("sqlite:///%s" % db) as gb:   # a course's own notebook already there
        gb.update_or_create_assignment("cnn")
        gb.update_or_create_notebook("CNN", "cnn")
        gb.update_or_create_grade_cell("manual_q1", "CNN", "cnn", max_score=5, cell_type="markdown")
    proc = subprocess.run([sys.executable, "-m", "autograder.export.nbgrader_gradebook",
                           str(grades), "--db", str(db), "--assignment", "cnn"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "exported 2 submissions x 2 items" in proc.stdout and "carol" in proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr   # the first export is quiet too
    with Gradebook("sqlite:///%s" % db) as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob"]
        assert gb.find_grade("cnn.accuracy", "autograder", "cnn", "alice").score == 12.5
        assert gb.find_grade("conv.forward", "autograder", "cnn", "bob").score == 0.0
        assert gb.find_notebook("autograder", "cnn").max_score == 26.0
        assert gb.find_submission_notebook("autograder", "cnn", "alice").score == 18.5
        assert gb.find_submission_notebook("autograder", "cnn", "bob").score == 20.0
        assert gb.find_grade_cell("manual_q1", "CNN", "cnn").max_score == 5
        assert gb.find_submission("cnn", "alice").max_score == 31.0

    # regrade: the export updates in place (no duplicate students or submissions)
    write_result(grades, "alice", {"conv.forward": 6.0, "cnn.accuracy": 20.0})
    done = nbgrader_gradebook.export(str(grades), str(db), "cnn")
    assert done.students == 2 and done.skipped == ["carol"]
    with Gradebook("sqlite:///%s" % db) as gb:
        assert len(gb.find_assignment("cnn").submissions) == 2
        assert gb.find_submission_notebook("autograder", "cnn", "alice").score == 26.0
