"""Pictures of where a wrong output differs, and their one-line reading.

The readings are checked on planted difference patterns, and on planted bugs in the
reference conv_forward_naive (edge padding, a stride of 1, one channel's bias left out)
whose difference pattern the test first establishes itself, from the reference and the
variant's outputs, before asking the checks and the report."""
import io

import matplotlib.image
import numpy as np
import pytest

from autograder.checks import run_item_in_process
from autograder.checks.compare import difference
from autograder.checks.loading import load_nndl
from autograder.report import pictures
from autograder.report.facts import item_facts
from tests.autograder.checks import support

RNG = np.random.default_rng(3)
EXPECTED = RNG.normal(size=(2, 4, 6, 6))


def reading_of(actual, expected=EXPECTED):
    return pictures.reading(difference(actual, expected, 1e-7, 1e-6))


def planted(where):
    actual = EXPECTED.copy()
    actual[where] += 0.5
    return actual


def test_border_only():
    actual = EXPECTED.copy()
    actual[:, :, [0, -1], :] += 1.0
    actual[:, :, :, [0, -1]] -= 0.3
    assert reading_of(actual).startswith("only the border differs: check the padding")


def test_one_side_of_the_border_is_still_the_border_but_the_last_column_is_the_bounds():
    assert "border" in reading_of(planted(np.s_[:, :, 0, :]))
    assert "(the outer 2 rows and columns)" in reading_of(planted(np.s_[:, :, :2, :]))
    assert "last column" in reading_of(planted(np.s_[:, :, :, -1]))


def test_stride_patterns():
    every_other = planted(np.s_[:, :, :, 1::2])
    assert reading_of(every_other).startswith("every other column differs: check the stride")
    assert reading_of(planted(np.s_[:, :, ::2, :])).startswith("every other row differs")
    all_but_first = EXPECTED + 1.0
    all_but_first[:, :, 0, 0] = EXPECTED[:, :, 0, 0]
    assert "every position but the first differs: check the stride" in reading_of(all_but_first)


def test_one_channel_and_some_channels():
    assert reading_of(planted(np.s_[:, 2])).startswith("only channel 2 of 4 differs")
    assert reading_of(planted(np.s_[:, 1:3])).startswith("only channels 1, 2 of 4 differ")


def test_everything_one_entry_and_scattered():
    assert reading_of(EXPECTED * 2 + 1).startswith("everything differs")
    assert reading_of(planted(np.s_[1, 3, 2, 4])) == "only one entry differs, at index (3, 2, 4)"
    scattered = planted(np.s_[:, 0, 1, 2])
    scattered[:, 3, 4, 1] += 2.0
    line = reading_of(scattered)
    assert line.startswith("2 of 144 entries differ") and "(3, 4, 1)" in line


def test_within_tolerance_is_not_wrong_and_nan_is():
    actual = EXPECTED + 1e-12 * np.abs(EXPECTED)
    actual[0, 1, 2, 3] = np.nan
    found = difference(actual, EXPECTED, 1e-7, 1e-6)
    assert found.wrong.sum() == 1 and found.wrong[1, 2, 3]
    assert np.isnan(found.magnitude[1, 2, 3])           # drawn in the NaN colour
    assert pictures.reading(found) == "only one entry differs, at index (1, 2, 3)"


def test_two_dimensional_outputs_read_as_rows_and_columns():
    expected = RNG.normal(size=(5, 10))
    actual = expected.copy()
    actual[:, 7] += 1
    assert reading_of(actual, expected) == "only column 7 differs in every row it touches"
    actual = expected.copy()
    actual[2] += 1
    assert reading_of(actual, expected) == "only row 2 (one sample) differs"


def test_a_huge_output_gets_no_picture_and_the_drawing_is_capped():
    big = np.zeros((1, 1, 300, 300))
    assert difference(big + 1, big, 1e-7, 1e-6) is None
    wide = np.zeros((2, 12, 60, 60))   # more channels and a wider side than are drawn
    found = difference(wide + 1, wide, 1e-7, 1e-6)
    image = matplotlib.image.imread(io.BytesIO(pictures.difference_png("out", found)))
    assert image.shape[1] <= pictures.MAX_WIDTH_INCHES * pictures.DPI + 1
    assert image.shape[0] > 50 and image[..., :3].std() > 0.05   # drawn, not blank


def test_accuracy_chart_decodes():
    png = pictures.accuracy_png([0.5, 0.7, 0.2], ["cat", "dog", "ship"], overall=0.47)
    image = matplotlib.image.imread(io.BytesIO(png))
    assert image.shape[0] > 100 and image.shape[1] > 100


# --- planted bugs in the reference, through the checks and the report -------------------

PADDING = ("(pad, pad)), mode='constant')\n    out = np.zeros(", "(pad, pad)), mode='edge')\n    out = np.zeros(")
STRIDE = ("window = xpad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]",
          "window = xpad[n, :, i:i + HH, j:j + WW]")
BIAS = ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
        "out[n, f, i, j] = np.sum(window * w[f]) + (b[f] if f != 1 else 0.0)")


def conv_outputs(modules, x, w, b, stride, pad):
    out, _ = modules["conv_layers"].conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    return out


@pytest.mark.parametrize("edit, stride, pad, pattern, words", [
    (PADDING, 1, 1, "border", "only the border differs: check the padding"),
    (STRIDE, 2, 1, "all but first", "every position but the first differs: check the stride"),
    (BIAS, 1, 1, "channel 1", "only channel 1 of "),
])
def test_planted_bug_is_read_from_its_difference(tmp_path, edit, stride, pad, pattern, words):
    variant = load_nndl(support.variant(tmp_path, {"conv_layers.py": [edit]}))
    reference = support.reference()
    # the pattern, established here from the two implementations alone
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(3, 3, 3, 3)), rng.normal(size=3)
    wrong = np.abs(conv_outputs(variant, x, w, b, stride, pad)
                   - conv_outputs(reference, x, w, b, stride, pad)).max(axis=0) > 1e-9
    plane = wrong.any(axis=0)
    if pattern == "border":
        assert plane[[0, -1]].any() and not plane[1:-1, 1:-1].any()
    elif pattern == "all but first":
        assert not plane[0, 0] and plane.sum() == plane.size - 1
    else:
        assert list(np.flatnonzero(wrong.any(axis=(1, 2)))) == [1]
    # the grader's checks and the report on the item's own cases
    item = support.spec().item("conv_layers.conv_forward_naive.forward_secret")
    verdict = run_item_in_process(item, variant, reference_modules=reference,
                                  rng=np.random.default_rng(5))
    assert verdict.status == "failed"
    facts = item_facts(item, verdict)
    assert set(facts["differences"]) == {"out"}
    assert pictures.reading(facts["differences"]["out"]).startswith(words)


def test_the_grader_path_writes_the_picture_beside_feedback_md(tmp_path):
    """From the checks' verdict through grade.aggregate to the report files."""
    from autograder.grade.aggregate import from_checks
    from autograder.report import write_reports
    from autograder.results.model import GradeResult
    variant = load_nndl(support.variant(tmp_path, {"conv_layers.py": [PADDING]}))
    item = support.spec().item("conv_layers.conv_forward_naive.forward_secret")
    verdict = run_item_in_process(item, variant, reference_modules=support.reference(),
                                  rng=np.random.default_rng(5))
    graded = from_checks(item, verdict)
    assert graded.section == item.section and graded.function == item.function_name
    write_reports(GradeResult(submission="s", items=[graded]), tmp_path / "out")
    name = pictures.file_name(item.id, "out")
    assert (tmp_path / "out" / name).read_bytes().startswith(b"\x89PNG")
    assert "](%s)" % name in (tmp_path / "out" / "feedback.md").read_text()
    import json
    test = json.loads((tmp_path / "out" / "results.json").read_text())["tests"][0]
    assert test["extra_data"]["section"] == item.section


def test_an_output_too_small_to_have_an_inside_names_the_padding_too():
    # The notebook's fixed conv case (x 2x3x4x4, w 3x3x4x4, stride 2, pad 1) has a 2x2
    # output: edge padding spoils every entry there, so "everything differs" alone would
    # send the student away from the padding. Established from the reference first.
    modules = load_nndl(support.REPO / "solutions" / "nndl")
    x = np.linspace(-0.1, 0.5, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, 3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, 3)
    param = {"stride": 2, "pad": 1}
    expected, _ = modules["conv_layers"].conv_forward_naive(x, w, b, param)
    edge = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    actual, _ = modules["conv_layers"].conv_forward_naive(edge, w, b, dict(param, pad=0))
    assert expected.shape == actual.shape == (2, 3, 2, 2)
    assert np.all(np.abs(actual - expected) > 1e-6)      # every entry spoilt
    text = reading_of(actual, expected)
    assert text.startswith("everything differs") and "padding" in text
    # on a larger output with an inside, all-wrong still points at the computation alone
    assert "padding" not in reading_of(EXPECTED * 2 + 1)


def _chart_drawn_afresh(per_class, names, overall):
    """The accuracy chart drawn on a new figure, step by step (the recipe the laid-out-once
    chart must reproduce byte for byte)."""
    plt = pictures._pyplot()
    values = [100.0 * float(v) for v in per_class]
    figure, ax = plt.subplots(figsize=(min(pictures.MAX_WIDTH_INCHES, 1.5 + 0.6 * len(values)), 3.0))
    ax.bar(range(len(values)), values, color="#4a7ab5")
    if overall is not None:
        ax.axhline(100.0 * overall, color="#a00", linewidth=1, label="overall %.1f%%" % (100.0 * overall))
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("validation accuracy (%)", fontsize=8)
    ax.set_title("Your model's validation accuracy per class", fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=pictures.DPI)
    plt.close(figure)
    return buffer.getvalue()


def test_the_accuracy_chart_laid_out_once_draws_each_report_as_a_new_figure_would():
    rng = np.random.default_rng(5)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    charts = [(list(rng.random(10)), names, float(rng.random())) for _ in range(3)] + [
        ([1.0] * 10, names, 1.0), ([0.0] * 10, names, 0.0), (list(rng.random(10)), names, None),
        ([0.3, 0.9], ["cat", "dog"], 0.6)]
    drawn = [pictures.accuracy_png(*chart) for chart in charts + charts[::-1]]
    assert len(set(drawn[:len(charts)])) == len(charts)   # each report its own chart
    for chart, png in zip(charts + charts[::-1], drawn):
        assert png == _chart_drawn_afresh(*chart)
