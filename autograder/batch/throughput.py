"""Figures of a class run from its reports: seconds per submission, per item, throughput.

Pure functions over results.json dicts (what `python -m autograder grade` writes per
submission), so a run graded by another checkout of the kit is measured the same way.
The benchmark (autograder.benchmark) prints two runs side by side with comparison_table.
"""
import statistics
from dataclasses import dataclass

from autograder.checks import kinds

PROJECTED_CLASS = 700


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
    - cpu_seconds: CPU time of the grader and all its workers per submission (sampled by the
      benchmark, a lower bound; None: not
      measured); less sensitive than wall time to other work on the machine
    - idle_minutes: PROJECTED_CLASS submissions at cpu_seconds each on `cores` idle cores
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
    cpu_seconds: float = None
    idle_minutes: float = None


def _declares(test, flag):
    """Whether the kind of a results.json test declares `flag` (kinds.declares)."""
    return kinds.declares(test.get("extra_data", {}).get("kind"), flag)


def item_seconds(results, flag):
    """Seconds spent in one results.json dict on the items whose kind declares `flag`
    ("measures_time": the timing item, "grades_saved_model": the accuracy item; 0.0 when
    none ran)."""
    return sum(float(test.get("extra_data", {}).get("seconds", 0.0))
               for test in results.get("tests", []) if _declares(test, flag))


def full_but_accuracy(results):
    """Whether every item other than the accuracy (the saved model's) got its full points."""
    tests = [t for t in results.get("tests", []) if not _declares(t, "grades_saved_model")]
    return bool(tests) and all(float(t["score"]) >= float(t["max_score"]) for t in tests)


def projected_minutes(per_minute, size=PROJECTED_CLASS):
    """Minutes to grade `size` submissions at `per_minute` (inf when nothing was graded)."""
    return size / per_minute if per_minute > 0 else float("inf")


def idle_minutes(cpu_seconds, cores, size=PROJECTED_CLASS):
    """Minutes for `size` submissions of cpu_seconds each, spread over `cores` idle cores."""
    return size * cpu_seconds / max(cores, 1) / 60.0


def class_figures(reports, wall_seconds, peak_bytes, cpu_seconds=None, cores=2):
    """ClassFigures of a run that graded `reports` (results.json dicts) in wall_seconds;
    cpu_seconds: the whole run's CPU time (grader and workers), if measured."""
    if not reports:
        raise ValueError("no reports to measure")
    totals = [float(r["execution_time"]) for r in reports]
    timing = [item_seconds(r, "measures_time") for r in reports]
    accuracy = [item_seconds(r, "grades_saved_model") for r in reports]
    rest = [t - a - b for t, a, b in zip(totals, timing, accuracy)]
    per_minute = 60.0 * len(reports) / wall_seconds if wall_seconds > 0 else 0.0
    cpu = cpu_seconds / len(reports) if cpu_seconds is not None else None
    return ClassFigures(submissions=len(reports), median_seconds=statistics.median(totals),
                        median_timing=statistics.median(timing),
                        median_accuracy=statistics.median(accuracy),
                        median_rest=statistics.median(rest), per_minute=per_minute,
                        projected_minutes=projected_minutes(per_minute),
                        peak_gb=peak_bytes / 2 ** 30,
                        full_scores=sum(full_but_accuracy(r) for r in reports),
                        cpu_seconds=cpu,
                        idle_minutes=idle_minutes(cpu, cores) if cpu is not None else None)


# (label, attribute, format)
ROWS = (
    ("seconds per submission (median)", "median_seconds", "%.2f"),
    ("  timing item", "median_timing", "%.2f"),
    ("  accuracy item", "median_accuracy", "%.2f"),
    ("  the rest (staging, start-up, other items)", "median_rest", "%.2f"),
    ("class throughput (submissions/min)", "per_minute", "%.1f"),
    ("projected time for %d (min)" % PROJECTED_CLASS, "projected_minutes", "%.1f"),
    ("peak memory, grader + workers (GB)", "peak_gb", "%.2f"),
    ("CPU seconds per submission, grader + workers", "cpu_seconds", "%.2f"),
    ("  projected for %d on idle cores (min)" % PROJECTED_CLASS, "idle_minutes", "%.1f"),
)


def comparison_table(before, after, jobs):
    """A text table of two ClassFigures (before, after) with the ratio after / before;
    before None: the after column alone."""
    head = ("figure (%d jobs)" % jobs, "before", "after", "after/before")
    lines = [head]
    for label, attribute, fmt in ROWS:
        new = getattr(after, attribute)
        old = getattr(before, attribute) if before is not None else None
        ratio = "%.2fx" % (new / old) if old and new is not None and \
            old != float("inf") else "-"
        lines.append((label, "-" if old is None else fmt % old,
                      "-" if new is None else fmt % new, ratio))
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
