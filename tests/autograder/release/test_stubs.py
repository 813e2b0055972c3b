"""Tests of autograder.release.stubs: the student stubs generated from the
reference nndl keep its API exactly, raise a NotImplementedError that says
where to work in every graded function, leak no solution line, and the
generator rejects misplaced markers and is deterministic.

The stubs are imported as `nndl` in a separate interpreter
(describe_package.py), so they never meet the reference in sys.modules.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.release.stubs import MarkerError, find_regions, generate_stubs, stub_source

REPO_ROOT = Path(__file__).resolve().parents[3]
REFERENCE = REPO_ROOT / "solutions" / "nndl"
DESCRIBE = Path(__file__).with_name("describe_package.py")


def describe(root, calls=False):
    """The JSON description of the package `nndl` found in root."""
    command = [sys.executable, "-I", str(DESCRIBE), str(root)] + (["calls"] if calls else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def stub_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("stubs")
    generate_stubs(REFERENCE, root / "nndl")
    return root


@pytest.fixture(scope="module")
def stub_description(stub_root):
    return describe(stub_root, calls=True)


@pytest.fixture(scope="module")
def reference_description():
    return describe(REFERENCE.parent)


def reference_files():
    return sorted(REFERENCE.glob("*.py"))


def regions_by_file():
    return {path.name: find_regions(path.read_text(), "nndl/" + path.name)
            for path in reference_files()}


def test_every_reference_file_gets_a_stub(stub_root):
    assert sorted(p.name for p in (stub_root / "nndl").glob("*.py")) == \
        [p.name for p in reference_files()]


def test_stub_modules_import_cleanly_from_the_stub_folder(stub_description, stub_root):
    assert stub_description["import_errors"] == {}
    assert Path(stub_description["package_file"]).parent == stub_root / "nndl"


def test_stub_api_equals_the_reference_api(stub_description, reference_description):
    assert Path(reference_description["package_file"]).parent == REFERENCE
    assert reference_description["import_errors"] == {}
    stub, reference = stub_description["modules"], reference_description["modules"]
    assert sorted(stub) == sorted(reference)
    for module in reference:
        assert sorted(stub[module]["members"]) == sorted(reference[module]["members"]), module
        assert stub[module] == reference[module], module
    # Sanity: the description really holds the API.
    conv = reference["conv_layers"]["members"]["conv_forward_naive"]
    assert conv["signature"] == "(x, w, b, conv_param)" and "H' = 1 +" in conv["doc"]
    assert "loss" in reference["cnn"]["members"]["ThreeLayerConvNet"]["methods"]


def test_every_graded_function_raises_not_implemented_naming_function_and_file(stub_description):
    owners = {(region.owner, name) for name, regions in regions_by_file().items()
              for region in regions}
    called = {(call["owner"], call["module"] + ".py") for call in stub_description["calls"]}
    # The call table covers every graded function of the reference.
    assert called == owners
    for call in stub_description["calls"]:
        where = "%s in nndl/%s.py" % (call["owner"], call["module"])
        assert call["raised"] == "NotImplementedError", where
        assert where in call["message"]


def raises_in(function_node):
    """Messages of the `raise NotImplementedError('...')` statements in a body."""
    messages = []
    for node in ast.walk(function_node):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                and getattr(node.exc.func, "id", None) == "NotImplementedError":
            messages.append(node.exc.args[0].value)
    return messages


def functions_by_qualname(tree):
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[prefix + child.name] = child
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(tree, "")
    return found


def test_every_region_becomes_one_raise_in_its_function(stub_root):
    # Covers the regions a call cannot reach too (e.g. a loss's backward half).
    for name, regions in regions_by_file().items():
        tree = ast.parse((stub_root / "nndl" / name).read_text())
        functions = functions_by_qualname(tree)
        for owner in {region.owner for region in regions}:
            count = sum(1 for region in regions if region.owner == owner)
            messages = raises_in(functions[owner])
            assert len(messages) == count, (name, owner)
            assert all("%s in nndl/%s" % (owner, name) in m for m in messages)
        # No raise outside the graded functions (e.g. at module level).
        total = len(raises_in(tree))
        assert total == len(regions), name


def code_lines(lines):
    """Stripped lines that are neither blank nor comments."""
    return {line.strip() for line in lines
            if line.strip() and not line.strip().startswith("#")}


def test_no_solution_line_appears_in_the_stub(stub_root):
    total_region_lines = 0
    for path in reference_files():
        lines = path.read_text().splitlines()
        regions = find_regions(path.read_text(), "nndl/" + path.name)
        inside = set()
        for region in regions:
            inside |= code_lines(lines[region.begin:region.end - 1])
        covered = set(i for region in regions for i in range(region.begin - 1, region.end))
        outside = code_lines(line for i, line in enumerate(lines) if i not in covered)
        stub_lines = code_lines((stub_root / "nndl" / path.name).read_text().splitlines())
        # A line that the provided code also holds (e.g. `return x`) gives nothing away.
        leaked = (inside - outside) & stub_lines
        assert not leaked, (path.name, sorted(leaked))
        total_region_lines += len(inside - outside)
    assert total_region_lines > 100  # the comparison really looked at the solutions


def test_stub_keeps_everything_outside_the_regions():
    path = REFERENCE / "conv_layers.py"
    source = path.read_text()
    stub = stub_source(source, "nndl/conv_layers.py").splitlines()
    lines = source.splitlines()
    regions = find_regions(source, "nndl/conv_layers.py")
    expected, cursor = [], 0
    for region in regions:
        expected += lines[cursor:region.begin - 1] + [None]
        cursor = region.end
    expected += lines[cursor:]
    assert len(stub) == len(expected)
    for got, want in zip(stub, expected):
        if want is None:
            assert got.strip().startswith("raise NotImplementedError(")
        else:
            assert got == want


# --------------------------------------------------------------------------- #
# marker errors
# --------------------------------------------------------------------------- #

MARKER_CASES = {
    "never closed": ("""\
def f(x):
    y = x
    ### BEGIN SOLUTION
    y = 2 * x
    return y
""", 3),
    "end without begin": ("""\
def f(x):
    y = 2 * x
    ### END SOLUTION
    return y
""", 3),
    "nested": ("""\
def f(x):
    ### BEGIN SOLUTION
    y = 2 * x
    ### BEGIN SOLUTION
    y = 3 * x
    ### END SOLUTION
    ### END SOLUTION
    return y
""", 4),
    "end indented unlike begin": ("""\
def f(x):
    if x:
        ### BEGIN SOLUTION
        y = 2 * x
    ### END SOLUTION
    return y
""", 5),
    "outside any function": ("""\
import math

### BEGIN SOLUTION
CONSTANT = math.pi
### END SOLUTION


def f(x):
    return CONSTANT * x
""", 3),
    "in a class body, outside its methods": ("""\
class Model(object):
    ### BEGIN SOLUTION
    scale = 2
    ### END SOLUTION

    def f(self, x):
        return self.scale * x
""", 2),
    "marker sharing its line": ("""\
def f(x):
    ### BEGIN SOLUTION (the doubling)
    y = 2 * x
    ### END SOLUTION
    return y
""", 2),
    "markers less indented than the function body": ("""\
def f(x):
    y = x
### BEGIN SOLUTION
    y = 2 * x
### END SOLUTION
    return y
""", 3),
    "region at column 0 closing a function": ("""\
def f(x):
    y = x
### BEGIN SOLUTION
    y = 2 * x
    return y
### END SOLUTION


def g():
    return 1
""", 3),
}


@pytest.mark.parametrize("case", sorted(MARKER_CASES))
def test_misplaced_markers_raise_marker_error_with_the_line(case):
    source, line = MARKER_CASES[case]
    with pytest.raises(MarkerError, match=r"pkg/mod\.py:%d:" % line):
        stub_source(source, "pkg/mod.py")


def test_generate_stubs_stops_at_a_marker_error(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "broken.py").write_text(MARKER_CASES["never closed"][0])
    with pytest.raises(MarkerError, match=r"reference/broken\.py:3:"):
        generate_stubs(reference, tmp_path / "out")


def test_valid_regions_in_nested_code_and_methods_are_replaced():
    source = """\
class Model(object):
    def loss(self, X, y=None):
        scores = None
        if y is None:
            ### BEGIN SOLUTION
            scores = X * 2
            ### END SOLUTION
            return scores
        ### BEGIN SOLUTION
        loss = 0.0
        ### END SOLUTION
        return loss
"""
    stub = stub_source(source, "pkg/model.py")
    assert stub == """\
class Model(object):
    def loss(self, X, y=None):
        scores = None
        if y is None:
            raise NotImplementedError('Model.loss in pkg/model.py: not implemented yet (YOUR CODE HERE)')
            return scores
        raise NotImplementedError('Model.loss in pkg/model.py: not implemented yet (YOUR CODE HERE)')
        return loss
"""


# --------------------------------------------------------------------------- #
# copying and determinism
# --------------------------------------------------------------------------- #

def test_files_without_markers_are_copied_unchanged(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    files = {
        "__init__.py": b"",
        "helpers.py": b'"""Provided helpers."""\n\n\ndef double(x):\n    return 2 * x\n',
        "no_final_newline.py": b"VALUE = 1",
        "blank_tail.py": b"VALUE = 2\n\n\n",
    }
    for name, content in files.items():
        (reference / name).write_bytes(content)
    generate_stubs(reference, tmp_path / "out")
    for name, content in files.items():
        assert (tmp_path / "out" / name).read_bytes() == content, name


def test_reference_init_is_copied_unchanged(stub_root):
    assert (stub_root / "nndl" / "__init__.py").read_bytes() == \
        (REFERENCE / "__init__.py").read_bytes()


def test_generator_is_deterministic(tmp_path):
    first = generate_stubs(REFERENCE, tmp_path / "first")
    second = generate_stubs(REFERENCE, tmp_path / "second")
    assert [p.name for p in first] == [p.name for p in second]
    assert [p.name for p in first] == sorted(p.name for p in first)
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
