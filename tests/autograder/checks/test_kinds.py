"""Check kinds as declared units: the registry, the spec's validation of each kind's keys,
and a kind added from outside (one Kind plus its registration) graded end to end."""
import re
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.checks import kind_module, kinds, run_item_in_process
from autograder.spec import SPEC_PATH, SpecError, load_spec, parse_spec

from tests.autograder.checks import support

GRADIENT = {"id": "layers.relu_backward.gradient", "kind": "gradient",
            "function": "layers:relu_backward", "forward": "layers:relu_forward",
            "cases": "relu_core", "points": 100, "tolerance": 1e-9, "time_limit": 10,
            "visibility": "visible"}


def spec_with(*items, **settings):
    return {"settings": dict({"total_points": 100}, **settings), "item": list(items)}


def test_the_registry_lists_the_six_kinds_and_no_helper_module():
    assert kinds.names() == ("forward_value", "gradient", "model_forward", "model_gradient",
                             "timing", "accuracy")
    for name in kinds.names():
        assert kind_module(name).name == name
    for helper in ("loading", "cases", "base", "judging"):
        with pytest.raises(KeyError, match="no check kind"):
            kind_module(helper)


def test_a_typo_in_a_kind_key_fails_at_load_time_naming_the_item_and_the_key(tmp_path):
    text = SPEC_PATH.read_text().replace('forward = "conv_layers:conv_forward_naive"',
                                         'foward = "conv_layers:conv_forward_naive"', 1)
    typo = tmp_path / "grading.toml"
    typo.write_text(text)
    with pytest.raises(SpecError) as error:
        load_spec(typo)
    message = str(error.value)
    assert "item conv_layers.conv_backward_naive.gradient" in message
    assert "unknown key 'foward'" in message
    assert "did you mean 'forward'?" in message


def test_a_missing_required_key_a_wrong_type_and_an_unknown_setting_are_named():
    without = {k: v for k, v in GRADIENT.items() if k != "forward"}
    with pytest.raises(SpecError, match=r"item layers\.relu_backward\.gradient: a gradient item "
                                        r"needs the key 'forward'"):
        parse_spec(spec_with(without))
    timing = dict(GRADIENT, id="t.t.t", kind="timing", max_ratio="fast")
    del timing["forward"]
    with pytest.raises(SpecError, match=r"item t\.t\.t: max_ratio must be a number, got 'fast'"):
        parse_spec(spec_with(timing))
    with pytest.raises(SpecError, match=r"\[settings\] has no key 'numeric_tolerence' "
                                        r"\(did you mean 'numeric_tolerance'\?\)"):
        parse_spec(spec_with(GRADIENT, numeric_tolerence=1e-5))
    with pytest.raises(SpecError, match="did you mean 'gradient'"):
        parse_spec(spec_with(dict(GRADIENT, kind="gradeint")))


def test_a_key_of_another_kind_is_unknown_and_the_defaults_are_filled_in():
    with pytest.raises(SpecError, match="unknown key 'max_ratio'"):
        parse_spec(spec_with(dict(GRADIENT, max_ratio=3.0)))
    accuracy = {"id": "cnn.a.accuracy", "kind": "accuracy", "function": "cnn:ThreeLayerConvNet",
                "points": 100, "time_limit": 60, "visibility": "hidden", "full_credit_at": 0.5}
    extras = parse_spec(spec_with(accuracy)).items[0].extras
    assert extras["full_credit_at"] == 0.5
    assert extras["zero_credit_at"] == 0.40 and extras["validation_images"] == 1000
    # the held-out transformation's defaults stay with the grader (grade/data.py)
    assert "heldout_flip" not in extras


def test_the_shipped_spec_loads_and_its_header_documents_every_kind_key():
    load_spec()
    header = SPEC_PATH.read_text().split("\n[settings]", 1)[0]
    for declared in kinds.kinds():
        assert re.search(r"\b%s\b" % declared.name, header), declared.name
        for key in declared.keys:
            assert re.search(r"\b%s\b" % key.name, header), (declared.name, key.name)


# -- a toy kind (tests/autograder/checks/output_shape.py): one file and one registry line --------

TOY_MODULE = "tests.autograder.checks.output_shape"
TOY_ITEM = {"id": "layers.relu_forward.shape", "kind": "output_shape",
            "function": "layers:relu_forward", "cases": "relu_core", "points": 100,
            "time_limit": 10, "visibility": "visible"}
FLATTENING = {"layers": SimpleNamespace(relu_forward=lambda x: (np.maximum(x, 0).ravel(), x))}


def _grade_toy_items():
    """The toy item graded in process: right code, wrong shapes, wrong shapes not strict."""
    with pytest.raises(SpecError, match="unknown key 'strikt'.*did you mean 'strict'"):
        parse_spec(spec_with(dict(TOY_ITEM, strikt=False)))
    item = parse_spec(spec_with(TOY_ITEM)).items[0]
    assert item.extras["strict"] is True
    lenient = parse_spec(spec_with(dict(TOY_ITEM, strict=False))).items[0]
    return (run_item_in_process(item, support.reference(), reference_modules=support.reference()),
            run_item_in_process(item, FLATTENING, reference_modules=support.reference()),
            run_item_in_process(lenient, FLATTENING, reference_modules=support.reference()))


def _assert_toy_verdicts(right, wrong, forgiven):
    assert (right.status, right.score) == ("passed", 100.0)
    assert (wrong.status, wrong.score) == ("failed", 0.0)
    assert "shape (12,), expected (3, 4)" in wrong.output
    assert forgiven.status == "passed"


def test_a_new_kind_is_one_file_and_one_registry_line(monkeypatch):
    with pytest.raises(SpecError, match="unknown kind 'output_shape'"):
        parse_spec(spec_with(TOY_ITEM))
    monkeypatch.setattr(kinds, "REGISTERED", kinds.REGISTERED + [TOY_MODULE])
    assert kinds.names()[-1] == "output_shape"
    _assert_toy_verdicts(*_grade_toy_items())


def test_a_kind_object_can_be_registered_for_a_with_block():
    from tests.autograder.checks import output_shape
    with kinds.registered(output_shape.KIND):
        verdicts = _grade_toy_items()
    _assert_toy_verdicts(*verdicts)
    assert "output_shape" not in kinds.names()


def test_judge_case_reports_a_failed_side_before_the_kind_judges():
    from autograder.checks.observation import error_observation
    called = []
    probe = kinds.Kind("probe", lambda *args: {}, lambda *args: called.append(args))
    failed = probe.judge_case(SimpleNamespace(extras={}), {},
                              error_observation("ValueError", "boom", where="f"), {})
    assert failed.status == "error" and "boom" in failed.message and called == []


# -- the kind flags the report and the release read ------------------------------------------

def _toy_spec_file(tmp_path, visibility):
    lines = ["[settings]", "total_points = 100", "", "[[item]]"]
    lines += ['%s = %s' % (k, '"%s"' % v if isinstance(v, str) else v)
              for k, v in dict(TOY_ITEM, visibility=visibility).items()]
    path = tmp_path / "grading.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def saved_model_toy(base):
    """The toy kind as one that grades the saved model (it declares the keys such a kind must)."""
    import dataclasses
    from autograder.checks.kinds import accuracy
    from autograder.checks.kinds.base import SAVED_MODEL_KEYS
    return dataclasses.replace(base, grades_saved_model=True, keys=base.keys + tuple(
        accuracy.KIND.key(name) for name in SAVED_MODEL_KEYS))


@pytest.mark.parametrize("priced", [False, True])
def test_a_hidden_item_ships_in_the_visible_spec_only_if_its_kind_grades_the_saved_model(
        tmp_path, priced):
    from autograder.release.manifest import visible_spec_text
    from tests.autograder.checks import output_shape
    spec_path = _toy_spec_file(tmp_path, "hidden")
    with kinds.registered(saved_model_toy(output_shape.KIND) if priced else output_shape.KIND):
        text = visible_spec_text(spec_path)
    assert ('id = "%s"' % TOY_ITEM["id"] in text) == priced
    # the kit's own: the accuracy rule is priced, the hidden timing and secret items are not
    shipped = visible_spec_text()
    for item in load_spec().items:
        if item.visibility == "hidden":
            assert ('id = "%s"' % item.id in shipped) == (item.kind == "accuracy"), item.id


@pytest.mark.parametrize("flavour", ["outputs", "time", "saved_model"])
def test_the_feedback_names_the_inputs_only_of_kinds_that_compare_outputs(flavour):
    import dataclasses
    from autograder.checks.outcome import ItemResult
    from autograder.report.feedback import inputs_line
    from tests.autograder.checks import output_shape
    result = ItemResult(TOY_ITEM["id"], TOY_ITEM["id"], 0.0, 100.0, False, "", kind="output_shape",
                        cases_passed=1, cases_total=3)
    declared = {"outputs": output_shape.KIND,
                "time": dataclasses.replace(output_shape.KIND, measures_time=True),
                "saved_model": saved_model_toy(output_shape.KIND)}[flavour]
    with kinds.registered(declared):
        line = inputs_line(result)
    assert line.startswith("Graded on new inputs") if flavour == "outputs" else line == ""
    assert inputs_line(result) == ""   # no longer a registered kind
    for name in ("timing", "accuracy"):
        assert inputs_line(dataclasses.replace(result, kind=name)) == ""
    assert inputs_line(dataclasses.replace(result, kind="gradient")).startswith("Graded on new")


def test_the_spec_header_documents_each_numeric_default_as_its_kind_declares_it():
    """The header repeats the defaults for the course's staff: they must be the Key defaults
    (e.g. the accuracy rule's, written in checks/kinds/accuracy.py only)."""
    header = SPEC_PATH.read_text().split("\n[settings]", 1)[0]
    prose = " ".join(line.lstrip("#").strip() for line in header.splitlines())
    for declared in kinds.kinds():
        for key in declared.keys:
            if isinstance(key.default, bool) or not isinstance(key.default, (int, float)):
                continue
            shown = re.search(r"\b%s \(([0-9.]+)" % key.name, prose)
            assert shown and float(shown.group(1)) == key.default, (declared.name, key.name)
