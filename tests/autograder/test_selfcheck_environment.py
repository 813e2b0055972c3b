"""The self-check warns, one line each, when the student's Python or numpy is not the
grader's (the spec's [environment]), and says nothing when both agree."""
import argparse

import pytest

from autograder import environment, selfcheck
from autograder.spec import load_spec

from tests.autograder.checks import support

ITEM = "conv_layers.conv_forward_naive.forward"


def run_selfcheck(folder, capsys):
    parser = argparse.ArgumentParser()
    selfcheck.add_arguments(parser)
    code = selfcheck.run(parser.parse_args(["--dir", str(folder), "--item", ITEM, "--no-model"]))
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def declared():
    return load_spec().environment


def test_older_numpy_and_newer_python_get_one_warning_line_each(tmp_path, capsys, monkeypatch,
                                                                 declared):
    support.copy_reference(tmp_path / "nndl")
    monkeypatch.setattr(environment, "running_versions",
                        lambda: {"python": "3.12.4", "numpy": "1.26.4"})
    code, out = run_selfcheck(tmp_path, capsys)
    assert code == 0, out
    warnings = [line for line in out.splitlines() if line.startswith("Warning: ")]
    assert warnings == [
        line for line in warnings if "grading uses the grader's" in line]
    assert len(warnings) == 2
    assert "you run Python 3.12.4, the grader runs Python %s.x" % declared.python in warnings[0]
    assert "you run numpy 1.26.4, the grader runs numpy %s.x" % declared.numpy in warnings[1]
    assert "PASS  " + ITEM in out   # the check itself still ran


def test_the_graders_versions_get_no_warning(tmp_path, capsys, monkeypatch, declared):
    support.copy_reference(tmp_path / "nndl")
    monkeypatch.setattr(environment, "running_versions", lambda: {
        "python": declared.python + ".2", "numpy": declared.numpy + ".1"})
    code, out = run_selfcheck(tmp_path, capsys)
    assert code == 0, out
    assert "Warning" not in out and "the grader runs" not in out
