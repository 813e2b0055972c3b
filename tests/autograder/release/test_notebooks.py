"""The student notebooks are nbgrader's own generate_assignment output:
solutions stubbed, hidden tests removed, outputs cleared, checksums kept."""
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import compute_checksum
from traitlets.config.loader import PyFileConfigLoader

from autograder.release import notebooks

REPO_ROOT = Path(__file__).resolve().parents[3]
NAMES = notebooks.NOTEBOOK_NAMES


def released(name):
    return nbformat.read(str(REPO_ROOT / "release" / (name + ".ipynb")), as_version=4)


def source(name):
    return nbformat.read(str(REPO_ROOT / "assignment" / (name + ".ipynb")), as_version=4)


@pytest.mark.parametrize("name", NAMES)
def test_cells_match_the_source_one_for_one(name):
    assert [c.id for c in released(name).cells] == [c.id for c in source(name).cells]


@pytest.mark.parametrize("name", NAMES)
def test_outputs_cleared_and_markers_gone(name):
    for cell in released(name).cells:
        assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        assert "HIDDEN TESTS" not in cell.source
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("name", NAMES)
def test_locked_and_graded_cells_keep_nbgrader_checksums(name):
    for cell in released(name).cells:
        meta = cell.metadata["nbgrader"]
        if meta["locked"] or meta["grade"] or meta["solution"]:
            assert meta["checksum"] == compute_checksum(cell), cell.id
        if meta["locked"]:
            assert cell.metadata.get("deletable") is False


def test_hidden_test_cells_keep_only_their_comment():
    for name in NAMES:
        for cell in source(name).cells:
            if "### BEGIN HIDDEN TESTS" in cell.source:
                student = {c.id: c for c in released(name).cells}[cell.id]
                assert student.source == cell.source.split("\n### BEGIN HIDDEN TESTS")[0]
                assert student.source.startswith("# Hidden test (graded after the deadline)")


def test_solution_cell_becomes_the_stub():
    [cell] = [c for c in released("CNN").cells if c.metadata["nbgrader"]["solution"]]
    assert cell.source.endswith(notebooks.CODE_STUB)
    assert "ThreeLayerConvNet(" not in cell.source


def test_course_config_keeps_student_files_and_ignores_submitted_kit(tmp_path):
    path = tmp_path / "nbgrader_config.py"
    path.write_text(notebooks.course_config(["nndl/cnn.py", "nndl/conv_layers.py"]))
    config = PyFileConfigLoader(path.name, path=str(tmp_path)).load_config()
    assert config.Autograde.exclude_overwriting == {"cnn": ["nndl/cnn.py", "nndl/conv_layers.py"]}
    assert {"autograder", "cs231n"} <= set(config.CourseDirectory.ignore)
    assert config.Execute.timeout == notebooks.CELL_TIMEOUT_SECONDS
    assert config.ClearSolutions.code_stub == {"python": notebooks.CODE_STUB}


@pytest.mark.parametrize("name", NAMES)
def test_every_provided_cell_ships_as_the_committed_notebook_has_it(name):
    """The release's cells come from assignment/*.ipynb (no other copy of their text):
    every cell that is neither the student's nor a hidden test is the same, metadata
    tags included."""
    committed = {c.id: c for c in source(name).cells}
    for cell in released(name).cells:
        original = committed[cell.id]
        meta = original.metadata["nbgrader"]
        if meta["solution"] or "### BEGIN HIDDEN TESTS" in original.source:
            continue
        assert cell.source == original.source, cell.id
        assert cell.cell_type == original.cell_type
        assert cell.metadata.get("tags") == original.metadata.get("tags"), cell.id
