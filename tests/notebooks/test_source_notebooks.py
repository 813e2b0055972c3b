"""The instructor notebooks in assignment/ (the notebooks' only source): nbgrader
metadata consistent with the grading spec, test cells calling the shared checks,
quoted numbers equal to the reference's, committed outputs clean."""
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.spec import load_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMES = ("CNN-Layers", "CNN-BatchNorm", "CNN")
CHECK_CALL = re.compile(r'^check\("([^"]+)"\);$', re.MULTILINE)
NOT_IN_NOTEBOOKS = ("accuracy",)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)


def load(name):
    return nbformat.read(str(REPO_ROOT / "assignment" / (name + ".ipynb")), as_version=4)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def graded_cells():
    """(notebook, cell index, cell) of every graded test cell."""
    return [(name, i, cell) for name in NAMES for i, cell in enumerate(load(name).cells)
            if nbgrader_meta(cell).get("grade")]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_valid_nbformat_and_every_cell_has_nbgrader_metadata(name):
    nb = load(name)
    nbformat.validate(nb)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        assert meta.get("schema_version") == 3, cell.id
        assert meta["grade_id"] == cell.id
        assert meta["locked"] != meta["solution"], "a cell is either provided or the student's"


def test_grade_ids_are_unique_across_the_assignment():
    ids = [nbgrader_meta(cell)["grade_id"] for name in NAMES for cell in load(name).cells]
    assert len(ids) == len(set(ids))


def test_each_spec_item_has_exactly_one_test_cell_with_its_points():
    spec = load_spec()
    cells_by_item = {}
    for name, index, cell in graded_cells():
        items = CHECK_CALL.findall(cell.source)
        assert len(items) == 1, "%s cell %d must run exactly one check" % (name, index)
        assert "from autograder.notebook import check" in cell.source
        cells_by_item.setdefault(items[0], []).append((name, index, cell))
    # The accuracy of the saved model is graded by `autograder grade`, not in a cell.
    in_notebooks = [item for item in spec.items if item.kind not in NOT_IN_NOTEBOOKS]
    assert sorted(cells_by_item) == sorted(item.id for item in in_notebooks)
    for item in in_notebooks:
        [(name, index, cell)] = cells_by_item[item.id]
        assert nbgrader_meta(cell)["points"] == item.points, item.id
        assert cell.cell_type == "code" and nbgrader_meta(cell)["locked"]
    assert sum(nbgrader_meta(c)["points"] for _, _, c in graded_cells()) == \
        spec.settings.total_points - sum(i.points for i in spec.items if i.kind in NOT_IN_NOTEBOOKS)


def test_hidden_items_sit_inside_hidden_test_regions_and_visible_ones_outside():
    spec = load_spec()
    for name, index, cell in graded_cells():
        [item_id] = CHECK_CALL.findall(cell.source)
        hidden = "".join(HIDDEN_REGION.findall(cell.source))
        inside = item_id in CHECK_CALL.findall(hidden)
        assert inside == (spec.item(item_id).visibility == "hidden"), (name, index, item_id)


def test_the_only_solution_cell_is_the_final_training_configuration():
    solutions = [(name, cell) for name in NAMES for cell in load(name).cells
                 if nbgrader_meta(cell).get("solution")]
    assert [(name, cell.id) for name, cell in solutions] == [("CNN", "cnn-final-config")]
    source = solutions[0][1].source
    assert "### BEGIN SOLUTION" in source and "### END SOLUTION" in source
    assert "ThreeLayerConvNet(" in source and "Solver(" in source


def test_the_model_is_saved_under_the_file_name_the_grader_reads(tmp_path, monkeypatch):
    spec = load_spec()
    model_file = spec.item("cnn.ThreeLayerConvNet.accuracy").extras["model_file"]
    run_saving_cell(tmp_path, quick=False, monkeypatch=monkeypatch)
    assert [p.name for p in tmp_path.iterdir()] == [model_file]


def test_long_cells_honour_quick_mode_and_nbgrader_execution():
    for name in NAMES:
        setup = load(name).cells[1].source
        assert "os.environ.get('CNN_HOMEWORK_QUICK') == '1'" in setup
        assert "os.environ.get('NBGRADER_EXECUTION')" in setup
    cells = {cell.id: cell.source for cell in load("CNN").cells}
    assert "if GRADING:" in cells["cnn-final-train"]
    assert "if SHORT_RUN:" in cells["cnn-data"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_outputs_come_from_a_clean_reference_run(name):
    """Outputs are stored (from the reference) and hold no error."""
    nb = load(name)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "run the notebook fully"
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", (cell.id, output.get("ename"))
            assert not (output.output_type == "stream" and output.name == "stderr"), cell.id


class CallRecorder(object):
    """Stands in for ThreeLayerConvNet and Solver: keeps the keyword arguments."""
    calls = {}

    def __init__(self, *args, **kwargs):
        CallRecorder.calls[self.name] = kwargs


def test_the_final_training_configuration_is_train_cifars_reference():
    # One configuration: the notebook's solution cell and cs231n.train_cifar
    # (whose measured accuracy the course quotes) must train the same network.
    from cs231n import train_cifar

    [cell] = [c for c in load("CNN").cells if c.id == "cnn-final-config"]
    CallRecorder.calls = {}
    namespace = {
        "np": np, "data": {},
        "ThreeLayerConvNet": type("Model", (CallRecorder,), {"name": "model"}),
        "Solver": type("Solver", (CallRecorder,), {"name": "solver"}),
    }
    exec(cell.source, namespace)
    model_kwargs = dict(CallRecorder.calls["model"], dtype=np.float32)  # the class default
    assert model_kwargs == train_cifar.REFERENCE_MODEL
    solver_kwargs = {k: v for k, v in CallRecorder.calls["solver"].items()
                     if k not in ("print_every", "verbose", "seed")}
    assert solver_kwargs == train_cifar.REFERENCE_SOLVER


QUOTE = re.compile(r"^correct_(\w+) = np\.array\(", re.MULTILINE)


def reference_namespace():
    """What a tagged cell needs: numpy, rel_error and the reference layers (in process:
    the reference is trusted code)."""
    sys.path.insert(0, str(REPO_ROOT / "solutions"))
    import nndl.conv_layers as reference
    namespace = {"np": np, "rel_error": lambda x, y: float(np.max(np.abs(x - y)))}
    namespace.update({k: v for k, v in vars(reference).items() if not k.startswith("_")})
    return namespace


def test_every_quoted_array_is_in_a_tagged_cell():
    """A quote outside a `reference-values` cell would escape the tool that refreshes them."""
    quoting = [(name, cell.id, cell.metadata.get("tags", [])) for name in NAMES
               for cell in load(name).cells if QUOTE.search(cell.source)]
    assert [(name, cell_id) for name, cell_id, _ in quoting] == [
        ("CNN-Layers", "layers-conv-forward"), ("CNN-Layers", "layers-pool-forward")]
    assert all("reference-values" in tags for _, _, tags in quoting)


@pytest.mark.parametrize("cell_id", ["layers-conv-forward", "layers-pool-forward"])
def test_quoted_numbers_are_what_the_reference_computes_now(cell_id):
    [cell] = [c for c in load("CNN-Layers").cells if c.id == cell_id]
    namespace = reference_namespace()
    exec(compile(cell.source, cell_id, "exec"), namespace)
    [name] = QUOTE.findall(cell.source)
    quoted, computed = namespace["correct_" + name], namespace[name]
    assert quoted.shape == computed.shape
    # Quoted to 8 decimals: off by at most half a unit of the last one.
    assert np.max(np.abs(quoted - computed)) <= 0.5e-8 + 1e-15
    assert np.max(np.abs(computed)) > 0.1  # numbers worth quoting, not zeros


# ---- the saving cell: quick mode never replaces the student's model ------------------------

class _FakeSolver:
    """What the saving cell asks of the solver: a validation accuracy."""

    def check_accuracy(self, X, y):
        return 0.2


def run_saving_cell(folder, quick, monkeypatch):
    """Run CNN.ipynb's saving cell in `folder` with a stand-in model and save_model (which
    writes the model's marker bytes); returns what the cell printed."""
    import contextlib
    import io
    import os
    source = {c.id: c for c in load("CNN").cells}["cnn-final-save"].source

    def save_model(model, path):
        Path(path).write_bytes(model)

    monkeypatch.chdir(folder)
    namespace = {"GRADING": False, "QUICK": quick, "os": os, "solver": _FakeSolver(),
                 "data": {"X_val": None, "y_val": None}, "model": b"model bytes",
                 "save_model": save_model}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "cnn-final-save", "exec"), namespace)
    return printed.getvalue()


def test_quick_mode_saves_beside_the_trained_model_and_never_touches_it(tmp_path, monkeypatch):
    trained = tmp_path / "cnn_model.npz"
    trained.write_bytes(b"the student's trained model")
    printed = run_saving_cell(tmp_path, quick=True, monkeypatch=monkeypatch)
    assert trained.read_bytes() == b"the student's trained model"
    assert (tmp_path / "cnn_model.quick.npz").read_bytes() == b"model bytes"
    assert "saved as cnn_model.quick.npz" in printed
    assert "cnn_model.npz, the model you hand in, was not touched" in printed


def test_quick_mode_without_a_trained_model_does_not_create_one(tmp_path, monkeypatch):
    run_saving_cell(tmp_path, quick=True, monkeypatch=monkeypatch)
    assert not (tmp_path / "cnn_model.npz").exists()


def test_a_real_run_saves_cnn_model_npz_and_says_so(tmp_path, monkeypatch):
    printed = run_saving_cell(tmp_path, quick=False, monkeypatch=monkeypatch)
    assert (tmp_path / "cnn_model.npz").read_bytes() == b"model bytes"
    assert "Saved cnn_model.npz" in printed
