"""collect_submission.py as released, run for real on a copy of a freshly built
release with the reference's nndl and training cell filled in: it warns about
unexecuted notebooks, executed copies beside them, error outputs and the
training cell left as the stub, refuses the zip for stubs left in nndl and a
missing model (unless --force), and writes a reproducible zip of exactly the
handed-in files."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.release import build

REPO_ROOT = Path(__file__).resolve().parents[3]
NNDL = sorted(p.name for p in (REPO_ROOT / "solutions" / "nndl").glob("*.py"))
NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")
EVERYTHING = sorted(list(NOTEBOOKS) + ["nndl/" + n for n in NNDL] + ["cnn_model.npz"])
SOLUTION_CELL = "cnn-final-config"


@pytest.fixture(scope="module")
def built_release(tmp_path_factory):
    """The release as `python -m autograder release` builds it from the kit now."""
    out = tmp_path_factory.mktemp("built") / "release"
    build.build_release(out)
    return out


def mark_executed(path, error_in=None):
    """Give every code cell of the notebook an execution count and an output, as a
    run would (error_in: id of a cell whose output is an error instead)."""
    nb = nbformat.read(str(path), as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            if cell.id == error_in:
                cell.outputs = [nbformat.v4.new_output("error", ename="ValueError",
                                                       evalue="shapes do not match", traceback=[])]
            else:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    nbformat.write(nb, str(path))


def clear_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, str(path))


@pytest.fixture
def homework(built_release, tmp_path):
    """A finished homework: the built release, the reference's nndl, the training cell
    written (the reference's, markers dropped), every notebook run, a saved model."""
    folder = tmp_path / "cnn"
    shutil.copytree(built_release, folder)
    for name in NNDL:
        shutil.copyfile(REPO_ROOT / "solutions" / "nndl" / name, folder / "nndl" / name)
    instructor = {c.id: c for c in nbformat.read(str(REPO_ROOT / "assignment" / "CNN.ipynb"),
                                                as_version=4).cells}
    student = nbformat.read(str(folder / "CNN.ipynb"), as_version=4)
    for cell in student.cells:
        if cell.id == SOLUTION_CELL:
            cell.source = "\n".join(line for line in instructor[cell.id].source.splitlines()
                                    if "### " not in line)
    nbformat.write(student, str(folder / "CNN.ipynb"))
    for name in NOTEBOOKS:
        mark_executed(folder / name)
    np.savez(folder / "cnn_model.npz", W1=np.zeros((2, 3, 3, 3)))
    (folder / "notes.txt").write_text("not handed in")
    return folder


def collect(folder, *args, cifar_dir=None):
    """Run the folder's collect_submission.py; CIFAR-10 is found only where cifar_dir says
    (None: nowhere, so the saved model's accuracy cannot be measured)."""
    env = dict(os.environ)
    env.pop("CIFAR10_DIR", None)
    if cifar_dir is not None:
        env["CIFAR10_DIR"] = str(cifar_dir)
    # No terminal on stdin: the script must not wait for an answer.
    return subprocess.run([sys.executable, "collect_submission.py", *args], cwd=folder, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def zipped(folder, name="cnn_submission.zip"):
    with zipfile.ZipFile(folder / name) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_finished_homework_gives_a_zip_of_exactly_the_required_files_and_no_warning(homework):
    result = collect(homework)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    members = zipped(homework)
    assert sorted(members) == EVERYTHING
    for name in EVERYTHING:
        assert members[name] == (homework / name).read_bytes(), name
    assert json.loads(members["CNN.ipynb"])["nbformat"] == 4


def test_the_model_is_stored_and_the_rest_deflated(homework):
    # trained weights barely deflate; the grader then copies the model instead of inflating it
    assert collect(homework).returncode == 0
    with zipfile.ZipFile(homework / "cnn_submission.zip") as archive:
        kinds = {info.filename: info.compress_type for info in archive.infolist()}
    assert {name: kind for name, kind in kinds.items() if name.endswith(".npz")} == {
        "cnn_model.npz": zipfile.ZIP_STORED}
    assert {kind for name, kind in kinds.items() if not name.endswith(".npz")} == {
        zipfile.ZIP_DEFLATED}


def test_zip_is_reproducible(homework):
    assert collect(homework, "--out", "one.zip").returncode == 0
    os.utime(homework / "CNN.ipynb", (1e9, 1e9))
    assert collect(homework, "--out", "two.zip").returncode == 0
    assert (homework / "one.zip").read_bytes() == (homework / "two.zip").read_bytes()


def test_unexecuted_notebook_is_a_warning_saying_how_to_run_it(homework):
    clear_outputs(homework / "CNN-Layers.ipynb")
    result = collect(homework)
    assert result.returncode == 0, result.stderr
    assert "warning: CNN-Layers.ipynb has no outputs" in result.stderr
    assert "jupyter nbconvert --to notebook --execute --inplace CNN-Layers.ipynb" in result.stderr
    assert zipped(homework)["CNN-Layers.ipynb"] == (homework / "CNN-Layers.ipynb").read_bytes()


def test_partly_run_notebook_is_a_warning(homework):
    nb = nbformat.read(str(homework / "CNN-BatchNorm.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code[3:]:
        cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, str(homework / "CNN-BatchNorm.ipynb"))
    result = collect(homework)
    assert result.returncode == 0
    assert "only 3 of the %d code cells of CNN-BatchNorm.ipynb have run" % len(code) in result.stderr


def executed_copy_beside_unexecuted_original(homework, name="CNN-Layers.ipynb"):
    copy = homework / name.replace(".ipynb", ".nbconvert.ipynb")
    shutil.copyfile(homework / name, copy)
    clear_outputs(homework / name)
    return copy


def test_executed_copy_is_handed_in_for_an_unexecuted_original_and_said_so(homework):
    copy = executed_copy_beside_unexecuted_original(homework)
    result = collect(homework)
    assert result.returncode == 0, result.stderr
    assert ("CNN-Layers.ipynb has no outputs, but CNN-Layers.nbconvert.ipynb (the same notebook, "
            "executed by nbconvert) has: handing in CNN-Layers.nbconvert.ipynb as "
            "CNN-Layers.ipynb") in result.stderr
    assert "--use-original" in result.stderr
    members = zipped(homework)
    assert members["CNN-Layers.ipynb"] == copy.read_bytes()
    assert sorted(members) == EVERYTHING  # the copy goes in under the original's name


def test_use_original_hands_in_the_unexecuted_original(homework):
    executed_copy_beside_unexecuted_original(homework)
    result = collect(homework, "--use-original")
    assert result.returncode == 0
    assert "CNN-Layers.ipynb has no outputs: it was never run" in result.stderr
    assert zipped(homework)["CNN-Layers.ipynb"] == (homework / "CNN-Layers.ipynb").read_bytes()


def test_newer_executed_copy_of_an_executed_original_is_named_not_chosen(homework):
    """Both ran: the script cannot tell which one the student means, so it asks (here:
    nobody at a terminal) and keeps the original, saying how to pick the copy."""
    copy = homework / "CNN.nbconvert.ipynb"
    shutil.copyfile(homework / "CNN.ipynb", copy)
    os.utime(homework / "CNN.ipynb", (1e9, 1e9))
    result = collect(homework)
    assert result.returncode == 0
    assert ("CNN.nbconvert.ipynb is newer than CNN.ipynb; CNN.ipynb is handed in. If the executed "
            "copy is the one you mean, rerun with --use-executed") in result.stderr
    assert zipped(homework)["CNN.ipynb"] == (homework / "CNN.ipynb").read_bytes()
    result = collect(homework, "--use-executed", "--out", "executed.zip")
    assert result.returncode == 0
    assert "handing in CNN.nbconvert.ipynb as CNN.ipynb (--use-executed)" in result.stderr
    assert zipped(homework, "executed.zip")["CNN.ipynb"] == copy.read_bytes()


def test_executed_copy_of_an_edited_original_is_not_taken_silently(homework):
    """The original has no outputs but its cells differ from the copy's (edited after
    the run): taking the copy would lose the edit, so the original goes in, with a warning."""
    copy = executed_copy_beside_unexecuted_original(homework, "CNN.ipynb")
    nb = nbformat.read(str(homework / "CNN.ipynb"), as_version=4)
    [cell] = [c for c in nb.cells if c.id == SOLUTION_CELL]
    cell.source += "\n# tried a wider hidden layer"
    nbformat.write(nb, str(homework / "CNN.ipynb"))
    os.utime(copy, (2e9, 2e9))
    result = collect(homework)
    assert result.returncode == 0
    assert "CNN.nbconvert.ipynb is newer than CNN.ipynb (their cells differ)" in result.stderr
    assert zipped(homework)["CNN.ipynb"] == (homework / "CNN.ipynb").read_bytes()


def test_older_executed_copy_is_said_to_stay_out(homework):
    copy = homework / "CNN-BatchNorm.nbconvert.ipynb"
    shutil.copyfile(homework / "CNN-BatchNorm.ipynb", copy)
    os.utime(copy, (1e9, 1e9))
    result = collect(homework)
    assert result.returncode == 0
    assert ("an older CNN-BatchNorm.nbconvert.ipynb is beside CNN-BatchNorm.ipynb; it is not "
            "handed in") in result.stderr
    assert "CNN-BatchNorm.nbconvert.ipynb" not in zipped(homework)


def test_training_cell_left_as_the_released_stub_is_a_warning(homework, built_release):
    released = {c.id: c for c in nbformat.read(str(built_release / "CNN.ipynb"),
                                               as_version=4).cells}
    nb = nbformat.read(str(homework / "CNN.ipynb"), as_version=4)
    [cell] = [c for c in nb.cells if c.id == SOLUTION_CELL]
    cell.source = released[SOLUTION_CELL].source  # exactly what the build wrote
    nbformat.write(nb, str(homework / "CNN.ipynb"))
    result = collect(homework)
    assert result.returncode == 0
    assert "warning: CNN.ipynb: cell cnn-final-config is still the stub" in result.stderr
    assert "this cell is yours to write (YOUR CODE HERE)" in result.stderr
    assert (homework / "cnn_submission.zip").exists()


def test_a_cell_that_stopped_with_an_error_is_a_warning(homework):
    mark_executed(homework / "CNN-Layers.ipynb", error_in="layers-conv-backward")
    result = collect(homework)
    assert result.returncode == 0
    assert ("CNN-Layers.ipynb: cell layers-conv-backward stopped with ValueError: shapes do not "
            "match") in result.stderr


def test_nndl_stub_left_refuses_the_zip_naming_the_functions(homework, built_release):
    shutil.copyfile(built_release / "nndl" / "conv_layers.py", homework / "nndl" / "conv_layers.py")
    result = collect(homework)
    assert result.returncode == 1
    assert ("error: nndl/conv_layers.py still raises the stub's NotImplementedError in: "
            "conv_backward_naive, conv_forward_naive, max_pool_backward_naive, "
            "max_pool_forward_naive, spatial_batchnorm_backward, spatial_batchnorm_forward"
            ) in result.stderr
    assert "--force" in result.stderr
    assert not (homework / "cnn_submission.zip").exists()
    forced = collect(homework, "--force")
    assert forced.returncode == 0
    assert "despite the errors above" in forced.stdout
    assert zipped(homework)["nndl/conv_layers.py"] == (
        built_release / "nndl" / "conv_layers.py").read_bytes()


def test_one_function_left_is_named_alone(homework, built_release):
    """A student who wrote everything but one function: only it is named."""
    stub = (built_release / "nndl" / "conv_layers.py").read_text()
    reference = (REPO_ROOT / "solutions" / "nndl" / "conv_layers.py").read_text()
    line = [l for l in stub.splitlines() if "max_pool_backward_naive in nndl" in l][0]
    begin = reference.index("def max_pool_backward_naive")
    body = reference.index("### BEGIN SOLUTION", begin)
    end = reference.index("### END SOLUTION", body) + len("### END SOLUTION")
    start_of_line = reference.rindex("\n", 0, body) + 1
    edited = reference[:start_of_line] + line + reference[end:]
    (homework / "nndl" / "conv_layers.py").write_text(edited)
    result = collect(homework)
    assert result.returncode == 1
    assert "still raises the stub's NotImplementedError in: max_pool_backward_naive (" \
        in result.stderr


def test_commented_out_stub_raise_is_not_a_stub(homework, built_release):
    source = (homework / "nndl" / "cnn.py").read_text()
    (homework / "nndl" / "cnn.py").write_text(
        source + "\n# raise NotImplementedError('x in nndl/cnn.py: not implemented yet "
                 "(YOUR CODE HERE)')\n")
    assert collect(homework).returncode == 0


def test_missing_model_refuses_the_zip_and_force_writes_it_without(homework):
    (homework / "cnn_model.npz").unlink()
    result = collect(homework)
    assert result.returncode == 1
    assert "error: missing: cnn_model.npz" in result.stderr
    assert "save_model(model, 'cnn_model.npz')" in result.stderr
    assert not (homework / "cnn_submission.zip").exists()
    forced = collect(homework, "--force")
    assert forced.returncode == 0
    assert sorted(zipped(homework)) == [n for n in EVERYTHING if n != "cnn_model.npz"]


@pytest.mark.parametrize("missing", ["CNN-BatchNorm.ipynb", "nndl/optim.py"])
def test_missing_file_is_named_and_no_zip_is_written(homework, missing):
    (homework / missing).unlink()
    result = collect(homework)
    assert result.returncode == 1
    assert "error: missing: %s" % missing in result.stderr
    assert not (homework / "cnn_submission.zip").exists()


def test_broken_notebook_and_source_are_reported(homework):
    (homework / "CNN.ipynb").write_text("{not json")
    (homework / "nndl" / "cnn.py").write_text("def broken(:\n")
    result = collect(homework)
    assert result.returncode == 1
    assert "CNN.ipynb is not a valid notebook" in result.stderr
    assert "nndl/cnn.py does not compile" in result.stderr


def test_rendered_script_holds_the_stub_texts_the_build_writes(built_release):
    """The marks it looks for are those in the built release, not copies of them."""
    namespace = {}
    source = (built_release / "collect_submission.py").read_text()
    exec(compile(source.split("\ndef ")[0], "collect_submission.py", "exec"), namespace)
    assert namespace["NNDL_FILES"] == tuple(NNDL)
    released_cell = [c for c in nbformat.read(str(built_release / "CNN.ipynb"),
                                              as_version=4).cells if c.id == SOLUTION_CELL][0]
    assert namespace["NOTEBOOK_STUB_MARK"] in released_cell.source
    assert namespace["NOTEBOOK_STUB_MARK"].startswith("raise NotImplementedError(")
    stub_raises = [line for line in (built_release / "nndl" / "layers.py").read_text().splitlines()
                   if "raise NotImplementedError(" in line]
    assert stub_raises and all(namespace["NNDL_STUB_MARK"] in line for line in stub_raises)


def test_nbconvert_execute_then_collect_hands_in_the_executed_copy(homework, cifar10_dir):
    """What a student does: `jupyter nbconvert --to notebook --execute` (which writes
    X.nbconvert.ipynb and leaves X.ipynb unexecuted), then collect_submission."""
    clear_outputs(homework / "CNN-BatchNorm.ipynb")
    env = dict(os.environ, CNN_HOMEWORK_QUICK="1", CIFAR10_DIR=str(cifar10_dir))
    env.pop("PYTHONPATH", None)
    run = subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute",
                          "CNN-BatchNorm.ipynb"], cwd=homework, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (homework / "CNN-BatchNorm.nbconvert.ipynb").is_file()
    result = collect(homework)
    assert result.returncode == 0, result.stderr
    assert "handing in CNN-BatchNorm.nbconvert.ipynb as CNN-BatchNorm.ipynb" in result.stderr
    handed_in = json.loads(zipped(homework)["CNN-BatchNorm.ipynb"])
    code = [c for c in handed_in["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code)


# ---- the saved model's accuracy, measured as the self-check does ----------------------------

def save_untrained_model(folder):
    """A reference ThreeLayerConvNet as initialised (chance accuracy), saved with model_io."""
    from cs231n.model_io import save_model
    from nndl.cnn import ThreeLayerConvNet
    state = np.random.get_state()
    np.random.seed(0)
    try:
        model = ThreeLayerConvNet(num_filters=4, filter_size=3, hidden_dim=10, weight_scale=1e-3)
    finally:
        np.random.set_state(state)
    save_model(model, str(folder / "cnn_model.npz"))


def set_credit_thresholds(folder, zero, full):
    """Give the homework's own spec (the one collect_submission prices with) other thresholds."""
    spec = folder / "autograder" / "spec" / "grading.toml"
    text = spec.read_text()
    for key, value in (("zero_credit_at", zero), ("full_credit_at", full)):
        text, count = re.subn(r"(?m)^%s = .*$" % key, "%s = %r" % (key, value), text)
        assert count == 1, key
    spec.write_text(text)


def printed_accuracy(stdout):
    found = re.search(r"validation accuracy (\d+\.\d)% on the (\d+) validation images", stdout)
    assert found, stdout
    return float(found.group(1)), int(found.group(2))


def test_a_model_below_full_credit_is_priced_and_warned_about(homework, cifar10_dir):
    save_untrained_model(homework)
    result = collect(homework, cifar_dir=cifar10_dir)
    assert result.returncode == 0, result.stderr
    accuracy, images = printed_accuracy(result.stdout)
    assert images == 1000 and accuracy < 40.0
    assert "the model would earn 0/20 points (full credit at 65%" in result.stdout
    assert ("warning: cnn_model.npz reaches %.1f%% validation accuracy, below the 65%% of full "
            "credit: it earns 0/20 points." % accuracy) in result.stderr
    assert "quick mode saves cnn_model.quick.npz" in result.stderr
    assert sorted(zipped(homework)) == EVERYTHING     # a warning: the zip is still written


def test_a_model_at_full_credit_is_priced_without_a_warning(homework, cifar10_dir):
    save_untrained_model(homework)
    set_credit_thresholds(homework, zero=0.0, full=0.01)   # chance accuracy earns it all
    result = collect(homework, cifar_dir=cifar10_dir)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed_accuracy(result.stdout)
    assert "the model would earn 20/20 points" in result.stdout


def test_without_the_data_set_it_says_it_could_not_measure_the_model(homework, tmp_path):
    save_untrained_model(homework)
    result = collect(homework, cifar_dir=tmp_path / "no-cifar-here")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Could not measure the accuracy of cnn_model.npz: CIFAR-10 could not be loaded" \
        in result.stdout
    assert "Set CIFAR10_DIR" in result.stdout


def test_a_model_that_cannot_be_scored_is_a_warning(homework, cifar10_dir):
    result = collect(homework, cifar_dir=cifar10_dir)    # the fixture's file holds no network
    assert result.returncode == 0, result.stderr
    assert "warning: cnn_model.npz could not be scored" in result.stderr
    assert "the grader would give it 0 points" in result.stderr
