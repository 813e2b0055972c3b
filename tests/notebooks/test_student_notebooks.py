"""A student who finished the homework: the release with the reference's nndl
(and the final training configuration written), nothing of the kit on the
path. Every notebook runs top to bottom in a real kernel and every visible
test cell passes against the expected values shipped in the release
(autograder/data/visible_expected.npz); hidden test cells are empty."""
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.release.notebook_run import kernel_env, run_notebook

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMES = ("CNN-Layers", "CNN-BatchNorm", "CNN")


@pytest.fixture(scope="module")
def finished_copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finished") / "cnn"
    shutil.copytree(REPO_ROOT / "release", folder,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "build"))
    shutil.rmtree(folder / "nndl")
    shutil.copytree(REPO_ROOT / "solutions" / "nndl", folder / "nndl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    # As if the student had run `python setup.py build_ext --inplace` (tested
    # on its own in tests/autograder/release/test_build.py).
    for built in (REPO_ROOT / "assignment" / "cs231n").glob("im2col_cython*.so"):
        shutil.copyfile(built, folder / "cs231n" / built.name)
    instructor = {c.id: c for c in nbformat.read(
        str(REPO_ROOT / "assignment" / "CNN.ipynb"), as_version=4).cells}
    student = nbformat.read(str(folder / "CNN.ipynb"), as_version=4)
    for cell in student.cells:
        if cell.metadata["nbgrader"]["solution"]:
            cell.source = "\n".join(line for line in instructor[cell.id].source.splitlines()
                                    if "### " not in line)
    nbformat.write(student, str(folder / "CNN.ipynb"))
    return folder


@pytest.mark.parametrize("name", NAMES)
def test_finished_homework_passes_every_visible_test_cell(finished_copy, cifar10_dir, name):
    nb = nbformat.read(str(finished_copy / (name + ".ipynb")), as_version=4)
    env = kernel_env(reference=False, quick=True, kit=False,
                     extra={"CIFAR10_DIR": str(cifar10_dir)})
    run_notebook(nb, finished_copy, env, timeout=900)
    graded = [cell for cell in nb.cells if cell.metadata["nbgrader"].get("grade")]
    visible = [cell for cell in graded if "check(" in cell.source]
    assert visible, "each notebook has visible test cells"
    for cell in visible:
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert ": passed (" in printed, (cell.id, printed)
    for cell in graded:
        if cell not in visible:
            assert cell.outputs == [], cell.id  # a hidden test: only a comment here
    if name == "CNN":
        # quick mode saves its model beside the one a student hands in, never over it
        assert (finished_copy / "cnn_model.quick.npz").is_file()
        assert not (finished_copy / "cnn_model.npz").exists()
