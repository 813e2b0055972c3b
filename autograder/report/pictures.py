"""Pictures for the feedback: where a wrong output differs, and per-class accuracy.

Inputs are the grader's own arrays (autograder.checks.compare.Difference, computed on
outputs already parsed with limits, and capped there); what is drawn is capped again
here (MAX_CHANNELS channels, MAX_SIDE x MAX_SIDE entries each). PNG bytes come from
matplotlib's Agg backend, in memory: nothing is written here.

reading() puts the difference pattern into one line a student can act on.
"""
import io
import re
from dataclasses import dataclass

import numpy as np

# the pattern of a padding bug, shared with the checks' padding hints
from autograder.checks.padding import border_width as _border_width

MAX_CHANNELS = 8       # channels drawn (the reading uses them all)
MAX_SIDE = 48          # entries drawn per side of one channel
DPI = 80
MAX_WIDTH_INCHES = 9.0  # 720 px: fits the page at 1200 px with room


def _spatial(wrong):
    """wrong as (C, H, W): channels, rows, columns (1-D and 2-D outputs get a channel axis)."""
    wrong = np.asarray(wrong, dtype=bool)
    if wrong.ndim == 1:
        return wrong[None, None, :]
    if wrong.ndim == 2:
        return wrong[None]
    return wrong.reshape((-1,) + wrong.shape[-2:])


def _alternating(flags):
    """True when flags are every other entry (from the first or the second), at least 3 long."""
    n = flags.size
    if n < 3:
        return False
    odd = np.arange(n) % 2 == 1
    return bool(np.array_equal(flags, odd) or np.array_equal(flags, ~odd))


def reading(difference):
    """One line saying what the pattern of wrong entries suggests (or where they are)."""
    wrong = np.asarray(difference.wrong, dtype=bool)
    total = wrong.size
    count = int(wrong.sum())
    if count == 0:
        return "no entry is off by more than the tolerance here (a NaN or a sign elsewhere?)"
    if count == total:
        if wrong.ndim >= 3 and min(wrong.shape[-2:]) <= 2:
            # no output position lies inside: a padding bug spoils all of them too
            return ("everything differs, and every entry of an output this small touches the "
                    "border: check the padding as well as the computation (the window's sum, "
                    "the order of the axes); a larger case tells the two apart")
        return ("everything differs: check the computation itself (the window's sum, the "
                "normalisation, the order of the axes), not only the edges")
    if wrong.ndim < 3:
        return _reading_table(difference, wrong) or _reading_elsewhere(difference, wrong)
    cube = _spatial(wrong)
    C, H, W = cube.shape
    four_d = len(difference.shape) == 4
    channels = np.flatnonzero(cube.any(axis=(1, 2)))
    # a channel's own bug (filter, bias, gamma) spoils most of that channel
    dense = bool(cube[channels].mean() >= 0.5)
    plane = cube.any(axis=0)
    rows, cols = plane.any(axis=1), plane.any(axis=0)
    if count == 1:
        return "only one entry differs, at index %s" % _index(np.flatnonzero(wrong.ravel())[0],
                                                             wrong.shape)
    if W > 1 and cols.sum() == 1 and cols[-1]:
        return ("only the last column differs: check the loop bounds (the output width is "
                "1 + (W + 2 * pad - WW) // stride)")
    if H > 1 and rows.sum() == 1 and rows[-1]:
        return ("only the last row differs: check the loop bounds (the output height is "
                "1 + (H + 2 * pad - HH) // stride)")
    if four_d and C > 1 and channels.size == 1 and dense:
        return ("only channel %d of %d differs: check what belongs to that channel (its filter "
                "w[%d], bias b[%d], gamma/beta)" % (channels[0], C, channels[0], channels[0]))
    width = _border_width(plane)
    if width:
        return ("only the border differs%s: check the padding (zeros, pad entries on each side)"
                % ("" if width == 1 else " (the outer %d rows and columns)" % width))
    if H * W > 2 and not plane[0, 0] and plane.sum() == H * W - 1:
        return ("every position but the first differs: check the stride (the window of output "
                "(i, j) starts at row i * stride, column j * stride)")
    if _alternating(cols) and plane[:, cols].all():
        return "every other column differs: check the stride along the width"
    if _alternating(rows) and plane[rows, :].all():
        return "every other row differs: check the stride along the height"
    if four_d and 1 < channels.size < C and dense:
        shown = ", ".join(str(c) for c in channels[:6]) + (", ..." if channels.size > 6 else "")
        return ("only channels %s of %d differ: check what is per channel (filters, biases, "
                "gamma/beta)" % (shown, C))
    return _reading_elsewhere(difference, wrong)


def _reading_table(difference, wrong):
    """Rows are samples, columns features or classes (a 2-D output such as dx of a loss)."""
    if wrong.ndim != 2:
        return ""
    rows, cols = wrong.any(axis=1), wrong.any(axis=0)
    if wrong.shape[0] > 1 and rows.sum() == 1:
        return "only row %d (one sample) differs" % np.flatnonzero(rows)[0]
    if wrong.shape[1] > 1 and cols.sum() == 1:
        return "only column %d differs in every row it touches" % np.flatnonzero(cols)[0]
    return ""


def _reading_elsewhere(difference, wrong):
    count, total = int(wrong.sum()), wrong.size
    index = _index(int(np.argmax(_magnitude_for_argmax(difference))), wrong.shape)
    if count >= 0.9 * total:
        return ("almost everything differs (%d of %d entries): check the computation itself; "
                "the largest difference is at index %s" % (count, total, index))
    return "%d of %d entries differ (%.0f%%); the largest difference is at index %s" % (
        count, total, 100.0 * count / total, index)


def _index(flat, shape):
    return "(" + ", ".join(str(int(i)) for i in np.unravel_index(int(flat), shape)) + ")"


def _magnitude_for_argmax(difference):
    magnitude = np.asarray(difference.magnitude, dtype=np.float64)
    return np.where(np.isnan(magnitude), np.inf, magnitude)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def _png(figure):
    plt = _pyplot()
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def difference_png(key, difference):
    """PNG bytes: |student - expected| of output `key`, one panel per channel (at most
    MAX_CHANNELS, MAX_SIDE entries a side), wrong entries' scale in a colour bar."""
    plt = _pyplot()
    magnitude = np.asarray(difference.magnitude, dtype=np.float64)
    if magnitude.ndim == 1:
        magnitude = magnitude[None, None, :]
    elif magnitude.ndim == 2:
        magnitude = magnitude[None]
    else:
        magnitude = magnitude.reshape((-1,) + magnitude.shape[-2:])
    channels = magnitude.shape[0]
    shown = magnitude[:MAX_CHANNELS, :MAX_SIDE, :MAX_SIDE]
    panels = shown.shape[0]
    finite = shown[np.isfinite(shown)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    width = min(MAX_WIDTH_INCHES, 1.0 + 1.6 * panels)
    figure, axes = plt.subplots(1, panels, figsize=(width, 2.4), squeeze=False)
    cmap = plt.get_cmap("magma").with_extremes(bad="#00c0ff")  # NaN or infinity
    image = None
    for c in range(panels):
        ax = axes[0, c]
        image = ax.imshow(np.ma.masked_invalid(shown[c]), cmap=cmap, vmin=0.0, vmax=top,
                          interpolation="nearest", aspect="auto" if shown.shape[1] == 1 else "equal")
        ax.set_xticks([])
        ax.set_yticks([])
        if len(difference.shape) >= 3:
            ax.set_title("channel %d" % c, fontsize=8)
    more = []
    if channels > panels:
        more.append("first %d of %d channels" % (panels, channels))
    if magnitude.shape[1] > MAX_SIDE or magnitude.shape[2] > MAX_SIDE:
        more.append("top-left %dx%d" % (MAX_SIDE, MAX_SIDE))
    batch = " (largest over the %d samples)" % difference.shape[0] \
        if len(difference.shape) == 4 else ""
    figure.suptitle("|yours - expected| of %s%s%s" % (key, batch,
                                                      ("; " + ", ".join(more)) if more else ""),
                    fontsize=9)
    figure.colorbar(image, ax=list(axes[0]), shrink=0.8)
    return _png(figure)


def accuracy_png(per_class, names=None, overall=None):
    """PNG bytes: a bar per class of its validation accuracy (a line at the overall one)."""
    values = [100.0 * float(v) for v in per_class][:100]
    labels = [str(n)[:16] for n in (names or [])][:len(values)]
    if len(labels) != len(values):
        labels = [str(i) for i in range(len(values))]
    chart = _accuracy_chart(tuple(labels), overall is not None)
    for bar, value in zip(chart.bars, values):
        bar.set_height(value)
    if chart.line is not None:
        level = 100.0 * float(overall)
        chart.line.set_ydata([level, level])
        chart.line.set_label("overall %.1f%%" % level)
        chart.legend.get_texts()[0].set_text("overall %.1f%%" % level)
    buffer = io.BytesIO()
    chart.figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


@dataclass
class _Chart:
    figure: object
    bars: object
    line: object     # the overall accuracy's line, or None
    legend: object


_CHARTS = {}   # (class labels, with an overall line) -> _Chart


def _accuracy_chart(labels, with_overall):
    """The accuracy chart's figure for these labels, laid out once per grading process (the
    layout, tight_layout above all, was most of the chart's time in every report); each call
    of accuracy_png sets its bars, line and legend text, which lie inside the axes and so do
    not move the layout: the bytes are those of a figure drawn afresh."""
    key = (labels, with_overall)
    if key in _CHARTS:
        return _CHARTS[key]
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(min(MAX_WIDTH_INCHES, 1.5 + 0.6 * len(labels)), 3.0))
    # detached from pyplot's figure manager: nothing else closes or draws on it
    plt.close(figure)
    bars = ax.bar(range(len(labels)), [0.0] * len(labels), color="#4a7ab5")
    line = legend = None
    if with_overall:
        line = ax.axhline(0.0, color="#a00", linewidth=1, label="overall 0.0%")
        legend = ax.legend(fontsize=8, loc="lower right")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("validation accuracy (%)", fontsize=8)
    ax.set_title("Your model's validation accuracy per class", fontsize=9)
    figure.tight_layout()
    if len(_CHARTS) >= 4:
        _CHARTS.clear()
    _CHARTS[key] = _Chart(figure, bars, line, legend)
    return _CHARTS[key]


MAX_FIGURES = 20       # pictures per report


@dataclass(frozen=True)
class Figure:
    """One picture of a report: written beside feedback.md as `name`, inlined in the html."""
    item_index: int    # position of the item in the result (ids are unique in a real report)
    item_id: str
    name: str          # file name, feedback-<item>[-<output>].png
    caption: str
    reading: str       # one line (empty for the accuracy chart)
    png: bytes


def file_name(item_id, key=""):
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", item_id + ("-" + key if key else ""))[:120]
    return "feedback-%s.png" % slug


def figures_of(result):
    """Every Figure of a GradeResult's items, in item order (at most MAX_FIGURES)."""
    found = []
    for index, item in enumerate(result.items):
        for key, difference in sorted(item.differences.items()):
            if len(found) >= MAX_FIGURES:
                return found
            where = " on the case %s" % difference.case if difference.case else ""
            found.append(Figure(index, item.item_id, file_name(item.item_id, key),
                                "%s: |yours - expected| of %s, shape %s%s" % (
                                    item.item_id, key, "(" + ", ".join(
                                        str(d) for d in difference.shape) + ")", where),
                                reading(difference), difference_png(key, difference)))
        per_class = item.accuracy.get("per_class_val")
        if per_class and len(found) < MAX_FIGURES:
            found.append(Figure(index, item.item_id, file_name(item.item_id, "per-class"),
                                "%s: validation accuracy per class" % item.item_id, "",
                                accuracy_png(per_class, item.accuracy.get("class_names"),
                                             item.accuracy.get("validation"))))
    return found
