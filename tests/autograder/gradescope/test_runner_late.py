"""The Gradescope runner's late policy: the time and the students come from Gradescope's
submission_metadata.json BESIDE the upload (here in a temporary root), never from one inside it.
The grading itself is replaced by a fixed 80 / 100 result: only the runner's own work is tested."""
import json

import pytest

from autograder.checks.outcome import ItemResult
import autograder.gradescope.run_autograder as runner
from autograder.results import schema as gradescope
from autograder.results.model import GradeResult
from tests.autograder.grade import helpers

DEADLINE = "2026-12-11T23:59:00-08:00"


@pytest.fixture
def graded_80_of_100(monkeypatch):
    """The pipeline's grade() replaced by one that scores every upload 80 / 100."""
    def fake_grade(upload, out, options):
        item = ItemResult("conv_layers.conv_forward_naive", "conv forward", 80.0, 100.0, False, "")
        return GradeResult(submission="upload", items=[item], seed=1)
    monkeypatch.setattr("autograder.grade.pipeline.grade", fake_grade)


def gradescope_root(tmp_path, extensions=None):
    """ROOT/source with a spec whose [late] deadline is set, and an empty ROOT/submission."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission" / "nndl").mkdir(parents=True)
    settings = {"deadline": DEADLINE, "penalty_per_unit": 0.1}
    if extensions:
        (root / "source" / "ext.csv").write_text(extensions)
        settings["extensions"] = "ext.csv"
    helpers.spec_with(root / "source" / "grading.toml", settings=settings)
    return root


def write_metadata(path, created_at, users=(), submission_id=4242):
    path.write_text(json.dumps({"id": submission_id, "created_at": created_at,
                                "users": [dict(user) for user in users]}))
    return path


def run_and_read(root, metadata=None):
    argv = ["--root", str(root)] + (["--metadata", str(metadata)] if metadata else [])
    assert runner.main(argv) == 0
    return json.loads((root / "results" / "results.json").read_text())


def test_the_metadata_beside_the_upload_sets_the_time_and_the_penalty(tmp_path, graded_80_of_100):
    root = gradescope_root(tmp_path)
    beside = write_metadata(tmp_path / "elsewhere.json", "2026-12-13T09:00:00Z")   # 2 days late
    write_metadata(root / "submission" / "submission_metadata.json", "2026-12-01T00:00:00Z")
    data = run_and_read(root, metadata=beside)
    record = data["extra_data"]["late"]
    assert record["submitted_at"] == "2026-12-13T09:00:00+00:00" and record["units"] == 2
    assert data["score"] == 64 and data["extra_data"]["raw_score"] == 80
    assert gradescope.validate(data) == []            # the score is the tests' after the penalty
    assert gradescope.validate(dict(data, score=70)) != []
    assert "2 days late" in data["output"]
    assert "submission_metadata.json in your upload was ignored" in data["output"]


def test_the_default_metadata_is_the_one_in_the_root(tmp_path, graded_80_of_100):
    root = gradescope_root(tmp_path)
    write_metadata(root / "submission_metadata.json", "2026-12-12T09:00:00Z")        # 1 day late
    data = run_and_read(root)
    assert data["extra_data"]["late"]["units"] == 1 and data["score"] == 72


def test_extensions_follow_gradescopes_users_not_the_uploads(tmp_path, graded_80_of_100):
    root = gradescope_root(tmp_path, extensions="student,extra_days\nbob@uni.edu,7\n")
    write_metadata(root / "submission" / "submission_metadata.json", "2026-12-13T09:00:00Z",
                   users=[{"email": "bob@uni.edu", "name": "Bob"}])
    mallory = write_metadata(tmp_path / "mallory.json", "2026-12-13T09:00:00Z",
                             users=[{"email": "mallory@uni.edu", "name": "Mallory"}])
    data = run_and_read(root, metadata=mallory)
    assert data["extra_data"]["late"]["extension"] is None and data["score"] == 64
    bob = write_metadata(tmp_path / "bob.json", "2026-12-13T09:00:00Z",
                         users=[{"email": "bob@uni.edu", "name": "Bob"}])
    data = run_and_read(root, metadata=bob)
    assert data["extra_data"]["late"]["extension"] == "bob@uni.edu" and data["score"] == 80


def test_without_the_metadata_beside_the_upload_nothing_is_taken_and_the_record_says_why(
        tmp_path, graded_80_of_100, capsys):
    root = gradescope_root(tmp_path)
    write_metadata(root / "submission" / "submission_metadata.json", "2026-12-20T00:00:00Z")
    data = run_and_read(root, metadata=tmp_path / "missing.json")
    record = data["extra_data"]["late"]
    assert data["score"] == 80 and record["fraction"] == 0 and record["submitted_at"] is None
    assert "no submission time from the instructor" in record["unknown"]
    # the staff's debugging pane (the runner's stdout) says it too
    assert "late policy: no submission time from the instructor" in capsys.readouterr().out
