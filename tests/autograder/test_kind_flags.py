"""What an item's kind declares, not its name, decides how the grader, the reports, the
release, the Gradescope bundle, the class run and the self-check treat it: a kind that grades
the saved model, registered under another name, is treated everywhere as the accuracy item is."""
import ast
import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

import autograder
from autograder.checks import kinds
from autograder.checks.kinds import accuracy

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
SCORED = dataclasses.replace(accuracy.KIND, name="scored_model")
ITEM_ID = "cnn.ThreeLayerConvNet.scored"
SPEC = '''[settings]
total_points = 100

[[item]]
id = "%s"
kind = "scored_model"
function = "cnn:ThreeLayerConvNet"
points = 100
time_limit = 60
visibility = "hidden"
full_credit_at = 0.5
zero_credit_at = 0.2
missing_model = "retrain"
retrain_time_limit = 120.0
heldout_file = "missing.npz"
''' % ITEM_ID


@pytest.fixture
def scored(tmp_path, monkeypatch):
    """The spec file of one item of the scored_model kind (registered for the test), also what
    autograder.spec.load_spec reads by default; yields (spec path, its item)."""
    from autograder import spec
    path = tmp_path / "grading.toml"
    path.write_text(SPEC)
    real = spec.load_spec
    monkeypatch.setattr(spec, "load_spec",
                        lambda path_=None, visible_only=False: real(path, visible_only))
    with kinds.registered(SCORED):
        yield path, real(path).items[0]


def test_no_code_of_the_autograder_tests_a_kind_by_its_name():
    names = set(kinds.names())
    found = []
    for path in PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left] + list(node.comparators)
            on_kind = any(isinstance(s, ast.Attribute) and s.attr == "kind" for s in sides)
            constants = {c.value for s in sides for c in ast.walk(s)
                         if isinstance(c, ast.Constant) and isinstance(c.value, str)}
            if on_kind and constants & names:
                found.append("%s:%d" % (path.relative_to(PACKAGE_DIR), node.lineno))
    assert found == []


def test_a_kind_that_grades_a_saved_model_declares_the_keys_the_grader_reads():
    with pytest.raises(ValueError, match="declares no key model_file, missing_model"):
        kinds.Kind("bare", accuracy.observe, accuracy.judge, grades_saved_model=True)
    assert SCORED.not_in_process == ("The scored_model item is graded by `autograder grade` on "
                                     "your saved model.")
    assert not SCORED.needs_cases and not SCORED.compares_outputs
    assert kinds.declares("accuracy", "grades_saved_model")
    assert not kinds.declares("no_such_kind", "grades_saved_model")
    with pytest.raises(AttributeError, match="a Kind declares no 'grades_saved_modle'"):
        kinds.declares("accuracy", "grades_saved_modle")


def test_the_report_shows_the_accuracy_rule_of_the_flagged_kind(scored):
    from autograder.report.facts import item_facts
    _, item = scored
    verdict = SimpleNamespace(outcomes=[SimpleNamespace(
        status="failed", data={"val": 0.45, "heldout": 0.30}, differences={})])
    facts = item_facts(item, verdict)
    assert "cases_total" not in facts
    assert facts["accuracy"]["full_credit_at"] == 0.5 and facts["accuracy"]["zero_credit_at"] == 0.2
    assert facts["accuracy"]["credited"] == pytest.approx(0.40)   # min(0.45, 0.30 + 0.10)
    with kinds.registered(dataclasses.replace(SCORED, name="compared", grades_saved_model=False,
                                              keys=())):
        facts = item_facts(dataclasses.replace(item, kind="compared"), verdict)
    assert "accuracy" not in facts and facts["cases_total"] == 1


def test_the_grader_reads_the_held_out_file_and_checks_it_before_grading(scored):
    from autograder.verbs import grade as cli
    from autograder.grade import heldout
    path, item = scored
    wanted = str(path.parent / "missing.npz")
    assert heldout.heldout_files([item], str(path)) == [wanted]
    options = SimpleNamespace(spec_path=str(path), items=None, heldout_file=None,
                              visible_only=False, cifar_dir=None)
    from autograder.grade import adapter
    problem = cli.heldout_problem(options, adapter.load_spec(str(path)))
    assert problem.startswith(ITEM_ID + ": held-out file " + wanted)


def test_the_class_run_announces_the_retraining_of_the_flagged_kind(scored, tmp_path):
    from autograder.batch.run import retraining_plan
    _, item = scored
    (tmp_path / "s1").mkdir()
    plan = retraining_plan([SimpleNamespace(source=str(tmp_path / "s1"))], [item], forced=False)
    assert plan == ("retraining 1 of the 1 submission(s) to grade: no cnn_model.npz, so the "
                    "grader trains one from CNN.ipynb (missing_model = \"retrain\"), up to "
                    "120 s each")


def test_the_gradescope_bundle_asks_for_time_to_retrain_the_flagged_kind(scored):
    from autograder.gradescope.build import timeout_note
    path, _ = scored
    note = timeout_note(str(path))
    assert note.startswith("A submission without cnn_model.npz is retrained from its CNN.ipynb")
    assert "at least 3 minutes" in note   # 120 s to retrain + the item's 60 s


def test_the_self_check_and_the_student_readme_price_the_flagged_kind(scored):
    from autograder import selfcheck
    from autograder.release.build import readme_text
    _, item = scored
    assert selfcheck.accuracy_item().id == ITEM_ID
    price = selfcheck.ModelPrice("cnn_model.npz", ".", "scored", item=item, accuracy=0.35)
    assert price.rule() == accuracy.Rule(0.5, 0.2, 0.10)
    assert price.rule().credit(0.35) == pytest.approx(0.5)
    text = readme_text()
    assert "train it past 50% validation" in text and "needs 50% validation accuracy" in text
    assert "(for up to 2 minutes)" in text


def test_the_benchmark_figures_count_the_flagged_kind_as_the_accuracy_item(scored):
    from autograder.batch import throughput
    report = {"execution_time": 10.0, "tests": [
        {"score": 0, "max_score": 20, "extra_data": {"kind": "scored_model", "seconds": 4.0}},
        {"score": 8, "max_score": 8, "extra_data": {"kind": "model_forward", "seconds": 1.0}}]}
    figures = throughput.class_figures([report], wall_seconds=10.0, peak_bytes=0)
    assert (figures.median_accuracy, figures.median_timing, figures.median_rest) == (4.0, 0.0, 6.0)
    assert figures.full_scores == 1   # every item but the saved model's at full marks
