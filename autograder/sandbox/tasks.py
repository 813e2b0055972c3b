"""Trusted tasks the worker runs against the nndl under test (called via the 'call' request).

Each takes nndl (the worker's module mapping) plus plain keyword arguments and
returns plain arrays / JSON values. Student code runs inside them; the grader only
ever sees the returned data.
"""
import os
import time

import numpy as np


def _model_class(nndl):
    module = nndl["cnn"]
    if not hasattr(module, "ThreeLayerConvNet"):
        raise AttributeError("nndl/cnn.py has no ThreeLayerConvNet")
    return module.ThreeLayerConvNet


def predict(nndl, model_path, images_path, batch_size=200):
    """
    Class predictions of the saved model, rebuilt with the student's own class.

    Inputs:
    - model_path: cnn_model.npz (read with cs231n.model_io.load_model, no pickles)
    - images_path: .npy of images (N, 3, 32, 32), already mean-subtracted
    Returns {'predictions': int64 (N,), 'seconds': float}
    """
    from cs231n.model_io import load_model
    model = load_model(model_path, _model_class(nndl))
    images = np.load(images_path, allow_pickle=False)
    start = time.perf_counter()
    predictions = np.empty(images.shape[0], dtype=np.int64)
    for first in range(0, images.shape[0], batch_size):
        scores = model.loss(images[first:first + batch_size])
        scores = np.asarray(scores)
        if scores.shape != (min(batch_size, images.shape[0] - first), scores.shape[-1]) \
                or scores.ndim != 2:
            raise ValueError("model.loss(X) returned scores of shape %s for %d images"
                             % (scores.shape, min(batch_size, images.shape[0] - first)))
        predictions[first:first + batch_size] = np.argmax(scores, axis=1)
    return {"predictions": predictions, "seconds": time.perf_counter() - start}


def train_notebook(nndl, notebook_path, workdir, timeout, model_name="cnn_model.npz",
                   kernel_name="python3"):
    """
    Execute the student's training notebook (nbclient) in `workdir`, then report the
    model file it saved there.

    Returns {'model_path': str or '', 'errors': str, 'seconds': float}
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
    model_path = os.path.join(workdir, model_name)
    return {"model_path": model_path if os.path.isfile(model_path) else "",
            "errors": "\n".join(errors[:5]), "seconds": time.perf_counter() - start}


def time_loss(nndl, case, repeats=1):
    """Seconds of each of `repeats` calls to ThreeLayerConvNet.loss(X, y) built from a cnn case."""
    model = build_model(nndl, case)
    X, y = case["X"], case["y"]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.loss(X, y)
        times.append(time.perf_counter() - start)
    return {"seconds": np.array(times)}


def build_model(nndl, case):
    """A ThreeLayerConvNet from a cnn case's 'init.*' arguments and 'param.*' values."""
    kwargs = {}
    for key, value in case.items():
        if key.startswith("init."):
            value = np.asarray(value)
            name = key[len("init."):]
            if name == "input_dim":
                kwargs[name] = tuple(int(v) for v in value)
            elif name == "dtype":
                kwargs[name] = np.dtype(str(value[()])).type
            else:
                kwargs[name] = value[()].item() if hasattr(value[()], "item") else value[()]
    state = np.random.get_state()
    try:
        model = _model_class(nndl)(**kwargs)
    finally:
        np.random.set_state(state)
    for key, value in case.items():
        if key.startswith("param."):
            model.params[key[len("param."):]] = np.array(value, copy=True)
    return model


def run_function(nndl, function, args=()):
    """{'result': nndl.<module>.<name>(*args)}; function is '<module>:<name>'."""
    module_name, _, name = function.partition(":")
    return {"result": getattr(nndl[module_name], name)(*args)}
