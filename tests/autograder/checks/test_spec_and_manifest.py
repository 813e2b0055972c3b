"""The grading spec loader's validation, and the visible-only spec of a release."""
import tomllib

import pytest

from autograder.release import manifest
from autograder.spec import SpecError, load_spec, parse_spec

from tests.autograder.checks import support

ITEM = {"id": "a.b.c", "kind": "forward_value", "function": "conv_layers:conv_forward_naive",
        "cases": "conv_core", "points": 100, "tolerance": 1e-7, "time_limit": 10,
        "visibility": "visible"}


def spec_with(*items, **settings):
    return {"settings": dict({"total_points": 100}, **settings), "item": list(items)}


def test_the_kit_spec_is_valid_and_totals_100():
    spec = load_spec()
    assert spec.total_points == 100
    assert len(set(spec.ids())) == len(spec.items)
    assert {item.visibility for item in spec.items} == {"visible", "hidden"}
    gradient = spec.item("conv_layers.conv_backward_naive.gradient")
    assert gradient.extras["forward"] == "conv_layers:conv_forward_naive"
    assert gradient.extras["numeric_tolerance"] == spec.settings.numeric_tolerance  # inherited


def test_every_function_in_the_spec_exists_in_the_reference():
    from autograder.checks.calls import resolve
    for item in load_spec().items:
        assert resolve(item.function, support.reference()) is not None
        if "forward" in item.extras:
            assert resolve(item.extras["forward"], support.reference()) is not None


@pytest.mark.parametrize("change, message", [
    ({"kind": "magic"}, "unknown kind"),
    ({"visibility": "secret"}, "visibility"),
    ({"points": 90}, "sum to 90"),
    ({"function": "no_colon"}, "<module>:<name>"),
    ({"scoring": "best"}, "scoring"),
])
def test_invalid_items_are_rejected(change, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(spec_with(dict(ITEM, **change)))


def test_duplicate_ids_and_missing_fields_are_rejected():
    with pytest.raises(SpecError, match="duplicate"):
        parse_spec(spec_with(dict(ITEM, points=50), dict(ITEM, points=50)))
    with pytest.raises(SpecError, match="lacks"):
        parse_spec(spec_with({k: v for k, v in ITEM.items() if k != "time_limit"}))


def test_visible_only_filters_and_skips_the_total():
    spec = parse_spec(spec_with(dict(ITEM, points=40), dict(ITEM, id="x.y.z", points=60, visibility="hidden")),
                      visible_only=True)
    assert [item.id for item in spec.items] == ["a.b.c"]


def test_written_visible_spec_holds_the_visible_items_and_the_accuracy_rule(tmp_path):
    path = manifest.write_visible_spec(tmp_path / "grading.toml")
    full, visible = load_spec(), load_spec(path, visible_only=True)
    assert visible.settings.visible_only is True
    assert [i.id for i in visible.items] == [i.id for i in full.items if i.visibility == "visible"]
    for item in visible.items:
        assert item == full.item(item.id)
    # the hidden accuracy item ships for its rule only (the self-check prices the model) ...
    shipped = load_spec(path)
    hidden = [i for i in shipped.items if i.visibility == "hidden"]
    assert [i.kind for i in hidden] == ["accuracy"]
    reference = full.item(hidden[0].id)
    assert hidden[0].points == reference.points
    for key in ("full_credit_at", "zero_credit_at", "heldout_margin", "model_file"):
        assert hidden[0].extras[key] == reference.extras[key]
    # ... without the held-out images' transformation, and no other hidden item ships
    text = path.read_text()
    for key in manifest.SECRET_KEYS:
        assert key not in text
    hidden_ids = {i.id for i in full.items if i.visibility == "hidden"} - {hidden[0].id}
    assert not any(item_id in text for item_id in hidden_ids)
    # deterministic text
    assert manifest.visible_spec_text() == path.read_text()
    tomllib.loads(path.read_text())


def test_manifest_lists_existing_student_safe_files():
    files = manifest.student_files()
    for relpath in files:
        assert (support.REPO / relpath).is_file(), relpath
    # every module of the checks package ships; nothing grader-only does
    checks = {p.relative_to(support.REPO).as_posix()
              for p in (support.REPO / "autograder" / "checks").rglob("*.py")}
    assert checks <= set(files)
    assert not any(part in relpath for relpath in files
                   for part in ("sandbox", "/grade", "report", "gradescope", "solutions"))


def test_items_are_selected_by_comma_separated_id_patterns():
    from autograder.spec import select_items
    spec = load_spec()
    assert select_items(spec, "") == list(spec.items)
    chosen = [item.id for item in select_items(spec, "cnn.*.gradient, layers.softmax_loss.loss")]
    assert chosen == ["layers.softmax_loss.loss", "cnn.ThreeLayerConvNet.loss.gradient"]
    assert select_items(spec, "no.such.*") == []


def test_the_students_spec_never_names_the_courses_heldout_file(tmp_path):
    """A spec naming the instructor's held-out file ships neither the key nor its path."""
    from tests.autograder.grade.helpers import spec_with as kit_spec_with
    secret = "instructor-only/cifar-private-2026.npz"
    spec = kit_spec_with(tmp_path / "grading.toml",
                         {"cnn.ThreeLayerConvNet.accuracy": {"heldout_file": secret}})
    assert load_spec(spec).item("cnn.ThreeLayerConvNet.accuracy").extras["heldout_file"] == secret
    text = manifest.visible_spec_text(spec)
    assert "heldout_file" not in text and "cifar-private-2026" not in text
    shipped = tmp_path / "student.toml"
    shipped.write_text(text)
    assert "heldout_file" not in load_spec(shipped).item("cnn.ThreeLayerConvNet.accuracy").extras


def test_the_release_copies_no_image_file_of_the_cs231n_tree(tmp_path):
    """A held-out file kept in the assignment's tree (against the README's advice) stays out."""
    from autograder.release.build import copy_cs231n
    src = tmp_path / "cs231n"
    (src / "datasets").mkdir(parents=True)
    (src / "datasets" / "get_datasets.py").write_text("# ships\n")
    (src / "datasets" / "heldout.npz").write_bytes(b"PK private")
    copy_cs231n(src, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()] == ["get_datasets.py"]
