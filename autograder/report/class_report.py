"""GRADES_DIR/report.html: the instructor's one-page view of a graded class.

Plots (matplotlib PNGs, embedded as data: URIs so the page is one file): the histogram
of totals (after any late penalty), the pass rate (full marks) per item, the points the
class lost per item, and the most common diagnoses, i.e. the hints the grader gave
('Hint: ...' lines of each item's feedback); a table lists the top diagnoses per item.
Everything is read back from GRADES_DIR/<id>/results.json, like gradebook.csv.
"""
import base64
import collections
import html
import io
import json
import os
import statistics
from dataclasses import dataclass, field

from autograder.batch.gradebook import read_rows
from autograder.report import RESULTS_FILE, atomic

REPORT_FILE = "report.html"
HINT_PREFIX = "Hint: "
TOP_DIAGNOSES = 3            # per item in the table
TOP_DIAGNOSES_PLOT = 10      # overall, in the plot
LABEL_CHARS = 70


@dataclass
class ItemStats:
    item: str
    max_points: float
    scores: list = field(default_factory=list)
    hints: collections.Counter = field(default_factory=collections.Counter)

    @property
    def pass_rate(self):
        passed = sum(1 for s in self.scores if s >= self.max_points - 1e-9)
        return passed / len(self.scores) if self.scores else 0.0

    @property
    def points_lost(self):
        return sum(self.max_points - s for s in self.scores)


def hints_of(output):
    """The diagnoses in an item's feedback text (one per 'Hint: ' line)."""
    return [line[len(HINT_PREFIX):].strip() for line in (output or "").splitlines()
            if line.startswith(HINT_PREFIX) and line[len(HINT_PREFIX):].strip()]


def class_stats(grades_dir, ids):
    """(rows of gradebook.read_rows, {item: ItemStats} in spec order)."""
    rows = read_rows(grades_dir, ids)
    stats = {}
    for row in rows:
        try:
            with open(os.path.join(grades_dir, row.id, RESULTS_FILE)) as f:
                tests = json.load(f).get("tests", [])
        except (OSError, ValueError):
            tests = []
        for test in tests:
            item = test["extra_data"]["item"]
            entry = stats.setdefault(item, ItemStats(item, float(test["max_score"])))
            entry.scores.append(float(test["score"]))
            entry.hints.update(set(hints_of(test.get("output"))))  # once per submission
    return rows, stats


def _png(figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(height):
    from matplotlib.figure import Figure
    return Figure(figsize=(9, height))


def _short(text, chars=LABEL_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[:chars - 3] + "..."


def histogram_png(totals, max_score):
    figure = _figure(3.5)
    axes = figure.add_subplot()
    axes.hist(totals, bins=20, range=(0, max_score or 1), color="#4477aa", edgecolor="white")
    axes.set_xlabel("total (after late penalties)")
    axes.set_ylabel("submissions")
    axes.set_title("Score histogram (%d submissions)" % len(totals))
    return _png(figure)


def bars_png(labels, values, title, xlabel, color, xmax=None):
    figure = _figure(0.8 + 0.32 * max(1, len(labels)))
    axes = figure.add_subplot()
    positions = range(len(labels))
    axes.barh(list(positions), values, color=color)
    axes.set_yticks(list(positions), [_short(label) for label in labels], fontsize=8)
    axes.invert_yaxis()
    if xmax:
        axes.set_xlim(0, xmax)
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    return _png(figure)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class report</title>
<style>
body {{ font-family: sans-serif; max-width: 70em; margin: 2em auto; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3em .6em;
vertical-align: top; }} img {{ max-width: 100%; display: block; margin: 1em 0; }}
</style></head><body>
<h1>Class report</h1>
<p>{overview}</p>
{review}{plots}
<h2>Most common diagnoses per item</h2>
<table><tr><th>Item</th><th>Pass rate</th><th>Points lost (mean)</th><th>Diagnoses (submissions)</th></tr>
{rows}
</table>
</body></html>
"""


def class_report_html(grades_dir, ids):
    import matplotlib
    with matplotlib.rc_context({"text.parse_math": False}):  # a '$' in a hint is text, not TeX
        return _page(grades_dir, ids)


def _page(grades_dir, ids):
    rows, stats = class_stats(grades_dir, ids)
    e = html.escape
    if not rows:
        return PAGE.format(overview="No graded submissions yet (%d expected)." % len(ids),
                           review="", plots="", rows="")
    totals = [row.total for row in rows]
    max_score = max(row.max_score for row in rows)
    overview = ("%d of %d submissions graded. Mean %.2f / %g, median %.2f."
                % (len(rows), len(ids), statistics.fmean(totals), max_score,
                   statistics.median(totals)))
    items = list(stats.values())
    plots = [("Score histogram", histogram_png(totals, max_score)),
             ("Pass rate per item", bars_png([s.item for s in items],
                                             [100 * s.pass_rate for s in items],
                                             "Pass rate per item (full marks)", "% of submissions",
                                             "#228833", xmax=100)),
             ("Points lost per item", bars_png([s.item for s in items],
                                               [s.points_lost / len(rows) for s in items],
                                               "Points lost per item (mean per submission)",
                                               "points", "#cc6677"))]
    common = collections.Counter()
    for s in items:
        for hint, count in s.hints.items():
            common["%s: %s" % (s.item.split(".", 1)[-1], hint)] = count
    if common:
        top = common.most_common(TOP_DIAGNOSES_PLOT)
        plots.append(("Most common diagnoses", bars_png(
            [label for label, _ in top], [count for _, count in top],
            "Most common diagnoses (item: hint)", "submissions", "#ddaa33")))
    plot_html = "\n".join('<h2>%s</h2><img alt="%s" src="data:image/png;base64,%s">'
                          % (e(title), e(title), data) for title, data in plots)
    table = []
    for s in items:
        hints = "".join("<li>%s (%d)</li>" % (e(_short(h, 300)), n)
                        for h, n in s.hints.most_common(TOP_DIAGNOSES)) or "<li>none</li>"
        table.append("<tr><td><code>%s</code></td><td>%d%%</td><td>%.2f / %g</td>"
                     "<td><ul>%s</ul></td></tr>" % (e(s.item), round(100 * s.pass_rate),
                                                     s.points_lost / len(rows), s.max_points,
                                                     hints))
    return PAGE.format(overview=e(overview), review=review_html(rows), plots=plot_html,
                       rows="\n".join(table))


def review_html(rows):
    """The submissions whose result the staff should look at, and why ("" when none)."""
    flagged = [row for row in rows if row.review]
    if not flagged:
        return ""
    e = html.escape
    entries = "".join("<li><code>%s</code>: %s</li>" % (e(row.id), e(row.review)) for row in flagged)
    return '<h2 id="review">To review (%d)</h2><ul>%s</ul>\n' % (len(flagged), entries)


def write_class_report(grades_dir, ids):
    path = os.path.join(grades_dir, REPORT_FILE)
    atomic.write_text(path, class_report_html(grades_dir, ids))
    return path
