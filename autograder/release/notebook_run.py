"""Run a notebook top to bottom in a real Jupyter kernel (nbclient + ipykernel).

Used by the notebook tests and by the authoring aid that stores the reference
outputs in assignment/*.ipynb. The kernel's environment decides which `nndl`
it imports: the working directory comes first on sys.path (a student's own
nndl/), then PYTHONPATH (solutions/ for the reference run).
"""
import os
import shutil
import tempfile

import nbformat
from nbclient import NotebookClient
from autograder.kit import KIT_ROOT

REPO_ROOT = KIT_ROOT
SOLUTIONS = REPO_ROOT / "solutions"
ASSIGNMENT = REPO_ROOT / "assignment"
QUICK_VAR = "CNN_HOMEWORK_QUICK"


def kernel_env(reference, quick, extra=None, kit=True):
    """Environment of the kernel.

    kit: the kit's autograder and cs231n importable (PYTHONPATH); without it
    the kernel sees only its working directory, as in a student's copy.
    reference: solutions/ first on PYTHONPATH (the reference nndl).
    """
    env = dict(os.environ)
    paths = [str(REPO_ROOT), str(ASSIGNMENT)] if kit else []
    if reference:
        paths.insert(0, str(SOLUTIONS))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    else:
        env.pop("PYTHONPATH", None)
    env.pop(QUICK_VAR, None)
    env.pop("NBGRADER_EXECUTION", None)
    if quick:
        env[QUICK_VAR] = "1"
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    env.update(extra or {})
    return env


def run_notebook(nb, cwd, env, timeout=1800, allow_errors=False):
    """Execute nb (in place) with working directory cwd; returns nb.

    Raises nbclient.exceptions.CellExecutionError at the first failing cell
    unless allow_errors.
    """
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)
    return nb


def execute_notebook(src, dest=None, reference=True, quick=True, cwd=None, env_extra=None,
                     timeout=1800, allow_errors=False):
    """Execute the notebook at src in cwd (a fresh temporary folder by default).

    Writes the executed notebook to dest when given; returns it either way.
    """
    nb = nbformat.read(str(src), as_version=4)
    env = kernel_env(reference, quick, env_extra)
    if cwd is not None:
        run_notebook(nb, cwd, env, timeout, allow_errors)
    else:
        folder = tempfile.mkdtemp(prefix="cnn-notebook-")
        try:
            run_notebook(nb, folder, env, timeout, allow_errors)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if dest is not None:
        nbformat.write(nb, str(dest))
    return nb
