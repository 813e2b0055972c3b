"""Hidden means hidden on Gradescope: before grades are published, nothing students see in
results.json (the top-level output, the visible tests) gives away an after_published item's
points or the total that includes them; once published, the full total is shown."""
import re

from autograder.results.schema import results_json, validate
from autograder.results.model import GradeResult, ItemResult

HIDDEN_ID = "cnn.ThreeLayerConvNet.accuracy"
CHARGED_NOTE = ("it fails because of loss, whose bug is charged in %s: not charged again here "
                "(2 points kept)." % HIDDEN_ID)
LATE_2_DAYS = {"deadline": "2026-12-11T23:59:00-08:00", "extension": None,
               "submitted_at": "2026-12-13T09:00:00+00:00", "late_hours": 25.0, "units": 2,
               "unit": "day", "fraction": 0.2}


def hidden_failure(late=None):
    """8/10 and 5/5 on visible items, 3/40 on a hidden one: total 16 / 55."""
    result = GradeResult(submission="s", seed=1)
    result.items = [
        ItemResult("conv.forward", "conv.forward", 8, 10, False, "1 of 2 cases failed."),
        ItemResult(HIDDEN_ID, HIDDEN_ID, 3, 40, False, "accuracy 41%: 3 of 40 points",
                   visibility="after_published"),
        ItemResult("cnn.loss.gradient", "cnn.loss.gradient", 5, 5, True,
                   "Group batchnorm: " + CHARGED_NOTE + "\nSee cnn.ThreeLayerConvNet.accuracy_"
                   "plot and cnn.ThreeLayerConvNet.accuracy."),
    ]
    result.late = late
    return result


def student_visible_text(data):
    """Everything of results.json a student sees before publication."""
    texts = [data["output"]]
    for test in data["tests"]:
        if test["visibility"] == "visible":
            texts += [test["name"], test["output"], str(test["score"]), str(test["max_score"])]
    return "\n".join(texts)


def numbers_in(text):
    return set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])", text))


def test_before_publication_only_the_visible_items_score_is_shown():
    data = results_json(hidden_failure())
    assert validate(data) == []
    assert data["score"] == 16       # Gradescope hides it while an after_published test is
    assert data["output"].splitlines()[0] == (
        "Score on the visible items: 13 / 15 (the other items' points appear when grades are "
        "published)")
    visible = student_visible_text(data)
    # neither the hidden item's points nor the total with them
    assert not numbers_in(visible) & {"16", "55", "3", "40"}, visible
    assert HIDDEN_ID + " " not in visible and HIDDEN_ID + ":" not in visible
    assert "charged in an item hidden until grades are published: not charged again" in visible
    # a longer id that only starts with the hidden one keeps its name
    assert "cnn.ThreeLayerConvNet.accuracy_plot" in visible


def test_the_late_line_carries_no_points_before_publication():
    data = results_json(hidden_failure(late=LATE_2_DAYS))
    late_line = data["output"].splitlines()[1]
    assert late_line.startswith("Late: submitted 2026-12-13T09:00:00+00:00")
    assert "penalty 20% of the raw score" in late_line
    # 16 raw, -3.2, 12.8 after the penalty: all would give the hidden item's points away
    assert not numbers_in(student_visible_text(data)) & {"16", "3.2", "12.8", "55"}


def test_after_publication_the_full_total_is_shown():
    data = results_json(hidden_failure(late=LATE_2_DAYS), published=True)
    lines = data["output"].splitlines()
    assert lines[0] == "Score: 16 / 55"
    assert lines[1].endswith("penalty 20% of the raw score 16: -3.2, score 12.8 / 55")
    assert CHARGED_NOTE in data["tests"][2]["output"]


def test_without_hidden_items_the_total_is_shown_at_once():
    result = hidden_failure()
    result.items = [result.items[0], result.items[2]]
    assert results_json(result)["output"].splitlines()[0] == "Score: 13 / 15"
