"""Every kind runs in the grader: the kinds that compare outputs with the case runner, the
others with the runner the grader's table holds for them (autograder/grade/runners.py)."""
import ast
import dataclasses
from pathlib import Path

import pytest

import autograder
from autograder.checks import kinds
from autograder.checks.kinds import accuracy, forward_value
from autograder.grade import run_accuracy, run_timing, runners
from autograder.grade.items import GraderError, run_cases

CHECKS_DIR = Path(autograder.__file__).resolve().parent / "checks"


def test_every_registered_kind_has_a_runner():
    assert runners.missing_runners() == []
    assert runners.runner("timing") is run_timing.run
    assert runners.runner("accuracy") is run_accuracy.run
    for name in ("forward_value", "gradient", "model_forward", "model_gradient"):
        assert runners.runner(name) is run_cases


def test_a_kind_added_without_its_runner_is_named_and_refused():
    scored = dataclasses.replace(accuracy.KIND, name="scored_model")
    timed = dataclasses.replace(forward_value.KIND, name="timed", measures_time=True)
    compared = dataclasses.replace(forward_value.KIND, name="compared")
    with kinds.registered(scored), kinds.registered(timed), kinds.registered(compared):
        assert runners.missing_runners() == ["kind scored_model has no grader runner",
                                             "kind timed has no grader runner"]
        with pytest.raises(GraderError, match="kind timed has no runner in the grader"):
            runners.runner("timed")
        assert runners.runner("compared") is run_cases


def test_a_runner_of_a_kind_no_longer_registered_is_named(monkeypatch):
    monkeypatch.setitem(runners.RUNNERS, "retired", run_cases)
    assert runners.missing_runners() == ["runner of retired, which is not a registered kind"]


def test_the_checks_package_students_get_names_nothing_of_the_grader():
    for path in CHECKS_DIR.rglob("*.py"):
        source = path.read_text()
        assert "autograder.grade" not in source, path
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("autograder.grade"), path
