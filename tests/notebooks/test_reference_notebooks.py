"""Every instructor notebook runs top to bottom in a real kernel against the
reference solution (quick mode, real CIFAR-10), with no error anywhere and
every graded test cell passing cleanly (nbgrader scores a cell 0 for any error
or stderr output)."""
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.release.notebook_run import kernel_env, run_notebook

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMES = ("CNN-Layers", "CNN-BatchNorm", "CNN")


def execute(name, cwd, cifar10_dir):
    nb = nbformat.read(str(REPO_ROOT / "assignment" / (name + ".ipynb")), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    env = kernel_env(reference=True, quick=True, extra={"CIFAR10_DIR": str(cifar10_dir)})
    return run_notebook(nb, cwd, env, timeout=900)


def stdout_of(cell):
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def printed_numbers(cell, label):
    """Every number printed after `label` in the cell's stdout."""
    return [float(v) for v in re.findall(re.escape(label) + r"\s*([-+0-9.e]+)", stdout_of(cell))]


@pytest.fixture(scope="module")
def executed(tmp_path_factory, cifar10_dir):
    """name -> (executed notebook, working directory); each runs once."""
    cache = {}

    def get(name):
        if name not in cache:
            cwd = tmp_path_factory.mktemp(name)
            cache[name] = (execute(name, cwd, cifar10_dir), cwd)
        return cache[name]
    return get


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_without_error_and_graded_cells_pass(executed, name):
    nb, _ = executed(name)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    for cell in code:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.id
        if cell.metadata["nbgrader"].get("grade"):
            assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"], \
                (cell.id, [o.text for o in cell.outputs if o.get("name") == "stderr"])


def test_layers_notebook_reports_the_differences_it_promises(executed):
    nb, _ = executed("CNN-Layers")
    cells = {cell.id: cell for cell in nb.cells}
    assert printed_numbers(cells["layers-conv-forward"], "difference:")[0] < 1e-7
    assert max(printed_numbers(cells["layers-conv-backward"], "error:")) < 1e-7
    assert printed_numbers(cells["layers-pool-forward"], "difference:")[0] < 1e-7
    assert printed_numbers(cells["layers-pool-backward"], "error:")[0] < 1e-10
    for cell_id in ("layers-fast-conv", "layers-fast-pool"):
        assert max(printed_numbers(cells[cell_id], "difference:")) < 1e-9, cell_id
    for cell_id in ("layers-conv-relu-pool", "layers-conv-relu"):
        assert max(printed_numbers(cells[cell_id], "error:")) < 1e-7, cell_id


def test_batchnorm_notebook_normalises_each_channel(executed):
    nb, _ = executed("CNN-BatchNorm")
    text = stdout_of({cell.id: cell for cell in nb.cells}["bn-forward"])
    after = text.split("After spatial batch normalization:")[1]
    stds = [float(v) for v in re.search(r"Stds:\s*\[([^\]]*)\]", after).group(1).split()]
    assert np.allclose(stds, 1.0, atol=1e-3)


def test_cnn_notebook_initial_loss_is_about_log_10_and_saves_a_loadable_model(executed):
    nb, cwd = executed("CNN")
    cells = {cell.id: cell for cell in nb.cells}
    [plain] = printed_numbers(cells["cnn-loss"], "(no regularization):")
    [regularised] = printed_numbers(cells["cnn-loss"], "(with regularization):")
    assert abs(plain - np.log(10)) < 0.01
    assert regularised > plain
    sys.path.insert(0, str(REPO_ROOT / "solutions"))
    from cs231n.model_io import load_model
    from nndl.cnn import ThreeLayerConvNet
    model = load_model(str(cwd / "cnn_model.quick.npz"), ThreeLayerConvNet)   # quick mode's file
    assert model.params["W1"].shape == (64, 3, 3, 3)
    assert model.use_batchnorm
