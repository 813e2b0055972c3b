"""Inside Gradescope: grade ROOT/submission into ROOT/results/results.json.

ROOT is /autograder (--root or $AUTOGRADER_ROOT for tests). Gradescope unpacks the
autograder zip into ROOT/source. Each submission is graded under a fresh secret
seed (recorded in results.json's extra_data, which students do not see). Whatever
happens, a valid results.json is written: a grader failure gives 0 points with a
message asking the student to contact the staff, never a Gradescope error page.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback

from autograder.report import RESULTS_FILE, atomic


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.run")
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    results = os.path.join(root, "results", RESULTS_FILE)
    try:
        data, summary = grade(root)
    except Exception:
        data, summary = failure(traceback.format_exc()), "The grader failed:\n" + traceback.format_exc()
    write(results, data)
    # Gradescope shows run_autograder's output to the staff (the debugging pane).
    print(summary)
    return 0


def grade(root):
    """(results.json data, the one-screen summary) of ROOT/submission."""
    from autograder.kit import forget_working_directory
    from autograder.grade.pipeline import GradeOptions, grade as grade_one
    from autograder.report import feedback, gradescope
    forget_working_directory()
    source = os.path.join(root, "source")
    settings = {}
    if os.path.isfile(os.path.join(source, "gradescope.json")):
        with open(os.path.join(source, "gradescope.json")) as f:
            settings = json.load(f)
    spec = os.path.join(source, "grading.toml")
    data = os.path.join(source, "data", "cifar-10-batches-py")
    options = GradeOptions(spec_path=spec if os.path.isfile(spec) else None,
                           items=settings.get("items"),
                           cifar_dir=data if os.path.isdir(data) else None,
                           reference_dir=os.path.join(source, "solutions"))
    out = tempfile.mkdtemp(prefix="autograder-results-")
    try:
        result = grade_one(submission_path(os.path.join(root, "submission")), out, options)
        return gradescope.results_json(result), feedback.summary(result)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def submission_path(folder):
    """The submission folder, or the one .zip a student uploaded into it."""
    try:
        names = [n for n in os.listdir(folder) if not n.startswith(".")]
    except OSError:
        return folder
    zips = [n for n in names if n.lower().endswith(".zip")]
    if len(names) == 1 and len(zips) == 1:
        return os.path.join(folder, zips[0])
    return folder


def failure(trace):
    return {"score": 0, "max_score": 100, "execution_time": 0,
            "output": "The autograder failed on this submission (not your fault); please "
                      "contact the course staff.", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": [],
            "extra_data": {"grader_error": trace}}


def write(path, data):
    from autograder.report.gradescope import _clean, _default
    atomic.write_text(path, json.dumps(_clean(data), indent=2, allow_nan=False,
                                       default=_default) + "\n")


if __name__ == "__main__":
    sys.exit(main())
