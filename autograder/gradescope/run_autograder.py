"""Inside Gradescope: grade ROOT/submission into ROOT/results/results.json.

ROOT is /autograder (--root or $AUTOGRADER_ROOT for tests). Gradescope unpacks the
autograder zip into ROOT/source. Each submission is graded under a fresh secret
seed (recorded in results.json's extra_data, which students do not see). Whatever
happens, a valid results.json is written: a grader failure gives 0 points with a
message asking the student to contact the staff, never a Gradescope error page.

Under a late policy (the spec's [late] deadline), the submission time and the students
come from Gradescope's own ROOT/submission_metadata.json, beside the upload (--metadata
to read another file), or from the spec's times CSV; never from a file inside the upload.
results.json's score is then the score after the penalty (extra_data.raw_score: before).
The spec's [overrides] file, when the build shipped it, applies its rows that name
Gradescope's submission id or one of the submission's students (from the same metadata).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback

from autograder.policy import late, overrides
from autograder.policy.late import METADATA_FILE
from autograder.lms import submission_path
from autograder.results import store
from autograder.spec import SPEC_FILE


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.run_autograder")
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    parser.add_argument("--metadata", default=None,
                        help="Gradescope's submission metadata (default: ROOT/%s, beside the "
                             "upload)" % METADATA_FILE)
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    results = os.path.join(root, "results")
    try:
        result, summary = grade(root, args.metadata)
        store.dump(results, result, after_late_penalty=True)
    except Exception:
        store.dump_data(store.path_in(results), failure(traceback.format_exc()))
        summary = "The grader failed:\n" + traceback.format_exc()
    # Gradescope shows run_autograder's output to the staff (the debugging pane).
    print(summary)
    return 0


def grade(root, metadata_path=None):
    """
    (GradeResult, the one-screen summary) of ROOT/submission; metadata_path is
    Gradescope's metadata file (default ROOT/submission_metadata.json, beside the upload).
    """
    from autograder.kit import forget_working_directory
    from autograder.grade.pipeline import GradeOptions, grade as grade_one
    from autograder.report import feedback
    forget_working_directory()
    source = os.path.join(root, "source")
    settings = {}
    if os.path.isfile(os.path.join(source, "gradescope.json")):
        with open(os.path.join(source, "gradescope.json")) as f:
            settings = json.load(f)
    spec = os.path.join(source, SPEC_FILE)
    data = os.path.join(source, "data", "cifar-10-batches-py")
    options = GradeOptions(spec_path=spec if os.path.isfile(spec) else None,
                           items=settings.get("items"),
                           cifar_dir=data if os.path.isdir(data) else None,
                           reference_dir=os.path.join(source, "solutions"))
    upload = submission_path(os.path.join(root, "submission"))
    record = late_record_of(options.spec_path, upload,
                            metadata_path or os.path.join(root, METADATA_FILE))
    out = tempfile.mkdtemp(prefix="autograder-results-")
    try:
        result = grade_one(upload, out, options)
        if record is not None:
            result.late = record
        requests, problem = overrides_of(options.spec_path,
                                         metadata_path or os.path.join(root, METADATA_FILE))
        if requests:   # the staff's overrides for this student, as in a class run
            result.overrides = list(requests)
            overrides.apply(result)
        summary = feedback.summary(result)
        if problem:
            summary += "\noverrides not applied: " + problem
        if record and record.get("unknown"):   # the staff's debugging pane says why nothing was taken
            summary += "\nlate policy: " + record["unknown"]
        return result, summary
    finally:
        shutil.rmtree(out, ignore_errors=True)


def overrides_of(spec_path, metadata_path):
    """(override requests, problem): the rows of the spec's [overrides] file (shipped beside
    grading.toml by the build) that name Gradescope's submission id or one of its students
    (sid, email or name from the trusted metadata). A file that cannot be read is the
    staff's problem, not the student's: nothing is applied and the problem is returned."""
    from autograder.spec import SPEC_PATH
    path = overrides.overrides_path(str(spec_path or SPEC_PATH))
    if not path or not os.path.isfile(path):
        return (), ""
    trusted = late.read_metadata(metadata_path)
    names = ([str(trusted["id"])] if trusted and trusted.get("id") else []) \
        + late.students_in(trusted)
    try:
        return overrides.requests_for(overrides.read_overrides(path), names), ""
    except overrides.OverrideError as error:
        return (), str(error)


def late_record_of(spec_path, upload, metadata_path):
    """
    The late record (autograder.policy.late) of the upload under the spec's policy, from the
    trusted metadata file at metadata_path and the spec's CSVs; None when the policy is off.
    The submission id the times CSV and extensions may name is Gradescope's submission id.
    """
    from autograder.spec import SPEC_PATH
    from autograder.spec import load_spec
    spec_path = str(spec_path or SPEC_PATH)
    policy = load_spec(spec_path).late
    if not policy.deadline:
        return None
    times = late.SubmissionTimes.load(policy, os.path.dirname(os.path.abspath(spec_path)))
    trusted = late.read_metadata(metadata_path)
    entry_id = str((trusted or {}).get("id") or "submission")
    return late.late_record(policy, times, entry_id, upload, trusted)


def failure(trace):
    return {"score": 0, "max_score": 100, "execution_time": 0,
            "output": "The autograder failed on this submission (not your fault); please "
                      "contact the course staff.", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": [],
            "extra_data": {"grader_error": trace}}


if __name__ == "__main__":
    sys.exit(main())
