"""Code written for an older numpy or for Python 2 crashes with a hint naming the removal
and the fix; the crashed cases cost what they cost without the hint."""
import numpy as np
import pytest

from autograder.checks import diagnosis

from tests.autograder.checks import support

CONV = "conv_layers.py"
CONV_FORWARD = "conv_layers.conv_forward_naive.forward"
POOL_FORWARD = "conv_layers.max_pool_forward_naive.forward"
POOL_ROWS = ("dtype=x.dtype)\n    for i in range(out_h):\n        for j in range(out_w):\n"
             "            window = x[:, :, i * stride:i * stride + ph,")

# name: (edits of the reference, graded item, hint substring)
PLANTED = {
    "np_float_alias": (
        {CONV: [("dtype=np.result_type(x, w, b))\n    for n in range(N):",
                 "dtype=np.float)\n    for n in range(N):")]},
        CONV_FORWARD, "np.float was removed in numpy 1.24 (the grader runs numpy %s; your numpy "
                      "may be older): use the builtin float (or np.float64)." % np.__version__),
    "np_int_of_a_size": (
        {CONV: [("    out_h = 1 + (H - ph) // stride\n",
                 "    out_h = np.int(1 + (H - ph) / stride)\n")]},
        POOL_FORWARD, "np.int was removed in numpy 1.24 (the grader runs numpy %s; your numpy "
                      "may be older): use the builtin int (or np.int64)." % np.__version__),
    "np_float_underscore": (
        {CONV: [("out = np.empty((N, C, out_h, out_w), dtype=x.dtype)",
                 "out = np.empty((N, C, out_h, out_w), dtype=np.float_)")]},
        POOL_FORWARD, "np.float_ was removed in numpy 2.0 (the grader runs numpy %s; your numpy "
                      "may be older): use np.float64." % np.__version__),
    "true_division_for_a_size": (
        {CONV: [("    out_h = 1 + (H + 2 * pad - HH) // stride\n",
                 "    out_h = 1 + (H + 2 * pad - HH) / stride\n")]},
        CONV_FORWARD, "`/` is true division in Python 3 (it always gives a float): use // (or "
                      "int(...)) for sizes and indices."),
    "true_division_in_a_slice": (
        {CONV: [(POOL_ROWS, "dtype=x.dtype)\n    for i in range(out_h):\n        for j in range(out_w):\n"
                            "            top = i * (H - ph) / max(out_h - 1, 1)\n"
                            "            window = x[:, :, top:top + ph,")]},
        POOL_FORWARD, "`/` is true division in Python 3"),
    "xrange": (
        {CONV: [(POOL_ROWS, POOL_ROWS.replace("range(out_h)", "xrange(out_h)"))]},
        POOL_FORWARD, "xrange is Python 2: use range."),
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_crash_gets_the_hint_and_costs_the_item(tmp_path, name):
    edits, item_id, hint = PLANTED[name]
    folder = support.variant(tmp_path, edits)
    result = support.grade(folder, [support.spec().item(item_id)])[item_id]
    assert result.score == 0 and result.status == "error", result.output
    assert "Hint: " + hint in result.output, result.output
    assert any(hint in h for h in result.hints)


def test_the_reference_gets_no_crash_hint():
    result = support.grade(support.SOLUTIONS_NNDL, [support.spec().item(CONV_FORWARD)])
    assert result[CONV_FORWARD].passed and result[CONV_FORWARD].hints == []


def test_numpy_2_messages_of_removed_names_are_read_too():
    info = {"type": "AttributeError",
            "message": "`np.NaN` was removed in the NumPy 2.0 release. Use `np.nan` instead."}
    assert diagnosis.removed_numpy_name(info, "2.4") == [
        "np.NaN was removed in numpy 2.0 (the grader runs numpy %s; your numpy may be older): "
        "use np.nan." % (np.__version__ if np.__version__.startswith("2.4.") else "2.4.x")]


def test_a_self_check_on_another_numpy_names_the_declared_series():
    info = {"type": "AttributeError", "message": "module 'numpy' has no attribute 'product'"}
    hint, = diagnosis.removed_numpy_name(info, "9.9")
    assert "the grader runs numpy 9.9.x" in hint and "use np.prod" in hint


def test_other_attribute_errors_get_no_numpy_hint():
    assert diagnosis.removed_numpy_name(
        {"type": "AttributeError", "message": "module 'numpy' has no attribute 'convolve3'"}) == []
    assert diagnosis.removed_numpy_name(
        {"type": "NameError", "message": "module 'numpy' has no attribute 'int'"}) == []
    assert diagnosis.python2_idioms(
        {"type": "TypeError", "message": "unsupported operand type(s) for +: 'int' and 'str'"}) == []
