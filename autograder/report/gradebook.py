"""gradebook.csv and the class summary (summary.md and stdout), from the results.json files.

Everything is read back from GRADES_DIR/<id>/results.json, so a resumed run's
gradebook covers the submissions finished by earlier runs too.
"""
import io
import os
import statistics
from dataclasses import dataclass, field

from autograder import lms
from autograder.policy import late, overrides
from autograder.results import records, store
from autograder.files import atomic, csv_cells
from autograder.results import text

GRADEBOOK_FILE = "gradebook.csv"
SUMMARY_FILE = "summary.md"
HISTOGRAM_BINS = 10
BAR_WIDTH = 40


@dataclass
class Row:
    """One graded submission: id, total, max_score, {item id: score}, grader_error."""
    id: str
    total: float
    max_score: float
    items: dict = field(default_factory=dict)
    item_max: dict = field(default_factory=dict)
    grader_error: bool = False
    late: dict = None        # extra_data.late: total is then the raw total minus the penalty
    raw_total: float = None
    review: str = ""         # why the course staff should look at it ("" = no need)
    lms: dict = None         # extra_data.lms: whose it is in the LMS (autograder.lms)
    overrides: list = field(default_factory=list)   # applied records (policy/overrides.py)


def read_rows(grades_dir, ids):
    """Rows of the ids that have a readable results.json (others are left out)."""
    rows = []
    for sid in ids:
        data = store.load(os.path.join(grades_dir, sid))
        if data is None:
            continue
        items = {t["extra_data"]["item"]: float(t["score"]) for t in data.get("tests", [])}
        item_max = {t["extra_data"]["item"]: float(t["max_score"]) for t in data.get("tests", [])}
        extra = records.extra_of(data)
        late_record = records.late(data)
        lms_record = records.lms(data)
        raw = float(data.get("score", 0))
        rows.append(Row(sid, late.score_after(raw, late_record),
                        float(data.get("max_score", 0) or 0), items, item_max,
                        bool(extra.get("grader_error")), late_record, raw, records.review(data),
                        lms_record if isinstance(lms_record, dict) else None,
                        list(overrides.by_item(records.overrides(data)).values())))
    return rows




def item_columns(rows):
    columns = []
    for row in rows:
        for item in row.items:
            if item not in columns:
                columns.append(item)
    return columns


def gradebook_csv(rows):
    columns = item_columns(rows)
    out = io.StringIO()
    writer = csv_cells.writer(out)
    # under a late policy, total is after the penalty, with the raw total beside it
    late_columns = any(row.late for row in rows)
    review_column = any(row.review for row in rows)
    lms_columns = any(row.lms for row in rows)     # graded from an LMS archive: whose it is
    # the staff's overrides: the items' columns hold the overridden points, this says from what
    override_column = any(row.overrides for row in rows)
    writer.writerow(["submission", "total", "max_score"]
                    + (["raw_total", "late_penalty", "late_days_or_hours"] if late_columns else [])
                    + (["needs_review"] if review_column else [])
                    + (list(lms.GRADEBOOK_COLUMNS) if lms_columns else [])
                    + (["overrides"] if override_column else [])
                    + columns)
    for row in rows:
        extra = []
        if late_columns:
            extra = [_number(row.raw_total), _number(late.penalty_points(row.raw_total, row.late)),
                     (row.late or {}).get("units", "")]
        if review_column:
            extra.append(row.review)
        if lms_columns:
            extra += lms.gradebook_cells(row.lms)
        if override_column:
            extra.append("; ".join(overrides.summary(record) for record in row.overrides))
        writer.writerow([row.id, _number(row.total), _number(row.max_score)] + extra
                        + [_number(row.items[c]) if c in row.items else "" for c in columns])
    return out.getvalue()


def summary_text(rows, total_submissions=None):
    """Markdown: counts, mean/median, a histogram of totals, pass rate (full marks) per item."""
    lines = ["# Class summary", ""]
    count = len(rows)
    expected = total_submissions if total_submissions is not None else count
    lines.append("Graded: %d of %d submissions" % (count, expected))
    if not rows:
        return "\n".join(lines) + "\n"
    totals = [row.total for row in rows]
    max_score = max(row.max_score for row in rows) or 1.0
    lines += ["Mean: %.2f / %s   Median: %.2f   Min: %s   Max: %s"
              % (statistics.fmean(totals), _number(max_score), statistics.median(totals),
                 _number(min(totals)), _number(max(totals))), ""]
    errors = [row.id for row in rows if row.grader_error]
    if errors:
        lines += ["Grader errors (not the students' fault): %s"
                  % ", ".join("`%s`" % sid for sid in errors), ""]
    review = [row for row in rows if row.review]
    if review:
        lines += ["To review (%d): %s" % (len(review), "; ".join(
            "`%s` (%s)" % (row.id, text.markdown_inline(row.review)) for row in review)), ""]
    adjusted = [row for row in rows if row.overrides]
    if adjusted:   # the staff's overrides (policy/overrides.py), so nobody wonders at a score
        lines += ["Overrides (%d submission(s)): %s" % (len(adjusted), "; ".join(
            "`%s` (%s)" % (row.id, text.markdown_inline(", ".join(
                overrides.summary(r) for r in row.overrides))) for row in adjusted)), ""]
    lines += ["## Histogram of totals", "", "```"]
    counts = [0] * HISTOGRAM_BINS
    for total in totals:
        counts[min(int(HISTOGRAM_BINS * total / max_score), HISTOGRAM_BINS - 1)] += 1
    peak = max(counts) or 1
    step = max_score / HISTOGRAM_BINS
    for i, n in enumerate(counts):
        upper = "]" if i == HISTOGRAM_BINS - 1 else ")"
        lines.append("[%5s, %5s%s %-*s %d" % (_number(i * step), _number((i + 1) * step), upper,
                                              BAR_WIDTH, "#" * round(BAR_WIDTH * n / peak), n))
    lines += ["```", "", "## Pass rate per item (full marks)", "",
              "| Item | Pass rate | Mean points |", "|---|---|---|"]
    for item in item_columns(rows):
        scored = [row for row in rows if item in row.items]
        passed = sum(1 for row in scored if row.items[item] >= row.item_max[item] - 1e-9)
        mean = statistics.fmean(row.items[item] for row in scored)
        lines.append("| `%s` | %d%% (%d/%d) | %.2f / %s |" % (
            item, round(100 * passed / len(scored)), passed, len(scored), mean,
            _number(scored[0].item_max[item])))
    return "\n".join(lines) + "\n"


def write_class_reports(grades_dir, ids):
    """Write gradebook.csv and summary.md atomically; returns the summary text."""
    rows = read_rows(grades_dir, ids)
    atomic.write_text(os.path.join(grades_dir, GRADEBOOK_FILE), gradebook_csv(rows))
    text = summary_text(rows, total_submissions=len(ids))
    atomic.write_text(os.path.join(grades_dir, SUMMARY_FILE), text)
    return text


def _number(value):
    value = round(float(value), 4)
    return ("%d" % value) if value == int(value) else ("%g" % value)
