"""Figures of a class run from its reports: seconds per submission, per item, throughput.

Pure functions over results.json dicts (what `python -m autograder grade` writes per
submission), so a run graded by another checkout of the kit is measured the same way.
The benchmark (autograder.benchmark) prints two runs side by side with comparison_table.
"""
import statistics
from dataclasses import dataclass

PROJECTED_CLASS = 700
TIMING_KIND = "timing"
ACCURACY_KIND = "accuracy"


@dataclass
class ClassFigures:
    """
    - submissions: reports read
    - median_seconds: median execution_time of a submission (staging to the last item)
    - median_timing, median_accuracy: median seconds of the timing item and of the accuracy item
    - median_rest: median of execution_time minus those two (staging, start-up, other items)
    - per_minute: submissions graded per minute of wall time
    - projected_minutes: wall time for PROJECTED_CLASS submissions at that rate
    - peak_gb: peak resident memory of the grader and its workers (GB)
    - full_scores: submissions with every item but the accuracy at full marks
    """
    submissions: int
    median_seconds: float
    median_timing: float
    median_accuracy: float
    median_rest: float
    per_minute: float
    projected_minutes: float
    peak_gb: float
    full_scores: int


def item_seconds(results, kind):
    """Seconds spent on the items of `kind` in one results.json dict (0.0 when none ran)."""
    return sum(float(test.get("extra_data", {}).get("seconds", 0.0))
               for test in results.get("tests", [])
               if test.get("extra_data", {}).get("kind") == kind)


def full_but_accuracy(results):
    """Whether every item other than the accuracy got its full points."""
    tests = [t for t in results.get("tests", [])
             if t.get("extra_data", {}).get("kind") != ACCURACY_KIND]
    return bool(tests) and all(float(t["score"]) >= float(t["max_score"]) for t in tests)


def projected_minutes(per_minute, size=PROJECTED_CLASS):
    """Minutes to grade `size` submissions at `per_minute` (inf when nothing was graded)."""
    return size / per_minute if per_minute > 0 else float("inf")


def class_figures(reports, wall_seconds, peak_bytes):
    """ClassFigures of a run that graded `reports` (results.json dicts) in wall_seconds."""
    if not reports:
        raise ValueError("no reports to measure")
    totals = [float(r["execution_time"]) for r in reports]
    timing = [item_seconds(r, TIMING_KIND) for r in reports]
    accuracy = [item_seconds(r, ACCURACY_KIND) for r in reports]
    rest = [t - a - b for t, a, b in zip(totals, timing, accuracy)]
    per_minute = 60.0 * len(reports) / wall_seconds if wall_seconds > 0 else 0.0
    return ClassFigures(submissions=len(reports), median_seconds=statistics.median(totals),
                        median_timing=statistics.median(timing),
                        median_accuracy=statistics.median(accuracy),
                        median_rest=statistics.median(rest), per_minute=per_minute,
                        projected_minutes=projected_minutes(per_minute),
                        peak_gb=peak_bytes / 2 ** 30,
                        full_scores=sum(full_but_accuracy(r) for r in reports))


# (label, attribute, format)
ROWS = (
    ("seconds per submission (median)", "median_seconds", "%.2f"),
    ("  timing item", "median_timing", "%.2f"),
    ("  accuracy item", "median_accuracy", "%.2f"),
    ("  the rest (staging, start-up, other items)", "median_rest", "%.2f"),
    ("class throughput (submissions/min)", "per_minute", "%.1f"),
    ("projected time for %d (min)" % PROJECTED_CLASS, "projected_minutes", "%.1f"),
    ("peak memory, grader + workers (GB)", "peak_gb", "%.2f"),
)


def comparison_table(before, after, jobs):
    """A text table of two ClassFigures (before, after) with the ratio after / before;
    before None: the after column alone."""
    head = ("figure (%d jobs)" % jobs, "before", "after", "after/before")
    lines = [head]
    for label, attribute, fmt in ROWS:
        new = getattr(after, attribute)
        if before is None:
            lines.append((label, "-", fmt % new, "-"))
            continue
        old = getattr(before, attribute)
        ratio = "%.2fx" % (new / old) if old and old != float("inf") else "-"
        lines.append((label, fmt % old, fmt % new, ratio))
    lines.append(("submissions full on every item but accuracy",
                  "%d/%d" % (before.full_scores, before.submissions) if before else "-",
                  "%d/%d" % (after.full_scores, after.submissions), ""))
    widths = [max(len(row[i]) for row in lines) for i in range(4)]
    out = []
    for n, row in enumerate(lines):
        out.append("  ".join([row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in
                                                         zip(row[1:], widths[1:])]).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
