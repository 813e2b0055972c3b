"""Canvas gradebook import CSV from a graded class.

    python -m autograder.export.canvas GRADES_DIR --roster ROSTER.csv --out canvas.csv \\
        [--assignment "CNN homework (12345)"]

The roster says whose each submission is. Either:
- Canvas's own gradebook export (Grades > Export), as downloaded: `Student` (or
  `LastName`, `FirstName`), `ID`, [`SIS User ID`], `SIS Login ID`, `Section`, the
  assignment columns "Name (assignment id)" and totals; a "Points Possible" row and,
  when an assignment posts grades manually, a "Manual Posting" row, both skipped; commas
  or semicolons. A student is matched by Canvas user id (`ID`) to the submission graded
  from Canvas's download archive (results.json's extra_data.lms.canvas_id:
  autograder/lms/canvas_download.py);
- a hand-made CSV with a `submission` column (the id of GRADES_DIR/<id>/) beside those
  student columns (at least one of the first four); an empty `submission` falls back to
  the Canvas id.
--assignment may name an assignment column of Canvas's export by its name or id ("CNN
homework" or "12345" -> "CNN homework (12345)"). The output has Canvas's import layout:
the five student columns, one column for the assignment (Canvas matches "Name (assignment
id)" to an existing assignment, a bare name creates one), a `Points Possible` row, then
one row per roster student with the total after any late penalty. Nobody is dropped
silently:
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
import re
import sys
from dataclasses import dataclass, field

from autograder.report.gradebook import read_rows
from autograder.results import store
from autograder.files import atomic, csv_cells

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
IDENTIFYING = STUDENT_COLUMNS[:4]
SUBMISSION_COLUMN = "submission"
CANVAS_ID_COLUMN = "ID"
SPLIT_NAME_COLUMNS = ("LastName", "FirstName")    # Canvas's export with names split
SKIPPED_ROW_LABELS = ("Points Possible",)
ASSIGNMENT_COLUMN = re.compile(r"^(?P<name>.*) \((?P<id>\d+)\)$", re.S)
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


class Roster(list):
    """The roster's students ({column: value}, and `canvas_id` when it has Canvas's ID column)
    and the assignment columns of Canvas's export ("Name (id)")."""
    assignments = ()


def read_roster(path):
    """The Roster at path; RosterError when it has neither a submission nor Canvas's ID column."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read(ROSTER_BYTES + 1)
    if len(text) > ROSTER_BYTES:
        raise RosterError("%s is larger than %d MB" % (path, ROSTER_BYTES // 2 ** 20))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = {c.strip(): c for c in reader.fieldnames or []}
    has_submission = SUBMISSION_COLUMN in columns
    has_canvas_id = CANVAS_ID_COLUMN in columns
    if not has_submission and not has_canvas_id:
        raise RosterError("%s has no %r column (the submission id of each student) and no %r "
                          "column (Canvas's user id, as in Canvas's gradebook export)"
                          % (path, SUBMISSION_COLUMN, CANVAS_ID_COLUMN))
    if not any(c in columns for c in IDENTIFYING):
        raise RosterError("%s names no student: it needs one of %s" % (path, ", ".join(
            repr(c) for c in IDENTIFYING)))
    roster = Roster()
    roster.assignments = tuple(c for c in columns if ASSIGNMENT_COLUMN.match(c))
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        student = {name: (row.get(raw) or "").strip() for name, raw in columns.items()}
        if (student.get("Student") or student.get("LastName")) in SKIPPED_ROW_LABELS:
            continue            # Canvas's "    Points Possible" row
        if all(student.get(c, "") == "" for c in IDENTIFYING + SPLIT_NAME_COLUMNS):
            continue            # Canvas's "Manual Posting" row: assignment cells only
        if not student.get("Student") and any(student.get(c) for c in SPLIT_NAME_COLUMNS):
            student["Student"] = ", ".join(student[c] for c in SPLIT_NAME_COLUMNS
                                           if student.get(c))
        # a roster made from the kit's gradebook.csv carries its quoted ids ("'+1+1")
        student[SUBMISSION_COLUMN] = csv_cells.original(student.get(SUBMISSION_COLUMN, ""))
        roster.append(student)
    return roster


def resolve_assignment(name, roster):
    """The roster's assignment column that `name` means (the column itself, its name or its
    Canvas id), else name unchanged."""
    columns = getattr(roster, "assignments", ())
    if name in columns:
        return name
    matches = [c for c in columns if name in (ASSIGNMENT_COLUMN.match(c).group("name"),
                                              ASSIGNMENT_COLUMN.match(c).group("id"))]
    return matches[0] if len(matches) == 1 else name


def _who(student):
    return " / ".join(student[c] for c in IDENTIFYING if student.get(c)) or "(unnamed row)"


def _graded_ids(grades_dir):
    return sorted(name for name in os.listdir(grades_dir)
                  if store.exists(os.path.join(grades_dir, name)))


def canvas_export(grades_dir, roster, assignment=DEFAULT_ASSIGNMENT):
    """An Export of the graded class for the roster (see the module docstring)."""
    rows = {row.id: row for row in read_rows(grades_dir, _graded_ids(grades_dir))}
    by_canvas_id = {str(row.lms["canvas_id"]): row.id for row in rows.values()
                    if row.lms and row.lms.get("canvas_id")}
    export = Export("")
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(list(STUDENT_COLUMNS) + [assignment])
    max_score = max((row.max_score for row in rows.values()), default=0)
    writer.writerow(["Points Possible", "", "", "", "", _number(max_score)])
    named = set()
    for student in roster:
        sid = student.get(SUBMISSION_COLUMN, "") or by_canvas_id.get(
            student.get(CANVAS_ID_COLUMN, ""), "")
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
    parser.add_argument("--roster", required=True,
                        help="Canvas's gradebook export as downloaded (students matched by "
                        "Canvas id), or a CSV: submission + Canvas student columns")
    parser.add_argument("--out", required=True, help="the Canvas CSV to write")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT,
                        help="the assignment column, e.g. 'CNN homework (12345)' to match an "
                             "existing Canvas assignment; with Canvas's export as the roster "
                             "its name or id finds the column (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        roster = read_roster(args.roster)
        assignment = resolve_assignment(args.assignment, roster)
        export = canvas_export(args.grades_dir, roster, assignment)
    except (OSError, RosterError) as error:
        print("canvas export: %s" % error, file=sys.stderr)
        return 2
    atomic.write_text(args.out, export.csv_text)
    unmatched = args.out + ".unmatched.csv"
    atomic.write_text(unmatched, export.unmatched_csv())
    print("canvas: %d students exported to %s, column %r" % (export.exported, args.out,
                                                              assignment))
    for title, entries in (("roster students without a graded submission", export.no_submission),
                           ("graded submissions not in the roster", export.not_in_roster),
                           ("grader errors, not exported", export.not_graded)):
        if entries:
            print("%s (%d): %s" % (title, len(entries), ", ".join(entries)))
    print("unmatched: %s" % unmatched)
    return 0


if __name__ == "__main__":
    sys.exit(main())
