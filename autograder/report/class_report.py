"""GRADES_DIR/report.html: the instructor's one-page view of a graded class.

In order: what to review (grader errors, results flagged for review, similar pairs, items
nobody passed, items the staff overrode); a row per student (score, late penalty, the
staff's overrides, review and similarity flags) linking to its feedback.html (relative
links: the run folder works opened from disk); the similarity report's pairs (when
similarity.csv is in the folder); plots (matplotlib PNGs, embedded as data: URIs): the
histogram of totals (after any late penalty), the pass rate (full marks) per item, the
points the class lost per item, and the most common diagnoses; then per item who lost
points and the diagnoses they got, counted: the hints the grader gave ('Hint: ...' lines of
each item's feedback and the hints of its failed case groups).
Everything is read back from GRADES_DIR/<id>/results.json, like gradebook.csv.
"""
import base64
import collections
import csv
import html
import io
import os
import statistics
import urllib.parse
from dataclasses import dataclass, field

from autograder.report.gradebook import read_rows
from autograder.policy import late, overrides
from autograder.report import FEEDBACK_HTML
from autograder.results import store
from autograder.files import atomic

REPORT_FILE = "report.html"
HINT_PREFIX = "Hint: "
TOP_DIAGNOSES = 3            # per item in the table
TOP_DIAGNOSES_PLOT = 10      # overall, in the plot
LABEL_CHARS = 70
SIMILARITY_CSV = "similarity.csv"      # autograder.similarity.report's (it imports us not)
SIMILARITY_HTML = "similarity.html"
SIMILARITY_CSV_BYTES = 8 * 1024 * 1024
SIMILAR_PAIRS_SHOWN = 50


@dataclass
class ItemStats:
    item: str
    max_points: float
    scores: list = field(default_factory=list)
    hints: collections.Counter = field(default_factory=collections.Counter)
    by_student: dict = field(default_factory=dict)     # {submission id: score}
    unexplained: int = 0     # submissions that lost points here without any hint

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


def group_hints(extra_data):
    """The spec's hints of the case groups an item failed (results.json's extra_data.groups;
    the output has them inside "Group x failed: ..." lines, not as 'Hint: ' lines)."""
    found = []
    for group in (extra_data or {}).get("groups") or ():
        if isinstance(group, dict) and group.get("status") in ("failed", "error") \
                and str(group.get("hint") or "").strip():
            found.append("%s: %s" % (group.get("name", "?"), str(group["hint"]).strip()))
    return found


def class_stats(grades_dir, ids):
    """(rows of gradebook.read_rows, {item: ItemStats} in spec order)."""
    rows = read_rows(grades_dir, ids)
    stats = {}
    for row in rows:
        tests = (store.load(os.path.join(grades_dir, row.id)) or {}).get("tests", [])
        for test in tests:
            item = test["extra_data"]["item"]
            entry = stats.setdefault(item, ItemStats(item, float(test["max_score"])))
            score = float(test["score"])
            entry.scores.append(score)
            entry.by_student[row.id] = score
            hints = set(hints_of(test.get("output")) + group_hints(test.get("extra_data")))
            entry.hints.update(hints)  # once per submission
            if not hints and score < entry.max_points - 1e-9:
                entry.unexplained += 1
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
body {{ font-family: sans-serif; max-width: 75em; margin: 2em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: .3em .6em; vertical-align: top; text-align: left; }}
img {{ max-width: 100%; display: block; margin: 1em 0; }}
.num, .nowrap {{ white-space: nowrap; }} .num {{ text-align: right; }}
td ul {{ margin: 0; padding-left: 1.2em; }}
.flag {{ color: #a33; }} .adjusted {{ color: #246; }}
.who {{ max-width: 22em; }} .who a {{ margin-right: .4em; }}
</style></head><body>
<h1>Class report</h1>
<p>{overview}</p>
{review}{students}{similarity}{plots}
<h2 id="items">Items: who lost points, and the diagnoses they were given</h2>
<table><tr><th>Item</th><th>Pass rate</th><th>Points lost (mean)</th><th>Lost by</th>
<th>Diagnoses (submissions)</th></tr>
{rows}
</table>
</body></html>
"""
LOST_BY_SHOWN = 25           # ids listed per item; the others are counted


def feedback_link(sid, text=None):
    """A relative link to GRADES_DIR/<sid>/feedback.html (works from disk and a web server)."""
    e = html.escape
    return '<a href="%s/%s">%s</a>' % (e(urllib.parse.quote(sid)), FEEDBACK_HTML,
                                       e(sid if text is None else text))


def class_report_html(grades_dir, ids):
    import matplotlib
    with matplotlib.rc_context({"text.parse_math": False}):  # a '$' in a hint is text, not TeX
        return _page(grades_dir, ids)


def _page(grades_dir, ids):
    rows, stats = class_stats(grades_dir, ids)
    e = html.escape
    if not rows:
        return PAGE.format(overview="No graded submissions yet (%d expected)." % len(ids),
                           review="", students="", similarity="", plots="", rows="")
    pairs = similarity_pairs(grades_dir, {row.id for row in rows})
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
    return PAGE.format(overview=e(overview), review=review_html(rows, items, pairs),
                       students=students_html(rows, pairs), similarity=similarity_html(pairs),
                       plots=plot_html, rows="\n".join(item_row(s, len(rows)) for s in items))


def item_row(s, graded):
    """The items table's row of one item: rates, who lost points, the hints counted."""
    e = html.escape
    hints = "".join("<li>%s (%d)</li>" % (e(_short(h, 300)), n)
                    for h, n in s.hints.most_common(TOP_DIAGNOSES))
    if len(s.hints) > TOP_DIAGNOSES:
        others = len(s.hints) - TOP_DIAGNOSES
        hints += "<li>%d other diagnos%s</li>" % (others, "is" if others == 1 else "es")
    if s.unexplained:
        hints += "<li>no hint given (%d)</li>" % s.unexplained
    lost = [sid for sid, score in s.by_student.items() if score < s.max_points - 1e-9]
    who = " ".join(feedback_link(sid) for sid in lost[:LOST_BY_SHOWN])
    if len(lost) > LOST_BY_SHOWN:
        who += " and %d more" % (len(lost) - LOST_BY_SHOWN)
    return ('<tr><td><code>%s</code></td><td class="num">%d%%</td><td class="num">%.2f / %g'
            '</td><td class="who">%s</td><td><ul>%s</ul></td></tr>'
            % (e(s.item), round(100 * s.pass_rate), s.points_lost / graded, s.max_points,
               who or "nobody", hints or "<li>none</li>"))


def students_html(rows, pairs):
    """One row per graded submission: its score, late penalty, the staff's overrides, review
    and similarity flags, and a link to its feedback page."""
    e = html.escape
    partners = collections.defaultdict(list)
    for pair in pairs:
        if pair.flagged:
            partners[pair.a].append(pair.b)
            partners[pair.b].append(pair.a)
    lines = []
    for row in rows:
        late_cell = ""
        if row.late and row.late.get("fraction"):
            late_cell = "-%s (%d %s%s late)" % (
                _n(late.penalty_points(row.raw_total, row.late)), row.late.get("units", 0),
                row.late.get("unit", "day"), "s" if row.late.get("units") != 1 else "")
        adjusted = "<br>".join('<span class="adjusted">%s</span>' % e(overrides.summary(r))
                               for r in row.overrides)
        flags = [e(row.review)] if row.review else []
        if row.grader_error:
            flags.insert(0, "grader error: regrade")
        similar = " ".join(feedback_link(other) for other in sorted(partners.get(row.id, ())))
        lines.append('<tr id="student-%s"><td class="nowrap">%s</td><td class="num">%s / %s</td>'
                     '<td class="num">%s</td><td>%s</td><td class="flag">%s</td><td>%s</td></tr>'
                     % (e(row.id), feedback_link(row.id), _n(row.total), _n(row.max_score),
                        e(late_cell), adjusted, "<br>".join(flags),
                        ("similar to " + similar) if similar else ""))
    return ('<h2 id="students">Students (%d)</h2>\n<table><tr><th>Submission (feedback)</th>'
            '<th>Score</th><th>Late penalty</th><th>Overrides</th><th>Review</th>'
            '<th>Similarity</th></tr>\n%s\n</table>\n' % (len(rows), "\n".join(lines)))


def similarity_html(pairs):
    """The similarity report's pairs (flagged first) with a link to similarity.html."""
    if not pairs:
        return ""
    e = html.escape
    shown = pairs[:SIMILAR_PAIRS_SHOWN]
    lines = "\n".join('<tr><td>%s</td><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
                      '<td class="nowrap">%s</td></tr>'
                      % (feedback_link(p.a), feedback_link(p.b), e(p.share_a), e(p.share_b),
                         "flagged" if p.flagged else "listed") for p in shown)
    more = ("<p>%d more pairs in %s.</p>" % (len(pairs) - len(shown), SIMILARITY_CSV)
            if len(pairs) > len(shown) else "")
    return ('<h2 id="similarity">Similar submissions (%d flagged)</h2>\n<p>Side by side in '
            '<a href="%s">%s</a>.</p>\n<table><tr><th>Submission</th><th>Submission</th>'
            '<th>Share of the first in the second</th><th>Share of the second in the first</th>'
            '<th>Status</th></tr>\n%s\n</table>%s\n'
            % (sum(1 for p in pairs if p.flagged), SIMILARITY_HTML, SIMILARITY_HTML, lines, more))


def review_html(rows, items=(), pairs=()):
    """What the staff should look at, and why ("" when nothing): the submissions flagged for
    review, failed by the grader or flagged as similar; the items nobody got full marks on
    (a spec or grader problem as likely as a hard item) and the items the staff overrode."""
    e = html.escape
    entries = ["<li>%s: grader error (not the student's fault): regrade it</li>"
               % feedback_link(row.id) for row in rows if row.grader_error]
    entries += ["<li>%s: %s</li>" % (feedback_link(row.id), e(row.review))
                for row in rows if row.review]
    entries += ["<li>%s and %s: similar code (%s / %s)</li>"
                % (feedback_link(p.a), feedback_link(p.b), e(p.share_a), e(p.share_b))
                for p in pairs if p.flagged]
    entries += ["<li>item <code>%s</code>: nobody got full marks</li>" % e(s.item)
                for s in items if len(s.scores) > 1 and s.pass_rate == 0]
    overridden = collections.Counter(r["item"] for row in rows for r in row.overrides)
    entries += ["<li>item <code>%s</code>: overridden by the staff for %d submission(s)</li>"
                % (e(item), n) for item, n in overridden.items()]
    if not entries:
        return ""
    return '<h2 id="review">To review (%d)</h2><ul>%s</ul>\n' % (len(entries), "".join(entries))


@dataclass(frozen=True)
class SimilarPair:
    a: str
    b: str
    share_a: str          # "62%": the share of a's code found in b
    share_b: str
    flagged: bool


def similarity_pairs(grades_dir, ids):
    """The pairs of GRADES_DIR/similarity.csv (written by the similarity run) between
    submissions of this class, flagged first; [] when there is none or it is unreadable."""
    from autograder.files.csv_cells import original
    try:
        with open(os.path.join(grades_dir, SIMILARITY_CSV), newline="") as f:
            text = f.read(SIMILARITY_CSV_BYTES + 1)
    except (OSError, UnicodeDecodeError):
        return []
    pairs = []
    try:
        for row in csv.DictReader(io.StringIO(text[:SIMILARITY_CSV_BYTES])):
            a, b = original(row.get("submission_a") or ""), original(row.get("submission_b") or "")
            if a in ids and b in ids:
                pairs.append(SimilarPair(a, b, _share(row.get("similarity_a_in_b")),
                                         _share(row.get("similarity_b_in_a")),
                                         (row.get("flagged") or "").strip() == "1"))
    except csv.Error:
        return []
    return sorted(pairs, key=lambda p: not p.flagged)


def _share(text):
    try:
        return "%d%%" % round(100 * float(text))
    except (TypeError, ValueError):
        return "?"


def _n(value):
    value = round(float(value), 2)
    return ("%d" % value) if value == int(value) else ("%g" % value)


def write_class_report(grades_dir, ids):
    path = os.path.join(grades_dir, REPORT_FILE)
    atomic.write_text(path, class_report_html(grades_dir, ids))
    return path
