"""No reference code reaches release/: no line of any solution region (nndl
bodies between ### BEGIN/END SOLUTION, the notebooks' solution and hidden-test
regions) survives in any released file, notebooks included."""
import re
from pathlib import Path

import nbformat
import pytest

from autograder.release.build import tree_files
from autograder.release.stubs import find_regions
from autograder.spec import load_spec

REPO_ROOT = Path(__file__).resolve().parents[3]
RELEASE = REPO_ROOT / "release"
NOTEBOOK_REGION = re.compile(r"^### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)^### END \1",
                             re.DOTALL | re.MULTILINE)


def code_lines(text):
    """Stripped lines that are code (not blank, not comments)."""
    return {line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")}


def reference_regions():
    """(where, region text) of every marked region of the instructor sources."""
    regions = []
    for path in sorted((REPO_ROOT / "solutions" / "nndl").glob("*.py")):
        lines = path.read_text().splitlines()
        for region in find_regions(path.read_text(), path.name):
            regions.append(("%s:%d" % (path.name, region.begin),
                            "\n".join(lines[region.begin:region.end - 1])))
    for path in sorted((REPO_ROOT / "assignment").glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            for match in NOTEBOOK_REGION.finditer(cell.source + "\n"):
                regions.append(("%s:%s" % (path.name, cell.id), match.group(2)))
    return regions


def provided_lines():
    """Code lines the instructor sources hold OUTSIDE any region (provided code)."""
    lines = set()
    for path in sorted((REPO_ROOT / "solutions" / "nndl").glob("*.py")):
        text = path.read_text().splitlines()
        inside = set()
        for region in find_regions(path.read_text(), path.name):
            inside.update(range(region.begin - 1, region.end))
        lines |= code_lines("\n".join(l for i, l in enumerate(text) if i not in inside))
    for path in sorted((REPO_ROOT / "assignment").glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            lines |= code_lines(NOTEBOOK_REGION.sub("", cell.source + "\n"))
    for path in sorted((REPO_ROOT / "assignment" / "cs231n").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".pyx", ".sh"):
            lines |= code_lines(path.read_text())
    for path in sorted((REPO_ROOT / "autograder").rglob("*.py")):
        if "release" not in path.relative_to(REPO_ROOT / "autograder").parts:
            lines |= code_lines(path.read_text())
    return lines


def solution_only_lines():
    """line -> where, for region lines that appear nowhere in provided code."""
    provided = provided_lines()
    found = {}
    for where, text in reference_regions():
        for line in code_lines(text) - provided:
            found.setdefault(line, where)
    return found


def released_text(path):
    if path.suffix == ".ipynb":
        nb = nbformat.read(str(path), as_version=4)
        return "\n".join(cell.source for cell in nb.cells) + "\n" + "\n".join(
            o.get("text", "") for cell in nb.cells for o in cell.get("outputs", []))
    return path.read_text(errors="replace")


def leaks(release_root, secret_lines):
    found = []
    for relpath in tree_files(release_root):
        path = release_root / relpath
        if path.suffix in (".npz", ".so", ".zip"):
            continue
        for line in code_lines(released_text(path)) & set(secret_lines):
            found.append((relpath, line, secret_lines[line]))
    return found


def test_the_check_covers_every_region_with_many_lines():
    regions = reference_regions()
    assert len(regions) >= 30
    assert any(where.startswith("CNN.ipynb:cnn-final-config") for where, _ in regions)
    hidden = [i for i in load_spec().items if i.visibility == "hidden" and i.kind != "accuracy"]
    assert sum(".ipynb:" in where for where, _ in regions) == len(hidden) + 1  # + the final config
    assert len(solution_only_lines()) >= 150


def test_no_solution_line_survives_in_any_released_file():
    assert RELEASE.is_dir()
    assert leaks(RELEASE, solution_only_lines()) == []


def test_a_leaked_line_is_caught(tmp_path):
    secret = solution_only_lines()
    line = next(l for l, where in sorted(secret.items()) if where.startswith("conv_layers.py"))
    (tmp_path / "nndl").mkdir()
    (tmp_path / "nndl" / "conv_layers.py").write_text("def f(x):\n        %s\n" % line)
    assert [(r, l) for r, l, _ in leaks(tmp_path, secret)] == [("nndl/conv_layers.py", line)]
