"""notebook_metadata: the committed notebooks pass, and each way an edit in Jupyter
can break nbgrader's metadata or the kit's cell ids is caught and named."""
import copy
from pathlib import Path

import nbformat
import pytest

from autograder.release import notebook_metadata
from autograder.release.notebooks import NOTEBOOK_NAMES

REPO_ROOT = Path(__file__).resolve().parents[3]


def committed():
    return {name + ".ipynb": nbformat.read(str(REPO_ROOT / "assignment" / (name + ".ipynb")),
                                           as_version=4) for name in NOTEBOOK_NAMES}


def cell(notebooks, name, cell_id):
    [found] = [c for c in notebooks[name].cells if c.id == cell_id]
    return found


def test_committed_notebooks_have_no_problem():
    assert notebook_metadata.problems(committed()) == []


def set_points(c, value):
    c.metadata["nbgrader"]["points"] = value


def drop_metadata(c):
    del c.metadata["nbgrader"]


def unlock_provided(c):
    c.metadata["nbgrader"]["locked"] = False


def lock_solution(c):
    c.metadata["nbgrader"]["locked"] = True


def drop_markers(c):
    c.source = c.source.replace("### BEGIN SOLUTION\n", "")


def rename_grade_id(c):
    c.metadata["nbgrader"]["grade_id"] = "something-else"


def break_quote(c):
    c.source = c.source.replace("correct_out = np.array(", "correct_out = list(")


# (notebook, cell id, edit, words of the problem)
BREAKAGES = [
    ("CNN-Layers.ipynb", "layers-conv-forward-test", lambda c: set_points(c, 0), "points > 0"),
    ("CNN-Layers.ipynb", "layers-conv-forward-test", lambda c: set_points(c, "3"), "points > 0"),
    ("CNN-Layers.ipynb", "layers-intro", lambda c: set_points(c, 2), "not graded"),
    ("CNN.ipynb", "cnn-intro", drop_metadata, "no nbgrader metadata"),
    ("CNN.ipynb", "cnn-intro", unlock_provided, "either locked"),
    ("CNN.ipynb", "cnn-final-config", lock_solution, "either locked"),
    ("CNN.ipynb", "cnn-final-config", drop_markers, "BEGIN SOLUTION"),
    ("CNN-BatchNorm.ipynb", "bn-forward", rename_grade_id, "differs from the cell id"),
    ("CNN-Layers.ipynb", "layers-conv-forward", break_quote, "np.array"),
]


@pytest.mark.parametrize("name,cell_id,edit,words", BREAKAGES)
def test_a_broken_cell_is_named(name, cell_id, edit, words):
    notebooks = committed()
    edit(cell(notebooks, name, cell_id))
    found = notebook_metadata.problems(notebooks)
    assert len(found) == 1, found
    assert found[0].startswith(name) and "id %s" % cell_id in found[0]
    assert words in found[0]


def test_an_id_used_twice_across_notebooks_is_named():
    notebooks = committed()
    twin = copy.deepcopy(cell(notebooks, "CNN-Layers.ipynb", "layers-intro"))
    notebooks["CNN.ipynb"].cells.append(twin)
    [problem] = notebook_metadata.problems(notebooks)
    assert "id also used by CNN-Layers.ipynb cell 0" in problem


def test_a_cell_added_in_jupyter_is_caught_then_locked_by_the_fix():
    notebooks = committed()
    added = nbformat.v4.new_markdown_cell("A new remark.")  # a random id, no metadata
    notebooks["CNN.ipynb"].cells.insert(3, added)
    [problem] = notebook_metadata.problems(notebooks)
    assert "no nbgrader metadata" in problem and "--fix" in problem
    assert notebook_metadata.lock_new_cells(notebooks["CNN.ipynb"]) == [added.id]
    assert notebook_metadata.problems(notebooks) == []
    assert added.metadata["nbgrader"]["locked"] and added.metadata["nbgrader"]["grade_id"] == added.id
