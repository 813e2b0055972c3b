"""The worker is a generic runner of trusted calls: it imports nothing of the grader or the
checks, and what stands in for a failed module is the caller's choice."""
import ast
from pathlib import Path

import numpy as np

from autograder.checks.in_worker import IMPORT_FAILURE, OBSERVE, observe_arguments
from autograder.sandbox import worker
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import WorkerSession
from autograder.spec import load_spec

RUN = "autograder.sandbox.tasks:run_function"


def _imports(path):
    found = set()
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_worker_imports_only_the_sandbox_of_the_autograder():
    kit = {name for name in _imports(worker.__file__) if name.startswith("autograder")}
    assert kit == {"autograder.sandbox"}, kit


def _session(tmp_path, files):
    nndl = tmp_path / "submission" / "nndl"
    nndl.mkdir(parents=True)
    (nndl / "__init__.py").write_text("")
    for name, text in files.items():
        (nndl / (name + ".py")).write_text(text)
    return WorkerSession(tmp_path / "session", nndl, "none", Limits())


def test_a_failed_import_stands_as_the_named_placeholder_only(tmp_path):
    session = _session(tmp_path, {"broken": "raise ValueError('at import')\n"})
    try:
        assert session.import_module("broken", 20).status == "error"
        # no placeholder: the next use imports the module again (and fails the same way)
        reply, _ = session.call(RUN, {"function": "broken:f"}, 20)
        assert reply.status == "error" and "at import" in reply.message
        assert session.import_module("broken", 20, placeholder=IMPORT_FAILURE).status == "error"
        reply, _ = session.call(RUN, {"function": "broken:f"}, 20)
        assert reply.status == "error" and "ImportFailure" in reply.message
    finally:
        session.close()


def test_the_grader_names_the_observe_call_and_sends_the_item(tmp_path):
    item = load_spec().item("layers.relu_backward.gradient")
    session = _session(tmp_path, {"layers": (
        "import numpy as np\n"
        "def relu_forward(x):\n    return np.maximum(x, 0), x\n"
        "def relu_backward(dout, cache):\n    return dout * (cache > 0)\n")})
    try:
        assert session.import_module("layers", 20, placeholder=IMPORT_FAILURE).status == "ok"
        x = np.array([[-1.0, 2.0]])
        case = {"x": x, "dout": np.ones_like(x), "_label": "x", "_tags": ""}
        reply, obs = session.call(OBSERVE, observe_arguments(item, case, probes=False), 20)
        assert reply.status == "ok" and "error" not in obs, (reply.message, obs.get("error"))
        np.testing.assert_array_equal(obs["dx"], [[0.0, 1.0]])
        np.testing.assert_array_equal(obs["forward.out"], [[0.0, 2.0]])
    finally:
        session.close()
