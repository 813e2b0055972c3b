"""A synthetic class for the similarity tests: independent work and disguised copies.

Independent students: the release (stubs and notebooks) with conv_layers.py replaced by
one of the implementations written independently of each other (the reference's and
tests/autograder/fixtures/alternatives/), and the final CNN.ipynb cell written by each.
A copy is another student's files put through `disguise`: every local name renamed,
the functions of each module in another order, the comments replaced and the layout
reformatted (ast.unparse), which is what a student hiding a copy does by hand.
"""
import ast
import json
import os
import random
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
RELEASE = ROOT / "release"
ALTERNATIVES = ROOT / "tests" / "autograder" / "fixtures" / "alternatives"
CONV_SOURCES = {
    "reference": ROOT / "solutions" / "nndl" / "conv_layers.py",
    "loops": ALTERNATIVES / "loops" / "conv_layers.py",
    "vectorised": ALTERNATIVES / "vectorised" / "conv_layers.py",
    "strided": ALTERNATIVES / "strided" / "conv_layers.py",
}
# The final training cell, as three students wrote it (the stub asks for `model` and `solver`).
FINAL_CELLS = {
    "reference": "model = ThreeLayerConvNet(num_filters=64, filter_size=3, hidden_dim=500,\n"
                 "                          weight_scale=5e-2, reg=1e-3, use_batchnorm=True)\n"
                 "solver = Solver(model, data, num_epochs=6, batch_size=200,\n"
                 "                update_rule='adam', lr_decay=0.7,\n"
                 "                optim_config={'learning_rate': 1e-3}, verbose=True)\n",
    "loops": "net_config = dict(num_filters=32, filter_size=5, hidden_dim=256)\n"
             "model = ThreeLayerConvNet(weight_scale=1e-2, reg=5e-4, **net_config)\n"
             "solver = Solver(model, data, update_rule='sgd_momentum', num_epochs=10,\n"
             "                optim_config={'learning_rate': 5e-3, 'momentum': 0.9},\n"
             "                batch_size=128, print_every=50)\n",
    "vectorised": "hyper = {'lr': 2e-3, 'epochs': 8}\n"
                  "model = ThreeLayerConvNet(hidden_dim=400, num_filters=48, reg=2e-3)\n"
                  "solver = Solver(model, data, update_rule='rmsprop', batch_size=100,\n"
                  "                num_epochs=hyper['epochs'],\n"
                  "                optim_config={'learning_rate': hyper['lr']})\n",
    "strided": "model = ThreeLayerConvNet(num_filters=40, filter_size=3, hidden_dim=300,\n"
               "                          weight_scale=3e-2)\n"
               "solver = Solver(model, data, update_rule='adam', num_epochs=5,\n"
               "                optim_config={'learning_rate': 8e-4}, lr_decay=0.9)\n",
}


class _Renamer(ast.NodeTransformer):
    """Renames every parameter and local variable (not globals, attributes or builtins)."""

    def __init__(self, rng):
        self.rng = rng
        self.names = {}

    def _new(self, name):
        if name not in self.names:
            self.names[name] = "v%s_%d" % ("".join(self.rng.sample("qwrtzpsdfghjk", 3)),
                                          len(self.names))
        return self.names[name]

    def visit_FunctionDef(self, node):
        local = {a.arg for a in node.args.args + node.args.kwonlyargs}
        local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Store)}
        local.discard("self")
        for arg in node.args.args + node.args.kwonlyargs:
            if arg.arg in local:
                arg.arg = self._new(arg.arg)
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and child.id in local:
                child.id = self._new(child.id)
        return node


def disguise_module(text, seed):
    """The module with renamed locals, top-level definitions reordered, new comments."""
    rng = random.Random(seed)
    tree = ast.parse(text)
    tree = _Renamer(rng).visit(tree)
    head = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    rng.shuffle(defs)
    tree.body = head + defs
    lines = ast.unparse(ast.fix_missing_locations(tree)).splitlines()
    out = []
    for line in lines:
        if line.strip().startswith("def ") and rng.random() < 0.7:
            out.append(line[:len(line) - len(line.lstrip())] + "# my own helper, see lecture %d"
                       % rng.randint(1, 20))
        out.append(line)
    return "\n".join(out) + "\n"


def disguise_cell(text, seed):
    rng = random.Random(seed)
    renamed = text.replace("model", "net").replace("solver", "trainer")
    return "# tuned on my laptop (run %d)\n%s" % (rng.randint(1, 99), renamed) + \
        "model, solver = net, trainer\n"


def write_student(dest, conv_text, final_cell, model=None):
    """A submission folder: the release with this conv_layers.py and final cell."""
    dest = Path(dest)
    shutil.copytree(RELEASE / "nndl", dest / "nndl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "nndl" / "conv_layers.py").write_text(conv_text)
    for name in ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb"):
        notebook = json.loads((RELEASE / name).read_text())
        for cell in notebook["cells"]:
            if (cell.get("metadata", {}).get("nbgrader") or {}).get("solution"):
                cell["source"] = final_cell
        (dest / name).write_text(json.dumps(notebook))
    if model is not None:
        np.savez(dest / "cnn_model.npz", **model)
    return dest


def random_model(seed):
    """Arrays in cs231n.model_io's layout (a version, the constructor arguments as JSON text,
    the parameters), random weights of a small ThreeLayerConvNet."""
    from cs231n import model_io
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(0, 5e-2, (16, 3, 3, 3)), "b1": rng.normal(0, 1e-2, 16),
              "W2": rng.normal(0, 5e-2, (4096, 50)), "b2": np.zeros(50),
              "W3": rng.normal(0, 5e-2, (50, 10)), "b3": np.zeros(10)}
    arrays = {model_io.PARAM_PREFIX + k: v for k, v in params.items()}
    arrays[model_io.VERSION_KEY] = np.array(model_io.FORMAT_VERSION)
    arrays[model_io.ARGS_KEY] = np.array('{"hidden_dim": 50, "num_filters": 16}')
    return arrays


def nudged(model, scale, seed):
    rng = np.random.default_rng(seed)
    return {k: v + scale * np.abs(v).mean() * rng.normal(size=v.shape)
            if v.dtype.kind == "f" else v for k, v in model.items()}


def make_class(dest):
    """
    The synthetic class under `dest`: {id: folder} and the planted pairs (sorted id pairs).
    - four independent students (their own code, notebook cell and model);
    - copy_of_loops: loops' code disguised; copy_of_reference: the reference's, disguised;
    - model_copy: strided's model file as is, model_nudged: reference's model plus 1e-6 noise
      (each with code of its own: the stubs alone);
    - stubs_1, stubs_2: the release untouched.
    """
    dest = Path(dest)
    folders, planted_code, planted_models = {}, set(), set()
    models = {name: random_model(i) for i, name in enumerate(CONV_SOURCES)}
    for name, source in CONV_SOURCES.items():
        folders[name] = write_student(dest / name, source.read_text(), FINAL_CELLS[name],
                                      models[name])
    for n, original in enumerate(("loops", "reference")):
        sid = "copy_of_" + original
        folders[sid] = write_student(
            dest / sid, disguise_module(CONV_SOURCES[original].read_text(), n),
            disguise_cell(FINAL_CELLS[original], n), random_model(100 + n))
        planted_code.add(tuple(sorted((sid, original))))
    stub = (RELEASE / "nndl" / "conv_layers.py").read_text()
    stub_cell = _release_final_cell()
    folders["model_copy"] = write_student(dest / "model_copy", stub, stub_cell, models["strided"])
    folders["model_nudged"] = write_student(dest / "model_nudged", stub, stub_cell,
                                            nudged(models["reference"], 1e-6, 7))
    planted_models |= {("model_copy", "strided"), ("model_nudged", "reference")}
    for sid in ("stubs_1", "stubs_2"):
        folders[sid] = write_student(dest / sid, stub, stub_cell)
    return folders, planted_code, planted_models


def _release_final_cell():
    notebook = json.loads((RELEASE / "CNN.ipynb").read_text())
    for cell in notebook["cells"]:
        if (cell.get("metadata", {}).get("nbgrader") or {}).get("solution"):
            return "".join(cell["source"])
    raise AssertionError("the release's CNN.ipynb has no solution cell")
