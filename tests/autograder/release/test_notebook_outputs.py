"""notebook_outputs: outputs of a reference run go back into the committed notebook,
cell by cell, and nothing else of it changes."""
import os
from pathlib import Path

import nbformat

from autograder.release import authoring, notebook_outputs

REPO_ROOT = Path(__file__).resolve().parents[3]


def small_notebook(path, sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title", id="intro")] + [
        nbformat.v4.new_code_cell(source, id="code-%d" % i) for i, source in enumerate(sources)]
    nbformat.write(nb, str(path))
    return nb


def test_outputs_are_copied_only_into_cells_with_the_same_id_and_source(tmp_path):
    target, executed = tmp_path / "target.ipynb", tmp_path / "executed.ipynb"
    small_notebook(target, ["print(1)", "print(2)", "print(3)"])
    nb = small_notebook(executed, ["print(1)", "print('edited since')", "print(3)"])
    for index, cell in enumerate(nb.cells[1:], start=1):
        cell.execution_count = index
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="out %d\n" % index)]
    nb.cells[3].id = "renamed"
    nbformat.write(nb, str(executed))
    assert notebook_outputs.copy_outputs(executed, target) == ["code-1", "code-2"]
    cells = nbformat.read(str(target), as_version=4).cells
    assert [c.source for c in cells] == ["# title", "print(1)", "print(2)", "print(3)"]
    assert cells[1].outputs[0].text == "out 1\n" and cells[1].execution_count == 1
    assert cells[2].outputs == [] and cells[3].outputs == []


def test_unchanged_outputs_leave_the_file_alone(tmp_path):
    target = tmp_path / "CNN.ipynb"
    target.write_bytes((REPO_ROOT / "assignment" / "CNN.ipynb").read_bytes())
    os.utime(target, (1e9, 1e9))
    assert notebook_outputs.copy_outputs(REPO_ROOT / "assignment" / "CNN.ipynb", target) == []
    assert os.path.getmtime(target) == 1e9


def test_refresh_runs_against_the_reference_and_stores_the_outputs(tmp_path):
    path = tmp_path / "probe.ipynb"
    small_notebook(path, ["import os, nndl\nprint(os.path.dirname(os.path.dirname(nndl.__file__)))"])
    assert notebook_outputs.refresh_outputs(path, quick=True) == []
    [_, cell] = nbformat.read(str(path), as_version=4).cells
    assert cell.outputs[0].text.strip() == str(REPO_ROOT / "solutions")


def test_outputs_from_a_folder_through_the_cli(tmp_path, capsys):
    folder, executed = tmp_path / "assignment", tmp_path / "executed"
    folder.mkdir()
    executed.mkdir()
    small_notebook(folder / "CNN.ipynb", ["print(1)"])
    nb = small_notebook(executed / "CNN.ipynb", ["print(1)"])
    nb.cells[1].execution_count = 1
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nbformat.write(nb, str(executed / "CNN.ipynb"))
    assert authoring.main(["--assignment", str(folder), "outputs", "--from", str(executed),
                           "CNN"]) == 0
    assert "CNN.ipynb: outputs stored" in capsys.readouterr().out
    assert nbformat.read(str(folder / "CNN.ipynb"), as_version=4).cells[1].outputs[0].text == "1\n"
