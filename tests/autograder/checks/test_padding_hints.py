"""The conv forward items name the padding bug a student's conv_forward_naive has: each bug is
planted by editing the reference's text, shown to differ from the reference on a pad > 0 input
without the grader, then graded in process; the feedback names it and shows no grader path."""
import re

import numpy as np
import pytest

from autograder.checks import padding
from autograder.checks.loading import load_nndl

from tests.autograder.checks import support

CONV = "conv_layers.py"
ITEMS = ("conv_layers.conv_forward_naive.forward", "conv_layers.conv_forward_naive.forward_secret")
PAD_LINE = ("xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')\n"
            "    out = np.zeros(")
SMALLER_OUTPUT = "    out_h, out_w = 1 + (H - HH) // stride, 1 + (W - WW) // stride\n"
ONE_SIDED_OUTPUT = ("    out_h, out_w = 1 + (H + pad - HH) // stride, "
                    "1 + (W + pad - WW) // stride\n")

# name: (replacement of PAD_LINE, words the hint must hold)
PLANTED = {
    "not_padded_crashes": ("xpad = x\n    out = np.zeros(",
                           "crashed on mismatched shapes in a case with pad > 0: x is probably "
                           "not padded"),
    "padded_on_every_axis_crashes": ("xpad = np.pad(x, pad, mode='constant')\n    out = np.zeros(",
                                     "or padded on other axes than H and W"),
    "not_padded_smaller_output": ("xpad = x\n" + SMALLER_OUTPUT + "    out = np.zeros(",
                                  "x is not padded"),
    "padded_top_left_only": ("xpad = np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)), "
                             "mode='constant')\n" + ONE_SIDED_OUTPUT + "    out = np.zeros(",
                             "x is padded on one side only (top and left)"),
    "padded_bottom_right_only": ("xpad = np.pad(x, ((0, 0), (0, 0), (0, pad), (0, pad)), "
                                 "mode='constant')\n" + ONE_SIDED_OUTPUT + "    out = np.zeros(",
                                 "padded on one side only (bottom and right)"),
    "padded_with_edge_values": ("xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), "
                                "mode='edge')\n    out = np.zeros(",
                                "x is padded with copies of its edge (mode='edge'), not zeros"),
    "padded_with_reflection": ("xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), "
                               "mode='reflect')\n    out = np.zeros(",
                               "x is padded with its reflection (mode='reflect'), not zeros"),
    "padded_with_ones": ("xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), "
                         "mode='constant', constant_values=1)\n    out = np.zeros(",
                         "x is padded with 1, not zeros"),
}
THE_FIX = "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')"


def plant(tmp_path, name):
    return support.variant(tmp_path, {CONV: [(PAD_LINE, PLANTED[name][0])]}, name=name)


def differs_from_the_reference(folder):
    """The planted conv_forward_naive on a pad = 1 input, judged without the grader: it raises,
    or its output has another shape or other values than the reference's."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), \
        rng.standard_normal(2)
    expected, _ = support.reference()["conv_layers"].conv_forward_naive(
        x, w, b, {"stride": 1, "pad": 1})
    try:
        out, _ = load_nndl(folder)["conv_layers"].conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    except Exception:  # noqa: BLE001 - a crash is a difference
        return True
    return out.shape != expected.shape or not np.allclose(out, expected)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_planted_padding_bug_is_a_bug(tmp_path, name):
    assert differs_from_the_reference(plant(tmp_path, name))


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_forward_items_name_the_padding_bug(tmp_path, name):
    results = support.grade(plant(tmp_path, name), [support.spec().item(i) for i in ITEMS])
    for item_id in ITEMS:
        result = results[item_id]
        # a padding bug breaks every case with pad > 0; the pad = 0 cases are right, and
        # keep their group's share
        assert result.score <= sum(g.points for g in result.groups if g.name == "no_padding"), \
            result.output
        assert "core" not in {g.name for g in result.groups if g.status == "passed"}
        hints = [line for line in result.output.splitlines() if line.startswith("Hint: ")]
        assert any(PLANTED[name][1] in h and THE_FIX in h for h in hints), result.output
        for path in re.findall(r'File "([^"]*)"', result.output):
            assert re.fullmatch(r"nndl/\w+\.py", path), result.output
        assert "autograder/" not in result.output


def test_a_case_two_bugs_fit_names_both_and_a_larger_case_tells_them_apart(tmp_path):
    """On the notebook's 4x4 input with a 4x4 filter, stride 2 and pad 1, padding only the
    bottom and right leaves one window, x itself: the output of no padding at all."""
    results = support.grade(plant(tmp_path, "padded_bottom_right_only"),
                            [support.spec().item(i) for i in ITEMS])
    both = ("Hint: x is not padded, or padded on one side only (bottom and right): pad it with "
            "zeros on both sides of H and W first, %s." % THE_FIX)
    assert both in results[ITEMS[0]].output.splitlines()
    assert ("Hint: x is padded on one side only (bottom and right): pad it with zeros on both "
            "sides of H and W first, %s." % THE_FIX) in results[ITEMS[1]].output.splitlines()


def test_the_reference_gets_no_padding_hint():
    results = support.grade(support.SOLUTIONS_NNDL, [support.spec().item(i) for i in ITEMS])
    assert all(r.passed and not r.hints for r in results.values())


def conv_case(pad=1, stride=1, dtype=np.float64):
    rng = np.random.default_rng(3)
    return {"x": rng.standard_normal((2, 3, 7, 7)).astype(dtype),
            "w": rng.standard_normal((4, 3, 3, 3)).astype(dtype),
            "b": rng.standard_normal(4).astype(dtype),
            "conv_param.stride": stride, "conv_param.pad": pad}


def convolve(case, xpad):
    return padding.conv_of_padded(xpad, case["w"], case["b"], case["conv_param.stride"])


def test_conv_of_padded_is_the_references_convolution():
    for stride in (1, 2):
        case = conv_case(pad=1, stride=stride)
        expected, _ = support.reference()["conv_layers"].conv_forward_naive(
            case["x"], case["w"], case["b"], {"stride": stride, "pad": 1})
        zero_padded = np.pad(case["x"], ((0, 0), (0, 0), (1, 1), (1, 1)))
        assert np.allclose(convolve(case, zero_padded), expected, rtol=1e-12, atol=1e-12)


def test_any_constant_other_than_zero_is_named():
    case = conv_case(pad=2)
    out = convolve(case, np.pad(case["x"], ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-0.5))
    assert padding.padding_hints(case, out) == [
        "x is padded with -0.5, not zeros (np.pad's constant_values must stay 0): pad it with "
        "zeros on both sides of H and W first, %s." % THE_FIX]


def test_float32_outputs_match_their_variant_within_float32_rounding():
    case = conv_case(dtype=np.float32)
    out = convolve(case, np.pad(case["x"], ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge"))
    assert padding.padding_hints(case, out.astype(np.float32), single=True)[0].startswith(
        "x is padded with copies of its edge")


def test_no_hint_without_padding_or_for_another_bug():
    case = conv_case(pad=0)
    assert padding.padding_hints(case, convolve(case, case["x"]) + 1.0) == []
    case = conv_case(pad=1)
    right = convolve(case, np.pad(case["x"], ((0, 0), (0, 0), (1, 1), (1, 1))))
    assert padding.padding_hints(case, 2 * right) == []
    assert padding.crash_hints(conv_case(pad=0), {"type": "ValueError",
                                                  "message": "could not be broadcast"}) == []
    assert padding.crash_hints(case, {"type": "ZeroDivisionError", "message": "shape"}) == []


def test_a_border_only_difference_hints_at_the_padding_like_the_pictures():
    wrong = np.zeros((3, 6, 6), dtype=bool)
    wrong[:, 0, :] = wrong[:, -1, :] = True
    assert padding.border_hints(wrong)[0].startswith("Only the border of your output differs")
    inside = np.zeros((3, 6, 6), dtype=bool)
    inside[:, 2:4, 2:4] = True
    assert padding.border_hints(inside) == []


def test_the_report_pictures_read_the_same_border_pattern():
    from autograder.checks.compare import Difference
    from autograder.report import pictures
    wrong = np.zeros((3, 6, 6), dtype=bool)
    wrong[:, :, 0] = wrong[:, :, -1] = True
    reading = pictures.reading(Difference(wrong.astype(np.float32), wrong, (2, 3, 6, 6)))
    assert reading.startswith("only the border differs: check the padding")
    assert pictures._border_width is padding.border_width
