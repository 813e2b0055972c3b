"""The staff's overrides on Gradescope: the build ships the spec's [overrides] file (its items
checked), the runner applies the rows naming this submission's students. The grading itself is
replaced by a fixed result: only the runner's own work is tested."""
import json

import pytest

import autograder.gradescope.run_autograder as runner
from autograder.checks.outcome import ItemResult
from autograder.gradescope.build import shipped_overrides
from autograder.policy.overrides import OverrideError
from autograder.results import schema as gradescope
from autograder.results.model import GradeResult
from autograder.spec import SPEC_PATH

ITEM = "conv_layers.conv_forward_naive.forward"


@pytest.fixture(autouse=True)
def graded_6_of_10(monkeypatch):
    def fake_grade(upload, out, options):
        item = ItemResult(ITEM, ITEM, 6.0, 10.0, False, "1 of 3 cases passed.")
        return GradeResult(submission="upload", items=[item], seed=1)
    monkeypatch.setattr("autograder.grade.pipeline.grade", fake_grade)


def spec_naming(folder, csv_text, name="staff.csv"):
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "grading.toml"
    spec.write_text(SPEC_PATH.read_text().replace('[overrides]\nfile = ""',
                                                  '[overrides]\nfile = "%s"' % name))
    (folder / name).write_text(csv_text)
    return spec


def run_for(tmp_path, users, csv_text):
    root = tmp_path / "autograder"
    spec_naming(root / "source", csv_text)
    (root / "submission" / "nndl").mkdir(parents=True)
    metadata = root / "submission_metadata.json"
    metadata.write_text(json.dumps({"id": 77, "created_at": "2026-12-01T00:00:00Z",
                                    "users": users}))
    assert runner.main(["--root", str(root)]) == 0
    return json.loads((root / "results" / "results.json").read_text())


def test_the_row_naming_a_student_of_the_submission_is_applied(tmp_path):
    rows = "student,item,points,comment,grader\ns123,%s,9,regrade,TA Kim\n" % ITEM
    data = run_for(tmp_path, [{"sid": "s123", "name": "Ann"}], rows)
    test = data["tests"][0]
    assert data["score"] == 9 and test["score"] == 9
    assert test["extra_data"]["override"]["grader_score"] == 6
    assert test["output"].endswith("Adjusted by TA Kim: regrade (grader's score 6, now 9)")
    assert gradescope.validate(data) == []
    other = run_for(tmp_path / "other", [{"sid": "s999"}], rows)
    assert other["score"] == 6 and "override" not in other["tests"][0]["extra_data"]


def test_a_broken_overrides_file_grades_without_it(tmp_path):
    data = run_for(tmp_path, [{"sid": "s123"}], "student,item\ns123,%s\n" % ITEM)
    assert data["score"] == 6 and "Adjusted" not in data["tests"][0]["output"]


def test_the_build_ships_the_file_beside_the_spec_after_checking_its_items(tmp_path):
    good = spec_naming(tmp_path / "good", "student,item,delta\ns1,%s,1\n" % ITEM)
    assert shipped_overrides(good) == (str(tmp_path / "good" / "staff.csv"), "staff.csv")
    bad = spec_naming(tmp_path / "bad", "student,item,delta\ns1,conv.nope,1\n")
    with pytest.raises(OverrideError, match="row 2: no item 'conv.nope'"):
        shipped_overrides(bad)
    assert shipped_overrides(SPEC_PATH) is None
