"""The committed notebooks are the release's only source: in a copy of the kit, a
notebook edited as Jupyter saves it (a markdown cell, a code cell, a new cell)
reaches the release with no other edit; a cell without nbgrader metadata stops the
build until `authoring check --fix` locks it."""
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = "CNN-BatchNorm.ipynb"
REMARK = "Edited in Jupyter: a remark for this term."
NEW_CELL = "print('a cell added in Jupyter')"


@pytest.fixture(scope="module")
def kit_copy(tmp_path_factory):
    """The kit's sources (no data, no build artefacts, not a git checkout)."""
    root = tmp_path_factory.mktemp("kit") / "kit"
    skip = shutil.ignore_patterns("__pycache__", "*.so", "build", "cifar-10-batches-py", "*.c")
    for folder in ("autograder", "solutions", "assignment"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=skip)
    return root


def run(kit, *args):
    # cwd first on sys.path: the copy's autograder, not the checkout's, runs.
    return subprocess.run([sys.executable, "-m", *args], cwd=kit, capture_output=True,
                          text=True, timeout=600)


def edit_as_jupyter_would(path):
    nb = nbformat.read(str(path), as_version=4)
    cells = {cell.id: cell for cell in nb.cells}
    cells["bn-intro"].source += "\n\n" + REMARK
    cells["bn-forward"].source = cells["bn-forward"].source.replace(
        "N, C, H, W = 2, 3, 4, 5", "N, C, H, W = 2, 3, 4, 6")
    added = nbformat.v4.new_code_cell(NEW_CELL)  # a random id and no nbgrader metadata
    nb.cells.insert(nb.cells.index(cells["bn-forward"]) + 1, added)
    nbformat.write(nb, str(path))
    return added.id


def test_an_edited_notebook_reaches_the_release_with_no_other_edit(kit_copy, tmp_path):
    added_id = edit_as_jupyter_would(kit_copy / "assignment" / NOTEBOOK)
    out = tmp_path / "release"

    refused = run(kit_copy, "autograder", "release", "--out", str(out))
    assert refused.returncode == 1
    assert "release not written" in refused.stderr
    assert "%s cell" % NOTEBOOK in refused.stderr and "id %s" % added_id in refused.stderr
    assert "no nbgrader metadata" in refused.stderr
    assert not out.exists()

    fixed = run(kit_copy, "autograder.release.authoring", "check", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert added_id in fixed.stdout

    built = run(kit_copy, "autograder", "release", "--out", str(out))
    assert built.returncode == 0, built.stderr
    released = {cell.id: cell for cell in nbformat.read(str(out / NOTEBOOK), as_version=4).cells}
    assert released["bn-intro"].source.endswith(REMARK)
    assert "N, C, H, W = 2, 3, 4, 6" in released["bn-forward"].source
    assert released[added_id].source == NEW_CELL
    assert released[added_id].metadata["nbgrader"]["locked"]
    order = list(released)
    assert order.index(added_id) == order.index("bn-forward") + 1
    # The checkout's own notebook is untouched: the copy's build read the copy.
    checkout = nbformat.read(str(REPO_ROOT / "assignment" / NOTEBOOK), as_version=4)
    assert REMARK not in checkout.cells[0].source
