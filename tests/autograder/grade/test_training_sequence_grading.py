"""The training sequences graded end to end: the cases travel to the sandboxed student worker and
the trusted reference worker, the sequence runs there, and the grader judges the plain arrays
that come back (tests/autograder/checks/test_training_sequence.py covers the rules in process)."""
import json
import re

from tests.autograder.checks.test_training_sequence import BUILDERS, CNN, FORWARD, PLANTED
from tests.autograder.grade import helpers
from tests.autograder.grade.conftest import ACCURACY_ID, SCALED_ACCURACY


def _sequence_spec(path):
    """The test spec with the forward item's case groups replaced by one group of the training
    sequences."""
    spec = helpers.spec_with(path, {ACCURACY_ID: SCALED_ACCURACY})
    blocks = re.split(r"(?m)^(?=\[\[item\]\])", spec.read_text())
    for index, block in enumerate(blocks):
        if re.search(r'(?m)^id = "%s"$' % re.escape(FORWARD), block):
            item = block.split("[[item.group]]")[0].rstrip("\n")
            blocks[index] = item + '\n[[item.group]]\nname = "training"\ncases = %s\n\n' % (
                json.dumps(list(BUILDERS)))
    spec.write_text("".join(blocks))
    return spec


def _edited_submission(folder, edits):
    folder = helpers.reference_submission(folder)
    path = folder / "nndl" / CNN
    text = path.read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    return folder


def test_the_sequences_grade_through_the_sandbox(tmp_path, grade_into):
    spec = _sequence_spec(tmp_path / "grading.toml")
    good, _ = grade_into(helpers.reference_submission(tmp_path / "good"), spec=spec, items=FORWARD)
    (item,) = good.items
    assert item.passed and item.cases_total == len(BUILDERS), item.output

    edits, hint, _, _ = PLANTED["loss_x_leaves_the_model_in_test_mode"]
    bad, _ = grade_into(_edited_submission(tmp_path / "bad", edits), spec=spec, items=FORWARD)
    (item,) = bad.items
    assert item.score == 0 and item.cases_passed == 1, item.output
    assert "Hint: " + hint in item.output
