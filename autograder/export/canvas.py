"""Canvas gradebook import CSV from a graded class.

    python -m autograder.export.canvas GRADES_DIR --roster ROSTER.csv --out canvas.csv \\
        [--assignment "CNN homework (12345)"]

The roster maps submissions to students: a CSV with a `submission` column (the id of
GRADES_DIR/<id>/) and Canvas's student columns, as in Canvas's own gradebook export
(`Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`; at least one of the first
four). The output has Canvas's import layout: those five columns, one column for the
assignment (Canvas matches "Name (assignment id)" to an existing assignment, a bare
name creates one), a `Points Possible` row, then one row per roster student with the
total after any late penalty. Nobody is dropped silently:
- a roster student without a graded submission gets an empty cell (Canvas leaves the
  grade unchanged) and is listed;
- a graded submission that no roster row names is listed (it cannot be imported);
- a submission the grader failed on is exported empty and listed (rerun to grade it).
The lists are printed and written beside the output (<out>.unmatched.csv).
"""
import argparse
import csv
import io
import os
import sys
from dataclasses import dataclass, field

from autograder.batch.gradebook import read_rows
from autograder.report import RESULTS_FILE, atomic, csv_cells

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
IDENTIFYING = STUDENT_COLUMNS[:4]
SUBMISSION_COLUMN = "submission"
DEFAULT_ASSIGNMENT = "CNN homework"
ROSTER_BYTES = 16 * 1024 * 1024


class RosterError(ValueError):
    pass


@dataclass
class Export:
    csv_text: str
    no_submission: list = field(default_factory=list)     # roster students (their names/ids)
    not_in_roster: list = field(default_factory=list)     # submission ids
    not_graded: list = field(default_factory=list)        # submission ids (grader error)
    exported: int = 0

    def unmatched_csv(self):
        out = io.StringIO()
        writer = csv_cells.writer(out)
        writer.writerow(["kind", "who"])
        writer.writerows([("roster student without a graded submission", who)
                          for who in self.no_submission])
        writer.writerows([("graded submission not in the roster", sid)
                          for sid in self.not_in_roster])
        writer.writerows([("grader error: not exported, rerun the class run", sid)
                          for sid in self.not_graded])
        return out.getvalue()


def read_roster(path):
    """[{column: value}] of the roster; RosterError when it lacks the needed columns."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read(ROSTER_BYTES + 1)
    if len(text) > ROSTER_BYTES:
        raise RosterError("%s is larger than %d MB" % (path, ROSTER_BYTES // 2 ** 20))
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip(): c for c in reader.fieldnames or []}
    if SUBMISSION_COLUMN not in columns:
        raise RosterError("%s has no %r column (the submission id of each student)"
                          % (path, SUBMISSION_COLUMN))
    if not any(c in columns for c in IDENTIFYING):
        raise RosterError("%s names no student: it needs one of %s" % (path, ", ".join(
            repr(c) for c in IDENTIFYING)))
    roster = []
    for row in reader:
        if not any((v or "").strip() for v in row.values()):
            continue
        if row.get("Student", "").strip() == "Points Possible":  # a pasted Canvas export
            continue
        student = {name: (row.get(raw) or "").strip() for name, raw in columns.items()}
        # a roster made from the kit's gradebook.csv carries its quoted ids ("'+1+1")
        student[SUBMISSION_COLUMN] = csv_cells.original(student[SUBMISSION_COLUMN])
        roster.append(student)
    return roster


def _who(student):
    return " / ".join(student[c] for c in IDENTIFYING if student.get(c)) or "(unnamed row)"


def _graded_ids(grades_dir):
    return sorted(name for name in os.listdir(grades_dir)
                  if os.path.isfile(os.path.join(grades_dir, name, RESULTS_FILE)))


def canvas_export(grades_dir, roster, assignment=DEFAULT_ASSIGNMENT):
    """An Export of the graded class for the roster (see the module docstring)."""
    rows = {row.id: row for row in read_rows(grades_dir, _graded_ids(grades_dir))}
    export = Export("")
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(list(STUDENT_COLUMNS) + [assignment])
    max_score = max((row.max_score for row in rows.values()), default=0)
    writer.writerow(["Points Possible", "", "", "", "", _number(max_score)])
    named = set()
    for student in roster:
        sid = student.get(SUBMISSION_COLUMN, "")
        row = rows.get(sid) if sid else None
        if sid:
            named.add(sid)
        score = ""
        if row is None:
            export.no_submission.append(_who(student) + (" (submission %s)" % sid if sid else ""))
        elif row.grader_error:
            export.not_graded.append(sid)
        else:
            score = _number(row.total)
            export.exported += 1
        writer.writerow([student.get(c, "") for c in STUDENT_COLUMNS] + [score])
    export.not_in_roster = sorted(set(rows) - named)
    export.csv_text = out.getvalue()
    return export


def _number(value):
    value = round(float(value), 4)
    return ("%d" % value) if value == int(value) else ("%g" % value)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.export.canvas",
                                     description="Canvas gradebook import CSV of a graded class")
    parser.add_argument("grades_dir")
    parser.add_argument("--roster", required=True, help="CSV: submission + Canvas student columns")
    parser.add_argument("--out", required=True, help="the Canvas CSV to write")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT,
                        help="the assignment column, e.g. 'CNN homework (12345)' to match an "
                             "existing Canvas assignment (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        roster = read_roster(args.roster)
        export = canvas_export(args.grades_dir, roster, args.assignment)
    except (OSError, RosterError) as error:
        print("canvas export: %s" % error, file=sys.stderr)
        return 2
    atomic.write_text(args.out, export.csv_text)
    unmatched = args.out + ".unmatched.csv"
    atomic.write_text(unmatched, export.unmatched_csv())
    print("canvas: %d students exported to %s" % (export.exported, args.out))
    for title, entries in (("roster students without a graded submission", export.no_submission),
                           ("graded submissions not in the roster", export.not_in_roster),
                           ("grader errors, not exported", export.not_graded)):
        if entries:
            print("%s (%d): %s" % (title, len(entries), ", ".join(entries)))
    print("unmatched: %s" % unmatched)
    return 0


if __name__ == "__main__":
    sys.exit(main())
