"""Grade behaviour, not conventions: correct models in other layouts score full marks; a bug
costs the items that test what it breaks, with a hint that names it (issue 10)."""
import dataclasses

import numpy as np
import pytest

from autograder.checks import format_output, run_item_in_process
from autograder.checks.loading import load_nndl
from autograder.checks.outcome import CheckOutcome

from tests.autograder.checks import support

CNN = "cnn.py"
LAYERS = "layers.py"
FORWARD = "cnn.ThreeLayerConvNet.loss.forward"
GRADIENT = "cnn.ThreeLayerConvNet.loss.gradient"
CNN_ITEMS = (FORWARD, GRADIENT)

_APPEND_STATS = ("                self.bn_params.append({'mode': 'train',\n"
                 "                                       'running_mean': np.zeros(width, dtype=dtype),\n"
                 "                                       'running_var': np.ones(width, dtype=dtype)})")
_CAST = "        for k, v in self.params.items():\n            self.params[k] = v.astype(dtype)\n"
_MODE_LOOP = "        for bn_param in self.bn_params:\n"
_BN0, _BN1 = "self.bn_params[0]", "self.bn_params[1]"

# name: edits of the reference cnn.py that keep what it computes
CORRECT_LAYOUTS = {
    "bn_params_tuple": [(_CAST, _CAST + "        self.bn_params = tuple(self.bn_params)\n")],
    "bn_params_dict": [
        (_CAST, _CAST + "        self.bn_params = {'bn_param%d' % (i + 1): p "
                        "for i, p in enumerate(self.bn_params)}\n"),
        (_MODE_LOOP, "        for bn_param in self.bn_params.values():\n"),
        (_BN0, "self.bn_params['bn_param1']"), (_BN1, "self.bn_params['bn_param2']")],
    "bn_param_attributes": [
        (_CAST, _CAST + "        self.bn_param1, self.bn_param2 = self.bn_params or ({}, {})\n"
                        "        del self.bn_params\n"),
        (_MODE_LOOP, "        for bn_param in (self.bn_param1, self.bn_param2):\n"),
        (_BN0, "self.bn_param1"), (_BN1, "self.bn_param2")],
    "running_var_from_zeros": [(_APPEND_STATS, _APPEND_STATS.replace("np.ones(width", "np.zeros(width"))],
    "no_statistics_until_the_first_pass": [
        (_APPEND_STATS, "                self.bn_params.append({'mode': 'train'})")],
    "use_batchnorm_a_truthy_string_loss_a_python_float": [
        ("        self.use_batchnorm = use_batchnorm\n",
         "        self.use_batchnorm = 'yes' if use_batchnorm else ''\n        self.scratch = {}\n"),
        ("        return loss, grads", "        return float(loss), grads")],
}


@pytest.mark.parametrize("name", sorted(CORRECT_LAYOUTS))
def test_correct_model_layouts_score_full_marks(name, tmp_path):
    folder = support.variant(tmp_path, {CNN: CORRECT_LAYOUTS[name]})
    results = support.grade(folder, [support.spec().item(i) for i in CNN_ITEMS])
    assert support.lost_points(results) == {}, {k: r.output for k, r in results.items()}


def _grade_cnn_variant(tmp_path, edits, items=CNN_ITEMS):
    results = support.grade(support.variant(tmp_path, edits), [support.spec().item(i) for i in items])
    return results, support.lost_points(results)


def test_a_hard_coded_weight_scale_loses_the_initialisation_item(tmp_path):
    edits = {CNN: [("self.params['W%d'] = weight_scale * np.random.randn" % i,
                    "self.params['W%d'] = 1e-2 * np.random.randn" % i) for i in (1, 2, 3)]}
    results, lost = _grade_cnn_variant(tmp_path, edits)
    assert set(lost) == {FORWARD}
    assert "should be drawn from a normal distribution with mean 0 and standard deviation " \
           "weight_scale" in results[FORWARD].output


def test_a_backward_crash_costs_the_gradient_item_only_and_names_the_students_line(tmp_path):
    edits = {CNN: [("grads['W1'], grads['b1'] = conv_relu_pool_backward_params(dh1, cache1)",
                    "grads['W1'], grads['b1'] = conv_relu_pool_backward_params(dh1, cache1[1:])")]}
    results, lost = _grade_cnn_variant(tmp_path, edits)
    assert set(lost) == {GRADIENT}, results[FORWARD].output
    assert "in the backward pass" in results[FORWARD].output  # the note, not a deduction
    output = results[GRADIENT].output
    assert "in your conv_relu_pool_backward_params (nndl/conv_layer_utils.py, line" in output


def test_a_wrong_call_into_a_fast_layer_names_the_students_function(tmp_path):
    edits = {CNN: [("            h1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)",
                    "            h1, cache1 = conv_forward_fast(X, W1, conv_param)")],
             }
    folder = support.variant(tmp_path, edits)
    text = (folder / CNN).read_text().replace(
        "import numpy as np\n", "import numpy as np\nfrom cs231n.fast_layers import conv_forward_fast\n", 1)
    (folder / CNN).write_text(text)
    results = support.grade(folder, [support.spec().item(i) for i in CNN_ITEMS])
    output = results[FORWARD].output
    # every case without batchnorm takes the broken line: all groups but batchnorm fail
    assert {g.name for g in results[FORWARD].groups if g.status != "passed"} == \
        {"core", "regularisation", "odd_sizes", "float32"}
    assert results[FORWARD].score <= 0.25 * results[FORWARD].max_score
    assert "in your loss (nndl/cnn.py, line" in output and "conv_forward_fast(X, W1, conv_param)" in output


def test_a_softmax_epsilon_gets_no_regularisation_or_dtype_hint(tmp_path):
    # log(p + 1e-7): the CNN loss is off only a little, on some seeds; whatever it costs there,
    # the hints must not blame the regularisation or the dtype
    edits = {LAYERS: [("loss = -log_probs[rows, y].sum() / N",
                       "loss = -np.log(np.exp(log_probs[rows, y]) + 1e-7).sum() / N")]}
    modules = load_nndl(support.variant(tmp_path, edits))
    softmax = support.spec().item("layers.softmax_loss.loss")
    assert "an epsilon inside the log" in run_item_in_process(
        softmax, modules, reference_modules=support.reference(), rng=np.random.default_rng(0)).output
    forward_lost = 0
    for seed in range(6):
        for item_id in CNN_ITEMS:
            result = run_item_in_process(support.spec().item(item_id), modules,
                                         reference_modules=support.reference(),
                                         rng=np.random.default_rng(seed))
            assert not [h for h in result.hints if "regularisation" in h or "float32" in h
                        or "dtype" in h], result.output
            if item_id == FORWARD and result.score < result.max_score:
                forward_lost += 1
                assert "the bug is in softmax_loss" in result.output, result.output
    print("forward item lost on %d of 6 seeds" % forward_lost)


def test_the_feedback_states_the_scoring_rule():
    item = support.spec().item("conv_layers.conv_forward_naive.forward_secret")
    cases = [{"_label": "a"}, {"_label": "b"}, {"_label": "c"}]
    outcomes = [CheckOutcome(1.0, "passed", ""), CheckOutcome(0.0, "failed", "out differs"),
                CheckOutcome(1.0, "passed", "")]
    assert format_output(item, cases, outcomes, []).startswith(
        "2 of 3 cases passed: this item needs all cases.")
    per_case = dataclasses.replace(item, scoring="per_case")
    assert format_output(per_case, cases, outcomes, []).startswith(
        "2 of 3 cases passed: this item gives its points per case passed (2/3 of 6).")
