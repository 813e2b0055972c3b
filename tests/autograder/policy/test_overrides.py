"""autograder.policy.overrides: reading the staff's CSV, checking it, applying it to a result."""
import pytest

from autograder.checks.outcome import Status
from autograder.policy import overrides
from autograder.results.model import GradeResult, ItemResult
from autograder.spec import SPEC_PATH, SpecError, parse_spec

CONV, POOL = "conv.forward", "pool.forward"


def write(tmp_path, text):
    path = tmp_path / "overrides.csv"
    path.write_text(text)
    return str(path)


def result_with(*requests, conv=3.0, pool=20.0):
    result = GradeResult(submission="alice")
    result.items = [ItemResult(CONV, CONV, conv, 10.0, conv == 10, "1 of 3 cases passed."),
                    ItemResult(POOL, POOL, pool, 20.0, pool == 20, "Passed: all 3 cases.")]
    result.overrides = [dict({"points": None, "delta": None, "comment": "",
                                       "grader": "TA"}, **r) for r in requests]
    return result


def test_rows_are_read_with_points_or_delta_and_quoted_cells_restored(tmp_path):
    found = overrides.read_overrides(write(tmp_path, (
        "\ufeffStudent , Item,Points,Delta,Comment,Grader\n"
        "alice,%s,7.5,,regrade request,TA Kim\n"
        "'+1+1,%s,,-2,'=not a formula,\n\n" % (CONV, POOL))))
    assert [(o.submission, o.item, o.points, o.delta, o.comment, o.grader, o.row)
            for o in found] == [("alice", CONV, 7.5, None, "regrade request", "TA Kim", 2),
                                ("+1+1", POOL, None, -2.0, "=not a formula",
                                 "the course staff", 3)]


@pytest.mark.parametrize("text, message", [
    ("who,item,points\nalice,x,1\n", "needs the columns submission (or student), item"),
    ("submission,item,comment\nalice,x,hi\n", "points or delta"),
    ("submission,item,points,delta\nalice,x,1,2\n", "row 2: give either points"),
    ("submission,item,points,delta\nalice,x,,\n", "not neither"),
    ("submission,item,points\nalice,x,lots\n", "row 2: points 'lots' is not a number"),
    ("submission,item,points\nalice,x,nan\n", "not a finite number"),
    ("submission,item,points\nalice,x,1\nalice,x,2\n", "row 3: alice x is overridden "
                                                      "already in row 2"),
    ("submission,item,points\n,x,1\n", "row 2: needs a submission and an item"),
])
def test_a_row_that_cannot_be_used_is_named(tmp_path, text, message):
    with pytest.raises(overrides.OverrideError, match="row|columns") as error:
        overrides.read_overrides(write(tmp_path, text))
    assert message in str(error.value)


def test_an_oversized_or_missing_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(overrides, "OVERRIDES_BYTES", 50)
    with pytest.raises(overrides.OverrideError, match="larger than"):
        overrides.read_overrides(write(tmp_path, "submission,item,points\n" + "a,b,1\n" * 20))
    with pytest.raises(overrides.OverrideError, match="cannot be read"):
        overrides.read_overrides(str(tmp_path / "nowhere.csv"))


def test_unknown_submissions_and_items_are_all_named(tmp_path):
    found = overrides.read_overrides(write(tmp_path, "submission,item,points\nalice,%s,1\n"
                                           "alcie,%s,1\nalice,conv.forwrd,1\n" % (CONV, CONV)))
    with pytest.raises(overrides.OverrideError) as error:
        overrides.check_names(found, ["alice", "bob"], [CONV, POOL], "o.csv")
    assert "row 3: no submission 'alcie'" in str(error.value)
    assert "row 4: no item 'conv.forwrd'" in str(error.value)
    overrides.check_names(found[:1], ["alice"], [CONV], "o.csv")   # a known one passes


def test_points_replace_the_score_and_keep_the_graders_beside():
    result = overrides.apply(result_with({"item": CONV, "points": 10, "comment": "ok"}))
    conv = result.items[0]
    assert (conv.score, conv.passed, conv.status) == (10, True, Status.PASSED)
    assert conv.output.endswith("Adjusted by TA: ok (grader's score 3, now 10)")
    assert result.score == 30
    assert result.overrides[0]["grader_score"] == 3
    assert result.overrides[0]["clamped"] == ""


def test_a_delta_is_clamped_to_the_items_points_and_says_so():
    result = overrides.apply(result_with({"item": POOL, "delta": -25, "comment": "copied"}))
    pool = result.items[1]
    assert (pool.score, pool.passed, pool.status) == (0, False, Status.FAILED)
    assert pool.output.endswith("(grader's score 20, now 0); clamped to [0, 20] from -5")
    assert result.score == 3
    up = overrides.apply(result_with({"item": CONV, "delta": 50}))
    assert up.items[0].score == 10 and "clamped to [0, 10] from 53" in up.items[0].output


def test_applying_twice_changes_nothing_more():
    result = overrides.apply(result_with({"item": CONV, "delta": 2}))
    again = overrides.apply(result)
    assert again.items[0].score == 5 and again.items[0].output.count("Adjusted by") == 1


def test_an_item_not_graded_in_this_run_is_recorded_as_not_applied():
    result = overrides.apply(result_with({"item": "cnn.accuracy", "points": 1}))
    assert result.score == 23
    assert result.overrides[0]["not_applied"]
    assert overrides.by_item(result.overrides) == {}


def test_a_result_the_grader_failed_on_keeps_its_scores():
    result = result_with({"item": CONV, "points": 10})
    result.grader_error = "boom"
    assert overrides.apply(result).items[0].score == 3


def test_the_spec_names_the_file_beside_itself_and_the_command_line_wins(tmp_path):
    spec = tmp_path / "grading.toml"
    spec.write_text(SPEC_PATH.read_text().replace(
        '[overrides]\nfile = ""', '[overrides]\nfile = "staff/overrides.csv"'))
    assert overrides.overrides_path(str(spec)) == str(tmp_path / "staff" / "overrides.csv")
    assert overrides.overrides_path(str(spec), "mine.csv") == "mine.csv"
    with pytest.raises(SpecError, match=r"\[overrides\] has no key 'path'"):
        parse_spec({"overrides": {"path": "x.csv"}}, visible_only=True)
