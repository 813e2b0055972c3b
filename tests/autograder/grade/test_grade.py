"""The grade pipeline end to end: the reference scores 100, stubs 0, broken code gets clear messages."""
import json
import os
import re

import pytest

from autograder.release.stubs import generate_stubs
from autograder.results.schema import validate
from tests.autograder.grade import helpers
from tests.autograder.grade.conftest import SCALED_ACCURACY as SCALED

FORWARD = "conv_layers.conv_forward_naive.forward"
ACCURACY = "cnn.ThreeLayerConvNet.accuracy"


def by_id(result):
    return {item.item_id: item for item in result.items}


# ---- the reference ------------------------------------------------------------------------------

def test_reference_scores_full_marks(graded_reference):
    result, out = graded_reference
    assert result.grader_error == ""
    failing = {i.item_id: i.output for i in result.items if not i.passed}
    assert failing == {}
    assert result.score == result.max_score == 100
    assert result.problems == []


def test_reference_results_json_follows_gradescope(graded_reference):
    result, out = graded_reference
    data = json.loads((out / "results.json").read_text())
    assert validate(data) == []
    assert data["score"] == 100 and data["max_score"] == 100
    assert [t["extra_data"]["item"] for t in data["tests"]] == [i.item_id for i in result.items]
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(t["visibility"] in ("visible", "after_published") for t in data["tests"])
    assert data["extra_data"]["seed"] == 12345
    assert data["extra_data"]["sandbox"]["level"] in ("bwrap", "unshare", "rlimits")
    assert "12345" not in (out / "feedback.md").read_text()
    assert (out / "feedback.html").read_text().startswith("<!DOCTYPE html>")
    assert not [p for p in os.listdir(out) if p.endswith(".part")]


def test_accuracy_is_computed_not_read(graded_reference):
    result, _ = graded_reference
    accuracy = result.extra["accuracy"]
    # The fixture model is far from 65%: the real spec would give partial or no credit.
    assert 0.2 < accuracy["val"] < 0.6 and 0.2 < accuracy["heldout"] < 0.6


# ---- stubs and missing parts ----------------------------------------------------------------------

def test_bare_stubs_score_zero_without_grader_error(tmp_path, grade_into, fixture_model):
    folder = tmp_path / "stubs"
    generate_stubs(helpers.SOLUTIONS_NNDL, folder / "nndl")
    for name in helpers.NOTEBOOKS:
        helpers.write_notebook(folder / name)
    result, out = grade_into(folder)
    assert result.grader_error == ""
    assert result.score == 0, {i.item_id: i.score for i in result.items if i.score}
    assert "not implemented yet" in by_id(result)[FORWARD].output
    assert validate(json.loads((out / "results.json").read_text())) == []


def test_empty_submission_names_every_missing_part(tmp_path, grade_into):
    (tmp_path / "empty").mkdir()
    result, out = grade_into(tmp_path / "empty", items="conv_layers.*,cnn.ThreeLayerConvNet.accuracy")
    assert result.grader_error == "" and result.score == 0
    assert "nndl/conv_layers.py is missing" in result.problems
    assert "cnn_model.npz is missing" in result.problems
    assert "notebook CNN.ipynb is missing" in result.problems
    assert "nndl/conv_layers.py is missing" in by_id(result)[FORWARD].output
    assert "no cnn_model.npz was submitted, so the accuracy item gets 0 points" \
        in by_id(result)["cnn.ThreeLayerConvNet.accuracy"].output


def test_invalid_notebook_json_is_reported(tmp_path, grade_into):
    folder = helpers.reference_submission(tmp_path / "s")
    (folder / "CNN-Layers.ipynb").write_text('{"cells": [')
    result, _ = grade_into(folder, items=FORWARD)
    assert any(p.startswith("notebook CNN-Layers.ipynb is not valid JSON") for p in result.problems)
    assert result.score == 3


# ---- broken code ----------------------------------------------------------------------------------

BROKEN = {
    "syntax_error": ("conv_layers", "def conv_forward_naive(x, w, b, conv_param):\n    return (x +\n",
                     "SyntaxError"),
    "raises_on_import": ("conv_layers", "raise RuntimeError('broken at import')",
                         "RuntimeError: broken at import"),
    "wrong_return_type": ("conv_layers", "def conv_forward_naive(x, w, b, conv_param):\n"
                          "    return {'out': x}", "should return a tuple"),
    "nan": ("conv_layers", "import numpy as _np\n"
            "_original = conv_forward_naive\n"
            "def conv_forward_naive(x, w, b, conv_param):\n"
            "    out, cache = _original(x, w, b, conv_param)\n"
            "    return out * _np.nan, cache", "NaN"),
    "infinite_loop": ("conv_layers", "def conv_forward_naive(x, w, b, conv_param):\n"
                      "    while True:\n        pass", "did not finish within"),
    "os_exit": ("conv_layers", "import os as _os\ndef conv_forward_naive(x, w, b, conv_param):\n"
                "    _os._exit(7)", "exited with code 7"),
    "sys_exit": ("conv_layers", "import sys as _sys\ndef conv_forward_naive(x, w, b, conv_param):\n"
                 "    _sys.exit(1)", "exit"),
    "huge_print": ("conv_layers", "import os as _os\ndef conv_forward_naive(x, w, b, conv_param):\n"
                   "    for _ in range(2000):\n        _os.write(1, b'x' * 100000)\n",
                   "printed more than"),
    "allocates_8gb": ("conv_layers", "import numpy as _np\n"
                      "def conv_forward_naive(x, w, b, conv_param):\n"
                      "    return _np.ones((1024, 1024, 1024)), None", "MemoryError"),
    "writes_outside": ("conv_layers", "def conv_forward_naive(x, w, b, conv_param):\n"
                       "    open(%r, 'w').write('x')\n    return None, None",
                       "Error"),
    "reads_solutions": ("conv_layers", "def conv_forward_naive(x, w, b, conv_param):\n"
                        "    open(%r).read()\n    return None, None", "Error"),
    "reads_heldout_images": ("conv_layers", "def conv_forward_naive(x, w, b, conv_param):\n"
                             "    from cs231n.data_utils import find_cifar10_dir\n"
                             "    open(str(find_cifar10_dir()) + '/test_batch', 'rb').read()\n"
                             "    return None, None", "Error"),
    "opens_socket": ("conv_layers", "import socket as _socket\n"
                     "def conv_forward_naive(x, w, b, conv_param):\n"
                     "    _socket.create_connection(('1.1.1.1', 80), timeout=3)\n"
                     "    return None, None", "Error"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_code_costs_its_item_with_a_clear_message(tmp_path, grade_into, fast_spec, name):
    module, source, words = BROKEN[name]
    outside = tmp_path / "written-by-student.txt"
    if name == "writes_outside":
        source = source % str(outside)
    if name == "reads_solutions":
        source = source % str(helpers.SOLUTIONS_NNDL / "conv_layers.py")
    folder = helpers.reference_submission(tmp_path / name)
    if name == "syntax_error":
        (folder / "nndl" / "conv_layers.py").write_text(source)
    else:
        helpers.replace_function(folder, module, source)
    result, out = grade_into(folder, spec=fast_spec,
                             items=FORWARD + ",conv_layers.max_pool_forward_naive.forward")
    assert result.grader_error == ""
    items = by_id(result)
    assert items[FORWARD].score == 0
    assert words in items[FORWARD].output, items[FORWARD].output
    if module == "conv_layers" and name not in ("syntax_error", "raises_on_import"):
        # the other function of the same module still earns its points
        assert items["conv_layers.max_pool_forward_naive.forward"].passed
    assert not outside.exists()
    assert validate(json.loads((out / "results.json").read_text())) == []


def test_a_batch_of_broken_submissions_all_get_results(tmp_path, grade_into, fast_spec):
    folders = []
    for name in ("os_exit", "infinite_loop", "raises_on_import"):
        module, source, _ = BROKEN[name]
        folder = helpers.reference_submission(tmp_path / name)
        helpers.replace_function(folder, module, source)
        folders.append(folder)
    folders.append(helpers.reference_submission(tmp_path / "correct"))
    scores = [grade_into(f, spec=fast_spec, items=FORWARD)[0].score for f in folders]
    assert scores == [0, 0, 0, 3]


def test_same_seed_same_scores_and_inputs_depend_on_the_seed(tmp_path, grade_into):
    # A function that is right only on the notebook's fixed inputs: hard-coding earns nothing
    # on the secret-input item, whatever the seed.
    folder = helpers.reference_submission(tmp_path / "s")
    helpers.replace_function(folder, "conv_layers", (
        "_real = conv_forward_naive\n"
        "def conv_forward_naive(x, w, b, conv_param):\n"
        "    out, cache = _real(x, w, b, conv_param)\n"
        "    return (out if x.shape == (2, 3, 4, 4) else out + 1.0), cache"))
    first, _ = grade_into(folder, items="conv_layers.conv_forward_naive.*", seed=1)
    again, _ = grade_into(folder, items="conv_layers.conv_forward_naive.*", seed=1)
    assert [i.score for i in first.items] == [i.score for i in again.items] == [3, 0]


# ---- retraining -------------------------------------------------------------------------------------

TRAINING_NOTEBOOK = [
    "import os, numpy as np\n"
    "from cs231n.data_utils import get_CIFAR10_data\n"
    "from cs231n.solver import Solver\n"
    "from cs231n.model_io import save_model\n"
    "from nndl.cnn import ThreeLayerConvNet",
    "data = get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=100)\n"
    "small = dict(X_train=data['X_train'][:600], y_train=data['y_train'][:600],\n"
    "             X_val=data['X_val'][:100], y_val=data['y_val'][:100])",
    "np.random.seed(0)\n"
    "model = ThreeLayerConvNet(num_filters=8, filter_size=3, hidden_dim=50, weight_scale=1e-2)\n"
    "Solver(model, small, update_rule='adam', optim_config={'learning_rate': 1e-3},\n"
    "       batch_size=50, num_epochs=1, verbose=False, seed=0).train()",
    "save_model(model, 'cnn_model.npz')",
]


def _isolation_levels():
    """Every level this machine can run, strongest first (retraining must work at each)."""
    import shutil as _shutil
    from autograder.sandbox.isolation import available_level
    levels = [available_level()]
    if levels[0] == "bwrap" and os.geteuid() == 0 and _shutil.which("unshare") \
            and _shutil.which("setpriv"):
        levels.append("unshare")
    return levels


@pytest.mark.parametrize("level", _isolation_levels())
def test_retrain_runs_the_notebook_in_the_sandbox(tmp_path, grade_into, level):
    folder = helpers.reference_submission(tmp_path / "s", notebooks=False)
    helpers.write_notebook(folder / "CNN.ipynb", TRAINING_NOTEBOOK)
    result, _ = grade_into(folder, items="cnn.ThreeLayerConvNet.accuracy", retrain=True,
                           level=level)
    assert result.sandbox["level"] == level
    assert result.grader_error == ""
    item = result.items[0]
    assert "ran CNN.ipynb to train a model: trained in" in item.output, item.output
    assert 0.0 <= result.extra["accuracy"]["val"] <= 1.0
    assert "heldout" in result.extra["accuracy"]


# ---- a missing model: the spec's missing_model decides -------------------------------------------

def stub_training(monkeypatch):
    """Replace the sandboxed training run by a stand-in that records its time limit and saves
    nothing; returns the list of time limits it was called with."""
    from autograder.grade import run_accuracy
    calls = []

    def train_in_sandbox(ctx, notebook, timeout):
        calls.append(timeout)
        return None, "the notebook ran for 0 s but saved no cnn_model.npz"
    monkeypatch.setattr(run_accuracy, "_train_in_sandbox", train_in_sandbox)
    return calls


def test_a_missing_model_gets_zero_with_a_message_and_nothing_is_trained(
        tmp_path, grade_into, monkeypatch, capsys):
    calls = stub_training(monkeypatch)
    folder = helpers.reference_submission(tmp_path / "s")   # notebooks, no cnn_model.npz
    result, _ = grade_into(folder, items=ACCURACY)
    assert result.grader_error == ""
    item = result.items[0]
    assert item.score == 0 and not item.passed
    assert item.output.startswith("no cnn_model.npz was submitted, so the accuracy item gets 0 "
                                  "points"), item.output
    assert "the grader does not train one" in item.output
    assert calls == []
    assert "retraining" not in capsys.readouterr().err


def test_missing_model_retrain_trains_from_the_notebook_within_its_own_limit(
        tmp_path, grade_into, monkeypatch, capsys):
    calls = stub_training(monkeypatch)
    spec = helpers.spec_with(tmp_path / "grading.toml", {ACCURACY: dict(
        SCALED, missing_model="retrain", retrain_time_limit=321.0)})
    folder = helpers.reference_submission(tmp_path / "s")
    result, _ = grade_into(folder, spec=spec, items=ACCURACY)
    assert result.grader_error == ""
    assert calls == [321.0]
    assert result.items[0].output.startswith(
        "no cnn_model.npz was submitted, so the grader ran CNN.ipynb to train a model: the "
        "notebook ran for 0 s"), result.items[0].output
    err = capsys.readouterr().err
    assert "autograder: retraining s: running its CNN.ipynb in the sandbox (up to 321 s)" in err
    assert re.search(r"autograder: retraining s: done after \d+ s", err), err


def test_the_retrain_flag_still_retrains_under_missing_model_zero(
        tmp_path, grade_into, monkeypatch):
    calls = stub_training(monkeypatch)
    folder = helpers.reference_submission(tmp_path / "s")
    result, _ = grade_into(folder, items=ACCURACY, retrain=True)
    assert len(calls) == 1
    assert "the course grades the model your CNN.ipynb trains, so the grader ran CNN.ipynb" \
        in result.items[0].output


def test_an_unknown_missing_model_value_fails_at_load_time(tmp_path):
    from autograder.spec import SpecError, load_spec
    spec = helpers.spec_with(tmp_path / "grading.toml", {ACCURACY: {"missing_model": "full"}})
    with pytest.raises(SpecError, match="missing_model must be one of 'zero', 'retrain', "
                                        "got 'full'"):
        load_spec(spec)


# ---- timing -------------------------------------------------------------------------------------------

NAIVE_CNN = '''
from nndl.conv_layers import conv_forward_naive as _cf, conv_backward_naive as _cb
from nndl.conv_layers import max_pool_forward_naive as _pf, max_pool_backward_naive as _pb
from nndl.layers import relu_forward as _rf, relu_backward as _rb


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    a, conv_cache = _cf(x, w, b, conv_param)
    s, relu_cache = _rf(a)
    out, pool_cache = _pf(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    conv_cache, relu_cache, pool_cache = cache
    ds = _pb(dout, pool_cache)
    da = _rb(ds, relu_cache)
    return _cb(da, conv_cache)
'''


@pytest.mark.slow
def test_a_model_on_the_naive_layers_loses_only_the_timing_points(tmp_path, grade_into):
    folder = helpers.reference_submission(tmp_path / "naive")
    helpers.replace_function(folder, "conv_layer_utils", NAIVE_CNN)
    result, _ = grade_into(folder, items="cnn.ThreeLayerConvNet.loss.*")
    items = by_id(result)
    assert items["cnn.ThreeLayerConvNet.loss.forward"].passed
    assert items["cnn.ThreeLayerConvNet.loss.gradient"].passed
    timing = items["cnn.ThreeLayerConvNet.loss.timing"]
    assert timing.score == 0 and timing.seconds < 130
    assert "fast sandwich layers" in timing.output or "did not finish" in timing.output


# ---- several submissions ------------------------------------------------------------------------------

def test_one_grader_grades_several_submissions_and_reuses_the_reference(tmp_path, test_spec,
                                                                         cifar10_dir):
    from autograder.grade.pipeline import GradeOptions, Grader
    good = helpers.reference_submission(tmp_path / "good")
    bad = helpers.reference_submission(tmp_path / "bad")
    helpers.replace_function(bad, "conv_layers", BROKEN["os_exit"][1])
    options = GradeOptions(spec_path=str(test_spec), cifar_dir=str(cifar10_dir),
                           items="conv_layers.conv_forward_naive.*,conv_layers.max_pool_*")
    with Grader(options) as grader:
        first = grader.grade(good, tmp_path / "out-good", seed=11)
        cached = dict(grader.reference_cache_for(11))
        second = grader.grade(bad, tmp_path / "out-bad", seed=11)
        assert grader.reference_cache_for(11) == cached and cached
        root = grader.root
    assert not os.path.exists(root)
    assert first.score == 25 and second.score == 16
    assert (tmp_path / "out-good" / "results.json").exists()
    assert (tmp_path / "out-bad" / "results.json").exists()
