"""Trusted tasks the worker runs against the nndl under test (called via the 'call' request).

Each takes nndl (the worker's module mapping) plus plain keyword arguments and
returns plain arrays / JSON values. Student code runs inside them; the grader only
ever sees the returned data.
"""
import os
import stat
import time

import numpy as np


def train_notebook(nndl, notebook_path, workdir, timeout, max_model_bytes, model_name,
                   kernel_name="python3"):
    """
    Execute the student's training notebook (nbclient) in `workdir`, then return the
    model file it saved there as bytes (the grader never opens the sandbox's files).
    model_name: the file the notebook saves (the grader's, from the spec's accuracy item).

    Returns {'model': uint8 (B,) or None, 'model_problem': str (why there is no model),
             'errors': str, 'seconds': float}
    """
    import nbclient
    import nbformat
    notebook = nbformat.read(notebook_path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=int(timeout), kernel_name=kernel_name,
                                     allow_errors=True, resources={"metadata": {"path": workdir}})
    start = time.perf_counter()
    errors = []
    try:
        client.execute()
    except Exception as error:  # timeout, dead kernel: report, keep whatever model was saved
        errors.append("%s: %s" % (type(error).__name__, str(error).splitlines()[0][:300]
                                   if str(error) else ""))
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append("a cell raised %s: %s" % (output.get("ename"),
                                                        str(output.get("evalue"))[:200]))
    model, problem = read_saved_file(workdir, model_name, max_model_bytes)
    return {"model": model, "model_problem": problem, "errors": "\n".join(errors[:5]),
            "seconds": time.perf_counter() - start}


def read_saved_file(folder, name, max_bytes):
    """
    (uint8 array of the bytes, '') of the regular file `name` in `folder`, or (None, why not).
    Student code wrote that folder: a link, a pipe or a file over max_bytes is refused, and
    the open never blocks.
    """
    try:
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        return None, "its folder cannot be opened (%s)" % error.strerror
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except FileNotFoundError:
        return None, ""
    except OSError as error:
        return None, "%s cannot be opened (%s; a symbolic link?)" % (name, error.strerror)
    finally:
        os.close(folder_fd)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "%s is not a regular file" % name
        if info.st_size > max_bytes:
            return None, "%s is larger than %d MB" % (name, max_bytes >> 20)
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None, "%s is larger than %d MB" % (name, max_bytes >> 20)
    return np.frombuffer(data, dtype=np.uint8), ""


def run_function(nndl, function, args=()):
    """{'result': nndl.<module>.<name>(*args)}; function is '<module>:<name>'."""
    module_name, _, name = function.partition(":")
    return {"result": getattr(nndl[module_name], name)(*args)}
