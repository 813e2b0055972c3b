"""Broken code gets a clear message and costs only the items it touches; the
grader never crashes (not even on malformed observations)."""
import numpy as np

from autograder.checks import judge_all
from autograder.checks.observation import error_observation, text

from tests.autograder.checks import support

CONV_ITEMS = {item.id for item in support.fast_items()
              if item.module == "conv_layers" or item.module == "cnn"}


def test_module_raising_on_import_costs_its_items_and_its_dependents(tmp_path):
    folder = support.variant(tmp_path, {"conv_layers.py": [("import numpy as np\n",
                                                            "import numpy as np\nraise RuntimeError('boom at import')\n")]})
    results = support.grade(folder)
    lost = support.lost_points(results)
    assert set(lost) == CONV_ITEMS  # layers.py items still pass
    message = results["conv_layers.conv_forward_naive.forward"].output
    assert "nndl/conv_layers.py could not be imported: RuntimeError: boom at import" in message
    assert "boom at import" in results["cnn.ThreeLayerConvNet.loss.gradient"].output


def test_syntax_error_names_file_and_line(tmp_path):
    folder = support.variant(tmp_path, {"layers.py": [("    out = np.empty_like(x, dtype=np.result_type(x, 0))", "    out = np.empty_like(x, dtype=np.result_type(x, 0)")]})
    results = support.grade(folder)
    assert all(r.score == 0 and r.status == "error" for r in results.values())
    message = results["layers.relu_backward.gradient"].output
    assert "nndl/layers.py could not be imported: SyntaxError" in message
    assert "layers.py, line" in message


def test_missing_module_file(tmp_path):
    folder = support.copy_reference(tmp_path / "nndl")
    (folder / "conv_layers.py").unlink()
    results = support.grade(folder)
    assert set(support.lost_points(results)) == CONV_ITEMS
    assert "nndl/conv_layers.py was not found" in results["conv_layers.conv_forward_naive.forward"].output


def test_forward_without_cache_is_a_clear_type_error(tmp_path):
    folder = support.variant(tmp_path, {"conv_layers.py": [
        ("    cache = (x, pool_param)\n    return out, cache\n", "    cache = (x, pool_param)\n    return out\n")]})
    results = support.grade(folder)
    message = results["conv_layers.max_pool_forward_naive.forward"].output
    assert "should return a tuple (out, cache), but returned a ndarray" in message
    assert results["conv_layers.max_pool_backward_naive.gradient"].score == 0


def test_output_of_the_wrong_type(tmp_path):
    folder = support.variant(tmp_path, {"conv_layers.py": [
        ("    cache = (x, w, b, conv_param)\n    return out, cache\n",
         "    cache = (x, w, b, conv_param)\n    return {'out': out}, cache\n")]})
    results = support.grade(folder)
    message = results["conv_layers.conv_forward_naive.forward"].output
    assert "out should be a numpy array, but your code returned a dict" in message
    assert "out is missing" in message


def test_backward_returning_too_few_values(tmp_path):
    folder = support.variant(tmp_path, {"conv_layers.py": [
        ("    return dx, dw, db\n\n\ndef max_pool_forward_naive", "    return dx, dw\n\n\ndef max_pool_forward_naive")]})
    results = support.grade(folder)
    assert "should return a tuple (dx, dw, db), but returned a tuple of length 2" in \
        results["conv_layers.conv_backward_naive.gradient"].output


def test_model_loss_returning_none(tmp_path):
    folder = support.variant(tmp_path, {"cnn.py": [("        return loss, grads\n", "        return None\n")]})
    results = support.grade(folder)
    output = results["cnn.ThreeLayerConvNet.loss.gradient"].output
    assert "loss(X, y) should return (loss, grads)" in output
    assert results["cnn.ThreeLayerConvNet.loss.forward"].score == 0


def test_exit_in_student_code_is_caught(tmp_path):
    folder = support.variant(tmp_path, {"conv_layers.py": [
        ("    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)\n",
         "    raise SystemExit(3)\n")]})
    results = support.grade(folder)
    assert "the code called exit(3)" in results["conv_layers.max_pool_forward_naive.forward"].output


def test_malformed_observations_do_not_crash_the_judge():
    item = support.spec().item("conv_layers.conv_backward_naive.gradient")
    cases, reference = support.expected(item.id)
    n = len(cases)
    weird = [
        error_observation("Timeout", "killed after 60 s", "sandbox"),
        {},                                                  # nothing at all
        {"dx": text("not numbers"), "dw": np.zeros(3)},      # strings and wrong shapes
        {"error": text("{not json")},                        # unreadable error
        {"dx": np.zeros((2, 2)), "num.x.index": np.array([10 ** 9]), "num.x.value": np.zeros(1),
         "num.x.dir_numeric": np.array(1.0), "num.x.dir_analytic": np.array(1.0)},
        None,                                                # no observation at all
    ][:n]
    result = judge_all(item, cases, weird, reference)
    assert result.score == 0
    assert "killed after 60 s" in result.output
    assert result.status in ("failed", "error")


def test_missing_observations_count_as_errors():
    item = support.spec().item("conv_layers.conv_forward_naive.forward_secret")
    cases, reference = support.expected(item.id)
    result = judge_all(item, cases, reference[:2], reference)
    assert result.score == 0 and "did not run" in result.output
