"""Refresh the outputs stored in the instructor notebooks from a reference run.

The committed assignment/*.ipynb show the outputs of a run against the
reference (the numbers the texts quote). After an edit, the instructor reruns
the notebooks here: each is executed in a copy and the outputs are put back,
cell by cell, into the committed file, whose sources and metadata stay as they
are (no timing metadata from the run).
"""
import tempfile
from pathlib import Path

import nbformat

from autograder.release.notebook_run import execute_notebook


def copy_outputs(executed, target):
    """Put the outputs of the executed notebook (a path) into the notebook at target,
    cell by cell (same id and same source only); returns the ids of the code cells
    left without outputs. target is rewritten only when an output changed."""
    done = {c.id: c for c in nbformat.read(str(executed), as_version=4).cells}
    nb = nbformat.read(str(target), as_version=4)
    missing, changed = [], False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        ran = done.get(cell.id)
        if ran is None or ran.source != cell.source or ran.execution_count is None:
            missing.append(cell.id)
            continue
        if (cell.outputs, cell.execution_count) != (ran.outputs, ran.execution_count):
            cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
            changed = True
    if changed:
        nbformat.write(nb, str(target))
    return missing


def refresh_outputs(path, quick=False, cifar10_dir=None, timeout=7200):
    """Execute the notebook at path against the reference (full run unless quick)
    and store the outputs in it; returns the ids of code cells left without."""
    extra = {"CIFAR10_DIR": str(cifar10_dir)} if cifar10_dir else None
    with tempfile.TemporaryDirectory(prefix="cnn-outputs-") as folder:
        executed = Path(folder) / Path(path).name
        execute_notebook(path, executed, reference=True, quick=quick, env_extra=extra,
                         timeout=timeout)
        return copy_outputs(executed, path)
