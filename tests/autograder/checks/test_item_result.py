"""One ItemResult from the checks to the reports: judge_all's verdict is what the grade
pipeline completes and the reports read, with status, hints and cases kept on the way."""
import pytest

from autograder.checks import ItemResult, Status, run_item_in_process
from autograder.checks.loading import load_nndl
from autograder.grade.aggregate import failed_item, from_checks
from autograder.results import model
from autograder.results.schema import results_json
from autograder.results.model import GradeResult
from tests.autograder.checks import support

ITEM = "conv_layers.conv_forward_naive.forward"
# A planted bug the reference does not have: no padding at all (pad read as 0).
FORWARD_START = "    # YOUR CODE HERE:\n    #   Implement the forward pass of a convolutional"
NO_PAD = (FORWARD_START, "    pad = 0\n" + FORWARD_START)


def test_the_reports_read_the_checks_class():
    assert model.ItemResult is ItemResult


def test_a_wrong_forward_keeps_its_cases_through_the_grader(tmp_path):
    item = support.spec().item(ITEM)
    variant = load_nndl(support.variant(tmp_path, {"conv_layers.py": [NO_PAD]}))
    verdict = run_item_in_process(item, variant, expected=support.expected(ITEM))
    assert verdict.status == Status.FAILED and not verdict.passed and verdict.score == 0
    graded = from_checks(item, verdict, preface="read this first")
    assert graded.output == "read this first\n" + verdict.output
    assert graded.outcomes == verdict.outcomes and graded.hints == verdict.hints
    assert graded.cases_total == len(verdict.outcomes) > 0
    assert graded.cases_passed == sum(o.status == Status.PASSED for o in verdict.outcomes)
    assert graded.kind == item.kind and graded.section == item.section
    test = results_json(GradeResult(submission="s", items=[graded]))["tests"][0]
    assert test["status"] == "failed" and test["extra_data"]["item"] == ITEM


def test_the_reference_passes_with_gradescope_visibility():
    item = support.spec().item(ITEM)
    verdict = run_item_in_process(item, support.reference(), expected=support.expected(ITEM))
    assert verdict.passed and verdict.status == Status.PASSED
    assert verdict.score == verdict.max_score == float(item.points)
    assert verdict.visibility == "visible" and verdict.item_id == verdict.title == ITEM
    hidden = next(i for i in support.spec().items if i.visibility == "hidden")
    assert failed_item(hidden, "grader problem").visibility == "after_published"


def test_status_follows_passed_unless_given_and_never_contradicts_it():
    assert ItemResult("a", "a", 1.0, 1.0, True, "").status == Status.PASSED
    assert ItemResult("a", "a", 0.0, 1.0, False, "").status == Status.FAILED
    assert ItemResult("a", "a", 0.0, 1.0, False, "", status=Status.ERROR).status == "error"
    with pytest.raises(ValueError, match="contradicts"):
        ItemResult("a", "a", 0.0, 1.0, True, "", status=Status.ERROR)
