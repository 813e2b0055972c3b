"""Facts written once (issue 24, "facts once"): the spec's file name and default path, the
model file's name and --items pattern matching each have one declaring module; every other
module imports the fact or takes it from the spec. Docstrings may name them (they explain);
string literals in code may not."""
import ast
from pathlib import Path

import autograder

PACKAGE = Path(autograder.__file__).resolve().parent

# Modules that may still write a fact themselves besides its declaring module: none now (a
# module added here is a change still to make, not a second source to keep).
STILL_TO_CHANGE = {"cnn_model.npz": set(), "grading.toml": set()}


def _docstrings(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _modules_with_literal(text):
    """Package-relative paths of the modules whose code (not docstrings) holds `text`."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and text in node.value and id(node) not in docstrings:
                found.add(path.relative_to(PACKAGE).as_posix())
                break
    return found


def _modules_using_name(name):
    """Package-relative paths of the modules that import or use `name`, its definer excluded."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.ImportFrom) and any(a.name == name for a in node.names)) \
                    or (isinstance(node, ast.Name) and node.id == name) \
                    or (isinstance(node, ast.Import) and any(a.name == name for a in node.names)):
                found.add(path.relative_to(PACKAGE).as_posix())
                break
    return found


def test_the_model_file_name_is_declared_once_by_the_accuracy_kind():
    assert _modules_with_literal("cnn_model.npz") == \
        {"checks/kinds/accuracy.py"} | STILL_TO_CHANGE["cnn_model.npz"]


def test_the_spec_file_name_is_written_once_beside_the_spec():
    assert _modules_with_literal("grading.toml") == \
        {"spec/__init__.py"} | STILL_TO_CHANGE["grading.toml"]


def test_the_default_spec_path_is_the_spec_modules_own():
    # SPEC_PATH of autograder.spec, read by every command; no private helper re-imported
    assert _modules_using_name("_default_spec_path") == set()
    assert not _modules_with_literal("autograder/spec") - {"release/manifest.py"} - \
        STILL_TO_CHANGE["grading.toml"]


def test_items_patterns_are_matched_by_the_spec_alone():
    assert _modules_using_name("fnmatch") == {"spec/__init__.py"}


def test_the_graded_model_file_is_the_specs_accuracy_item_s(tmp_path):
    from autograder.spec import SPEC_PATH, default_model_file, load_spec, model_file
    assert default_model_file() == "cnn_model.npz"
    assert model_file(load_spec()) == "cnn_model.npz"
    text = SPEC_PATH.read_text()
    assert text.count('model_file = "cnn_model.npz"') == 1
    other = tmp_path / "grading.toml"
    other.write_text(text.replace('model_file = "cnn_model.npz"', 'model_file = "mine.npz"'))
    assert model_file(load_spec(other)) == "mine.npz"


def test_items_patterns_split_and_unmatched_ones_are_named():
    from autograder.spec import item_patterns, load_spec, select_items, unmatched_patterns
    spec = load_spec()
    assert item_patterns(" layers.* , ,nosuch*") == ["layers.*", "nosuch*"]
    assert item_patterns(None) == []
    assert unmatched_patterns(spec, "layers.*,nosuch*") == ["nosuch*"]
    ids = [item.id for item in select_items(spec, "layers.*")]
    assert ids and all(i.startswith("layers.") for i in ids)
