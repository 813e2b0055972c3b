"""Run against the release (stubs, no reference, nothing of the kit on the
path), each notebook stops at its first unimplemented piece with the stub's
message naming the function and the file, after every earlier cell ran."""
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from autograder.release.notebook_run import kernel_env, run_notebook

REPO_ROOT = Path(__file__).resolve().parents[2]

# notebook -> (id of the first cell that needs student code, expected message)
FIRST_GAP = {
    "CNN-Layers": ("layers-conv-forward",
                   "conv_forward_naive in nndl/conv_layers.py: not implemented yet"),
    "CNN-BatchNorm": ("bn-forward",
                      "spatial_batchnorm_forward in nndl/conv_layers.py: not implemented yet"),
    "CNN": ("cnn-loss", "ThreeLayerConvNet.__init__ in nndl/cnn.py: not implemented yet"),
}


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory):
    """A copy of release/ as a student gets it."""
    folder = tmp_path_factory.mktemp("student") / "cnn"
    shutil.copytree(REPO_ROOT / "release", folder,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "build"))
    return folder


@pytest.mark.parametrize("name", sorted(FIRST_GAP))
def test_stub_notebook_stops_at_first_unimplemented_piece(student_copy, cifar10_dir, name):
    cell_id, message = FIRST_GAP[name]
    nb = nbformat.read(str(student_copy / (name + ".ipynb")), as_version=4)
    env = kernel_env(reference=False, quick=True, kit=False,
                     extra={"CIFAR10_DIR": str(cifar10_dir)})
    with pytest.raises(CellExecutionError) as raised:
        run_notebook(nb, student_copy, env, timeout=600)
    assert raised.value.ename == "NotImplementedError"
    assert message in raised.value.evalue
    failed = [cell.id for cell in nb.cells
              if any(o.output_type == "error" for o in cell.get("outputs", []))]
    assert failed == [cell_id]
    before = [cell for cell in nb.cells[:[c.id for c in nb.cells].index(cell_id)]
              if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in before)
