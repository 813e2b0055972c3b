"""The spec's [environment] (the grader's Python and numpy) and autograder/environment.py,
which compares a process's own versions with it."""
import platform
import tomllib

import numpy as np
import pytest

from autograder import environment
from autograder.spec import SPEC_PATH, EnvironmentPolicy, SpecError, load_spec, parse_spec

DECLARED = EnvironmentPolicy(python="3.11", numpy="2.4")


def spec_data(**environment_table):
    with open(SPEC_PATH, "rb") as f:
        data = tomllib.load(f)
    data["environment"] = environment_table
    return data


def test_the_kit_declares_python_3_11_and_numpy_2_4():
    assert load_spec().environment == DECLARED


def test_environment_table_is_validated_like_the_other_policies():
    assert parse_spec(spec_data(python="3.12", numpy="1.26")).environment == \
        EnvironmentPolicy(python="3.12", numpy="1.26")
    with pytest.raises(SpecError, match=r"\[environment\] has no key 'numpi'"):
        parse_spec(spec_data(numpi="2.4"))
    with pytest.raises(SpecError, match="numpy must be a major.minor version"):
        parse_spec(spec_data(numpy="2.4.6"))
    with pytest.raises(SpecError, match="python must be a str, got 3.11"):
        parse_spec(spec_data(python=3.11))


def test_every_item_carries_the_declared_numpy_series_for_the_hints():
    spec = parse_spec(spec_data(python="3.11", numpy="2.3"))
    assert {item.extras["grader_numpy"] for item in spec.items} == {"2.3"}


def test_series_is_major_dot_minor():
    assert environment.series("2.4.6") == "2.4"
    assert environment.series("3.11.7") == "3.11"
    assert environment.series("2.5.0rc1") == "2.5"
    assert environment.series("2.0") == "2.0"


def test_running_versions_are_this_process_ones():
    assert environment.running_versions() == {"python": platform.python_version(),
                                              "numpy": np.__version__}


def test_differences_compare_minor_versions_only():
    assert environment.differences(DECLARED, {"python": "3.11.2", "numpy": "2.4.0"}) == []
    assert environment.differences(DECLARED, {"python": "3.12.1", "numpy": "1.26.4"}) == [
        ("python", "3.12.1", "3.11"), ("numpy", "1.26.4", "2.4")]


def test_student_warnings_say_which_versions_and_that_grading_uses_the_graders():
    lines = environment.student_warnings(DECLARED, {"python": "3.11.9", "numpy": "1.26.4"})
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "you run numpy 1.26.4, the grader runs numpy 2.4.x" in lines[0]
    assert "grading uses the grader's" in lines[0]


def test_record_holds_the_graders_versions_and_the_declaration():
    record = environment.record(DECLARED, {"python": "3.11.7", "numpy": "2.4.6"})
    assert record == {"python": "3.11.7", "numpy": "2.4.6", "matches_declared": True,
                      "declared": {"python": "3.11", "numpy": "2.4"}}
    assert not environment.record(DECLARED, {"python": "3.12.0", "numpy": "2.4.6"})[
        "matches_declared"]


def test_grader_numpy_names_the_running_version_only_within_the_declared_series():
    assert environment.grader_numpy("2.4", "2.4.6") == "2.4.6"
    assert environment.grader_numpy("2.4", "2.3.1") == "2.4.x"
    assert environment.grader_numpy("", "2.3.1") == "2.3.1"


def test_install_pins():
    assert environment.install_pins(DECLARED) == {"python_requires": "==3.11.*",
                                                   "numpy": "numpy==2.4.*"}
