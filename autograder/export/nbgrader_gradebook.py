"""Export a class run's scores into an nbgrader gradebook.db, through nbgrader's own API.

    python -m autograder.export.nbgrader_gradebook GRADES_DIR --db gradebook.db --assignment cnn

Each graded spec item becomes a grade cell (named by its item id, max_score its points)
of one notebook (default 'autograder') of the assignment, and each submission id a
student whose submission holds those grades as auto scores, so formgrader shows them
(and an instructor can still override any of them with a manual score). An item the staff
overrode (autograder/policy/overrides.py) gets the grader's score as its auto score and the
override as its manual score, which nbgrader counts. Re-exporting updates the scores in
place (a manual score set in formgrader is left as it is); the assignment's other notebooks
are left as they are.
"""
import argparse
import os
import sys
import warnings
from dataclasses import dataclass

from autograder.results import store

DEFAULT_NOTEBOOK = "autograder"


@dataclass
class Exported:
    students: int
    items: int
    skipped: list


def read_results(grades_dir):
    """{submission id: results.json dict} of the finished submissions in GRADES_DIR."""
    found = {}
    for name in sorted(os.listdir(grades_dir)):
        data = store.load(os.path.join(grades_dir, name))
        if data is not None:
            found[name] = data
    return found


def export(grades_dir, db_path, assignment, notebook=DEFAULT_NOTEBOOK,
           course_id="default_course"):
    """Write every finished submission's scores into the gradebook at db_path (created if
    missing); returns an Exported."""
    from nbgrader.api import Gradebook, Grade, MissingEntry, SubmittedNotebook
    results = read_results(grades_dir)
    items = {}
    for data in results.values():
        for test in data.get("tests", []):
            items.setdefault(test["extra_data"]["item"], float(test["max_score"]))
    skipped = [sid for sid, data in results.items() if data.get("extra_data", {}).get(
        "grader_error")]
    url = "sqlite:///%s" % os.path.abspath(db_path)
    with Gradebook(url, course_id=course_id) as gb:
        gb.update_or_create_assignment(assignment)
        gb.update_or_create_notebook(notebook, assignment)
        for item, points in items.items():
            gb.update_or_create_grade_cell(item, notebook, assignment, max_score=points,
                                           cell_type="code")
        for sid, data in results.items():
            if sid in skipped:
                continue  # a grader failure is not a score; the staff regrades it first
            gb.update_or_create_student(sid)
            try:
                submission = gb.find_submission(assignment, sid)
            except MissingEntry:
                with warnings.catch_warnings():
                    # nbgrader's add_submission builds the submission's rows before adding
                    # them to its session; SQLAlchemy warns about that autoflush, harmlessly
                    # (the rows are added right after), on every first export.
                    warnings.filterwarnings("ignore", message=".*not in session, add operation along")
                    submission = gb.add_submission(assignment, sid)
            try:
                submitted = gb.find_submission_notebook(notebook, assignment, sid)
            except MissingEntry:  # the notebook was added after this submission
                submitted = SubmittedNotebook(notebook=gb.find_notebook(notebook, assignment),
                                              assignment=submission)
                gb.db.add(submitted)
                gb.db.commit()
            for test in data.get("tests", []):
                item = test["extra_data"]["item"]
                try:
                    grade = gb.find_grade(item, notebook, assignment, sid)
                except MissingEntry:  # a grade cell added after this submission
                    grade = Grade(cell_id=gb.find_grade_cell(item, notebook, assignment).id,
                                  notebook=submitted)
                    gb.db.add(grade)
                override = (test.get("extra_data") or {}).get("override")
                if override and "grader_score" in override:
                    # the staff's override is nbgrader's manual score, over the grader's own
                    grade.auto_score = float(override["grader_score"])
                    grade.manual_score = float(test["score"])
                else:
                    grade.auto_score = float(test["score"])
                grade.needs_manual_grade = False
            gb.db.commit()
    return Exported(students=len(results) - len(skipped), items=len(items), skipped=skipped)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.export.nbgrader_gradebook",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("grades_dir", help="GRADES_DIR of a class run")
    parser.add_argument("--db", required=True, help="nbgrader gradebook.db (created if missing)")
    parser.add_argument("--assignment", required=True, help="nbgrader assignment name")
    parser.add_argument("--notebook", default=DEFAULT_NOTEBOOK,
                        help="notebook that holds the grader's items (default: %(default)s)")
    parser.add_argument("--course-id", default="default_course")
    args = parser.parse_args(argv)
    done = export(args.grades_dir, args.db, args.assignment, args.notebook, args.course_id)
    print("exported %d submissions x %d items into %s (assignment %s, notebook %s)"
          % (done.students, done.items, args.db, args.assignment, args.notebook))
    if done.skipped:
        print("not exported (grader errors, regrade first): %s" % ", ".join(done.skipped),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
